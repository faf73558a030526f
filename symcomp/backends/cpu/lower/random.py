"""The random-number ops on the CPU.

The elementwise ones (``sc.flat_index``, ``sc.philox``, ``sc.unit_float``, ``sc.ndtri``,
``sc.random_poisson``) are loop nests like any elementwise op, and fuse with their consumers;
their scalar code (SIMD Philox rounds inline in the loop) is in
:mod:`symcomp.backends.cpu.codegen.random`.  ``sc.random_permutation`` runs Fisher-Yates, one
row after another; ``sc.cumsum`` adds along its axis strictly in order, one line at a time.
"""

from __future__ import annotations

from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.cpu.lower.elementwise import ElementwiseLowering


@lowering("sc.flat_index", "sc.philox", "sc.random_bits", "sc.unit_float", "sc.ndtri", "sc.exponential",
           "sc.random_poisson",
           "sc.random_binomial")
class RandomElementwiseLowering(ElementwiseLowering):
    """An elementwise random op on its own (unfused): its scalar code in a loop nest."""


def _load_scalar(E, v):
    from symcomp.backends.cpu.codegen.context import i64

    return E.load(E.desc(v).ptr, v.type.dtype, i64(0))


@lowering("sc.random_permutation")
class RandomPermutationLowering(Lowering):
    """Fisher-Yates in each row, with the swap positions drawn as in the reference."""

    def emit(self, op, E):
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I64
        from symcomp.backends.cpu.codegen.loops import for_range
        from symcomp.backends.cpu.codegen.random import LV, LLVMArith
        from symcomp.ir import rngalg
        from symcomp.ir import types as T

        b = E.b
        ctr, key = _load_scalar(E, op.operands[0]), _load_scalar(E, op.operands[1])
        out = E.desc(op.result)
        rows, n = out.dims
        s0, s1 = out.strides
        A = LLVMArith(E.scalar_context(None))
        zero64 = LV(ir.Constant(I64, 0), "uint64")
        with for_range(b, 0, rows, name="row") as r:
            base = b.mul(r, s0)
            with for_range(b, 0, n, name="fill") as i:
                E.store(i, out.ptr, T.int64, b.add(base, b.mul(i, s1)))
            first = b.mul(r, n)
            with for_range(b, 1, n, name="step") as t:
                i = b.sub(n, t)  # n - 1 down to 1
                c = LV(b.add(ctr, b.add(first, i)), "uint64")
                w = rngalg.philox_words(A, c, zero64, LV(key, "uint64"))
                u = rngalg.unit_float64(A, w[0], w[1]).v
                fi = b.sitofp(i, ir.DoubleType())
                jf = A.floor(LV(b.fmul(u, b.fadd(fi, ir.Constant(ir.DoubleType(), 1.0))), "float64")).v
                jf = b.select(b.fcmp_ordered("<", jf, fi), jf, fi)
                j = b.fptosi(jf, I64)
                pi = b.add(base, b.mul(i, s1))
                pj = b.add(base, b.mul(j, s1))
                vi, vj = E.load(out.ptr, T.int64, pi), E.load(out.ptr, T.int64, pj)
                E.store(vj, out.ptr, T.int64, pi)
                E.store(vi, out.ptr, T.int64, pj)


@lowering("sc.cumsum")
class CumsumLowering(Lowering):
    """A running sum along the axis for every line, in order (a running product for
    ``sc.cumprod``, :mod:`symcomp.backends.cpu.lower.extra`)."""

    kind, identity = "add", 0

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import combine, for_range

        b = E.b
        x = op.operands[0]
        dt = x.type.dtype
        xd, od = E.desc(x), E.desc(op.result)
        axis = op.axis
        others = [a for a in range(x.type.ndim) if a != axis]
        acc = E.entry_alloca(E.scalar_context(None).type(dt))
        cx = E.scalar_context(None)

        def nest(level, xoff, ooff):
            if level == len(others):
                b.store(cx.const(dt, self.identity), acc)
                with for_range(b, 0, xd.dims[axis], name="k") as k:
                    v = combine(E, self.kind, dt, b.load(acc), E.load(xd.ptr, dt, b.add(xoff, b.mul(k, xd.strides[axis]))))
                    b.store(v, acc)
                    E.store(v, od.ptr, dt, b.add(ooff, b.mul(k, od.strides[axis])))
                return
            a = others[level]
            with for_range(b, 0, xd.dims[a], name=f"o{level}") as i:
                nest(level + 1, b.add(xoff, b.mul(i, xd.strides[a])), b.add(ooff, b.mul(i, od.strides[a])))

        nest(0, i64(0), i64(0))
        del nest
