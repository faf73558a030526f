"""LLVM through llvmlite: target machine, optimization pipeline, MCJIT, external symbols.

LLVM is initialized on the first compile, not on import.  External functions
the generated code calls are resolved here: libm (scalar math), glibc's libmvec
(SIMD math, ``_ZGV*`` variants) and BLAS, registered as ``symcomp_dgemm`` etc.:
the OpenBLAS that NumPy has already loaded when it exports the 64-bit-integer
(ILP64) interface (NumPy's wheels do, as ``scipy_dgemm_64_``...), otherwise
SciPy's ``scipy.linalg.cython_blas`` (32-bit integers), imported on first use
(:mod:`symcomp.backends.cpu.runtime.host` finds them without LLVM).
"""

from __future__ import annotations

import ctypes.util
import threading
from dataclasses import dataclass

from symcomp.backends.cpu.runtime import background, host

_lock = threading.Lock()
_state = {}


@dataclass(frozen=True)
class Target:
    """The host CPU as LLVM sees it.

    Attributes:
        cpu: LLVM CPU name (``znver5``).
        features: feature string (``+avx512f,...``).
        vector_bits: widest SIMD register used for explicit vector code (128, 256 or 512).
        has_libmvec: glibc's libmvec could be loaded.
    """

    cpu: str
    features: str
    vector_bits: int
    has_libmvec: bool


def _init():
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    has_mvec = load_library(llvm, "libmvec.so.1", "mvec")
    load_library(llvm, "libm.so.6", "m")
    cpu = llvm.get_host_cpu_name()
    feats = llvm.get_host_cpu_features()
    features = feats.flatten()
    if feats.get("avx512f"):
        bits = 512
    elif feats.get("avx2") and feats.get("fma"):
        bits = 256
    else:
        bits = 128
    target = Target(cpu, features, bits, has_mvec)
    from symcomp.backends.cpu.runtime import openmp

    omp = openmp.initialize(llvm)
    from symcomp.backends.cpu.runtime import interrupt

    llvm.add_symbol(interrupt.SYMBOL, interrupt.pointer_address())
    tm = _new_target_machine(llvm, cpu, features)
    # Read the data layout once: llvmlite's TargetData objects must not outlive their owner.
    _state.update(llvm=llvm, target=target, tm=tm, data_layout=str(tm.target_data), triple=llvm.get_process_triple(),
                  omp=omp)


# Machine-code generation level (llc -O<n>), chosen per module by its size.  Level 0 selects
# instructions with FastISel and allocates registers with the fast allocator: 5-7x less time
# than levels 1-3 (the digits MLP step: 38 ms against 170-300 ms), but it keeps loop variables
# in stack slots and spills vector registers around libmvec calls, which makes in-cache
# transcendental loops about 1.4x slower.  Modules up to SMALL_MODULE_LINES lines of LLVM IR
# (a fused expression, a reduction, a softmax: machine code in 20-80 ms at level 2) get level 2;
# larger ones (a training step) get level 0 first, then level 2 from a background thread
# (tiering.py; docs/performance.md has the measurements).
CODEGEN_LEVEL = 0
CODEGEN_LEVEL_SMALL = 2
SMALL_MODULE_LINES = 3000

RELOC = "pic"
"""Relocation model: position-independent code, so that the object links into a shared object
that a later process loads without LLVM (:mod:`symcomp.backends.cpu.cache.sharedlib`); MCJIT loads it too."""


def codegen_level(ir_lines: int) -> int:
    """The machine-code optimization level for a module of ``ir_lines`` lines of LLVM IR."""
    return CODEGEN_LEVEL_SMALL if ir_lines <= SMALL_MODULE_LINES else CODEGEN_LEVEL


def steady_level(ir_lines: int) -> int:
    """The level of the code a module of ``ir_lines`` lines runs once its first calls are over:
    :func:`codegen_level`, or the small-module level where tiered compilation replaces level-0
    code (``symcomp.config.tier_up``, :mod:`symcomp.backends.cpu.toolchain.tiering`)."""
    from symcomp.config import config

    return CODEGEN_LEVEL_SMALL if config.tier_up else codegen_level(ir_lines)


def _new_target_machine(llvm, cpu, features, opt=CODEGEN_LEVEL):
    return llvm.Target.from_default_triple().create_target_machine(
        cpu=cpu, features=features, opt=opt, reloc=RELOC, codemodel="jitdefault")


def is_initialized() -> bool:
    """Whether LLVM has been initialized in this process."""
    return bool(_state)


