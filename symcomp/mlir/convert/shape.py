"""Constants and shape ops: tensor.expand_shape/collapse_shape/concat, linalg.transpose, broadcasts.

* ``sc.constant`` -> ``arith.constant dense<...>``;
* ``sc.transpose`` -> ``linalg.transpose``;
* ``sc.expand_dims`` / ``sc.squeeze`` -> ``tensor.expand_shape`` / ``tensor.collapse_shape``
  (a squeezed ``?`` axis is first cast to size 1 with ``tensor.cast``; the
  symcomp runtime has checked it is 1);
* ``sc.reshape`` -> collapse to one dimension, then expand to the target (C
  order); a non-contiguous source is copied by bufferization;
* ``sc.broadcast_to`` -> ``linalg.generic`` whose input map reads the
  statically-1 axes at index 0;
* ``sc.concatenate`` -> ``tensor.concat``;
* ``sc.dim`` -> ``tensor.dim``, ``sc.arange`` -> a generic over ``linalg.index``.
"""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.mlir.convert import ExportContext, converts
from symcomp.mlir.scalar import ScalarContext, convert
from symcomp.mlir.writer import Ix, broadcast_map, elem_type, identity_map, prod, tensor_type


def _reassociation(n_out: int, kept: list[int]) -> str:
    """Groups of ``n_out`` positions: each kept position with the unit positions beside it."""
    if not kept:
        return "[]"
    groups = [[p] for p in kept]
    for a in range(n_out):
        if a in kept:
            continue
        g = next((k for k, p in enumerate(kept) if p > a), len(kept) - 1)
        groups[g].append(a)
    return "[" + ", ".join("[" + ", ".join(str(p) for p in sorted(g)) + "]" for g in groups) + "]"


def _all_axes(rank: int) -> str:
    return "[" + ", ".join(str(a) for a in range(rank)) + "]"


def _shape_list(sizes: list[Ix]) -> str:
    return "[" + ", ".join(str(s) if isinstance(s, int) else s for s in sizes) + "]"


def expand(w, src: str, st: T.TensorType, rt: T.TensorType, kept: list[int], sizes: list[Ix]) -> str:
    """``tensor.expand_shape`` of ``src`` into ``rt``; ``kept[i]`` is the result position of source dim i."""
    if st == rt:
        return src
    out_sizes = [d if d is not None else s for d, s in zip(rt.shape, sizes)]
    return w.op(f"tensor.expand_shape {src} {_reassociation(rt.ndim, kept)} output_shape "
                f"{_shape_list(out_sizes)} : {tensor_type(st)} into {tensor_type(rt)}")


def collapse(w, src: str, st: T.TensorType, rt: T.TensorType, kept: list[int]) -> str:
    """``tensor.collapse_shape`` of ``src`` into ``rt``; ``kept[i]`` is the source position of result dim i."""
    if st == rt:
        return src
    return w.op(f"tensor.collapse_shape {src} {_reassociation(st.ndim, kept)} : "
                f"{tensor_type(st)} into {tensor_type(rt)}")


@converts("sc.constant")
def _constant(ctx: ExportContext, op: Operation) -> None:
    ctx.bind(op.result, ctx.w.dense(op.attributes["value"], op.result.type))


@converts("sc.transpose")
def _transpose(ctx: ExportContext, op: Operation) -> None:
    x, perm = op.operands[0], list(op.perm)
    if perm == sorted(perm):
        ctx.bind(op.result, ctx.value(x))
        return
    w, rt = ctx.w, op.result.type
    init = w.empty(rt, [ctx.dim(x, p) for p in perm])
    res = w.op(f"linalg.transpose ins({ctx.value(x)} : {ctx.ttype(x)}) outs({init} : {tensor_type(rt)}) "
               f"permutation = [{', '.join(str(p) for p in perm)}]")
    w.same_dims(res, init, rt.ndim)
    ctx.bind(op.result, res)


@converts("sc.expand_dims")
def _expand_dims(ctx: ExportContext, op: Operation) -> None:
    x, rt = op.operands[0], op.result.type
    kept = [j for j in range(rt.ndim) if j not in op.axes]
    src_dims = iter(range(x.type.ndim))
    sizes = [1 if j in op.axes else ctx.dim(x, next(src_dims)) for j in range(rt.ndim)]
    ctx.bind(op.result, expand(ctx.w, ctx.value(x), x.type, rt, kept, sizes))


@converts("sc.squeeze")
def _squeeze(ctx: ExportContext, op: Operation) -> None:
    x, rt = op.operands[0], op.result.type
    unit = x.type.with_shape([1 if a in op.axes else d for a, d in enumerate(x.type.shape)])
    src = ctx.w.cast(ctx.value(x), x.type, unit)
    kept = [a for a in range(x.type.ndim) if a not in op.axes]
    ctx.bind(op.result, collapse(ctx.w, src, unit, rt, kept))


def _dyn_sizes(ctx: ExportContext, op: Operation, spec) -> list:
    """The ``?`` entries of a shape attribute replaced by index values of the trailing operands."""
    dyn = iter(op.operands[1:])
    return [ctx.index_operand(next(dyn)) if s is None else s for s in spec]


