"""Matrix products.

``sc.dot`` follows ``np.dot`` for operands of rank 1 and 2 (vector-vector,
matrix-vector, vector-matrix, matrix-matrix); the front-end reshapes higher
ranks.  Float products are lowered to BLAS (gemm, gemv, dot) by the CPU backend.
"""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Pure, op, operand
from symcomp.ir.operators import _t


@op("sc.dot", traits=(Pure,))
class Dot(Operation):
    """``np.dot(a, b)`` for ranks 1 and 2; operands share one numeric dtype."""
    a = operand()
    b = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        a, b = types
        if a.dtype != b.dtype:
            raise TypeError(f"sc.dot: operands must share one dtype, got {a.dtype.ir} and {b.dtype.ir}")
        if a.dtype.is_bool:
            raise TypeError("sc.dot: bool operands are not supported")
        if a.ndim not in (1, 2) or b.ndim not in (1, 2):
            raise ValueError(f"sc.dot: operands must have rank 1 or 2, got {a.ndim} and {b.ndim}")
        ka = a.shape[-1]
        kb = b.shape[0]
        if ka is not None and kb is not None and ka != kb:
            raise ValueError(f"sc.dot: shapes {a.shape} and {b.shape} are not aligned ({ka} != {kb})")
        shape = a.shape[:-1] + b.shape[1:]
        return [T.TensorType(a.dtype, shape)]

    def ref(self, a, b):
        return np.asarray(np.dot(a, b))

    def vjp(self, grads):
        if not self.a.type.dtype.is_float:
            return [None, None]
        tb, g, a, b = _t(), grads[0], self.a, self.b
        if a.ndim == 2 and b.ndim == 2:
            return [tb.dot(g, b.T), tb.dot(a.T, g)]
        if a.ndim == 2:  # (n,k) . (k,) -> (n,)
            return [tb.outer(g, b), tb.dot(a.T, g)]
        if b.ndim == 2:  # (k,) . (k,m) -> (m,)
            return [tb.dot(b, g), tb.outer(a, g)]
        return [g * b, g * a]
