"""``sc.dot`` on the CPU: BLAS gemm/gemv/dot for float32/float64, loops for integers.

BLAS is column-major; a row-major result ``C = A @ B`` is computed as
``C^T = B^T @ A^T`` (the usual trick, no copies).  An operand whose strides
fit neither layout (or a vector with a non-positive stride) is first copied
into workspace.  With a 32-bit-integer BLAS (SciPy's), larger dimensions raise
ValueError; NumPy's ILP64 OpenBLAS takes 64-bit sizes.
"""

from __future__ import annotations

from symcomp.backends.cpu.runtime import host
from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.layout import BLAS_N as _N, BLAS_T as _T, blas_layout, contiguous_strides

_INT_MAX = 2**31 - 1


def _layout(shape, strides):
    """BLAS layout of a matrix operand, or the increment of a vector operand (None: copy first)."""
    if len(shape) == 2:
        return blas_layout(shape[0], shape[1], strides[0], strides[1])
    if shape[0] <= 1:
        return _N, 1
    return (_N, strides[0]) if strides[0] > 0 else None


def _check_blas_size(*dims):
    if host.blas_int_bits() == 64:
        return
    for d in dims:
        if d > _INT_MAX:
            raise ValueError(f"sc.dot: dimension {d} exceeds BLAS's 32-bit size limit ({_INT_MAX})")


