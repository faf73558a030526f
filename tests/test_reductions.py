"""Reductions (sum, prod, mean, var, std, max, min, argmax, argmin, any, all) against NumPy on both backends."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from symcomp import tensor as T
from tests.helpers import assert_matches, compile_modes, run_all

AXES = [None, 0, 1, 2, -1, (0, 2), (1, 2), (0, 1, 2)]
_FNS: dict = {}


def _fns(key, build):
    if key not in _FNS:
        _FNS[key] = build()
    return _FNS[key]


REDUCERS = {
    "sum": (T.sum, lambda a, ax, kd: np.sum(a, axis=ax, keepdims=kd)),
    "prod": (T.prod, lambda a, ax, kd: np.prod(a, axis=ax, keepdims=kd)),
    "max": (T.max, lambda a, ax, kd: np.max(a, axis=ax, keepdims=kd)),
    "min": (T.min, lambda a, ax, kd: np.min(a, axis=ax, keepdims=kd)),
    "mean": (T.mean, lambda a, ax, kd: np.mean(a, axis=ax, keepdims=kd)),
    "any": (T.any, lambda a, ax, kd: np.any(a, axis=ax, keepdims=kd)),
    "all": (T.all, lambda a, ax, kd: np.all(a, axis=ax, keepdims=kd)),
}


CASES = [(n, d) for n in sorted(REDUCERS) for d in ["float64", "float32", "int32", "uint8", "bool"]
         if not (d == "bool" and n in ("prod", "mean"))]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name,dtype", CASES)
@given(shape=st.tuples(st.integers(1, 6), st.integers(1, 7), st.integers(1, 19)), seed=st.integers(0, 999))
def test_reduce(name, dtype, axis, keepdims, shape, seed):
    fn, ref = REDUCERS[name]
    x = T.tensor(dtype, shape=(None, None, None), name="x")
    fns = _fns((name, dtype, axis, keepdims), lambda: compile_modes([x], fn(x, axis=axis, keepdims=keepdims)))
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        a = rng.integers(0, 2, shape).astype(bool)
    elif dtype[0] in "iu":
        a = rng.integers(0, 4, shape).astype(dtype)
    else:
        a = rng.uniform(0.5, 1.5, shape).astype(dtype)
        if seed % 7 == 0:
            a.reshape(-1)[seed % a.size] = np.nan
    expected = np.asarray(ref(a, axis, keepdims))
    tol = 1e-5 if dtype == "float32" else 1e-12
    for got in run_all(fns, a).values():
        assert_matches(got, expected, rtol=tol)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)], ids=str)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(shape=st.tuples(st.integers(1, 8), st.integers(1, 21)), seed=st.integers(0, 999))
def test_arg_extrema(name, axis, shape, seed):
    x = T.dmatrix("x")
    fns = _fns((name, axis), lambda: compile_modes([x], getattr(T, name)(x, axis=axis)))
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 5, shape).astype(np.float64)  # ties: the first index wins
    if seed % 5 == 0:
        a.reshape(-1)[seed % a.size] = np.nan
    # axis=None and axis=(0, 1) both index the flattened (C-order) matrix.
    expected = getattr(np, name)(a.reshape(-1) if axis in (None, (0, 1)) else a, axis=None if axis in (None, (0, 1)) else axis)
    for got in run_all(fns, a).values():
        assert_matches(got, np.asarray(expected, dtype=np.int64))


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_std(ddof):
    x = T.dmatrix("x")
    fns = compile_modes([x], [T.var(x, axis=1, ddof=ddof), T.std(x, axis=0, ddof=ddof), x.var()])
    a = np.random.default_rng(5).standard_normal((6, 9))
    for got in run_all(fns, a).values():
        assert_matches(got[0], a.var(axis=1, ddof=ddof))
        assert_matches(got[1], a.std(axis=0, ddof=ddof))
        assert_matches(got[2], a.var())


def test_empty_reductions():
    """Sums over empty axes give the identity; max over an empty axis raises ValueError (as NumPy)."""
    x = T.dmatrix("x")
    fns = compile_modes([x], [x.sum(axis=0), x.prod(axis=0), x.sum()])
    a = np.zeros((0, 4))
    for got in run_all(fns, a).values():
        assert_matches(got[0], np.zeros(4))
        assert_matches(got[1], np.ones(4))
        assert_matches(got[2], np.float64(0.0))
    for f in compile_modes([x], x.max(axis=0)).values():
        with pytest.raises(ValueError):
            f(a)


def test_long_sum_is_accurate():
    """A 10^6-element float32 sum stays close to the exact (float64) sum."""
    x = T.fvector("x")
    fns = compile_modes([x], x.sum())
    a = np.random.default_rng(1).uniform(0, 1, 1_000_000).astype(np.float32)
    exact = np.sum(a.astype(np.float64))
    for got in run_all(fns, a).values():
        assert abs(float(got) - exact) / exact < 1e-4


def test_argmax_over_a_nonempty_axis_of_an_empty_array():
    x = T.dmatrix("x")
    for f in compile_modes([x], [T.argmax(x, axis=1), T.argmin(x, axis=1)]).values():
        got = f(np.zeros((0, 3)))
        assert_matches(got[0], np.zeros(0, dtype=np.int64))
        assert_matches(got[1], np.zeros(0, dtype=np.int64))
