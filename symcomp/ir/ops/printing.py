"""``sc.print``: Theano's ``Print`` op, an identity that prints its operand when it runs.

The text is Theano's: for each attribute name in ``attrs`` (default ``__str__``), a line
``<message> <attr> = <value>``, where a callable attribute is called (``x.__str__()``, NumPy's
formatting of the array).  The reference backend prints from Python; the CPU backend's code
calls :func:`print_value` back with a copy of the operand
(:mod:`symcomp.backends.cpu.runtime.printing`).  The op has a side effect: no pass removes,
merges or constant-folds it, and it prints once per call of a function that computes it.
"""

from __future__ import annotations

import sys

import numpy as np

from symcomp.ir.core import Operation
from symcomp.ir.opdef import SideEffect, Str, Strs, attr, op, operand


def print_value(message: str, attrs, x: np.ndarray) -> None:
    """Print ``x`` the way Theano's ``Print`` op does, to ``sys.stdout`` (flushed)."""
    for name in attrs:
        value = getattr(x, name)
        if callable(value):
            value = value()
        print(message, name, "=", value, file=sys.stdout)
    sys.stdout.flush()


@op("sc.print", traits=(SideEffect,))
class Print(Operation):
    """The operand unchanged; prints ``message attr = value`` for each name of ``attrs`` when it
    runs.  The gradient passes through (Theano's ``Print.grad``)."""
    x = operand()
    message = attr(Str, "")
    attrs = attr(Strs, ("__str__",))

    @classmethod
    def infer(cls, types, attrs, values):
        for name in attrs["attrs"]:
            if not name.isidentifier():
                raise ValueError(f"sc.print: attrs must be attribute names of an array, got {name!r}")
        return [types[0]]

    def ref(self, x):
        print_value(self.message, self.attrs, np.asarray(x))
        return np.array(x, copy=True)

    def vjp(self, grads):
        return [grads[0]]
