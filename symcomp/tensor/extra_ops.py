"""``T.extra_ops`` (Theano's ``theano.tensor.extra_ops``).

``squeeze`` is :func:`symcomp.tensor.squeeze` (it drops the broadcastable axes, as Theano's);
``to_one_hot`` is built from a comparison.  The other ops are not built yet: each raises
NotImplementedError when called (see :mod:`symcomp.tensor._pending`).
"""

from __future__ import annotations

from symcomp.tensor._pending import OPS, pending
from symcomp.tensor.convert import as_value, cast
from symcomp.tensor.elemwise import eq
from symcomp.tensor.shape import arange, expand_dims, squeeze  # noqa: F401 (re-exported)


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
                         "cumsum", "cumprod", "diff", "bincount", "repeat", "bartlett", "fill_diagonal",
                         "fill_diagonal_offset", "unravel_index", "ravel_multi_index", "searchsorted", "compress",
                         "cpu_contiguous", "CumOp", "DiffOp", "RepeatOp", "Bartlett", "FillDiagonal",
                         "FillDiagonalOffset", "SearchsortedOp", "Unique", "unique"))