def load_library(llvm, soname: str, name: str) -> bool:
    """Make a shared library's symbols visible to JIT-compiled code: by its usual soname first
    (``ctypes.util.find_library`` runs ldconfig in a subprocess, 20-60 ms), then by search."""
    for candidate in (soname, None):
        path = candidate or ctypes.util.find_library(name)
        if not path:
            continue
        try:
            llvm.load_library_permanently(path)
            return True
        except RuntimeError:
            continue
    return False


_preloaded: list = []  # the handle of LLVM's library loaded by preload(), kept so it stays loaded


def preload() -> None:
    """Start loading LLVM's shared library (llvmlite's, about 100 MB) in a background thread
    (:mod:`symcomp.backends.cpu.runtime.background`), unless LLVM is initialized already.

    ``dlopen`` releases the GIL, so the 6-11 ms it takes overlap the passes; the import of
    ``llvmlite.binding`` in :func:`ensure_initialized` then finds the library loaded.  A failure
    here (no such file) is left for that import to report."""
    if not _state:
        background.start("llvm-preload", _load_llvm_library, name="symcomp-llvm-preload")


def _load_llvm_library() -> None:
    import os

    import llvmlite
    from llvmlite.utils import get_library_name

    try:  # the path llvmlite.binding loads it from
        _preloaded.append(ctypes.CDLL(os.path.join(os.path.dirname(llvmlite.__file__), "binding",
                                                    get_library_name())))
    except OSError:
        pass


def ensure_initialized():
    """Initialize LLVM and the external symbols once (thread-safe)."""
    if not _state:
        with _lock:
            if not _state:
                background.join("llvm-preload")
                _init()
    return _state


def add_symbols(symbols: dict) -> None:
    """Make ``{name: address}`` visible to code loaded by :class:`JitModule`."""
    llvm = ensure_initialized()["llvm"]
    for name, address in symbols.items():
        llvm.add_symbol(name, address)


def declared_functions(module_ref) -> list:
    """Names of the functions a module declares without defining them."""
    return [f.name for f in module_ref.functions if f.is_declaration]


def _register_blas() -> None:
    """Register the BLAS routines as ``symcomp_<routine>`` (once; the caller holds ``_lock``).

    Done only when a module calls BLAS: importing ``scipy.linalg`` costs 0.1-0.2 s.
    """
    if _lapack_wanted and "lapack" not in _state:
        for name, addr in host.lapack_symbols().items():
            _state["llvm"].add_symbol(name, addr)
        _state["lapack"] = True
    if "blas" in _state:
        return
    for name, addr in host.blas_symbols().items():
        _state["llvm"].add_symbol(name, addr)
    _state["blas"] = True


def want_lapack() -> None:
    """Code of this process calls LAPACK (:data:`host.LAPACK_ROUTINES`): the next module loaded
    with ``needs_blas`` registers its routines too (imports ``scipy.linalg`` then, not before)."""
    global _lapack_wanted
    _lapack_wanted = True


_lapack_wanted = False


def target() -> Target:
    return ensure_initialized()["target"]


def target_machine():
    return ensure_initialized()["tm"]


# The LLVM IR pipeline.  symcomp emits its loops already vectorized, with every size and
# stride loaded once per op function, so what LLVM must still do is promote the few stack
# cells (accumulators, status) to registers and clean up: SROA, instcombine, simplifycfg.
# That pipeline takes 15 ms on the digits MLP step where LLVM's default O1/O2/O3 pipelines
# take 290/370/620 ms, for the same run time (docs/performance.md has the table).
LEAN_PIPELINE = ("sroa", "instruction_combine", "simplify_cfg")
QUICK_PIPELINE = ("sroa", "simplify_cfg")
"""For level-0 machine code, the first tier of a large module: :data:`LEAN_PIPELINE` without
instcombine, which took 19.5 of its 22 ms on the digits MLP step.  The level-0 step ran as
fast without it (1.63-1.64 against 1.62-1.70 ms, medians of 300 calls) and its machine code took
2 ms longer, so the module reaches its first call 15-17 ms sooner; the level-2 tier that
replaces it is optimized with the lean pipeline.  Neither pipeline changes floating-point
results (no fast-math flags), so both tiers still compute the same bits."""


def ir_pipeline(codegen_level: int) -> str:
    """The :func:`optimize` level for a module whose machine code is made at ``codegen_level``."""
    return "quick" if codegen_level < CODEGEN_LEVEL_SMALL else "lean"


