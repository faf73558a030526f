"""T.gammaln, T.psi, T.erfcx, T.log1mexp (symcomp/tensor/special.py) against SciPy, compiled on the CPU
backend; their gradients against finite differences (symcomp's autodiff through the formulas)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sps
import hypothesis.extra.numpy as hnp
from hypothesis import given, settings, strategies as st

import symcomp
from symcomp import tensor as T

CASES = {
    # name: (function, SciPy reference, domain, float64 rtol, atol)
    "gammaln": (T.gammaln, sps.gammaln, (-40.0, 200.0), 1e-13, 1e-13),
    "psi": (T.psi, sps.psi, (-40.0, 200.0), 1e-12, 1e-12),
    "erfcx": (T.erfcx, sps.erfcx, (-25.0, 1e4), 1e-13, 0.0),
    "log1mexp": (T.log1mexp, lambda x: np.log(-np.expm1(x)), (-700.0, -1e-300), 1e-15, 0.0),
}
_FN: dict = {}


def _compiled(name, dtype):
    if (name, dtype) not in _FN:
        x = T.vector("x", dtype=dtype)
        _FN[name, dtype] = symcomp.function([x], CASES[name][0](x))
    return _FN[name, dtype]


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=40)
@given(data=st.data())
def test_matches_scipy_float64(name, data):
    _, ref, (lo, hi), rtol, atol = CASES[name]
    x = data.draw(hnp.arrays("float64", st.integers(1, 30), elements=st.floats(lo, hi, allow_subnormal=False)))
    x = x[np.abs(x) > 1e-300]  # SciPy: gammaln(1e-309) = inf (the true value is 710.7)
    if name in ("gammaln", "psi"):
        x = x[(x > 0) | (np.abs(x - np.round(x)) > 1e-3)]  # away from the poles, where both are ill-conditioned
        if name == "psi":
            x = x[(x > 0) | (np.abs(x - np.round(x)) > 0.05)]
    got, want = _compiled(name, "float64")(x), ref(x)
    # Near the zeros of gammaln (1, 2) and psi (1.4616...) relative error is meaningless: absolute there.
    np.testing.assert_allclose(got, want, rtol=rtol, atol=max(atol, 1e-13 if name != "psi" else 2e-13 * 40))


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_keeps_its_dtype_and_accuracy(name):
    _, ref, (lo, hi), _, _ = CASES[name]
    x = np.linspace(max(lo, -30.0) if name != "log1mexp" else -80.0, min(hi, 60.0), 4001).astype("float32")
    if name in ("gammaln", "psi"):
        x = x[(x > 0) | (np.abs(x - np.round(x)) > 0.05)]
    if name == "log1mexp":
        x = x[x < 0]
    got = _compiled(name, "float32")(x)
    assert got.dtype == np.float32
    with np.errstate(over="ignore"):
        want = ref(x.astype("float64")).astype("float32")  # inf where float32 overflows
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)


def test_special_values():
    x = np.array([0.0, -1.0, -2.0, np.inf, -np.inf, np.nan, 1.0, 2.0])
    with np.errstate(all="ignore"):
        # gammaln(1) = gammaln(2) = 0 within 1e-14 (the recurrence's cancellation, documented)
        np.testing.assert_allclose(_compiled("gammaln", "float64")(x), sps.gammaln(x), rtol=0, atol=1e-14)
        np.testing.assert_array_equal(_compiled("psi", "float64")(x[:6]), sps.psi(x[:6]))
        np.testing.assert_array_equal(_compiled("erfcx", "float64")(np.array([np.inf, -np.inf, 0.0])),
                                      sps.erfcx(np.array([np.inf, -np.inf, 0.0])))
        assert np.isneginf(_compiled("log1mexp", "float64")(np.array([0.0])))[0]


@pytest.mark.parametrize("name", ["gammaln", "psi", "erfcx", "log1mexp"])
def test_gradients_by_finite_differences(name):
    fn = CASES[name][0]
    x = T.dvector("x")
    g = symcomp.function([x], T.grad(fn(x).sum(), x))
    v = {"gammaln": np.array([0.3, 1.5, 7.9, 8.1, 30.0, -2.5]), "psi": np.array([0.3, 1.5, 7.9, 8.1, 30.0, -2.5]),
         "erfcx": np.array([-3.0, 0.1, 5.0, 24.0, 26.0]), "log1mexp": np.array([-5.0, -0.7, -0.69, -1e-3])}[name]
    h = 1e-6 * np.maximum(1.0, np.abs(v))
    f = _compiled(name, "float64")
    fd = (f(v + h) - f(v - h)) / (2 * h)
    np.testing.assert_allclose(g(v), fd, rtol=1e-6)
