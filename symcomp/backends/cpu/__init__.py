"""The CPU backend: LLVM IR generated with llvmlite, JIT-compiled, one native call per function call."""

import time


def compile_cpu(module, sig, timings):
    """Compile a prepared module for the host CPU; returns a :class:`CPUExecutable`.

    The CPU-specific ``cpu-gemm-fold`` pass runs first (products with their scalings and
    addends become one BLAS call each).
    """
    from symcomp.backends.cpu.runtime import CPUExecutable
    from symcomp.passes.gemm_fold import GemmFold

    t0 = time.perf_counter()
    GemmFold().apply(module)
    timings["pass:cpu-gemm-fold"] = time.perf_counter() - t0
    return CPUExecutable(module, sig, timings)
