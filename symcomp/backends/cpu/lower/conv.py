"""``sc.conv2d`` and its gradients on the CPU: im2col and BLAS gemm, split across the thread team.

The standard lowering of a convolution to a matrix product (Chellapilla, Puri and Simard,
"High Performance Convolutional Neural Networks for Document Processing", 2006; Caffe's
``im2col``): for one image and one channel group, the ``(C/g * KH * KW) x (OH * OW)`` matrix
``col`` holds in row ``(c, i, j)`` the input values that filter tap ``(i, j)`` of channel ``c``
meets at each output position, and then

* forward:           ``y[n, g] (F/g x OH*OW)   = w[g] (F/g x CKK) @ col``;
* input gradient:    ``col = w[g]^T @ gy[n, g]``, then each row added back where it was read
  (``col2im``);
* filter gradient:   ``gw[g] += gy[n, g] @ col^T``, summed over the images.

Each row of ``col`` is one strided view of the (padded) image, so ``im2col`` and ``col2im`` are
5-d strided copies (:func:`~symcomp.backends.cpu.codegen.loops.emit_kernel`, SIMD along an
output row when the stride is 1); filter flipping is a negative stride along the tap axes, so
the filters are used as they are stored.  The images are cut into :data:`CHUNKS` (at most) runs,
one ``col`` buffer each, and the runs are shared out to the thread team
(:func:`~symcomp.backends.cpu.codegen.parallel.emit_parallel_for`); every thread calls the
single-threaded BLAS of :mod:`symcomp.backends.cpu.runtime.teamblas` on its own images.  The filter
gradient keeps one partial sum per run and adds them in run order (deterministic results).
"""

from __future__ import annotations

import math

from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.cpu.lower.linalg import _check_blas_size
from symcomp.backends.layout import blas_layout, contiguous_strides

CHUNKS = 16
"""Most runs of images per call: each run has its own ``col`` buffer (and padded image), so
the workspace is at most ``CHUNKS`` images' worth, and up to ``CHUNKS`` threads share the work."""


def _geometry(op, P, xs, ws, n_chan):
    """Set the parameters every conv lowering shares; ``xs`` (N, C, H, W) input-side shape,
    ``ws`` (F, C/g, KH, KW) filter shape."""
    n, c, h, w = xs
    f, cg, kh, kw = ws
    g = op.groups
    ph, pw = op.pads((kh, kw))
    (s0, s1), (d0, d1) = op.subsample, op.dilation
    oh = (h + 2 * ph - ((kh - 1) * d0 + 1)) // s0 + 1
    ow = (w + 2 * pw - ((kw - 1) * d1 + 1)) // s1 + 1
    L, ckk, fg = oh * ow, cg * kh * kw, f // g
    _check_blas_size(fg, L, ckk)
    chunks = max(1, min(n, CHUNKS))
    padded = int(ph > 0 or pw > 0)
    hp, wp = h + 2 * ph, w + 2 * pw
    vals = dict(n=n, c=c, h=h, w=w, f=f, cg=cg, kh=kh, kw=kw, g=g, fg=fg, ph=ph, pw=pw, s0=s0, s1=s1, d0=d0,
                d1=d1, oh=oh, ow=ow, L=L, ckk=ckk, chunks=chunks, padded=padded, hp=hp, wp=wp)
    for k, v in vals.items():
        P.set_param(k, v)
    item = op.operands[0].type.dtype.itemsize
    P.set_param("colbuf", P.scratch(chunks * ckk * L * item))
    P.set_param("padbuf", P.scratch(chunks * c * hp * wp * item if padded else 1))
    P.set_param("run", int(n * f * L > 0 and ckk > 0))
    return vals


def _contiguous(P, v, name):
    """Plan a C-contiguous copy of operand ``v`` if its strides are not (``<name>copy``)."""
    shape, st = P.shape[v], P.strides[v]
    cst = contiguous_strides(shape)
    copy = int(any(d > 1 and s != t for d, s, t in zip(shape, st, cst)))
    P.set_param(f"{name}copy", copy)
    P.set_param(f"{name}scratch", P.scratch(math.prod(shape) * v.type.dtype.itemsize) if copy else 0)
    P.set_params(f"{name}c", cst)


