"""Sorting (Theano's ``theano.tensor.sort``): ``sort`` and ``argsort``, the ``sc.sort`` and
``sc.argsort`` ops (ascending, NaN last; argsort's ties in order, ``np.argsort(kind='stable')``)."""

from __future__ import annotations

from symcomp.ir.opdef import build
from symcomp.ir.ops.extra import Argsort, Sort
from symcomp.tensor.convert import as_value
from symcomp.tensor.shape import _normalize_axis, flatten

_KINDS = ("quicksort", "mergesort", "heapsort", "stable", None)


def _prepare(a, axis, kind, order, what):
    if order is not None:
        raise ValueError(f"{what}: order (sorting structured arrays by field) is not supported")
    if kind not in _KINDS:
        raise ValueError(f"{what}: kind must be one of {_KINDS[:-1]}, got {kind!r}")
    a = as_value(a)
    if axis is None:
        a, axis = flatten(a), 0
    if a.type.ndim == 0:
        raise ValueError(f"{what}: cannot sort a scalar along an axis")
    return a, _normalize_axis(axis, a.type.ndim, what)


def sort(a, axis=-1, kind="quicksort", order=None):
    """``np.sort(a, axis)`` (Theano's ``T.sort``): ``a`` with every line along ``axis`` ascending,
    NaN last; ``axis=None`` sorts the flattened tensor.  Every ``kind`` gives the same result.

    Raises:
        ValueError: for ``order``, an unknown ``kind``, a scalar or an axis out of range.
    """
    a, axis = _prepare(a, axis, kind, order, "sort")
    return build(Sort, [a], axis=axis)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """``np.argsort(a, axis)`` (Theano's ``T.argsort``): int64 positions sorting every line along
    ``axis``; equal values keep their order (NumPy's ``kind='stable'``), NaN last."""
    a, axis = _prepare(a, axis, kind, order, "argsort")
    return build(Argsort, [a], axis=axis)
