"""Fuzzing ``symcomp-opt``: mutated real modules under random passes, flags and emission kinds end with exit
status 0, or 1 and a diagnostic on standard error -- never a traceback, never another status, never a hang.

In process (``main(argv)``) for the many iterations, then through the installed console script for a few
inputs, so that the exit status and the absence of a traceback are checked on the real program.
"""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symcomp import ir
from symcomp.cli import opt
from symcomp.passes.manager import registered_passes

from fuzz_seeds import module_seeds, mutated, time_limit

CLI_EXAMPLES = 300
EMIT_EXAMPLES = 60
TOOL = os.path.join(os.path.dirname(sys.executable), "symcomp-opt")


def run(argv, stdin: str):
    """main() in-process on ``stdin``; returns (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        with time_limit(30):
            status = opt.main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return status, out.getvalue(), err.getvalue()


def check(status: int, out: str, err: str, emit: str, split: bool) -> None:
    assert status in (0, 1), (status, err)
    assert "Traceback" not in err, err
    if status == 1:
        assert "error" in err, err
    elif emit == "ir" and not split and out:
        assert str(ir.parse(out)) == out  # what it prints is valid IR


@st.composite
def argvs(draw, emits=("ir",)):
    names = sorted(registered_passes())
    passes = draw(st.lists(st.sampled_from(names), max_size=4))
    argv = ["-"]
    if passes:
        argv.append("--pass-pipeline=" + ",".join(passes))
    emit = draw(st.sampled_from(emits))
    argv.append(f"--emit={emit}")
    split = draw(st.booleans())
    if split:
        argv.append("--split-input-file")
    for flag in ("--print-ir-after-all", "--timing", "--no-verify-each", "--verify-diagnostics"):
        if draw(st.integers(0, 4)) == 0:
            argv.append(flag)
    return argv, emit, split


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=True, database=None)


@fuzz(CLI_EXAMPLES)
@given(mutated(), argvs())
def test_mutated_modules_under_random_flags(text, args):
    argv, emit, split = args
    check(*run(argv, text), emit, split)


@fuzz(EMIT_EXAMPLES)
@given(mutated(seeds=module_seeds()), argvs(emits=("llvm", "asm")))
def test_mutated_modules_to_native_code(text, args):
    argv, emit, split = args
    check(*run(argv, text), emit, split)


@pytest.mark.parametrize("k", range(4))
def test_the_installed_program(tmp_path, k):
    """The console script itself: status 0 or 1, a diagnostic, no traceback (one process per input)."""
    rng = np.random.default_rng(k)
    text = module_seeds()[k % len(module_seeds())]
    i = int(rng.integers(0, len(text)))
    bad = text[:i] + "%$#" + text[i + 3:]
    path = tmp_path / "in.sc"
    for t in (text, bad):
        path.write_text(t)
        res = subprocess.run([TOOL, str(path), "--pass-pipeline=cse,dce"], capture_output=True, text=True, timeout=300)
        assert res.returncode in (0, 1) and "Traceback" not in res.stderr, res.stderr
        assert (res.returncode == 0) == (t == text), res.stderr


def test_binary_input_is_a_usage_error_not_a_traceback(tmp_path):
    path = tmp_path / "in.sc"
    path.write_bytes(bytes(range(256)) * 4)
    res = subprocess.run([TOOL, str(path)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "is not UTF-8 text" in res.stderr and "Traceback" not in res.stderr
