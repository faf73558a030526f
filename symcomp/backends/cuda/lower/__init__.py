"""Lowerings of IR operations for the CUDA backend: a table from op name to a :class:`Lowering`.

A lowering has two halves that must agree on kernel parameters:

* ``kernels(op)``: the op's kernels rendered for the general case (full rank,
  every operand in device memory), compiled to PTX by ``f.dump("ptx")`` and
  :func:`symcomp.backends.cuda.emit_ptx` without a GPU;
* ``plan(op, P, shapes)``: per input signature, places the results and appends
  the launches, rendering the variant that fits (dimensions coalesced,
  host-known scalars passed by value).

An op without an entry is a compile-time NotImplementedError naming it; nothing
falls back to the host.
"""

from __future__ import annotations

from symcomp.ir.core import Operation
from symcomp.registry import by_name

LOWERINGS: dict[str, "Lowering"] = {}


class Lowering:
    """Base class: subclasses render kernels and plan launches."""

    def kernels(self, op: Operation) -> list:
        """KernelSpecs of the general case (empty for ops that launch nothing, such as views)."""
        return []

    def plan(self, op: Operation, P, shapes: list) -> None:
        raise NotImplementedError(f"the CUDA backend has no code for {op.name}")


lowering = by_name(LOWERINGS, instantiate=True)
"""Class decorator registering a lowering (instantiated once) for op names."""


def lookup(op: Operation) -> Lowering:
    """The lowering of ``op``.

    Raises:
        NotImplementedError: naming the op, if the CUDA backend cannot compile it.
    """
    load_all()
    try:
        return LOWERINGS[op.name]
    except KeyError:
        raise NotImplementedError(f"the CUDA backend cannot compile {op.name} (no lowering registered)") from None


def load_all() -> None:
    """Import every lowering module (registration happens on import)."""
    from symcomp.backends.cuda.lower import (  # noqa: F401
        elementwise, indexing, linalg, nnet, random, reduce, shape,
    )
    from symcomp.backends.cuda.lower import conv  # noqa: F401
