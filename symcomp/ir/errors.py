"""Diagnostics of the IR: parse and verification errors with a position and a caret.

An error message follows the compiler convention::

    step.sc:12:8: error: sc.add: operand #1 has type tensor<?xf32>, expected f64
        %5 = sc.add %3, %4 : tensor<?xf64>
             ^

For IR built from Python, the position is the user's line that created the op.
"""

from __future__ import annotations

import linecache
from typing import Optional


def _escape_char(ch: str) -> str:
    """``ch`` as a terminal may show it: control and format characters (escape sequences, bidi
    overrides), lone surrogates and other unassigned or private code points become ``\\x1b`` /
    ``\\u202e`` escapes; everything else is itself."""
    if ch.isprintable() or ch in "\t\n":
        return ch
    return ch.encode("unicode_escape").decode("ascii")


def escape_controls(text: str) -> str:
    """``text`` with every character a terminal would act on (or could not show) escaped
    (:func:`_escape_char`), tabs and newlines kept: error messages quote their input, and input
    is not allowed to drive the user's terminal."""
    if text.isprintable():
        return text
    return "".join(_escape_char(ch) for ch in text)


def caret_excerpt(source_line: Optional[str], col: int) -> str:
    """The offending line with a caret under column ``col`` (1-based), or '' (the line's control
    characters escaped, the caret still under the same character)."""
    if source_line is None:
        return ""
    line = source_line.rstrip("\n").replace("\n", " ")
    before = line[: max(col - 1, 0)]
    pad = "".join("\t" if ch == "\t" else " " * len(_escape_char(ch)) for ch in before)
    return f"\n    {escape_controls(line)}\n    {pad}^"


class IRError(Exception):
    """Base class of errors that point at a position in IR text or user code.

    Attributes:
        message: the bare message.
        loc: a :class:`~symcomp.ir.core.Location` or None.
    """

    kind = "error"

    def __init__(self, message: str, loc=None, op=None):
        self.message = message
        self.loc = loc if loc is not None else getattr(op, "loc", None)
        self.op = op
        super().__init__(self._format())

    def _format(self) -> str:
        loc = self.loc
        if loc is None:
            return escape_controls(self.message)
        head = escape_controls(f"{loc}: {self.kind}: {self.message}")
        if loc.col:
            return head + caret_excerpt(loc.source, loc.col)
        src = loc.source if loc.source is not None else linecache.getline(loc.file, loc.line)
        if src:
            head += f"\n    {escape_controls(src.strip())}"
        return head


class ParseError(IRError):
    """Malformed IR text (raised by :func:`symcomp.ir.parse`)."""


class VerifyError(IRError):
    """IR that breaks a structural or type rule (raised by the verifier)."""
