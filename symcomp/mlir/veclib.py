"""Vector math for the MLIR backend: vector intrinsics to glibc's libmvec.

LLVM's loop vectorizer widens calls to ``exp``, ``sin``, ``tanh``... into
vector intrinsics (``llvm.exp.v8f64``), which code generation would scalarize
again into one libm call per lane.  Compilers map them to a vector math
library instead (``-vector-library=LIBMVEC`` in clang, LLVM's
ReplaceWithVeclib pass); llvmlite does not expose that setting, so this module
does the same mapping on the optimized module's text: every vector intrinsic
with a libmvec variant of a width the host supports is renamed to that
variant, following the x86-64 vector function ABI names the native backend
uses (:mod:`symcomp.backends.cpu.vecmath.libcalls`: ``_ZGVeN8v_exp`` is 8 x f64 on
AVX-512).  libmvec's documented accuracy is within 4 ULP (glibc manual,
"Errors in Math Functions").  Functions without an LLVM intrinsic (``log1p``,
``expm1``, ``erf``...) stay scalar libm calls.
"""

from __future__ import annotations

import re

from symcomp.backends.cpu.toolchain.machine import Target
from symcomp.backends.cpu.vecmath.libcalls import LIBMVEC

_ISA = {128: "b", 256: "d", 512: "e"}
_VECTOR_INTRINSIC = re.compile(r"@llvm\.([a-z0-9]+)\.v(\d+)f(32|64)\b")


def libmvec_name(name: str, lanes: int, bits: int, target: Target) -> str | None:
    """The libmvec variant of ``name`` on ``lanes`` x f``bits``, or None if the host has none."""
    width = lanes * bits
    if not target.has_libmvec or name not in LIBMVEC or width not in _ISA or width > target.vector_bits:
        return None
    return f"_ZGV{_ISA[width]}N{lanes}{'v' * LIBMVEC[name]}_{name}{'f' if bits == 32 else ''}"


def map_vector_math(llvm_ir: str, target: Target) -> str:
    """``llvm_ir`` with its vector math intrinsics (declarations and calls) renamed to libmvec variants."""

    def rename(m: re.Match) -> str:
        variant = libmvec_name(m.group(1), int(m.group(2)), int(m.group(3)), target)
        return m.group(0) if variant is None else "@" + variant

    return _VECTOR_INTRINSIC.sub(rename, llvm_ir)
