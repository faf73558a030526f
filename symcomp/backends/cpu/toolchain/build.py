"""From a prepared module to machine code: LLVM emission, LLVM's passes, JIT, the disk cache.

The module arrives prepared (:func:`symcomp.backends.prepare.prepare`: the memory contract made
explicit); :func:`compile_to_machine_code` emits one LLVM module for it (an entry function and
one function per op, :mod:`symcomp.backends.cpu.lower`), optimizes and JIT-compiles it
(:mod:`.machine`), or reads the machine code back from the disk cache
(:mod:`symcomp.backends.cpu.cache`).
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from symcomp.backends.cpu.lower import load_all, lookup
from symcomp.backends.cpu.lower.lapack import LAPACK_OPS
from symcomp.backends.cpu.toolchain import machine
from symcomp.backends.prepare import Compiled, prepare
from symcomp.config import config

if TYPE_CHECKING:
    from symcomp.backends.cpu.codegen.context import ModuleEmitter

def calls_blas(ops) -> bool:
    """Whether the function calls BLAS (float matrix products, convolutions)."""
    return any(o.name in _BLAS_OPS and o.results[0].type.dtype.is_float for o in ops)


_BLAS_OPS = ("sc.dot", "sc.gemm", "sc.conv2d", "sc.conv2d_grad_input", "sc.conv2d_grad_filters")


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


_LLVM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}\Z")


def symbol_name(name: str) -> str:
    """The name a function's LLVM symbols (``symcomp_<name>``, the module) are made from: ``name``
    itself when it is a short ASCII identifier, else its ASCII letters, digits and underscores
    (others become ``_``) and 12 hex digits of the SHA-256 of the whole name.  ``Function.name``
    keeps the name as given: ``name='função'`` failed in llvmlite (UnicodeEncodeError), and a NUL
    cut the symbol short (``KeyError``)."""
    if _LLVM_NAME.match(name):
        return name
    import hashlib

    stem = re.sub(r"[^A-Za-z0-9_]", "_", name)[:48]
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{stem}_{digest}" if stem[:1].isalpha() else f"_{stem}_{digest}"


def codegen(c: Compiled, name: str, embed_constants: bool = True) -> ModuleEmitter:
    """Emit the LLVM module: one private function per op, and the entry.

    Constants are read through ``ptrs`` like any buffer.  ``embed_constants`` also writes their
    data into the module as globals ``const<i>`` (for the dumped IR and ahead-of-time objects);
    JIT-compiled code leaves them out, because LLVM keeps every constant's data in its
    process-wide context for good: the runtime passes NumPy-owned copies by address instead.
    """
    from symcomp.backends.cpu.codegen.context import ModuleEmitter  # the IR builder: not needed on a cache hit

    load_all()
    name = symbol_name(name)
    ids = {v: i for i, v in enumerate(c.values)}
    blas = blas_mode(c.ops)
    mod = ModuleEmitter(name, ids, threads=blas != "shared", team_blas=blas == "team")
    mod.compiled = c
    for i, op in enumerate(c.ops):
        low = lookup(op)
        if op.name == "sc.constant" and embed_constants:
            mod.add_constant(op.attributes["value"])
        if low.emits_code:
            mod.emit_op(i, op, low.emit, nested=op in c.nested)
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
    name = symbol_name(name)
    load_all()  # the planner needs the lowerings, even when the code comes from the cache
    c = prepare(module, sig)
    c.symbol = f"symcomp_{name}"
    stages = LLVMStages(c, name)
    timings["prepare"] = time.perf_counter() - t0
    tb = time.perf_counter()
    blas = blas_mode(c.ops)  # loads the BLAS (teamblas: the first process may copy 25 MB)
    if any(o.name in LAPACK_OPS for o in c.ops):
        machine.want_lapack()
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
