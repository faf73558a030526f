"""2-d convolution, its gradients and pooling on the GPU: direct kernels, one thread per result
element (grid-stride loops).

* ``sc.conv2d``: each output element sums ``x * w`` over its channel group's input channels
  and the filter taps that fall inside the (implicitly zero-padded) image;
* ``sc.conv2d_grad_input``: each input element gathers ``gy * w`` from the output positions
  whose window covers it (``h + pad - i * dilation`` a multiple of the stride);
* ``sc.conv2d_grad_filters``: each filter tap sums ``x * gy`` over the images and output positions;
* ``sc.pool2d``: each output element reduces its window (Theano's window rules,
  :mod:`symcomp.ir.ops.pool`); ``sc.pool2d_grad``: each input element gathers from the windows
  that contain it (in max mode where it equals the window's maximum: every tie gets it).

Gathering instead of scattering keeps every write private to its thread (no atomics), so results
do not depend on the launch.  These are plain kernels, not cuDNN or im2col + cuBLAS: correct
everywhere (the simulator runs them), fast enough for small networks.
"""

from __future__ import annotations

from symcomp.backends.cuda.lower import Lowering, lowering
from symcomp.backends.cuda.lower.elementwise import array_params, index_split, offset
from symcomp.backends.cuda.planner import Ptr
from symcomp.backends.cuda.render import Param, Source, const, maximum

_GEOM = ["total", "N", "C", "H", "W", "F", "Cg", "Fg", "KH", "KW", "OH", "OW", "ph", "pw", "s0", "s1", "d0", "d1"]


def _conv_geometry(op, xshape, wshape):
    n, c, h, w = xshape
    f, cg, kh, kw = wshape
    ph, pw = op.pads((kh, kw))
    (s0, s1), (d0, d1) = op.subsample, op.dilation
    oh = (h + 2 * ph - ((kh - 1) * d0 + 1)) // s0 + 1
    ow = (w + 2 * pw - ((kw - 1) * d1 + 1)) // s1 + 1
    return dict(N=n, C=c, H=h, W=w, F=f, Cg=cg, Fg=f // op.groups, KH=kh, KW=kw, OH=oh, OW=ow, ph=ph, pw=pw,
                s0=s0, s1=s1, d0=d0, d1=d1)


def _at(name, idx):
    return offset(f"o{name}", idx, [f"s{name}_{a}" for a in range(len(idx))])


def _conv_source(kind: str, dt, flip: bool) -> Source:
    params = [Param(g, "i64") for g in _GEOM]
    names = {"fwd": ("x", "k"), "gin": ("g", "k"), "gw": ("x", "g")}[kind]
    for nm in names + ("z",):
        params += array_params(nm, dt, 4)
    S = Source(f"conv2d_{kind}", params)
    S.line("i = cuda.grid(1)")
    S.line("step = cuda.gridsize(1)")
    with S.block("while i < total"):
        S.line(f"acc = {const(dt, 0)}")
        if kind == "fwd":
            index_split(S, "i", ["N", "F", "OH", "OW"], ["n", "f", "oh", "ow"])
            S.line("grp = f // Fg")
            with S.block("for c in range(Cg)"):
                with S.block("for ki in range(KH)"):
                    S.line("r = oh * s0 - ph + ki * d0")
                    with S.block("if r >= 0 and r < H"):
                        with S.block("for kj in range(KW)"):
                            S.line("q = ow * s1 - pw + kj * d1")
                            with S.block("if q >= 0 and q < W"):
                                _taps(S, flip)
                                S.line(f"acc += px[{_at('x', ['n', '(grp * Cg + c)', 'r', 'q'])}] * "
                                       f"pk[{_at('k', ['f', 'c', 'ti', 'tj'])}]")
            S.line(f"pz[{_at('z', ['n', 'f', 'oh', 'ow'])}] = acc")
        elif kind == "gin":
            index_split(S, "i", ["N", "C", "H", "W"], ["n", "cc", "h", "w"])
            S.line("grp = cc // Cg")
            S.line("c = cc - grp * Cg")
            with S.block("for fl in range(Fg)"):
                S.line("f = grp * Fg + fl")
                with S.block("for ki in range(KH)"):
                    S.line("num = h + ph - ki * d0")
                    with S.block("if num >= 0 and num % s0 == 0 and num // s0 < OH"):
                        S.line("oh = num // s0")
                        with S.block("for kj in range(KW)"):
                            S.line("numw = w + pw - kj * d1")
                            with S.block("if numw >= 0 and numw % s1 == 0 and numw // s1 < OW"):
                                S.line("ow = numw // s1")
                                _taps(S, flip)
                                S.line(f"acc += pg[{_at('g', ['n', 'f', 'oh', 'ow'])}] * "
                                       f"pk[{_at('k', ['f', 'c', 'ti', 'tj'])}]")
            S.line(f"pz[{_at('z', ['n', 'cc', 'h', 'w'])}] = acc")
        else:
            index_split(S, "i", ["F", "Cg", "KH", "KW"], ["f", "c", "ti", "tj"])
            S.line("grp = f // Fg")
            S.line("ki = KH - 1 - ti" if flip else "ki = ti")
            S.line("kj = KW - 1 - tj" if flip else "kj = tj")
            with S.block("for n in range(N)"):
                with S.block("for oh in range(OH)"):
                    S.line("r = oh * s0 - ph + ki * d0")
                    with S.block("if r >= 0 and r < H"):
                        with S.block("for ow in range(OW)"):
                            S.line("q = ow * s1 - pw + kj * d1")
                            with S.block("if q >= 0 and q < W"):
                                S.line(f"acc += px[{_at('x', ['n', '(grp * Cg + c)', 'r', 'q'])}] * "
                                       f"pg[{_at('g', ['n', 'f', 'oh', 'ow'])}]")
            S.line(f"pz[{_at('z', ['f', 'c', 'ti', 'tj'])}] = acc")
        S.line("i += step")
    return S


