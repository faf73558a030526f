"""Conversions of symcomp ops to upstream MLIR: a table from op name to a converter.

A converter receives the :class:`ExportContext` of the function being
exported and one op; it emits MLIR through ``ctx.w`` (a
:class:`~symcomp.mlir.writer.FuncWriter`) and binds the op's results with
``ctx.bind``.  An op without a converter is an :class:`MLIRExportError`
naming it; docs/mlir.md lists what is and is not exported.
"""

from __future__ import annotations

from typing import Callable, Optional

from symcomp.ir.core import Operation, Value
from symcomp.mlir.writer import FuncWriter, Ix, tensor_type
from symcomp.registry import by_name


class MLIRExportError(NotImplementedError):
    """A symcomp operation (named in the message) has no translation to upstream MLIR."""


Converter = Callable[["ExportContext", Operation], None]
CONVERTERS: dict[str, Converter] = {}


converts = by_name(CONVERTERS)
"""Decorator registering a converter for op names."""


def lookup(op: Operation) -> Converter:
    """The converter of ``op``.

    Raises:
        MLIRExportError: naming the op (and where it was created), if it cannot be exported.
    """
    load_all()
    try:
        return CONVERTERS[op.name]
    except KeyError:
        where = f" (created at {op.loc})" if op.loc else ""
        raise MLIRExportError(f"{op.name}{where} cannot be exported to MLIR (no conversion to upstream "
                              f"dialects; see docs/mlir.md for the supported operations)") from None


class ExportContext:
    """State of one function's export: the writer, value names and error-status flags.

    Attributes:
        w: the function writer.
        op_index: position of the op being converted in the function body
            (encoded in status codes so errors can name the op).
        flags: ``(i1 scalar SSA name, status code)`` per data-dependent check.
    """

    def __init__(self, w: FuncWriter):
        self.w = w
        self.op_index = -1
        self.flags: list[tuple[str, int]] = []

    def value(self, v: Value) -> str:
        """The SSA name holding symcomp value ``v``."""
        return self.w.env[v]

    def bind(self, v: Value, name: str, sizes: Optional[list] = None) -> None:
        """Make ``name`` hold ``v``; ``sizes`` (its dimensions, if known) serve later size queries."""
        self.w.env[v] = name
        if sizes is not None:
            self.w.record_dims(name, sizes)

    def add_flag(self, flag_tensor: str, kind: int) -> None:
        """Register a ``tensor<i1>`` that is true when error ``kind`` occurred in the current op."""
        scalar = self.w.op(f"tensor.extract {flag_tensor}[] : tensor<i1>")
        self.flags.append((scalar, (self.op_index << 4) | kind))

    def dim(self, v: Value, axis: int) -> Ix:
        """Size of ``axis`` of value ``v`` (static int or SSA index)."""
        return self.w.dim(self.value(v), v.type, axis)

    def sizes(self, shape, operands: list[Value], lead: int = 0) -> list[Ix]:
        """Every dimension of a loop/result ``shape`` whose operands broadcast to it (right-aligned).

        A dynamic dimension is read from the first operand that is not
        statically 1 there (the planner has checked they agree).
        """
        out: list[Ix] = []
        for ax, d in enumerate(shape):
            if d is not None:
                out.append(d)
                continue
            for v in operands:
                k = ax - (len(shape) - v.type.ndim)
                if k >= 0 and v.type.shape[k] != 1:
                    out.append(self.dim(v, k))
                    break
            else:  # pragma: no cover - the type rule makes some operand carry the dimension
                raise AssertionError(f"no operand gives dimension {ax} of {shape}")
        return out

    def scalar_operand(self, v: Value) -> str:
        """The element of a rank-0 operand."""
        return self.w.extract_scalar(self.value(v), v.type)

    def index_operand(self, v: Value) -> str:
        """A rank-0 integer operand as an ``index`` value."""
        return self.w.to_index(self.scalar_operand(v), v.type.dtype)

    def ttype(self, v: Value) -> str:
        return tensor_type(v.type)


def load_all() -> None:
    """Import every converter module (registration happens on import)."""
    from symcomp.mlir.convert import control, conv, elementwise, indexing, linalg, random, shape  # noqa: F401
