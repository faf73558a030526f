"""Coverage-guided fuzzing of the IR parser with atheris (libFuzzer): only ParseError/VerifyError, never
another exception; parsed modules round-trip.  The fuzzer runs in a subprocess (it owns the process), from
a corpus of the fuzzing seeds, for a fixed number of runs recorded in docs/robustness.md."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz_seeds import seed_texts

pytest.importorskip("atheris", reason="atheris (coverage-guided fuzzer) is installed with the test extra on "
                                      "Linux x86-64 with CPython < 3.13 only")

RUNS = 10_000
HARNESS = os.path.join(os.path.dirname(__file__), "atheris_parse.py")
CORPUS = Path(__file__).parent / "fuzz_corpus"


def test_parser_under_coverage_guided_fuzzing(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, text in enumerate(seed_texts()):
        (corpus / f"seed{i}.sc").write_text(text)
    for path in sorted(CORPUS.glob("*.sc")):  # the checked-in corpus: inputs that broke a trust boundary
        shutil.copyfile(path, corpus / path.name)
    res = subprocess.run([sys.executable, HARNESS, str(corpus), f"-runs={RUNS}", "-max_len=8192", "-seed=1",
                          "-timeout=20", "-rss_limit_mb=4096", f"-artifact_prefix={tmp_path}/"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    done = re.search(r"Done (\d+) runs", res.stderr)
    assert done and int(done.group(1)) >= RUNS, res.stderr[-2000:]
