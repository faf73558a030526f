"""Values with a gradient rule of their own, and Theano's gradient helpers built on them.

Most values get their gradient from the VJP rule of the operation that computes them
(declared with the op, :mod:`symcomp.ir.ops`).  A few front-end functions need another rule
than the one their composition of ops implies:

* ``zero_grad(x)``, ``disconnected_grad(x)``, ``grad_clip(x, lo, hi)``, ``grad_scale(x, m)``
  (``theano.gradient``): the value is ``x``, the gradient is zero, absent, clipped, scaled;
* ``xlogx(x)``, ``xlogy0(x, y)`` (``theano.tensor.xlogx``): computed with a guard for ``x == 0``,
  differentiated with Theano's formulas rather than through the guard.

:func:`with_vjp` attaches such a rule to a value; :func:`symcomp.autodiff.grad` applies it in
place of the VJP of the value's operation (and never differentiates through the ops between
the rule's inputs and the value).  The marker ops of the gradient helpers compute ``x * 1``,
which the ``canonicalize`` pass removes: they cost nothing in an optimized function.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from numbers import Real
from typing import Callable, Optional, Sequence

from symcomp.ir.core import Value
from symcomp.tensor.convert import as_value

_RULES: "weakref.WeakKeyDictionary[Value, GradRule]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class GradRule:
    """The gradient rule of one value.

    Attributes:
        inputs: the values the gradient flows to.
        vjp: ``vjp(g)`` gives, for the cotangent ``g`` of the value, one cotangent per input
            (None: nothing flows to that input).
        connected: per input, whether the value depends on it for ``grad``'s disconnected-input
            check (``disconnected_grad`` is not connected: ``grad`` of it raises
            DisconnectedInputError unless told to ignore it).
    """

    inputs: tuple
    vjp: Callable
    connected: tuple


def with_vjp(out: Value, inputs: Sequence[Value], vjp: Callable[[Value], Sequence[Optional[Value]]],
             connected: Optional[Sequence[bool]] = None) -> Value:
    """Give ``out`` the gradient rule ``vjp`` with respect to ``inputs``; returns ``out``.

    Raises:
        ValueError: if ``out`` is one of ``inputs`` or has no defining operation (a rule
            belongs to a computed value, not to an input).
    """
    inputs = tuple(inputs)
    if out.owner is None or any(out is v for v in inputs):
        raise ValueError("with_vjp: the value must be computed by an operation from its inputs")
    _RULES[out] = GradRule(inputs, vjp, tuple(connected) if connected is not None else (True,) * len(inputs))
    return out


def rule_of(v: Value) -> Optional[GradRule]:
    """The gradient rule attached to ``v`` by :func:`with_vjp`, or None."""
    return _RULES.get(v)


def _marker(x) -> tuple[Value, bool]:
    """``x * 1``: a new value equal to ``x`` (removed by ``canonicalize``); False for a non-float
    ``x``, which gets no gradient anyway and is returned as it is."""
    x = as_value(x)
    if not x.type.dtype.is_float:
        return x, False
    return x * 1, True


def zero_grad(x):
    """``x``, whose gradient is zero (``theano.gradient.zero_grad``).

    The value is unaffected; gradients flowing back through it are replaced by zeros, so the
    expression is treated as a constant, but ``x`` stays connected to the cost (``grad`` gives
    zeros for it rather than raising DisconnectedInputError).
    """
    y, ok = _marker(x)
    if not ok:
        return y
    from symcomp.tensor.shape import zeros_like

    return with_vjp(y, [as_value(x)], lambda g: [zeros_like(g)])


def disconnected_grad(x):
    """``x``, through which no gradient flows (``theano.gradient.disconnected_grad``).

    Like :func:`zero_grad`, but ``x`` is disconnected: ``grad(cost, x)`` where the cost depends
    on ``x`` only through this value raises DisconnectedInputError (unless
    ``disconnected_inputs`` says otherwise), as in Theano.
    """
    y, ok = _marker(x)
    if not ok:
        return y
    return with_vjp(y, [as_value(x)], lambda g: [None], connected=[False])


def grad_clip(x, lower_bound: float, upper_bound: float):
    """``x``, whose gradient is clipped to ``[lower_bound, upper_bound]`` elementwise
    (``theano.gradient.grad_clip``).

    Raises:
        TypeError: for bounds that are not numbers.
        ValueError: if ``upper_bound < lower_bound``.
    """
    if not isinstance(lower_bound, Real) or not isinstance(upper_bound, Real):
        raise TypeError("grad_clip: the bounds must be numbers")
    if upper_bound < lower_bound:
        raise ValueError(f"grad_clip: upper_bound {upper_bound} < lower_bound {lower_bound}")
    y, ok = _marker(x)
    if not ok:
        return y
    from symcomp.tensor.elemwise import clip

    return with_vjp(y, [as_value(x)], lambda g: [clip(g, lower_bound, upper_bound)])


def grad_scale(x, multiplier):
    """``x``, whose gradient is multiplied by ``multiplier`` (``theano.gradient.grad_scale``)."""
    y, ok = _marker(x)
    if not ok:
        return y
    return with_vjp(y, [as_value(x)], lambda g: [g * multiplier])