@lowering("sc.dot")
class DotLowering(Lowering):
    def plan(self, op, P, shapes):
        a, b = op.operands[:2]
        P.alloc(op.result, shapes[0])
        sa, sb = P.shape[a], P.shape[b]
        m = sa[0] if a.type.ndim == 2 else 1
        k = sa[-1]
        n = sb[1] if b.type.ndim == 2 else 1
        _check_blas_size(m, n, k)
        P.set_param("m", m)
        P.set_param("n", n)
        P.set_param("k", k)
        P.set_param("mode", 0 if m * n == 0 else (1 if k == 0 else 2))
        item = a.type.dtype.itemsize
        for name, v in (("a", a), ("b", b)):
            shape, st = P.shape[v], P.strides[v]
            lay = _layout(shape, st)
            copy = lay is None
            cst = contiguous_strides(shape)
            if copy:
                lay = _layout(shape, cst)
            P.set_param(f"{name}copy", int(copy))
            P.set_param(f"{name}scratch", P.scratch(_prod(shape) * item) if copy else 0)
            P.set_params(f"{name}c", cst)
            P.set_param(f"{name}trans", lay[0])
            P.set_param(f"{name}ld", lay[1])

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import emit_fill

        a, b = op.operands[:2]
        dt = op.result.type.dtype
        bld = E.b
        od = E.desc(op.result)
        mode = E.param("mode")
        with bld.if_then(bld.icmp_signed("==", mode, i64(1))):
            emit_fill(E, od.ptr, dt, bld.mul(E.param("m"), E.param("n")), 0)
        with bld.if_then(bld.icmp_signed("==", mode, i64(2))):
            if dt.is_float:
                ptrs = [self._operand(E, v, name) for name, v in (("a", a), ("b", b))]
                self._blas(E, op, ptrs, od)
            else:
                self._loops(E, op, od)

    def _operand(self, E, v, name):
        """The operand's pointer, after copying it to workspace if the planner asked."""
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import PTR, i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        b = E.b
        d = E.desc(v)
        copy = b.icmp_signed("!=", E.param(f"{name}copy"), i64(0))
        ws_root = E.load_slot(("wsroot", 0))
        base = b.load(b.gep(E.ptrs, [ws_root], source_etype=PTR), typ=PTR)
        scratch = b.gep(base, [E.param(f"{name}scratch")], source_etype=ir.IntType(8))
        with b.if_then(copy):
            dst = Array(scratch, v.type.dtype, [E.param(f"{name}c{i}") for i in range(v.type.ndim)])
            emit_copy(E, d.dims, Array(d.ptr, v.type.dtype, d.strides), dst)
        return b.select(copy, scratch, d.ptr)

    def _blas(self, E, op, ptrs, od, alpha: float = 1.0, beta: float = 0.0):
        """C = alpha * A @ B + beta * C (gemm), or gemv/dot for vectors (alpha 1, beta 0).

        In a function whose products run on the thread team (``E.mod.team_blas``,
        :mod:`symcomp.backends.cpu.runtime.teamblas`), a large gemm or gemv is cut into blocks of
        :data:`TEAM_BLOCK` rows (or columns, when the result has more of them) of its result,
        and each thread computes its contiguous run of blocks with single-threaded calls of at most
        :data:`POLL_BLOCKS` blocks each, polling the interrupt flag before each call."""
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I1, i64

        a, b_ = op.operands[:2]
        b = E.b
        kind = "dot" if a.type.ndim == 1 and b_.type.ndim == 1 else \
            ("gemm" if a.type.ndim == 2 and b_.type.ndim == 2 else ("gemv_a" if a.type.ndim == 2 else "gemv_b"))
        m, n, k = E.param("m"), E.param("n"), E.param("k")
        vals = {"m": m, "n": n, "k": k, "ta": E.param("atrans"), "tb": E.param("btrans"), "lda": E.param("ald"),
                "ldb": E.param("bld"), "ldc": b.select(b.icmp_signed(">", n, i64(1)), n, i64(1)),
                "pa": ptrs[0], "pb": ptrs[1], "pc": od.ptr}
        call = _BlasCall(op.result.type.dtype, kind, alpha, beta)
        if kind == "dot" or not E.mod.team_blas:
            call.emit(E, b, vals)
            return
        from symcomp.backends.cpu.codegen import parallel

        # Split the longer side of the result (a gemv's only side); blocks of TEAM_BLOCK.
        split_m = b.icmp_signed(">=", m, n) if kind == "gemm" else ir.Constant(I1, kind == "gemv_a")
        extent = b.select(split_m, m, n)
        blocks = b.udiv(b.add(extent, i64(TEAM_BLOCK - 1)), i64(TEAM_BLOCK))
        mnk = b.mul(b.mul(m, n), k)
        work = b.lshr(mnk, i64(3)) if kind == "gemm" else mnk  # a gemm does k multiply-adds per element read
        names = list(vals)

        def body(W, lo, hi, live):
            from symcomp.backends.cpu.codegen.loops import polled_range

            with polled_range(W, lo, hi, POLL_BLOCKS, POLL_BLOCKS, name="blk") as c0:
                c1 = W.b.add(c0, i64(POLL_BLOCKS))
                run(W, c0, W.b.select(W.b.icmp_signed("<", c1, hi), c1, hi), live)

        def run(W, lo, hi, live):  # blocks [lo, hi) in one call
            wb = W.b
            v = dict(zip(names, live[:-1]))
            by_rows = wb.icmp_signed("!=", live[-1], i64(0))
            ext = wb.select(by_rows, v["m"], v["n"])
            r0 = wb.mul(lo, i64(TEAM_BLOCK))
            r1 = wb.mul(hi, i64(TEAM_BLOCK))
            r1 = wb.select(wb.icmp_signed("<", r1, ext), r1, ext)
            with wb.if_then(wb.icmp_signed(">", r1, r0)):
                part = dict(v)
                part["m"] = wb.select(by_rows, wb.sub(r1, r0), v["m"])
                part["n"] = wb.select(by_rows, v["n"], wb.sub(r1, r0))
                part["pa"] = wb.select(by_rows, W.elem_ptr(v["pa"], call.dt, _row_offset(wb, v["ta"], v["lda"], r0)),
                                       v["pa"])
                part["pb"] = wb.select(by_rows, v["pb"],
                                       W.elem_ptr(v["pb"], call.dt, _col_offset(wb, v["tb"], v["ldb"], r0)))
                part["pc"] = W.elem_ptr(v["pc"], call.dt, wb.select(by_rows, wb.mul(r0, v["ldc"]), r0))
                call.emit(W, wb, part)

        parallel.emit_parallel_for(E, blocks, work, list(vals.values()) + [b.zext(split_m, i64(0).type)], body)

    def _loops(self, E, op, od):
        """Integer matrix products: plain loops (exact, wrapping like NumPy)."""
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import for_range
        from symcomp.backends.cpu.codegen.scalar import llvm_type

        a, b_ = op.operands[:2]
        b = E.b
        dt = op.result.type.dtype
        ad, bd = E.desc(a), E.desc(b_)
        m, n, k = E.param("m"), E.param("n"), E.param("k")
        sa = (ad.strides[0], ad.strides[1]) if a.type.ndim == 2 else (i64(0), ad.strides[0])
        sb = (bd.strides[0], bd.strides[1]) if b_.type.ndim == 2 else (bd.strides[0], i64(0))
        acc = b.alloca(llvm_type(dt))
        with for_range(b, 0, m, name="i") as i:
            with for_range(b, 0, n, name="j") as j:
                b.store(ir.Constant(llvm_type(dt), 0), acc)
                with for_range(b, 0, k, name="p") as p:
                    x = E.load(ad.ptr, dt, b.add(b.mul(i, sa[0]), b.mul(p, sa[1])))
                    y = E.load(bd.ptr, dt, b.add(b.mul(p, sb[0]), b.mul(j, sb[1])))
                    b.store(b.add(b.load(acc), b.mul(x, y)), acc)
                E.store(b.load(acc), od.ptr, dt, b.add(b.mul(i, n), j))