@converts("sc.reshape")
def _reshape(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    x, rt = op.operands[0], op.result.type
    xt = x.type
    spec = _dyn_sizes(ctx, op, op.shape)
    src_sizes = ctx.sizes(xt.shape, [x])
    total = prod(src_sizes, w)
    sizes: list[Ix] = [d if d is not None else s for d, s in zip(rt.shape, spec)]
    if -1 in sizes:
        j = sizes.index(-1)
        sizes[j] = w.safe_divui(total, prod([s for k, s in enumerate(sizes) if k != j], w))
    n_x = int(np.prod(xt.shape)) if xt.is_static else None
    flat_t = xt.with_shape((n_x,))
    src = ctx.value(x)
    if xt.ndim == 0:
        flat = expand(w, src, xt, flat_t, [], [1])
    elif xt.ndim == 1:
        flat = src
    else:
        flat = w.op(f"tensor.collapse_shape {src} [{_all_axes(xt.ndim)}] : {tensor_type(xt)} into {tensor_type(flat_t)}")
    n_r = int(np.prod(rt.shape)) if rt.is_static else None
    target_flat = rt.with_shape((n_r,))
    flat = w.cast(flat, flat_t, target_flat)
    if rt.ndim == 0:
        res = collapse(w, flat, target_flat, rt, [])
    elif rt.ndim == 1:
        res = flat
    elif sum(d is None for d in rt.shape) > 1:
        # LLVM 22's expand-strided-metadata crashes on an expand_shape group with several dynamic
        # sizes (llvm/llvm-project#186830, fixed in LLVM 23): use tensor.reshape with a shape operand.
        shape = w.op(f"tensor.from_elements {', '.join(w.ix(s) for s in sizes)} : tensor<{rt.ndim}xindex>")
        res = w.op(f"tensor.reshape {flat}({shape}) : ({tensor_type(target_flat)}, tensor<{rt.ndim}xindex>) "
                   f"-> {tensor_type(rt)}")
    else:
        res = w.op(f"tensor.expand_shape {flat} [{_all_axes(rt.ndim)}] output_shape "
                   f"{_shape_list(sizes)} : {tensor_type(target_flat)} into {tensor_type(rt)}")
    ctx.bind(op.result, res)


@converts("sc.broadcast_to")
def _broadcast_to(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    x, rt = op.operands[0], op.result.type
    spec = _dyn_sizes(ctx, op, op.shape)
    sizes = [d if d is not None else s for d, s in zip(rt.shape, spec)]
    lead = rt.ndim - x.type.ndim
    (res,) = w.generic([(ctx.value(x), x.type, broadcast_map(x.type.shape, rt.shape, lead))],
                       [(w.empty(rt, sizes), rt, identity_map(rt.ndim))], ["parallel"] * rt.ndim,
                       lambda ins, outs: [ins[0]])
    ctx.bind(op.result, res)


@converts("sc.concatenate")
def _concatenate(ctx: ExportContext, op: Operation) -> None:
    xs = list(op.operands)
    if len(xs) == 1:
        ctx.bind(op.result, ctx.value(xs[0]))
        return
    names = ", ".join(ctx.value(x) for x in xs)
    types = ", ".join(ctx.ttype(x) for x in xs)
    res = ctx.w.op(f"tensor.concat dim({op.axis}) {names} : ({types}) -> {tensor_type(op.result.type)}")
    ctx.bind(op.result, res)


@converts("sc.dim")
def _dim(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    d = ctx.dim(op.operands[0], op.axis)
    if isinstance(d, int):
        ctx.bind(op.result, w.dense(np.asarray(d, dtype=np.int64), op.result.type))
        return
    v = w.op(f"arith.index_cast {d} : index to i64")
    ctx.bind(op.result, w.op(f"tensor.from_elements {v} : tensor<i64>"))


@converts("sc.arange")
def _arange(ctx: ExportContext, op: Operation) -> None:
    """Length max(0, ceil((stop - start) / step)); element i is start + i * step (``np.arange``)."""
    w = ctx.w
    rt = op.result.type
    dt = rt.dtype
    et = elem_type(dt)
    start, stop, step = (ctx.scalar_operand(v) for v in op.operands)
    n: Ix
    if rt.shape[0] is not None:
        n = rt.shape[0]
    elif dt.is_float:  # in f64 whatever the dtype: the length must be the type rule's (Python floats)
        cx = ScalarContext(w)
        lo, hi, st = (convert(cx, v, dt, T.float64) for v in (start, stop, step))
        q = w.op(f"arith.divf {w.op(f'arith.subf {hi}, {lo} : f64')}, {st} : f64")
        count = convert(cx, w.op(f"math.ceil {q} : f64"), T.float64, T.int64)
        n = w.max(w.op(f"arith.index_cast {count} : i64 to index"), 0)
    elif dt.kind == "i":
        lo, hi, st = (w.to_index(v, dt) for v in (start, stop, step))
        n = w.max(w.safe_ceildiv(w.sub(hi, lo), st), 0)
    else:
        lo, hi, st = (w.to_index(v, dt) for v in (start, stop, step))
        ascending = w.op(f"arith.cmpi ugt, {hi}, {lo} : index")
        n = w.select(ascending, w.safe_ceildiv(w.sub(hi, lo), st), 0)

    def body(ins, outs):
        i = w.loop_index(0)
        if dt.is_float:
            fi = w.op(f"arith.sitofp {w.op(f'arith.index_cast {i} : index to i64')} : i64 to {et}")
            return [w.op(f"arith.addf {start}, {w.op(f'arith.mulf {fi}, {step} : {et}')} : {et}")]
        ii = w.op(f"arith.index_cast {i} : index to {et}")
        return [w.op(f"arith.addi {start}, {w.op(f'arith.muli {ii}, {step} : {et}')} : {et}")]

    (res,) = w.generic([], [(w.empty(rt, [n]), rt, identity_map(1))], ["parallel"], body)
    ctx.bind(op.result, res)
