"""``symcomp.tensor.signal.pool`` (Theano's ``theano.tensor.signal.pool``): max, sum and average
pooling over the last two axes, and the max-pooling mask ``max_pool_2d_same_size``.

The ops are ``sc.pool2d`` and ``sc.pool2d_grad`` (:mod:`symcomp.ir.ops.pool`, docs/ir.md).
``pool_3d`` and Theano's op classes (``Pool``, ``MaxPoolGrad``...) are not provided: calling
them raises NotImplementedError.
"""

from __future__ import annotations

import warnings

from symcomp.ir.opdef import build
from symcomp.ir.ops.pool import MODES, Pool2d, Pool2dGrad
from symcomp.tensor._pending import CONVOLUTION, pending
from symcomp.tensor.convert import as_value, int_pair

__all__ = ["pool_2d", "max_pool_2d_same_size"]


def _pair(v, what: str, least: int):
    return int_pair(v, "pool_2d: " + what, least)


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max", ds=None, st=None,
            padding=None):
    """Pool windows of the last two axes of ``input`` (Theano's ``pool_2d``).

    Args:
        input: a tensor of rank >= 2 (N-d batches of images: the last two axes are pooled).
        ws: the window (rows, cols).
        ignore_border: True: only whole windows (with ``pad`` added); False: partial windows at the
            bottom and right edges too.  None (Theano's default) warns, as Theano does, and means False.
        stride: the step between windows (rows, cols); default ``ws`` (no overlap).
        pad: zeros added on each side (rows, cols), each smaller than ``ws``; needs ``ignore_border``.
        mode: ``'max'``, ``'sum'``, ``'average_inc_pad'`` (the padding counts in the mean) or
            ``'average_exc_pad'``; ``'average'`` is ``'average_inc_pad'``.
        ds, st, padding: Theano's older names of ``ws``, ``stride``, ``pad``.

    Returns:
        The pooled tensor: the leading axes kept; each pooled axis of ``n`` elements becomes
        ``(n + 2 * pad - ws) // stride + 1`` with ``ignore_border``, else
        ``(n - 1) // stride + 1`` (``stride >= ws``) or ``max(0, (n - 1 - ws + stride) // stride) + 1``.
        Max pooling never picks a padding zero.

    Raises:
        ValueError: bad arguments, a window larger than the padded input with
            ``ignore_border=True`` (naming both shapes; when the shape is known only at call time,
            then), ``pad`` not smaller than ``ws``.
        NotImplementedError: ``pad`` without ``ignore_border`` (as in Theano).
    """
    if ds is not None:
        if ws is not None:
            raise ValueError("pool_2d: give ws or ds (its older name), not both")
        ws = ds
    if st is not None:
        if stride is not None:
            raise ValueError("pool_2d: give stride or st (its older name), not both")
        stride = st
    if padding is not None:
        if tuple(pad) != (0, 0):
            raise ValueError("pool_2d: give pad or padding (its older name), not both")
        pad = padding
    if ws is None:
        raise TypeError("pool_2d() missing the window size ws")
    if ignore_border is None:
        warnings.warn("pool_2d() will have the parameter ignore_border default value changed to True "
                      "(currently False). To have consistent behavior with all Theano versions, explicitly add "
                      "the parameter ignore_border=True.", UserWarning, stacklevel=2)
        ignore_border = False
    if mode == "average":
        mode = "average_inc_pad"
    if mode not in MODES:
        raise ValueError(f"pool_2d: mode must be one of {', '.join(MODES)}, got {mode!r}")
    ws = _pair(ws, "ws", 1)
    stride = ws if stride is None else _pair(stride, "stride", 1)
    pad = _pair(pad, "pad", 0)
    if any(pad) and not ignore_border:
        raise NotImplementedError("pool_2d: padding works only with ignore_border=True")
    x = as_value(input)
    if x.type.ndim < 2:
        raise ValueError(f"pool_2d: the input must have rank >= 2, got {x.type}")
    return build(Pool2d, [x], ws=ws, stride=stride, pad=pad, ignore_border=bool(ignore_border), mode=mode)


def max_pool_2d_same_size(input, patch_size):
    """The input with every element that is not the maximum of its (non-overlapping) window of
    ``patch_size`` set to 0 (Theano's ``max_pool_2d_same_size``; tied maxima all stay).

    Args:
        input: a tensor of rank >= 2 (the last two axes are pooled).
        patch_size: the window (rows, cols).

    Returns:
        A tensor of ``input``'s shape and dtype.
    """
    x = as_value(input)
    ws = _pair(patch_size, "patch_size", 1)
    y = build(Pool2d, [x], ws=ws, stride=ws, pad=(0, 0), ignore_border=True, mode="max")
    return build(Pool2dGrad, [x, y, y], ws=ws, stride=ws, pad=(0, 0), ignore_border=True, mode="max")


globals().update(pending("symcomp.tensor.signal.pool", CONVOLUTION,
                         "pool_3d", "Pool", "PoolGrad", "MaxPoolGrad", "AveragePoolGrad"))
