"""Canonicalization: algebraic simplifications that are exact in IEEE 754 arithmetic.

Every pattern in :data:`canonical` gives bit-for-bit the result of the
expression it replaces, for every input, NaN, infinities and signed zeros
included.  Rules that are *not* exact in IEEE arithmetic are in
:data:`fast_math` and run only with ``canonicalize{fast-math=true}``; each
says what it changes.  The patterns live by theme in
:mod:`~symcomp.passes.canonical_arith`, :mod:`~symcomp.passes.canonical_shapes` and
:mod:`~symcomp.passes.loops` (dead loop outputs, loop-invariant code, save-memory).
Two notes on "exact":

* ``pow`` is taken to be correctly rounded (as IEEE 754 recommends), so
  ``x**2 -> x*x`` and ``x**-1 -> 1/x`` give the correctly rounded value;
  libm's ``pow`` may be off by an ULP, the rewritten form is not.
* ``sum(broadcast_to(x))`` becomes ``x * count``: the correctly rounded value
  of the sum, where the loop accumulated one rounding error per term.

Replacements keep result types identical: when a rewrite drops an operand
that broadcast the result (``x * ones((3, 4))`` with ``x`` of shape ``(1, 4)``),
the replacement is broadcast back (:func:`~symcomp.passes.match.as_type`).
A rewrite may drop a run-time shape check of an operand it removes (the
program would otherwise have raised ValueError); it never changes a result.

The patterns follow PyTensor's ``local_*`` rewrites and MLIR's arith
canonicalizations (``arith.mulf %x, 1.0`` folds, ``arith.addf %x, -0.0``
folds, ``arith.addf %x, 0.0`` does not).
"""

from __future__ import annotations

from dataclasses import dataclass

from symcomp.passes import canonical_arith, canonical_shapes, loops
from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.rewrite import apply_greedily

canonical = canonical_arith.exact + canonical_shapes.exact + loops.patterns
fast_math = canonical_arith.fast + canonical_shapes.fast


def canonicalize(module, fast: bool = False, max_iters: int = 10, stats=None) -> bool:
    """Apply the exact patterns (and the fast-math ones if ``fast``) to a fixed point.

    Returns:
        True if the IR changed.
    """
    return apply_greedily(module, canonical + fast_math if fast else canonical, max_iters, stats)


@register_pass
@dataclass(frozen=True)
class Canonicalize(ModulePass):
    """Algebraic simplification exact in IEEE arithmetic (see the module docstring).

    Options:
        fast-math: also apply rewrites that are not exact in IEEE arithmetic
            (x*0 -> 0, x-x -> 0, x/c -> x*(1/c), x**0.5 -> sqrt(x), reassociation).
        max-iters: the most sweeps of the greedy driver.
    """

    name = "canonicalize"
    description = "Algebraic simplification exact in IEEE arithmetic (fast-math=true adds inexact rules)"
    fast_math: bool = False
    max_iters: int = 10

    def apply(self, module) -> None:
        canonicalize(module, self.fast_math, self.max_iters)
