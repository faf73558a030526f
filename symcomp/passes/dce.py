"""Dead code elimination: remove pure operations whose results are unused.

Ops with side effects (``sc.assign``, shared-variable updates) and
terminators are always kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.rewrite import is_trivially_dead


def eliminate_dead_code(module) -> int:
    """Erase dead pure ops in every block of ``module``; returns how many were erased."""
    erased = 0
    for op in module.walk():
        for region in op.regions:
            for block in region.blocks:
                o = block.last
                while o is not None:
                    prev = o.prev
                    if is_trivially_dead(o):
                        o.erase()
                        erased += 1
                    o = prev
    return erased


@register_pass
@dataclass(frozen=True)
class DeadCodeElimination(ModulePass):
    name = "dce"
    description = "Remove pure operations whose results are unused (updates are kept)"

    def apply(self, module) -> None:
        eliminate_dead_code(module)
