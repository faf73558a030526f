"""2-d convolution: ``sc.conv2d`` -> ``tensor.pad`` + ``linalg.conv_2d_nchw_fchw``.

Upstream's named convolution is a cross-correlation of an already padded input, with
``strides`` and ``dilations`` attributes.  The padding of ``border`` becomes a ``tensor.pad``
with zeros, and a true convolution (``flip``, Theano's default) reads its filters turned by 180
degrees, made by a ``linalg.generic`` that gathers ``w[f, c, KH - 1 - i, KW - 1 - j]``.  Grouped
convolutions (``groups`` > 1), the two gradient ops and pooling have no conversion: exporting
one is an :class:`~symcomp.mlir.convert.MLIRExportError` naming it.
"""

from __future__ import annotations

from symcomp.ir.core import Operation
from symcomp.mlir.convert import ExportContext, MLIRExportError, converts
from symcomp.mlir.writer import elem_type, identity_map, tensor_type


def _pad_amount(w, border: str, pad: int, k, dil: int):
    """Zeros on each side for a filter of ``k`` taps (an int or an index SSA value)."""
    if border == "valid":
        return 0
    if border == "pad":
        return pad
    dk = w.add(w.mul(w.sub(k, 1), dil), 1)
    return w.sub(dk, 1) if border == "full" else w.safe_divui(dk, 2)


@converts("sc.conv2d")
def _conv2d(ctx: ExportContext, op: Operation) -> None:
    if op.groups != 1:
        raise MLIRExportError(f"sc.conv2d with groups = {op.groups} cannot be exported to MLIR yet "
                              "(linalg.conv_2d_ngchw_gfchw needs the channels regrouped)")
    w = ctx.w
    x, f = op.operands
    xt, ft, rt = x.type, f.type, op.result.type
    et = elem_type(xt.dtype)
    n, c, h, wd = (ctx.dim(x, a) for a in range(4))
    fo, cg, kh, kw = (ctx.dim(f, a) for a in range(4))
    (s0, s1), (d0, d1) = op.subsample, op.dilation
    ph = _pad_amount(w, op.border, op.pad[0], kh, d0)
    pw = _pad_amount(w, op.border, op.pad[1], kw, d1)

    xv = ctx.value(x)
    if ph != 0 or pw != 0:
        hp, wp = w.add(h, w.mul(ph, 2)), w.add(wd, w.mul(pw, 2))
        pt = xt.with_shape([xt.shape[0], xt.shape[1]] + [v if isinstance(v, int) else None for v in (hp, wp)])
        zero = w.const(0, xt.dtype)
        lo = ", ".join(str(v) for v in (0, 0, ph, pw))
        name = w.fresh("pad")
        with w.region(f"{name} = tensor.pad {xv} low[{lo}] high[{lo}] {{",
                      f"}} : {tensor_type(xt)} to {tensor_type(pt)}"):
            args = ", ".join(f"{w.fresh('i')}: index" for _ in range(4))
            w.lines.append("  " * (w.base_indent + w.depth - 1) + f"^bb0({args}):")
            w.line(f"tensor.yield {zero} : {et}")
        w.record_dims(name, [n, c, hp, wp])
        xv, xt = name, pt

    fv = ctx.value(f)
    if op.flip:
        last_h, last_w = w.ix(w.sub(kh, 1)), w.ix(w.sub(kw, 1))
        init = w.empty(ft, [fo, cg, kh, kw])

        def flipped(ins, outs):
            i0, i1, i2, i3 = (w.loop_index(k) for k in range(4))
            r = w.op(f"arith.subi {last_h}, {i2} : index")
            s = w.op(f"arith.subi {last_w}, {i3} : index")
            return [w.op(f"tensor.extract {fv}[{i0}, {i1}, {r}, {s}] : {tensor_type(ft)}")]

        (fv,) = w.generic([], [(init, ft, identity_map(4))], ["parallel"] * 4, flipped)

    oh = w.add(w.safe_divui(w.sub(w.dim(xv, xt, 2), w.add(w.mul(w.sub(kh, 1), d0), 1)), s0), 1)
    ow = w.add(w.safe_divui(w.sub(w.dim(xv, xt, 3), w.add(w.mul(w.sub(kw, 1), d1), 1)), s1), 1)
    out = w.filled(rt, [n, fo, oh, ow], 0)
    attrs = (f"{{dilations = dense<[{d0}, {d1}]> : tensor<2xi64>, strides = dense<[{s0}, {s1}]> : tensor<2xi64>}}")
    res = w.op(f"linalg.conv_2d_nchw_fchw {attrs} ins({xv}, {fv} : {tensor_type(xt)}, {tensor_type(ft)}) "
               f"outs({out} : {tensor_type(rt)}) -> {tensor_type(rt)}")
    w.same_dims(res, out, 4)
    ctx.bind(op.result, res)
