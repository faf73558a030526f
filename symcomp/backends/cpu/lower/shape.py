"""Views (transpose, expand_dims, squeeze, broadcast_to, subtensor), reshape, constants,
sc.dim, concatenate and arange."""

from __future__ import annotations

from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.layout import contiguous_strides, is_c_contiguous
from symcomp.ir.ops.indexing import parse_index, resolve_index


class _View(Lowering):
    emits_code = False

    def emit(self, op, E):  # pragma: no cover - views emit nothing
        pass


@lowering("sc.transpose")
class TransposeLowering(_View):
    def plan(self, op, P, shapes):
        x = op.operands[0]
        P.view(op.result, x, shapes[0], [P.strides[x][p] for p in op.perm])


@lowering("sc.expand_dims")
class ExpandDimsLowering(_View):
    def plan(self, op, P, shapes):
        x = op.operands[0]
        it = iter(P.strides[x])
        P.view(op.result, x, shapes[0], [0 if a in op.axes else next(it) for a in range(len(shapes[0]))])


@lowering("sc.squeeze")
class SqueezeLowering(_View):
    def plan(self, op, P, shapes):
        x = op.operands[0]
        P.view(op.result, x, shapes[0], [s for a, s in enumerate(P.strides[x]) if a not in op.axes])


@lowering("sc.broadcast_to")
class BroadcastToLowering(_View):
    def plan(self, op, P, shapes):
        x = op.operands[0]
        out = shapes[0]
        lead = len(out) - x.type.ndim
        st = [0] * lead + [0 if d == 1 else s for d, s in zip(x.type.shape, P.strides[x])]
        P.view(op.result, x, out, st)


@lowering("sc.subtensor")
class SubtensorLowering(_View):
    def plan(self, op, P, shapes):
        x = op.operands[0]
        dyn = [P.values[v] for v in op.dyn]
        r = resolve_index(op.name, parse_index(op.index), P.shape[x], dyn)
        offset, strides = r.view(P.strides[x])
        P.view(op.result, x, shapes[0], strides, offset)


@lowering("sc.constant")
class ConstantLowering(_View):
    def plan(self, op, P, shapes):
        P.constant(op.result, P.c.const_roots[op.result])


@lowering("sc.reshape")
class ReshapeLowering(Lowering):
    """A view of C-contiguous data; otherwise a copy (in C order) into a fresh buffer."""

    def plan(self, op, P, shapes):
        x = op.operands[0]
        if is_c_contiguous(P.shape[x], P.strides[x]):
            P.view(op.result, x, shapes[0], contiguous_strides(shapes[0]))
            P.set_param("copy", 0)
        else:
            P.alloc(op.result, shapes[0])
            P.set_param("copy", 1)
        P.set_params("c", contiguous_strides(P.shape[x]))

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        x = op.operands[0]
        b = E.b
        copy = b.icmp_signed("!=", E.param("copy"), i64(0))
        with b.if_then(copy):
            xd, od = E.desc(x), E.desc(op.result)
            dst = Array(od.ptr, x.type.dtype, [E.param(f"c{a}") for a in range(x.type.ndim)])
            emit_copy(E, xd.dims, Array(xd.ptr, x.type.dtype, xd.strides), dst)


@lowering("sc.dim")
class DimLowering(Lowering):
    def plan(self, op, P, shapes):
        P.alloc(op.result, ())
        P.set_param("value", P.shape[op.operands[0]][op.axis])

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64

        E.store(E.param("value"), E.desc(op.result).ptr, op.result.type.dtype, i64(0))


@lowering("sc.concatenate")
class ConcatenateLowering(Lowering):
    def plan(self, op, P, shapes):
        P.alloc(op.result, shapes[0])
        step = P.strides[op.result][op.axis]
        start = 0
        for k, x in enumerate(op.operands):
            P.set_param(f"at{k}", start * step)
            start += P.shape[x][op.axis]

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        od = E.desc(op.result)
        dt = op.result.type.dtype
        for k, x in enumerate(op.operands):
            xd = E.desc(x)
            ptr = E.elem_ptr(od.ptr, dt, E.param(f"at{k}"))
            emit_copy(E, xd.dims, Array(xd.ptr, dt, xd.strides), Array(ptr, dt, od.strides))


@lowering("sc.arange")
class ArangeLowering(Lowering):
    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import for_range
        from symcomp.backends.cpu.codegen.scalar import llvm_type

        b, dt = E.b, op.result.type.dtype
        start = E.load(E.desc(op.operands[0]).ptr, dt, i64(0))
        step = E.load(E.desc(op.operands[2]).ptr, dt, i64(0))
        od = E.desc(op.result)
        with for_range(b, 0, od.dims[0], name="r") as i:
            if dt.is_float:
                v = b.fadd(start, b.fmul(b.sitofp(i, llvm_type(dt)), step))
            else:
                v = b.add(start, b.mul(b.trunc(i, llvm_type(dt)) if dt.bits < 64 else i, step))
            E.store(v, od.ptr, dt, b.mul(i, od.strides[0]))

