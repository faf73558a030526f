"""``control-flow-sink``: move into a branch of ``sc.if`` the ops only that branch uses.

The front-end's ``ifelse`` leaves each branch's computations before the ``sc.if`` (they are
values of the user's graph); this pass moves an op into the region that alone uses its results
(MLIR's ``control-flow-sink``), repeatedly, so the branch not taken computes nothing: Theano's
lazy ``ifelse``.  Tracing runs it on every function (:func:`symcomp.compile.trace.trace`), so
every mode, the reference backend included, evaluates branches lazily; it is also a pass for
``symcomp-opt``.  An op used by both branches, or outside the ``sc.if``, stays where it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from symcomp.ir.core import BlockArgument, Region
from symcomp.ir.opdef import Pure, SideEffect
from symcomp.ir.ops.control import If
from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.rewrite import tensor_blocks


def sink_into_branches(module) -> int:
    """Sink ops into the branches of every ``sc.if`` of ``module``; returns how many moved."""
    moved = 0
    progress = True
    while progress:
        progress = False
        for block in tensor_blocks(module):
            for op in list(block.ops):
                if op.name == "sc.if" and op.parent is block and _sink_one(op):
                    moved += 1
                    progress = True
                    break
    return moved


def _sink_one(ifop) -> bool:
    """Move one op (or drop one unused input) of ``ifop``; True if the IR changed."""
    inputs = list(ifop.operands[1:])
    blocks = [r.block for r in ifop.regions]
    for k, v in enumerate(inputs):
        if all(not b.args[k].uses for b in blocks):  # an input no branch reads
            _rebuild(ifop, [j for j in range(len(inputs)) if j != k], [], None)
            return True
    for v in inputs:
        d = v.owner
        if d is None or d.parent is not ifop.parent or Pure not in d.traits or SideEffect in d.traits:
            continue
        if any(u is not ifop for r in d.results for u, _ in r.uses):
            continue
        slots = [k for k, w in enumerate(inputs) if w.owner is d]
        users = {i for i, b in enumerate(blocks) for k in slots if b.args[k].uses}
        if len(users) != 1:
            continue
        target = users.pop()
        keep = [k for k in range(len(inputs)) if k not in slots]
        extra = [w for w in dict.fromkeys(d.operands) if w not in [inputs[k] for k in keep]]
        _rebuild(ifop, keep, extra, (target, d, slots))
        return True
    return False


def _rebuild(ifop, keep: list, extra: list, sink) -> None:
    """Replace ``ifop`` by an ``sc.if`` whose inputs are ``inputs[keep] + extra``; with ``sink =
    (region, op, slots)``, a clone of ``op`` heads that region and replaces the arguments of
    ``slots``."""
    inputs = list(ifop.operands[1:])
    new_inputs = [inputs[k] for k in keep] + list(extra)
    regions = []
    for i, region in enumerate(ifop.regions):
        blk = region.block
        old_args = list(blk.args)
        args = [old_args[k] for k in keep]
        for w in extra:
            args.append(BlockArgument(w.type, blk, 0, w.name))
        for j, a in enumerate(args):
            a.index = j
        blk.args = args
        if sink is not None and sink[0] == i:
            _, d, slots = sink
            local = {v: a for v, a in zip(new_inputs, args)}
            clone = d.clone({w: local[w] for w in d.operands})
            blk.insert_before(clone, blk.first)
            for k in slots:
                old_args[k].replace_all_uses_with(clone.results[inputs[k].index])
        regions.append(region)
    ifop.regions = []
    new = If([ifop.operands[0]] + new_inputs, [r.type for r in ifop.results], dict(ifop.attributes),
             [Region([r.block]) for r in regions], ifop.loc, [r.name for r in ifop.results])
    ifop.parent.insert_before(new, ifop)
    for old, r in zip(ifop.results, new.results):
        old.replace_all_uses_with(r)
    ifop.erase()
    if sink is not None:
        d = sink[1]
        if all(not r.uses for r in d.results):
            d.erase()


@register_pass
@dataclass(frozen=True)
class ControlFlowSink(ModulePass):
    name = "control-flow-sink"
    description = "Move into a branch of sc.if the ops only that branch uses (lazy ifelse)"

    def apply(self, module) -> None:
        sink_into_branches(module)
