"""Shared by the tests of symcomp as a PyTensor backend (tests/test_pytensor_*.py): compile a graph with
PyTensor's default mode and with mode="SYMCOMP", and compare the results (dtype, shape, values)."""

from __future__ import annotations

import numpy as np
import pytest

pytensor = pytest.importorskip("pytensor")

import symcomp.pytensor as sp  # noqa: E402

_CACHE: dict = {}


def both(key, build):
    """(SYMCOMP function, default-mode function) of the graph ``build()`` -> (inputs, outputs), cached by key."""
    if key not in _CACHE:
        inputs, outputs = build()
        _CACHE[key] = (pytensor.function(inputs, outputs, mode="SYMCOMP"), pytensor.function(inputs, outputs))
    return _CACHE[key]


def tol(dtype):
    return dict(rtol=2e-5, atol=1e-5) if np.dtype(dtype) == np.float32 else dict(rtol=1e-11, atol=1e-12)


def check(fs, *args, compiled=True, **tolerances):
    """Call both functions on ``args``; assert equal dtypes, shapes and values (NaN where NaN)."""
    f, g = fs
    if compiled:
        assert not sp.report(f).fallback, str(sp.report(f))
    got, want = f(*args), g(*args)
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    for a, b in zip(got, want, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        assert a.shape == b.shape, (a.shape, b.shape)
        t = tolerances or tol(b.dtype) if b.dtype.kind == "f" else {}
        if b.dtype.kind == "f":
            np.testing.assert_allclose(a, b, equal_nan=True, **(tolerances or tol(b.dtype)))
        else:
            np.testing.assert_array_equal(a, b)
    return got
