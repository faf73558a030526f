"""``CAReduce`` families (``Sum``, ``Prod``, ``Max``, ``Min``, ``Any``, ``All``), ``Argmax`` and
``Softmax``, ``LogSoftmax``, ``SoftmaxGrad``, and ``CumOp`` (cumulative sums).

A reduction accumulates in the op's ``acc_dtype`` (PyTensor's accumulator: float64 sums of float32
data when PyTensor asks for it) and returns the node's output dtype.
"""

from __future__ import annotations

import pytensor.scalar.basic as ps
from pytensor.tensor.elemwise import CAReduce
from pytensor.tensor.extra_ops import CumOp
from pytensor.tensor.math import Argmax
from pytensor.tensor.special import LogSoftmax, Softmax, SoftmaxGrad

from symcomp import tensor as T
from symcomp.pytensor.dispatch import ConversionError, as_dtype, symcomp_convert

_REDUCERS = {ps.Add: T.sum, ps.Mul: T.prod, ps.Maximum: T.max, ps.Minimum: T.min, ps.AND: T.all, ps.OR: T.any}


@symcomp_convert.register(CAReduce)
def _careduce(op, node, x):
    fn = _REDUCERS.get(type(op.scalar_op))
    if fn is None:
        raise ConversionError(f"reduction with the scalar op {type(op.scalar_op).__name__}")
    acc = getattr(op, "acc_dtype", None)
    if acc is not None and fn in (T.sum, T.prod):
        x = T.cast(x, acc)
    axis = None if op.axis is None else tuple(op.axis)
    if axis == ():
        return [as_dtype(x, node.outputs[0])]
    if fn in (T.all, T.any) and not x.type.dtype.is_bool:
        x = T.neq(x, 0)
    return [as_dtype(fn(x, axis=axis), node.outputs[0])]


@symcomp_convert.register(Argmax)
def _argmax(op, node, x):
    n = x.type.ndim
    if op.axis is None or len(op.axis) == n:
        out = T.argmax(T.flatten(x) if n != 1 else x, axis=0) if n else T.zeros((), "int64")
    elif len(op.axis) == 1:
        out = T.argmax(x, axis=op.axis[0])
    else:
        raise ConversionError(f"argmax over the axes {op.axis} of a rank-{n} tensor")
    return [as_dtype(out, node.outputs[0])]


def _axis(op, x):
    """PyTensor's softmax axis (None: over all axes, supported for vectors and scalars)."""
    if op.axis is not None:
        return op.axis
    if x.type.ndim <= 1:
        return 0
    raise ConversionError(f"softmax over all axes of a rank-{x.type.ndim} tensor")


@symcomp_convert.register(Softmax)
def _softmax(op, node, x):
    if x.type.ndim == 0:
        return [as_dtype(T.ones_like(x), node.outputs[0])]
    return [as_dtype(T.nnet.softmax(x, axis=_axis(op, x)), node.outputs[0])]


@symcomp_convert.register(LogSoftmax)
def _log_softmax(op, node, x):
    if x.type.ndim == 0:
        return [as_dtype(T.zeros_like(x), node.outputs[0])]
    return [as_dtype(T.nnet.log_softmax(x, axis=_axis(op, x)), node.outputs[0])]


@symcomp_convert.register(SoftmaxGrad)
def _softmax_grad(op, node, dy, sm):
    if sm.type.ndim == 0:
        return [as_dtype(T.zeros_like(dy), node.outputs[0])]
    dot = T.sum(dy * sm, axis=_axis(op, sm), keepdims=True)
    return [as_dtype((dy - dot) * sm, node.outputs[0])]


@symcomp_convert.register(CumOp)
def _cumop(op, node, x):
    """Cumulative sums (``CumOp`` with mode "add"; the cumulative product has no symcomp op yet)."""
    if op.mode != "add":
        raise ConversionError(f"cumulative {op.mode} (symcomp has cumsum only)")
    return [as_dtype(T.cumsum(x, axis=op.axis), node.outputs[0])]
