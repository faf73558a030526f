"""What ``symcomp-opt --emit=...`` writes: the IR, or a backend's code for each function.

* ``ir``: the module's text (``str(module)``);
* ``llvm``: the CPU backend's LLVM IR, before LLVM's optimizations (as ``f.dump('llvm')``);
* ``asm``: the CPU backend's native assembly for the host, after LLVM's ``-O2``
  pipeline (as ``f.dump('asm')``);
* ``ptx``: the CUDA backend's PTX, from ``symcomp.backends.cuda.emit_ptx(module)``;
* ``mlir``: the module in upstream MLIR dialects (:func:`symcomp.mlir.export_module`);
* ``obj``: an ELF object file exporting one function as a C kernel specialized to
  fixed input shapes (shared variables included: their values are pointer
  arguments), and its C header (:func:`emit_object`, docs/embedding.md).
"""

from __future__ import annotations

import importlib

from symcomp.ir.module import ModuleOp, new_module

EMIT_KINDS = ("ir", "llvm", "asm", "ptx", "mlir", "obj")


class EmitError(Exception):
    """A backend cannot produce code for the module (the message says why).

    Attributes:
        op: the function the error concerns (its location is reported), or None.
    """

    def __init__(self, message: str, op=None):
        super().__init__(message)
        self.op = op


def emit(module: ModuleOp, kind: str) -> str:
    """The text of ``kind`` for ``module`` (left unchanged).

    Raises:
        EmitError: if the backend is unavailable or cannot compile an operation.
        ValueError: for an unknown ``kind`` (``obj`` is binary: use :func:`emit_object`).
    """
    if kind == "ir":
        return str(module)
    if kind in ("llvm", "asm"):
        return "\n".join(_cpu(f, kind) for f in module.funcs)
    if kind == "ptx":
        return _ptx(module)
    if kind == "mlir":
        from symcomp.mlir import MLIRExportError, export_module

        try:
            return export_module(module)
        except MLIRExportError as exc:
            raise EmitError(str(exc)) from None
    if kind == "obj":
        raise ValueError("--emit=obj makes binary output: use emit_object()")
    raise ValueError(f"unknown emission kind {kind!r} (expected one of {', '.join(EMIT_KINDS)})")


def parse_shapes(specs: list[str]) -> dict:
    """``NAME=4x3`` (or ``INDEX=4x3``; ``NAME=`` for rank 0) entries as {name or index: shape}.

    Raises:
        ValueError: for a malformed entry, naming it.
    """
    out: dict = {}
    for spec in specs:
        key, eq, dims = spec.partition("=")
        key = key.strip().lstrip("%")
        try:
            if not eq or not key:
                raise ValueError
            shape = tuple(int(d) for d in dims.split("x")) if dims.strip() else ()
            if any(d < 0 for d in shape):
                raise ValueError
        except ValueError:
            raise ValueError(f"--shape {spec!r}: expected NAME=SIZExSIZE... (e.g. x=4x3), sizes >= 0") from None
        out[int(key) if key.isdigit() else key] = shape
    return out


def emit_object(module: ModuleOp, shapes: dict, func=None, blas_prefix: str = "") -> tuple[bytes, str]:
    """An object file and its C header for one function of ``module``, specialized to ``shapes``.

    Args:
        module: the module (already through the pipeline: no further pass runs).
        shapes: {parameter name or index: shape}; parameters left out use their static types.
        func: the function's name (needed when the module holds several).
        blas_prefix: prefix of the BLAS symbols called (``scipy_`` for SciPy's OpenBLAS).

    Raises:
        EmitError: if the function cannot be compiled or specialized (the message says why).
    """
    from symcomp.embed.aot import emit_object as make_object

    if func is None and len(module.funcs) != 1:
        raise EmitError(f"--emit=obj exports one function; the module holds {len(module.funcs)}: choose one "
                        "with --func NAME")
    try:
        target = module.func(func)
    except KeyError as exc:
        raise EmitError(f"cannot make an object file: {exc}") from None
    try:
        names = [a.name for a in target.args]
        ordered = [None] * len(names)
        for key, shape in shapes.items():
            if isinstance(key, int):
                if key >= len(ordered):
                    raise ValueError(f"--shape {key}=...: the function has {len(ordered)} parameters")
                ordered[key] = shape
            elif key in names:
                ordered[names.index(key)] = shape
            else:
                raise ValueError(f"--shape {key}=...: no parameter named {key!r} (parameters: {names})")
        obj = make_object(module, ordered, func=func, blas_prefix=blas_prefix, mode="fast", optimize=False)
    except (ValueError, KeyError, NotImplementedError) as exc:
        raise EmitError(f"cannot make an object file: {exc}", target) from None
    return obj.object, obj.header


def _cpu(func, kind: str) -> str:
    from symcomp.backends.cpu.toolchain import machine
    from symcomp.backends.cpu.toolchain.build import llvm_ir as emit_llvm_ir
    from symcomp.backends.prepare import prepare

    single = new_module([func.clone({})])  # preparation inserts copies: work on a copy
    try:
        llvm_ir = emit_llvm_ir(prepare(single, None), func.sym_name)
    except NotImplementedError as exc:
        raise EmitError(f"the CPU backend cannot compile @{func.sym_name}: {exc}", func) from None
    if kind == "llvm":
        return llvm_ir
    ref = machine.parse(llvm_ir)
    machine.optimize(ref)
    return machine.assembly(ref, machine.steady_level(llvm_ir.count("\n")))  # the level symcomp.function runs


def _ptx(module: ModuleOp) -> str:
    try:
        cuda = importlib.import_module("symcomp.backends.cuda")
    except ImportError as exc:
        raise EmitError(f"the CUDA backend is not available ({exc}); --emit=ptx needs symcomp.backends.cuda") \
            from None
    emit_ptx = getattr(cuda, "emit_ptx", None)
    if emit_ptx is None:
        raise EmitError("the CUDA backend is not available: symcomp.backends.cuda has no emit_ptx()")
    try:
        return emit_ptx(module)
    except (NotImplementedError, ImportError, RuntimeError) as exc:
        raise EmitError(f"the CUDA backend cannot compile the module: {type(exc).__name__}: {exc}") from None
