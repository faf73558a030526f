"""Matrix products and row softmax: linalg named ops and generics.

``sc.dot`` maps by operand ranks to ``linalg.matmul`` (2x2), ``linalg.matvec``
(2x1), ``linalg.vecmat`` (1x2) and ``linalg.dot`` (1x1), accumulating into a
zero-filled result.  softmax and log_softmax are the stable three-pass
formulation (maximum, sum of exponentials, scale), each pass a
``linalg.generic`` over the row axis.
"""

from __future__ import annotations

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.mlir.convert import ExportContext, converts
from symcomp.mlir.scalar import ScalarContext, combine, identity
from symcomp.mlir.writer import affine_map, elem_type, identity_map, tensor_type

_DOT_OPS = {(2, 2): "linalg.matmul", (2, 1): "linalg.matvec", (1, 2): "linalg.vecmat", (1, 1): "linalg.dot"}


@converts("sc.dot")
def _dot(ctx: ExportContext, op: Operation) -> None:
    a, b = op.operands
    w = ctx.w
    rt = op.result.type
    sizes = []
    if a.type.ndim == 2:
        sizes.append(ctx.dim(a, 0))
    if b.type.ndim == 2:
        sizes.append(ctx.dim(b, 1))
    init = w.filled(rt, sizes, 0)
    name = _DOT_OPS[(a.type.ndim, b.type.ndim)]
    res = w.op(f"{name} ins({ctx.value(a)}, {ctx.value(b)} : {ctx.ttype(a)}, {ctx.ttype(b)}) "
               f"outs({init} : {tensor_type(rt)}) -> {tensor_type(rt)}")
    w.same_dims(res, init, rt.ndim)
    ctx.bind(op.result, res)


def _row_reduce(ctx: ExportContext, x: str, xt: T.TensorType, axis: int, sizes: list, kind: str) -> str:
    """Reduce ``x`` over ``axis`` with ``kind``; the result drops that axis."""
    w = ctx.w
    rank = xt.ndim
    rt = xt.with_shape([d for a, d in enumerate(xt.shape) if a != axis])
    init = w.filled(rt, [s for a, s in enumerate(sizes) if a != axis], identity(kind, xt.dtype))
    row_map = affine_map(rank, [f"d{a}" for a in range(rank) if a != axis])
    iterators = ["reduction" if a == axis else "parallel" for a in range(rank)]

    def body(ins, outs):
        return [combine(ScalarContext(w), kind, xt.dtype, outs[0], ins[0])]

    (res,) = w.generic([(x, xt, identity_map(rank))], [(init, rt, row_map)], iterators, body)
    return res


@converts("sc.softmax", "sc.log_softmax")
def _softmax(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    x = op.operands[0]
    xt, axis, rank = x.type, op.axis, x.type.ndim
    et = elem_type(xt.dtype)
    sizes = ctx.sizes(xt.shape, [x])
    row_t = xt.with_shape([d for a, d in enumerate(xt.shape) if a != axis])
    row_map = affine_map(rank, [f"d{a}" for a in range(rank) if a != axis])
    full = identity_map(rank)
    par = ["parallel"] * rank
    xv = ctx.value(x)
    m = _row_reduce(ctx, xv, xt, axis, sizes, "max")

    def shifted_exp(ins, outs):
        return [w.op(f"math.exp {w.op(f'arith.subf {ins[0]}, {ins[1]} : {et}')} : {et}")]

    (e,) = w.generic([(xv, xt, full), (m, row_t, row_map)], [(w.empty(xt, sizes), xt, full)], par, shifted_exp)
    s = _row_reduce(ctx, e, xt, axis, sizes, "add")
    if op.name == "sc.softmax":
        (res,) = w.generic([(e, xt, full), (s, row_t, row_map)], [(w.empty(xt, sizes), xt, full)], par,
                           lambda ins, outs: [w.op(f"arith.divf {ins[0]}, {ins[1]} : {et}")])
    else:
        row_sizes = [s_ for a, s_ in enumerate(sizes) if a != axis]
        rr = identity_map(rank - 1)
        (log_s,) = w.generic([(s, row_t, rr)], [(w.empty(row_t, row_sizes), row_t, rr)], ["parallel"] * (rank - 1),
                             lambda ins, outs: [w.op(f"math.log {ins[0]} : {et}")])

        def body(ins, outs):
            shifted = w.op(f"arith.subf {ins[0]}, {ins[1]} : {et}")
            return [w.op(f"arith.subf {shifted}, {ins[2]} : {et}")]

        (res,) = w.generic([(xv, xt, full), (m, row_t, row_map), (log_s, row_t, row_map)],
                           [(w.empty(xt, sizes), xt, full)], par, body)
    ctx.bind(op.result, res)
