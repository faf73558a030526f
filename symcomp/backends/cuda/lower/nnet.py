"""softmax and log_softmax along one axis: a row kernel, one thread block per row.

Each block makes three passes over its row (strided along the axis): the
maximum, then the sum of ``exp(x - max)`` (each a tree reduction in shared
memory), then the result, ``exp(x - max) / sum`` or ``x - max - log(sum)``:
the stable formulation, finite for any finite input.  The other axes are
coalesced into a row index that blocks stride over.
"""

from __future__ import annotations

from symcomp.backends.cuda.lower import Lowering, lowering
from symcomp.backends.cuda.lower.elementwise import index_split, offset
from symcomp.backends.cuda.lower.reduce import SHARED_SLOTS
from symcomp.backends.cuda.planner import Ptr, coalesce_loop
from symcomp.backends.cuda.render import KernelSpec, Param, Source, combine, const, maximum


def render_rows(log: bool, dt, rank: int) -> KernelSpec:
    """The (log-)softmax kernel for rows indexed by ``rank`` coalesced outer axes."""
    params = [Param("nrows", "i64"), Param("n", "i64")] + [Param(f"dr{a}", "i64") for a in range(1, rank)]
    for x in ("x", "z"):
        params += [Param(f"p{x}", "ptr", dt.name), Param(f"o{x}", "i64")]
        params += [Param(f"s{x}r{a}", "i64") for a in range(rank)] + [Param(f"s{x}", "i64")]
    S = Source("log_softmax" if log else "softmax", params)
    f = "f" if dt.bits == 32 else ""
    rows = [f"r{a}" for a in range(rank)]
    S.line(f"sh = cuda.shared.array({SHARED_SLOTS}, {dt.name})")
    S.line("t = cuda.threadIdx.x")
    S.line("nt = cuda.blockDim.x")
    S.line("row = cuda.blockIdx.x")
    with S.block("while row < nrows"):
        index_split(S, "row", [f"dr{a}" for a in range(rank)], rows)
        S.line(f"bx = {offset('ox', rows, [f'sxr{a}' for a in range(rank)])}")
        S.line(f"bz = {offset('oz', rows, [f'szr{a}' for a in range(rank)])}")
        S.line(f"m = {const(dt, float('-inf'))}")
        _strided(S, lambda: S.line(f"m = {maximum('m', 'px[bx + j * sx]', dt)}"))
        _block_reduce(S, "m", "max", dt)
        S.line(f"s = {const(dt, 0)}")
        _strided(S, lambda: S.line(f"s = s + lib.exp{f}(px[bx + j * sx] - m)"))
        _block_reduce(S, "s", "add", dt)
        if log:
            S.line(f"ls = lib.log{f}(s)")
            _strided(S, lambda: S.line("pz[bz + j * sz] = px[bx + j * sx] - m - ls"))
        else:
            _strided(S, lambda: S.line(f"pz[bz + j * sz] = lib.exp{f}(px[bx + j * sx] - m) / s"))
        S.line("row += cuda.gridDim.x")
    return S.finish()


def _strided(S: Source, body) -> None:
    """``for j in range(t, n, nt): body`` as a while loop."""
    S.line("j = t")
    with S.block("while j < n"):
        body()
        S.line("j += nt")


def _block_reduce(S: Source, var: str, kind: str, dt) -> None:
    """Combine ``var`` across the block (tree in shared memory); every thread gets the result."""
    S.line(f"sh[t] = {var}")
    S.line("cuda.syncthreads()")
    S.line("h = nt // 2")
    with S.block("while h > 0"):
        with S.block("if t < h"):
            S.line(f"sh[t] = {combine(kind, 'sh[t]', 'sh[t + h]', dt)}")
        S.line("cuda.syncthreads()")
        S.line("h = h // 2")
    S.line(f"{var} = sh[0]")
    S.line("cuda.syncthreads()")


@lowering("sc.softmax", "sc.log_softmax")
class RowSoftmaxLowering(Lowering):
    def kernels(self, op):
        dt = op.result.type.dtype
        return [render_rows(op.name == "sc.log_softmax", dt, max(1, op.result.type.ndim - 1))]

    def plan(self, op, P, shapes):
        x = op.operands[0]
        out = P.alloc(op.result, shapes[0])
        d = P.materialize(P.get(x))
        other = [a for a in range(len(shapes[0])) if a != op.axis]
        n = shapes[0][op.axis]
        dims, st = coalesce_loop([shapes[0][a] for a in other],
                                 [[d.strides[a] for a in other], [out.strides[a] for a in other]])
        nrows = 1
        for v in dims:
            nrows *= v
        if nrows * n == 0:
            return
        spec = render_rows(op.name == "sc.log_softmax", op.result.type.dtype, len(dims))
        args = [nrows, n] + dims[1:]
        args += [Ptr(d.root), d.off] + st[0] + [d.strides[op.axis]]
        args += [Ptr(out.root), out.off] + st[1] + [out.strides[op.axis]]
        block = P.tuning.block
        while block > 32 and block // 2 >= n:  # a warp at least, a power of two
            block //= 2
        P.launch(spec, min(nrows, P.tuning.max_row_blocks), block, args)
