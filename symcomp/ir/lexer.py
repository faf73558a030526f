"""The lexer of symcomp's IR text: tokens with positions, on demand.

Tokens (docs/ir.md, "Lexical structure"):

* ``%name`` value ids, ``@name`` / ``@"any text"`` symbols, ``^name`` block labels;
* bare identifiers (``module``, ``sc.add``, ``f64``, ``sc.shared``, ``true``, ``inf``);
* integer and float literals (``-3``, ``0.5``, ``1e-05``);
* JSON string literals (``"1:-1"``);
* punctuation ``( ) { } [ ] < > , : = ? ->``;
* ``//`` comments to the end of the line, which are skipped.

The lexer works on demand so that the parser can switch to the dimension
syntax of tensor types (``tensor<?x3xf64>``), where ``3xf64`` is not an
identifier.  Positions are character offsets; :meth:`Lexer.location` turns
one into a :class:`~symcomp.ir.core.Location` (1-based line and column, and
the line's text for carets).
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

from symcomp.ir.core import Location
from symcomp.ir.errors import ParseError

_ID = r"[A-Za-z0-9_$.]"
_STRING_RE = r'"(?:[^"\\\n]|\\.)*"'
# One pattern for every token, tried in order; a group per kind (whitespace and comments are skipped).
_TOKEN = re.compile("|".join([
    r"(?P<skip>(?:[ \t\r\n]+|//[^\n]*)+)",
    r"(?P<punct>->|[(){}\[\]<>,:=?])",
    rf"(?P<string>{_STRING_RE})",
    rf"(?P<symbol>@(?:{_STRING_RE}|[A-Za-z_]{_ID}*))",
    rf"(?P<value>%{_ID}+)",
    rf"(?P<block>\^{_ID}+)",
    r"(?P<float>-?[0-9]+(?:\.[0-9]*(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)|-(?:inf|nan)(?!" + _ID + "))",
    r"(?P<int>-?[0-9]+)",
    rf"(?P<ident>[A-Za-z_]{_ID}*)",
]))
_DIMS = re.compile(r"((?:(?:\?|[0-9]+)x)*)([A-Za-z_][A-Za-z0-9_]*)")
_MAX_DIGITS = 400


class Token(NamedTuple):
    """One token.

    Attributes:
        kind: ``value``, ``symbol``, ``block``, ``int``, ``float``, ``string``,
            ``ident``, ``punct`` or ``eof``.
        text: the token's text (punctuation is its own text; ``eof`` is empty).
        pos: offset of its first character in the input.
    """

    kind: str
    text: str
    pos: int

    def describe(self) -> str:
        """The token for messages: ``'sc.add'``, or ``end of file``."""
        return "end of file" if self.kind == "eof" else repr(self.text)


class Lexer:
    """Splits IR text into tokens, one :meth:`next` call at a time.

    Args:
        text: the whole input.
        filename: the name used in locations.
        first_line: the line number of the first line of ``text`` (for inputs
            that are a chunk of a larger file, as with ``--split-input-file``).
    """

    def __init__(self, text: str, filename: str = "<string>", first_line: int = 1):
        self.text = text
        self.filename = filename
        self.first_line = first_line
        self.pos = 0
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.end_of_last = 0  # end offset of the last token returned (for end-of-file errors)

    # -- positions ---------------------------------------------------------------------------
    def location(self, pos: int) -> Location:
        """The :class:`Location` of offset ``pos``."""
        k = bisect.bisect_right(self.line_starts, pos) - 1
        start = self.line_starts[k]
        end = self.line_starts[k + 1] - 1 if k + 1 < len(self.line_starts) else len(self.text)
        source = self.text[start:end].rstrip("\r")
        return Location(self.filename, self.first_line + k, pos - start + 1, source)

    def error(self, message: str, pos: int) -> ParseError:
        """A :class:`ParseError` at offset ``pos``."""
        return ParseError(message, self.location(pos))

    def line_of(self, pos: int) -> int:
        return bisect.bisect_right(self.line_starts, pos) - 1

    # -- tokens ------------------------------------------------------------------------------
    def next(self) -> Token:
        """The next token.

        Raises:
            ParseError: on a character that starts no token, an unterminated
                string or an over-long number.
        """
        text, pos = self.text, self.pos
        m = _TOKEN.match(text, pos)
        if m is not None and m.lastgroup == "skip":
            pos = m.end()
            m = _TOKEN.match(text, pos)
        if m is None:
            if pos >= len(text):
                self.pos = pos
                return Token("eof", "", self.end_of_last)
            ch = text[pos]
            if ch == '"' or text.startswith('@"', pos):
                raise self.error("unterminated string literal", pos + (ch == "@"))
            if ch in "%@^":
                raise self.error(f"expected a name after {ch!r}", pos)
            raise self.error(f"unexpected character {ch!r}", pos)
        kind = m.lastgroup
        if kind in ("int", "float") and m.end() - pos > _MAX_DIGITS:
            raise self.error(f"number literal longer than {_MAX_DIGITS} characters", pos)
        self.pos = self.end_of_last = m.end()
        return Token(kind, m.group(), pos)

    def tensor_body(self) -> tuple[list, str, list[int]]:
        """Scan the inside of ``tensor<...>`` right after ``<``: dims, element type name, offsets.

        Returns:
            (dims, dtype text, [offset of each dim..., offset of the dtype]) where
            each dim is an int or None for ``?``; the closing ``>`` is left for
            the next token.

        Raises:
            ParseError: if the text is not ``(dim 'x')* dtype``.
        """
        m = _DIMS.match(self.text, self.pos)
        if not m:
            raise self.error("expected tensor dimensions and an element type, e.g. tensor<?x3xf64>", self.pos)
        dims, offsets, at = [], [], self.pos
        for part in m.group(1).split("x")[:-1] if m.group(1) else []:
            offsets.append(at)
            if part != "?" and len(part) > _MAX_DIGITS:
                raise self.error(f"dimension longer than {_MAX_DIGITS} digits", at)
            dims.append(None if part == "?" else int(part))
            at += len(part) + 1
        offsets.append(at)
        self.pos = m.end()
        self.end_of_last = self.pos
        return dims, m.group(2), offsets