def optimize(module_ref, level: str = "lean", loop_vectorization: bool = False) -> None:
    """Optimize a parsed module in place.

    Args:
        module_ref: an llvmlite ``ModuleRef``.
        level: ``"lean"`` (the default: :data:`LEAN_PIPELINE`), ``"quick"``
            (:data:`QUICK_PIPELINE`) or ``"O1"``, ``"O2"``, ``"O3"``
            (LLVM's default module pipelines, with the loop vectorizer off since symcomp
            vectorizes explicitly).
        loop_vectorization: turn LLVM's loop vectorizer on (for code from other generators:
            the MLIR backend's scalar loops; use with level "O2"/"O3").

    Raises:
        ValueError: for an unknown level.

    The tuning options, pass builder and pass manager are created per module and
    released in reverse order (llvmlite objects must not outlive the ones they borrow from).
    """
    llvm = ensure_initialized()["llvm"]
    own = {"lean": LEAN_PIPELINE, "quick": QUICK_PIPELINE}
    if level not in own and level not in ("O1", "O2", "O3"):
        raise ValueError(f"optimize: unknown level {level!r} (expected 'lean', 'quick', 'O1', 'O2' or 'O3')")
    with _lock:
        pto = llvm.create_pipeline_tuning_options(speed_level=1 if level in own else int(level[1]))
        pto.loop_vectorization = loop_vectorization
        pto.slp_vectorization = level not in own
        pb = llvm.create_pass_builder(target_machine(), pto)
        if level in own:
            mpm = llvm.create_new_module_pass_manager()
            for name in own[level]:
                getattr(mpm, f"add_{name}_pass")()
        else:
            mpm = pb.getModulePassManager()
        mpm.run(module_ref, pb)
        mpm.close()
        pb.close()
        pto.close()


def parse(llvm_ir: str):
    """Parse and verify LLVM IR text.

    Raises:
        RuntimeError: with LLVM's message, if the IR is invalid (a symcomp bug).
    """
    st = ensure_initialized()
    mod = st["llvm"].parse_assembly(llvm_ir)
    mod.verify()
    mod.triple = st["triple"]
    mod.data_layout = st["data_layout"]
    return mod


def calls_blas(module_ref) -> bool:
    """Whether the module declares one of the ``symcomp_<blas routine>`` symbols (or a LAPACK
    routine's: both are registered by :func:`_register_blas`)."""
    names = {f"symcomp_{n}" for n in host.BLAS_ROUTINES + host.LAPACK_ROUTINES}
    return any(f.is_declaration and f.name in names for f in module_ref.functions)


def _machine(level: int):
    """The target machine generating code at ``level`` (call with ``_lock`` held)."""
    if level == CODEGEN_LEVEL:
        return target_machine()
    st = ensure_initialized()
    tms = st.setdefault("tm_by_level", {})
    if level not in tms:
        tms[level] = _new_target_machine(st["llvm"], st["target"].cpu, st["target"].features, level)
    return tms[level]


def emit_object(module_ref, level: int = CODEGEN_LEVEL) -> bytes:
    """Machine code of an optimized module at optimization ``level``, as an ELF relocatable
    object for the host CPU."""
    with _lock:
        return _machine(level).emit_object(module_ref)


class JitModule:
    """Object code loaded into memory (MCJIT's runtime linker), kept loaded while this object lives.

    Args:
        obj: an object file from :func:`emit_object` (possibly read back from the disk cache).
        needs_blas: the object calls BLAS (the ``symcomp_*`` symbols must be registered first).
    """

    def __init__(self, obj: bytes, needs_blas: bool):
        st = ensure_initialized()
        llvm, tgt = st["llvm"], st["target"]
        with _lock:
            if needs_blas:
                _register_blas()
            if "print" not in _state:  # sc.print's callback (a ctypes function of this process)
                from symcomp.backends.cpu.runtime import printing

                for name, addr in printing.symbols().items():
                    llvm.add_symbol(name, addr)
                _state["print"] = True
            # The engine takes ownership of its target machine: give it its own.
            tm = _new_target_machine(llvm, tgt.cpu, tgt.features)
            self.engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
            self.engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
            self.engine.finalize_object()
            self.engine.run_static_constructors()

    def address(self, name: str) -> int:
        """Address of a function in the loaded code.

        Raises:
            KeyError: if there is no such symbol.
        """
        addr = self.engine.get_function_address(name)
        if not addr:
            raise KeyError(f"symbol {name} not found in the compiled module")
        return addr

    def global_address(self, name: str) -> int:
        return self.engine.get_global_value_address(name)


def assembly(module_ref, level: int = CODEGEN_LEVEL) -> str:
    """Native assembly of a module at optimization ``level`` (for ``f.dump('asm')``)."""
    with _lock:
        return _machine(level).emit_assembly(module_ref)
