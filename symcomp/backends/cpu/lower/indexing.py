"""Indexing on the CPU: basic increments/sets (a copy plus a strided loop) and integer-array
gathers/scatters (scalar loops with bounds checks: an out-of-range index is an
IndexError raised after the call, never an out-of-bounds access)."""

from __future__ import annotations

from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.layout import coalesce
from symcomp.ir.ops.indexing import parse_index, resolve_index


def _aligned_strides(P, v, target_shape):
    """Strides of ``v`` broadcast (right-aligned) to ``target_shape``; 0 where it stretches."""
    lead = len(target_shape) - v.type.ndim
    st = P.strides[v]
    return [0] * lead + [0 if d == 1 else s for d, s in zip(v.type.shape, st)]


def _copy_x(E, x, res):
    from symcomp.backends.cpu.codegen.loops import Array, emit_copy

    xd, rd = E.desc(x), E.desc(res)
    emit_copy(E, xd.dims, Array(xd.ptr, x.type.dtype, xd.strides), Array(rd.ptr, x.type.dtype, rd.strides))


@lowering("sc.inc_subtensor")
class IncSubtensorLowering(Lowering):
    """A copy of x, then ``sel op= y`` over the selected (strided) region."""

    def plan(self, op, P, shapes):
        x, y = op.operands[0], op.operands[1]
        P.alloc(op.result, shapes[0])
        r = resolve_index(op.name, parse_index(op.index), P.shape[x], [P.values[v] for v in op.dyn])
        offset, sel_strides = r.view(P.strides[op.result])
        ys = _aligned_strides(P, y, r.shape)
        dims, (ys, ss) = coalesce(list(r.shape), [ys, sel_strides])
        P.set_param("at", offset)
        P.set_params("d", dims)
        P.set_params("y", ys)
        P.set_params("s", ss)

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.loops import Array, combine, emit_kernel

        x, y = op.operands[0], op.operands[1]
        _copy_x(E, x, op.result)
        dt = x.type.dtype
        rank = x.type.ndim - sum(1 for e in parse_index(op.index) if e.is_int)
        rd, yd = E.desc(op.result), E.desc(y)
        sel_ptr = E.elem_ptr(rd.ptr, dt, E.param("at"))
        dims = [E.param(f"d{a}") for a in range(rank)]
        y_arr = Array(yd.ptr, dt, [E.param(f"y{a}") for a in range(rank)],
                      inner_bcast=y.type.ndim == 0 or y.type.shape[-1] == 1)
        sel = Array(sel_ptr, dt, [E.param(f"s{a}") for a in range(rank)])
        if op.set:
            emit_kernel(E, dims, [y_arr], sel, lambda cx, v: v[0], dt)
        else:
            emit_kernel(E, dims, [sel, y_arr], sel, lambda cx, v: combine(E, "add", dt, v[0], v[1]), dt)


def _plan_advanced(op, P, x, indices, sel_shape, axis, value=None):
    """Parameters shared by gather and scatter: sizes of the selection space and strides."""
    P.set_params("d", sel_shape)
    P.set_params("x", P.strides[x])
    P.set_params("n", P.shape[x])
    nb = len(sel_shape) - (x.type.ndim - len(indices))
    bshape = sel_shape[axis: axis + nb]
    for j, ix in enumerate(indices):
        P.set_params(f"i{j}_", _aligned_strides(P, ix, bshape))
    if value is not None:
        P.set_params("y", _aligned_strides(P, value, sel_shape))


