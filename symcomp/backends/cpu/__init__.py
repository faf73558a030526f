"""The CPU backend: LLVM IR generated with llvmlite, JIT-compiled, one native call per function call."""


def compile_cpu(module, sig, timings):
    """Compile an optimized module for the host CPU; returns a :class:`CPUExecutable`.

    Products with their scalings and addends become one BLAS call each when the pipeline
    ran ``cpu-gemm-fold`` (the ``fast`` mode does, before fusion).
    """
    from symcomp.backends.cpu.runtime import CPUExecutable

    return CPUExecutable(module, sig, timings)
