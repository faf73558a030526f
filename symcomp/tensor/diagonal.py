"""Diagonals and triangles in the front-end: ``eye``, ``identity_like``, ``tri``, ``tril``,
``triu``, ``diagonal`` (``extract_diag``), ``alloc_diag``, ``diag``, ``trace``,
``fill_diagonal``, ``fill_diagonal_offset``.

Each is a composition of existing ops (a comparison of two ``arange`` s makes the mask, ``switch``
applies it; advanced indexing reads a diagonal), so it has their gradients and runs on every
backend.
"""

from __future__ import annotations

from symcomp.tensor.convert import as_value, cast, result_dtype
from symcomp.tensor.elemwise import eq, ge, le, switch
from symcomp.tensor.indexing import getitem
from symcomp.tensor.reduce import sum as _sum
from symcomp.tensor.shape import arange, expand_dims, shape


def _offsets(n, m, k):
    """The (n, m) int64 matrix ``j - i - k`` (zero on the k-th diagonal)."""
    i = expand_dims(arange(n, dtype="int64"), 1)
    j = expand_dims(arange(m, dtype="int64"), 0)
    return j - i - k


def tri(N, M=None, k: int = 0, dtype=None):
    """``np.tri``: the (N, M) matrix with ones at and below the k-th diagonal (dtype default
    ``config.floatX``, as Theano's ``T.tri``)."""
    from symcomp.config import config

    M = N if M is None else M
    return cast(le(_offsets(N, M, k), 0), dtype or config.floatX)


def eye(n, m=None, k: int = 0, dtype=None):
    """``np.eye``: ones on the k-th diagonal of an (n, m) matrix (dtype default ``config.floatX``)."""
    from symcomp.config import config

    m = n if m is None else m
    return cast(eq(_offsets(n, m, k), 0), dtype or config.floatX)


def identity_like(x, dtype=None):
    """The identity matrix of ``x``'s shape and dtype (Theano's ``identity_like``)."""
    x = as_value(x)
    if x.type.ndim != 2:
        raise ValueError(f"identity_like: x must be a matrix, got {x.type}")
    n, m = shape(x)
    return eye(n, m, dtype=dtype or x.type.dtype)


def _mask(x, k, lower: bool):
    x = as_value(x)
    if x.type.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'}: x must have rank >= 2, got {x.type}")
    off = _offsets(shape(x)[-2], shape(x)[-1], k)
    keep = le(off, 0) if lower else ge(off, 0)
    return switch(keep, x, cast(0, x.type.dtype))


def tril(m, k: int = 0):
    """``np.tril``: ``m`` with the entries above the k-th diagonal zeroed (last two axes)."""
    return _mask(m, k, True)


def triu(m, k: int = 0):
    """``np.triu``: ``m`` with the entries below the k-th diagonal zeroed (last two axes)."""
    return _mask(m, k, False)


def diagonal(x, offset: int = 0):
    """The ``offset``-th diagonal of a matrix, as a vector (``np.diagonal``; Theano's
    ``extract_diag`` and ``T.diagonal``)."""
    x = as_value(x)
    if x.type.ndim != 2:
        raise ValueError(f"extract_diag: x must be a matrix, got {x.type}")
    if not isinstance(offset, int):
        raise TypeError(f"extract_diag: offset must be an int, got {type(offset).__name__}")
    n, m = shape(x)
    from symcomp.tensor.elemwise import maximum, minimum

    if offset >= 0:
        length = maximum(minimum(n, m - offset), 0)
        i = arange(length, dtype="int64")
        return getitem(x, (i, i + offset))
    length = maximum(minimum(n + offset, m), 0)
    i = arange(length, dtype="int64")
    return getitem(x, (i - offset, i))


extract_diag = diagonal


def alloc_diag(v, offset: int = 0):
    """The square matrix with ``v`` on its ``offset``-th diagonal, zeros elsewhere (Theano's
    ``alloc_diag``, ``np.diag`` of a vector)."""
    v = as_value(v)
    if v.type.ndim != 1:
        raise ValueError(f"alloc_diag: v must be a vector, got {v.type}")
    n = shape(v)[0] + abs(offset)
    off = _offsets(n, n, offset)
    # Entry (i, j) on the diagonal holds v[min(i, j)]: broadcast v along the other axis.
    idx = expand_dims(arange(n, dtype="int64"), 1) if offset >= 0 else expand_dims(arange(n, dtype="int64"), 0)
    from symcomp.tensor.elemwise import minimum

    safe = minimum(idx, shape(v)[0] - 1)
    vals = getitem(v, safe)
    return switch(eq(off, 0), vals, cast(0, v.type.dtype))


def diag(v, k: int = 0):
    """``np.diag``: a vector gives the matrix with it on the k-th diagonal, a matrix its k-th
    diagonal (Theano's ``T.diag``).

    Raises:
        ValueError: for another rank.
    """
    v = as_value(v)
    if v.type.ndim == 1:
        return alloc_diag(v, k)
    if v.type.ndim == 2:
        return diagonal(v, k)
    raise ValueError(f"diag: input must be a vector or a matrix, got {v.type}")


def trace(x):
    """The sum of a matrix's diagonal (Theano's ``nlinalg.trace``)."""
    x = as_value(x)
    if x.type.ndim != 2:
        raise ValueError(f"trace: x must be a matrix, got {x.type}")
    return _sum(diagonal(x))


def fill_diagonal(a, val):
    """A copy of ``a`` with ``val`` (a scalar) on its main diagonal (Theano's
    ``extra_ops.fill_diagonal``, ``np.fill_diagonal`` on a copy; a matrix or an N-d array with
    equal sizes).  The gradient goes to ``a`` off the diagonal and the diagonal's sum to ``val``."""
    return fill_diagonal_offset(a, val, 0) if as_value(a).type.ndim == 2 else _fill_nd(a, val)


def _fill_nd(a, val):
    a, val = as_value(a), as_value(val)
    if a.type.ndim < 2 or val.type.ndim != 0:
        raise TypeError(f"fill_diagonal: a must have rank >= 2 and val be a scalar, got {a.type} and {val.type}")
    dims = shape(a)
    on = None
    i0 = None
    for ax in range(a.type.ndim):
        shp = [1] * a.type.ndim
        shp[ax] = dims[ax]
        idx = arange(dims[ax], dtype="int64")
        idx = expand_dims(idx, [d for d in range(a.type.ndim) if d != ax]) if a.type.ndim > 1 else idx
        if i0 is None:
            i0 = idx
        else:
            c = eq(idx, i0)
            on = c if on is None else on & c
    dt = result_dtype(a, val)
    return switch(on, cast(val, dt), cast(a, dt))


def fill_diagonal_offset(a, val, offset):
    """A copy of the matrix ``a`` with the scalar ``val`` on its ``offset``-th diagonal (Theano's
    ``extra_ops.fill_diagonal_offset``)."""
    a, val = as_value(a), as_value(val)
    if a.type.ndim != 2 or val.type.ndim != 0:
        raise TypeError(f"fill_diagonal_offset: a must be a matrix and val a scalar, got {a.type} and {val.type}")
    n, m = shape(a)
    dt = result_dtype(a, val)
    return switch(eq(_offsets(n, m, offset), 0), cast(val, dt), cast(a, dt))
