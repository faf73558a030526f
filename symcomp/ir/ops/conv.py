"""2-d convolution in NCHW layout and its two gradients (Theano's ``AbstractConv2d`` family).

``sc.conv2d(x, w)`` takes an input ``x`` of shape (batch, channels, rows, cols) and filters
``w`` of shape (out channels, channels / groups, filter rows, filter cols).  Attributes, with
Theano's meaning (``theano.tensor.nnet.abstract_conv``):

* ``border``: ``"valid"`` (no padding), ``"full"`` (pad ``dk - 1``), ``"half"`` (pad
  ``dk // 2``) or ``"pad"`` (the explicit ``pad`` attribute), where ``dk = (k - 1) * dilation + 1``
  is the dilated filter size along an axis;
* ``pad``: (rows, cols) zeros added on both sides (``border = "pad"`` only);
* ``subsample``: the strides (rows, cols); ``dilation``: the filter dilation (rows, cols);
* ``groups``: input and output channels are cut into ``groups`` blocks, block ``g`` of the
  output seeing only block ``g`` of the input;
* ``flip``: true for a convolution (the filters turned by 180 degrees, Theano's default),
  false for a cross-correlation.

Output size along each spatial axis: ``(i + 2 * p - dk) // s + 1`` (Theano's
``get_conv_output_shape``); a filter larger than the padded input is an error.

``sc.conv2d_grad_input(gy, w, like)`` and ``sc.conv2d_grad_filters(x, gy, like)`` are the
adjoints of the convolution with respect to its input and its filters: the spatial size of
their result (which a strided convolution does not determine) is that of the last two axes
of ``like``, whose values are never read.  The three ops are each other's VJPs.
"""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Bool, Int, Ints, Pure, Str, attr, build, op, operand

BORDERS = ("valid", "full", "half", "pad")


def dilated(k, dil):
    """The extent of a filter of ``k`` taps with dilation ``dil`` (None if ``k`` is unknown)."""
    return None if k is None else (k - 1) * dil + 1


def padding(border: str, pad, k, dil):
    """Zeros added on each side of one spatial axis for a filter of ``k`` taps (None if unknown)."""
    if border == "pad":
        return pad
    dk = dilated(k, dil)
    if border == "valid":
        return 0
    if dk is None:
        return None
    return dk - 1 if border == "full" else dk // 2


def out_size(i, k, border, pad, stride, dil):
    """Theano's output size ``(i + 2 * p - dk) // s + 1`` (None if an input is unknown)."""
    p = padding(border, pad, k, dil)
    dk = dilated(k, dil)
    if i is None or dk is None or p is None:
        return None
    return (i + 2 * p - dk) // stride + 1


class _ConvBase(Operation):
    border = attr(Str, "valid")
    pad = attr(Ints, (0, 0))
    subsample = attr(Ints, (1, 1))
    dilation = attr(Ints, (1, 1))
    groups = attr(Int, 1)
    flip = attr(Bool, True)

    @classmethod
    def _check_attrs(cls, attrs):
        if attrs["border"] not in BORDERS:
            raise ValueError(f"{cls.name}: border must be one of {', '.join(BORDERS)}, got {attrs['border']!r}")
        for key, least in (("pad", 0), ("subsample", 1), ("dilation", 1)):
            v = attrs[key]
            if len(v) != 2 or min(v) < least:
                raise ValueError(f"{cls.name}: {key} must be two integers >= {least}, got {list(v)}")
        if attrs["groups"] < 1:
            raise ValueError(f"{cls.name}: groups must be >= 1, got {attrs['groups']}")

    @classmethod
    def _check_types(cls, *named):
        dt = named[0][1].dtype
        for what, t in named:
            if t.ndim != 4:
                raise ValueError(f"{cls.name}: {what} must be 4-d (NCHW), got {t}")
            if t.dtype != dt or not dt.is_float:
                raise TypeError(f"{cls.name}: operands must share one float dtype, got "
                                + ", ".join(f"{w} {u.dtype.ir}" for w, u in named))

    @classmethod
    def _spatial(cls, attrs, in_shape, k_shape, what):
        """Output (rows, cols) for input (rows, cols) and filter (rows, cols); checks the fit."""
        out = []
        for a in range(2):
            i, k = in_shape[a], k_shape[a]
            p = padding(attrs["border"], attrs["pad"][a], k, attrs["dilation"][a])
            dk = dilated(k, attrs["dilation"][a])
            if i is not None and dk is not None and p is not None and i + 2 * p < dk:
                raise ValueError(f"{cls.name}: the filter ({k_shape[0]}x{k_shape[1]}, dilated extent {dk} along "
                                 f"axis {a + 2}) is larger than the {what} {tuple(in_shape)} padded by {p}")
            out.append(out_size(i, k, attrs["border"], attrs["pad"][a], attrs["subsample"][a],
                                attrs["dilation"][a]))
        return tuple(out)

    @classmethod
    def _check_channels(cls, attrs, c, cw, f, x_what, w_shape):
        g = attrs["groups"]
        if c is not None and cw is not None and c != cw * g:
            raise ValueError(f"{cls.name}: the {x_what} has {c} channels but the filters of shape {w_shape} take "
                             f"{cw} per group x {g} group(s) = {cw * g}")
        if f is not None and f % g:
            raise ValueError(f"{cls.name}: {f} output channels (filters of shape {w_shape}) do not split into "
                             f"{g} groups")

    def pads(self, k_shape):
        """(rows, cols) padding for filters of spatial shape ``k_shape`` (concrete sizes)."""
        return tuple(padding(self.border, self.pad[a], k_shape[a], self.dilation[a]) for a in range(2))

    def _conv_attrs(self):
        return {k: getattr(self, k) for k in ("border", "pad", "subsample", "dilation", "groups", "flip")}


