"""What ``symcomp-opt --emit=...`` writes: the IR, or a backend's code for each function.

* ``ir``: the module's text (``str(module)``);
* ``llvm``: the CPU backend's LLVM IR, before LLVM's optimizations (as ``f.dump('llvm')``);
* ``asm``: the CPU backend's native assembly for the host, after LLVM's ``-O2``
  pipeline (as ``f.dump('asm')``);
* ``ptx``: the CUDA backend's PTX, from ``symcomp.backends.cuda.emit_ptx(module)``.
"""

from __future__ import annotations

import importlib

from symcomp.ir.module import ModuleOp, new_module

EMIT_KINDS = ("ir", "llvm", "asm", "ptx")


class EmitError(Exception):
    """A backend cannot produce code for the module (the message says why)."""


def emit(module: ModuleOp, kind: str) -> str:
    """The text of ``kind`` for ``module`` (left unchanged).

    Raises:
        EmitError: if the backend is unavailable or cannot compile an operation.
        ValueError: for an unknown ``kind``.
    """
    if kind == "ir":
        return str(module)
    if kind in ("llvm", "asm"):
        return "\n".join(_cpu(f, kind) for f in module.funcs)
    if kind == "ptx":
        return _ptx(module)
    raise ValueError(f"unknown emission kind {kind!r} (expected one of {', '.join(EMIT_KINDS)})")


def _cpu(func, kind: str) -> str:
    from symcomp.backends.cpu import jit
    from symcomp.backends.cpu.compiler import codegen, prepare

    single = new_module([func.clone({})])  # preparation inserts copies: work on a copy
    try:
        llvm_ir = str(codegen(prepare(single, None), func.sym_name).module)
    except NotImplementedError as exc:
        raise EmitError(f"the CPU backend cannot compile @{func.sym_name}: {exc}") from None
    if kind == "llvm":
        return llvm_ir
    ref = jit.parse(llvm_ir)
    jit.optimize(ref)
    return jit.assembly(ref)


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
