"""The sequential random-number ops as ``scf.for`` loops over tensors.

* ``sc.cumsum``: for every line along the axis, a running sum carried by the loop (added strictly
  in order, as every backend does);
* ``sc.random_permutation``: the rows filled with 0 .. n-1 (a ``linalg.generic`` of
  ``linalg.index``), then Fisher-Yates in each row with the swap positions of the reference
  (:class:`symcomp.ir.ops.random.RandomPermutation`), drawn by :mod:`symcomp.ir.rngalg` on arith ops.

The elementwise random ops are scalar code in ``linalg.generic`` bodies (:mod:`symcomp.mlir.random`).
"""

from __future__ import annotations

from symcomp.ir import rngalg
from symcomp.ir.core import Operation
from symcomp.mlir.convert import ExportContext, converts
from symcomp.mlir.random import MV, MLIRArith
from symcomp.mlir.scalar import ScalarContext, combine
from symcomp.mlir.writer import elem_type, identity_map, tensor_type


def _for(w, lo, hi, carried: list, types: list, body) -> list:
    """``scf.for`` from ``lo`` to ``hi`` (index values or ints) carrying ``carried`` (SSA names of
    ``types``); ``body(i, names)`` emits the loop body and returns the values to carry on."""
    res, i = w.fresh(), w.fresh("i")
    names = [w.fresh("it") for _ in carried]
    tlist = ", ".join(types)
    lhs = res if len(carried) == 1 else f"{res}:{len(carried)}"
    iters = ", ".join(f"{n} = {c}" for n, c in zip(names, carried))
    with w.region(f"{lhs} = scf.for {i} = {w.ix(lo)} to {w.ix(hi)} step {w.ix(1)} iter_args({iters}) -> ({tlist}) {{"):
        out = body(i, names)
        w.line(f"scf.yield {', '.join(out)} : {tlist}")
    return [res] if len(carried) == 1 else [f"{res}#{k}" for k in range(len(carried))]


@converts("sc.cumsum")
def _cumsum(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    x = op.operands[0]
    rt, dt, axis = op.result.type, x.type.dtype, op.axis
    sizes = ctx.sizes(x.type.shape, [x])
    xt, et = tensor_type(rt), elem_type(dt)
    others = [a for a in range(x.type.ndim) if a != axis]
    cx = ScalarContext(w)

    def line(coords: dict, acc: str) -> str:
        def step(k, it):
            t, total = it
            at = ", ".join(k if a == axis else coords[a] for a in range(x.type.ndim))
            v = w.op(f"tensor.extract {ctx.value(x)}[{at}] : {ctx.ttype(x)}")
            total = combine(cx, "add", dt, total, v)
            return [w.op(f"tensor.insert {total} into {t}[{at}] : {xt}"), total]

        return _for(w, 0, sizes[axis], [acc, w.const(0, dt)], [xt, et], step)[0]

    def nest(level: int, coords: dict, acc: str) -> str:
        if level == len(others):
            return line(coords, acc)
        a = others[level]
        return _for(w, 0, sizes[a], [acc], [xt], lambda i, it: [nest(level + 1, {**coords, a: i}, it[0])])[0]

    ctx.bind(op.result, nest(0, {}, w.empty(rt, sizes)))


@converts("sc.random_permutation")
def _random_permutation(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    ctr_v, key_v, rows_v, n_v = op.operands
    rt = op.result.type
    rows, n = ctx.index_operand(rows_v), ctx.index_operand(n_v)
    sizes = [rt.shape[0] if rt.shape[0] is not None else rows, rt.shape[1] if rt.shape[1] is not None else n]
    xt = tensor_type(rt)
    filled = w.generic([], [(w.empty(rt, sizes), rt, identity_map(2))], ["parallel", "parallel"],
                       lambda ins, outs: [w.op(f"arith.index_cast {w.loop_index(1)} : index to i64")])[0]
    cx = ScalarContext(w)
    A = MLIRArith(cx)
    ctr = MV(ctx.scalar_operand(ctr_v), "uint64")
    key = MV(ctx.scalar_operand(key_v), "uint64")
    n64 = MV(ctx.scalar_operand(n_v), "int64")
    zero = A.c("uint64", 0)

    def row(r, it):
        r64 = MV(w.op(f"arith.index_cast {r} : index to i64"), "int64")
        first = A.mul(r64, n64)

        def step(t, it2):
            (acc,) = it2
            t64 = MV(w.op(f"arith.index_cast {t} : index to i64"), "int64")
            i = A.sub(n64, t64)  # n - 1 down to 1
            c = A.add(ctr, A.cast(A.add(first, i), "uint64"))
            words = rngalg.philox_words(A, c, zero, key)
            u = rngalg.unit_float64(A, words[0], words[1])
            fi = A.cast(i, "float64")
            jf = A.floor(A.mul(u, A.add(fi, A.c("float64", 1.0))))
            jf = A.select(A.cmp("<", jf, fi), jf, fi)
            j = A.cast(jf, "int64")
            ii = w.op(f"arith.index_cast {i.v} : i64 to index")
            jj = w.op(f"arith.index_cast {j.v} : i64 to index")
            vi = w.op(f"tensor.extract {acc}[{r}, {ii}] : {xt}")
            vj = w.op(f"tensor.extract {acc}[{r}, {jj}] : {xt}")
            acc = w.op(f"tensor.insert {vj} into {acc}[{r}, {ii}] : {xt}")
            return [w.op(f"tensor.insert {vi} into {acc}[{r}, {jj}] : {xt}")]

        return _for(w, 1, n, it, [xt], step)

    ctx.bind(op.result, _for(w, 0, rows, [filled], [xt], row)[0])

