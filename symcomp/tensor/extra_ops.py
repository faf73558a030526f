"""``T.extra_ops`` (Theano's ``theano.tensor.extra_ops``), with NumPy's semantics.

``cumsum`` and ``cumprod`` are the ``sc.cumsum``/``sc.cumprod`` ops (added or multiplied strictly in
order); the rest are compositions of existing ops (so they have those ops' gradients):
``diff`` (slices), ``repeat`` and ``tile`` (broadcast and reshape, or indexing with the positions
known at trace time), ``bincount`` (an indexed accumulation), ``searchsorted`` (a count of
comparisons), ``compress`` (indexing), ``unravel_index``/``ravel_multi_index`` (integer
arithmetic), ``fill_diagonal``/``fill_diagonal_offset`` (a mask), ``to_one_hot``, ``squeeze``,
``ptp``, ``take_along_axis``.

symcomp's compiled functions need every size computable from the input shapes and scalar
arguments, so the functions whose result size depends on data need that size at trace time:
``bincount`` its ``minlength`` (values at or above it raise IndexError), ``repeat`` its vector of
repeats and ``compress`` its condition as constants; otherwise they raise NotImplementedError.
Indices a function cannot take (``unravel_index``, ``ravel_multi_index(mode='raise')``,
``bincount``) raise IndexError when the function runs, as NumPy raises ValueError.
"""

from __future__ import annotations

import numpy as np

from symcomp.ir.opdef import build
from symcomp.ir.ops.extra import Cumprod
from symcomp.ir.ops.random import Cumsum
from symcomp.tensor._pending import OPS, pending
from symcomp.tensor.convert import as_int_scalar, as_value, cast, constant, static_value
from symcomp.tensor.diagonal import fill_diagonal, fill_diagonal_offset  # noqa: F401 (Theano's names)
from symcomp.tensor.elemwise import eq, isnan, le, lt, switch
from symcomp.tensor.indexing import getitem, inc_subtensor
from symcomp.tensor.reduce import max as _max, min as _min, sum as _sum
from symcomp.tensor.shape import (  # noqa: F401 (squeeze re-exported)
    _normalize_axis, arange, broadcast_to, expand_dims, flatten, reshape, shape, squeeze, zeros,
)


def _cum(cls, x, axis, what):
    x = as_value(x)
    if x.type.dtype.is_bool or (x.type.dtype.is_int and x.type.dtype.bits < 64):
        x = cast(x, "uint64" if x.type.dtype.kind == "u" else "int64")
    if axis is None:
        x, axis = flatten(x), 0
    if x.type.ndim == 0:
        x = flatten(x)
    return build(cls, [x], axis=_normalize_axis(axis, x.type.ndim, what))


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (None: of the flattened tensor), added strictly in order
    (``np.cumsum``; bool and narrow integers sum in int64, as NumPy)."""
    return _cum(Cumsum, x, axis, "cumsum")


def cumprod(x, axis=None):
    """Cumulative product along ``axis`` (None: of the flattened tensor), multiplied strictly in
    order (``np.cumprod``; bool and narrow integers in int64, as NumPy).  Its gradient divides
    by ``x`` (NaN where ``x`` is 0), as Theano's."""
    return _cum(Cumprod, x, axis, "cumprod")


def _take(x, index, axis):
    """``x`` indexed by ``index`` along ``axis`` (``np.take``)."""
    return getitem(x, (slice(None),) * axis + (index,))


def diff(x, n: int = 1, axis: int = -1):
    """``np.diff(x, n, axis)``: the n-th discrete difference along ``axis``.

    Raises:
        ValueError: for a negative ``n`` or an axis out of range.
    """
    x = as_value(x)
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    axis = _normalize_axis(axis, x.type.ndim, "diff")
    lead = (slice(None),) * axis
    for _ in range(n):
        x = getitem(x, lead + (slice(1, None),)) - getitem(x, lead + (slice(None, -1),))
    return x


