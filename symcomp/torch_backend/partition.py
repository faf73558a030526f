"""Graph partitioning: the parts of an ATen graph symcomp supports run compiled, the rest in PyTorch.

PyTorch's ``CapabilityBasedPartitioner`` groups the supported nodes
(:func:`~symcomp.torch_backend.fx_nodes.is_supported`) into maximal partitions
that keep the graph acyclic and fuses each into a submodule; each submodule is
converted into one symcomp function and replaced by a :class:`SymcompKernel`.
Unsupported nodes stay in the outer graph and run eagerly.  Partitions made
only of views and copies (transpose, reshape, detach...) are left to PyTorch,
for which they are free.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Optional

import torch
from torch.fx.node import _get_qualified_name
from torch.fx.passes.infra.partitioner import CapabilityBasedPartitioner
from torch.fx.passes.operator_support import OperatorSupportBase

from symcomp.compile.function import function
from symcomp.torch_backend.fx_nodes import ConversionError, convert_node, input_variable, is_supported, meta

_NON_COMPUTE = ("t.default", "transpose.int", "permute.default", "view.default", "_unsafe_view.default",
                "reshape.default", "unsqueeze.default", "squeeze.dim", "squeeze.dims", "detach.default",
                "alias.default", "clone.default", "expand.default")


class _Support(OperatorSupportBase):
    def is_node_supported(self, submodules, node) -> bool:
        return is_supported(node)


@dataclass
class GraphReport:
    """What happened to one graph handed to the backend.

    Attributes:
        kind: ``"forward"``, ``"backward"`` or ``"inference"``.
        compiled: ATen overload names computed by symcomp, one entry per node.
        eager: ATen overload names left to PyTorch (unsupported, or in a partition that failed to convert).
        failures: why partitions were refused (one message each).
    """

    kind: str
    compiled: list = field(default_factory=list)
    eager: list = field(default_factory=list)
    failures: list = field(default_factory=list)


class SymcompKernel(torch.nn.Module):
    """A partition compiled by symcomp: tensors in, tensors out (CPU, no copies through DLPack)."""

    def __init__(self, fn, tuple_output: bool):
        super().__init__()
        self.fn = fn
        self.tuple_output = tuple_output

    def forward(self, *args):
        outs = self.fn(*[a.detach() for a in args])
        tensors = tuple(torch.from_numpy(o) for o in outs)
        return tensors if self.tuple_output else tensors[0]


def _compile_partition(sub: torch.fx.GraphModule, call, name: str, mode: Optional[str]) -> SymcompKernel:
    env, inputs = {}, []
    placeholders = [n for n in sub.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != len(call.args):
        raise ConversionError(f"{name}: {len(placeholders)} parameters for {len(call.args)} arguments")
    for i, (ph, arg) in enumerate(zip(placeholders, call.args)):
        fake = meta(arg)
        if fake is None:
            raise ConversionError(f"{name}: input {arg} has no recorded tensor")
        env[ph] = v = input_variable(ph, fake, i)
        inputs.append(v)
    outputs = None
    for n in sub.graph.nodes:
        if n.op == "call_function":
            if meta(n) is None:
                raise ConversionError(f"{n.format_node()}: no recorded tensor")
            env[n] = convert_node(n, env)
        elif n.op == "output":
            outputs = n.args[0]
    tuple_output = isinstance(outputs, (tuple, list))
    outs = list(outputs) if tuple_output else [outputs]
    fn = function(inputs, [env[o] for o in outs], mode=mode, on_unused_input="ignore", name=name)
    return SymcompKernel(fn, tuple_output)


def partition_and_compile(gm: torch.fx.GraphModule, kind: str, mode: Optional[str] = None,
                          warn: bool = True) -> tuple[torch.fx.GraphModule, GraphReport]:
    """Compile the supported partitions of an ATen graph with symcomp.

    Args:
        gm: the graph (AOTAutograd's forward, backward or inference graph); changed in place.
        kind: a label for the report.
        mode: the symcomp compilation mode (default ``symcomp.config.mode``).
        warn: warn when a partition cannot be converted (it then runs in PyTorch).

    Returns:
        The graph module to run, and what was compiled.
    """
    report = GraphReport(kind)
    non_compute = [_get_qualified_name(getattr(getattr(torch.ops.aten, op.split(".")[0]), op.split(".")[1]))
                   for op in _NON_COMPUTE]
    partitioner = CapabilityBasedPartitioner(gm, _Support(), allows_single_node_partition=False,
                                             non_compute_ops=non_compute)
    partitions = partitioner.propose_partitions()
    partitioner.remove_bookend_non_compute_ops(partitions)
    partitions = [p for p in partitions if any(_get_qualified_name(n.target) not in non_compute for n in p.nodes)]
    fused = partitioner.fuse_partitions(partitions, prefix="symcomp_part_")
    for call in list(fused.graph.nodes):
        if call.op != "call_module" or not call.target.startswith("symcomp_part_"):
            if call.op == "call_function" and str(call.target).startswith("aten."):
                report.eager.append(str(call.target))
            continue
        sub = fused.get_submodule(call.target)
        ops = [str(n.target) for n in sub.graph.nodes if n.op == "call_function"]
        try:
            kernel = _compile_partition(sub, call, f"torch_{kind}_{call.target}", mode)
        except (ConversionError, NotImplementedError, TypeError, ValueError) as exc:
            report.failures.append(f"{call.target}: {exc}")
            report.eager.extend(ops)
            if warn:
                warnings.warn(f"symcomp: a partition of the {kind} graph runs in PyTorch: {exc}", RuntimeWarning,
                              stacklevel=2)
            continue
        setattr(fused, call.target, kernel)
        report.compiled.extend(ops)
    return fused, report