@lowering("sc.gemm")
class GemmLowering(DotLowering):
    """``alpha * a @ b + beta * c``: the output is filled with ``beta * c`` (broadcast, one pass),
    then one BLAS gemm accumulates ``alpha * a @ b`` into it (BLAS beta = 1)."""

    def plan(self, op, P, shapes):
        super().plan(op, P, shapes)
        c = op.c
        P.set_params("cs", [0 if d == 1 else s for d, s in zip(c.type.shape, P.strides[c])])

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_kernel

        dt = op.result.type.dtype
        bld = E.b
        od = E.desc(op.result)
        cd = E.desc(op.c)
        beta = op.beta
        src = Array(cd.ptr, dt, [E.param("cs0"), E.param("cs1")], inner_bcast=op.c.type.shape[-1] == 1)
        fill = lambda: emit_kernel(  # noqa: E731
            E, od.dims, [src], Array(od.ptr, dt, od.strides),
            (lambda cx, v: v[0]) if beta == 1.0 else (lambda cx, v: cx.b.fmul(v[0], cx.const(dt, beta))),
            dt, parallel=True)
        if beta == 1.0:  # in place (the inplace pass gave c's buffer to the result): nothing to copy
            with bld.if_then(bld.icmp_unsigned("!=", bld.ptrtoint(od.ptr, i64(0).type),
                                               bld.ptrtoint(cd.ptr, i64(0).type))):
                fill()
        else:
            fill()
        with bld.if_then(bld.icmp_signed("==", E.param("mode"), i64(2))):
            ptrs = [self._operand(E, v, name) for name, v in (("a", op.a), ("b", op.b))]
            self._blas(E, op, ptrs, od, alpha=op.alpha, beta=1.0)


TEAM_BLOCK = 16
"""Rows (or columns) of a result per block when a product is split across the thread team.  A
thread's share is a whole number of blocks, so that it fills the register blocks of OpenBLAS's
x86 kernels, and column blocks start at a multiple of 64 bytes from the start of a row."""


POLL_BLOCKS = 32
"""Blocks per BLAS call of a thread's share of a team product (512 rows or columns), the interrupt
flag polled between calls.  Each call packs its own copy of the other operand, so fewer, larger
calls cost less; a 2000 x 2000 float64 product on 2 threads, one call per thread against calls of
32 blocks, alternating in one process (12 each, loaded machine): medians 158.9 / 161.8 ms and
298 / 311 ms in two runs, minima within 1%.  A 3000 x 3000 product stopped 0.7 s into a 3 s call."""


