"""``sc.cumprod``, ``sc.sort`` and ``sc.argsort`` on the CPU.

``sc.cumprod`` is ``sc.cumsum``'s loop with a product.  Sorting copies each line along the axis
into workspace as 16-byte records (the value, then its i64 position), sorts them with the C
library's ``qsort`` and a comparator generated per dtype (ascending, NaN last, ties by position:
a total order, so the result is the stable sort's whatever qsort's algorithm), and copies the
values (``sc.sort``) or the positions (``sc.argsort``) out.
"""

from __future__ import annotations

from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.cpu.lower.random import CumsumLowering

_RECORD = 16


@lowering("sc.cumprod")
class CumprodLowering(CumsumLowering):
    """A running product along the axis for every line, in order."""

    kind, identity = "mul", 1


def _comparator(module, dt):
    """``i32 cmp(ptr, ptr)`` ordering two records of dtype ``dt`` (defined once per module)."""
    from llvmlite import ir

    from symcomp.backends.cpu.codegen.context import I32, I64, I8, PTR
    from symcomp.backends.cpu.codegen.scalar import llvm_type

    name = f"symcomp_sort_cmp_{dt.name}"
    fn = module.globals.get(name)
    if fn is not None:
        return fn
    fn = ir.Function(module, ir.FunctionType(I32, [PTR, PTR]), name)
    fn.linkage = "internal"
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    pa, pb = fn.args
    mt = llvm_type(dt, in_memory=True)
    a, c = b.load(pa, typ=mt), b.load(pb, typ=mt)
    ia = b.load(b.gep(pa, [ir.Constant(I64, 8)], source_etype=I8), typ=I64)
    ib = b.load(b.gep(pb, [ir.Constant(I64, 8)], source_etype=I8), typ=I64)
    one, minus, zero = ir.Constant(I32, 1), ir.Constant(I32, -1), ir.Constant(I32, 0)
    by_index = b.select(b.icmp_signed("<", ia, ib), minus, b.select(b.icmp_signed(">", ia, ib), one, zero))
    if dt.is_float:
        lt, gt = b.fcmp_ordered("<", a, c), b.fcmp_ordered(">", a, c)
        an, cn = b.fcmp_unordered("uno", a, a), b.fcmp_unordered("uno", c, c)
        r = b.select(lt, minus, b.select(gt, one, by_index))
        r = b.select(cn, minus, r)
        r = b.select(an, one, r)
        r = b.select(b.and_(an, cn), by_index, r)
    else:
        signed = dt.kind == "i"
        lt = b.icmp_signed("<", a, c) if signed else b.icmp_unsigned("<", a, c)
        gt = b.icmp_signed(">", a, c) if signed else b.icmp_unsigned(">", a, c)
        r = b.select(lt, minus, b.select(gt, one, by_index))
    b.ret(r)
    return fn


@lowering("sc.sort", "sc.argsort")
class SortLowering(Lowering):
    """qsort of each line's records in workspace (see the module docstring)."""

    def plan(self, op, P, shapes):
        super().plan(op, P, shapes)
        n = P.shape[op.operands[0]][op.axis]
        P.set_param("ws", P.scratch(max(n, 1) * _RECORD))

    def emit(self, op, E):
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I64, I8, PTR, i64
        from symcomp.backends.cpu.codegen.loops import for_range
        from symcomp.backends.cpu.vecmath.libcalls import declare
        from symcomp.ir import types as T

        b = E.b
        x = op.operands[0]
        dt = x.type.dtype
        xd, od = E.desc(x), E.desc(op.result)
        axis = op.axis
        n = xd.dims[axis]
        base = b.load(b.gep(E.ptrs, [E.load_slot(("wsroot", 0))], source_etype=PTR), typ=PTR)
        recs = b.gep(base, [E.param("ws")], source_etype=I8)
        cmp = _comparator(b.module, dt)
        qsort = declare(b.module, "qsort", ir.VoidType(), [PTR, I64, I64, PTR])
        others = [a for a in range(x.type.ndim) if a != axis]
        positions = op.name == "sc.argsort"

        def record(k):
            return b.gep(recs, [b.mul(k, i64(_RECORD))], source_etype=I8)

        def line(xoff, ooff):
            with for_range(b, 0, n, name="in") as k:
                rec = record(k)
                E.store(E.load(xd.ptr, dt, b.add(xoff, b.mul(k, xd.strides[axis]))), rec, dt, i64(0))
                b.store(k, b.gep(rec, [i64(8)], source_etype=I8))
            b.call(qsort, [recs, n, i64(_RECORD), cmp])
            with for_range(b, 0, n, name="out") as k:
                rec = record(k)
                at = b.add(ooff, b.mul(k, od.strides[axis]))
                if positions:
                    E.store(b.load(b.gep(rec, [i64(8)], source_etype=I8), typ=I64), od.ptr, T.int64, at)
                else:
                    E.store(E.load(rec, dt, i64(0)), od.ptr, dt, at)

        def nest(level, xoff, ooff):
            if level == len(others):
                line(xoff, ooff)
                return
            a = others[level]
            with for_range(b, 0, xd.dims[a], name=f"o{level}") as i:
                nest(level + 1, b.add(xoff, b.mul(i, xd.strides[a])), b.add(ooff, b.mul(i, od.strides[a])))

        nest(0, i64(0), i64(0))