def _windows(xp, kh, kw, oh, ow, s, d):
    """``xp[:, :, i*d0 + r*s0, j*d1 + c*s1]`` for r < oh, c < ow: the view one tap (i, j) reads."""
    return xp[:, :, kh * d[0]: kh * d[0] + (oh - 1) * s[0] + 1: s[0], kw * d[1]: kw * d[1] + (ow - 1) * s[1] + 1: s[1]]


def _tap(w, i, j, flip):
    """Filter tap (i, j) as the input sees it: turned by 180 degrees for a convolution."""
    kh, kw = w.shape[2:]
    return w[:, :, kh - 1 - i, kw - 1 - j] if flip else w[:, :, i, j]


@op("sc.conv2d", traits=(Pure,))
class Conv2d(_ConvBase):
    """2-d convolution (or cross-correlation) of NCHW input ``x`` with filters ``w`` (module doc)."""
    x = operand()
    w = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        x, w = types
        cls._check_attrs(attrs)
        cls._check_types(("input", x), ("filters", w))
        cls._check_channels(attrs, x.shape[1], w.shape[1], w.shape[0], f"input of shape {x.shape}", w.shape)
        oh, ow = cls._spatial(attrs, x.shape[2:], w.shape[2:], "input")
        return [T.TensorType(x.dtype, (x.shape[0], w.shape[0], oh, ow))]

    def ref(self, x, w):
        ph, pw = self.pads(w.shape[2:])
        n, c, h, wd = x.shape
        f, cg, kh, kw = w.shape
        g = self.groups
        fg = f // g
        oh = out_size(h, kh, self.border, self.pad[0], self.subsample[0], self.dilation[0])
        ow = out_size(wd, kw, self.border, self.pad[1], self.subsample[1], self.dilation[1])
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        out = np.zeros((n, f, oh, ow), dtype=x.dtype)
        for gi in range(g):
            xs = xp[:, gi * cg:(gi + 1) * cg]
            for i in range(kh):
                for j in range(kw):
                    tap = _tap(w[gi * fg:(gi + 1) * fg], i, j, self.flip)  # (fg, cg)
                    win = _windows(xs, i, j, oh, ow, self.subsample, self.dilation)  # (n, cg, oh, ow)
                    out[:, gi * fg:(gi + 1) * fg] += np.einsum("fc,nchw->nfhw", tap, win)
        return out

    def vjp(self, grads):
        g, kw = grads[0], self._conv_attrs()
        return [build(Conv2dGradInput, [g, self.w, self.x], **kw), build(Conv2dGradFilters, [self.x, g, self.w], **kw)]