def _row_offset(b, trans, ld, r):
    """Elements from a row-major matrix handed to BLAS as ``(trans, ld)`` (:func:`blas_layout`) to its row ``r``."""
    from symcomp.backends.cpu.codegen.context import i64

    return b.select(b.icmp_signed("==", trans, i64(_N)), b.mul(r, ld), r)


def _col_offset(b, trans, ld, c):
    """Elements from a row-major matrix handed to BLAS as ``(trans, ld)`` to its column ``c``."""
    from symcomp.backends.cpu.codegen.context import i64

    return b.select(b.icmp_signed("==", trans, i64(_N)), c, b.mul(c, ld))


class _BlasCall:
    """One BLAS call computing a whole product, or one block of it, from the values ``v``: ``m``,
    ``n``, ``k``, ``ta``, ``tb``, ``lda``, ``ldb``, ``ldc`` (i64; ``ldc`` the whole result's row
    length, 1 for a vector, also for a block of its columns) and the pointers ``pa``, ``pb``, ``pc``.

    BLAS is column-major: the row-major ``C = A @ B`` is computed as ``C^T = B^T @ A^T``.
    """

    def __init__(self, dt, kind: str, alpha: float, beta: float):
        self.dt, self.kind, self.alpha, self.beta = dt, kind, alpha, beta

    def emit(self, E, b, v) -> None:
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import PTR, i64
        from symcomp.backends.cpu.vecmath.libcalls import declare
        from symcomp.backends.cpu.codegen.scalar import llvm_type

        ft = llvm_type(self.dt)
        pfx = "d" if self.dt.bits == 64 else "s"
        bint = ir.IntType(host.blas_int_bits())
        module = b.module

        def cell(t, x):
            p = E.entry_alloca(t)
            b.store(x, p)
            return p

        def num(x):  # a BLAS integer argument (by reference)
            return cell(bint, x if bint.width == 64 else b.trunc(x, bint))

        def ch(x):
            return cell(ir.IntType(8), b.trunc(x, ir.IntType(8)))

        def blas(routine, ret, nargs):  # every argument by reference
            return declare(module, f"symcomp_{pfx}{routine}", ret, [PTR] * nargs)

        m, n, k, ta, tb, lda, ldb = (v[x] for x in ("m", "n", "k", "ta", "tb", "lda", "ldb"))
        if self.kind == "gemm":
            gemm = blas("gemm", ir.VoidType(), 13)
            b.call(gemm, [ch(tb), ch(ta), num(n), num(m), num(k), cell(ft, ir.Constant(ft, self.alpha)), v["pb"],
                          num(ldb), v["pa"], num(lda), cell(ft, ir.Constant(ft, self.beta)), v["pc"], num(v["ldc"])])
            return
        if self.kind in ("gemv_a", "gemv_b"):  # y(m) = A(m,k) x(k), or y(n) = B(k,n)^T x(k)
            gemv = blas("gemv", ir.VoidType(), 11)
            one, zero = cell(ft, ir.Constant(ft, 1.0)), cell(ft, ir.Constant(ft, 0.0))
            on_a = self.kind == "gemv_a"
            mat, ld, vec, inc, out = (v["pa"], lda, v["pb"], ldb, m) if on_a else (v["pb"], ldb, v["pa"], lda, n)
            is_n = b.icmp_signed("==", ta if on_a else tb, i64(_N))
            trans = b.select(is_n, i64(_T), i64(_N)) if on_a else b.select(is_n, i64(_N), i64(_T))
            plain = b.icmp_signed("==", trans, i64(_N))  # BLAS's matrix is out x k
            rows, cols = b.select(plain, out, k), b.select(plain, k, out)
            b.call(gemv, [ch(trans), num(rows), num(cols), one, mat, num(ld), vec, num(inc), zero, v["pc"],
                          num(i64(1))])
            return
        dot = blas("dot", ft, 5)
        r = b.call(dot, [num(k), v["pa"], num(lda), v["pb"], num(ldb)])
        E.store(r, v["pc"], self.dt, i64(0))


def _prod(shape):
    out = 1
    for d in shape:
        out *= d
    return out
