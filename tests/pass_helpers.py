"""Helpers for the pass tests: trace a graph, run a pipeline, check the printed IR, evaluate.

Until ``symcomp-opt`` can parse IR text, pass tests build their input IR with
the front-end and :func:`symcomp.compile.trace.trace`, run passes with the
pass manager (verifying after each pass) and check the printed IR with the
``filecheck`` package (LLVM FileCheck's syntax) or direct assertions.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from symcomp.ir.interpreter import evaluate_block
from symcomp.compile.trace import trace
from symcomp.passes import PassManager, parse_pipeline

# Floats where IEEE corner cases live: signed zeros, infinities, NaN, subnormals, extremes.
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-308, 5e-324, -5e-324, 1e308, -1e308,
                    np.inf, -np.inf, np.nan])


def traced(inputs, outputs, updates=()):
    """The module of a graph, before any pass."""
    module, _ = trace(list(inputs), list(outputs), list(updates), on_unused_input="ignore")
    return module


def run(module, pipeline: str):
    """Run ``pipeline`` on ``module`` in place (verifying after each pass); returns the module."""
    PassManager(parse_pipeline(pipeline), verify_each=True).run(module)
    return module


def optimized(inputs, outputs, pipeline: str, updates=()):
    """The module of a graph after ``pipeline``."""
    return run(traced(inputs, outputs, updates), pipeline)


def op_names(module) -> list[str]:
    """Names of the ops of the module's function body, in order (nested bodies excluded)."""
    return [o.name for o in module.func().body.ops]


def count(module, name: str) -> int:
    return op_names(module).count(name)


def evaluate(module, *args):
    """Outputs of the module's function on ``args``, with the NumPy reference interpreter."""
    outs, _ = evaluate_block(module.func().body, [np.asarray(a) for a in args])
    return outs


def filecheck(text: str, checks: str, tmp_path) -> None:
    """Check ``text`` against FileCheck directives ``checks`` (``// CHECK: ...`` lines).

    Raises:
        AssertionError: with FileCheck's report when a directive does not match.
    """
    check_file = tmp_path / "checks.sc"
    check_file.write_text(checks)
    proc = subprocess.run([sys.executable, "-m", "filecheck", str(check_file)], input=text,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"FileCheck failed:\n{proc.stdout}{proc.stderr}\n--- input ---\n{text}"


def same_bits(a, b) -> bool:
    """True if two float arrays are identical, signed zeros included (any NaN matches any NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind != "f":
        return bool(np.array_equal(a, b))
    both_nan = np.isnan(a) & np.isnan(b)
    same = (a == b) & (np.signbit(a) == np.signbit(b))
    return bool(np.all(both_nan | same))
