"""Lowerings of IR operations for the CPU backend: a table from op name to a :class:`Lowering`.

A lowering has two halves that must agree on the op's parameters: ``plan``
(Python, per input signature: result placement and parameters such as
coalesced loop sizes) and ``emit`` (LLVM, once per compile).  An op without an
entry is a compile-time NotImplementedError naming it; nothing falls back to
NumPy.

The lowering modules import the code generators (``emit``, ``loops``,
``scalar``, llvmlite's IR builder) inside the functions that emit code, so
that planning a function whose machine code came from the cache loads none
of them.
"""

from __future__ import annotations

from symcomp.ir.locations import where
from symcomp.ir.core import Operation
from symcomp.registry import by_name

LOWERINGS: dict[str, "Lowering"] = {}


class Lowering:
    """Default: each result gets a fresh buffer; subclasses emit the code."""

    emits_code = True

    def plan(self, op: Operation, P, shapes: list) -> None:
        for r, s in zip(op.results, shapes):
            P.alloc(r, s)

    def emit(self, op: Operation, E) -> None:
        raise NotImplementedError(f"the CPU backend has no code for {where(op)}")


lowering = by_name(LOWERINGS, instantiate=True)
"""Class decorator registering a lowering (instantiated once) for op names."""


def lookup(op: Operation) -> Lowering:
    """The lowering of ``op``.

    Raises:
        NotImplementedError: naming the op, if the CPU backend cannot compile it.
    """
    try:
        return LOWERINGS[op.name]
    except KeyError:
        raise NotImplementedError(f"the CPU backend cannot compile {where(op)} (no lowering registered)") from None


def load_all() -> None:
    """Import every lowering module (registration happens on import)."""
    from symcomp.backends.cpu.lower import (  # noqa: F401
        control, elementwise, extra, indexing, lapack, linalg, nnet, printing, random, shape,
    )
    from symcomp.backends.cpu.lower import conv, pool  # noqa: F401
