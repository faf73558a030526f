"""``T.nnet.abstract_conv`` (Theano's ``theano.tensor.nnet.abstract_conv``): 2-d convolutions in
NCHW layout, their gradients, and the output-size formula.

The ops are ``sc.conv2d``, ``sc.conv2d_grad_input`` and ``sc.conv2d_grad_filters``
(:mod:`symcomp.ir.ops.conv`, docs/ir.md); the functions here check and normalize Theano's
arguments (``border_mode``, ``subsample``, ``filter_dilation``, ``num_groups``,
``filter_flip``, the optional shape hints) and build them.
"""

from __future__ import annotations

from symcomp.ir.opdef import build
from symcomp.ir.ops.conv import Conv2d, Conv2dGradFilters, Conv2dGradInput, out_size
from symcomp.tensor.convert import as_value, cast, int_pair, result_dtype
from symcomp.ir import types as T

__all__ = ["conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights", "conv2d_transpose", "conv1d",
           "get_conv_output_shape", "get_conv_shape_1axis"]


def _border(border_mode):
    """(border, pad) attributes for Theano's ``border_mode``."""
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(f"border_mode must be 'valid', 'full', 'half', an int or a pair of ints, "
                             f"got {border_mode!r}")
        return border_mode, (0, 0)
    if isinstance(border_mode, tuple) and any(isinstance(b, tuple) for b in border_mode):
        raise NotImplementedError("border_mode with asymmetric padding (pairs of pairs) is not supported")
    pad = int_pair(border_mode, "border_mode", 0)
    return ("valid", pad) if pad == (0, 0) else ("pad", pad)


def _attrs(border_mode, subsample, filter_flip, filter_dilation, num_groups):
    border, pad = _border(border_mode)
    if int(num_groups) < 1:
        raise ValueError(f"num_groups must be >= 1, got {num_groups!r}")
    return {"border": border, "pad": pad, "subsample": int_pair(subsample, "subsample", 1),
            "dilation": int_pair(filter_dilation, "filter_dilation", 1), "groups": int(num_groups),
            "flip": bool(filter_flip)}


def _floats(*xs):
    """The operands as 4-d tensors of one float dtype (integers become the default float)."""
    xs = [as_value(x) for x in xs]
    dt = result_dtype(*xs)
    if not dt.is_float:
        dt = T.float_of(dt)
    return [x if x.type.dtype == dt else cast(x, dt) for x in xs]


def _check_hint(v, hint, what: str, hint_name: str):
    """A shape hint (Theano's ``input_shape`` / ``filter_shape``) must agree with ``v``'s static shape."""
    if hint is None:
        return
    hint = tuple(hint)
    if len(hint) != v.type.ndim:
        raise ValueError(f"{hint_name} {hint} has {len(hint)} entries but the {what} has rank {v.type.ndim} "
                         f"({v.type})")
    for h, s in zip(hint, v.type.shape):
        if isinstance(h, int) and h is not None and s is not None and h != s:
            raise ValueError(f"{hint_name} {hint} does not match the {what}'s shape {v.type.shape}")


