"""The checked-in fuzzing corpus (tests/fuzz_corpus/): inputs that once broke a trust boundary (issue 23:
memory amplification, error-contract breaks, names LLVM refused, huge fused bodies), run through
``ir.parse`` and ``symcomp-opt`` as they are, then mutated by hypothesis for a bounded number of
examples.  The atheris target (tests/test_fuzz_atheris.py) starts from the same corpus.

The contract checked: ``ir.parse`` raises ParseError/VerifyError or returns a module that prints back to
itself; ``symcomp-opt`` ends with status 0, or 1 and a diagnostic, never a traceback, and never writes a
terminal control character to standard error; each input has a time limit and peak traced memory bound.
"""

import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings, HealthCheck

from symcomp import ir
from symcomp.ir.errors import ParseError, VerifyError

from fuzz_seeds import mutated, time_limit
from test_fuzz_cli import run

CORPUS = Path(__file__).parent / "fuzz_corpus"
FILES = sorted(CORPUS.glob("*.sc"))
MUTATION_EXAMPLES = 150
MEMORY_BOUND = 64e6  # bytes traced at the peak of one parse


def corpus_texts() -> list:
    """The corpus files' texts, in name order."""
    return [p.read_text(encoding="utf-8") for p in FILES]


def _parse_checked(text: str) -> None:
    tracemalloc.start()
    try:
        with time_limit(10):
            try:
                m = ir.parse(text, "corpus.sc")
            except (ParseError, VerifyError) as exc:
                assert "\x1b" not in str(exc)
                return
        printed = str(m)
        assert str(ir.parse(printed)) == printed
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"parsing took {peak / 1e6:.0f} MB"


def _cli_checked(text: str, emit: str) -> None:
    status, out, err = run(["-", f"--emit={emit}"], text)
    assert status in (0, 1), (status, err)
    assert "Traceback" not in err and "\x1b" not in err, err
    if status == 1:
        assert "error" in err
    assert len(out) < 1_000_000, f"--emit={emit} wrote {len(out)} characters"


def test_the_corpus_holds_the_issue_23_inputs():
    names = {p.name for p in FILES}
    assert {"splats-over-budget.sc", "splat-emit-llvm.sc", "empty-overflowing-dims.sc", "lone-surrogate-symbol.sc",
            "terminal-escapes.sc", "non-ascii-names.sc", "fused-body-500-ops.sc"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_input_parses_or_fails_cleanly(path):
    _parse_checked(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("emit", ["ir", "llvm"])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_input_through_symcomp_opt(path, emit):
    _cli_checked(path.read_text(encoding="utf-8"), emit)


@settings(max_examples=MUTATION_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(mutated(seeds=tuple(t for t in corpus_texts() if len(t) < 8192)))
def test_mutated_corpus_inputs(text):
    _parse_checked(text)
    _cli_checked(text, "ir")
