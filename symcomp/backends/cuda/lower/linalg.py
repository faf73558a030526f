"""``sc.dot`` on the GPU: cuBLAS gemm through CuPy's binding when CuPy is installed, else a
tiled shared-memory kernel.

cuBLAS is column-major; a row-major ``C = A @ B`` is computed as
``C^T = B^T @ A^T`` without copies, using the CPU backend's layout rule
(:func:`symcomp.backends.layout.blas_layout`); an operand whose
strides fit no BLAS layout is first copied into a contiguous workspace buffer.
Vectors are 1 x k or k x 1 matrices.  Integer products, the simulator and
machines without CuPy use the tiled kernel: 16 x 16 tiles of A and B staged
in shared memory (the classic scheme of the CUDA C Programming Guide,
"Shared Memory" section), accumulating in the operand dtype (integers wrap).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from symcomp.backends.layout import BLAS_N, BLAS_T, blas_layout
from symcomp.backends.cuda import memory
from symcomp.backends.cuda.lower import Lowering, lowering
from symcomp.backends.cuda.lower.elementwise import copy_into
from symcomp.backends.cuda.planner import Addr, Desc, Host, Ptr
from symcomp.backends.cuda.render import KernelSpec, Param, Source, cast_expr, const, store

_INT_MAX = 2**31 - 1


def render_tiled(dt, tile: int = 16) -> KernelSpec:
    """The tiled matrix-product kernel for dtype ``dt`` (C[m,n] = A[m,k] B[k,n], any strides),
    run by tile x tile thread blocks."""
    mats = ("a", "b", "z")
    params = [Param("m", "i64"), Param("n", "i64"), Param("k", "i64")]
    for x in mats:
        params += [Param(f"p{x}", "ptr", dt.name), Param(f"o{x}", "i64"), Param(f"s{x}0", "i64"),
                   Param(f"s{x}1", "i64")]
    S = Source("dot_tiled", params)
    zero = const(dt, 0)
    S.line(f"ta = cuda.shared.array(({tile}, {tile + 1}), {dt.name})")
    S.line(f"tb = cuda.shared.array(({tile}, {tile + 1}), {dt.name})")
    S.line("tx = cuda.threadIdx.x")
    S.line("ty = cuda.threadIdx.y")
    S.line(f"col = cuda.blockIdx.x * {tile} + tx")
    S.line(f"row0 = cuda.blockIdx.y * {tile}")
    with S.block("while row0 < m"):
        S.line("row = row0 + ty")
        S.line(f"acc = {zero}")
        S.line("p0 = 0")
        with S.block("while p0 < k"):
            S.line(f"ta[ty, tx] = pa[oa + row * sa0 + (p0 + tx) * sa1] if row < m and p0 + tx < k else {zero}")
            S.line(f"tb[ty, tx] = pb[ob + (p0 + ty) * sb0 + col * sb1] if p0 + ty < k and col < n else {zero}")
            S.line("cuda.syncthreads()")
            with S.block(f"for q in range({tile})"):
                S.line(f"acc = {cast_expr(dt, 'acc + ta[ty, q] * tb[q, tx]')}")
            S.line("cuda.syncthreads()")
            S.line(f"p0 += {tile}")
        with S.block("if row < m and col < n"):
            S.line(store("pz", "oz + row * sz0 + col * sz1", "acc", dt))
        S.line(f"row0 += cuda.gridDim.y * {tile}")
    return S.finish()


@lru_cache(maxsize=1)
def cublas():
    """(CuPy, its cuBLAS binding) when CuPy can serve the GPU, else None (and under the simulator)."""
    cp = memory.cupy()
    if cp is None:
        return None
    from cupy_backends.cuda.libs import cublas as lib

    return cp, lib


@dataclass
class Gemm:
    """A cuBLAS gemm call: column-major ``C(n x m) = op(B) @ op(A)`` for row-major ``C = A @ B``."""

    dtype: np.dtype
    tb: int
    ta: int
    n: int
    m: int
    k: int
    ldb: int
    lda: int
    ldc: int

    def __call__(self, pb: int, pa: int, pc: int) -> None:
        cupy, lib = cublas()
        handle = cupy.cuda.device.get_cublas_handle()
        lib.setStream(handle, 0)
        lib.setPointerMode(handle, lib.CUBLAS_POINTER_MODE_HOST)
        one, zero = np.ones(1, self.dtype), np.zeros(1, self.dtype)
        fn = lib.dgemm if self.dtype == np.float64 else lib.sgemm
        fn(handle, self.tb, self.ta, self.n, self.m, self.k, one.ctypes.data, pb, self.ldb, pa, self.lda,
           zero.ctypes.data, pc, self.ldc)


@lowering("sc.dot")
class DotLowering(Lowering):
    def kernels(self, op):
        return [render_tiled(op.result.type.dtype)]

    def plan(self, op, P, shapes):
        a, b = op.operands
        out = P.alloc(op.result, shapes[0])
        da, db = (P.materialize(P.get(v)) for v in (a, b))
        m = da.shape[0] if a.type.ndim == 2 else 1
        k = da.shape[-1]
        n = db.shape[1] if b.type.ndim == 2 else 1
        if m * n == 0:
            return
        dt = op.result.type.dtype
        if k == 0:
            copy_into(P, Host(np.zeros((), dt.np)), [], out, out.strides, out.shape)
            return
        # Every operand as a row-major matrix: (rows, cols, row stride, col stride).
        ma = (m, k) + ((da.strides[0], da.strides[1]) if a.type.ndim == 2 else (0, da.strides[0]))
        mb = (k, n) + ((db.strides[0], db.strides[1]) if b.type.ndim == 2 else (db.strides[0], 0))
        mz = (m, n, n, 1)  # the result as a row-major m x n matrix
        if dt.is_float and cublas() is not None and max(m, n, k) <= _INT_MAX:
            self._gemm(P, dt, da, ma, db, mb, out, mz)
            return
        tile = P.tuning.tile
        spec = render_tiled(dt, tile)
        args = [m, n, k]
        for d, (_, _, s0, s1) in ((da, ma), (db, mb), (out, mz)):
            args += [Ptr(d.root), d.off, s0, s1]
        grid = (-(-n // tile), min(-(-m // tile), P.tuning.max_row_blocks))
        P.launch(spec, grid, (tile, tile), args)

    def _gemm(self, P, dt, da, ma, db, mb, out, mz):
        lays = []
        for d, (rows, cols, s0, s1) in ((da, ma), (db, mb)):
            lay = blas_layout(rows, cols, s0, s1)
            if lay is None:  # strides no BLAS layout fits: copy to a contiguous matrix first
                dense = Desc(P.scratch(dt, rows * cols), 0, (rows, cols), (cols, 1), dt)
                copy_into(P, d, [s0, s1], dense, dense.strides, (rows, cols))
                d, lay = dense, blas_layout(rows, cols, cols, 1)
            lays.append((d, lay))
        (da, (ta, lda)), (db, (tb, ldb)) = lays
        m, k, n = ma[0], ma[1], mb[1]
        code = {BLAS_N: 0, BLAS_T: 1}
        gemm = Gemm(dt.np, code[tb], code[ta], n, m, k, ldb, lda, max(1, mz[2]))
        P.call(gemm, [Addr(db.root, db.off * dt.itemsize), Addr(da.root, da.off * dt.itemsize),
                      Addr(out.root, out.off * dt.itemsize)])
