"""Indexing: basic (``tensor.extract_slice`` / ``tensor.insert_slice``) and integer-array
(gather as a ``linalg.generic`` reading with ``tensor.extract``; scatter as an
``scf.for`` nest of ``tensor.insert``).

Basic indices follow Python's rules (negative indices wrap, slices clip, see
``slice.indices``); the bounds of integer indices are checked by the symcomp
runtime before the call, like every shape.  Integer-array indices depend on
data, so they are checked in the generated code: an out-of-range index is
never read or written (``scf.if``), and a full reduction over the index arrays
sets the function's status to an IndexError.  Repeated indices accumulate in
the increment form (``np.add.at``); in the set form the last write wins.
"""

from __future__ import annotations

from symcomp.ir import types as T
from symcomp.ir.core import Operation, Value
from symcomp.ir.opdef import known_values
from symcomp.ir.ops.indexing import DYN, parse_index, resolve_index
from symcomp.mlir.convert import ExportContext, converts
from symcomp.mlir.scalar import ERR_INDEX, ScalarContext, combine
from symcomp.mlir.writer import FuncWriter, Ix, affine_map, broadcast_map, elem_type, identity_map, tensor_type


# -- basic indexing ----------------------------------------------------------------------------
def _wrap_clip(w: FuncWriter, v: Ix, n: Ix, lo: Ix, hi: Ix) -> Ix:
    """Python's slice bound normalization: v < 0 ? max(v + n, lo) : min(v, hi)."""
    return w.select(w.cmp("slt", v, 0), w.max(w.add(v, n), lo), w.min(v, hi))


def _slice(w: FuncWriter, start, stop, step, n: Ix) -> tuple[Ix, Ix, Ix]:
    """(offset, length, step) of ``slice(start, stop, step)`` over a dimension of size ``n``."""
    step = 1 if step is None else step

    def forward():
        s0 = 0 if start is None else _wrap_clip(w, start, n, 0, n)
        s1 = n if stop is None else _wrap_clip(w, stop, n, 0, n)
        return s0, w.max(w.safe_ceildiv(w.sub(s1, s0), step), 0)

    def backward():
        last = w.sub(n, 1)
        s0 = last if start is None else _wrap_clip(w, start, n, -1, last)
        s1 = -1 if stop is None else _wrap_clip(w, stop, n, -1, last)
        return s0, w.max(w.safe_ceildiv(w.sub(s0, s1), w.sub(0, step)), 0)

    if isinstance(step, int):
        s0, length = forward() if step > 0 else backward()
    else:
        up = w.cmp("sgt", step, 0)
        f0, flen = forward()
        b0, blen = backward()
        s0, length = w.select(up, f0, b0), w.select(up, flen, blen)
    return w.select(w.cmp("eq", length, 0), 0, s0), length, step


def _basic_selection(ctx: ExportContext, x: Value, index, dyn: list[Value], sel_shape):
    """Offsets, sizes and strides of ``x[index]`` for extract/insert_slice; sizes follow ``sel_shape``."""
    w = ctx.w
    values = iter(ctx.index_operand(v) for v in dyn)

    def part(p):
        return next(values) if p == DYN else p

    offsets, sizes, strides = [], [], []
    kept = iter(sel_shape)
    for ax in range(x.type.ndim):
        n = ctx.dim(x, ax)
        entry = index[ax] if ax < len(index) else None
        if entry is not None and entry.is_int:
            i = part(entry.parts[0])
            offsets.append(w.select(w.cmp("slt", i, 0), w.add(i, n), i))
            sizes.append(1)
            strides.append(1)
            continue
        parts = (None, None, None) if entry is None else tuple(part(p) for p in entry.parts)
        off, length, step = _slice(w, *parts, n)
        static = next(kept)
        offsets.append(off)
        sizes.append(static if static is not None else w.ix(length))
        strides.append(step)
    return offsets, sizes, strides


def _slice_operands(offsets, sizes, strides) -> str:
    def fmt(vs):
        return "[" + ", ".join(str(v) if isinstance(v, int) else v for v in vs) + "]"

    return f"{fmt(offsets)} {fmt(sizes)} {fmt(strides)}"


@converts("sc.subtensor")
def _subtensor(ctx: ExportContext, op: Operation) -> None:
    x, rt = op.operands[0], op.result.type
    if x.type.ndim == 0:
        ctx.bind(op.result, ctx.value(x))
        return
    sel = _basic_selection(ctx, x, parse_index(op.index), list(op.operands[1:]), rt.shape)
    res = ctx.w.op(f"tensor.extract_slice {ctx.value(x)}{_slice_operands(*sel)} : "
                   f"{ctx.ttype(x)} to {tensor_type(rt)}")
    ctx.bind(op.result, res)


