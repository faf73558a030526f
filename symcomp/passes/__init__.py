"""Optimization passes.  Importing this package registers the built-in passes in
:data:`symcomp.passes.manager.PASSES`."""

from symcomp.passes import cse, dce, gemm_fold  # noqa: F401  (registration)
from symcomp.passes.manager import PASSES, ModulePass, PassManager, parse_pipeline, register_pass  # noqa: F401
