"""``sc.pool2d`` and ``sc.pool2d_grad`` on the CPU: one SIMD loop nest per window tap.

The leading axes are taken as one axis of ``M`` images (copied to contiguous workspace when
their strides do not merge).  Window tap ``(i, j)`` of every output position reads one strided
view of the image (rows ``i + r * stride``, columns ``j + c * stride``), so pooling is
``ws[0] * ws[1]`` loop nests, each accumulating one tap into the output (max or add), the
images split across the thread team (:meth:`_Pool.taps_nest`).

Padding, and the partial windows of ``ignore_border=False``, read a copy of the input bordered
with the reduction's identity (-inf for max, 0 otherwise), so no tap is ever out of bounds.
The average modes divide by each window's element count, which is the sum pooling of a
0/1 mask of the counted region (the unpadded image, or the padded one for
``average_inc_pad``), computed once per call for one image.

The gradient adds, tap by tap, each output gradient back into the (bordered) input gradient:
as it is in sum mode, divided by the count in the average modes, and in max mode where the
input equals the window's maximum (every tied element, as Theano's ``MaxPoolGrad``).  Within
one tap no two outputs meet the same input element, so each tap's nest is parallel.
"""

from __future__ import annotations

import math

from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.layout import contiguous_strides


def _as3d(P, v, name):
    """Plan ``v`` as (M, H, W) strides ``<name>s0..2``, with a contiguous copy (``<name>copy``)
    when its leading axes do not merge into one."""
    shape, st = P.shape[v], P.strides[v]
    lead = shape[:-2]
    moving = [k for k in range(len(lead)) if lead[k] > 1]  # a size-1 axis may carry any stride
    merged = all(st[a] == st[b] * math.prod(lead[a + 1:b + 1]) for a, b in zip(moving, moving[1:]))
    cst = contiguous_strides(shape)
    copy = int(not merged)
    use = cst if copy else st
    sm = 0 if not moving else (use[len(lead) - 1] if copy else st[moving[-1]])
    P.set_param(f"{name}copy", copy)
    P.set_param(f"{name}scratch", P.scratch(math.prod(shape) * v.type.dtype.itemsize) if copy else 0)
    P.set_params(f"{name}c", cst)
    P.set_params(f"{name}s", [sm, use[-2], use[-1]])


def _plan_common(op, P, xshape):
    m = math.prod(xshape[:-2])
    h, w = xshape[-2:]
    (k0, k1), (s0, s1), (p0, p1) = op.ws, op.stride, op.pad
    from symcomp.ir.ops.pool import pool_out_size

    oh = pool_out_size(h, k0, s0, p0, op.ignore_border)
    ow = pool_out_size(w, k1, s1, p1, op.ignore_border)
    hp = max(h + 2 * p0, (oh - 1) * s0 + k0) if oh > 0 else h + 2 * p0
    wp = max(w + 2 * p1, (ow - 1) * s1 + k1) if ow > 0 else w + 2 * p1
    needpad = int(p0 > 0 or p1 > 0 or hp != h or wp != w)
    item = op.operands[0].type.dtype.itemsize
    for k, v in dict(m=m, h=h, w=w, oh=oh, ow=ow, hp=hp, wp=wp, p0=p0, p1=p1, needpad=needpad).items():
        P.set_param(k, v)
    P.set_param("padbuf", P.scratch(m * hp * wp * item if needpad else 1))
    avg = op.mode.startswith("average")
    P.set_param("maskbuf", P.scratch(hp * wp * item if avg else 1))
    P.set_param("cntbuf", P.scratch(oh * ow * item if avg else 1))
    if op.mode == "average_inc_pad":
        r0, r1, c0, c1 = 0, h + 2 * p0, 0, w + 2 * p1
    else:
        r0, r1, c0, c1 = p0, p0 + h, p1, p1 + w
    P.set_param("mr0", r0)
    P.set_param("mrows", r1 - r0)
    P.set_param("mc0", c0)
    P.set_param("mcols", c1 - c0)


