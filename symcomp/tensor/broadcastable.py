"""Theano's broadcastable-pattern functions: ``T.addbroadcast``, ``T.unbroadcast``, ``T.patternbroadcast``.

An axis is *broadcastable* when its size is statically 1 (the ``1`` of
``tensor<1x?xf64>``; Theano's broadcastable pattern): only such an axis
stretches against the other operands of an elementwise op.  These functions
change which axes of a value's type are broadcastable without changing its
data, as Theano's ``Rebroadcast`` op does:

* ``addbroadcast(x, 0)``: axis 0 becomes broadcastable.  Its size is checked
  to be 1 when the function runs (a ValueError naming the op and the line of
  the ``addbroadcast`` call otherwise), as Theano's ``Rebroadcast`` checks;
* ``unbroadcast(x, 0)``: axis 0 no longer broadcasts (its size becomes ``?``);
* ``patternbroadcast(x, (True, False))``: the pattern given, axis by axis.
"""

from __future__ import annotations

import numpy as np

from symcomp.ir.core import Value
from symcomp.ir.opdef import build
from symcomp.ir.ops import shape as S
from symcomp.tensor.convert import as_value
from symcomp.tensor.shape import broadcast_to, expand_dims, normalize_axes, squeeze
from symcomp.tensor.shape import unbroadcast as _sum_to_operand


def _axes(x: Value, axes, what: str) -> tuple[int, ...]:
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{what}: axes must be ints, got {a!r}")
    return normalize_axes(list(axes), x.type.ndim, what)


def addbroadcast(x, *axes) -> Value:
    """``x`` with ``axes`` made broadcastable (Theano's ``T.addbroadcast``).

    Args:
        x: a tensor (or anything :func:`symcomp.tensor.as_tensor` accepts).
        axes: axis numbers (negative ones count from the end).

    Returns:
        ``x``'s values, in a type whose size along ``axes`` is statically 1
        (``x`` itself when they already are).

    Raises:
        TypeError: for an axis that is not an int.
        ValueError: for an axis out of range or repeated, or whose static size is not 1; when the
            function runs, if the size along one of ``axes`` is not 1 (``sc.squeeze`` checks it).
    """
    x = as_value(x)
    axes = _axes(x, axes, "addbroadcast")
    for a in axes:
        if x.type.shape[a] not in (1, None):
            raise ValueError(f"addbroadcast: axis {a} of {x.type} has size {x.type.shape[a]}; only an axis of "
                             "size 1 can broadcast")
    dynamic = [a for a in axes if x.type.shape[a] is None]
    if not dynamic:
        return x
    return expand_dims(squeeze(x, dynamic), dynamic)  # squeeze checks the size is 1 at call time


def unbroadcast(x, *axes) -> Value:
    """``x`` with ``axes`` no longer broadcastable (Theano's ``T.unbroadcast``).

    Args:
        x: a tensor.
        axes: axis numbers (negative ones count from the end); axes that do not broadcast are left alone.

    Returns:
        ``x``'s values, in a type whose size along ``axes`` is dynamic (``?``) where it was 1.

    Raises:
        TypeError, ValueError: for axes that are not ints, out of range or repeated.

    ``unbroadcast(g, x)`` with a symbolic ``x`` instead of axes is the gradient helper of the
    VJP rules (:func:`symcomp.tensor.shape.unbroadcast`: ``g`` summed to ``x``'s shape).
    """
    if len(axes) == 1 and isinstance(axes[0], Value):
        return _sum_to_operand(x, axes[0])
    x = as_value(x)
    axes = [a for a in _axes(x, axes, "unbroadcast") if x.type.shape[a] == 1]
    if not axes:
        return x
    sizes = [build(S.Dim, [x], axis=i) if i in axes or d is None else d for i, d in enumerate(x.type.shape)]
    return broadcast_to(x, sizes)


def patternbroadcast(x, broadcastable) -> Value:
    """``x`` with the broadcastable pattern ``broadcastable``, one bool per axis (Theano's
    ``T.patternbroadcast``): True axes as :func:`addbroadcast` (checked to be 1 at call time),
    False axes as :func:`unbroadcast`.

    Raises:
        ValueError: if the pattern's length is not ``x``'s rank, or as :func:`addbroadcast`.
    """
    x = as_value(x)
    pattern = [bool(b) for b in broadcastable]
    if len(pattern) != x.type.ndim:
        raise ValueError(f"patternbroadcast: {len(pattern)} entries in the pattern for a rank-{x.type.ndim} "
                         f"tensor ({x.type})")
    x = addbroadcast(x, *[i for i, b in enumerate(pattern) if b])
    return unbroadcast(x, *[i for i, b in enumerate(pattern) if not b])
