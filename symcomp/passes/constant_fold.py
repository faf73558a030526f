"""Constant folding: evaluate ops on constants at compile time.

An op whose operands are all ``sc.constant`` is replaced by a constant
holding its value, computed with the op's own reference semantics (``ref``,
through the IR interpreter's :func:`~symcomp.ir.interpreter.run_op`,
so the folded value is bit-for-bit what the NumPy oracle computes).  ``sc.dim``
of a statically known dimension folds too, whatever its operand.

Limits:

* a result with more than ``max_elements`` elements is not materialized (a
  huge constant costs compile time and binary size for no run-time gain);
* a view that only enlarges a constant (``sc.broadcast_to``) is kept: it
  costs nothing at run time, while its folded value would be stored in full;
* an op whose evaluation raises (an integer to a negative power, an index out
  of range) is left alone, so the error is raised at call time, where the user
  expects it;
* ops with side effects and ops with regions are never folded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symcomp.ir.core import Operation
from symcomp.ir.opdef import Pure, SideEffect
from symcomp.ir.ops.basic import Constant
from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.rewrite import Rewriter, all_ops, is_trivially_dead

_NEVER = ("sc.constant", "sc.fused", "sc.yield", "func.return")


def _is_constant(v) -> bool:
    o = v.owner
    return o is not None and o.name == "sc.constant"


def _foldable(op: Operation) -> bool:
    return (op.name not in _NEVER and Pure in op.traits and SideEffect not in op.traits
            and not op.regions and len(op.results) == 1)


def _evaluate(op: Operation, max_elements: int):
    """The folded value of ``op``, or None when it cannot or should not be folded."""
    from symcomp.ir.interpreter import run_op

    if op.name == "sc.dim":
        d = op.operands[0].type.shape[op.axis]
        return None if d is None else np.asarray(d, dtype=np.int64)
    if not op.operands or not all(_is_constant(v) for v in op.operands):
        return None
    t = op.result.type
    if not t.is_static or math.prod(t.shape) > max_elements:
        return None
    if op.name == "sc.broadcast_to" and math.prod(t.shape) > math.prod(op.operands[0].type.shape):
        return None
    args = [v.owner.attributes["value"] for v in op.operands]
    try:
        with np.errstate(all="ignore"):
            (value,) = run_op(op, args)
    except (ValueError, IndexError, ZeroDivisionError, OverflowError, TypeError, NotImplementedError):
        return None
    return np.array(value, order="C")  # (np.ascontiguousarray would make a 0-d value 1-d)


def _consumers_keep_types(result, value) -> bool:
    """Whether every consumer's type rule still gives its result types once ``result`` is the
    constant ``value``: rules that read operand values (the ``?`` sizes of reshape and broadcast_to)
    would give a static size where the IR says ``?``, and the verifier rejects that."""
    for user, _ in result.uses:
        if not user.results:
            continue
        values = [value if w is result else (w.owner.attributes["value"] if _is_constant(w) else None)
                  for w in user.operands]
        try:
            types = user.infer_for([w.type for w in user.operands], values)
        except Exception:  # noqa: BLE001 - a rule that cannot take the value: keep the op as it is
            return False
        if list(types) != [r.type for r in user.results]:
            return False
    return True


def fold_constants(module: Operation, max_elements: int = 1_000_000) -> int:
    """Fold every foldable op of ``module`` (in program order, so chains fold); returns how many."""
    folded = 0
    rw = Rewriter()
    for op in all_ops(module):
        if op.parent is None or not _foldable(op):
            continue
        value = _evaluate(op, max_elements)
        if value is None or not _consumers_keep_types(op.result, value):
            continue
        const = Constant([], [op.result.type], {"value": value}, loc=op.loc, result_names=[op.result.name])
        if rw.replace(op, const.result):
            folded += 1
    # The operands of folded ops (constants, sizes) may be dead now.
    while rw.worklist:
        o = rw.worklist.pop()
        if o.parent is not None and is_trivially_dead(o):
            rw.erase(o)
    return folded


@register_pass
@dataclass(frozen=True)
class ConstantFold(ModulePass):
    """Evaluate ops whose operands are all constants (and ``sc.dim`` of static sizes) at compile time.

    Options:
        max-elements: the largest result (in elements) that is materialized as a constant.
    """

    name = "constant-fold"
    description = "Evaluate ops on constants at compile time with their reference semantics"
    max_elements: int = 1_000_000

    def apply(self, module) -> None:
        fold_constants(module, self.max_elements)