def _rank(v, n: int, what: str):
    if v.type.ndim != n:
        raise ValueError(f"the {what} must be a {n}-d tensor, got {v.type}")


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),
           filter_flip=True, image_shape=None, filter_dilation=(1, 1), num_groups=1, unshared=False, **kwargs):
    """2-d convolution of a batch of images with a bank of filters (Theano's ``T.nnet.conv2d``).

    Args:
        input: (batch, channels, rows, cols) images.
        filters: (out channels, channels / num_groups, filter rows, filter cols).
        input_shape, filter_shape: optional shapes (ints or None per axis), checked against the
            operands' static shapes (``image_shape`` is Theano's older name of ``input_shape``).
        border_mode: ``'valid'`` (output ``i - k + 1``), ``'full'`` (``i + k - 1``), ``'half'``
            (pad ``k // 2``: the input size for odd ``k``), an int or a pair of ints (zeros
            added on both sides).  ``k`` is the dilated filter size ``(k - 1) * dilation + 1``.
        subsample: strides (rows, cols).
        filter_flip: True (default) convolves (the filters are turned by 180 degrees); False
            computes a cross-correlation.
        filter_dilation: dilation (rows, cols) of the filters.
        num_groups: channel groups (grouped convolution).

    Returns:
        (batch, out channels, out rows, out cols), out = (i + 2 * pad - k) // stride + 1, in the
        common float dtype of the operands.

    Raises:
        ValueError: operands not 4-d, channels that do not match (naming both shapes), a filter
            larger than the padded input, shape hints that contradict the operands, bad
            arguments.  With shapes unknown when the graph is built, the same checks run
            when the function is called.
        NotImplementedError: ``unshared=True`` or asymmetric padding.
    """
    if unshared:
        raise NotImplementedError("conv2d: unshared convolutions are not supported")
    if kwargs:
        raise TypeError(f"conv2d: unexpected arguments {sorted(kwargs)}")
    if image_shape is not None:
        if input_shape is not None:
            raise ValueError("conv2d: give input_shape or image_shape (its older name), not both")
        input_shape = image_shape
    x, w = _floats(input, filters)
    _rank(x, 4, "input")
    _rank(w, 4, "filters")
    _check_hint(x, input_shape, "input", "input_shape")
    _check_hint(w, filter_shape, "filters", "filter_shape")
    return build(Conv2d, [x, w], **_attrs(border_mode, subsample, filter_flip, filter_dilation, num_groups))


def _like(shape_hint, what: str, dtype):
    """A (1, 1, rows, cols) operand that carries the spatial size of ``shape_hint`` (its last two entries)."""
    from symcomp.tensor.shape import zeros

    shp = tuple(shape_hint)
    if len(shp) != 4:
        raise ValueError(f"{what} must have 4 entries (NCHW), got {shp!r}")
    return zeros((1, 1) + shp[2:], dtype=dtype)


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None, border_mode="valid",
                           subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1):
    """The gradient of :func:`conv2d` with respect to its input (a transposed convolution).

    Args:
        output_grad: (batch, out channels, out rows, out cols).
        filters: (out channels, channels / num_groups, filter rows, filter cols).
        input_shape: the input's shape (batch, channels, rows, cols); its rows and cols (ints or
            symbolic scalars) fix the result's size, which a strided convolution does not.
        filter_shape, border_mode, subsample, filter_flip, filter_dilation, num_groups: as for
            :func:`conv2d`.

    Returns:
        (batch, channels, rows, cols).

    Raises:
        ValueError: as :func:`conv2d`, and when ``input_shape`` does not convolve to
            ``output_grad``'s spatial shape.
    """
    g, w = _floats(output_grad, filters)
    _rank(g, 4, "output_grad")
    _rank(w, 4, "filters")
    _check_hint(w, filter_shape, "filters", "filter_shape")
    like = _like(input_shape, "input_shape", g.type.dtype)
    return build(Conv2dGradInput, [g, w, like], **_attrs(border_mode, subsample, filter_flip, filter_dilation,
                                                          num_groups))


def conv2d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None, border_mode="valid",
                            subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1):
    """The gradient of :func:`conv2d` with respect to its filters.

    Args:
        input: (batch, channels, rows, cols).
        output_grad: (batch, out channels, out rows, out cols).
        filter_shape: the filters' shape (out channels, channels / num_groups, rows, cols); its
            rows and cols fix the result's size.
        input_shape, border_mode, subsample, filter_flip, filter_dilation, num_groups: as for
            :func:`conv2d`.

    Returns:
        (out channels, channels / num_groups, filter rows, filter cols).
    """
    x, g = _floats(input, output_grad)
    _rank(x, 4, "input")
    _rank(g, 4, "output_grad")
    _check_hint(x, input_shape, "input", "input_shape")
    like = _like(filter_shape, "filter_shape", g.type.dtype)
    return build(Conv2dGradFilters, [x, g, like], **_attrs(border_mode, subsample, filter_flip, filter_dilation,
                                                            num_groups))


