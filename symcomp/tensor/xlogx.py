"""``T.xlogx``: ``x * log(x)`` and ``x * log(y)`` with the value 0 where ``x == 0``
(``theano/tensor/xlogx.py``, Theano 1.0).

Both are elementwise and broadcast like any binary op; integer inputs compute in float
(float32 for 8- and 16-bit integers, float64 for wider ones, Theano's ``upgrade_to_float``).
The value is computed with a guard (``log`` never sees the 0, so no NaN is produced even in an
intermediate value, which ``mode="nanguard"`` would report); the gradients are Theano's
formulas: ``d xlogx(x)/dx = 1 + log(x)`` (``-inf`` at 0) and ``d xlogy0(x, y) = (log(y), x / y)``.
"""

from __future__ import annotations

from symcomp.ir import types as T
from symcomp.tensor.convert import align, as_value, cast
from symcomp.tensor.custom_vjp import with_vjp
from symcomp.tensor.elemwise import eq, log, switch


def _to_float(x):
    x = as_value(x)
    return cast(x, T.float_of(x.type.dtype))


def xlogx(x):
    """``x * log(x)``, and 0 where ``x == 0`` (Theano's ``XlogX``).

    Returns:
        A float tensor of ``x``'s shape.
    """
    x = _to_float(x)
    zero = eq(x, 0)
    out = switch(zero, 0, x * log(switch(zero, 1, x)))
    return with_vjp(out, [x], lambda g: [g * (1 + log(x))])


def xlogy0(x, y):
    """``x * log(y)``, and 0 where ``x == 0`` (also where ``y == 0``; Theano's ``XlogY0``).

    Returns:
        A float tensor of the broadcast shape of ``x`` and ``y``.
    """
    x, y = _to_float(x), _to_float(y)
    x, y = align([x, y])
    zero = eq(x, 0)
    out = switch(zero, 0, x * log(switch(zero, 1, y)))
    return with_vjp(out, [x, y], lambda g: [g * log(y), g * x / y])


scalar_xlogx = xlogx
scalar_xlogy0 = xlogy0
