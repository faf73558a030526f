"""Indexing: ``Subtensor``, ``IncSubtensor``, ``AdvancedSubtensor1``, ``AdvancedIncSubtensor1``,
``AdvancedSubtensor``, ``AdvancedIncSubtensor`` and ``MakeSlice``, through symcomp's NumPy indexing
(:mod:`symcomp.tensor.indexing`).  Constant indices become Python ints (static result sizes);
what symcomp's indexing refuses (boolean masks, integer arrays separated by slices) raises
NotImplementedError and runs on PyTensor.
"""

from __future__ import annotations

from pytensor.tensor.subtensor import (
    AdvancedIncSubtensor, AdvancedIncSubtensor1, AdvancedSubtensor, AdvancedSubtensor1, IncSubtensor, Subtensor,
    indices_from_subtensor,
)
from pytensor.tensor.type_other import MakeSlice

from symcomp import tensor as T
from symcomp.pytensor.dispatch import ConversionError, check_output, const_int, symcomp_convert


def _basic_index(node, idx_values, first):
    vals = [const_int(v, c) for v, c in zip(node.inputs[first:], idx_values)]
    return tuple(indices_from_subtensor(vals, node.op.idx_list))


def _advanced_index(node, idx_values, first):
    out = []
    for var, val in zip(node.inputs[first:], idx_values):
        if isinstance(val, T.TensorVariable) and val.type.dtype.is_bool:
            raise ConversionError("boolean mask indexing (its result size depends on the data)")
        out.append(const_int(var, val) if not isinstance(val, slice) else val)
    return tuple(out)


@symcomp_convert.register(Subtensor)
def _subtensor(op, node, x, *idx):
    return [check_output(T.getitem(x, _basic_index(node, idx, 1)), node.outputs[0])]


@symcomp_convert.register(IncSubtensor)
def _inc_subtensor(op, node, x, y, *idx):
    sub = T.getitem(x, _basic_index(node, idx, 2))
    fn = T.set_subtensor if op.set_instead_of_inc else T.inc_subtensor
    return [check_output(fn(sub, y), node.outputs[0])]


@symcomp_convert.register(AdvancedSubtensor1)
def _advanced_subtensor1(op, node, x, ilist):
    return [check_output(T.getitem(x, ilist), node.outputs[0])]


@symcomp_convert.register(AdvancedIncSubtensor1)
def _advanced_inc_subtensor1(op, node, x, y, ilist):
    fn = T.set_subtensor if op.set_instead_of_inc else T.inc_subtensor
    return [check_output(fn(T.getitem(x, ilist), y), node.outputs[0])]


@symcomp_convert.register(AdvancedSubtensor)
def _advanced_subtensor(op, node, x, *idx):
    return [check_output(T.getitem(x, _advanced_index(node, idx, 1)), node.outputs[0])]


@symcomp_convert.register(AdvancedIncSubtensor)
def _advanced_inc_subtensor(op, node, x, y, *idx):
    if getattr(op, "ignore_duplicates", False) and not op.set_instead_of_inc:
        raise ConversionError("inc_subtensor with ignore_duplicates=True")
    fn = T.set_subtensor if op.set_instead_of_inc else T.inc_subtensor
    return [check_output(fn(T.getitem(x, _advanced_index(node, idx, 2)), y), node.outputs[0])]


@symcomp_convert.register(MakeSlice)
def _make_slice(op, node, *parts):
    """A Python slice (only usable by indexing ops of the same compiled part)."""
    vals = [const_int(v, p) for v, p in zip(node.inputs, parts)]
    return [slice(*vals)]
