"""Reductions over a set of axes: sum, prod, max, min, argmax, argmin.

``axes`` is a sorted list of distinct axes in ``[0, rank)``; the reduced axes
are removed from the result (the front-end re-inserts them with
``sc.expand_dims`` for ``keepdims=True``).  The result dtype is the operand's
(the front-end casts integers to int64 for sum and prod, as NumPy does);
argmax/argmin give int64 indices into the reduced axes taken in C order.
"""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Ints, Pure, Reduction, attr, op, operand
from symcomp.ir.frontend import tensor as _t


def check_axes(name: str, axes, ndim: int) -> None:
    """Check that ``axes`` are sorted, distinct and in range for rank ``ndim``.

    Raises:
        ValueError: naming the op and the bad axes.
    """
    if any(a < 0 or a >= ndim for a in axes):
        raise ValueError(f"{name}: axes {list(axes)} out of range for a rank-{ndim} operand")
    if list(axes) != sorted(set(axes)):
        raise ValueError(f"{name}: axes {list(axes)} must be sorted and distinct")


class ReduceOp(Operation):
    traits = frozenset({Pure, Reduction})
    x = operand()
    axes = attr(Ints)
    allowed = "fiub"
    needs_nonempty = False  # max/min/argmax of an empty axis have no identity

    @classmethod
    def result_dtype(cls, d: T.DType) -> T.DType:
        return d

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        axes = attrs["axes"]
        check_axes(cls.name, axes, t.ndim)
        if t.dtype.kind not in cls.allowed:
            raise TypeError(f"{cls.name}: dtype {t.dtype.name} is not allowed")
        if cls.needs_nonempty and any(t.shape[a] == 0 for a in axes):
            raise ValueError(f"{cls.name}: reduction over an empty axis has no identity")
        shape = tuple(d for i, d in enumerate(t.shape) if i not in axes)
        return [T.TensorType(cls.result_dtype(t.dtype), shape)]

    def _expand(self, v):
        """``v`` (reduced shape) with the reduced axes re-inserted as size-1 dims."""
        return _t().expand_dims(v, self.axes)

    def _broadcast_back(self, v):
        return _t().broadcast_like(self._expand(v), self.x)


@op("sc.sum")
class Sum(ReduceOp):
    """Sum over axes (integers wrap; the front-end accumulates small integers in int64)."""
    allowed = "fiu"

    def ref(self, x):
        return np.sum(x, axis=self.axes, dtype=x.dtype)

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None]
        return [self._broadcast_back(grads[0])]


@op("sc.prod")
class Prod(ReduceOp):
    """Product over axes.  Its gradient is g * prod / x, which is NaN where x == 0."""
    allowed = "fiu"

    def ref(self, x):
        return np.prod(x, axis=self.axes, dtype=x.dtype)

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None]
        return [self._broadcast_back(grads[0] * self.result) / self.x]


class _Extremum(ReduceOp):
    needs_nonempty = True

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None]
        tb = _t()
        mask = tb.cast(tb.eq(self.x, self._expand(self.result)), self.x.dtype)
        return [self._broadcast_back(grads[0]) * mask]


@op("sc.max")
class Max(_Extremum):
    """Maximum over axes; NaN propagates (``np.max``).  Ties share the gradient (each gets g)."""

    def ref(self, x):
        return np.max(x, axis=self.axes)


@op("sc.min")
class Min(_Extremum):
    """Minimum over axes; NaN propagates (``np.min``)."""

    def ref(self, x):
        return np.min(x, axis=self.axes)


class _ArgExtremum(ReduceOp):
    needs_nonempty = True
    allowed = "fiu"

    @classmethod
    def result_dtype(cls, d):
        return T.int64

    def _flat(self, x):
        keep = [i for i in range(x.ndim) if i not in self.axes]
        moved = np.transpose(x, keep + list(self.axes))
        reduced = int(np.prod([x.shape[a] for a in self.axes]))  # explicit: -1 is ambiguous for empty arrays
        return moved.reshape(moved.shape[: len(keep)] + (reduced,))

    def vjp(self, grads):
        return [None]


@op("sc.argmax")
class Argmax(_ArgExtremum):
    """Index of the first maximum over the (flattened) reduced axes; the first NaN wins."""

    def ref(self, x):
        return np.argmax(self._flat(x), axis=-1).astype(np.int64)


@op("sc.argmin")
class Argmin(_ArgExtremum):
    """Index of the first minimum over the (flattened) reduced axes; the first NaN wins."""

    def ref(self, x):
        return np.argmin(self._flat(x), axis=-1).astype(np.int64)
