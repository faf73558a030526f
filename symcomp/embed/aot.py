"""Ahead-of-time kernels: an ELF object file and a C header for a C (or C++, Fortran, Rust) program.

The object holds the whole compiled function (one internal LLVM function per
operation, the constants) and exports one symbol, the kernel's C function
(contract in :mod:`symcomp.embed.abi`); everything else is internal, so
several kernels link into one program.  It is position-independent code for
the CPU of the machine that built it (the generated vector code and libmvec
variants are chosen for that CPU, as for the JIT).

What the program must link, besides the object (``KernelABI.libraries`` and
the header list it per kernel):

* ``-lm`` (scalar math) always, and ``-lmvec`` when the kernel calls glibc's
  SIMD math functions (transcendental functions in vectorized loops);
* a BLAS when the kernel multiplies float matrices (``sc.dot`` on f32/f64
  calls ``sgemm``/``dgemm``/``sgemv``/``dgemv``/``sdot``/``ddot``): the
  Fortran-ABI symbols ``dgemm_`` etc. of ``-lopenblas`` or ``-lblas``, or any
  prefixed build, e.g. SciPy's bundled OpenBLAS with ``blas_prefix="scipy_"``
  (``scipy_dgemm_``).  Integer products and every other op need no BLAS.
  Where the compiling process split products across its thread team
  (:mod:`symcomp.backends.cpu.runtime.teamblas`), the object does too: every thread
  of its OpenMP team calls the BLAS for its own block at the same time, so the
  BLAS must be thread-safe, and is best single-threaded
  (``OPENBLAS_NUM_THREADS=1``), or its threads and the team's share the cores.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional, Union

from symcomp.embed.abi import KernelABI
from symcomp.embed.kernel import Kernel, ShapesSpec, specialize, wrapper_ir


@dataclass(frozen=True)
class AOTObject:
    """A kernel compiled ahead of time.

    Attributes:
        object: the ELF relocatable object (bytes).
        abi: its C-level description; ``abi.libraries`` and ``abi.blas`` say what to link.
    """

    object: bytes
    abi: KernelABI

    @property
    def header(self) -> str:
        """The C header declaring the kernel."""
        return self.abi.header()

    def write(self, object_path: Union[str, Path], header_path: Optional[Union[str, Path]] = None) -> None:
        """Write the object file (and the header, if a path is given)."""
        Path(object_path).write_bytes(self.object)
        if header_path is not None:
            Path(header_path).write_text(self.header, encoding="utf-8")


def _object_machine():
    from symcomp.backends.cpu.toolchain import machine

    st = machine.ensure_initialized()
    tgt = st["target"]
    return st["llvm"].Target.from_default_triple().create_target_machine(
        cpu=tgt.cpu, features=tgt.features, opt=2, reloc="pic", codemodel="default")


def link_kernel(k: Kernel, blas_prefix: str = ""):
    """The function's LLVM module with the kernel's wrapper linked in, everything but the kernel
    internal and BLAS calls renamed to the Fortran-ABI symbols.

    Returns:
        (module ref, link flags, BLAS symbols called).
    """
    from symcomp.backends.cpu.runtime import host
    from symcomp.backends.cpu.toolchain import machine

    exe = k.function.executable
    main = machine.parse(exe.stages["llvm"]())
    main.link_in(machine.parse(wrapper_ir(k, k.entry_symbol, constants="global")))
    if any(g.name == "symcomp_num_threads" and g.is_declaration for g in main.global_variables):
        # In-process the runtime owns this knob (symcomp.config.num_threads); in an object file it is
        # a private 0, which lets OpenMP decide (OMP_NUM_THREADS, else every core).
        main.link_in(machine.parse("@symcomp_num_threads = global i32 0\n"))
    if any(g.name == "symcomp_interrupt_ptr" and g.is_declaration for g in main.global_variables):
        # The loops poll a flag that in-process a SIGINT handler sets (symcomp.backends.cpu.runtime.interrupt);
        # an object file polls a private 0, so it never stops early and needs no symbol of the runtime.
        main.link_in(machine.parse("@symcomp_interrupt_never = global i32 0\n"
                                   "@symcomp_interrupt_ptr = global ptr @symcomp_interrupt_never\n"))
    blas = {f"symcomp_{r}": f"{blas_prefix}{r}_" for r in host.BLAS_ROUTINES}
    blas_used = []
    uses_mvec = uses_omp = False
    from symcomp.backends.cpu.runtime import printing

    runtime_only = {f"symcomp_{r}" for r in host.LAPACK_ROUTINES} | {printing.SYMBOL}
    for fn in main.functions:
        if fn.is_declaration and fn.name in runtime_only:
            raise NotImplementedError(
                f"ahead-of-time objects cannot call {fn.name[len('symcomp_'):]}: the linear-algebra ops (LAPACK "
                "through SciPy) and Print run only in-process; compile the function with symcomp.function instead")
    for fn in main.functions:
        if fn.is_declaration:
            if fn.name in blas:
                fn.name = blas[fn.name]
                blas_used.append(fn.name)
            uses_mvec |= fn.name.startswith("_ZGV")
            uses_omp |= fn.name.startswith(("GOMP_", "omp_"))
        elif fn.name != k.abi.symbol:
            fn.linkage = "internal"
    for g in main.global_variables:
        if not g.is_declaration and not g.name.startswith("llvm."):  # llvm.global_ctors stays appending
            g.linkage = "internal"
    machine.optimize(main)
    libs = []
    if uses_omp:
        libs.append("-lgomp")
    if uses_mvec:
        libs.append("-lmvec")
    libs.append("-lm")
    return main, tuple(libs), tuple(sorted(blas_used))


def emit_object(f, shapes: ShapesSpec = None, *, name: Optional[str] = None, func: Optional[str] = None,
                blas_prefix: str = "", mode: Optional[str] = None, optimize: bool = True) -> AOTObject:
    """Compile ``f`` for fixed input shapes into an object file and a C header.

    Args:
        f: a :class:`symcomp.Function` compiled for the CPU, or an IR module
            (compiled first, shared parameters included: :func:`symcomp.embed.functions.compile_for_kernel`).
        shapes: one shape per input (list, or dict by input name); None entries
            (or None) take the static shapes of the input types.  For a module: one per
            parameter, ``sc.shared`` ones included (a Function's shared variables have values,
            whose shapes are used).
        name: the exported C symbol (default: the function's name).
        func: which function of a module (when it holds several).
        blas_prefix: prefix of the BLAS symbols the object calls (``""``: ``dgemm_``;
            ``"scipy_"``: SciPy's bundled OpenBLAS, ``scipy_dgemm_``).
        mode: the mode compiling a module (must use the CPU backend).
        optimize: run the mode's passes on a module first (``symcomp-opt`` has run its own).

    Raises:
        ValueError, NotImplementedError: see :func:`symcomp.embed.kernel.specialize`.
    """
    from symcomp.ir.module import ModuleOp

    if isinstance(f, ModuleOp):
        from symcomp.embed.functions import compile_for_kernel

        f, shapes = compile_for_kernel(f, shapes, func, mode=mode, optimize=optimize)
    k = specialize(f, shapes, name)
    module, libs, blas = link_kernel(k, blas_prefix)
    obj = _object_machine().emit_object(module)
    return AOTObject(obj, replace(k.abi, libraries=libs, blas=blas, blas_prefix=blas_prefix if blas else ""))
