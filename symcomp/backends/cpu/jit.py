"""LLVM through llvmlite: target machine, optimization pipeline, MCJIT, external symbols.

LLVM is initialized on the first compile, not on import.  External functions
the generated code calls are resolved here: libm (scalar math), glibc's libmvec
(SIMD math, ``_ZGV*`` variants) and BLAS from SciPy's bundled OpenBLAS
(``scipy.linalg.cython_blas`` function pointers, registered as
``symcomp_dgemm`` etc.).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass

_lock = threading.Lock()
_state = {}

BLAS_ROUTINES = ("dgemm", "sgemm", "dgemv", "sgemv", "ddot", "sdot")


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


def _capsule_pointer(capsule) -> int:
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype, get_ptr.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return get_ptr(capsule, get_name(capsule))


def _init():
    import llvmlite.binding as llvm

    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    has_mvec = True
    try:
        llvm.load_library_permanently(ctypes.util.find_library("mvec") or "libmvec.so.1")
    except RuntimeError:
        has_mvec = False
    libm = ctypes.util.find_library("m") or "libm.so.6"
    llvm.load_library_permanently(libm)
    from scipy.linalg import cython_blas

    for name in BLAS_ROUTINES:
        llvm.add_symbol(f"symcomp_{name}", _capsule_pointer(cython_blas.__pyx_capi__[name]))
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
    tm = _new_target_machine(llvm, cpu, features)
    # Read the data layout once: llvmlite's TargetData objects must not outlive their owner.
    _state.update(llvm=llvm, target=target, tm=tm, data_layout=str(tm.target_data), triple=llvm.get_process_triple())


def _new_target_machine(llvm, cpu, features):
    return llvm.Target.from_default_triple().create_target_machine(
        cpu=cpu, features=features, opt=3, reloc="default", codemodel="jitdefault")


def ensure_initialized():
    """Initialize LLVM and the external symbols once (thread-safe)."""
    if not _state:
        with _lock:
            if not _state:
                _init()
    return _state


def target() -> Target:
    return ensure_initialized()["target"]


def target_machine():
    return ensure_initialized()["tm"]


def optimize(module_ref, speed_level: int = 2, loop_vectorization: bool = False) -> None:
    """Run LLVM's default O<speed_level> module pipeline on a parsed module.

    Loops are vectorized explicitly by symcomp's code generator, so LLVM's
    loop vectorizer is off by default (it would only duplicate them, at a
    compile-time cost); code from other generators (the MLIR backend's scalar
    loops) turns it on with ``loop_vectorization=True``.  The tuning options,
    pass builder and pass manager are created per module and released in
    reverse order (llvmlite objects must not outlive the ones they borrow from).
    """
    llvm = ensure_initialized()["llvm"]
    with _lock:
        pto = llvm.create_pipeline_tuning_options(speed_level=speed_level)
        pto.loop_vectorization = loop_vectorization
        pto.slp_vectorization = True
        pto.loop_unrolling = True
        pb = llvm.create_pass_builder(target_machine(), pto)
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


class JitModule:
    """An LLVM module compiled to machine code and kept loaded while this object lives."""

    def __init__(self, module_ref):
        st = ensure_initialized()
        llvm, tgt = st["llvm"], st["target"]
        with _lock:
            # The engine takes ownership of its target machine: give it its own.
            tm = _new_target_machine(llvm, tgt.cpu, tgt.features)
            self.engine = llvm.create_mcjit_compiler(module_ref, tm)
            self.engine.finalize_object()
            self.engine.run_static_constructors()

    def address(self, name: str) -> int:
        addr = self.engine.get_function_address(name)
        if not addr:
            raise KeyError(f"symbol {name} not found in the compiled module")
        return addr

    def global_address(self, name: str) -> int:
        return self.engine.get_global_value_address(name)


def assembly(module_ref) -> str:
    """Native assembly of a module (for ``f.dump('asm')``)."""
    return target_machine().emit_assembly(module_ref)
