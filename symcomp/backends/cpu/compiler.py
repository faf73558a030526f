"""From an optimized module to machine code: preparation, LLVM emission, JIT.

Preparation makes the memory contract explicit before code generation:

* every output and every update result is produced into a fresh buffer that
  the runtime allocates per call (a value that is an argument, a constant, a
  view, or returned twice is copied with ``sc.copy``), so outputs never alias
  inputs, shared storage or each other;
* the values the planner must know (sizes given as values, slice bounds,
  arange bounds) are found, and a size that depends on tensor data is
  refused with NotImplementedError.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from symcomp.backends.cpu import jit
from symcomp.backends.cpu.emit import ModuleEmitter
from symcomp.backends.cpu.lower import load_all, lookup
from symcomp.compile.errors import where
from symcomp.ir.core import Value
from symcomp.ir.opdef import View
from symcomp.ir.ops.elementwise import Copy

# Operands whose *values* (not just shapes) the planner needs, per op.
_VALUE_OPERANDS = {
    "sc.reshape": lambda op: op.operands[1:],
    "sc.broadcast_to": lambda op: op.operands[1:],
    "sc.subtensor": lambda op: op.operands[1:],
    "sc.inc_subtensor": lambda op: op.operands[2:],
    "sc.arange": lambda op: op.operands,
}


@dataclass
class Compiled:
    """Everything the runtime needs from compilation."""

    func: object
    ops: list
    values: list
    roles: dict
    needed: set
    n_params: int
    n_outputs: int
    n_updates: int
    ws_root: int
    const_roots: dict
    slot_keys: list = field(default_factory=list)
    llvm_ir: str = ""
    symbol: str = ""


def _fresh_buffer_op(v: Value, seen: set) -> bool:
    o = v.owner
    if o is None or v in seen:
        return False
    if View in o.traits or o.name in ("sc.reshape", "sc.constant"):
        return False
    return True


def prepare(module, sig) -> Compiled:
    """Insert the copies the memory contract needs and collect the planner's facts."""
    func = module.func()
    ret = func.return_op
    assigns = [o for o in func.body.ops if o.name == "sc.assign"]
    seen: set = set()
    n_params = len(func.args)
    roles = {}

    def fresh(value, before):
        if _fresh_buffer_op(value, seen):
            return value
        c = Copy([value], [value.type], {}, loc=value.owner.loc if value.owner is not None else before.loc)
        func.body.insert_before(c, before)
        return c.result

    for j, v in enumerate(list(ret.operands)):
        nv = fresh(v, ret)
        if nv is not v:
            ret.set_operand(j, nv)
        seen.add(nv)
        roles[nv] = n_params + j
    for u, a in enumerate(assigns):
        v = a.operands[1]
        nv = fresh(v, a)
        if nv is not v:
            a.set_operand(1, nv)
        seen.add(nv)
        roles[nv] = n_params + len(ret.operands) + u

    ops = [o for o in func.body.ops if o.name not in ("func.return", "sc.assign")]
    needed = _needed_values(ops)
    values = list(func.args) + [r for o in ops for r in o.results]
    n_out, n_upd = len(ret.operands), len(assigns)
    ws_root = n_params + n_out + n_upd
    consts = [o.result for o in ops if o.name == "sc.constant"]
    const_roots = {v: ws_root + 1 + i for i, v in enumerate(consts)}
    return Compiled(func, ops, values, roles, needed, n_params, n_out, n_upd, ws_root, const_roots)


def _needed_values(ops) -> set:
    """Values the planner evaluates (rank-0 integers feeding sizes), checked to be computable from shapes.

    Raises:
        NotImplementedError: for a size that depends on tensor data, naming the op that needs it.
    """
    needed: set = set()
    stack = [(v, o) for o in ops if o.name in _VALUE_OPERANDS for v in _VALUE_OPERANDS[o.name](o)]
    while stack:
        v, user = stack.pop()
        if v in needed:
            continue
        needed.add(v)
        o = v.owner
        by = f" (needed by {where(user)})"
        if o is None:
            if v.type.ndim:
                raise NotImplementedError(
                    f"a size or index depends on the data of array argument {v.name or '?'}{by}; "
                    "symcomp needs sizes computable from shapes and scalar arguments")
            continue
        if o.name == "sc.dim":
            continue
        if v.type.ndim and o.name != "sc.constant":
            raise NotImplementedError(
                f"a size or index depends on tensor data computed by {where(o)}{by}; "
                "data-dependent shapes are not supported")
        stack.extend((w, user) for w in o.operands)
    return needed


def codegen(c: Compiled, name: str) -> ModuleEmitter:
    """Emit the LLVM module: one private function per op, and the entry."""
    load_all()
    ids = {v: i for i, v in enumerate(c.values)}
    mod = ModuleEmitter(name, ids)
    for i, op in enumerate(c.ops):
        low = lookup(op)
        if op.name == "sc.constant":
            mod.add_constant(op.attributes["value"])
        if not low.emits_code:
            continue
        E = mod.new_op_function(i, op)
        low.emit(op, E)
        E.finish()
    c.symbol = f"symcomp_{name}"
    mod.finish_entry(c.symbol)
    c.slot_keys = list(mod.slots.keys)
    return mod


def compile_to_machine_code(module, sig, timings: dict, name: str = "main"):
    """Prepare, emit, optimize and JIT; returns (Compiled, JitModule, optimized module ref)."""
    t0 = time.perf_counter()
    c = prepare(module, sig)
    mod = codegen(c, name)
    c.llvm_ir = str(mod.module)
    t1 = time.perf_counter()
    ref = jit.parse(c.llvm_ir)
    jit.optimize(ref)
    t2 = time.perf_counter()
    engine = jit.JitModule(ref)
    t3 = time.perf_counter()
    timings.update({"codegen": t1 - t0, "llvm_opt": t2 - t1, "llvm_jit": t3 - t2})
    return c, engine, ref
