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
from dataclasses import dataclass

from symcomp.ir.core import Location
from symcomp.ir.errors import ParseError

_ID_CHARS = r"[A-Za-z0-9_$.]"
_PATTERNS = [
    ("value", re.compile(rf"%{_ID_CHARS}+")),
    ("symbol", re.compile(rf"@[A-Za-z_]{_ID_CHARS}*")),
    ("block", re.compile(rf"\^{_ID_CHARS}+")),
    ("float", re.compile(r"-?[0-9]+(?:\.[0-9]*(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)")),
    ("int", re.compile(r"-?[0-9]+")),
    ("float", re.compile(r"-(?:inf|nan)(?!" + _ID_CHARS + ")")),
    ("ident", re.compile(rf"[A-Za-z_]{_ID_CHARS}*")),
]
_PUNCT = {"(", ")", "{", "}", "[", "]", "<", ">", ",", ":", "=", "?"}
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_DIMS = re.compile(r"((?:(?:\?|[0-9]+)x)*)([A-Za-z_][A-Za-z0-9_]*)")
_MAX_DIGITS = 400


@dataclass(frozen=True)
class Token:
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
    def _skip_space(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n":
                self.pos += 1
            elif text.startswith("//", self.pos):
                nl = text.find("\n", self.pos)
                self.pos = n if nl < 0 else nl + 1
            else:
                return

    def next(self) -> Token:
        """The next token.

        Raises:
            ParseError: on a character that starts no token, an unterminated
                string or an over-long number.
        """
        self._skip_space()
        text, pos = self.text, self.pos
        if pos >= len(text):
            return Token("eof", "", self.end_of_last)
        ch = text[pos]
        if text.startswith("->", pos):
            return self._emit("punct", "->")
        if ch in _PUNCT:
            return self._emit("punct", ch)
        if ch == '"':
            m = _STRING.match(text, pos)
            if not m:
                raise self.error("unterminated string literal", pos)
            return self._emit("string", m.group())
        if ch == "@" and text.startswith('"', pos + 1):
            m = _STRING.match(text, pos + 1)
            if not m:
                raise self.error("unterminated string literal", pos + 1)
            return self._emit("symbol", "@" + m.group())
        for kind, pattern in _PATTERNS:
            m = pattern.match(text, pos)
            if m:
                if kind in ("int", "float") and len(m.group()) > _MAX_DIGITS:
                    raise self.error(f"number literal longer than {_MAX_DIGITS} characters", pos)
                return self._emit(kind, m.group())
        if ch in "%@^":
            raise self.error(f"expected a name after {ch!r}", pos)
        raise self.error(f"unexpected character {ch!r}", pos)

    def _emit(self, kind: str, text: str) -> Token:
        tok = Token(kind, text, self.pos)
        self.pos += len(text)
        self.end_of_last = self.pos
        return tok

    def tensor_body(self) -> tuple[list, str, list[int]]:
        """Scan the inside of ``tensor<...>`` right after ``<``: dims, element type name, offsets.

        Returns:
            (dims, dtype text, [offset of each dim..., offset of the dtype]) where
            each dim is an int or None for ``?``; the closing ``>`` is left for
            the next token.

        Raises:
            ParseError: if the text is not ``(dim 'x')* dtype``.
        """
        self._skip_space()
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
