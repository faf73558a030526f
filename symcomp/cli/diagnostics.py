"""Test-driving helpers of ``symcomp-opt``: ``--split-input-file`` and ``--verify-diagnostics``.

Both follow ``mlir-opt``.  ``--split-input-file`` cuts the input at lines
``// -----`` into chunks processed independently (line numbers stay those of
the whole file).  ``--verify-diagnostics`` checks the error a chunk produces
against the expectations written in it::

    // expected-error @+1 {{unknown operation 'sc.bogus'}}
    %0 = sc.bogus %a : tensor<f64>

An expectation applies to its own line, to the line ``@+N`` / ``@-N`` away,
or to the closest line ``@above`` / ``@below`` that holds no expectation; it
is met when an error is reported on that line with a message containing the
text between ``{{`` and ``}}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from symcomp.ir.errors import IRError

SPLIT_MARKER = re.compile(r"^// -----\s*$")
_EXPECT = re.compile(r"expected-(error|warning|note|remark)\s*(?:@([+-][0-9]+|above|below))?\s*\{\{(.*)\}\}")


@dataclass(frozen=True)
class Chunk:
    """A piece of the input.

    Attributes:
        text: its text.
        first_line: the line of the whole input where it starts (1-based).
    """

    text: str
    first_line: int


def split_input(text: str, split: bool) -> list[Chunk]:
    """The chunks of ``text``: cut at ``// -----`` lines if ``split``, else the whole text."""
    if not split:
        return [Chunk(text, 1)]
    chunks, lines, start = [], [], 1
    for i, line in enumerate(text.split("\n"), start=1):
        if SPLIT_MARKER.match(line):
            chunks.append(Chunk("\n".join(lines) + "\n", start))
            lines, start = [], i + 1
        else:
            lines.append(line)
    chunks.append(Chunk("\n".join(lines), start))
    return chunks


@dataclass(frozen=True)
class Expectation:
    """One ``expected-<kind>`` comment: the diagnostic kind, the line it applies to and its text."""

    kind: str
    line: int
    text: str
    written_at: int


def expectations(chunk: Chunk) -> list[Expectation]:
    """The expectations written in ``chunk``, with absolute line numbers.

    Raises:
        ValueError: for an ``@above``/``@below`` with no line to apply to.
    """
    lines = chunk.text.split("\n")
    out = []
    for i, line in enumerate(lines):
        m = _EXPECT.search(line)
        if not m:
            continue
        kind, where, text = m.groups()
        target = i
        if where in ("above", "below"):
            step = -1 if where == "above" else 1
            target = i + step
            while 0 <= target < len(lines) and _EXPECT.search(lines[target]):
                target += step
            if not 0 <= target < len(lines):
                raise ValueError(f"line {chunk.first_line + i}: expected-{kind} @{where} has no line to apply to")
        elif where:
            target = i + int(where)
        out.append(Expectation(kind, chunk.first_line + target, text, chunk.first_line + i))
    return out


def check_expectations(filename: str, chunk: Chunk, error: Optional[IRError]) -> list[str]:
    """Messages for each mismatch between the chunk's expectations and the ``error`` it produced.

    Returns:
        An empty list when the produced error (or its absence) matches exactly.
    """
    problems = []
    expected = expectations(chunk)
    matched = False
    line = error.loc.line if error is not None and error.loc is not None and error.loc.file == filename else None
    for e in expected:
        if e.kind == "error" and error is not None and not matched and e.line == line and e.text in error.message:
            matched = True
            continue
        problems.append(f"{filename}:{e.written_at}: error: expected {e.kind} on line {e.line} "
                        f"was not produced: {e.text}")
    if error is not None and not matched:
        problems.append(f"unexpected error: {error}")
    return problems
