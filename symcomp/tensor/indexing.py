"""NumPy indexing for symbolic tensors: ``x[...]``, ``set_subtensor``, ``inc_subtensor``.

Supported: ints, slices (bounds may be symbolic scalars), ``None``/newaxis,
``...``, and integer arrays (symbolic or constant) on consecutive axes, mixed
with slices elsewhere.  Boolean masks are refused (their result shape depends
on the data), as are integer arrays separated by slices (NumPy then moves the
indexed axes to the front).
"""

from __future__ import annotations

import weakref

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Value
from symcomp.ir.opdef import build
from symcomp.ir.ops import indexing as I
from symcomp.tensor.convert import as_int_scalar, as_value, cast, constant, expand_to_rank
from symcomp.tensor.shape import expand_dims

# advanced-index result -> the basic-index result it was taken from, when getitem
# built both for one expression (so set_subtensor writes through to the original).
_COMPOSITE: "weakref.WeakKeyDictionary[Value, Value]" = weakref.WeakKeyDictionary()


def _is_index_array(e) -> bool:
    if isinstance(e, Value):
        return e.type.ndim > 0 or e.type.dtype.is_bool
    return isinstance(e, (list, np.ndarray)) and not (isinstance(e, np.ndarray) and e.ndim == 0)


def _index_array(e) -> Value:
    v = as_value(e)
    if v.type.dtype.is_bool:
        raise NotImplementedError("boolean mask indexing has a data-dependent shape, which symcomp does not support; "
                                  "use T.switch or multiply by the mask instead")
    if not v.type.dtype.is_int:
        raise IndexError(f"arrays used as indices must be of integer type, got {v.type.dtype.name}")
    return cast(v, T.int64)


def _expand_ellipsis(idx: tuple, ndim: int) -> list:
    n_ell = sum(1 for e in idx if e is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consuming = sum(1 for e in idx if e is not None and e is not Ellipsis)
    if consuming > ndim:
        raise IndexError(f"too many indices: {consuming} for a rank-{ndim} tensor")
    out = []
    for e in idx:
        if e is Ellipsis:
            out.extend([slice(None)] * (ndim - consuming))
        else:
            out.append(e)
    return out


def _slice_part(p, dyn: list, what: str) -> str:
    if p is None:
        return ""
    v = as_int_scalar(p, what)
    if isinstance(v, int):
        return str(v)
    dyn.append(v)
    return "?"


def _basic(x: Value, entries: list) -> Value:
    """Ints and slices only (one entry per leading axis)."""
    while entries and isinstance(entries[-1], slice) and entries[-1] == slice(None):
        entries = entries[:-1]
    if not entries:
        return x
    spec, dyn = [], []
    for e in entries:
        if isinstance(e, slice):
            if isinstance(e.step, (int, np.integer)) and e.step == 0:
                raise ValueError("slice step cannot be zero")
            parts = [_slice_part(p, dyn, "slice bound") for p in (e.start, e.stop, e.step)]
            spec.append(":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else ""))
        else:
            spec.append(_slice_part(e, dyn, "index"))
    return build(I.Subtensor, [x, *dyn], index=tuple(spec))


def getitem(x, idx):
    """``x[idx]`` with NumPy semantics (see the module docstring for what is supported).

    Raises:
        IndexError: for too many indices, or an integer index out of range of a known size.
        NotImplementedError: for boolean masks and non-consecutive integer arrays.
    """
    x = as_value(x)
    if not isinstance(idx, tuple):
        idx = (idx,)
    entries = _expand_ellipsis(idx, x.type.ndim)
    new_axes = [i for i, e in enumerate(entries) if e is None]
    if new_axes:
        x = expand_dims(x, new_axes)
        entries = [slice(None) if e is None else e for e in entries]
    adv = [i for i, e in enumerate(entries) if _is_index_array(e)]
    if not adv:
        return _basic(x, entries)
    # With arrays present, integer entries are advanced indices too (NumPy's rule).
    adv = [i for i, e in enumerate(entries) if _is_index_array(e) or not isinstance(e, slice)]
    if adv != list(range(adv[0], adv[-1] + 1)):
        raise NotImplementedError("integer-array indices separated by slices are not supported "
                                  "(NumPy would move the indexed axes first); index in two steps")
    slices = [slice(None) if i in adv else e for i, e in enumerate(entries)]
    base = _basic(x, slices)
    arrays = [_index_array(entries[i]) if _is_index_array(entries[i]) else _scalar_index(entries[i]) for i in adv]
    rank = max(a.type.ndim for a in arrays)
    arrays = [expand_to_rank(a, rank) for a in arrays]
    out = build(I.AdvancedSubtensor, [base, *arrays], axis=adv[0])
    if base is not x:
        _COMPOSITE[out] = base
    return out


def _scalar_index(e) -> Value:
    v = as_int_scalar(e, "index")
    return constant(np.int64(v)) if isinstance(v, int) else v


def _inc(sub, y, set_: bool):
    sub = as_value(sub)
    owner = sub.owner
    name = "set_subtensor" if set_ else "inc_subtensor"
    if owner is None or owner.name not in ("sc.subtensor", "sc.advanced_subtensor"):
        raise TypeError(f"{name} takes the result of indexing a tensor, e.g. T.{name}(x[1:3], y); "
                        f"got a value made by {owner.name if owner else 'no operation'}")
    x = owner.operands[0]
    y = cast(as_value(y), x.type.dtype)
    if owner.name == "sc.subtensor":
        return build(I.IncSubtensor, [x, y, *owner.dyn], index=owner.index, set=set_)
    inner = build(I.AdvancedIncSubtensor, [x, y, *owner.indices], axis=owner.axis, set=set_)
    base = _COMPOSITE.get(sub)
    return inner if base is None else _inc(base, inner, True)


def set_subtensor(sub, y):
    """A copy of the indexed tensor with ``sub``'s elements replaced by ``y`` (broadcast)."""
    return _inc(sub, y, True)


def inc_subtensor(sub, y):
    """A copy of the indexed tensor with ``y`` added at ``sub``'s elements (repeated integer indices accumulate)."""
    return _inc(sub, y, False)