def _emit_advanced(op, E, x, indices, axis, visit):
    """Loop over the selection space; call ``visit(x_offset, sel_position)`` for valid positions."""
    from llvmlite import ir

    from symcomp.backends.cpu.codegen.context import i64
    from symcomp.backends.cpu.codegen.loops import for_range
    from symcomp.backends.cpu.codegen.scalar import ERR_INDEX

    b = E.b
    k = len(indices)
    nb = indices[0].type.ndim
    rank = x.type.ndim - k + nb
    dims = [E.param(f"d{a}") for a in range(rank)]
    xs = [E.param(f"x{a}") for a in range(x.type.ndim)]
    xn = [E.param(f"n{a}") for a in range(x.type.ndim)]
    idescs = [E.desc(ix) for ix in indices]
    istr = [[E.param(f"i{j}_{a}") for a in range(nb)] for j in range(k)]

    def leaf(ivars):
        pre, bvars, post = ivars[:axis], ivars[axis: axis + nb], ivars[axis + nb:]
        off = i64(0)
        for a, i in enumerate(pre):
            off = b.add(off, b.mul(i, xs[a]))
        for q, i in enumerate(post):
            off = b.add(off, b.mul(i, xs[axis + k + q]))
        valid = ir.Constant(ir.IntType(1), 1)
        for j in range(k):
            ipos = i64(0)
            for a, i in enumerate(bvars):
                ipos = b.add(ipos, b.mul(i, istr[j][a]))
            idx = E.load(idescs[j].ptr, indices[j].type.dtype, ipos)
            dim = xn[axis + j]
            idx = b.select(b.icmp_signed("<", idx, i64(0)), b.add(idx, dim), idx)
            ok = b.and_(b.icmp_signed(">=", idx, i64(0)), b.icmp_signed("<", idx, dim))
            valid = b.and_(valid, ok)
            off = b.add(off, b.mul(idx, xs[axis + j]))
        E.flag_error(b.not_(valid), ERR_INDEX)
        with b.if_then(valid):
            visit(off, ivars)

    def nest(level, ivars):
        if level == rank:
            leaf(ivars)
            return
        with for_range(b, 0, dims[level], name=f"g{level}") as i:
            nest(level + 1, ivars + [i])

    nest(0, [])
    del nest  # a recursive closure is a reference cycle: without this, the IR it holds waits for the collector


@lowering("sc.advanced_subtensor")
class AdvancedSubtensorLowering(Lowering):
    def plan(self, op, P, shapes):
        P.alloc(op.result, shapes[0])
        _plan_advanced(op, P, op.operands[0], list(op.indices), shapes[0], op.axis)

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64

        x = op.operands[0]
        b, dt = E.b, x.type.dtype
        xd, rd = E.desc(x), E.desc(op.result)

        def visit(off, ivars):
            pos = i64(0)
            for i, s in zip(ivars, rd.strides):
                pos = b.add(pos, b.mul(i, s))
            E.store(E.load(xd.ptr, dt, off), rd.ptr, dt, pos)

        _emit_advanced(op, E, x, list(op.indices), op.axis, visit)


@lowering("sc.advanced_inc_subtensor")
class AdvancedIncSubtensorLowering(Lowering):
    """A copy of x, then a sequential scatter (repeated indices accumulate; with set, the last wins)."""

    def plan(self, op, P, shapes):
        x, y = op.operands[0], op.operands[1]
        P.alloc(op.result, shapes[0])
        idx = list(op.indices)
        bshape = _broadcast([P.shape[i] for i in idx])
        sel = P.shape[x][: op.axis] + bshape + P.shape[x][op.axis + len(idx):]
        _plan_advanced(op, P, op.result, idx, sel, op.axis, value=y)

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import combine

        x, y = op.operands[0], op.operands[1]
        _copy_x(E, x, op.result)
        b, dt = E.b, x.type.dtype
        rd, yd = E.desc(op.result), E.desc(y)
        nb = op.indices[0].type.ndim
        rank = x.type.ndim - len(op.indices) + nb
        ys = [E.param(f"y{a}") for a in range(rank)]
        def visit(off, ivars):
            ypos = i64(0)
            for i, s in zip(ivars, ys):
                ypos = b.add(ypos, b.mul(i, s))
            v = E.load(yd.ptr, dt, ypos)
            if not op.set:
                v = combine(E, "add", dt, E.load(rd.ptr, dt, off), v)
            E.store(v, rd.ptr, dt, off)

        _emit_advanced(op, E, op.result, list(op.indices), op.axis, visit)


def _broadcast(shapes):
    out = []
    for ds in zip(*shapes):
        non1 = [d for d in ds if d != 1]
        out.append(non1[0] if non1 else 1)
    return tuple(out)
