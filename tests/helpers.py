"""Test helpers: compile one graph on several backends and compare with an independent NumPy result."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import symcomp

BACKENDS = ("reference", "fast")

TOL = {np.dtype("float64"): 1e-12, np.dtype("float32"): 2e-5}


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(name: str):
    """The module ``examples/<name>.py`` (the examples folder is not a package), imported once."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXAMPLES))


def compile_modes(inputs, outputs, modes=BACKENDS, **kw):
    """One compiled function per mode."""
    return {m: symcomp.function(inputs, outputs, mode=m, on_unused_input="ignore", **kw) for m in modes}


def assert_matches(got, expected, rtol=None, atol=None):
    """``got`` equals ``expected`` in dtype, shape and value (NaNs equal; float tolerance by dtype)."""
    got = np.asarray(got)
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype, f"dtype {got.dtype} != {expected.dtype}"
    assert got.shape == expected.shape, f"shape {got.shape} != {expected.shape}"
    if got.dtype.kind == "f":
        tol = TOL.get(got.dtype, 1e-12) if rtol is None else rtol
        scale = max(1.0, float(np.max(np.abs(expected[np.isfinite(expected)]), initial=0.0)))
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol * scale if atol is None else atol,
                                   equal_nan=True)
        # Infinities and NaNs must sit at the same places with the same signs.
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        np.testing.assert_array_equal(got[np.isinf(got)], expected[np.isinf(got)])
    else:
        np.testing.assert_array_equal(got, expected)


def run_all(fns: dict, *args):
    """Call every compiled function; returns {mode: result}."""
    return {m: f(*[np.copy(a) if isinstance(a, np.ndarray) else a for a in args]) for m, f in fns.items()}


def require_mlir_tools():
    """Skip without mlir-opt-22/mlir-translate-22, except in CI where their absence is a failure."""
    from symcomp.mlir import tools

    if not tools.available():
        msg = f"mlir-opt-{tools.MLIR_MAJOR} / mlir-translate-{tools.MLIR_MAJOR} not found ({tools.INSTALL_HINT})"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
