"""The CPU backend: LLVM IR generated with llvmlite, JIT-compiled, one native call per function call."""


def compile_cpu(module, sig, timings):
    """Compile a prepared module for the host CPU; returns a :class:`CPUExecutable`."""
    from symcomp.backends.cpu.runtime import CPUExecutable

    return CPUExecutable(module, sig, timings)