@converts("sc.inc_subtensor")
def _inc_subtensor(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    x, y = op.operands[0], op.operands[1]
    dyn = list(op.operands[2:])
    index = parse_index(op.index)
    sel_shape = resolve_index(op.name, index, x.type.shape, known_values(dyn)).shape
    sel_t = x.type.with_shape(sel_shape)
    if x.type.ndim == 0:
        offsets, sizes, strides = [], [], []
    else:
        offsets, sizes, strides = _basic_selection(ctx, x, index, dyn, sel_shape)
    kept_sizes = [s for s, e in zip(sizes, index + [None] * x.type.ndim) if not (e is not None and e.is_int)]
    rank = sel_t.ndim
    y_map = broadcast_map(y.type.shape, sel_shape, rank - y.type.ndim)
    init = w.empty(sel_t, kept_sizes)
    if op.set:
        (new,) = w.generic([(ctx.value(y), y.type, y_map)], [(init, sel_t, identity_map(rank))],
                           ["parallel"] * rank, lambda ins, outs: [ins[0]])
    else:
        if x.type.ndim == 0:
            cur = ctx.value(x)
        else:
            cur = w.op(f"tensor.extract_slice {ctx.value(x)}{_slice_operands(offsets, sizes, strides)} : "
                       f"{ctx.ttype(x)} to {tensor_type(sel_t)}")
        (new,) = w.generic([(cur, sel_t, identity_map(rank)), (ctx.value(y), y.type, y_map)],
                           [(init, sel_t, identity_map(rank))], ["parallel"] * rank,
                           lambda ins, outs: [combine(ScalarContext(w), "add", x.type.dtype, ins[0], ins[1])])
    if x.type.ndim == 0:
        ctx.bind(op.result, new)
        return
    res = w.op(f"tensor.insert_slice {new} into {ctx.value(x)}{_slice_operands(offsets, sizes, strides)} : "
               f"{tensor_type(sel_t)} into {ctx.ttype(x)}")
    ctx.bind(op.result, res)


# -- integer-array indexing ------------------------------------------------------------------------
def _if_else(w: FuncWriter, cond: str, types: list[str], then, otherwise) -> str:
    """``scf.if`` with one result; ``then``/``otherwise`` emit their branch and return the yielded value."""
    return w.scf_if(cond, types, lambda: [then()], lambda: [otherwise()])[0]


def _normalize(w: FuncWriter, idx: str, dt: T.DType, n: Ix) -> tuple[str, str]:
    """(index value wrapped if negative, in-bounds flag) of an integer-array entry for a dimension ``n``."""
    v = w.to_index(idx, dt)
    if dt.kind == "u":  # no negative values: a huge unsigned index is out of bounds, not wrapped
        return v, w.op(f"arith.cmpi ult, {v}, {w.ix(n)} : index")
    v = w.select(w.cmp("slt", v, 0), w.add(v, n), v)
    ok_lo = w.op(f"arith.cmpi sge, {v}, {w.ix(0)} : index")
    ok_hi = w.op(f"arith.cmpi slt, {v}, {w.ix(n)} : index")
    return v, w.op(f"arith.andi {ok_lo}, {ok_hi} : i1")


def _all(w: FuncWriter, flags: list[str]) -> str:
    acc = flags[0]
    for f in flags[1:]:
        acc = w.op(f"arith.andi {acc}, {f} : i1")
    return acc


def _index_flag(ctx: ExportContext, op: Operation, x: Value, indices: list[Value], axis: int) -> None:
    """A full reduction over the broadcast index arrays: true if any entry is out of bounds."""
    w = ctx.w
    bshape = T.broadcast_shapes([v.type.shape for v in indices], f"{op.name} index arrays")
    dims = [ctx.dim(x, axis + j) for j in range(len(indices))]
    flag_t = T.scalar_type(T.bool_)
    init = w.filled(flag_t, [], False)
    true = w.const(True, T.bool_)

    def body(ins, outs):
        oks = [_normalize(w, a, v.type.dtype, n)[1] for a, v, n in zip(ins, indices, dims)]
        bad = w.op(f"arith.xori {_all(w, oks)}, {true} : i1")
        return [w.op(f"arith.ori {outs[0]}, {bad} : i1")]

    rank = len(bshape)
    (flag,) = w.generic([(ctx.value(v), v.type, broadcast_map(v.type.shape, bshape)) for v in indices],
                        [(init, flag_t, affine_map(rank, []))], ["reduction"] * rank, body)
    ctx.add_flag(flag, ERR_INDEX)


def _selection_sizes(ctx: ExportContext, x: Value, indices: list[Value], axis: int, shape) -> list[Ix]:
    """Sizes of the selection space x[:axis] + broadcast(indices) + x[axis + k:]."""
    k, nb = len(indices), indices[0].type.ndim
    bshape = shape[axis: axis + nb]
    b_sizes = ctx.sizes(bshape, indices)
    return ([ctx.dim(x, a) for a in range(axis)] + b_sizes
            + [ctx.dim(x, a) for a in range(axis + k, x.type.ndim)])


def _element_coords(w: FuncWriter, x: Value, indices: list[Value], axis: int, loop: list[str],
                    idx_values: list[str], dims: list[Ix]) -> tuple[list[str], str]:
    """(coordinates into x, in-bounds flag) at loop position ``loop`` given the index entries there."""
    nb = indices[0].type.ndim
    coords = [w.ix(v) for v in loop[:axis]]
    oks = []
    for idx, v, n in zip(idx_values, indices, dims):
        pos, ok = _normalize(w, idx, v.type.dtype, n)
        oks.append(ok)
        coords.append(w.ix(w.select(ok, pos, 0)))
    coords += loop[axis + nb:]
    return coords, _all(w, oks)


@converts("sc.advanced_subtensor")
def _advanced_subtensor(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    x, indices, axis = op.operands[0], list(op.operands[1:]), op.axis
    rt = op.result.type
    et = elem_type(rt.dtype)
    rank = rt.ndim
    sizes = _selection_sizes(ctx, x, indices, axis, rt.shape)
    dims = [ctx.dim(x, axis + j) for j in range(len(indices))]
    zero = w.const(0, rt.dtype)
    xv, xt = ctx.value(x), ctx.ttype(x)

    def body(ins, outs):
        loop = [w.loop_index(a) for a in range(rank)]
        coords, ok = _element_coords(w, x, indices, axis, loop, ins, dims)
        return [_if_else(w, ok, [et], lambda: w.op(f"tensor.extract {xv}[{', '.join(coords)}] : {xt}"),
                         lambda: zero)]

    ins = [(ctx.value(v), v.type, broadcast_map(v.type.shape, rt.shape, axis)) for v in indices]
    (res,) = w.generic(ins, [(w.empty(rt, sizes), rt, identity_map(rank))], ["parallel"] * rank, body)
    _index_flag(ctx, op, x, indices, axis)
    ctx.bind(op.result, res)


@converts("sc.advanced_inc_subtensor")
def _advanced_inc_subtensor(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    x, y, indices, axis = op.operands[0], op.operands[1], list(op.operands[2:]), op.axis
    xt = tensor_type(x.type)
    bshape = T.broadcast_shapes([v.type.shape for v in indices], f"{op.name} index arrays")
    shape = x.type.shape[:axis] + bshape + x.type.shape[axis + len(indices):]
    rank = len(shape)
    sizes = _selection_sizes(ctx, x, indices, axis, shape)
    dims = [ctx.dim(x, axis + j) for j in range(len(indices))]
    lead = rank - y.type.ndim

    def element(loop: list[str], acc: str) -> str:
        idx_values = []
        for v in indices:
            at = [w.ix(0) if d == 1 else loop[axis + a] for a, d in enumerate(v.type.shape)]
            idx_values.append(w.op(f"tensor.extract {ctx.value(v)}[{', '.join(at)}] : {ctx.ttype(v)}"))
        coords, ok = _element_coords(w, x, indices, axis, loop, idx_values, dims)
        y_at = [w.ix(0) if d == 1 else loop[lead + q] for q, d in enumerate(y.type.shape)]

        def update():
            yv = w.op(f"tensor.extract {ctx.value(y)}[{', '.join(y_at)}] : {ctx.ttype(y)}")
            if not op.set:
                old = w.op(f"tensor.extract {acc}[{', '.join(coords)}] : {xt}")
                yv = combine(ScalarContext(w), "add", x.type.dtype, old, yv)
            return w.op(f"tensor.insert {yv} into {acc}[{', '.join(coords)}] : {xt}")

        return _if_else(w, ok, [xt], update, lambda: acc)

    def nest(level: int, loop: list[str], acc: str) -> str:
        if level == rank:
            return element(loop, acc)
        res, i, inner = w.fresh(), w.fresh("i"), w.fresh("acc")
        with w.region(f"{res} = scf.for {i} = {w.ix(0)} to {w.ix(sizes[level])} step {w.ix(1)} "
                      f"iter_args({inner} = {acc}) -> ({xt}) {{"):
            w.line(f"scf.yield {nest(level + 1, loop + [i], inner)} : {xt}")
        return res

    result = nest(0, [], ctx.value(x))
    _index_flag(ctx, op, x, indices, axis)
    ctx.bind(op.result, result)
