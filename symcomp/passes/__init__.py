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
=================  ==========================================================

See docs/passes.md for each pass' rules and options.
"""

from symcomp.passes import canonicalize, constant_fold, cse, dce, fusion, inplace, stabilize  # noqa: F401  (registration)
from symcomp.passes.manager import PASSES, ModulePass, PassManager, parse_pipeline, register_pass  # noqa: F401