def _taps(S, flip):
    S.line("ti = KH - 1 - ki" if flip else "ti = ki")
    S.line("tj = KW - 1 - kj" if flip else "tj = kj")


def _conv_kernel(op):
    kind = {"sc.conv2d": "fwd", "sc.conv2d_grad_input": "gin", "sc.conv2d_grad_filters": "gw"}[op.name]
    return _conv_source(kind, op.result.type.dtype, op.flip).finish()


@lowering("sc.conv2d", "sc.conv2d_grad_input", "sc.conv2d_grad_filters")
class ConvLowering(Lowering):
    def kernels(self, op):
        return [_conv_kernel(op)]

    def plan(self, op, P, shapes):
        out = P.alloc(op.result, shapes[0])
        descs = [P.materialize(P.get(v)) for v in op.operands[:2]]
        if op.name == "sc.conv2d":
            geo = _conv_geometry(op, descs[0].shape, descs[1].shape)
        elif op.name == "sc.conv2d_grad_input":
            geo = _conv_geometry(op, shapes[0], descs[1].shape)
        else:
            geo = _conv_geometry(op, descs[0].shape, shapes[0])
        total = 1
        for s in shapes[0]:
            total *= s
        if total == 0:
            return
        geo["total"] = total
        args = [geo[g] for g in _GEOM]
        for d in descs + [out]:
            args += [Ptr(d.root), d.off] + list(d.strides)
        P.launch(_conv_kernel(op), P.grid_1d(total), P.tuning.block, args)


# -- pooling --------------------------------------------------------------------------------------------
_PGEOM = ["total", "H", "W", "OH", "OW", "k0", "k1", "t0", "t1", "p0", "p1"]


def _window(S, axis: str, inc: bool):
    """``{axis}lo, {axis}hi`` (unpadded coordinates, clipped to the image) and the window's
    element count factor ``{axis}n`` of output index ``orow`` / ``ocol``."""
    k, t, p, n = ("k0", "t0", "p0", "H") if axis == "r" else ("k1", "t1", "p1", "W")
    S.line(f"{axis}a = {'orow' if axis == 'r' else 'ocol'} * {t}")
    S.line(f"{axis}b = min({axis}a + {k}, {n} + 2 * {p})")
    if not inc:
        S.line(f"{axis}a = max({axis}a, {p})")
        S.line(f"{axis}b = min({axis}b, {n} + {p})")
    S.line(f"{axis}n = {axis}b - {axis}a")
    S.line(f"{axis}lo = max({axis}a - {p}, 0)")
    S.line(f"{axis}hi = min({axis}b - {p}, {n})")


