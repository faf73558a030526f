"""Turning Python and NumPy values into symbolic values; dtype promotion and rank alignment.

Promotion follows NumPy 2 (NEP 50): symbolic values and NumPy arrays are
*strong* (their dtype counts), Python scalars are *weak* (``x_f32 + 1.5`` stays
float32).  The IR's arithmetic ops take operands of one dtype and one rank, so
every front-end function goes through :func:`align` first.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Value
from symcomp.ir.opdef import build
from symcomp.ir.ops.basic import Constant, constant_array
from symcomp.ir.ops.elementwise import Cast
from symcomp.ir.ops.shape import ExpandDims

_PY_SCALARS = (bool, int, float)


def constant(value, dtype=None, name: Optional[str] = None) -> Value:
    """A symbolic constant holding ``value`` (Theano's ``T.constant``).

    Raises:
        TypeError: for unsupported dtypes (object, complex, float16, ...).
    """
    arr = constant_array(value, dtype)
    v = build(Constant, [], value=arr)
    v.name = name
    return v


def as_value(x, dtype=None) -> Value:
    """A symbolic value for ``x`` (returned unchanged if already symbolic).

    Raises:
        TypeError: if ``x`` cannot become a tensor of a supported dtype.
    """
    if isinstance(x, Value):
        return x if dtype is None else cast(x, dtype)
    if isinstance(x, (list, tuple)) and any(isinstance(e, Value) for e in x):
        from symcomp.tensor.shape import stack

        return stack([as_value(e, dtype) for e in x])
    try:
        return constant(x, dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot convert {type(x).__name__} {x!r:.60} to a symbolic tensor: {exc}") from None


def _dtype_token(x):
    """What ``np.result_type`` should see for ``x`` (a weak Python scalar stays a scalar)."""
    if isinstance(x, Value):
        return x.type.dtype.np
    if isinstance(x, _PY_SCALARS):
        return x
    return np.asarray(x).dtype


def result_dtype(*xs) -> T.DType:
    """NumPy 2 promotion over symbolic values, arrays and weak Python scalars.

    Raises:
        TypeError: if the promoted dtype is unsupported or no promotion exists.
    """
    try:
        return T.dtype(np.result_type(*[_dtype_token(x) for x in xs]))
    except TypeError as exc:
        raise TypeError(f"no common dtype for operands: {exc}") from None


def cast(x, dtype) -> Value:
    """``x`` converted to ``dtype`` (``astype`` semantics); a no-op when it already has it."""
    dt = T.dtype(dtype)
    if not isinstance(x, Value):
        return constant(np.asarray(x).astype(dt.np) if not isinstance(x, _PY_SCALARS) else x, dt)
    if x.type.dtype == dt:
        return x
    owner = x.owner
    if owner is not None and owner.name == "sc.constant":
        return constant(owner.attributes["value"].astype(dt.np), name=x.name)
    return build(Cast, [x], dtype=dt)


def expand_to_rank(x: Value, ndim: int) -> Value:
    """Prepend size-1 axes so ``x`` has rank ``ndim`` (NumPy's broadcasting alignment)."""
    k = ndim - x.type.ndim
    if k <= 0:
        return x
    owner = x.owner
    if owner is not None and owner.name == "sc.constant":
        return constant(owner.attributes["value"].reshape((1,) * k + owner.attributes["value"].shape), name=x.name)
    return build(ExpandDims, [x], axes=tuple(range(k)))


def align(xs: Sequence, dtype: Optional[T.DType] = None) -> list[Value]:
    """Operands converted to one dtype (promoted, or ``dtype``) and one rank."""
    dt = dtype or result_dtype(*xs)
    vals = [cast(x, dt) if isinstance(x, Value) else constant(_weak_value(x, dt), dt) for x in xs]
    ndim = max(v.type.ndim for v in vals)
    return [expand_to_rank(v, ndim) for v in vals]


def _weak_value(x, dt: T.DType):
    """A Python or NumPy value converted to ``dt``, refusing out-of-range integers."""
    if isinstance(x, _PY_SCALARS) and dt.is_int and not isinstance(x, bool):
        info = np.iinfo(dt.np)
        if not info.min <= x <= info.max:
            raise OverflowError(f"Python integer {x} out of bounds for {dt.name}")
    return np.asarray(x).astype(dt.np) if not isinstance(x, _PY_SCALARS) else x


def static_value(x) -> Optional[np.ndarray]:
    """The value of ``x`` when known at trace time (a constant or a Python value), else None."""
    if isinstance(x, Value):
        o = x.owner
        return o.attributes["value"] if o is not None and o.name == "sc.constant" else None
    return np.asarray(x)


def as_int_scalar(x, what: str):
    """A Python int, or a rank-0 int64 symbolic value, for a size or index argument.

    Raises:
        TypeError: for anything else (floats, non-scalar tensors), naming ``what``.
    """
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, Value):
        if x.type.ndim != 0 or not x.type.dtype.is_int:
            raise TypeError(f"{what} must be an integer scalar, got a symbolic {x.type}")
        v = static_value(x)
        if v is not None:
            return int(v)
        return cast(x, T.int64)
    raise TypeError(f"{what} must be an integer or an integer scalar variable, got {type(x).__name__} {x!r:.40}")


def int_pair(v, what: str, least: int) -> tuple[int, int]:
    """An int or a pair of ints (a window, stride, padding or dilation of 2-d convolution and
    pooling) as a pair.

    Raises:
        ValueError: naming ``what``, for anything else or entries below ``least``.
    """
    if isinstance(v, int) and not isinstance(v, bool):
        v = (v, v)
    try:
        a, b = (int(u) for u in v)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be an int or a pair of ints, got {v!r}") from None
    if a < least or b < least:
        raise ValueError(f"{what} must be >= {least}, got {v!r}")
    return a, b
