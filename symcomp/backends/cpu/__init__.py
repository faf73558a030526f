"""The CPU backend: LLVM IR generated with llvmlite, JIT-compiled, one native call per function call."""


def compile_cpu(module, sig, timings):
    """Compile an optimized module for the host CPU; returns a :class:`CPUExecutable`.

    Products with their scalings and addends become one BLAS call each when the pipeline
    ran ``cpu-gemm-fold`` (the ``fast`` mode does, before fusion).
    """
    from symcomp.backends.cpu.runtime.executable import CPUExecutable

    return CPUExecutable(module, sig, timings)


def warm_up(module, cold: bool) -> None:
    """Start, in background threads, what compiling ``module`` (traced, not yet optimized) will
    need and can be made while its passes run (:attr:`symcomp.compile.modes.Mode.warm_up`):

    * for a function with matrix products, the private copy of NumPy's OpenBLAS
      (:func:`symcomp.backends.cpu.runtime.teamblas.start_copy`; the first one in a new cache directory
      writes 25 MB);
    * when ``cold`` (the pass cache missed, so the machine code is most likely not cached
      either), LLVM's shared library (:func:`symcomp.backends.cpu.toolchain.machine.preload`).  A warm
      process never loads it.
    """
    from symcomp.backends.cpu.toolchain import build, machine
    from symcomp.backends.cpu.runtime import teamblas

    if build.calls_blas(module.func().body.ops):
        teamblas.start_copy()
    if cold:
        machine.preload()
