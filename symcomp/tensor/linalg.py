"""Matrix products in the front-end: ``dot`` (``np.dot`` semantics) and ``outer``."""

from __future__ import annotations

from symcomp.ir.opdef import build
from symcomp.ir.ops.linalg import Dot
from symcomp.tensor.convert import as_value, cast, result_dtype
from symcomp.tensor.shape import expand_dims, reshape, shape


def dot(a, b):
    """``np.dot(a, b)``: scalars multiply; ranks 1-2 use ``sc.dot`` (BLAS for floats);
    an N-d ``a`` with a rank-1/2 ``b`` contracts a's last axis.

    Raises:
        NotImplementedError: for an N-d ``b`` (rank > 2).
        ValueError: for shapes that do not align.
    """
    a, b = as_value(a), as_value(b)
    dt = result_dtype(a, b)
    if dt.is_bool:
        raise TypeError("dot of bool tensors is not supported; cast to an integer dtype first")
    a, b = cast(a, dt), cast(b, dt)
    if a.type.ndim == 0 or b.type.ndim == 0:
        return a * b
    if b.type.ndim > 2:
        raise NotImplementedError(f"dot with a rank-{b.type.ndim} right operand is not supported; use reshape")
    if a.type.ndim > 2:
        lead = shape(a)[:-1]
        flat = reshape(a, (-1, shape(a)[-1]))
        out = build(Dot, [flat, b])
        return reshape(out, lead + shape(out)[1:])
    return build(Dot, [a, b])


def outer(a, b):
    """Outer product of two vectors: ``a[:, None] * b[None, :]``."""
    a, b = as_value(a), as_value(b)
    if a.type.ndim != 1 or b.type.ndim != 1:
        raise ValueError(f"outer: expected two vectors, got {a.type} and {b.type}")
    return expand_dims(a, 1) * expand_dims(b, 0)