def repeat(x, repeats, axis=None):
    """``np.repeat(x, repeats, axis)``: each element (``axis=None``: of the flattened tensor)
    repeated ``repeats`` times, an int (or int scalar variable) or a sequence of one count per
    element known at trace time.

    Raises:
        NotImplementedError: for a symbolic vector of repeats (the result's size would depend on data).
        ValueError: for negative counts or a vector of the wrong length.
    """
    x = as_value(x)
    if axis is None:
        x, axis = flatten(x), 0
    axis = _normalize_axis(axis, x.type.ndim, "repeat")
    rep = static_value(repeats) if not isinstance(repeats, (list, tuple)) else np.asarray(repeats)
    if rep is None:
        r = as_value(repeats)
        if r.type.ndim != 0:
            raise NotImplementedError("repeat: a symbolic vector of repeats makes the result's size depend on data, "
                                      "which symcomp does not compile; pass the counts as constants")
        rep = None
        count = as_int_scalar(r, "repeat: repeats")
    else:
        rep = np.asarray(rep)
        if rep.dtype.kind not in "iu":
            raise TypeError(f"repeat: repeats must be integers, got dtype {rep.dtype}")
        if (rep < 0).any():
            raise ValueError("repeat: negative dimensions are not allowed")
        if rep.ndim == 1 and rep.size != 1:
            n = x.type.shape[axis]
            if n is not None and n != rep.size:
                raise ValueError(f"repeat: {rep.size} repeats for an axis of size {n}")
            return _take(x, constant(np.repeat(np.arange(rep.size), rep).astype(np.int64)), axis)
        count = int(rep.reshape(()))
    shp = shape(x)
    e = expand_dims(x, axis + 1)
    e = broadcast_to(e, shp[:axis + 1] + (count,) + shp[axis + 1:])
    return reshape(e, shp[:axis] + (_times(shp[axis], count),) + shp[axis + 1:])


def _times(d, r):
    """The size ``d * r``, 0 when either is a literal 0 (a symbolic ``d * 0`` would be folded
    to a constant after the reshape using it got its type)."""
    if (isinstance(r, int) and r == 0) or (isinstance(d, int) and d == 0):
        return 0
    return d * r


def tile(x, reps, ndim=None):
    """``np.tile(x, reps)`` (Theano's ``T.tile``): ``x`` repeated ``reps[i]`` times along axis i;
    ``reps`` is a sequence of ints or int scalar variables (an int means ``(reps,)``).

    Raises:
        ValueError: if ``ndim`` is given and smaller than the result's rank.
    """
    x = as_value(x)
    reps = [reps] if not isinstance(reps, (list, tuple)) else list(reps)
    reps = [as_int_scalar(r, "tile: reps") for r in reps]
    nd = max(x.type.ndim, len(reps))
    if ndim is not None:
        if ndim < nd:
            raise ValueError(f"tile: ndim={ndim} is smaller than the result's rank {nd}")
        nd = ndim
    reps = [1] * (nd - len(reps)) + reps
    if x.type.ndim < nd:
        x = expand_dims(x, list(range(nd - x.type.ndim)))
    shp = shape(x)
    e = expand_dims(x, [2 * k for k in range(nd)])  # (1, d0, 1, d1...)
    full = []
    for r, d in zip(reps, shp):
        full += [r, d]
    e = broadcast_to(e, tuple(full))
    return reshape(e, tuple(_times(d, r) for r, d in zip(reps, shp)))


def ptp(a, axis=None):
    """Range of values along ``axis`` (``max - min``; Theano's ``T.ptp``, ``np.ptp``)."""
    a = as_value(a)
    return _max(a, axis) - _min(a, axis)


def take_along_axis(arr, indices, axis: int):
    """``np.take_along_axis(arr, indices, axis)``: ``arr``'s values at ``indices`` along ``axis``
    (``indices`` has ``arr``'s rank; the other axes broadcast)."""
    arr, indices = as_value(arr), as_value(indices)
    if indices.type.ndim != arr.type.ndim:
        raise ValueError(f"take_along_axis: indices must have arr's rank {arr.type.ndim}, got {indices.type}")
    axis = _normalize_axis(axis, arr.type.ndim, "take_along_axis")
    nd = arr.type.ndim
    idx = []
    for a, d in enumerate(shape(arr)):
        if a == axis:
            idx.append(indices)
        else:
            r = arange(d, dtype="int64")
            idx.append(expand_dims(r, [k for k in range(nd) if k != a]) if nd > 1 else r)
    return getitem(arr, tuple(idx))


def _checked(index, size):
    """``index`` (integers), checked against ``[0, size)`` when the function runs (IndexError)."""
    index = as_value(index)
    safe = switch(lt(index, 0), cast(size, index.type.dtype) if not isinstance(size, int) else size, index)
    return getitem(arange(size, dtype="int64"), safe)