def conv2d_transpose(input, filters, output_shape, filter_shape=None, border_mode="valid", input_dilation=(1, 1),
                     filter_flip=True, filter_dilation=(1, 1), num_groups=1):
    """The transpose of :func:`conv2d` (Theano's ``T.nnet.conv2d_transpose``, a "deconvolution"):
    :func:`conv2d_grad_wrt_inputs` with ``input`` as the output gradient, ``output_shape`` as the
    input shape and ``input_dilation`` as the strides.

    Args:
        input: (batch, channels of the convolution's output, rows, cols).
        filters: (those channels, output channels / num_groups, filter rows, filter cols).
        output_shape: the result's shape (batch, channels, rows, cols).

    Returns:
        (batch, output channels, rows, cols) of ``output_shape``.
    """
    return conv2d_grad_wrt_inputs(input, filters, output_shape, filter_shape=filter_shape, border_mode=border_mode,
                                  subsample=input_dilation, filter_flip=filter_flip, filter_dilation=filter_dilation,
                                  num_groups=num_groups)


def conv1d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=1, filter_flip=True,
           filter_dilation=1, num_groups=1):
    """1-d convolution through :func:`conv2d` on a single row.

    Args:
        input: (batch, channels, length).
        filters: (out channels, channels / num_groups, taps).
        border_mode: ``'valid'``, ``'full'``, ``'half'`` or an int (padding on both ends).
        subsample, filter_dilation: ints.

    Returns:
        (batch, out channels, out length).
    """
    from symcomp.tensor.shape import expand_dims, squeeze

    x, w = _floats(input, filters)
    _rank(x, 3, "input")
    _rank(w, 3, "filters")
    _check_hint(x, input_shape, "input", "input_shape")
    _check_hint(w, filter_shape, "filters", "filter_shape")
    if isinstance(border_mode, str):
        bm = border_mode  # a one-row filter pads no rows in 'half' and 'full'
    else:
        (p,) = (border_mode,) if isinstance(border_mode, int) else tuple(border_mode)
        bm = (0, int(p))
    y = conv2d(expand_dims(x, 2), expand_dims(w, 2), border_mode=bm, subsample=(1, int(subsample)),
               filter_flip=filter_flip, filter_dilation=(1, int(filter_dilation)), num_groups=num_groups)
    return squeeze(y, 2)


def get_conv_shape_1axis(image_shape, kernel_shape, border_mode, subsample, dilation=1):
    """The output size along one axis (Theano's formula); None if an input is None.

    Raises:
        ValueError: for an unknown ``border_mode``.
    """
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(f"border_mode must be 'valid', 'full', 'half' or an int, got {border_mode!r}")
        return out_size(image_shape, kernel_shape, border_mode, 0, subsample, dilation)
    return out_size(image_shape, kernel_shape, "pad", int(border_mode), subsample, dilation)


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample, filter_dilation=None):
    """(batch, out channels, out rows, out cols) of :func:`conv2d` for these shapes (Theano's
    ``get_conv_output_shape``; None entries stay None)."""
    nd = len(image_shape) - 2
    dil = filter_dilation or (1,) * nd
    if isinstance(border_mode, str):
        modes = (border_mode,) * nd
    elif isinstance(border_mode, int):
        modes = (border_mode,) * nd
    else:
        modes = tuple(border_mode)
    return (image_shape[0], kernel_shape[0]) + tuple(
        get_conv_shape_1axis(image_shape[2 + a], kernel_shape[2 + a], modes[a], subsample[a], dil[a])
        for a in range(nd))
