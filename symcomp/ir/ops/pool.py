"""2-d pooling over the last two axes and its gradient (Theano's ``Pool`` and ``MaxPoolGrad`` /
``AveragePoolGrad``, ``theano.tensor.signal.pool``).

``sc.pool2d(x)`` reduces windows of ``ws`` (rows, cols) elements taken every ``stride``
elements of the last two axes of ``x`` (rank >= 2), after ``pad`` zeros are added on each
side.  ``mode`` is ``"max"``, ``"sum"``, ``"average_inc_pad"`` (the padding zeros count in the
mean) or ``"average_exc_pad"`` (they do not).  As in Theano, window ``r`` covers padded rows
``[r * stride, min(r * stride + ws, rows + 2 * pad))``, cut to the unpadded rows
``[pad, rows + pad)`` except in ``average_inc_pad`` mode, so padding never wins a max.

Output size along an axis of ``n`` elements (Theano's ``Pool.out_shape``), ``m = n + 2 * pad``:

* ``ignore_border``: ``(m - ws) // stride + 1`` (a window larger than ``m`` is an error);
* otherwise (``pad`` must be 0): ``(n - 1) // stride + 1`` if ``stride >= ws``, else
  ``max(0, (n - 1 - ws + stride) // stride) + 1`` (the last windows may be partial).

``sc.pool2d_grad(x, y, gy)`` is the gradient of ``y = pool2d(x)`` for the output gradient ``gy``:
each window's gradient goes to every element of the window in sum mode, divided by the
window's element count in the average modes, and in max mode to every element of the
window equal to the window's maximum (Theano's ``MaxPoolGrad``: ties all get it).
"""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Bool, Ints, Pure, Str, attr, build, op, operand

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def pool_out_size(n, ws, stride, pad, ignore_border):
    """Output size along one axis of ``n`` elements (None if ``n`` is unknown); module doc."""
    if n is None:
        return None
    if ignore_border:
        return (n + 2 * pad - ws) // stride + 1
    if stride >= ws:
        return (n - 1) // stride + 1
    return max(0, (n - 1 - ws + stride) // stride) + 1


def windows(n, ws, stride, pad, ignore_border, inc_pad):
    """[(start, stop)] in unpadded coordinates of each output window along one axis (may start
    or stop in the padding when ``inc_pad``)."""
    out = []
    for r in range(pool_out_size(n, ws, stride, pad, ignore_border)):
        lo = r * stride
        hi = min(lo + ws, n + 2 * pad)
        if not inc_pad:
            lo, hi = max(lo, pad), min(hi, n + pad)
        out.append((lo - pad, hi - pad))
    return out


class _PoolBase(Operation):
    ws = attr(Ints)
    stride = attr(Ints)
    pad = attr(Ints, (0, 0))
    ignore_border = attr(Bool, True)
    mode = attr(Str, "max")

    @classmethod
    def _check(cls, t, attrs, what="input"):
        if attrs["mode"] not in MODES:
            raise ValueError(f"{cls.name}: mode must be one of {', '.join(MODES)}, got {attrs['mode']!r}")
        ws, st, pad = attrs["ws"], attrs["stride"], attrs["pad"]
        for key, v, least in (("ws", ws, 1), ("stride", st, 1), ("pad", pad, 0)):
            if len(v) != 2 or min(v) < least:
                raise ValueError(f"{cls.name}: {key} must be two integers >= {least}, got {list(v)}")
        if any(pad[a] >= ws[a] for a in range(2)):
            raise ValueError(f"{cls.name}: padding {list(pad)} must be smaller than the window {list(ws)}")
        if any(pad) and not attrs["ignore_border"]:
            raise ValueError(f"{cls.name}: padding works only with ignore_border=True")
        if t.ndim < 2:
            raise ValueError(f"{cls.name}: the {what} must have rank >= 2, got {t}")
        if t.dtype.is_bool or (attrs["mode"].startswith("average") and not t.dtype.is_float):
            raise TypeError(f"{cls.name}: {attrs['mode']} pooling of dtype {t.dtype.name} is not supported")
        out = []
        for a in range(2):
            n = t.shape[t.ndim - 2 + a]
            if attrs["ignore_border"] and n is not None and n + 2 * pad[a] < ws[a]:
                raise ValueError(f"{cls.name}: the window {tuple(ws)} is larger than the {what} of shape {t.shape} "
                                 f"padded by {tuple(pad)} (ignore_border=True)")
            out.append(pool_out_size(n, ws[a], st[a], pad[a], attrs["ignore_border"]))
        return t.shape[:-2] + tuple(out)

    def _regions(self, shape):
        inc = self.mode == "average_inc_pad"
        return [windows(shape[-2 + a], self.ws[a], self.stride[a], self.pad[a], self.ignore_border, inc)
                for a in range(2)]

    def _attrs(self):
        return {k: getattr(self, k) for k in ("ws", "stride", "pad", "ignore_border", "mode")}


@op("sc.pool2d", traits=(Pure,))
class Pool2d(_PoolBase):
    """Max, sum or average pooling of the last two axes of ``x`` (module doc)."""
    x = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        return [T.TensorType(t.dtype, cls._check(t, attrs))]

    def ref(self, x):
        rows, cols = self._regions(x.shape)
        out = np.zeros(x.shape[:-2] + (len(rows), len(cols)), dtype=x.dtype)
        for r, (r0, r1) in enumerate(rows):
            for c, (c0, c1) in enumerate(cols):
                win = x[..., max(r0, 0):r1, max(c0, 0):c1]
                if self.mode == "max":
                    out[..., r, c] = win.max(axis=(-2, -1))
                else:
                    s = win.sum(axis=(-2, -1))
                    out[..., r, c] = s if self.mode == "sum" else s / ((r1 - r0) * (c1 - c0))
        return out

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None]
        return [build(Pool2dGrad, [self.x, self.result, grads[0]], **self._attrs())]


@op("sc.pool2d_grad", traits=(Pure,))
class Pool2dGrad(_PoolBase):
    """The gradient of ``y = sc.pool2d(x)`` for the output gradient ``gy`` (module doc)."""
    x = operand()
    y = operand()
    gy = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        x, y, gy = types
        out = cls._check(x, attrs)
        for what, t in (("pooled output", y), ("output gradient", gy)):
            if t.dtype != x.dtype:
                raise TypeError(f"{cls.name}: the {what} has dtype {t.dtype.ir}, the input {x.dtype.ir}")
            if t.ndim != x.ndim or any(a is not None and b is not None and a != b for a, b in zip(t.shape, out)):
                raise ValueError(f"{cls.name}: the {what} has shape {t.shape}, but pooling the input of shape "
                                 f"{x.shape} gives {out}")
        return [x.plain()]

    def ref(self, x, y, gy):
        rows, cols = self._regions(x.shape)
        gx = np.zeros_like(x)
        for r, (r0, r1) in enumerate(rows):
            for c, (c0, c1) in enumerate(cols):
                sl = (Ellipsis, slice(max(r0, 0), r1), slice(max(c0, 0), c1))
                g = gy[..., r, c][..., None, None]
                if self.mode == "max":
                    gx[sl] += g * (x[sl] == y[..., r, c][..., None, None])
                elif self.mode == "sum":
                    gx[sl] += g
                else:
                    gx[sl] += g / ((r1 - r0) * (c1 - c0))
        return gx

    def vjp(self, grads):
        if self.mode == "max":
            raise NotImplementedError("sc.pool2d_grad: the gradient of the max-pooling gradient (a second "
                                      "derivative through max pooling) is not supported")
        return [None, None, build(Pool2d, [grads[0]], **self._attrs())]
