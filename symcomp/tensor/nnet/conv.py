"""``T.nnet.conv`` (Theano's older ``theano.tensor.nnet.conv``): its ``conv2d``, with the
``image_shape`` argument, built on :func:`symcomp.tensor.nnet.abstract_conv.conv2d`."""

from __future__ import annotations

from symcomp.tensor.nnet import abstract_conv

__all__ = ["conv2d"]


def conv2d(input, filters, image_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1), **kargs):
    """2-d convolution (a true convolution: the filters are flipped), Theano's older interface.

    Args:
        input: (batch, channels, rows, cols).
        filters: (out channels, channels, filter rows, filter cols).
        image_shape, filter_shape: optional shapes, checked against the operands.
        border_mode: ``'valid'`` or ``'full'``.
        subsample: strides (rows, cols).

    Returns:
        (batch, out channels, out rows, out cols).

    Raises:
        ValueError: as :func:`symcomp.tensor.nnet.abstract_conv.conv2d`, or another ``border_mode``.
    """
    if border_mode not in ("valid", "full"):
        raise ValueError(f"T.nnet.conv.conv2d: border_mode must be 'valid' or 'full', got {border_mode!r}")
    kargs.pop("verbose", None)
    if kargs:
        raise TypeError(f"T.nnet.conv.conv2d: unsupported arguments {sorted(kargs)}")
    return abstract_conv.conv2d(input, filters, input_shape=image_shape, filter_shape=filter_shape,
                                border_mode=border_mode, subsample=subsample)
