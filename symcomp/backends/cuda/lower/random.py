"""The random-number ops on the GPU.

The elementwise ones are loop kernels like any elementwise op (and fuse); their scalar code is
in :mod:`symcomp.backends.cuda.random`.  ``sc.random_permutation`` gives each row to a thread,
which fills it and runs Fisher-Yates; ``sc.cumsum`` gives each line to a thread, which adds
along the axis in order (the same sums as every other backend).
"""

from __future__ import annotations

import math

from symcomp.backends.cuda.lower import Lowering, lowering
from symcomp.backends.cuda.lower.elementwise import ElementwiseLowering, index_split
from symcomp.backends.cuda.planner import Ptr
from symcomp.backends.cuda.random import CudaArith
from symcomp.backends.cuda.render import KernelSpec, Param, Source, Var, const, load, store
from symcomp.ir import rngalg
from symcomp.ir import types as T


@lowering("sc.flat_index", "sc.philox", "sc.random_bits", "sc.unit_float", "sc.ndtri", "sc.exponential",
           "sc.random_poisson",
           "sc.random_binomial")
class RandomElementwiseLowering(ElementwiseLowering):
    """An elementwise random op on its own (unfused): its scalar code in a loop kernel."""


def render_permutation() -> KernelSpec:
    params = [Param("rows", "i64"), Param("n", "i64"), Param("pc", "ptr", "uint64"), Param("oc", "i64"),
              Param("pk", "ptr", "uint64"), Param("ok", "i64"), Param("pz", "ptr", "int64"), Param("oz", "i64"),
              Param("sz0", "i64"), Param("sz1", "i64")]
    S = Source("permutation", params)
    S.line("r = cuda.grid(1)")
    S.line("step = cuda.gridsize(1)")
    with S.block("while r < rows"):
        S.line("base = oz + r * sz0")
        S.line("i = int64(0)")
        with S.block("while i < n"):
            S.line(store("pz", "base + i * sz1", "i", T.int64))
            S.line("i += 1")
        S.line("t = int64(1)")
        with S.block("while t < n"):
            S.line("i = n - t")
            A = CudaArith(S)
            ctr = S.let(f"uint64({load('pc', 'oc', T.uint64)}) + uint64(r * n + i)", T.uint64)
            key = Var(load("pk", "ok", T.uint64), T.uint64)
            w = rngalg.philox_words(A, ctr, Var(const(T.uint64, 0), T.uint64), key)
            u = rngalg.unit_float64(A, w[0], w[1])
            S.line(f"jf = lib.floor(lib.dmul_rn({u.name}, float64(i) + float64(1.0)))")
            S.line("j = int64(jf) if jf < float64(i) else i")
            S.line(f"a = {load('pz', 'base + i * sz1', T.int64)}")
            S.line(store("pz", "base + i * sz1", load("pz", "base + j * sz1", T.int64), T.int64))
            S.line(store("pz", "base + j * sz1", "a", T.int64))
            S.line("t += 1")
        S.line("r += step")
    return S.finish()


@lowering("sc.random_permutation")
class RandomPermutationLowering(Lowering):
    """One thread per row: fill 0 .. n-1, then Fisher-Yates with the reference's swap positions."""

    def kernels(self, op):
        return [render_permutation()]

    def plan(self, op, P, shapes):
        out = P.alloc(op.result, shapes[0])
        rows, n = out.shape
        if rows == 0 or n == 0:
            return
        c, k = P.materialize(P.get(op.operands[0])), P.materialize(P.get(op.operands[1]))
        args = [rows, n, Ptr(c.root), c.off, Ptr(k.root), k.off, Ptr(out.root), out.off] + list(out.strides)
        P.launch(render_permutation(), P.grid_1d(rows), P.tuning.block, args)


def render_cumsum(dt: T.DType, rank: int) -> KernelSpec:
    """Thread per line: the lines are the points of the other axes (``rank`` of them, at least 1)."""
    params = [Param("lines", "i64"), Param("m", "i64")] + [Param(f"d{a}", "i64") for a in range(1, rank)]
    params += [Param("px", "ptr", dt.name), Param("ox", "i64"), Param("sxa", "i64")]
    params += [Param(f"sx{a}", "i64") for a in range(rank)]
    params += [Param("pz", "ptr", dt.name), Param("oz", "i64"), Param("sza", "i64")]
    params += [Param(f"sz{a}", "i64") for a in range(rank)]
    S = Source("cumsum", params)
    idx = [f"i{a}" for a in range(rank)]
    S.line("q = cuda.grid(1)")
    S.line("step = cuda.gridsize(1)")
    with S.block("while q < lines"):
        index_split(S, "q", [f"d{a}" for a in range(rank)], idx)
        S.line("bx = " + " + ".join(["ox"] + [f"{i} * sx{a}" for a, i in enumerate(idx)]))
        S.line("bz = " + " + ".join(["oz"] + [f"{i} * sz{a}" for a, i in enumerate(idx)]))
        S.line(f"acc = {const(dt, 0)}")
        S.line("k = int64(0)")
        with S.block("while k < m"):
            add = f"acc + {load('px', 'bx + k * sxa', dt)}"
            S.line(f"acc = {add if dt.is_float or dt.bits == 64 else f'{dt.name}({add})'}")
            S.line(store("pz", "bz + k * sza", "acc", dt))
            S.line("k += 1")
        S.line("q += step")
    return S.finish()


@lowering("sc.cumsum")
class CumsumLowering(Lowering):
    """One thread per line, adding along the axis in order."""

    def kernels(self, op):
        return [render_cumsum(op.result.type.dtype, max(1, op.result.type.ndim - 1))]

    def plan(self, op, P, shapes):
        out = P.alloc(op.result, shapes[0])
        x = P.materialize(P.get(op.operands[0]))
        axis = op.axis
        others = [a for a in range(len(out.shape)) if a != axis] or None
        dims = [out.shape[a] for a in others] if others else [1]
        xs = [x.strides[a] for a in others] if others else [0]
        zs = [out.strides[a] for a in others] if others else [0]
        lines, m = math.prod(dims), out.shape[axis]
        if lines == 0 or m == 0:
            return
        spec = render_cumsum(op.result.type.dtype, len(dims))
        args = [lines, m] + dims[1:] + [Ptr(x.root), x.off, x.strides[axis]] + xs
        args += [Ptr(out.root), out.off, out.strides[axis]] + zs
        P.launch(spec, P.grid_1d(lines), P.tuning.block, args)
