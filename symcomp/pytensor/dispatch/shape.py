"""Shape ops: ``DimShuffle``, ``Reshape``, ``Shape``, ``Shape_i``, ``SpecifyShape``, ``Alloc``, ``DeepCopyOp``,
``AllocEmpty``, ``Join``, ``Split``, ``MakeVector``, ``ARange``, ``TensorFromScalar``, ``ScalarFromTensor``.

Shape entries that PyTensor holds as constants become Python ints, so symcomp knows the sizes
statically; the others stay int64 scalar values (symcomp's dynamic sizes).
"""

from __future__ import annotations

from pytensor.compile.ops import DeepCopyOp, ViewOp
from pytensor.graph.basic import Constant
from pytensor.tensor.basic import (
    Alloc, AllocEmpty, ARange, Join, MakeVector, ScalarFromTensor, Split, TensorFromScalar,
)
from pytensor.tensor.elemwise import DimShuffle
from pytensor.tensor.shape import Reshape, Shape, Shape_i, SpecifyShape

from symcomp import tensor as T
from symcomp.pytensor.dispatch import ConversionError, as_dtype, check_output, const_int, const_ints, symcomp_convert


def shape_entries(var, value, n=None):
    """The entries of a PyTensor shape vector ``var`` (converted: ``value``): ints where constant.

    A ``MakeVector`` of scalars gives one entry per scalar (ints for the constants among them).
    """
    ints = const_ints(var, value)
    if ints is not None:
        return list(ints)
    owner = var.owner
    if owner is not None and isinstance(owner.op, MakeVector):
        from symcomp.pytensor.partition import current_env

        env = current_env()
        if env is not None and all(i in env or isinstance(i, Constant) for i in owner.inputs):
            return [const_int(i, env.get(i)) for i in owner.inputs]
    length = value.type.shape[0] if value.type.ndim == 1 else None
    if length is None:
        raise ConversionError(f"a shape vector of unknown length ({var})")
    return [value[i] for i in range(length)]


@symcomp_convert.register(DimShuffle)
def _dimshuffle(op, node, x):
    order = op.new_order
    dropped = [i for i in range(x.type.ndim) if i not in order]
    for i in dropped:
        if x.type.shape[i] != 1:
            # PyTensor knows the axis has size 1 (its type says so); tell symcomp.
            x = T.addbroadcast(x, i)
    return [check_output(T.dimshuffle(x, *order), node.outputs[0])]


@symcomp_convert.register(Reshape)
def _reshape(op, node, x, shp):
    entries = shape_entries(node.inputs[1], shp)
    return [check_output(T.reshape(x, entries, ndim=op.ndim), node.outputs[0])]


@symcomp_convert.register(Shape)
def _shape(op, node, x):
    dims = [T.cast(T.as_value(d), "int64") for d in T.shape(x)]
    out = T.stack(dims) if dims else T.zeros((0,), "int64")
    return [as_dtype(out, node.outputs[0])]


@symcomp_convert.register(Shape_i)
def _shape_i(op, node, x):
    return [as_dtype(T.as_value(T.shape(x)[op.i]), node.outputs[0])]


@symcomp_convert.register(SpecifyShape)
def _specify_shape(op, node, x, *shape):
    """The value itself: the static sizes PyTensor's type gives the result are known to symcomp
    where the input's are (the run-time assertion of sizes is not repeated)."""
    return [check_output(x, node.outputs[0])]


@symcomp_convert.register(Alloc)
def _alloc(op, node, value, *shape):
    dims = [const_int(v, s) for v, s in zip(node.inputs[1:], shape)]
    return [check_output(T.alloc(value, *dims) if dims else value, node.outputs[0])]


@symcomp_convert.register(AllocEmpty)
def _alloc_empty(op, node, *shape):
    """Zeros: PyTensor leaves the values unspecified."""
    dims = [const_int(v, s) for v, s in zip(node.inputs, shape)]
    return [check_output(T.zeros(dims, dtype=op.dtype), node.outputs[0])]


@symcomp_convert.register(Join)
def _join(op, node, axis, *tensors):
    ax = const_int(node.inputs[0], None)
    if ax is None:
        raise ConversionError("Join along an axis that is not a constant")
    if len(tensors) == 1:
        return [check_output(tensors[0], node.outputs[0])]
    dt = node.outputs[0].type.dtype
    return [check_output(T.concatenate([T.cast(t, dt) for t in tensors], axis=ax), node.outputs[0])]


@symcomp_convert.register(MakeVector)
def _make_vector(op, node, *scalars):
    if not scalars:
        return [T.zeros((0,), op.dtype)]
    return [check_output(T.stack([T.cast(s, op.dtype) for s in scalars]), node.outputs[0])]


@symcomp_convert.register(ARange)
def _arange(op, node, start, stop, step):
    args = [const_int(v, s) for v, s in zip(node.inputs, (start, stop, step))]
    return [check_output(T.arange(*args, dtype=op.dtype), node.outputs[0])]


@symcomp_convert.register(TensorFromScalar)
@symcomp_convert.register(ScalarFromTensor)
def _scalar_tensor(op, node, x):
    return [as_dtype(x, node.outputs[0])]


@symcomp_convert.register(DeepCopyOp)
def _deep_copy(op, node, x):
    """A copy (PyTensor adds it where an output would alias an input or another output)."""
    return [check_output(T.copy(x), node.outputs[0])]


@symcomp_convert.register(ViewOp)
def _view(op, node, x):
    return [check_output(x, node.outputs[0])]


@symcomp_convert.register(Split)
def _split(op, node, x, axis, splits):
    """Pieces of ``x`` along a constant axis, of constant sizes (slices of ``x``)."""
    ax = const_int(node.inputs[1], None)
    sizes = const_ints(node.inputs[2], splits)
    if ax is None or sizes is None:
        raise ConversionError("Split with an axis or sizes that are not constants")
    ax %= x.type.ndim
    n = x.type.shape[ax]
    if n is not None and sum(sizes) != n:
        raise ConversionError(f"Split sizes {sizes} do not add up to axis {ax}'s size {n}")
    outs, start = [], 0
    for size, var in zip(sizes, node.outputs):
        idx = (slice(None),) * ax + (slice(start, start + size),)
        outs.append(check_output(T.getitem(x, idx), var))
        start += size
    return outs
