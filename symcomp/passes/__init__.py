"""Optimization passes.  The built-in passes register themselves in
:data:`symcomp.passes.manager.PASSES` when a pipeline is first parsed or the passes are listed
(:func:`symcomp.passes.manager.registered_passes`), not on import: a process that takes its
optimized IR from the disk cache never imports them.

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

from symcomp.passes.manager import PASSES, ModulePass, PassManager, parse_pipeline, register_pass  # noqa: F401
