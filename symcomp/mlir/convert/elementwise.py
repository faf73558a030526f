"""Elementwise ops, fused kernels and reductions as ``linalg.generic``.

One generic per op: the loop nest is the broadcast operand shape; an operand
axis that is statically 1 is read through the affine map at index 0 (Theano's
broadcasting rule, no data movement).  Reductions fill their result with the
identity (``linalg.fill``) and mark the reduced loops ``"reduction"``.
argmax/argmin carry (value, position) pairs and break ties toward the smaller
position, so the result does not depend on the iteration order.

Data-dependent error conditions (a negative signed integer exponent) are
computed by a second generic over the same loops that ORs the condition into
a ``tensor<i1>``; the function's status result reports it.
"""

from __future__ import annotations

from typing import Callable, Optional

from symcomp.ir import types as T
from symcomp.ir.core import Operation, Value
from symcomp.ir.opdef import OPS, Elementwise
from symcomp.mlir.convert import ExportContext, converts
from symcomp.mlir.scalar import ERR_NEGATIVE_POWER, ScalarContext, combine, emit_scalar, has_checks, identity
from symcomp.mlir.writer import affine_map, broadcast_map, elem_type, identity_map

Body = Callable[[ScalarContext, list], str]

_REDUCE_KIND = {"sc.sum": "add", "sc.prod": "mul", "sc.max": "max", "sc.min": "min"}


def _loop_shape(operands: list[Value]) -> tuple:
    return T.broadcast_shapes([v.type.shape for v in operands], "operands") if operands else ()


def loop_nest(ctx: ExportContext, op: Operation, operands: list[Value], body: Body,
              reduce: Optional[str] = None, axes: tuple = ()) -> str:
    """Emit one ``linalg.generic`` applying ``body`` over the broadcast operands; returns the result.

    Args:
        ctx: the export context.
        op: the op being converted (its single result's type is the generic's).
        operands: the tensors read (equal rank, broadcasting by static 1s).
        body: scalar code: (scalar context, operand scalars) -> result scalar.
        reduce: None, or the reduction (``add``, ``mul``, ``max``, ``min``) over ``axes``.
        axes: reduced loop axes.
    """
    w = ctx.w
    loop = _loop_shape(operands)
    rank = len(loop)
    sizes = ctx.sizes(loop, operands)
    rt = op.results[0].type
    ins = [(ctx.value(v), v.type, broadcast_map(v.type.shape, loop)) for v in operands]
    if reduce:
        init = w.filled(rt, [s for a, s in enumerate(sizes) if a not in axes], identity(reduce, rt.dtype))
        out_map = affine_map(rank, [f"d{a}" for a in range(rank) if a not in axes])
        iterators = ["reduction" if a in axes else "parallel" for a in range(rank)]
    else:
        init = w.empty(rt, sizes)
        out_map = identity_map(rank)
        iterators = ["parallel"] * rank

    def gen_body(in_args, out_args):
        cx = ScalarContext(w)
        cx.loop_sizes = sizes  # for positional ops (sc.flat_index)
        v = body(cx, in_args)
        return [combine(cx, reduce, rt.dtype, out_args[0], v) if reduce else v]

    (res,) = w.generic(ins, [(init, rt, out_map)], iterators, gen_body)
    if has_checks(op):
        _emit_check(ctx, ins, rank, body)
    return res


def _emit_check(ctx: ExportContext, ins: list, rank: int, body: Body) -> None:
    """A full reduction over the loop nest ORing the body's error conditions into a tensor<i1>."""
    w = ctx.w
    flag_t = T.scalar_type(T.bool_)
    init = w.filled(flag_t, [], False)

    def gen_body(in_args, out_args):
        conditions: list = []
        body(ScalarContext(w, conditions), in_args)
        acc = out_args[0]
        for cond, _ in conditions:
            acc = w.op(f"arith.ori {acc}, {cond} : i1")
        return [acc]

    (flag,) = w.generic(ins, [(init, flag_t, affine_map(rank, []))], ["reduction"] * rank, gen_body)
    ctx.add_flag(flag, ERR_NEGATIVE_POWER)


def _op_body(op: Operation) -> Body:
    return lambda cx, args: emit_scalar(cx, op, args)


