"""Common subexpression elimination: merge identical pure ops on identical operands.

Two ops are identical when they have the same name, the same operands (by
SSA identity, in order; in any order for commutative ops) and equal
attributes (constants compare by dtype, shape and bytes, floats by their bits,
so ``-0.0`` and ``0.0`` stay apart).  Ops with regions are compared by their
printed body.  Ops with side effects (``sc.assign``) are never merged.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from symcomp.ir.opdef import Commutative, Pure, SideEffect
from symcomp.passes.manager import ModulePass, register_pass


def _attr_key(v):
    if isinstance(v, np.ndarray):
        return ("ndarray", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, (list, tuple)):
        return tuple(_attr_key(x) for x in v)
    if isinstance(v, float):
        return ("float", struct.pack("<d", v))
    return v


def op_key(op):
    """A hashable key equal for ops that compute the same values."""
    attrs = tuple(sorted((k, _attr_key(v)) for k, v in op.attributes.items()))
    operands = [id(v) for v in op.operands]
    if Commutative in op.traits:
        operands.sort()
    body = None
    if op.regions:
        from symcomp.ir.printer import Printer

        parts = []
        for region in op.regions:  # every region: two sc.if may share a then branch only
            p = Printer()
            for a in region.block.args:
                p.namer(a)
            p.lines = []
            for o in region.block.ops:
                p._op(o, 0)
            parts.append(("\n".join(p.lines), tuple(str(a.type) for a in region.block.args)))
        body = tuple(parts)
    return (op.name, tuple(operands), attrs, body)


def eliminate_common_subexpressions(module) -> int:
    """Merge duplicates in every block; returns how many ops were removed."""
    removed = 0
    for op in list(module.walk()):
        for region in op.regions:
            for block in region.blocks:
                seen = {}
                for o in list(block.ops):
                    if Pure not in o.traits or SideEffect in o.traits or not o.results:
                        continue
                    key = op_key(o)
                    first = seen.get(key)
                    if first is None:
                        seen[key] = o
                        continue
                    for r, keep in zip(o.results, first.results):
                        r.replace_all_uses_with(keep)
                    o.erase()
                    removed += 1
    return removed


@register_pass
@dataclass(frozen=True)
class CommonSubexpressionElimination(ModulePass):
    name = "cse"
    description = "Merge identical pure operations on identical operands"

    def apply(self, module) -> None:
        eliminate_common_subexpressions(module)
