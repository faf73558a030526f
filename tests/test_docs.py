"""The documentation under test: every code block of README.md and docs/*.md runs as written.

Each block is one test (``tests/test_docs.py::test_block[docs/embedding.md:134]``).  The blocks of a
document run in order in a child process of their own (tests/doc_blocks.py describes what each kind
of block means and how a block that cannot run here is marked); a document runs once per test
session, whichever xdist worker asks first, and the others read its results.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from filelock import FileLock

import doc_blocks

ROOT = doc_blocks.ROOT
DOCS = doc_blocks.documents()
DOCUMENT_TIMEOUT_S = 1200


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


BLOCKS = [pytest.param(doc, line, id=f"{_rel(doc)}:{line}") for doc in DOCS for line in doc_blocks.block_lines(doc)]


class _DocumentRuns:
    """Runs each document once per session (under a file lock shared by the xdist workers)."""

    def __init__(self, shared: Path):
        self.shared = shared
        self.results: dict = {}

    def get(self, doc: Path) -> dict:
        if doc not in self.results:
            stem = _rel(doc).replace("/", "_")
            out = self.shared / f"{stem}.json"
            with FileLock(str(self.shared / f"{stem}.lock")):
                if not out.exists():
                    self._run(doc, out)
                self.results[doc] = json.loads(out.read_text(encoding="utf-8"))
        return self.results[doc]

    def _run(self, doc: Path, out: Path) -> None:
        workdir = self.shared / f"{out.stem}-work"
        workdir.mkdir()
        env = doc_blocks.shell_env()
        if not _has_nvidia_gpu():  # device="cuda" examples run in Numba's CUDA simulator
            env.setdefault("NUMBA_ENABLE_CUDASIM", "1")
        cmd = [sys.executable, str(Path(doc_blocks.__file__)), str(doc), str(workdir), str(out)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=DOCUMENT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            failure = f"{_rel(doc)} did not finish within {DOCUMENT_TIMEOUT_S} s"
        else:
            failure = None if proc.returncode == 0 and out.exists() else \
                f"running {_rel(doc)} failed (exit status {proc.returncode}):\n{(proc.stdout + proc.stderr)[-4000:]}"
        if failure is not None:
            out.write_text(json.dumps({"error": failure}), encoding="utf-8")


def _has_nvidia_gpu() -> bool:
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def documents(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's, shared by workers
    shared = shared / "docs-under-test"
    shared.mkdir(exist_ok=True)
    return _DocumentRuns(shared)


@pytest.mark.parametrize(("doc", "line"), BLOCKS)
def test_block(doc, line, documents):
    results = documents.get(doc)
    if "error" in results:
        pytest.fail(results["error"], pytrace=False)
    result = results.get(str(line))
    if result is None:
        pytest.fail(f"{_rel(doc)}:{line} was not run (the document's run stopped before it)", pytrace=False)
    if result["status"] == "skipped":
        pytest.skip(f"{_rel(doc)}:{line}: {result['detail']}")
    if result["status"] == "failed":
        pytest.fail(f"{_rel(doc)}:{line}: {result['detail']}", pytrace=False)


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.M)


def _fenced_blocks(text: str) -> list[tuple[int, int]]:
    """(opening line, closing line) of every fenced block, found independently of Sybil (CommonMark:
    a fence closes with at least as many of the same character)."""
    blocks, open_ = [], None
    for m in _FENCE.finditer(text):
        fence, line = m.group(1), text.count("\n", 0, m.start()) + 1
        if open_ is None:
            open_ = (fence, line)
        elif fence[0] == open_[0][0] and len(fence) >= len(open_[0]):
            blocks.append((open_[1], line))
            open_ = None
    if open_ is not None:
        blocks.append((open_[1], text.count("\n") + 1))
    return blocks


@pytest.mark.parametrize("doc", DOCS, ids=_rel)
def test_every_block_is_collected(doc):
    """No fenced block escapes the documentation tests (one Sybil's lexers would not see, say)."""
    lines = doc_blocks.block_lines(doc)
    blocks = _fenced_blocks(doc.read_text(encoding="utf-8"))
    for first, last in blocks:
        assert any(first <= line < last for line in lines), \
            f"{_rel(doc)}:{first}: a fenced block the documentation tests do not collect"
    assert all(any(first <= line < last for first, last in blocks) for line in lines)


def test_documents_cover_every_page():
    assert DOCS[0].name == "README.md"
    assert {p.name for p in DOCS[1:]} == {p.name for p in (ROOT / "docs").glob("*.md")}


_PIP_INSTALL = re.compile(r"pip install ([^`\n&|;#]*)")


def test_install_commands_install_this_checkout_with_existing_extras():
    """Every ``pip install`` the documentation shows (in blocks and in running text) installs this
    checkout, with extras pyproject.toml defines: symcomp is not on PyPI, so ``pip install
    'symcomp[cuda]'`` fails from a clone."""
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    seen = 0
    for doc in DOCS:
        for m in _PIP_INSTALL.finditer(doc.read_text(encoding="utf-8")):
            words = [w.strip("'\"()") for w in m.group(1).split() if not w.startswith("-") or w.startswith("-e")]
            targets = [w for w in words if w not in ("-e",)]
            assert targets, f"{_rel(doc)}: 'pip install {m.group(1)}' installs nothing"
            for t in targets:
                name, _, rest = t.partition("[")
                assert name == ".", f"{_rel(doc)}: 'pip install {m.group(1).strip()}' does not install this " \
                                    "checkout (symcomp is not on PyPI: use pip install -e '.[extra]')"
                for extra in filter(None, rest.rstrip("]").split(",")):
                    assert extra in extras, f"{_rel(doc)}: extra [{extra}] is not in pyproject.toml"
                seen += 1
    assert seen >= 4
