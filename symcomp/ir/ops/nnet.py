"""Neural-network row operations: softmax and log-softmax along one axis.

Both subtract the maximum along the axis before exponentiating, so they are
finite for any finite input (the stable formulation, e.g. Goodfellow et al.,
*Deep Learning*, sec. 4.1).
"""

from __future__ import annotations

import numpy as np

from symcomp.ir.core import Operation
from symcomp.ir.opdef import Int, Pure, attr, op, operand
from symcomp.ir.frontend import tensor as _t


def _row_max(x: np.ndarray, axis: int) -> np.ndarray:
    """The maximum along ``axis`` (kept), -inf along an empty axis, whose rows have no element anyway."""
    return np.max(x, axis=axis, keepdims=True, initial=-np.inf)


class _RowOp(Operation):
    x = operand()
    axis = attr(Int)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        if not t.dtype.is_float:
            raise TypeError(f"{cls.name}: operand must be a float tensor, got {t}")
        if not 0 <= attrs["axis"] < t.ndim:
            raise ValueError(f"{cls.name}: axis {attrs['axis']} out of range for {t}")
        return [t]


@op("sc.softmax", traits=(Pure,))
class Softmax(_RowOp):
    """exp(x - max) / sum(exp(x - max)) along ``axis``."""

    def ref(self, x):
        e = np.exp(x - _row_max(x, self.axis))
        return e / np.sum(e, axis=self.axis, keepdims=True)

    def vjp(self, grads):
        g, y = grads[0], self.result
        return [y * (g - _t().sum(g * y, axis=self.axis, keepdims=True))]


@op("sc.log_softmax", traits=(Pure,))
class LogSoftmax(_RowOp):
    """x - max - log(sum(exp(x - max))) along ``axis``."""

    def ref(self, x):
        s = x - _row_max(x, self.axis)
        return s - np.log(np.sum(np.exp(s), axis=self.axis, keepdims=True))

    def vjp(self, grads):
        g, y = grads[0], self.result
        tb = _t()
        return [g - tb.exp(y) * tb.sum(g, axis=self.axis, keepdims=True)]
