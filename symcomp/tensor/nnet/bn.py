"""``T.nnet.bn`` (Theano's ``theano.tensor.nnet.bn``): batch normalization (Ioffe and Szegedy,
"Batch Normalization", 2015), written with the front-end's reductions and elementwise ops, so
that the optimizer fuses it and ``T.grad`` differentiates it like any expression.

Theano's op classes (``AbstractBatchNormTrain``...) are not provided: calling them raises
NotImplementedError.
"""

from __future__ import annotations

from symcomp.tensor._pending import CONVOLUTION, pending
from symcomp.tensor.convert import as_value, cast
from symcomp.tensor.elemwise import sqrt
from symcomp.tensor.reduce import mean as _mean, var as _var
from symcomp.tensor.shape import dimshuffle

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """``(inputs - mean) * (gamma / std) + beta``, all broadcast together (Theano's function of the
    same name; ``mode`` only chose Theano's memory strategy and is checked, then ignored).

    Raises:
        ValueError: ``mode`` other than ``'low_mem'`` or ``'high_mem'``.
    """
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f"batch_normalization: mode must be 'low_mem' or 'high_mem', got {mode!r}")
    inputs, gamma, beta, mean, std = (as_value(v) for v in (inputs, gamma, beta, mean, std))
    return (inputs - mean) * (gamma / std) + beta


def _axes(axes, ndim: int) -> tuple:
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, ndim))
    if isinstance(axes, (list, tuple)) and all(isinstance(a, int) for a in axes):
        out = tuple(sorted(a + ndim if a < 0 else a for a in axes))
        if any(a < 0 or a >= ndim for a in out) or len(set(out)) != len(out):
            raise ValueError(f"batch normalization: axes {axes!r} out of range for a {ndim}-d input")
        return out
    raise ValueError(f"batch normalization: axes must be 'per-activation', 'spatial' or a tuple of ints, got {axes!r}")


def _full(p, axes, ndim: int, what: str):
    """A parameter given without the normalized axes (``ndim - len(axes)`` dims) gets them back as
    broadcastable axes; one of full rank is kept."""
    p = as_value(p)
    if p.type.ndim == ndim:
        return p
    if p.type.ndim != ndim - len(axes):
        raise ValueError(f"batch normalization: {what} must have rank {ndim} or {ndim - len(axes)} (the input's "
                         f"without the axes {axes}), got {p.type}")
    it = iter(range(p.type.ndim))
    return dimshuffle(p, *["x" if a in axes else next(it) for a in range(ndim)])


def _params_view(v, axes, ndim: int, params_ndim: int):
    """A full-rank result in the parameters' rank (the normalized axes dropped) when they had fewer."""
    if params_ndim == ndim:
        return v
    return dimshuffle(v, *[a for a in range(ndim) if a not in axes])


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4, running_average_factor=0.1,
                              running_mean=None, running_var=None):
    """Batch normalization with the statistics of the batch (Theano's function of the same name).

    Args:
        inputs: the activations.
        gamma, beta: scale and shift, of the input's shape with the normalized ``axes`` of size 1,
            or without those axes at all.
        axes: ``'per-activation'`` (axis 0), ``'spatial'`` (axes 0, 2, 3... for images), or a tuple.
        epsilon: added to the variance.
        running_average_factor: weight of this batch in the running statistics.
        running_mean, running_var: the running statistics to update (both or neither).

    Returns:
        ``(out, mean, invstd)``, with ``running_mean`` and ``running_var``
        ``(out, mean, invstd, new_running_mean, new_running_var)``: ``mean`` and ``invstd`` =
        ``1 / sqrt(var + epsilon)`` are the batch's (shaped like ``gamma``);
        ``new_running_mean = running_mean * (1 - f) + mean * f`` and
        ``new_running_var = running_var * (1 - f) + (m / (m - 1)) * var * f``, ``m`` the number of
        values averaged (the unbiased variance), as Theano computes them.

    Raises:
        ValueError: bad ``axes``, parameters of the wrong rank, one running statistic without the other.
    """
    x = as_value(inputs)
    ndim = x.type.ndim
    axes = _axes(axes, ndim)
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_normalization_train: running_mean and running_var must be given together")
    params_ndim = as_value(gamma).type.ndim
    gamma, beta = _full(gamma, axes, ndim, "gamma"), _full(beta, axes, ndim, "beta")
    mean = _mean(x, axis=axes, keepdims=True)
    var = _var(x, axis=axes, keepdims=True)
    invstd = 1.0 / sqrt(var + epsilon)
    out = (x - mean) * (gamma * invstd) + beta
    res = [out, _params_view(mean, axes, ndim, params_ndim), _params_view(invstd, axes, ndim, params_ndim)]
    if running_mean is not None:
        from symcomp.tensor.shape import shape

        rm_ndim = as_value(running_mean).type.ndim
        rm, rv = _full(running_mean, axes, ndim, "running_mean"), _full(running_var, axes, ndim, "running_var")
        m = 1
        for a in axes:
            m = m * shape(x)[a]
        m = cast(m, x.type.dtype)
        f = running_average_factor
        new_mean = rm * (1.0 - f) + mean * f
        new_var = rv * (1.0 - f) + (m / (m - 1)) * var * f
        res += [_params_view(new_mean, axes, ndim, rm_ndim), _params_view(new_var, axes, ndim, rm_ndim)]
    return tuple(res)


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation", epsilon=1e-4):
    """Batch normalization with given statistics (Theano's function of the same name):
    ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta``.

    Args:
        inputs: the activations.
        gamma, beta, mean, var: shaped like the input with the ``axes`` of size 1, or without them.
        axes, epsilon: as :func:`batch_normalization_train`.

    Raises:
        ValueError: bad ``axes`` or parameters of the wrong rank.
    """
    x = as_value(inputs)
    ndim = x.type.ndim
    axes = _axes(axes, ndim)
    gamma, beta, mean, var = (_full(p, axes, ndim, w) for p, w in
                              ((gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "var")))
    return (x - mean) * (gamma / sqrt(var + epsilon)) + beta


globals().update(pending("symcomp.tensor.nnet.bn", CONVOLUTION,
                         "AbstractBatchNormTrain", "AbstractBatchNormInference", "AbstractBatchNormTrainGrad"))