@op("sc.conv2d_grad_input", traits=(Pure,))
class Conv2dGradInput(_ConvBase):
    """The input gradient of ``sc.conv2d`` (a transposed convolution): the (N, C, H, W) array whose
    inner product with any ``x`` equals that of ``gy`` with ``conv2d(x, w)``; H, W from ``like``."""
    gy = operand()
    w = operand()
    like = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        gy, w, like = types
        cls._check_attrs(attrs)
        cls._check_types(("output gradient", gy), ("filters", w))
        if like.ndim < 2:
            raise ValueError(f"{cls.name}: the shape operand must have rank >= 2, got {like}")
        hw = like.shape[-2:]
        f, cg = w.shape[0], w.shape[1]
        c = None if cg is None else cg * attrs["groups"]
        cls._check_channels(attrs, c, cg, f, "input", w.shape)
        if gy.shape[1] is not None and f is not None and gy.shape[1] != f:
            raise ValueError(f"{cls.name}: the output gradient of shape {gy.shape} has {gy.shape[1]} channels but the "
                             f"filters of shape {w.shape} make {f}")
        expect = cls._spatial(attrs, hw, w.shape[2:], "input")
        for a in range(2):
            if expect[a] is not None and gy.shape[2 + a] is not None and expect[a] != gy.shape[2 + a]:
                raise ValueError(f"{cls.name}: an input of spatial shape {tuple(hw)} convolves to "
                                 f"{expect}, but the output gradient has shape {gy.shape}")
        return [T.TensorType(gy.dtype, (gy.shape[0], c) + tuple(hw))]

    def ref(self, gy, w, like):
        h, wd = like.shape[-2:]
        n, f, oh, ow = gy.shape
        _, cg, kh, kw = w.shape
        g = self.groups
        fg = f // g
        ph, pw = self.pads((kh, kw))
        gp = np.zeros((n, cg * g, h + 2 * ph, wd + 2 * pw), dtype=gy.dtype)
        for gi in range(g):
            gs = gp[:, gi * cg:(gi + 1) * cg]
            for i in range(kh):
                for j in range(kw):
                    tap = _tap(w[gi * fg:(gi + 1) * fg], i, j, self.flip)
                    win = _windows(gs, i, j, oh, ow, self.subsample, self.dilation)
                    win += np.einsum("fc,nfhw->nchw", tap, gy[:, gi * fg:(gi + 1) * fg])
        return np.ascontiguousarray(gp[:, :, ph:ph + h, pw:pw + wd])

    def vjp(self, grads):
        g, kw = grads[0], self._conv_attrs()
        return [build(Conv2d, [g, self.w], **kw), build(Conv2dGradFilters, [g, self.gy, self.w], **kw), None]


@op("sc.conv2d_grad_filters", traits=(Pure,))
class Conv2dGradFilters(_ConvBase):
    """The filter gradient of ``sc.conv2d``: the (F, C / groups, KH, KW) array whose inner product
    with any ``w`` equals that of ``gy`` with ``conv2d(x, w)``; KH, KW from ``like``."""
    x = operand()
    gy = operand()
    like = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        x, gy, like = types
        cls._check_attrs(attrs)
        cls._check_types(("input", x), ("output gradient", gy))
        if like.ndim < 2:
            raise ValueError(f"{cls.name}: the shape operand must have rank >= 2, got {like}")
        khw = like.shape[-2:]
        g = attrs["groups"]
        c, f = x.shape[1], gy.shape[1]
        if c is not None and c % g:
            raise ValueError(f"{cls.name}: the input of shape {x.shape} has {c} channels, not divisible into {g} groups")
        cls._check_channels(attrs, None, None, f, "input", (f, None) + tuple(khw))
        if x.shape[0] is not None and gy.shape[0] is not None and x.shape[0] != gy.shape[0]:
            raise ValueError(f"{cls.name}: batch sizes differ: input {x.shape}, output gradient {gy.shape}")
        expect = cls._spatial(attrs, x.shape[2:], khw, "input")
        for a in range(2):
            if expect[a] is not None and gy.shape[2 + a] is not None and expect[a] != gy.shape[2 + a]:
                raise ValueError(f"{cls.name}: the input of shape {x.shape} convolves to spatial shape {expect}, "
                                 f"but the output gradient has shape {gy.shape}")
        return [T.TensorType(x.dtype, (f, None if c is None else c // g) + tuple(khw))]

    def ref(self, x, gy, like):
        kh, kw = like.shape[-2:]
        n, c, h, wd = x.shape
        f, oh, ow = gy.shape[1:]
        g = self.groups
        fg, cg = f // g, c // g
        ph, pw = self.pads((kh, kw))
        xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        gw = np.zeros((f, cg, kh, kw), dtype=x.dtype)
        for gi in range(g):
            xs = xp[:, gi * cg:(gi + 1) * cg]
            for i in range(kh):
                for j in range(kw):
                    win = _windows(xs, i, j, oh, ow, self.subsample, self.dilation)
                    tap = np.einsum("nfhw,nchw->fc", gy[:, gi * fg:(gi + 1) * fg], win)
                    ti, tj = (kh - 1 - i, kw - 1 - j) if self.flip else (i, j)
                    gw[gi * fg:(gi + 1) * fg, :, ti, tj] = tap
        return gw

    def vjp(self, grads):
        g, kw = grads[0], self._conv_attrs()
        return [build(Conv2dGradInput, [self.gy, g, self.x], **kw), build(Conv2d, [self.x, g], **kw), None]
