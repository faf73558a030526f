"""MLIR interop: export symcomp modules to upstream MLIR dialects, and the ``mlir`` compilation mode.

* :func:`export_module` translates a module to func/arith/math/tensor/linalg
  (and scf for scatters) text that the real ``mlir-opt`` accepts;
  ``f.dump("mlir")`` gives it for a compiled function.
* ``symcomp.function(..., mode="mlir")`` lowers that text with ``mlir-opt``
  and ``mlir-translate`` (Debian's ``mlir-22-tools``) and JIT-compiles the LLVM
  IR with llvmlite (:mod:`symcomp.mlir.backend`); the mode itself is declared with the others
  in :mod:`symcomp.compile.modes`.

docs/mlir.md describes the op mapping and what is not exported.
"""

from symcomp.mlir.convert import MLIRExportError
from symcomp.mlir.export import export_module

__all__ = ["MLIRExportError", "export_module"]
