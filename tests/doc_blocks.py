"""Running the code blocks of the documentation (README.md and every docs/*.md) with Sybil.

tests/test_docs.py runs each document in a child process of its own
(``python tests/doc_blocks.py DOC WORKDIR RESULTS``): the blocks of one
document run in order, in one Python namespace and one fresh working directory
(so a block may write a file that a later block reads), isolated from the test
process and from the other documents.  The child writes one result per block
(passed, failed with the reason, or skipped with the reason) to RESULTS (JSON).

What each kind of fenced block means:

| block | what runs |
|---|---|
| ```` ```python ```` | executed; a block starting with ``>>>`` is a doctest, its printed output compared |
| ```` ```bash ```` | run by ``bash -e -o pipefail`` in the working directory, this Python's ``bin`` first |
| ```` ```console ```` | each ``$ command`` runs; the lines after it are its stdout and stderr (``...``: anything) |
| first line ``// file: NAME`` or ``# file: NAME`` | written to NAME in the working directory, for the commands below it |
| ```` ```mlir ```` | symcomp IR: parsed, verified and printed back identically |
| ```` ```toml ```` | parsed |
| anything else (```` ```text ````, no language, C that is not a file) | fails unless a skip marker precedes it |

A block that cannot run here is marked in the Markdown with Sybil's skip
directive and a reason, which the test run prints (``-ra``)::

    <!-- skip: next "a grammar, not a program" -->
    <!-- skip: next if(missing("gcc"), reason="needs gcc") -->

Conditions may use ``missing(tool)`` (not on PATH; under ``CI`` the MLIR
tools count as present, so that their absence fails, as in the other tests)
and ``missing_module(name)``.  No block is left out silently: every fenced
block is collected (tests/test_docs.py checks the count against the fences in
the text), and one the rules above cannot run fails until it is marked.

Each document runs with ``NUMBA_ENABLE_CUDASIM=1`` on machines without an
NVIDIA GPU, so ``device="cuda"`` examples run in Numba's CUDA simulator there
and on the GPU elsewhere.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import traceback
import unittest
from pathlib import Path

from sybil import Sybil
from sybil.evaluators.skip import Skipper
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

ROOT = Path(__file__).resolve().parent.parent
BIN = str(Path(sys.executable).parent)
TIMEOUT_S = 600
"""The longest one shell command of a block may run."""

_FILE_LINE = re.compile(r"^\s*(?://|#)\s*file:\s*(\S+)\s*$")
_MLIR_TOOLS = ("mlir-opt-22", "mlir-translate-22")


def documents() -> list[Path]:
    """The documents under test: README.md and every docs/*.md (a glob: new pages are picked up)."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def shell_env() -> dict:
    """The environment of shell blocks and document runs: this Python's ``bin`` first on PATH."""
    env = dict(os.environ)
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    return env


def missing(tool: str) -> bool:
    """True when ``tool`` is not on PATH (this Python's ``bin`` included).

    Under ``CI`` the MLIR tools count as present: CI installs them, and a test
    needing them must fail rather than skip when they are missing.
    """
    if tool in _MLIR_TOOLS and os.environ.get("CI"):
        return False
    return shutil.which(tool, path=shell_env()["PATH"]) is None


def missing_module(name: str) -> bool:
    """True when the Python module ``name`` cannot be imported."""
    return importlib.util.find_spec(name) is None


class BlockError(AssertionError):
    """A block did not run as documented (the message says how)."""


# -- evaluators ------------------------------------------------------------------------------------
def _language(example) -> str:
    info = example.region.lexemes.get("info") or ""
    return info.split()[0].lower() if info.split() else ""


def _tail(text: str, n: int = 60) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join((["..."] if len(lines) > n else []) + lines[-n:])


def _run_shell(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", command], capture_output=True, text=True,
                          env=shell_env(), timeout=TIMEOUT_S)


def _check_ir(source: str, label: str) -> None:
    from symcomp import ir

    module = ir.parse(source, label)
    ir.verify(module)
    if str(module) != source:
        raise BlockError(f"{label} parses, but prints back differently:\n{module}")


def _written_file(source: str):
    """(file name, text) when the block's first line names a file, else None."""
    first, _, _ = source.partition("\n")
    m = _FILE_LINE.match(first)
    return (m.group(1), source) if m else None


def evaluate_fence(example) -> None:
    """Run one fenced block that is not Python (see the module docstring for the rules)."""
    language = _language(example)
    source = str(example.parsed)
    line = example.line
    if language in ("bash", "sh", "shell"):
        proc = _run_shell(source)
        if proc.returncode:
            raise BlockError(f"the shell block exited with status {proc.returncode}:\n"
                             f"{_tail(proc.stdout + proc.stderr)}")
        return
    if language == "console":
        return _run_console(source)
    written = _written_file(source)
    if written is not None:
        name, text = written
        Path(name).write_text(text, encoding="utf-8")  # may be invalid on purpose: the commands check it
        return
    if language == "mlir":
        return _check_ir(source, f"the mlir block at line {line}")
    if language == "toml":
        tomllib.loads(source)
        return
    raise BlockError(f"a ```{language} block is not run by the documentation tests: give it a first line "
                     "'// file: NAME' (to write it for the commands below), a language they run (python, bash, "
                     "console, mlir, toml), or mark it <!-- skip: next \"why\" --> (tests/doc_blocks.py)")


def _run_console(source: str) -> None:
    """``$ command`` lines, each followed by its expected output."""
    steps: list[tuple[str, list[str]]] = []
    for text in source.splitlines():
        if text.startswith("$ "):
            steps.append((text[2:], []))
        elif not steps:
            raise BlockError(f"a console block must start with '$ command', got {text!r}")
        else:
            steps[-1][1].append(text)
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS
    for command, want_lines in steps:
        proc = subprocess.run(["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=shell_env(), timeout=TIMEOUT_S)
        want = "\n".join(want_lines).rstrip() + "\n" if any(w.strip() for w in want_lines) else ""
        got = proc.stdout.rstrip() + "\n" if proc.stdout.strip() else ""
        if not checker.check_output(want, got, flags):
            example = doctest.Example(command, want)
            raise BlockError(f"$ {command}  (exit status {proc.returncode})\n"
                             + checker.output_difference(example, got, flags))


class FenceParser:
    """Every fenced block that is not ```python, evaluated by :func:`evaluate_fence`."""

    def __init__(self):
        self.lexer = RawFencedCodeBlockLexer(info_pattern=re.compile(r"(?P<info>[^\n]*)$\n", re.MULTILINE),
                                             mapping={"info": "info", "source": "source"})

    def __call__(self, document):
        for region in self.lexer(document):
            words = region.lexemes["info"].split()
            if words and words[0].lower() == "python":
                continue
            region.parsed = region.lexemes["source"]
            region.evaluator = evaluate_fence
            yield region


SYBIL = Sybil(parsers=[SkipParser(), FenceParser(),
                       PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)])


def examples(path: Path) -> list:
    """The examples Sybil finds in one document, in order: code blocks (and doctest examples) and
    skip directives."""
    return list(SYBIL.parse(path).examples())


def is_directive(example) -> bool:
    return isinstance(example.region.evaluator, Skipper)


def block_lines(path: Path) -> list[int]:
    """The line of every block (and doctest example) of ``path``: one test each."""
    return [e.line for e in examples(path) if not is_directive(e)]


# -- the child process ------------------------------------------------------------------------------
def run_document(path: Path, workdir: Path) -> dict:
    """Run every block of ``path`` in order, in ``workdir``; {line: {"status", "detail"}}."""
    os.chdir(workdir)
    document = SYBIL.parse(path)
    document.namespace.update(missing=missing, missing_module=missing_module)
    results: dict = {}
    pending_error = None
    for example in document.examples():
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                example.evaluate()
        except unittest.SkipTest as exc:
            status, detail = "skipped", str(exc)
        except Exception as exc:  # noqa: BLE001 - every failure is reported against its block
            status = "failed"
            if isinstance(exc, AssertionError) and type(exc).__module__ != "builtins":
                detail = str(exc)
            else:
                detail = "".join(traceback.format_exception(exc)[-12:])
            captured = out.getvalue()
            if captured.strip():
                detail += "\n--- output of the block ---\n" + _tail(captured)
        else:
            status, detail = "passed", ""
        if is_directive(example):
            if status == "failed":
                pending_error = f"the skip directive at line {example.line} is invalid: {detail}"
            continue
        if pending_error is not None:
            status, detail, pending_error = "failed", pending_error, None
        results[example.line] = {"status": status, "detail": detail}
    return results


def main(argv: list[str]) -> int:
    doc, workdir, out = (Path(a).resolve() for a in argv)
    results = run_document(doc, workdir)
    out.write_text(json.dumps({str(k): v for k, v in results.items()}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