def _gemm_params(P, name, rows, cols, s0, s1):
    lay = blas_layout(rows, cols, s0, s1)
    assert lay is not None, (rows, cols, s0, s1)
    P.set_param(f"{name}t", lay[0])
    P.set_param(f"{name}ld", lay[1])


class _Emit:
    """Shared emission helpers; ``p`` maps parameter names to LLVM values (in the op function
    or, after :meth:`worker`, in the worker of a parallel loop)."""

    def __init__(self, E, op, names):
        self.E, self.op = E, op
        self.dt = op.result.type.dtype
        self.p = {k: E.param(k) for k in names}

    def ws(self, name):
        """A pointer into the workspace at the planned byte offset ``name``."""
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import PTR

        E, b = self.E, self.E.b
        base = b.load(b.gep(E.ptrs, [E.load_slot(("wsroot", 0))], source_etype=PTR), typ=PTR)
        return b.gep(base, [E.param(name)], source_etype=ir.IntType(8))

    def operand(self, v, name):
        """``v``'s pointer, after copying it to contiguous workspace if the planner asked."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        E, b = self.E, self.E.b
        d = E.desc(v)
        copy = b.icmp_signed("!=", E.param(f"{name}copy"), i64(0))
        scratch = self.ws(f"{name}scratch")
        with b.if_then(copy):
            emit_copy(E, d.dims, Array(d.ptr, v.type.dtype, d.strides),
                      Array(scratch, v.type.dtype, [E.param(f"{name}c{i}") for i in range(v.type.ndim)]))
        return b.select(copy, scratch, d.ptr)

    def parallel(self, live: dict, work, body):
        """``for q in range(chunks)`` on the team; ``body(self_in_worker, q)``."""
        from symcomp.backends.cpu.codegen import parallel
        from symcomp.backends.cpu.codegen.loops import for_range

        names = list(self.p) + list(live)
        vals = list(self.p.values()) + list(live.values())

        def run(W, lo, hi, wvals):
            inner = _Emit.__new__(_Emit)
            inner.E, inner.op, inner.dt = W, self.op, self.dt
            inner.p = dict(zip(names, wvals))
            with for_range(W.b, lo, hi, name="run") as q:
                body(inner, q)

        parallel.emit_parallel_for(self.E, self.p["chunks"], work, vals, run)

    def images(self, q):
        """(first, stop) images of run ``q``."""
        b, p = self.E.b, self.p
        lo = b.udiv(b.mul(p["n"], q), p["chunks"])
        hi = b.udiv(b.mul(p["n"], b.add(q, _one())), p["chunks"])
        return lo, hi

    def elem(self, ptr, index):
        return self.E.elem_ptr(ptr, self.dt, index)

    def padded_image(self, q, ptr, strides, fill=True):
        """The image at ``ptr`` (C, H, W with ``strides``) and its (pointer, strides) to read taps
        from: itself, or a zero-padded copy in run ``q``'s buffer when the op pads."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy, emit_kernel

        E, b, p = self.E, self.E.b, self.p
        pstr = [b.mul(p["hp"], p["wp"]), p["wp"], i64(1)]
        size = b.mul(p["c"], pstr[0])
        buf = self.elem(p["padbuf"], b.mul(q, size))
        padded = b.icmp_signed("!=", p["padded"], i64(0))
        with b.if_then(padded):
            if fill:
                emit_kernel(E, [size], [], Array(buf, self.dt, [i64(1)]), lambda cx, v: cx.const(self.dt, 0), self.dt)
            if ptr is not None:
                inner = self.elem(buf, b.add(b.mul(p["ph"], p["wp"]), p["pw"]))
                emit_copy(E, [p["c"], p["h"], p["w"]], Array(ptr, self.dt, strides), Array(inner, self.dt, pstr))
        if ptr is None:
            return buf, pstr, padded
        return b.select(padded, buf, ptr), [b.select(padded, u, v) for u, v in zip(pstr, strides)]

    def taps(self, base, strides, group):
        """The 5-d view (C/g, KH, KW, OH, OW) of an image ``base`` with (C, H, W) ``strides`` that
        the rows of ``col`` come from, for channel group ``group``; taps in the filters' stored
        order (reversed for a convolution)."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array

        b, p = self.E.b, self.p
        sc, sh, sw = strides
        th, tw = b.mul(p["d0"], sh), b.mul(p["d1"], sw)
        off = b.mul(b.mul(group, p["cg"]), sc)
        if self.op.flip:
            off = b.add(off, b.add(b.mul(b.sub(p["kh"], i64(1)), th), b.mul(b.sub(p["kw"], i64(1)), tw)))
            th, tw = b.sub(i64(0), th), b.sub(i64(0), tw)
        dims = [p["cg"], p["kh"], p["kw"], p["oh"], p["ow"]]
        return dims, Array(self.elem(base, off), self.dt, [sc, th, tw, b.mul(p["s0"], sh), b.mul(p["s1"], sw)])

    def col_array(self, col):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array

        b, p = self.E.b, self.p
        kl = b.mul(p["kw"], p["L"])
        return Array(col, self.dt, [b.mul(p["kh"], kl), kl, p["L"], p["ow"], i64(1)])

    def gemm(self, m, n, k, a, at, lda, bm, bt, ldb, c, ldc, beta=0.0):
        """``c (m x n) = a (m x k) @ bm (k x n) + beta * c``, row-major, ``at``/``bt`` and ``lda``/``ldb``
        as :func:`~symcomp.backends.layout.blas_layout` gives them."""
        from symcomp.backends.cpu.lower.linalg import _BlasCall

        vals = {"m": m, "n": n, "k": k, "ta": at, "tb": bt, "lda": lda, "ldb": ldb, "ldc": ldc, "pa": a, "pb": bm,
                "pc": c}
        _BlasCall(self.dt, "gemm", 1.0, beta).emit(self.E, self.E.b, vals)


def _strided_nest(E, dims, src, dst, add=False):
    """``dst = src`` (or ``dst += src``) over ``dims``: plain scalar loops, the innermost short
    (an output row of a small image), which LLVM unrolls or vectorizes itself;
    :func:`~symcomp.backends.cpu.codegen.loops.emit_kernel`'s run-time SIMD dispatch and
    alignment peeling cost more than they save on rows of 4 to 8 elements (LeNet's maps)."""
    from symcomp.backends.cpu.codegen.context import i64
    from symcomp.backends.cpu.codegen.loops import for_range

    b, dt = E.b, src.dtype

    def nest(level, so, do):
        if level == len(dims):
            v = E.load(src.ptr, dt, so)
            if add:
                v = b.fadd(E.load(dst.ptr, dt, do), v)
            E.store(v, dst.ptr, dt, do)
            return
        with for_range(b, 0, dims[level], name=f"t{level}") as i:
            nest(level + 1, b.add(so, b.mul(i, src.strides[level])), b.add(do, b.mul(i, dst.strides[level])))

    nest(0, i64(0), i64(0))


def _one():
    from symcomp.backends.cpu.codegen.context import i64

    return i64(1)


_GEOM = ["n", "c", "h", "w", "f", "cg", "kh", "kw", "g", "fg", "ph", "pw", "s0", "s1", "d0", "d1", "oh", "ow", "L",
         "ckk", "chunks", "padded", "hp", "wp", "run"]


@lowering("sc.conv2d")
class Conv2dLowering(Lowering):
    def plan(self, op, P, shapes):
        x, w = op.operands
        P.alloc(op.result, shapes[0])
        v = _geometry(op, P, P.shape[x], P.shape[w], None)
        _contiguous(P, w, "wt")
        _gemm_params(P, "a", v["fg"], v["ckk"], v["ckk"], 1)
        _gemm_params(P, "b", v["ckk"], v["L"], v["L"], 1)

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import for_range

        x, w = op.operands
        S = _Emit(E, op, _GEOM + ["at", "ald", "bt", "bld"])
        b = E.b
        xd, od = E.desc(x), E.desc(op.result)
        with b.if_then(b.icmp_signed("!=", S.p["run"], i64(0))):
            live = {"x": xd.ptr, "out": od.ptr, "wt": S.operand(w, "wt"), "col": S.ws("colbuf"),
                    "padbuf": S.ws("padbuf"), "sn": xd.strides[0], "sc": xd.strides[1], "sh": xd.strides[2],
                    "sw": xd.strides[3]}
            work = b.mul(b.mul(b.mul(S.p["n"], S.p["f"]), S.p["L"]), S.p["ckk"])

            def body(T, q):
                tb, p = T.E.b, T.p
                col = T.elem(p["col"], b_mul(tb, q, p["ckk"], p["L"]))
                lo, hi = T.images(q)
                with for_range(tb, lo, hi, name="img") as n:
                    img = T.elem(p["x"], tb.mul(n, p["sn"]))
                    base, st = T.padded_image(q, img, [p["sc"], p["sh"], p["sw"]])
                    with for_range(tb, 0, p["g"], name="grp") as g:
                        dims, src = T.taps(base, st, g)
                        _strided_nest(T.E, dims, src, T.col_array(col))
                        a = T.elem(p["wt"], b_mul(tb, g, p["fg"], p["ckk"]))
                        c = T.elem(p["out"], tb.add(b_mul(tb, n, p["f"], p["L"]), b_mul(tb, g, p["fg"], p["L"])))
                        T.gemm(p["fg"], p["L"], p["ckk"], a, p["at"], p["ald"], col, p["bt"], p["bld"], c, p["L"])

            S.parallel(live, work, body)
        with b.if_then(b.icmp_signed("==", S.p["run"], i64(0))):
            total = b_mul(b, S.p["n"], S.p["f"], S.p["L"])
            from symcomp.backends.cpu.codegen.loops import emit_fill

            emit_fill(E, od.ptr, S.dt, total, 0)


def b_mul(b, *xs):
    out = xs[0]
    for x in xs[1:]:
        out = b.mul(out, x)
    return out


@lowering("sc.conv2d_grad_input")
class Conv2dGradInputLowering(Lowering):
    def plan(self, op, P, shapes):
        gy, w, _ = op.operands
        P.alloc(op.result, shapes[0])
        n, c, h, wd = shapes[0]
        v = _geometry(op, P, (n, c, h, wd), P.shape[w], None)
        _contiguous(P, w, "wt")
        _contiguous(P, gy, "gy")
        _gemm_params(P, "a", v["ckk"], v["fg"], 1, v["ckk"])  # w[g]^T
        _gemm_params(P, "b", v["fg"], v["L"], v["L"], 1)
        P.set_param("anyout", int(n * c * h * wd > 0))

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy, emit_fill, for_range

        gy, w, _ = op.operands
        S = _Emit(E, op, _GEOM + ["at", "ald", "bt", "bld"])
        b = E.b
        od = E.desc(op.result)
        p0 = S.p
        chw = b_mul(b, p0["c"], p0["h"], p0["w"])
        with b.if_then(b.icmp_signed("==", p0["run"], i64(0))):
            emit_fill(E, od.ptr, S.dt, b.mul(p0["n"], chw), 0)
        with b.if_then(b.icmp_signed("!=", p0["run"], i64(0))):
            live = {"gy": S.operand(gy, "gy"), "out": od.ptr, "wt": S.operand(w, "wt"), "col": S.ws("colbuf"),
                    "padbuf": S.ws("padbuf")}
            work = b_mul(b, p0["n"], p0["f"], p0["L"], p0["ckk"])

            def body(T, q):
                tb, p = T.E.b, T.p
                col = T.elem(p["col"], b_mul(tb, q, p["ckk"], p["L"]))
                lo, hi = T.images(q)
                hw = tb.mul(p["h"], p["w"])
                with for_range(tb, lo, hi, name="img") as n:
                    outn = T.elem(p["out"], b_mul(tb, n, p["c"], hw))
                    pbuf, pstr, padded = T.padded_image(q, None, None)
                    dst = tb.select(padded, pbuf, outn)
                    dstr = [tb.select(padded, u, v) for u, v in zip(pstr, [hw, p["w"], i64(1)])]
                    with tb.if_then(tb.not_(padded)):
                        emit_fill(T.E, outn, T.dt, tb.mul(p["c"], hw), 0)
                    with for_range(tb, 0, p["g"], name="grp") as g:
                        a = T.elem(p["wt"], b_mul(tb, g, p["fg"], p["ckk"]))
                        gyn = T.elem(p["gy"], tb.add(b_mul(tb, n, p["f"], p["L"]), b_mul(tb, g, p["fg"], p["L"])))
                        T.gemm(p["ckk"], p["L"], p["fg"], a, p["at"], p["ald"], gyn, p["bt"], p["bld"], col, p["L"])
                        dims, view = T.taps(dst, dstr, g)
                        _strided_nest(T.E, dims, T.col_array(col), view, add=True)
                    with tb.if_then(padded):
                        inner = T.elem(pbuf, tb.add(tb.mul(p["ph"], p["wp"]), p["pw"]))
                        emit_copy(T.E, [p["c"], p["h"], p["w"]], Array(inner, T.dt, pstr),
                                  Array(outn, T.dt, [hw, p["w"], i64(1)]))

            S.parallel(live, work, body)


@lowering("sc.conv2d_grad_filters")
class Conv2dGradFiltersLowering(Lowering):
    def plan(self, op, P, shapes):
        x, gy, _ = op.operands
        P.alloc(op.result, shapes[0])
        f, cg, kh, kw = shapes[0]
        v = _geometry(op, P, P.shape[x], (f, cg, kh, kw), None)
        _contiguous(P, gy, "gy")
        _gemm_params(P, "a", v["fg"], v["L"], v["L"], 1)
        _gemm_params(P, "b", v["L"], v["ckk"], 1, v["L"])  # col^T
        P.set_param("partbuf", P.scratch(v["chunks"] * f * v["ckk"] * x.type.dtype.itemsize))

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy, emit_fill, emit_kernel, for_range

        x, gy, _ = op.operands
        S = _Emit(E, op, _GEOM + ["at", "ald", "bt", "bld"])
        b = E.b
        xd, od = E.desc(x), E.desc(op.result)
        p0 = S.p
        fckk = b.mul(p0["f"], p0["ckk"])
        with b.if_then(b.icmp_signed("==", p0["run"], i64(0))):
            emit_fill(E, od.ptr, S.dt, fckk, 0)
        with b.if_then(b.icmp_signed("!=", p0["run"], i64(0))):
            part = S.ws("partbuf")
            live = {"x": xd.ptr, "gy": S.operand(gy, "gy"), "part": part, "col": S.ws("colbuf"),
                    "padbuf": S.ws("padbuf"), "sn": xd.strides[0], "sc": xd.strides[1], "sh": xd.strides[2],
                    "sw": xd.strides[3]}
            work = b_mul(b, p0["n"], p0["f"], p0["L"], p0["ckk"])

            def body(T, q):
                tb, p = T.E.b, T.p
                col = T.elem(p["col"], b_mul(tb, q, p["ckk"], p["L"]))
                acc = T.elem(p["part"], b_mul(tb, q, p["f"], p["ckk"]))
                emit_fill(T.E, acc, T.dt, tb.mul(p["f"], p["ckk"]), 0)
                lo, hi = T.images(q)
                with for_range(tb, lo, hi, name="img") as n:
                    img = T.elem(p["x"], tb.mul(n, p["sn"]))
                    base, st = T.padded_image(q, img, [p["sc"], p["sh"], p["sw"]])
                    with for_range(tb, 0, p["g"], name="grp") as g:
                        dims, src = T.taps(base, st, g)
                        _strided_nest(T.E, dims, src, T.col_array(col))
                        gyn = T.elem(p["gy"], tb.add(b_mul(tb, n, p["f"], p["L"]), b_mul(tb, g, p["fg"], p["L"])))
                        c = T.elem(acc, b_mul(tb, g, p["fg"], p["ckk"]))
                        T.gemm(p["fg"], p["ckk"], p["L"], gyn, p["at"], p["ald"], col, p["bt"], p["bld"], c, p["ckk"],
                               beta=1.0)

            S.parallel(live, work, body)
            dt = S.dt
            emit_copy(E, [fckk], Array(part, dt, [i64(1)]), Array(od.ptr, dt, [i64(1)]))
            with for_range(b, 1, p0["chunks"], name="sumruns") as q:
                src = S.elem(part, b.mul(q, fckk))
                emit_kernel(E, [fckk], [Array(src, dt, [i64(1)])], Array(od.ptr, dt, [i64(1)]), lambda cx, v: v[0], dt,
                            reduce="add")
