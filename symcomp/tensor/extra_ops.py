"""``T.extra_ops`` (Theano's ``theano.tensor.extra_ops``).

``squeeze`` is :func:`symcomp.tensor.squeeze` (it drops the broadcastable axes, as Theano's);
``to_one_hot`` is built from a comparison; ``cumsum`` is the ``sc.cumsum`` op.  The other ops are not built yet: each raises
NotImplementedError when called (see :mod:`symcomp.tensor._pending`).
"""

from __future__ import annotations

from symcomp.ir.opdef import build
from symcomp.ir.ops.random import Cumsum
from symcomp.tensor._pending import OPS, pending
from symcomp.tensor.convert import as_value, cast
from symcomp.tensor.elemwise import eq
from symcomp.tensor.shape import _normalize_axis, arange, expand_dims, flatten, squeeze  # noqa: F401 (re-exported)


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (None: of the flattened tensor), added strictly in order
    (``np.cumsum``; bool and narrow integers sum in int64, as NumPy)."""
    x = as_value(x)
    if x.type.dtype.is_bool or (x.type.dtype.is_int and x.type.dtype.bits < 64):
        x = cast(x, "uint64" if x.type.dtype.kind == "u" else "int64")
    if axis is None:
        x, axis = flatten(x), 0
    if x.type.ndim == 0:
        x = flatten(x)
    return build(Cumsum, [x], axis=_normalize_axis(axis, x.type.ndim, "cumsum"))


def to_one_hot(y, nb_class: int, dtype=None):
    """One row per label: ``out[i, j] = 1`` where ``y[i] == j``, else 0 (Theano's ``to_one_hot``).

    Args:
        y: a vector of integer labels, shape (n,).
        nb_class: the number of classes (columns).
        dtype: the result's dtype (default ``config.floatX``).

    Returns:
        An (n, nb_class) matrix.

    Raises:
        TypeError: if ``y`` is not an integer vector.
    """
    from symcomp.config import config

    y = as_value(y)
    if y.type.ndim != 1 or not y.type.dtype.is_int:
        raise TypeError(f"to_one_hot: y must be a vector of integers, got {y.type}")
    hit = eq(expand_dims(y, 1), expand_dims(arange(nb_class, dtype=y.type.dtype), 0))
    return cast(hit, dtype or config.floatX)


globals().update(pending("symcomp.tensor.extra_ops", OPS,
                         "cumprod", "diff", "bincount", "repeat", "bartlett", "fill_diagonal",
                         "fill_diagonal_offset", "unravel_index", "ravel_multi_index", "searchsorted", "compress",
                         "cpu_contiguous", "CumOp", "DiffOp", "RepeatOp", "Bartlett", "FillDiagonal",
                         "FillDiagonalOffset", "SearchsortedOp", "Unique", "unique"))
