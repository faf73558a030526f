"""Small matching and building helpers shared by the rewrite patterns.

Patterns look at SSA values through these helpers: which op defines a value
(:func:`producer`), whether a value is a compile-time constant whose elements
are all the same (:func:`splat`, looking through views of constants such as
``ones_like(x)``), and how to give a replacement exactly the type of the value
it replaces (:func:`as_type`, which broadcasts with ``sc.broadcast_to`` and
takes dynamic sizes from the op's operands).
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np

from symcomp.ir.core import Operation, Value
from symcomp.ir.types import TensorType

_CONST_VIEWS = ("sc.broadcast_to", "sc.expand_dims", "sc.squeeze", "sc.transpose", "sc.reshape")


def producer(v: Value, *names: str) -> Optional[Operation]:
    """The op defining ``v`` if its name is one of ``names`` (any op when none given), else None."""
    o = v.owner
    if o is None or (names and o.name not in names):
        return None
    return o


def constant_array(v: Value) -> Optional[np.ndarray]:
    """The value of ``v`` when it is defined by ``sc.constant``, else None."""
    o = v.owner
    if o is not None and o.name == "sc.constant":
        return o.attributes["value"]
    return None


def splat(v: Value) -> Optional[np.generic]:
    """The single element value of a constant whose elements are bit-identical, else None.

    Looks through views and reshapes of a constant (``ones_like(x)`` is a
    ``sc.broadcast_to`` of a rank-0 constant).  Bit-identity keeps ``-0.0`` and
    ``0.0`` apart.  Empty constants are not splats.
    """
    o = v.owner
    while o is not None and o.name in _CONST_VIEWS:
        o = o.operands[0].owner
    if o is None or o.name != "sc.constant":
        return None
    arr = o.attributes["value"]
    if arr.size == 0:
        return None
    flat = np.ascontiguousarray(arr).reshape(-1)
    if flat.size > 1:
        raw = flat.view(np.uint8).reshape(flat.size, -1)
        if not (raw == raw[0]).all():
            return None
    return flat[0]


def is_splat(v: Value, value: float, negative_zero: Optional[bool] = None) -> bool:
    """True if ``v`` is a splat constant equal to ``value``.

    Args:
        negative_zero: for a zero ``value``, require the sign bit set (True),
            clear (False), or accept either (None).
    """
    s = splat(v)
    if s is None or s != value:
        return False
    if negative_zero is not None and value == 0 and np.asarray(s).dtype.kind == "f":
        return bool(np.signbit(s)) == negative_zero
    return True


def pairs(op: Operation) -> tuple:
    """(operand, other operand) in both orders, for matching commutative binary ops."""
    a, b = op.operands
    return ((a, b), (b, a))


def constant_like(value, like: Value) -> Value:
    """A detached rank-0 ``sc.constant`` of ``like``'s dtype (so no dtype promotion happens)."""
    from symcomp import tensor as T

    return T.constant(np.asarray(value, dtype=like.type.dtype.np))


def dims_of(op: Operation, shape) -> list:
    """``shape`` (static dims or None) as broadcast_to entries: ints, and ``sc.dim`` values for None.

    A dynamic dimension is read from an operand of ``op`` that has the same
    rank and a dynamic size on that axis (Theano's rule makes all such sizes
    equal at run time).

    Raises:
        ValueError: if no operand carries the dynamic dimension.
    """
    from symcomp import tensor as T

    out = []
    for a, d in enumerate(shape):
        if d is not None:
            out.append(d)
            continue
        src = next((v for v in op.operands if v.type.ndim == len(shape) and v.type.shape[a] is None), None)
        if src is None:
            raise ValueError(f"{op.name}: no operand gives dynamic dimension {a}")
        out.append(T.shape(src)[a])
    return out


def as_type(x: Value, t: TensorType, op: Operation) -> Optional[Value]:
    """``x`` with exactly type ``t`` (broadcast to its shape, sizes taken from ``op``'s operands).

    Returns None when that is impossible (different dtype or rank, or a
    dimension that cannot be broadcast).
    """
    from symcomp import tensor as T

    if x.type == t:
        return x
    if x.type.dtype != t.dtype or x.type.ndim > t.ndim:
        return None
    for dx, dt in zip(reversed(x.type.shape), reversed(t.shape)):
        if dx is not None and dx != dt and dx != 1:
            return None
    try:
        y = T.broadcast_to(x, dims_of(op, t.shape))
    except ValueError:
        return None
    return y if y.type == t else None


def scalar_like(value, t: TensorType, op: Operation) -> Optional[Value]:
    """A constant ``value`` of dtype ``t.dtype`` broadcast to type ``t``."""
    from symcomp import tensor as T

    c = T.constant(np.asarray(value, dtype=t.dtype.np))
    return as_type(c, t, op)


def replace_as(rw, op: Operation, new: Union[Value, None]) -> bool:
    """Replace ``op``'s single result by ``new`` given the result's exact type (broadcast if needed).

    Returns False, changing nothing, if ``new`` is None or cannot take that type.
    """
    if new is None:
        return False
    v = as_type(new, op.result.type, op)
    if v is None:
        rw.notify_failure(f"{op.name}: replacement of type {new.type} cannot take type {op.result.type}")
        return False
    return rw.replace(op, v)
