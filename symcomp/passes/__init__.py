"""Optimization passes.  Importing this package registers the built-in passes in
:data:`symcomp.passes.manager.PASSES`.

=================  ==========================================================
``canonicalize``   algebraic simplification exact in IEEE arithmetic
``constant-fold``  ops on constants evaluated at compile time
``stabilize``      numerically stable forms (log1p, softplus, log_softmax...)
``cse``            identical pure ops merged
``dce``            unused pure ops removed
``fuse``           elementwise chains (and their reductions) into ``sc.fused``
``inplace``        results that may overwrite a dead operand's buffer
``cpu-gemm-fold``  alpha*dot(a, b) + beta*c into one BLAS gemm (run by the CPU backend)
``decompose``      composite ops (sc.gemm) into core ops (run by the CUDA backend)
=================  ==========================================================

See docs/passes.md for each pass' rules and options.
"""

from symcomp.passes import (  # noqa: F401  (registration)
    canonicalize, constant_fold, cse, dce, decompose, fusion, gemm_fold, inplace, stabilize,
)
from symcomp.passes.manager import PASSES, ModulePass, PassManager, parse_pipeline, register_pass  # noqa: F401