def bincount(x, weights=None, minlength=None, assert_nonneg=False):
    """``np.bincount(x, weights, minlength)`` for a vector of non-negative integers, with the
    result's length ``minlength`` (required: see the module docstring).

    Returns:
        A (minlength,) vector: int64 counts, or the sums of ``weights`` (its dtype, float64 for
        integer weights) of the entries equal to each position.

    Raises:
        NotImplementedError: without ``minlength``.
        TypeError: for a non-integer ``x`` or ``weights`` of another shape.
        IndexError (at run time): for a negative value, or one at or above ``minlength``.
    """
    x = as_value(x)
    if x.type.ndim != 1 or not x.type.dtype.is_int:
        raise TypeError(f"bincount: x must be a vector of integers, got {x.type}")
    if minlength is None:
        raise NotImplementedError("bincount: the result's length depends on the data unless minlength is given; "
                                  "symcomp needs minlength (at least max(x) + 1)")
    idx = _checked(x, minlength)
    if weights is None:
        return inc_subtensor(getitem(zeros((minlength,), "int64"), idx), cast(1, "int64"))
    w = as_value(weights)
    if w.type.ndim != 1:
        raise TypeError(f"bincount: weights must be a vector like x, got {w.type}")
    dt = w.type.dtype if w.type.dtype.is_float else "float64"
    return inc_subtensor(getitem(zeros((minlength,), dt), idx), cast(w, dt))


def searchsorted(x, v, side: str = "left", sorter=None):
    """``np.searchsorted(x, v, side, sorter)``: int64 positions where the values ``v`` (any
    shape) would be inserted into the ascending vector ``x`` (NaN last) to keep it sorted.

    Raises:
        ValueError: for another ``side``; TypeError for an ``x`` that is not a vector.
    """
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    x, v = as_value(x), as_value(v)
    if x.type.ndim != 1:
        raise TypeError(f"searchsorted: x must be a vector, got {x.type}")
    if sorter is not None:
        x = getitem(x, as_value(sorter))
    xs = x if v.type.ndim == 0 else reshape(x, (1,) * v.type.ndim + (shape(x)[0],))
    ve = expand_dims(v, v.type.ndim)
    before = lt(xs, ve) if side == "left" else le(xs, ve)
    if x.type.dtype.is_float or v.type.dtype.is_float:
        before = before | (isnan(ve) & ~isnan(xs)) if side == "left" else before | isnan(ve)
    return _sum(cast(before, "int64"), axis=-1)


def compress(condition, x, axis=None):
    """``np.compress(condition, x, axis)``: the slices of ``x`` along ``axis`` (``None``: of the
    flattened tensor) where the condition, a vector known at trace time, is true.

    Raises:
        NotImplementedError: for a symbolic condition (the result's size would depend on data).
    """
    cond = static_value(condition) if not isinstance(condition, (list, tuple)) else np.asarray(condition)
    if cond is None:
        raise NotImplementedError("compress: a symbolic condition makes the result's size depend on data, which "
                                  "symcomp does not compile; use T.switch, or pass the condition as a constant")
    x = as_value(x)
    if axis is None:
        x, axis = flatten(x), 0
    axis = _normalize_axis(axis, x.type.ndim, "compress")
    keep = np.flatnonzero(np.asarray(cond).ravel()).astype(np.int64)
    return _take(x, constant(keep), axis)


def _dims(dims, what):
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    return [as_int_scalar(d, f"{what}: dims") for d in dims]


def _strides(dims, order):
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    ds = dims if order == "C" else dims[::-1]
    out, acc = [], 1
    for d in reversed(ds):
        out.append(acc)
        acc = acc * d
    out = out[::-1]
    return (out if order == "C" else out[::-1]), acc


