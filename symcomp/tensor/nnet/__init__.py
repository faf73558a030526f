"""``T.nnet``: activations, softmax and the usual losses (Theano names).

Formulas are the textbook ones; the ``stabilize`` pass rewrites naive
compositions (``log(softmax(x))``, ``log(sigmoid(x))``, ...) into stable ones.

2-d convolutions (``conv2d``, ``conv2d_transpose``...) come from ``T.nnet.abstract_conv``,
batch normalization from ``T.nnet.bn``.  3-d and separable convolutions are not built yet: they
raise NotImplementedError when called (:mod:`symcomp.tensor._pending`); so do the functions of
the submodule ``T.nnet.neighbours``.
"""

from __future__ import annotations

import warnings

from symcomp.ir.opdef import build
from symcomp.ir.ops.nnet import LogSoftmax, Softmax
from symcomp.tensor.convert import as_value, cast
from symcomp.tensor.elemwise import expm1, log, maximum, sigmoid, softplus, switch  # noqa: F401 (re-exported)
from symcomp.tensor.indexing import getitem
from symcomp.tensor.reduce import sum
from symcomp.tensor.shape import _normalize_axis, arange, expand_dims, shape
from symcomp.ir import types as T


def relu(x, alpha=0):
    """max(x, 0); with ``alpha``, the leaky form ``x if x > 0 else alpha * x``."""
    x = as_value(x)
    if alpha == 0:
        return maximum(x, 0)
    return switch(x > 0, x, alpha * x)


def elu(x, alpha=1):
    """Exponential linear unit (Clevert et al., 2015): ``x if x > 0 else alpha * (exp(x) - 1)``."""
    x = as_value(x)
    return switch(x > 0, x, alpha * expm1(x))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled exponential linear unit (Klambauer et al., 2017): ``scale * elu(x, alpha)`` with
    their constants alpha = 1.6732632423543772..., scale = 1.0507009873554804...."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def _row(cls, x, axis):
    x = as_value(x)
    if not x.type.dtype.is_float:
        x = cast(x, T.float_of(x.type.dtype))
    return build(cls, [x], axis=_normalize_axis(axis, x.type.ndim, cls.name))


def _theano_rows(x, what: str):
    """Theano 1.0's softmax input: a vector becomes a (1, n) row (with Theano's warning)."""
    x = as_value(x)
    if x.type.ndim == 1:
        warnings.warn(f"DEPRECATION: If x is a vector, {what} will not automatically pad x anymore in next "
                      "releases. If you need it, please do it manually. The vector case is gonna be supported "
                      "soon and the output will be a vector.", stacklevel=3)
        x = expand_dims(x, 0)
    return x


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) along ``axis``, computed with the maximum subtracted.

    Without ``axis``, Theano 1.0's ``T.nnet.softmax``: along the last axis, and a vector ``x``
    of shape (n,) gives a row of shape (1, n) (with Theano's deprecation warning).  With
    ``axis`` (a symcomp extension), along that axis, keeping ``x``'s shape.

    Raises:
        ValueError: for an axis out of range.
    """
    if axis is None:
        return _row(Softmax, _theano_rows(x, "Softmax"), -1)
    return _row(Softmax, x, axis)


def log_softmax(x, axis=None):
    """log(softmax(x)) computed stably as x - max - log(sum(exp(x - max))).

    Shapes as :func:`softmax` (without ``axis`` a vector gives a (1, n) row, as Theano's
    ``logsoftmax``).
    """
    if axis is None:
        return _row(LogSoftmax, _theano_rows(x, "LogSoftmax"), -1)
    return _row(LogSoftmax, x, axis)


logsoftmax = log_softmax


def categorical_crossentropy(coding_dist, true_dist):
    """-log(p[true class]) per row.

    Args:
        coding_dist: (n, k) predicted probabilities (rows sum to 1).
        true_dist: (n,) integer labels, or (n, k) one-hot/probability rows.

    Returns:
        (n,) losses.
    """
    p = as_value(coding_dist)
    t = as_value(true_dist)
    if t.type.dtype.is_int and t.type.ndim == p.type.ndim - 1:
        return -log(getitem(p, (arange(shape(t)[0]), t)))
    if t.type.ndim != p.type.ndim:
        raise ValueError(f"categorical_crossentropy: targets {t.type} do not match predictions {p.type}")
    return -sum(t * log(p), axis=-1)


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise."""
    output, target = as_value(output), as_value(target)
    return -(target * log(output) + (1 - target) * log(1 - output))


def sigmoid_binary_crossentropy(logits, target):
    """Binary cross-entropy from logits, stable for any logit: softplus(x) - target * x."""
    logits, target = as_value(logits), as_value(target)
    return softplus(logits) - target * logits


# Submodules under Theano's paths, and the names Theano's T.nnet imports from them.
from symcomp.tensor.nnet import abstract_conv, bn, conv, neighbours  # noqa: E402
from symcomp.tensor.nnet.abstract_conv import (  # noqa: E402,F401
    conv1d, conv2d, conv2d_grad_wrt_inputs, conv2d_grad_wrt_weights, conv2d_transpose,
)
from symcomp.tensor.nnet.bn import (  # noqa: E402,F401
    batch_normalization, batch_normalization_test, batch_normalization_train,
)
from symcomp.tensor._pending import CONVOLUTION as _CONVOLUTION, pending as _pending  # noqa: E402

globals().update(_pending("symcomp.tensor.nnet", _CONVOLUTION,
                          "conv3d", "abstract_conv2d", "separable_conv2d", "ConvOp"))
