"""The mlir-opt pass pipeline from exported tensor IR to the LLVM dialect.

Each entry is an upstream pass with the reason it is there; the order is the
one the upstream documentation gives for one-shot bufferization followed by
lowering to loops (https://mlir.llvm.org/docs/Bufferization/).  A small
transform-dialect schedule (:data:`SCHEDULE`) runs first: it reorders the
loops of matrix products so the innermost loop walks contiguous rows, which
LLVM's loop vectorizer then vectorizes (the loops are otherwise left to LLVM).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading

SCHEDULE = """\
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    // C[i, j] += A[i, k] * B[k, j] with loops (i, k, j): the inner loop reads rows of B and C.
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root : (!transform.any_op) -> !transform.any_op
    %mm_g = transform.structured.generalize %mm : (!transform.any_op) -> !transform.any_op
    %mm_i = transform.structured.interchange %mm_g iterator_interchange = [0, 2, 1]
      : (!transform.any_op) -> !transform.any_op
    // y[j] += x[k] * A[k, j] with loops (k, j).
    %vm = transform.structured.match ops{["linalg.vecmat"]} in %root : (!transform.any_op) -> !transform.any_op
    %vm_g = transform.structured.generalize %vm : (!transform.any_op) -> !transform.any_op
    %vm_i = transform.structured.interchange %vm_g iterator_interchange = [1, 0]
      : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
}
"""
"""Transform-dialect schedule applied before bufferization (https://mlir.llvm.org/docs/Dialects/Transform/)."""

PASSES: tuple[tuple[str, str], ...] = (
    ("transform-interpreter", "apply SCHEDULE (loop order of matrix products)"),
    ("func.func(linalg-fuse-elementwise-ops)", "fuse producer/consumer elementwise generics into one loop nest"),
    ("canonicalize", "fold dims, casts and reshapes of known shapes"),
    ("cse", "share duplicated shape and index arithmetic"),
    ("eliminate-empty-tensors", "compute results directly in the destination buffers"),
    ("one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}",
     "tensors to buffers; arguments are contiguous memrefs"),
    ("canonicalize", "remove copies of a buffer into itself"),
    ("buffer-deallocation-pipeline", "free every temporary buffer"),
    ("convert-bufferization-to-memref", "lower the remaining bufferization ops"),
    ("convert-linalg-to-loops", "linalg ops to scf loop nests"),
    ("convert-math-to-funcs", "integer powers (math.ipowi) to outlined functions"),
    ("convert-scf-to-cf", "structured control flow to branches"),
    ("expand-strided-metadata", "subviews to explicit offset/stride arithmetic"),
    ("lower-affine", "affine maps to arith"),
    ("finalize-memref-to-llvm", "memrefs to descriptors, malloc and free"),
    # libm first: convert-math-to-llvm would expand log1p(x) to log(1 + x) and expm1(x) to exp(x) - 1,
    # losing all accuracy near 0.  LLVM still recognizes exp, floor, fabs, sqrt... as builtins.
    # (LLVM 22's convert-math-to-libm rejects math ops it has no libm name for, e.g. absi and
    # copysign: the exporter does not emit those.)
    ("convert-math-to-libm", "math functions to libm calls"),
    ("convert-math-to-llvm", "math ops left for LLVM intrinsics (none today)"),
    ("arith-expand", "arith ops without a direct LLVM form (ceildivsi...)"),
    ("convert-to-llvm", "arith, cf, func, index to the LLVM dialect (with the C interface wrappers)"),
    ("reconcile-unrealized-casts", "drop the type-conversion casts left between dialects"),
)

_lock = threading.Lock()
_schedule_file: list[str] = []


def _schedule_path() -> str:
    """A file holding :data:`SCHEDULE` (mlir-opt preloads transform libraries from files)."""
    with _lock:
        if not _schedule_file:
            tmp = tempfile.mkdtemp(prefix="symcomp-mlir-")
            atexit.register(shutil.rmtree, tmp, True)
            path = os.path.join(tmp, "schedule.mlir")
            with open(path, "w") as f:
                f.write(SCHEDULE)
            _schedule_file.append(path)
        return _schedule_file[0]


def pass_pipeline() -> str:
    """The ``--pass-pipeline`` argument of mlir-opt."""
    preload = f"transform-preload-library{{transform-library-paths={_schedule_path()}}}"
    return "builtin.module(" + ",".join([preload] + [p for p, _ in PASSES]) + ")"
