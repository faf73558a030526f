"""The CPU backend: LLVM IR generated with llvmlite, JIT-compiled, one native call per function call."""


def compile_cpu(module, sig, timings):
    """Compile an optimized module for the host CPU; returns a :class:`CPUExecutable`.

    Products with their scalings and addends become one BLAS call each when the pipeline
    ran ``cpu-gemm-fold`` (the ``fast`` mode does, before fusion).
    """
    from symcomp.backends.cpu.runtime import CPUExecutable

    return CPUExecutable(module, sig, timings)


def before_passes(module) -> None:
    """Start, in the background, what compiling ``module`` (traced, not yet optimized) will need
    and can be made while its passes run: the private copy of NumPy's OpenBLAS for a function
    with matrix products (:func:`symcomp.backends.cpu.teamblas.start_copy`; the first one in a
    new cache directory writes 25 MB)."""
    from symcomp.backends.cpu import compiler, teamblas

    if compiler.calls_blas(module.func().body.ops):
        teamblas.start_copy()
