"""In-place marking: let an elementwise result overwrite the buffer of an operand that is dead.

The pass attaches the discardable attribute ``sc.inplace = k`` to an
elementwise op (or an ``sc.fused`` op without reduction, or an ``sc.gemm``
for its addend ``c``, which BLAS accumulates into) whose result may be
written into the memory of operand ``k``.  The CPU backend honours the hint
(re-checking it on the final program, after it inserted its own copies), so
a chain of elementwise ops reuses one buffer, and a shared-variable update
``W <- W - lr * g`` is computed straight into W's storage.

Operand ``k`` (value ``v``) of op ``o`` at position ``i`` qualifies when:

* ``v`` has exactly ``o``'s result type (same dtype, same static shape: never
  broadcast, since a dynamic size never stretches);
* ``v`` owns a fresh buffer: it is computed by an op that allocates (not a
  view, not a reshape, not a constant, not a function argument: a user's
  input array is never written);
* nothing reads ``v``, or any view of ``v``, after ``o`` (``sc.dim`` reads only
  the shape); ``func.return`` and ``sc.assign`` read at the end;
* no other operand of ``o`` is a view of ``v`` (a transposed view would be read
  after the loop overwrote it), and for ``sc.gemm`` neither ``a`` nor ``b`` is ``v``
  itself (``beta * c`` is written before the product reads them).

The one exception to "not a function argument" is the update target: ``v`` is
a shared variable W, ``o``'s result is used only by ``sc.assign W``, nothing
reads W (or a view of W) after ``o``, and no op after ``o`` can fail at run
time (an index out of range), so that an error never leaves W half-updated:
every update still sees the values from before the call, and updates stay
atomic.  Whether W's array can really be written (C-contiguous, writeable,
not sharing memory with another argument) is checked per call by the runtime.

The pass must run after the passes that restructure the program (only
``dce`` may follow); docs/memory.md has the whole memory contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from symcomp.ir.core import BlockArgument, Operation, Value
from symcomp.ir.opdef import Elementwise, View
from symcomp.passes.manager import ModulePass, register_pass

INPLACE_ATTR = "sc.inplace"
_NON_ALLOCATING = ("sc.reshape", "sc.constant")


def buffer_source(v: Value) -> Optional[Value]:
    """The value whose memory ``v`` may alias (operand 0 of a view or a reshape), else None."""
    o = v.owner
    if o is not None and (View in o.traits or o.name == "sc.reshape"):
        return o.operands[0]
    return None


def buffer_root(v: Value) -> Value:
    """The value owning the memory ``v`` may alias (``v`` itself when it is no view)."""
    while True:
        s = buffer_source(v)
        if s is None:
            return v
        v = s


def allocates(v: Value) -> bool:
    """True if ``v`` is computed into a fresh buffer of its own."""
    o = v.owner
    return o is not None and View not in o.traits and o.name not in _NON_ALLOCATING


def may_fail(op: Operation) -> bool:
    """True if the compiled op can report an error at run time (an index out of range, an
    integer to a negative power); shape errors are raised before any code runs."""
    if op.name in ("sc.advanced_subtensor", "sc.advanced_inc_subtensor"):
        return True
    if op.name == "sc.pow":
        return op.result.type.dtype.kind == "i"
    if op.name == "sc.fused":
        return any(may_fail(o) for o in op.body.ops if o.name == "sc.pow")
    return False


def is_shared_param(v: Value) -> bool:
    return isinstance(v, BlockArgument) and "sc.shared" in v.attributes


def _candidate(op: Operation) -> bool:
    if op.name == "sc.fused":
        return not op.reduce
    if op.name == "sc.gemm":  # BLAS accumulates into its addend: W <- W - lr * x^T @ g in W's storage
        return True
    return Elementwise in op.traits and len(op.results) == 1


class Liveness:
    """Where each value's data is last read in one function body.

    Args:
        ops: the body's ops in program order (terminator and updates included).

    Attributes:
        pos: op -> position.
        last_read: value -> last position reading its data, the value itself or
            any view of it (``sc.dim`` and the target of ``sc.assign`` do not read data).
        last_fail: the last position of an op that may fail at run time (-1 if none).
    """

    def __init__(self, ops: Sequence[Operation]):
        self.ops = list(ops)
        self.pos = {o: i for i, o in enumerate(self.ops)}
        self.last_read: dict[Value, int] = {}
        self.last_fail = -1
        for i, o in enumerate(self.ops):
            if may_fail(o):
                self.last_fail = i
            if o.name == "sc.dim":
                continue
            for k, v in enumerate(o.operands):
                if not (o.name == "sc.assign" and k == 0):
                    self._read(v, i)

    def _read(self, v: Value, i: int) -> None:
        while v is not None:
            if self.last_read.get(v, -1) < i:
                self.last_read[v] = i
            v = buffer_source(v)

    def reads_after(self, v: Value, i: int) -> bool:
        return self.last_read.get(v, -1) > i


def inplace_ok(op: Operation, k: int, live: Liveness) -> bool:
    """True if ``op``'s result may be written into the buffer of its operand ``k`` (rules above)."""
    if not _candidate(op) or k >= len(op.operands) or (op.name == "sc.gemm" and k != 2):
        return False
    v, r = op.operands[k], op.result
    i = live.pos.get(op)
    if i is None or v.type != r.type or live.reads_after(v, i):
        return False
    if any(u is not v and buffer_root(u) is v for u in op.operands):
        return False
    if op.name == "sc.gemm" and any(buffer_root(u) is v for u in op.operands[:2]):
        return False  # gemm writes beta * c first, then reads a and b: c must not be one of them
    if allocates(v):
        return True
    if not is_shared_param(v):
        return False
    uses = r.uses
    if len(uses) != 1 or uses[0][0].name != "sc.assign" or uses[0][0].operands[0] is not v:
        return False
    return live.last_fail < i


def choose_inplace(op: Operation, live: Liveness) -> Optional[int]:
    """The operand index ``op`` may overwrite, or None.

    The updated shared variable is preferred (it saves allocating the update
    array at every call), then the first dead temporary.
    """
    order = sorted(range(len(op.operands)), key=lambda k: not is_shared_param(op.operands[k]))
    for k in order:
        if inplace_ok(op, k, live):
            return k
    return None


def mark_inplace(module: Operation) -> int:
    """Set (or clear) ``sc.inplace`` on every op of ``module``'s functions; returns how many were set."""
    marked = 0
    for f in module.walk():
        if f.name != "func.func":
            continue
        live = Liveness(list(f.body.ops))
        for op in live.ops:
            op.attributes.pop(INPLACE_ATTR, None)
            k = choose_inplace(op, live) if _candidate(op) else None
            if k is not None:
                op.attributes[INPLACE_ATTR] = k
                marked += 1
    return marked


def validated_hints(ops: Sequence[Operation]) -> dict[Value, Value]:
    """The ``sc.inplace`` hints of ``ops`` (a function body, in order) that still hold: result -> operand."""
    live = Liveness(ops)
    out = {}
    for op in live.ops:
        k = op.attributes.get(INPLACE_ATTR)
        if isinstance(k, int) and inplace_ok(op, k, live):
            out[op.result] = op.operands[k]
    return out


@register_pass
@dataclass(frozen=True)
class Inplace(ModulePass):
    """Mark elementwise results that may overwrite a dead operand's buffer (``sc.inplace = k``)."""

    name = "inplace"
    description = "Mark elementwise ops whose result may overwrite a dead operand (or the updated shared variable)"

    def apply(self, module) -> None:
        mark_inplace(module)