def _pool_source(grad: bool, mode: str, dt, rank: int) -> Source:
    lead = [f"d{a}" for a in range(rank - 2)]
    params = [Param(g, "i64") for g in _PGEOM] + [Param(d, "i64") for d in lead]
    for nm in (("x", "y", "g") if grad else ("x",)) + ("z",):
        params += array_params(nm, dt, rank)
    S = Source(f"pool2d{'_grad' if grad else ''}_{mode}", params)
    idx = [f"l{a}" for a in range(rank - 2)]
    inc = mode == "average_inc_pad"
    S.line("i = cuda.grid(1)")
    S.line("step = cuda.gridsize(1)")
    with S.block("while i < total"):
        if not grad:
            index_split(S, "i", lead + ["OH", "OW"], idx + ["orow", "ocol"])
            _window(S, "r", inc)
            _window(S, "c", inc)
            S.line(f"acc = {const(dt, float('-inf')) if mode == 'max' and dt.is_float else const(dt, 0)}")
            if mode == "max" and not dt.is_float:
                S.line(f"acc = px[{_at('x', idx + ['rlo', 'clo'])}]")
            with S.block("for h in range(rlo, rhi)"):
                with S.block("for w in range(clo, chi)"):
                    v = f"px[{_at('x', idx + ['h', 'w'])}]"
                    S.line(f"acc = {maximum('acc', v, dt)}" if mode == "max" else f"acc += {v}")
            if mode.startswith("average"):
                S.line("acc = acc / (rn * cn)")
            S.line(f"pz[{_at('z', idx + ['orow', 'ocol'])}] = acc")
        else:
            index_split(S, "i", lead + ["H", "W"], idx + ["h", "w"])
            S.line(f"acc = {const(dt, 0)}")
            S.line(f"xv = px[{_at('x', idx + ['h', 'w'])}]")
            for axis, pos, k, t, p, o in (("r", "h", "k0", "t0", "p0", "OH"), ("c", "w", "k1", "t1", "p1", "OW")):
                S.line(f"{axis}t = {pos} + {p} - {k} + 1")
                S.line(f"{axis}first = 0 if {axis}t <= 0 else ({axis}t + {t} - 1) // {t}")
                S.line(f"{axis}last = min(({pos} + {p}) // {t}, {o} - 1)")
            with S.block("for orr in range(rfirst, rlast + 1)"):
                with S.block("for occ in range(cfirst, clast + 1)"):
                    gv = f"pg[{_at('g', idx + ['orr', 'occ'])}]"
                    if mode == "max":
                        with S.block(f"if xv == py[{_at('y', idx + ['orr', 'occ'])}]"):
                            S.line(f"acc += {gv}")
                    elif mode == "sum":
                        S.line(f"acc += {gv}")
                    else:
                        S.line("ra = orr * t0")
                        S.line("rb = min(ra + k0, H + 2 * p0)")
                        S.line("ca = occ * t1")
                        S.line("cb = min(ca + k1, W + 2 * p1)")
                        if not inc:
                            S.line("ra = max(ra, p0)")
                            S.line("rb = min(rb, H + p0)")
                            S.line("ca = max(ca, p1)")
                            S.line("cb = min(cb, W + p1)")
                        S.line(f"acc += {gv} / ((rb - ra) * (cb - ca))")
            S.line(f"pz[{_at('z', idx + ['h', 'w'])}] = acc")
        S.line("i += step")
    return S


def _pool_kernel(op):
    return _pool_source(op.name == "sc.pool2d_grad", op.mode, op.result.type.dtype, op.result.type.ndim).finish()


@lowering("sc.pool2d", "sc.pool2d_grad")
class PoolLowering(Lowering):
    def kernels(self, op):
        return [_pool_kernel(op)]

    def plan(self, op, P, shapes):
        out = P.alloc(op.result, shapes[0])
        descs = [P.materialize(P.get(v)) for v in op.operands]
        xshape = descs[0].shape
        from symcomp.ir.ops.pool import pool_out_size

        oh, ow = (pool_out_size(xshape[-2 + a], op.ws[a], op.stride[a], op.pad[a], op.ignore_border) for a in range(2))
        total = 1
        for s in shapes[0]:
            total *= s
        if total == 0:
            return
        geo = dict(total=total, H=xshape[-2], W=xshape[-1], OH=oh, OW=ow, k0=op.ws[0], k1=op.ws[1],
                   t0=op.stride[0], t1=op.stride[1], p0=op.pad[0], p1=op.pad[1])
        args = [geo[g] for g in _PGEOM] + list(shapes[0][:-2])
        for d in descs + [out]:
            args += [Ptr(d.root), d.off] + list(d.strides)
        P.launch(_pool_kernel(op), P.grid_1d(total), P.tuning.block, args)
