"""softmax and log_softmax along one axis: three passes over each row (max; exp and sum; scale),
each a SIMD loop when the row is contiguous."""

from __future__ import annotations

import math

from llvmlite import ir

from symcomp.backends.cpu import mathlib
from symcomp.backends.cpu.emit import i64
from symcomp.backends.cpu.loops import Array, emit_kernel, for_range
from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.cpu.scalar import llvm_type


@lowering("sc.softmax", "sc.log_softmax")
class RowSoftmaxLowering(Lowering):
    def plan(self, op, P, shapes):
        x = op.operands[0]
        P.alloc(op.result, shapes[0])
        order = [a for a in range(x.type.ndim) if a != op.axis] + [op.axis]
        P.set_params("d", [P.shape[x][a] for a in order])
        P.set_params("x", [P.strides[x][a] for a in order])
        P.set_params("o", [P.strides[op.result][a] for a in order])

    def emit(self, op, E):
        x = op.operands[0]
        b, dt = E.b, x.type.dtype
        rank = x.type.ndim
        dims = [E.param(f"d{a}") for a in range(rank)]
        xs = [E.param(f"x{a}") for a in range(rank)]
        os_ = [E.param(f"o{a}") for a in range(rank)]
        xd, od = E.desc(x), E.desc(op.result)
        ft = llvm_type(dt)
        m_cell, s_cell, t_cell = b.alloca(ft), b.alloca(ft), b.alloca(ft)
        log = op.name == "sc.log_softmax"

        def cell(p):
            return Array(p, dt, [i64(0)], inner_bcast=True)

        def row(xoff, ooff):
            n = dims[-1]
            xr = Array(E.elem_ptr(xd.ptr, dt, xoff), dt, [xs[-1]])
            orow = Array(E.elem_ptr(od.ptr, dt, ooff), dt, [os_[-1]])
            b.store(ir.Constant(ft, -math.inf), m_cell)
            emit_kernel(E, [n], [xr], cell(m_cell), lambda cx, v: v[0], dt, reduce="max")
            b.store(ir.Constant(ft, 0.0), s_cell)
            if log:
                emit_kernel(E, [n], [xr, cell(m_cell)], cell(s_cell),
                            lambda cx, v: mathlib.call(cx.b, "exp", cx.b.fsub(v[0], v[1])), dt, reduce="add")
                b.store(mathlib.call(b, "log", b.load(s_cell)), t_cell)
                emit_kernel(E, [n], [xr, cell(m_cell), cell(t_cell)], orow,
                            lambda cx, v: cx.b.fsub(cx.b.fsub(v[0], v[1]), v[2]), dt)
                return
            emit_kernel(E, [n], [xr, cell(m_cell)], orow,
                        lambda cx, v: mathlib.call(cx.b, "exp", cx.b.fsub(v[0], v[1])), dt)
            emit_kernel(E, [n], [orow], cell(s_cell), lambda cx, v: v[0], dt, reduce="add")
            emit_kernel(E, [n], [orow, cell(s_cell)], orow, lambda cx, v: cx.b.fdiv(v[0], v[1]), dt)

        def outer(level, xoff, ooff):
            if level == rank - 1:
                row(xoff, ooff)
                return
            with for_range(b, 0, dims[level], name=f"r{level}") as i:
                outer(level + 1, b.add(xoff, b.mul(i, xs[level])), b.add(ooff, b.mul(i, os_[level])))

        outer(0, i64(0), i64(0))