def fused_body(op: Operation) -> Body:
    """Scalar code of an ``sc.fused`` body (rank-0 elementwise ops ending in ``sc.yield``)."""
    block = op.body

    def body(cx: ScalarContext, args: list) -> str:
        env = dict(zip(block.args, args))
        for o in block.ops:
            if o.name == "sc.yield":
                return env[o.operands[0]]
            if o.name == "sc.constant":
                env[o.result] = cx.c(o.attributes["value"].item(), o.result.type.dtype)
            else:
                env[o.result] = emit_scalar(cx, o, [env[v] for v in o.operands])
        raise ValueError("sc.fused body does not end with sc.yield")

    return body


@converts(*[name for name, cls in OPS.items() if Elementwise in cls.traits])
def _elementwise(ctx: ExportContext, op: Operation) -> None:
    if op.name == "sc.copy":  # value semantics: a copy is the value itself
        ctx.bind(op.result, ctx.value(op.operands[0]))
        return
    ctx.bind(op.result, loop_nest(ctx, op, list(op.operands), _op_body(op)))


@converts("sc.fused")
def _fused(ctx: ExportContext, op: Operation) -> None:
    res = loop_nest(ctx, op, list(op.operands), fused_body(op), op.reduce or None, tuple(op.axes))
    ctx.bind(op.result, res)


@converts(*_REDUCE_KIND)
def _reduce(ctx: ExportContext, op: Operation) -> None:
    res = loop_nest(ctx, op, [op.operands[0]], lambda cx, a: a[0], _REDUCE_KIND[op.name], tuple(op.axes))
    ctx.bind(op.result, res)


@converts("sc.argmax", "sc.argmin")
def _arg_extremum(ctx: ExportContext, op: Operation) -> None:
    """Position (C order over the reduced axes) of the first maximum/minimum; the first NaN wins."""
    w = ctx.w
    x = op.operands[0]
    dt, rank, axes = x.type.dtype, x.type.ndim, tuple(op.axes)
    kind = "max" if op.name == "sc.argmax" else "min"
    sizes = ctx.sizes(x.type.shape, [x])
    strides, acc = {}, 1
    for a in reversed(axes):
        strides[a] = acc
        acc = w.mul(acc, sizes[a])
    keep_sizes = [s for a, s in enumerate(sizes) if a not in axes]
    rt = op.result.type
    val_t = rt.with_dtype(dt)
    val_init = w.filled(val_t, keep_sizes, identity(kind, dt))
    pos_init = w.filled(rt, keep_sizes, 2 ** 63 - 1)
    out_map = affine_map(rank, [f"d{a}" for a in range(rank) if a not in axes])
    et = elem_type(dt)

    def body(in_args, out_args):
        v, (cur, cur_pos) = in_args[0], out_args
        pos = 0
        for a in axes:
            pos = w.add(pos, w.mul(w.loop_index(a), strides[a]))
        pos = w.op(f"arith.index_cast {w.ix(pos)} : index to i64")
        earlier = w.op(f"arith.cmpi slt, {pos}, {cur_pos} : i64")
        if dt.is_float:
            pred = "ogt" if kind == "max" else "olt"
            beats = w.op(f"arith.cmpf {pred}, {v}, {cur} : {et}")
            ties = w.op(f"arith.cmpf oeq, {v}, {cur} : {et}")
        else:
            pred = ("s" if dt.kind == "i" else "u") + ("gt" if kind == "max" else "lt")
            beats = w.op(f"arith.cmpi {pred}, {v}, {cur} : {et}")
            ties = w.op(f"arith.cmpi eq, {v}, {cur} : {et}")
        better = w.op(f"arith.ori {beats}, {w.op(f'arith.andi {ties}, {earlier} : i1')} : i1")
        if dt.is_float:
            true = w.const(True, T.bool_)
            v_nan = w.op(f"arith.cmpf uno, {v}, {v} : {et}")
            cur_nan = w.op(f"arith.cmpf uno, {cur}, {cur} : {et}")
            cur_num = w.op(f"arith.xori {cur_nan}, {true} : i1")
            nan_wins = w.op(f"arith.andi {v_nan}, {w.op(f'arith.ori {cur_num}, {earlier} : i1')} : i1")
            better = w.op(f"arith.ori {nan_wins}, {w.op(f'arith.andi {cur_num}, {better} : i1')} : i1")
        return [w.op(f"arith.select {better}, {v}, {cur} : {et}"),
                w.op(f"arith.select {better}, {pos}, {cur_pos} : i64")]

    iterators = ["reduction" if a in axes else "parallel" for a in range(rank)]
    _, res = w.generic([(ctx.value(x), x.type, identity_map(rank))],
                       [(val_init, val_t, out_map), (pos_init, rt, out_map)], iterators, body)
    ctx.bind(op.result, res)
