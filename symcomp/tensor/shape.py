"""Shape manipulation in the front-end: shape, reshape, dimshuffle, transpose,
broadcasting helpers, allocation (zeros, ones, alloc), arange, concatenate, stack.

Shapes are tuples whose entries are Python ints (sizes known at trace time) or
rank-0 int64 symbolic values (``sc.dim``).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Value
from symcomp.ir.opdef import build
from symcomp.ir.ops import shape as S
from symcomp.ir.ops.elementwise import Copy
from symcomp.tensor.convert import as_int_scalar, as_value, cast, constant, result_dtype, static_value


def shape(x) -> tuple:
    """The shape of ``x``: ints where known, rank-0 int64 values (``sc.dim``) elsewhere."""
    x = as_value(x)
    return tuple(d if d is not None else build(S.Dim, [x], axis=i) for i, d in enumerate(x.type.shape))


def size(x):
    """The number of elements of ``x`` (an int when known)."""
    return numel(shape(x))


def _normalize_axis(axis: int, ndim: int, what: str) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{what}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{what}: axis {axis} is out of range for a rank-{ndim} tensor")
    return int(axis) % ndim


def normalize_axes(axis, ndim: int, what: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence, negatives allowed) as sorted distinct axes.

    Raises:
        ValueError: for out-of-range or repeated axes.
    """
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        axes = [_normalize_axis(a, ndim, what) for a in axis]
    else:
        axes = [_normalize_axis(axis, ndim, what)]
    if len(set(axes)) != len(axes):
        raise ValueError(f"{what}: repeated axis in {axis!r}")
    return tuple(sorted(axes))


def _dyn_shape(entries, what: str):
    """Split shape entries into the attribute spec (ints, None for ``?``) and dynamic operands."""
    spec, dyn = [], []
    for e in entries:
        v = as_int_scalar(e, f"{what}: shape entry")
        if isinstance(v, int):
            spec.append(v)
        else:
            spec.append(None)
            dyn.append(v)
    return tuple(spec), dyn


def _shape_entries(shp, what: str) -> list:
    if isinstance(shp, Value):
        if shp.type.ndim == 0:
            return [shp]
        if shp.type.ndim != 1 or shp.type.shape[0] is None:
            raise TypeError(f"{what}: a symbolic shape must be a vector of known length, got {shp.type}")
        return [shp[i] for i in range(shp.type.shape[0])]
    if isinstance(shp, (int, np.integer)):
        return [shp]
    return list(shp)


def transpose(x, axes=None):
    """Permute axes (reverse them when ``axes`` is None); ``x.T``."""
    x = as_value(x)
    n = x.type.ndim
    perm = tuple(reversed(range(n))) if axes is None else tuple(_normalize_axis(a, n, "transpose") for a in axes)
    if perm == tuple(range(n)):
        return x
    return build(S.Transpose, [x], perm=perm)


def expand_dims(x, axes):
    """Insert size-1 axes at positions ``axes`` of the result."""
    x = as_value(x)
    axes = [axes] if isinstance(axes, (int, np.integer)) else list(axes)
    if not axes:
        return x
    n = x.type.ndim + len(axes)
    return build(S.ExpandDims, [x], axes=normalize_axes(axes, n, "expand_dims"))


def squeeze(x, axis=None):
    """Remove size-1 axes (all statically known ones when ``axis`` is None)."""
    x = as_value(x)
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.type.shape) if d == 1)
    else:
        axes = normalize_axes(axis, x.type.ndim, "squeeze")
    return build(S.Squeeze, [x], axes=axes) if axes else x


def dimshuffle(x, *pattern):
    """Theano's dimshuffle: reorder axes, drop broadcastable ones, insert 'x' (new size-1 axes).

    Raises:
        ValueError: on a repeated axis, or when dropping an axis that is not
            known to have size 1.
    """
    x = as_value(x)
    if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
        pattern = tuple(pattern[0])
    n = x.type.ndim
    kept = [p for p in pattern if p != "x"]
    for p in kept:
        if not isinstance(p, (int, np.integer)) or not 0 <= p < n:
            raise ValueError(f"dimshuffle: invalid entry {p!r} for a rank-{n} tensor (expected 0..{n - 1} or 'x')")
    if len(set(kept)) != len(kept):
        raise ValueError(f"dimshuffle: repeated axis in pattern {pattern}")
    dropped = [i for i in range(n) if i not in kept]
    for i in dropped:
        if x.type.shape[i] != 1:
            raise ValueError(
                f"dimshuffle: cannot drop axis {i} of {x.type}: it is not broadcastable (size 1); pattern {pattern}")
    y = build(S.Squeeze, [x], axes=tuple(dropped)) if dropped else x
    remaining = [i for i in range(n) if i in kept]
    y = transpose(y, [remaining.index(p) for p in kept])
    new_axes = [i for i, p in enumerate(pattern) if p == "x"]
    return expand_dims(y, new_axes)


def reshape(x, shp, ndim: Optional[int] = None):
    """Reshape to ``shp`` (ints, -1 once, or int scalar variables), C order.

    Raises:
        ValueError: if ``ndim`` disagrees with the shape's length, or sizes are invalid.
    """
    x = as_value(x)
    entries = _shape_entries(shp, "reshape")
    if ndim is not None and ndim != len(entries):
        raise ValueError(f"reshape: ndim={ndim} but the shape has {len(entries)} entries")
    spec, dyn = _dyn_shape(entries, "reshape")
    if not dyn and spec == x.type.shape:
        return x
    return build(S.Reshape, [x, *dyn], shape=spec)


