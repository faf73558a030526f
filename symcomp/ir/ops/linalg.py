"""Matrix products.

``sc.dot`` follows ``np.dot`` for operands of rank 1 and 2 (vector-vector,
matrix-vector, vector-matrix, matrix-matrix); the front-end reshapes higher
ranks.  Float products are lowered to BLAS (gemm, gemv, dot) by the CPU backend.
``sc.gemm`` is BLAS's ``alpha * a @ b + beta * c``, made by the CPU backend's
``cpu-gemm-fold`` pass.
"""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Float, Pure, attr, op, operand
from symcomp.ir.frontend import tensor as _t


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


@op("sc.gemm", traits=(Pure,))
class Gemm(Operation):
    """``alpha * dot(a, b) + beta * c`` for float matrices (BLAS's gemm); ``c`` broadcasts to the
    product's shape (Theano's rule: only statically size-1 axes).  Made by the ``cpu-gemm-fold``
    pass from ``dot``/``add``/``mul`` patterns, so a product and its bias or update take one BLAS call."""
    a = operand()
    b = operand()
    c = operand()
    alpha = attr(Float, 1.0)
    beta = attr(Float, 1.0)

    @classmethod
    def infer(cls, types, attrs, values):
        a, b, c = types
        if not (a.dtype == b.dtype == c.dtype) or not a.dtype.is_float:
            raise TypeError(f"sc.gemm: operands must share one float dtype, got {a.dtype.ir}, {b.dtype.ir}, "
                            f"{c.dtype.ir}")
        if a.ndim != 2 or b.ndim != 2 or c.ndim != 2:
            raise ValueError(f"sc.gemm: operands must be matrices, got ranks {a.ndim}, {b.ndim}, {c.ndim}")
        (prod,) = Dot.infer([a, b], {}, values[:2])
        shape = T.broadcast_shapes([prod.shape, c.shape], "sc.gemm product and addend")
        if shape != prod.shape:
            raise ValueError(f"sc.gemm: addend of shape {c.shape} would broadcast the product {prod.shape}")
        return [prod]

    def check_broadcast(self, shapes, values, result_shapes):
        T.check_runtime_broadcast(self.name, [self.result.type.shape, self.c.type.shape],
                                  [result_shapes[0], shapes[2]])

    def ref(self, a, b, c):
        return np.asarray(self.alpha * np.dot(a, b) + self.beta * c, dtype=a.dtype)

    def vjp(self, grads):
        tb, g = _t(), grads[0]
        return [tb.dot(g, self.b.T) * self.alpha, tb.dot(self.a.T, g) * self.alpha,
                tb.unbroadcast(g * self.beta, self.c)]
