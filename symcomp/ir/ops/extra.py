"""Theano's ``extra_ops`` and ``sort`` kernels: ``sc.cumprod``, ``sc.sort``, ``sc.argsort``.

``sc.cumprod`` multiplies along an axis strictly in order, as ``sc.cumsum`` adds.  ``sc.sort``
and ``sc.argsort`` order every line along an axis ascending, NaN last (NumPy's order);
``sc.argsort`` breaks ties by position, which is ``np.argsort(kind='stable')``'s result (and
``np.argsort``'s for distinct values).
"""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Int, Pure, attr, op, operand
from symcomp.ir.frontend import tensor as _t


def _along(name: str, t: T.TensorType, axis: int, allow_bool: bool = False) -> None:
    if (t.dtype.is_bool and not allow_bool) or t.ndim == 0 or not 0 <= axis < t.ndim:
        raise TypeError(f"{name}: needs a numeric operand of rank >= 1 and an axis in range, got {t} and axis {axis}")


def _flip(x, axis: int):
    tb = _t()
    return tb.getitem(x, tuple(slice(None, None, -1) if a == axis else slice(None) for a in range(x.type.ndim)))


@op("sc.cumprod", traits=(Pure,))
class Cumprod(Operation):
    """Cumulative product along ``axis``, multiplied strictly in order (``np.cumprod``).  VJP
    (Theano's ``CumOp``): ``reverse_cumsum(cumprod(x) * ḡ) / x``, NaN where ``x`` is 0 (as Theano)."""
    x = operand()
    axis = attr(Int)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _along(cls.name, t, attrs["axis"])
        return [t]

    def ref(self, x):
        return np.cumprod(x, axis=self.axis, dtype=x.dtype)

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None]
        tb = _t()
        return [_flip(tb.cumsum(_flip(self.result * grads[0], self.axis), self.axis), self.axis) / self.x]


def _order(x, axis):
    """Stable ascending order along ``axis`` with NaN last (NumPy's)."""
    return np.argsort(x, axis=axis, kind="stable")


@op("sc.sort", traits=(Pure,))
class Sort(Operation):
    """``np.sort(x, axis)``: every line along ``axis`` ascending, NaN last.  VJP (Theano's
    ``SortOp``): ``ḡ`` scattered back to the positions the values came from."""
    x = operand()
    axis = attr(Int)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _along(cls.name, t, attrs["axis"], allow_bool=True)
        return [t]

    def ref(self, x):
        return np.sort(x, axis=self.axis)

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None]
        tb = _t()
        perm = tb.argsort(self.x, self.axis)
        return [tb.extra_ops.take_along_axis(grads[0], tb.argsort(perm, self.axis), self.axis)]


@op("sc.argsort", traits=(Pure,))
class Argsort(Operation):
    """``np.argsort(x, axis, kind='stable')``: the ``i64`` positions that sort every line
    along ``axis`` (ascending, NaN last, ties in order).  Not differentiable (integer result)."""
    x = operand()
    axis = attr(Int)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _along(cls.name, t, attrs["axis"], allow_bool=True)
        return [T.TensorType(T.int64, t.shape)]

    def ref(self, x):
        return _order(x, self.axis).astype(np.int64)

    def vjp(self, grads):
        return [None]
