"""Pointing errors at the user's code: where an operation came from, and its line in the IR.

The contract (docs/robustness.md): every error raised while compiling or
running a function names the operation involved and the user's line that
created it (``op.loc``, captured when the front-end built the op and kept by
every rewrite), as Theano's ``exception_verbosity`` did.  These helpers write
that part of a message the same way everywhere:

    sc.log created at /home/me/train.py:42
        y = T.log(x)
"""

from __future__ import annotations

import linecache
from typing import Optional

from symcomp.ir.core import Location, Operation
from symcomp.ir.printer import Printer


def source_text(loc: Optional[Location]) -> str:
    """The stripped text of the line ``loc`` points at, or '' when it cannot be read."""
    if loc is None:
        return ""
    text = loc.source if loc.source is not None else linecache.getline(loc.file, loc.line)
    return text.strip()


_MAX_FUSED_ORIGINS = 8


def where(op: Operation) -> str:
    """``"sc.add created at file:line"`` (just the op name when its origin is unknown).

    A fused loop nest (``sc.fused``) carries the location of the op it
    replaced; the lines of the ops fused into it follow:
    ``"sc.fused created at f.py:5 (fusing sc.mul created at f.py:4, sc.exp created at f.py:5)"``.
    """
    text = f"{op.name} created at {op.loc}" if op.loc is not None else op.name
    origins = fused_origins(op)
    return f"{text} (fusing {', '.join(origins)})" if origins else text


def fused_origins(op: Operation) -> list[str]:
    """``"sc.mul created at f.py:4"`` for each distinct op and line fused into an ``sc.fused`` op (else [])."""
    if op.name != "sc.fused" or not op.regions:
        return []
    out: list[str] = []
    for o in op.body.ops:
        if o.loc is None or o.name in ("sc.yield", "sc.constant"):
            continue
        text = f"{o.name} created at {o.loc}"
        if text not in out:
            out.append(text)
    if len(out) > _MAX_FUSED_ORIGINS:
        out = out[:_MAX_FUSED_ORIGINS] + [f"{len(out) - _MAX_FUSED_ORIGINS} more"]
    return out


def describe(op: Operation, ir_line: Optional[str] = None, indent: str = "  ") -> str:
    """A multi-line block naming ``op``: its IR line (if given), where it was created and that source
    line, and for a fused loop nest where its ops were created."""
    lines = []
    if ir_line:
        lines.append(f"{indent}  {ir_line}")
    if op.loc is not None:
        lines.append(f"{indent}created at {op.loc}")
        src = source_text(op.loc)
        if src:
            lines.append(f"{indent}  {src}")
    else:
        lines.append(f"{indent}(no source location: the op was made by the compiler, not by user code)")
    origins = fused_origins(op)
    if origins:
        lines.append(f"{indent}fusing: " + ", ".join(origins))
    return "\n".join(lines)


def with_location(exc: BaseException, op: Operation) -> BaseException:
    """An exception of the same type as ``exc`` whose message ends with ``(in <op> created at <line>)``.

    ``exc`` itself is returned when its message already names a location, or
    when its type cannot be rebuilt from a message (then the caller re-raises
    it unchanged rather than lose its type).
    """
    text = str(exc)
    if op.loc is not None and str(op.loc) in text:
        return exc
    try:
        new = (MemoryError if isinstance(exc, MemoryError) else type(exc))(f"{text} (in {where(op)})")
    except Exception:  # exception types with other constructor signatures
        return exc
    new.__cause__ = exc.__cause__
    return new


class IRLines:
    """The printed text of every top-level op of a function, numbered as in ``print(module)``.

    Values are named as the full module printout names them, so a line shown
    in a diagnostic can be found in ``f.dump('optimized')``.

    Args:
        module: a ``builtin.module``; only its first function is indexed.
    """

    def __init__(self, module: Operation):
        printer = _RecordingPrinter()
        text = printer.print_module(module)
        self._lines = text.split("\n")
        self._index = printer.index

    def line(self, op: Operation) -> str:
        """The op's line (a region-holding op's header line, without its body), or its name."""
        i = self._index.get(op)
        if i is None:
            return op.name
        text = self._lines[i].strip()
        return text[:-3] if text.endswith(" ({") else text

    def number(self, op: Operation) -> Optional[int]:
        """1-based line number of ``op`` in the module's printout, or None."""
        i = self._index.get(op)
        return None if i is None else i + 1


class _RecordingPrinter(Printer):
    """The IR printer, noting on which output line each operation starts."""

    def __init__(self):
        super().__init__()
        self.index: dict[Operation, int] = {}

    def _op(self, o: Operation, depth: int, with_regions: bool = True) -> None:
        self.index[o] = len(self.lines)
        super()._op(o, depth, with_regions)
