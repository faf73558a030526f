"""Runs the lit/FileCheck tests of symcomp-opt (tests/opt/*.sc), one pytest test per file."""

import pathlib
import subprocess
import sys

import pytest

OPT_TESTS = pathlib.Path(__file__).parent / "opt"
LIT_FILES = sorted(p.name for p in OPT_TESTS.glob("*.sc"))


def test_there_are_lit_tests():
    assert len(LIT_FILES) >= 10


@pytest.mark.parametrize("name", LIT_FILES)
def test_lit(name, tmp_path):
    # lit runs in this interpreter, so tests/opt/lit.cfg.py finds symcomp-opt and filecheck next to it.
    cmd = [sys.executable, "-c", "import lit.main; lit.main.main()", "-v", "--param", f"exec_root={tmp_path}",
           str(OPT_TESTS / name)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Passed: 1" in res.stdout
