"""Constants and shared-variable updates."""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Dense, Pure, SideEffect, attr, op, operand


@op("sc.constant", traits=(Pure,))
class Constant(Operation):
    """A tensor known at compile time (printed ``dense<...>``)."""
    value = attr(Dense)

    @classmethod
    def infer(cls, types, attrs, values):
        v = attrs["value"]
        return [T.TensorType(T.dtype(v.dtype), v.shape)]

    def ref(self):
        return self.value

    def vjp(self, grads):
        return []


@op("sc.assign", traits=(SideEffect,), results=0)
class Assign(Operation):
    """Update a shared variable (a function parameter marked ``sc.shared``) with ``value``.

    Every update of a call is applied after all outputs are computed, and every
    expression of the call sees the values from before it.
    """
    target = operand()
    value = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        tgt, val = types
        if tgt.dtype != val.dtype:
            raise TypeError(f"sc.assign: update of dtype {val.dtype.name} for a shared variable of dtype {tgt.dtype.name}")
        if tgt.ndim != val.ndim or any(a is not None and b is not None and a != b for a, b in zip(tgt.shape, val.shape)):
            raise TypeError(f"sc.assign: update of type {val} does not fit a shared variable of type {tgt}")
        return []

    def ref(self, target, value):
        return ()

    def vjp(self, grads):
        return [None, None]


def constant_array(value, dtype=None) -> np.ndarray:
    """``value`` as a NumPy array of a supported dtype (for ``sc.constant``).

    Raises:
        TypeError: for unsupported dtypes (object, complex, float16...).
    """
    arr = np.asarray(value, dtype=None if dtype is None else T.dtype(dtype).np)
    T.dtype(arr.dtype)
    return arr
