"""Reductions in the front-end: sum, prod, mean, var, std, max, min, argmax, argmin, any, all.

``axis`` is None (all axes), an int or a sequence (negatives allowed);
``keepdims`` keeps reduced axes as size 1.  Sums and products of integers and
bools accumulate in int64 (uint64 for unsigned), as NumPy does; ``mean``
computes in float64 for integers.
"""

from __future__ import annotations

from symcomp.ir import types as T
from symcomp.ir.opdef import build
from symcomp.ir.ops import reduce as R
from symcomp.tensor.convert import as_value, cast
from symcomp.tensor.shape import expand_dims, normalize_axes, numel, shape


def _reduce(cls, x, axis, keepdims, what):
    x = as_value(x)
    axes = normalize_axes(axis, x.type.ndim, what)
    if not axes:
        return x
    out = build(cls, [x], axes=axes)
    return expand_dims(out, axes) if keepdims else out


def _accumulator(x, dtype):
    if dtype is not None:
        return cast(x, dtype)
    d = x.type.dtype
    if d.is_bool or (d.kind == "i" and d.bits < 64):
        return cast(x, T.int64)
    if d.kind == "u" and d.bits < 64:
        return cast(x, T.uint64)
    return x


def sum(x, axis=None, keepdims=False, dtype=None):
    """Sum over ``axis``."""
    return _reduce(R.Sum, _accumulator(as_value(x), dtype), axis, keepdims, "sum")


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis``."""
    return _reduce(R.Prod, _accumulator(as_value(x), dtype), axis, keepdims, "prod")


def _count(x, axis):
    axes = normalize_axes(axis, x.type.ndim, "mean")
    return numel([shape(x)[a] for a in axes])


def mean(x, axis=None, keepdims=False, dtype=None):
    """Arithmetic mean over ``axis`` (float64 for integer inputs)."""
    x = as_value(x)
    dt = T.dtype(dtype) if dtype is not None else (x.type.dtype if x.type.dtype.is_float else T.float64)
    return sum(cast(x, dt), axis, keepdims) / _as_float(_count(x, axis), dt)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance: mean of squared deviations, divided by ``n - ddof``."""
    x = as_value(x)
    dt = x.type.dtype if x.type.dtype.is_float else T.float64
    x = cast(x, dt)
    d = x - mean(x, axis, keepdims=True)
    return sum(d * d, axis, keepdims) / _as_float(_count(x, axis) - ddof, dt)


def std(x, axis=None, keepdims=False, ddof=0):
    """Standard deviation: sqrt(var)."""
    from symcomp.tensor.elemwise import sqrt

    return sqrt(var(x, axis, keepdims, ddof))


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``; NaN propagates.  Raises ValueError at call time on an empty axis."""
    return _reduce(R.Max, x, axis, keepdims, "max")


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``; NaN propagates."""
    return _reduce(R.Min, x, axis, keepdims, "min")


def _arg(cls, x, axis, keepdims, what):
    x = as_value(x)
    if x.type.dtype.is_bool:
        x = cast(x, T.int8)
    axes = normalize_axes(axis, x.type.ndim, what)
    out = build(cls, [x], axes=axes)
    return expand_dims(out, axes) if keepdims else out


def argmax(x, axis=None, keepdims=False):
    """Index of the first maximum (over the flattened axes when several are given)."""
    return _arg(R.Argmax, x, axis, keepdims, "argmax")


def argmin(x, axis=None, keepdims=False):
    """Index of the first minimum."""
    return _arg(R.Argmin, x, axis, keepdims, "argmin")


def any(x, axis=None, keepdims=False):
    """True where any element along ``axis`` is nonzero."""
    return max(_as_bool(x), axis, keepdims)


def all(x, axis=None, keepdims=False):
    """True where every element along ``axis`` is nonzero."""
    return min(_as_bool(x), axis, keepdims)


def _as_bool(x):
    from symcomp.tensor.elemwise import neq

    x = as_value(x)
    return x if x.type.dtype.is_bool else neq(x, 0)


def _as_float(n, dt):
    """An element count as a divisor of dtype ``dt`` (a weak Python int stays weak)."""
    return n if isinstance(n, int) else cast(n, dt)
