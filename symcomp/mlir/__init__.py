"""MLIR interop: export symcomp modules to upstream MLIR dialects, and the ``mlir`` compilation mode.

* :func:`export_module` translates a module to func/arith/math/tensor/linalg
  (and scf for scatters) text that the real ``mlir-opt`` accepts;
  ``f.dump("mlir")`` gives it for a compiled function.
* ``symcomp.function(..., mode="mlir")`` lowers that text with ``mlir-opt``
  and ``mlir-translate`` (Debian's ``mlir-22-tools``) and JIT-compiles the LLVM
  IR with llvmlite (:mod:`symcomp.mlir.backend`).  Importing this package
  registers the mode (``symcomp.compile.modes.get_mode`` imports it on first use).

docs/mlir.md describes the op mapping and what is not exported.
"""

from symcomp.compile.modes import FAST_PIPELINE, Mode, register_mode
from symcomp.mlir.convert import MLIRExportError
from symcomp.mlir.export import export_module


def _backend(device: str):
    from symcomp.mlir.backend import backend

    return backend(device)


# MLIR has its own matmul lowering: no BLAS gemm folding.
MLIR_PIPELINE = ",".join(p for p in FAST_PIPELINE.split(",") if p != "cpu-gemm-fold")
register_mode(Mode("mlir", MLIR_PIPELINE, _backend))

__all__ = ["MLIRExportError", "export_module"]