def unravel_index(indices, dims, order: str = "C"):
    """``np.unravel_index(indices, dims, order)``: a tuple of int64 arrays of ``indices``' shape,
    the coordinates of the flat indices in an array of shape ``dims``.

    Raises:
        IndexError (at run time): for an index outside ``[0, prod(dims))``.
    """
    indices = as_value(indices)
    if not indices.type.dtype.is_int:
        raise TypeError(f"unravel_index: indices must be integers, got {indices.type}")
    dims = _dims(dims, "unravel_index")
    strides, total = _strides(dims, order)
    idx = _checked(cast(indices, "int64"), total)
    return tuple((idx // s) % d for s, d in zip(strides, dims))


def ravel_multi_index(multi_index, dims, mode: str = "raise", order: str = "C"):
    """``np.ravel_multi_index(multi_index, dims, mode, order)``: the flat int64 indices of the
    coordinates ``multi_index`` (a sequence of integer arrays, one per axis of ``dims``).

    ``mode``: ``'raise'`` (IndexError at run time for a coordinate out of range), ``'wrap'``,
    ``'clip'`` (a string, or one per axis).
    """
    dims = _dims(dims, "ravel_multi_index")
    coords = [cast(as_value(c), "int64") for c in multi_index]
    if len(coords) != len(dims):
        raise ValueError(f"ravel_multi_index: {len(coords)} coordinate arrays for {len(dims)} dims")
    modes = [mode] * len(dims) if isinstance(mode, str) else list(mode)
    strides, _ = _strides(dims, order)
    out = None
    from symcomp.tensor.elemwise import clip

    for c, d, s, m in zip(coords, dims, strides, modes):
        if m == "raise":
            c = _checked(c, d)
        elif m == "wrap":
            c = c % d
        elif m == "clip":
            c = clip(c, 0, d - 1)
        else:
            raise ValueError(f"ravel_multi_index: mode must be 'raise', 'wrap' or 'clip', got {m!r}")
        term = c * s
        out = term if out is None else out + term
    return out


def to_one_hot(y, nb_class: int, dtype=None):
    """One row per label: ``out[i, j] = 1`` where ``y[i] == j``, else 0 (Theano's ``to_one_hot``).

    Args:
        y: a vector of integer labels, shape (n,).
        nb_class: the number of classes (columns).
        dtype: the result's dtype (default ``config.floatX``).

    Returns:
        An (n, nb_class) matrix.

    Raises:
        TypeError: if ``y`` is not an integer vector.
    """
    from symcomp.config import config

    y = as_value(y)
    if y.type.ndim != 1 or not y.type.dtype.is_int:
        raise TypeError(f"to_one_hot: y must be a vector of integers, got {y.type}")
    hit = eq(expand_dims(y, 1), expand_dims(arange(nb_class, dtype=y.type.dtype), 0))
    return cast(hit, dtype or config.floatX)


def bartlett(M):
    """``np.bartlett(M)``: the Bartlett (triangular) window of ``M`` points (an int or int scalar
    variable), float64; empty for ``M < 1``."""
    from symcomp.tensor.elemwise import maximum

    m = cast(maximum(as_value(as_int_scalar(M, "bartlett: M")), 0), "float64")
    n = arange(m, dtype="float64")
    half = (m - 1) / 2
    return switch(le(m, 1), 1.0, 1 - abs(n - half) / switch(le(m, 1), 1.0, half))


def cpu_contiguous(x):
    """A C-contiguous copy of ``x`` (Theano's ``cpu_contiguous``; symcomp's values are laid out
    by the compiler, so this is a copy)."""
    from symcomp.tensor.shape import copy

    return copy(x)


class _OpClass:
    """A Theano op class instance: ``CumOp(axis=0, mode='mul')(x)``."""

    def __init__(self, *args, **kwargs):
        self._args, self._kwargs = args, kwargs

    def __repr__(self):
        return f"{type(self).__name__}{self._args or ''}"


class CumOp(_OpClass):
    """Theano's ``CumOp(axis=None, mode='add')``: ``cumsum`` or (``mode='mul'``) ``cumprod``."""

    def __call__(self, x):
        axis = self._kwargs.get("axis", self._args[0] if self._args else None)
        mode = self._kwargs.get("mode", self._args[1] if len(self._args) > 1 else "add")
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        return (cumsum if mode == "add" else cumprod)(x, axis)


class DiffOp(_OpClass):
    """Theano's ``DiffOp(n=1, axis=-1)``."""

    def __call__(self, x):
        return diff(x, *self._args, **self._kwargs)


class RepeatOp(_OpClass):
    """Theano's ``RepeatOp(axis=None)``: ``RepeatOp(axis)(x, repeats)``."""

    def __call__(self, x, repeats):
        return repeat(x, repeats, *self._args, **self._kwargs)


class Bartlett(_OpClass):
    """Theano's ``Bartlett()``."""

    def __call__(self, M):
        return bartlett(M)


class FillDiagonal(_OpClass):
    """Theano's ``FillDiagonal()``: ``FillDiagonal()(a, val)``."""

    def __call__(self, a, val):
        return fill_diagonal(a, val)


class FillDiagonalOffset(_OpClass):
    """Theano's ``FillDiagonalOffset()``: ``FillDiagonalOffset()(a, val, offset)``."""

    def __call__(self, a, val, offset):
        return fill_diagonal_offset(a, val, offset)


class SearchsortedOp(_OpClass):
    """Theano's ``SearchsortedOp(side='left')``: ``SearchsortedOp(side)(x, v, sorter=None)``."""

    def __call__(self, x, v, sorter=None):
        return searchsorted(x, v, *self._args, sorter=sorter, **self._kwargs)


globals().update(pending("symcomp.tensor.extra_ops", OPS, "Unique", "unique"))