def flatten(x, ndim: int = 1):
    """Collapse the trailing axes so the result has rank ``ndim`` (Theano's flatten)."""
    x = as_value(x)
    if not 1 <= ndim <= max(x.type.ndim, 1):
        raise ValueError(f"flatten: ndim={ndim} is out of range for {x.type}")
    return reshape(x, shape(x)[: ndim - 1] + (-1,))


def broadcast_to(x, shp):
    """Broadcast ``x`` to shape ``shp`` (a view; x's size-1 axes stretch)."""
    x = as_value(x)
    spec, dyn = _dyn_shape(_shape_entries(shp, "broadcast_to"), "broadcast_to")
    if not dyn and spec == x.type.shape:
        return x
    return build(S.BroadcastTo, [x, *dyn], shape=spec)


def broadcast_like(v, x):
    """``v`` broadcast to the shape of ``x`` (unchanged when the types already agree)."""
    v = as_value(v)
    if v.type.shape == x.type.shape:
        return v
    return broadcast_to(v, shape(x))


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, giving x's shape and dtype.

    This is the VJP of NumPy broadcasting: leading axes ``x`` lacked are summed
    away, and axes where ``x`` has size 1 are summed with keepdims.
    """
    from symcomp.tensor.reduce import sum as _sum

    g = as_value(g)
    if g.type.ndim > x.type.ndim:
        g = _sum(g, axis=tuple(range(g.type.ndim - x.type.ndim)))
    axes = tuple(i for i, (dx, dg) in enumerate(zip(x.type.shape, g.type.shape)) if dx == 1 and dg != 1)
    if axes:
        g = _sum(g, axis=axes, keepdims=True)
    if g.type.ndim < x.type.ndim:
        g = broadcast_like(g, x)
    return cast(g, x.type.dtype)


def copy(x):
    """A fresh copy of ``x``."""
    return build(Copy, [as_value(x)])


def full(shp, value, dtype=None):
    """A tensor of shape ``shp`` filled with ``value``."""
    v = as_value(value) if dtype is None else cast(as_value(value), dtype)
    if v.type.ndim:
        raise ValueError(f"full: the fill value must be a scalar, got {v.type}")
    return broadcast_to(v, shp)


def zeros(shp, dtype=None):
    """Zeros of shape ``shp`` (dtype defaults to ``config.floatX``)."""
    from symcomp.config import config

    return full(shp, constant(0, dtype or config.floatX))


def ones(shp, dtype=None):
    from symcomp.config import config

    return full(shp, constant(1, dtype or config.floatX))


def zeros_like(x, dtype=None):
    x = as_value(x)
    return full(shape(x), constant(0, dtype or x.type.dtype))


def ones_like(x, dtype=None):
    x = as_value(x)
    return full(shape(x), constant(1, dtype or x.type.dtype))


def alloc(value, *shp):
    """``value`` broadcast to shape ``shp`` (Theano's alloc)."""
    return broadcast_to(as_value(value), shp)


def fill(model, value):
    """``value`` broadcast to the shape of ``model`` (Theano's fill)."""
    return broadcast_to(as_value(value), shape(model))


def arange(start, stop=None, step=1, dtype=None):
    """``np.arange``: a constant when the bounds are known, else ``sc.arange``.

    Raises:
        ValueError: for a zero step known at trace time.
    """
    if stop is None:
        start, stop = 0, start
    vals = [static_value(v) for v in (start, stop, step)]
    if all(v is not None for v in vals):
        if vals[2] == 0:
            raise ValueError("arange: step is zero")
        return constant(np.arange(*vals, dtype=None if dtype is None else T.dtype(dtype).np))
    dt = T.dtype(dtype) if dtype is not None else result_dtype(start, stop, step)
    ops = [cast(as_value(v), dt) for v in (start, stop, step)]
    for v in ops:
        if v.type.ndim:
            raise ValueError(f"arange: bounds must be scalars, got {v.type}")
    return build(S.Arange, ops)


def concatenate(tensors: Sequence, axis: int = 0):
    """Join tensors of equal rank along ``axis`` (dtypes are promoted)."""
    ts = [as_value(t) for t in tensors]
    if not ts:
        raise ValueError("concatenate: needs at least one tensor")
    dt = result_dtype(*ts)
    ts = [cast(t, dt) for t in ts]
    ndims = {t.type.ndim for t in ts}
    if len(ndims) != 1:
        raise ValueError(f"concatenate: tensors must have equal rank, got ranks {sorted(ndims)}")
    axis = _normalize_axis(axis, ts[0].type.ndim, "concatenate")
    return ts[0] if len(ts) == 1 else build(S.Concatenate, ts, axis=axis)


def stack(tensors: Sequence, axis: int = 0):
    """Join tensors of equal shape along a new axis."""
    ts = [as_value(t) for t in tensors]
    if not ts:
        raise ValueError("stack: needs at least one tensor")
    n = ts[0].type.ndim + 1
    axis = _normalize_axis(axis, n, "stack")
    return concatenate([expand_dims(t, axis) for t in ts], axis=axis)


def numel(shp) -> object:
    """Product of shape entries (an int when all are known)."""
    if all(isinstance(d, int) for d in shp):
        return math.prod(shp)
    out = 1
    for d in shp:
        out = out * d
    return out
