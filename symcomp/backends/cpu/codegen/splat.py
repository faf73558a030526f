"""Vector constants with the same value in every lane (splats), shared and printed short.

llvmlite formats a constant's text once per object.  The code generators used to make a new
constant for every use of a splat, and printing the digits MLP step's LLVM IR spent much of
its time formatting the same splats again, every float lane in hexadecimal.  A splat made here
is made once per process (up to :data:`_MAX_SPLATS` of them) and printed in LLVM's short form
``splat (double 5.0e-01)`` (LLVM 19 and later parse it), which LLVM also parses faster.
"""

from __future__ import annotations

import numbers
import struct

from llvmlite import ir


class _Splat(ir.Constant):
    """A vector constant with the same value in every lane, printed in LLVM's short form
    ``splat (double 5.0e-01)`` rather than once per lane (LLVM 19 and later parse it)."""

    def __init__(self, vector_type: ir.VectorType, element: ir.Constant):
        super().__init__(vector_type, [element] * vector_type.count)
        self.element = element

    def _get_reference(self) -> str:
        return f"splat ({self.element})"


_SPLATS: dict = {}
_MAX_SPLATS = 4096


def splat_constant(element_type: ir.Type, value, lanes: int) -> ir.Constant:
    """The vector constant of ``lanes`` lanes of the number ``value`` as ``element_type``, shared
    by every use in the process.  Thread-safe (a compile and a tier-up may run at once): the
    cache is one dict, whose single operations hold the GIL."""
    # Floats by their bits: -0.0 == 0.0, and NaN != NaN.
    what = int(value) if isinstance(value, numbers.Integral) else struct.pack("<d", float(value))
    key = (str(element_type), lanes, what)
    found = _SPLATS.get(key)
    if found is None:
        found = _Splat(ir.VectorType(element_type, lanes), ir.Constant(element_type, value))
        if len(_SPLATS) < _MAX_SPLATS:
            _SPLATS[key] = found
    return found
