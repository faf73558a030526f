"""decompose: rewrite composite ops into core ops, for backends that lower only the core.

``sc.gemm`` (made by the CPU backend's ``cpu-gemm-fold``, or written in IR by
hand) becomes ``alpha * dot(a, b) + beta * c``; other backends then need no
lowering of their own for it (STYLE.md: "legalize non-core ops with patterns
before rendering").
"""

from __future__ import annotations

from dataclasses import dataclass

from symcomp.ir.opdef import build
from symcomp.ir.ops.linalg import Dot, Gemm
from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.rewrite import PatternSet, apply_greedily

decompositions = PatternSet("decompose")


@decompositions.pattern(Gemm)
def gemm_to_dot(op, rw):
    """gemm(a, b, c) {alpha, beta} -> alpha * dot(a, b) + beta * c"""
    from symcomp import tensor as T

    prod = build(Dot, [op.a, op.b])
    if op.alpha != 1.0:
        prod = prod * op.alpha
    c = op.c if op.beta == 1.0 else op.c * op.beta
    rw.replace(op, T.cast(prod + c, op.result.type.dtype))


@register_pass
@dataclass(frozen=True)
class Decompose(ModulePass):
    name = "decompose"
    description = "Rewrite composite ops (sc.gemm) into core ops for backends that lower only the core"

    def apply(self, module) -> None:
        apply_greedily(module, decompositions)
