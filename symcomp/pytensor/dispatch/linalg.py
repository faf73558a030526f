"""Matrix products: ``Dot``, and the BLAS forms PyTensor's C rewrites make (``Dot22``,
``Dot22Scalar``, ``Gemm``, ``Gemv``, ``Ger``), all as symcomp's ``dot`` (BLAS on the CPU)
plus elementwise scaling, which symcomp folds back into ``sc.gemm`` where it pays."""

from __future__ import annotations

from pytensor.tensor.blas import Dot22, Dot22Scalar, Gemm, Gemv, Ger
from pytensor.tensor.math import Dot

from symcomp import tensor as T
from symcomp.pytensor.dispatch import check_output, symcomp_convert


@symcomp_convert.register(Dot)
@symcomp_convert.register(Dot22)
def _dot(op, node, x, y):
    return [check_output(T.dot(x, y), node.outputs[0])]


@symcomp_convert.register(Dot22Scalar)
def _dot22scalar(op, node, x, y, a):
    return [check_output(T.dot(x, y) * a, node.outputs[0])]


@symcomp_convert.register(Gemm)
def _gemm(op, node, z, a, x, y, b):
    """b * z + a * dot(x, y)."""
    return [check_output(b * z + a * T.dot(x, y), node.outputs[0])]


@symcomp_convert.register(Gemv)
def _gemv(op, node, y, alpha, A, x, beta):
    """beta * y + alpha * dot(A, x)."""
    return [check_output(beta * y + alpha * T.dot(A, x), node.outputs[0])]


@symcomp_convert.register(Ger)
def _ger(op, node, A, alpha, x, y):
    """A + alpha * outer(x, y)."""
    return [check_output(A + alpha * T.outer(x, y), node.outputs[0])]