_NAMES = ["m", "h", "w", "oh", "ow", "hp", "wp", "p0", "p1", "needpad", "mr0", "mrows", "mc0", "mcols"]


class _Pool:
    def __init__(self, E, op):
        self.E, self.op, self.b = E, op, E.b
        self.dt = op.operands[0].type.dtype
        self.p = {k: E.param(k) for k in _NAMES}

    def ws(self, name):
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import PTR

        E, b = self.E, self.b
        base = b.load(b.gep(E.ptrs, [E.load_slot(("wsroot", 0))], source_etype=PTR), typ=PTR)
        return b.gep(base, [E.param(name)], source_etype=ir.IntType(8))

    def elem(self, ptr, index):
        return self.E.elem_ptr(ptr, self.dt, index)

    def operand3d(self, v, name):
        """(pointer, [sM, sH, sW]) of operand ``v`` seen as (M, H, W)."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        E, b = self.E, self.b
        d = E.desc(v)
        copy = b.icmp_signed("!=", E.param(f"{name}copy"), i64(0))
        scratch = self.ws(f"{name}scratch")
        with b.if_then(copy):
            emit_copy(E, d.dims, Array(d.ptr, v.type.dtype, d.strides),
                      Array(scratch, v.type.dtype, [E.param(f"{name}c{i}") for i in range(v.type.ndim)]))
        return b.select(copy, scratch, d.ptr), [E.param(f"{name}s{i}") for i in range(3)]

    def fill(self, ptr, count, value):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_kernel

        emit_kernel(self.E, [count], [], Array(ptr, self.dt, [i64(1)]), lambda cx, v: cx.const(self.dt, value),
                    self.dt, parallel=True)

    def bordered(self, ptr, strides, value):
        """(pointer, strides) of the input with its border of ``value`` when the op needs one."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        b, p = self.b, self.p
        buf, pst = self.ws("padbuf"), [b.mul(p["hp"], p["wp"]), p["wp"], i64(1)]
        need = b.icmp_signed("!=", p["needpad"], i64(0))
        with b.if_then(need):
            self.fill(buf, b.mul(p["m"], pst[0]), value)
            inner = self.elem(buf, b.add(b.mul(p["p0"], p["wp"]), p["p1"]))
            emit_copy(self.E, [p["m"], p["h"], p["w"]], Array(ptr, self.dt, strides), Array(inner, self.dt, pst))
        return b.select(need, buf, ptr), [b.select(need, u, v) for u, v in zip(pst, strides)]

    def tap(self, ptr, strides, i, j):
        """The (M, OH, OW) view that window tap (i, j) reads from an image array (M, H, W strides)."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array

        b = self.b
        sm, sh, sw = strides
        (s0, s1) = self.op.stride
        off = b.add(b.mul(i64(i), sh), b.mul(i64(j), sw))
        return Array(self.elem(ptr, off), self.dt, [sm, b.mul(i64(s0), sh), b.mul(i64(s1), sw)])

    def out_dims(self):
        return [self.p["m"], self.p["oh"], self.p["ow"]]

    def taps_nest(self, inputs, out, body, reduce=None):
        """``out = body(inputs)`` (or ``out = reduce(out, body(inputs))``) over (M, OH, OW): plain
        scalar loops, the images shared out to the thread team.  Rows of pooled maps are short
        (LeNet's: 2 to 4 elements) and strided (the window step), where
        :func:`~symcomp.backends.cpu.codegen.loops.emit_kernel`'s run-time SIMD dispatch per row
        cost more than the row's work.  One thread, process CPU time, float64, 2x2 max pooling:
        128x16x8x8 0.23 -> 0.15 ms, its gradient 0.65 -> 0.46 ms; 32x64x32x32 4.3 -> 3.3 ms and
        12.2 -> 9.7 ms (machine shared with other jobs)."""
        from symcomp.backends.cpu.codegen import parallel
        from symcomp.backends.cpu.codegen.loops import combine, for_range

        b, dt = self.b, self.dt
        dims = self.out_dims()
        arrays = list(inputs) + [out]
        live = dims + [a.ptr for a in arrays] + [st for a in arrays for st in a.strides]
        work = b.mul(dims[0], b.mul(dims[1], dims[2]))
        k = len(arrays)

        def run(W, lo, hi, vals):
            wb = W.b
            d = vals[:3]
            ptrs = vals[3:3 + k]
            strides = [vals[3 + k + 3 * a: 6 + k + 3 * a] for a in range(k)]
            with for_range(wb, lo, hi, name="img") as m:
                base = [wb.mul(m, st[0]) for st in strides]
                with for_range(wb, 0, d[1], name="orow") as r:
                    row = [wb.add(o, wb.mul(r, st[1])) for o, st in zip(base, strides)]
                    with for_range(wb, 0, d[2], name="ocol") as c:
                        at = [wb.add(o, wb.mul(c, st[2])) for o, st in zip(row, strides)]
                        v = [W.load(pt, a.dtype, o) for pt, a, o in zip(ptrs[:-1], inputs, at[:-1])]
                        res = body(W.scalar_context(None), v)
                        if reduce:
                            res = combine(W, reduce, dt, W.load(ptrs[-1], dt, at[-1]), res)
                        W.store(res, ptrs[-1], dt, at[-1])

        parallel.emit_parallel_for(self.E, dims[0], work, live, run)

    def out_strides(self):
        from symcomp.backends.cpu.codegen.context import i64

        b, p = self.b, self.p
        return [b.mul(p["oh"], p["ow"]), p["ow"], i64(1)]

    def counts(self):
        """The (OH, OW) element counts of the windows (average modes), in workspace."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_kernel

        b, p, dt = self.b, self.p, self.dt
        mask, cnt = self.ws("maskbuf"), self.ws("cntbuf")
        self.fill(mask, b.mul(p["hp"], p["wp"]), 0)
        region = self.elem(mask, b.add(b.mul(p["mr0"], p["wp"]), p["mc0"]))
        emit_kernel(self.E, [p["mrows"], p["mcols"]], [], Array(region, dt, [p["wp"], i64(1)]),
                    lambda cx, v: cx.const(dt, 1), dt)
        self.fill(cnt, b.mul(p["oh"], p["ow"]), 0)
        k0, k1 = self.op.ws
        for i in range(k0):
            for j in range(k1):
                view = self.tap(mask, [i64(0), p["wp"], i64(1)], i, j)
                emit_kernel(self.E, [p["oh"], p["ow"]], [Array(view.ptr, dt, view.strides[1:])],
                            Array(cnt, dt, [p["ow"], i64(1)]), lambda cx, v: v[0], dt, reduce="add")
        return Array(cnt, dt, [i64(0), p["ow"], i64(1)])


def _identity(op, dt):
    from symcomp.backends.cpu.codegen.loops import identity

    return identity("max", dt) if op.mode == "max" else 0


@lowering("sc.pool2d")
class Pool2dLowering(Lowering):
    def plan(self, op, P, shapes):
        x = op.operands[0]
        P.alloc(op.result, shapes[0])
        _plan_common(op, P, P.shape[x])
        _as3d(P, x, "x")
        P.set_param("run", int(math.prod(shapes[0]) > 0))

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_kernel

        S = _Pool(E, op)
        b, dt = E.b, S.dt
        od = E.desc(op.result)
        with b.if_then(b.icmp_signed("!=", E.param("run"), i64(0))):
            ptr, st = S.operand3d(op.x, "x")
            ident = _identity(op, dt)
            src, sst = S.bordered(ptr, st, ident)
            dims = S.out_dims()
            out = Array(od.ptr, dt, S.out_strides())
            S.fill(od.ptr, b.mul(dims[0], b.mul(dims[1], dims[2])), ident)
            red = "max" if op.mode == "max" else "add"
            k0, k1 = op.ws
            for i in range(k0):
                for j in range(k1):
                    S.taps_nest([S.tap(src, sst, i, j)], out, lambda cx, v: v[0], reduce=red)
            if op.mode.startswith("average"):
                cnt = S.counts()
                emit_kernel(E, dims, [out, cnt], out, lambda cx, v: cx.b.fdiv(v[0], v[1]), dt, parallel=True)


@lowering("sc.pool2d_grad")
class Pool2dGradLowering(Lowering):
    def plan(self, op, P, shapes):
        x, y, gy = op.operands
        P.alloc(op.result, shapes[0])
        _plan_common(op, P, P.shape[x])
        _as3d(P, x, "x")
        _as3d(P, y, "y")
        _as3d(P, gy, "gy")
        p = P.params
        hp, wp, m = (p[(P.op_index, k)] for k in ("hp", "wp", "m"))
        needpad = p[(P.op_index, "needpad")]
        P.set_param("gbuf", P.scratch(m * hp * wp * op.x.type.dtype.itemsize if needpad else 1))
        h, w = P.shape[x][-2:]
        oh, ow = p[(P.op_index, "oh")], p[(P.op_index, "ow")]
        exact = op.ws == op.stride and not any(op.pad) and oh * op.ws[0] == h and ow * op.ws[1] == w
        P.set_param("exact", int(exact))
        P.set_param("run", int(math.prod(shapes[0]) > 0))

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        S = _Pool(E, op)
        b, dt, p = E.b, S.dt, S.p
        od = E.desc(op.result)
        with b.if_then(b.icmp_signed("!=", E.param("run"), i64(0))):
            need = b.icmp_signed("!=", p["needpad"], i64(0))
            hw = b.mul(p["h"], p["w"])
            gbuf = S.ws("gbuf")
            pst = [b.mul(p["hp"], p["wp"]), p["wp"], i64(1)]
            gptr = b.select(need, gbuf, od.ptr)
            gst = [b.select(need, u, v) for u, v in zip(pst, [hw, p["w"], i64(1)])]
            # windows that tile the image exactly: every element is written once, by its tap
            exact = b.icmp_signed("!=", E.param("exact"), i64(0))
            with b.if_then(b.not_(exact)):
                S.fill(gptr, b.mul(p["m"], gst[0]), 0)
            gyp, gys = S.operand3d(op.gy, "gy")
            gyarr = Array(gyp, dt, gys)
            k0, k1 = op.ws
            if op.mode == "max":
                xp, xs = S.operand3d(op.x, "x")
                src, sst = S.bordered(xp, xs, _identity(op, dt))
                yp, ys = S.operand3d(op.y, "y")
                yarr = Array(yp, dt, ys)

                def body(cx, v):
                    eq = cx.b.fcmp_ordered("==", v[0], v[1]) if dt.is_float else cx.b.icmp_signed("==", v[0], v[1])
                    return cx.b.select(eq, v[2], cx.const(dt, 0))
            elif op.mode == "sum":
                def body(cx, v):
                    return v[0]
            else:
                cnt = S.counts()

                def body(cx, v):
                    return cx.b.fdiv(v[0], v[1])
            for i in range(k0):
                for j in range(k1):
                    if op.mode == "max":
                        ins = [S.tap(src, sst, i, j), yarr, gyarr]
                    elif op.mode == "sum":
                        ins = [gyarr]
                    else:
                        ins = [gyarr, cnt]
                    with b.if_else(exact) as (store, accumulate):
                        with store:
                            S.taps_nest(ins, S.tap(gptr, gst, i, j), body)
                        with accumulate:
                            S.taps_nest(ins, S.tap(gptr, gst, i, j), body, reduce="add")
            with b.if_then(need):
                inner = S.elem(gbuf, b.add(b.mul(p["p0"], p["wp"]), p["p1"]))
                emit_copy(E, [p["m"], p["h"], p["w"]], Array(inner, dt, pst), Array(od.ptr, dt, [hw, p["w"], i64(1)]))
