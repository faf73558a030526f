"""From an optimized module to machine code: preparation, LLVM emission, JIT.

Preparation makes the memory contract explicit before code generation:

* every output and every update result is produced into a fresh buffer that
  the runtime allocates per call (a value that is an argument, a constant, a
  view, or returned twice is copied with ``sc.copy``), so outputs never alias
  inputs, shared storage or each other;
* the values the planner must know (sizes given as values, slice bounds,
  arange bounds) are found, and a size that depends on tensor data is
  refused with NotImplementedError;
* the ``sc.inplace`` hints of the ``inplace`` pass are re-checked on the final
  program (:func:`symcomp.passes.inplace.validated_hints`), and every buffer's
  lifetime (its last read, through views and in-place successors) is computed
  so that the planner can reuse workspace regions (docs/memory.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from symcomp.backends.cpu.toolchain import machine
from symcomp.backends.cpu.lower import load_all, lookup
from symcomp.ir.locations import where
from symcomp.config import config
from symcomp.ir.core import Value
from symcomp.ir.opdef import View
from symcomp.ir.ops.elementwise import Copy
from symcomp.passes.inplace import buffer_source, validated_hints

if TYPE_CHECKING:
    from symcomp.backends.cpu.codegen.context import ModuleEmitter

# Operands whose *values* (not just shapes) the planner needs, per op.
VALUE_OPERANDS = {
    "sc.reshape": lambda op: op.operands[1:],
    "sc.broadcast_to": lambda op: op.operands[1:],
    "sc.subtensor": lambda op: op.operands[1:],
    "sc.inc_subtensor": lambda op: op.operands[2:],
    "sc.arange": lambda op: op.operands,
    "sc.random_permutation": lambda op: op.operands[2:],
}


@dataclass
class Compiled:
    """Everything the runtime needs from compilation.

    Attributes (memory planning):
        inplace: result -> operand whose buffer it takes over (validated hints).
        class_role: first value of an in-place chain -> the output/update role of
            the chain's last value (the whole chain then lives in that array).
        ends: value -> index in ``ops`` of the last op that needs its buffer.
    """

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
    inplace: dict = field(default_factory=dict)
    class_role: dict = field(default_factory=dict)
    ends: dict = field(default_factory=dict)
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
    needed = needed_values(ops)
    values = list(func.args) + [r for o in ops for r in o.results]
    n_out, n_upd = len(ret.operands), len(assigns)
    ws_root = n_params + n_out + n_upd
    consts = [o.result for o in ops if o.name == "sc.constant"]
    const_roots = {v: ws_root + 1 + i for i, v in enumerate(consts)}
    c = Compiled(func, ops, values, roles, needed, n_params, n_out, n_upd, ws_root, const_roots)
    c.inplace = validated_hints(list(func.body.ops))
    c.class_role = _class_roles(c.inplace, roles)
    c.ends = _buffer_ends(ops, ret, assigns, c.inplace)
    return c


def _chain_start(v: Value, inplace: dict) -> Value:
    while v in inplace and inplace[v].owner is not None:
        v = inplace[v]
    return v


def _class_roles(inplace: dict, roles: dict) -> dict:
    """First value of each in-place chain ending in an output/update -> that role."""
    out = {}
    for r in inplace:
        if r in roles and inplace[r].owner is not None:
            out[_chain_start(r, inplace)] = roles[r]
    return out


def _buffer_ends(ops, ret, assigns, inplace: dict) -> dict:
    """Value -> index of the last op reading its buffer (directly, through a view, or through a
    result that took the buffer over); ``len(ops)`` for values read by the return or an update."""
    ends: dict = {}

    def read(v, i):
        while v is not None:
            if ends.get(v, -1) < i:
                ends[v] = i
            src = buffer_source(v)
            v = inplace.get(v) if src is None else src

    for i, o in enumerate(ops):
        for r in o.results:
            read(r, i)
        if o.name != "sc.dim":
            for v in o.operands:
                read(v, i)
    for v in list(ret.operands) + [a.operands[1] for a in assigns]:
        read(v, len(ops))
    return ends


def needed_values(ops) -> set:
    """Values the planner evaluates (rank-0 integers feeding sizes), checked to be computable from shapes.

    Raises:
        NotImplementedError: for a size that depends on tensor data, naming the op that needs it.
    """
    needed: set = set()
    stack = [(v, o) for o in ops if o.name in VALUE_OPERANDS for v in VALUE_OPERANDS[o.name](o)]
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


def calls_blas(ops) -> bool:
    """Whether the function calls BLAS (float matrix products)."""
    return any(o.name in ("sc.dot", "sc.gemm") and o.results[0].type.dtype.is_float for o in ops)


def blas_mode(ops) -> str:
    """How the function calls BLAS: ``"none"``, ``"team"`` or ``"shared"`` (part of the cache key).

    ``"team"``: each product is split across symcomp's thread team, every thread calling a private
    single-threaded OpenBLAS (:mod:`symcomp.backends.cpu.runtime.teamblas`), and the loops are threaded
    too.  ``"shared"`` (no private copy, or no OpenMP runtime): one call of a multithreaded BLAS
    per product, and the loops run on the calling thread, because after each call OpenBLAS's
    workers busy-wait for more work and a team of ours would fight them for the cores (2 cores:
    the digits MLP step 3.5 ms with threaded loops against 2.1 ms without).
    """
    if not calls_blas(ops):
        return "none"
    from symcomp.backends.cpu.runtime import teamblas

    return "team" if teamblas.available() else "shared"


def codegen(c: Compiled, name: str, embed_constants: bool = True) -> ModuleEmitter:
    """Emit the LLVM module: one private function per op, and the entry.

    Constants are read through ``ptrs`` like any buffer.  ``embed_constants`` also writes their
    data into the module as globals ``const<i>`` (for the dumped IR and ahead-of-time objects);
    JIT-compiled code leaves them out, because LLVM keeps every constant's data in its
    process-wide context for good: the runtime passes NumPy-owned copies by address instead.
    """
    from symcomp.backends.cpu.codegen.context import ModuleEmitter  # the IR builder: not needed on a cache hit

    load_all()
    ids = {v: i for i, v in enumerate(c.values)}
    blas = blas_mode(c.ops)
    mod = ModuleEmitter(name, ids, threads=blas != "shared", team_blas=blas == "team")
    for i, op in enumerate(c.ops):
        low = lookup(op)
        if op.name == "sc.constant" and embed_constants:
            mod.add_constant(op.attributes["value"])
        if low.emits_code:
            mod.emit_op(i, op, low.emit)
    c.symbol = f"symcomp_{name}"
    mod.finish_entry(c.symbol)
    c.slot_keys = list(mod.slots.keys)
    return mod


def llvm_ir(c: Compiled, name: str, embed_constants: bool = True) -> str:
    """The text of :func:`codegen`'s module; the module itself is taken apart once printed, so
    that reference counting frees it (:meth:`~symcomp.backends.cpu.codegen.context.ModuleEmitter.release`)."""
    emitter = codegen(c, name, embed_constants)
    text = str(emitter.module)
    emitter.release()
    return text


class LLVMStages:
    """The LLVM IR, optimized LLVM IR and assembly of a compiled function, made on first request
    (after a cache hit nothing was generated)."""

    def __init__(self, c: Compiled, name: str):
        self.c, self.name = c, name
        self._ref = None

    def _module(self):
        if self._ref is None:
            if not self.c.llvm_ir:
                self.c.llvm_ir = llvm_ir(self.c, self.name)
            self._ref = machine.parse(self.c.llvm_ir)
            machine.optimize(self._ref)
        return self._ref

    def llvm(self) -> str:
        self._module()
        return self.c.llvm_ir

    def optimized(self) -> str:
        return str(self._module())

    def asm(self) -> str:
        """The assembly of the machine code that runs once the first calls are over (the level of
        :func:`jit.steady_level`: a large module runs level-2 code after tiered compilation)."""
        ref = self._module()
        return machine.assembly(ref, machine.steady_level(self.c.llvm_ir.count("\n")))


def _init_llvm(timings: dict) -> None:
    """Initialize LLVM if this process has not yet, timing it."""
    if not machine.is_initialized():
        t0 = time.perf_counter()
        machine.ensure_initialized()
        timings["llvm_init"] = time.perf_counter() - t0


def compile_to_machine_code(module, sig, timings: dict, name: str = "main"):
    """Prepare; take the machine code from the disk cache, or emit, optimize and compile it; load it.

    A cache hit loads the entry's shared object (:mod:`symcomp.backends.cpu.cache.sharedlib`) and never
    initializes LLVM; without one (no linker, damaged, not loadable) it loads the object with MCJIT.

    Returns:
        (Compiled, JitModule or SharedModule, LLVMStages, tier_up): ``tier_up`` is None, or,
        for level-0 code (just compiled or from the cache), ``tier_up(install)`` starts its
        level-2 compilation in the background (:mod:`symcomp.backends.cpu.toolchain.tiering`).
    """
    from symcomp.backends.cpu.cache import objects, sharedlib

    t0 = time.perf_counter()
    load_all()  # the planner needs the lowerings, even when the code comes from the cache
    c = prepare(module, sig)
    c.symbol = f"symcomp_{name}"
    stages = LLVMStages(c, name)
    timings["prepare"] = time.perf_counter() - t0
    tb = time.perf_counter()
    blas = blas_mode(c.ops)  # loads the BLAS (teamblas: the first process may copy 25 MB)
    if blas != "none":
        timings["blas_load"] = time.perf_counter() - tb
    # The canonical IR and how it calls BLAS: the cache key (unused when the cache is off).
    ir_text = f"{module}\n// blas: {blas}" if objects.enabled() else ""

    def build(key) -> objects.Entry:
        _init_llvm(timings)
        t1 = time.perf_counter()
        text = llvm_ir(c, name, embed_constants=False)
        t2 = time.perf_counter()
        level = machine.codegen_level(text.count("\n"))
        ref = machine.parse(text)
        machine.optimize(ref, machine.ir_pipeline(level))
        t3 = time.perf_counter()
        obj = machine.emit_object(ref, level)
        t4 = time.perf_counter()
        timings.update({"codegen": t2 - t1, "llvm_opt": t3 - t2, "machine_code": t4 - t3})
        meta = {"slot_keys": c.slot_keys, "needs_blas": machine.calls_blas(ref), "level": level}
        built["text"] = text
        if key is not None:
            built["declared"] = machine.declared_functions(ref)
        return objects.Entry(obj, meta)

    built: dict = {}
    t1 = time.perf_counter()
    key = objects.key_for(ir_text) if objects.enabled() else None
    if key is not None:
        sharedlib.wait_for_link(key)  # compiled before in this process: read the entry once it has its .so
    entry, hit = objects.get_or_build(ir_text, build, key)
    if "declared" in built:  # a new entry: its shared object, for later processes, is linked meanwhile
        sharedlib.link_later(key, entry, built["declared"])
    engine = None
    if hit:
        c.slot_keys = [tuple(k) for k in entry.meta["slot_keys"]]
        timings["cache_load"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        engine = sharedlib.load(key, entry.meta)
        if engine is not None:
            timings["load_shared"] = time.perf_counter() - t2
    if engine is None:
        _init_llvm(timings)
        t2 = time.perf_counter()
        engine = machine.JitModule(entry.obj, entry.meta["needs_blas"])
        timings["load"] = time.perf_counter() - t2
    if not config.tier_up or entry.meta.get("level", machine.CODEGEN_LEVEL_SMALL) >= machine.CODEGEN_LEVEL_SMALL:
        return c, engine, stages, None
    from symcomp.backends.cpu.toolchain import tiering

    # A cache hit may hold level-0 code too (its first process ended before the upgrade): the
    # LLVM IR is then generated again, in the background thread.
    text = built.get("text")

    def source() -> str:
        return text if text is not None else llvm_ir(c, name, embed_constants=False)

    def tier_up(install):
        return tiering.start(source, entry.meta["needs_blas"], key, entry.meta, install)
    return c, engine, stages, tier_up
