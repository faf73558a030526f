"""Matrix products: ``Dot``, and the BLAS forms PyTensor's C rewrites make (``Dot22``,
``Dot22Scalar``, ``Gemm``, ``Gemv``, ``Ger``), all as symcomp's ``dot`` (BLAS on the CPU)
plus elementwise scaling, which symcomp folds back into ``sc.gemm`` where it pays."""

from __future__ import annotations

from pytensor.tensor.blas import Dot22, Dot22Scalar, Gemm, Gemv, Ger
from pytensor.tensor.math import Dot

from symcomp import tensor as T
from symcomp.pytensor.dispatch import check_output, symcomp_convert


def matmul(x, y):
    """``dot(x, y)``; a matrix times a one-column matrix (PyTensor's form of a matrix-vector product,
    ``Dot(A, ExpandDims(v))``) is computed as a matrix-vector product (BLAS gemv, not a gemm with
    one column: 5 ms against 28 ms for a 50 x 10^5 matrix)."""
    if x.type.ndim == 2 and y.type.ndim == 2:
        if y.type.shape[1] == 1:
            return T.expand_dims(T.dot(x, y[:, 0]), 1)
        if x.type.shape[0] == 1:
            return T.expand_dims(T.dot(x[0], y), 0)
    return T.dot(x, y)


@symcomp_convert.register(Dot)
@symcomp_convert.register(Dot22)
def _dot(op, node, x, y):
    return [check_output(matmul(x, y), node.outputs[0])]


@symcomp_convert.register(Dot22Scalar)
def _dot22scalar(op, node, x, y, a):
    return [check_output(matmul(x, y) * a, node.outputs[0])]


@symcomp_convert.register(Gemm)
def _gemm(op, node, z, a, x, y, b):
    """b * z + a * dot(x, y)."""
    return [check_output(b * z + a * matmul(x, y), node.outputs[0])]


@symcomp_convert.register(Gemv)
def _gemv(op, node, y, alpha, A, x, beta):
    """beta * y + alpha * dot(A, x)."""
    return [check_output(beta * y + alpha * T.dot(A, x), node.outputs[0])]


@symcomp_convert.register(Ger)
def _ger(op, node, A, alpha, x, y):
    """A + alpha * outer(x, y)."""
    return [check_output(A + alpha * T.outer(x, y), node.outputs[0])]
