"""Rewrite patterns and the greedy driver that applies them to a fixed point.

A pattern is a small named function ``(op, rw) -> None`` registered for the
root op classes it matches; its docstring is the rule (``x * 1 -> x``).  It
changes the IR only through the :class:`Rewriter`, which may be handed
*detached* expressions built with the front-end API::

    @canonicalize.pattern(Log)
    def log_of_one_plus(op, rw):
        \"\"\"log(1 + x) -> log1p(x)\"\"\"
        ...
        rw.replace(op, T.log1p(x))

The rewriter inserts the new operations before the root, redirects uses,
erases the root and queues everything touched.  :func:`apply_greedily` runs a
worklist to a fixed point (MLIR's GreedyPatternRewriteDriver, xDSL's
PatternRewriteWalker, PyTensor's EquilibriumGraphRewriter).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, Optional, Sequence, Union

from symcomp.ir.core import Operation, Value
from symcomp.ir.opdef import Pure, SideEffect, Terminator

PatternFn = Callable[[Operation, "Rewriter"], None]


class PatternSet:
    """Patterns indexed by root op name; sets compose with ``+``."""

    def __init__(self, name: str, by_root: Optional[dict] = None):
        self.name = name
        self.by_root: dict[str, list[PatternFn]] = defaultdict(list, {k: list(v) for k, v in (by_root or {}).items()})

    def pattern(self, *roots):
        """Decorator registering a pattern for op classes (or op names) ``roots``."""

        def deco(fn: PatternFn) -> PatternFn:
            for r in roots:
                self.by_root[r if isinstance(r, str) else r.name].append(fn)
            return fn

        return deco

    def for_op(self, op: Operation) -> list[PatternFn]:
        return self.by_root.get(op.name, []) + self.by_root.get("*", [])

    def __add__(self, other: "PatternSet") -> "PatternSet":
        merged = PatternSet(f"{self.name}+{other.name}", self.by_root)
        for k, fns in other.by_root.items():
            merged.by_root[k].extend(fns)
        return merged

    def __len__(self) -> int:
        return sum(len(v) for v in self.by_root.values())


def materialize(values: Sequence[Value], before: Operation) -> list[Operation]:
    """Insert the detached ops that ``values`` depend on before ``before`` (topologically).

    The new ops take ``before``'s location: errors they raise at run time
    point at the user's line that built the expression they replace.
    """
    order: list[Operation] = []
    seen: set = set()
    stack = [(v.owner, False) for v in values if v.owner is not None and v.owner.parent is None]
    while stack:
        op, expanded = stack.pop()
        if expanded:
            if op not in seen:
                seen.add(op)
                order.append(op)
            continue
        if op in seen:
            continue
        stack.append((op, True))
        for v in op.operands:
            o = v.owner
            if o is not None and o.parent is None and o not in seen:
                stack.append((o, False))
    block = before.parent
    for op in order:
        op.loc = before.loc  # a rewrite's ops come from the op they replace
        block.insert_before(op, before)
    return order


class Rewriter:
    """The only way patterns mutate IR; records what changed for the driver."""

    def __init__(self, worklist: Optional[list] = None):
        self.changed = False
        self.worklist = worklist if worklist is not None else []
        self.failure: Optional[str] = None

    def _touch(self, ops: Iterable[Operation]) -> None:
        self.worklist.extend(ops)

    def insert(self, values: Union[Value, Sequence[Value]], before: Operation) -> None:
        """Insert the detached expression(s) computing ``values`` before ``before``."""
        vals = [values] if isinstance(values, Value) else list(values)
        self._touch(materialize(vals, before))
        self.changed = True

    def replace(self, op: Operation, new: Union[Value, Sequence[Value]]) -> bool:
        """Replace ``op``'s results by ``new`` (attached values or detached expressions) and erase ``op``.

        Returns False (changing nothing) if a replacement's type differs from the result's.
        """
        vals = [new] if isinstance(new, Value) else list(new)
        if len(vals) != len(op.results):
            raise ValueError(f"replace {op.name}: {len(vals)} values for {len(op.results)} results")
        for old, v in zip(op.results, vals):
            if old.type != v.type:
                self.failure = f"{op.name}: replacement type {v.type} differs from {old.type}"
                return False
        self._touch(materialize(vals, op))
        for old, v in zip(op.results, vals):
            self._touch(u for u, _ in old.uses)
            old.replace_all_uses_with(v)
        self._erase(op)
        self.changed = True
        return True

    def erase(self, op: Operation) -> None:
        """Erase an op whose results are unused."""
        self._erase(op)
        self.changed = True

    def _erase(self, op: Operation) -> None:
        operands = [v.owner for v in op.operands if v.owner is not None]
        op.erase()
        self._touch(operands)

    def grad_invariant(self, values: Sequence[Value]) -> None:
        """Declare values a pattern's replacement does not depend on in exact arithmetic (the shift
        ``m`` of the log-sum-exp trick).  A no-op when rewriting IR; when ``grad`` differentiates a
        stable form (:func:`symcomp.passes.stabilize.stable_form`) they are held constant."""

    def notify_failure(self, message: str) -> None:
        """Record why a pattern did not apply (shown in pattern statistics)."""
        self.failure = message


class RewriteError(RuntimeError):
    """A rewrite pattern raised: a bug in the pattern, reported with the pattern and the op."""


def is_trivially_dead(op: Operation) -> bool:
    """A pure op (not a terminator, no side effects) whose results are all unused."""
    return (Pure in op.traits and Terminator not in op.traits and SideEffect not in op.traits
            and all(not r.uses for r in op.results))


def all_ops(module: Operation) -> list[Operation]:
    """The ops of every function body of ``module``, in order.

    The bodies of loops and branches (``sc.scan``, ``sc.if``) are tensor programs and are
    included; the scalar body of ``sc.fused`` is not: a fused body may only hold rank-0
    elementwise ops, which most replacements are not.
    """
    return [op for block in tensor_blocks(module) for op in block.ops]


def tensor_blocks(module: Operation) -> list:
    """The blocks of ``module`` that hold tensor programs: every function body, and the regions
    of the ops with regions of tensor ops (``sc.scan``, ``sc.if``), nested ones included; not
    the scalar bodies of ``sc.fused``."""
    from symcomp.ir.ops.control import ControlFlow

    out = []

    def visit(block):
        out.append(block)
        for o in block.ops:
            if isinstance(o, ControlFlow):
                for region in o.regions:
                    visit(region.block)

    for f in module.walk():
        if f.name == "func.func":
            visit(f.body)
    return out


def apply_greedily(module: Operation, patterns: PatternSet, max_iters: int = 10, stats: Optional[dict] = None) -> bool:
    """Apply ``patterns`` until nothing changes (or ``max_iters`` sweeps); erase dead pure ops.

    Each sweep visits every op of every function (last to first, so a
    pattern sees its operands before its users change them) and re-visits the
    ops a rewrite touched, until the worklist is empty (MLIR's greedy driver).

    Args:
        stats: if given, counts applications per pattern name.

    Returns:
        True if the IR changed.

    Raises:
        RewriteError: if a pattern raises, naming the pattern and the op, or if
            the patterns keep rewriting (a set of rules that undo each other).
    """
    changed_any = False
    for _ in range(max_iters):
        worklist = all_ops(module)
        budget = 50 * len(worklist) + 1000  # rewrites per sweep before declaring non-convergence
        rw = Rewriter(worklist)
        changed = False
        while worklist:
            op = worklist.pop()
            if op.parent is None:
                continue
            if is_trivially_dead(op):
                rw.erase(op)
                changed = True
                continue
            for fn in patterns.for_op(op):
                rw.changed = False
                try:
                    fn(op, rw)
                except Exception as exc:
                    where = f" created at {op.loc}" if op.loc else ""
                    raise RewriteError(f"pattern {fn.__name__} failed on {op.name}{where}: "
                                       f"{type(exc).__name__}: {exc}") from exc
                if rw.changed:
                    changed = True
                    if stats is not None:
                        stats[fn.__name__] = stats.get(fn.__name__, 0) + 1
                    budget -= 1
                    if budget < 0:
                        raise RewriteError(f"patterns of {patterns.name} do not converge: pattern {fn.__name__} "
                                           f"keeps rewriting (last on {op.name})")
                    break
        changed_any |= changed
        if not changed:
            break
    return changed_any
