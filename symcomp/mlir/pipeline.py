"""The mlir-opt pass pipeline from exported tensor IR to the LLVM dialect.

Each entry is an upstream pass with the reason it is there; the order is the
one the upstream documentation gives for one-shot bufferization followed by
lowering to loops (https://mlir.llvm.org/docs/Bufferization/).
"""

from __future__ import annotations

PASSES: tuple[tuple[str, str], ...] = (
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
    ("convert-math-to-llvm", "math ops with LLVM intrinsics"),
    ("convert-math-to-libm", "the other math ops to libm calls"),
    ("arith-expand", "arith ops without a direct LLVM form (ceildivsi...)"),
    ("convert-to-llvm", "arith, cf, func, index to the LLVM dialect (with the C interface wrappers)"),
    ("reconcile-unrealized-casts", "drop the type-conversion casts left between dialects"),
)


def pass_pipeline() -> str:
    """The ``--pass-pipeline`` argument of mlir-opt."""
    return "builtin.module(" + ",".join(p for p, _ in PASSES) + ")"
