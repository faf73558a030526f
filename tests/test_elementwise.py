"""Every elementwise op against NumPy, on both backends, over shapes, broadcasting patterns and dtypes.

One function is compiled per (op, dtype, broadcasting pattern); hypothesis then draws shapes and values
for it, so the generated code is exercised on many shapes (contiguous, ragged remainders, empty axes).
"""

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given, strategies as st

import symcomp
from symcomp import tensor as T
from tests.helpers import assert_matches, compile_modes, run_all

FLOATS = ["float32", "float64"]
INTS = ["int8", "int16", "int32", "int64", "uint8", "uint32"]

# name -> (front-end function, NumPy reference, domain sampler)
UNARY_FLOAT = {
    "exp": (T.exp, np.exp, (-30, 30)),
    "exp2": (T.exp2, np.exp2, (-30, 30)),
    "expm1": (T.expm1, np.expm1, (-5, 5)),
    "log": (T.log, np.log, (0.01, 100)),
    "log2": (T.log2, np.log2, (0.01, 100)),
    "log10": (T.log10, np.log10, (0.01, 100)),
    "log1p": (T.log1p, np.log1p, (-0.9, 10)),
    "sqrt": (T.sqrt, np.sqrt, (0, 100)),
    "sin": (T.sin, np.sin, (-10, 10)),
    "cos": (T.cos, np.cos, (-10, 10)),
    "tan": (T.tan, np.tan, (-1.5, 1.5)),
    "arcsin": (T.arcsin, np.arcsin, (-1, 1)),
    "arccos": (T.arccos, np.arccos, (-1, 1)),
    "arctan": (T.arctan, np.arctan, (-10, 10)),
    "sinh": (T.sinh, np.sinh, (-5, 5)),
    "cosh": (T.cosh, np.cosh, (-5, 5)),
    "tanh": (T.tanh, np.tanh, (-5, 5)),
    "erf": (T.erf, sps.erf, (-3, 3)),
    "erfc": (T.erfc, sps.erfc, (-3, 3)),
    "sigmoid": (T.nnet.sigmoid, sps.expit, (-40, 40)),
    "softplus": (T.nnet.softplus, lambda x: np.logaddexp(np.zeros((), x.dtype), x), (-40, 40)),
    "floor": (T.floor, np.floor, (-10, 10)),
    "ceil": (T.ceil, np.ceil, (-10, 10)),
    "trunc": (T.trunc, np.trunc, (-10, 10)),
    "round": (T.round, np.round, (-10, 10)),
    "neg": (lambda x: -x, np.negative, (-10, 10)),
    "abs": (abs, np.abs, (-10, 10)),
    "sgn": (T.sgn, np.sign, (-10, 10)),
    "sqr": (T.sqr, np.square, (-10, 10)),
}

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "maximum": (T.maximum, np.maximum),
    "minimum": (T.minimum, np.minimum),
    "floordiv": (lambda a, b: a // b, np.floor_divide),
    "mod": (lambda a, b: a % b, np.mod),
    "eq": (T.eq, np.equal),
    "neq": (T.neq, np.not_equal),
    "lt": (lambda a, b: a < b, np.less),
    "le": (lambda a, b: a <= b, np.less_equal),
    "gt": (lambda a, b: a > b, np.greater),
    "ge": (lambda a, b: a >= b, np.greater_equal),
}
FLOAT_BINARY = {
    "div": (lambda a, b: a / b, np.true_divide),
    "pow": (lambda a, b: a ** b, np.power),
    "arctan2": (T.arctan2, np.arctan2),
}
LOGICAL = {"and": (T.and_, np.bitwise_and), "or": (T.or_, np.bitwise_or), "xor": (T.xor, np.bitwise_xor)}

# Broadcasting patterns: static shapes of the operands (None = dynamic); hypothesis fills the dynamic sizes.
PATTERNS = {
    "same2d": ((None, None), (None, None)),
    "row": ((None, None), (1, None)),
    "col3d": ((None, None, None), (None, 1, None)),
    "rank": ((None, None), (None,)),
    "scalar": ((None, None), ()),
}

_FNS: dict = {}


def _fns(key, build):
    if key not in _FNS:
        _FNS[key] = build()
    return _FNS[key]


def _concrete(static, sizes):
    """Concrete shape for a static pattern, dynamic axes from ``sizes`` aligned to the right."""
    out = []
    for i, d in enumerate(static):
        out.append(1 if d == 1 else sizes[len(sizes) - len(static) + i])
    return tuple(out)


def _values(rng, shape, dtype, lo, hi, specials=False):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = rng.uniform(lo, hi, size=shape).astype(dt)
        if specials and a.size:
            flat = a.reshape(-1)
            idx = rng.integers(0, flat.size, size=max(1, flat.size // 5))
            flat[idx] = rng.choice(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=dt), size=idx.size)
        return a
    if dt.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    info = np.iinfo(dt)
    return rng.integers(max(info.min, -100), min(info.max, 100), size=shape, endpoint=True).astype(dt)


sizes_st = st.lists(st.integers(0, 9), min_size=3, max_size=3)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY_FLOAT))
@given(sizes=sizes_st, seed=st.integers(0, 2**16))
def test_unary_float(name, dtype, sizes, seed):
    fn, ref, (lo, hi) = UNARY_FLOAT[name]
    x = T.tensor(dtype, shape=(None, None), name="x")
    fns = _fns(("u", name, dtype), lambda: compile_modes([x], fn(x)))
    rng = np.random.default_rng(seed)
    a = _values(rng, tuple(sizes[:2]), dtype, lo, hi, specials=seed % 3 == 0)
    with np.errstate(all="ignore"):
        expected = ref(a)
    for mode, got in run_all(fns, a).items():
        assert_matches(got, expected, rtol=4e-6 if dtype == "float32" else 1e-13)


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
@pytest.mark.parametrize("dtype", FLOATS + INTS)
@pytest.mark.parametrize("name", sorted(BINARY))
@given(sizes=sizes_st, seed=st.integers(0, 2**16))
def test_binary(name, dtype, pattern, sizes, seed):
    fn, ref = BINARY[name]
    sa, sb = PATTERNS[pattern]
    a_var = T.tensor(dtype, shape=sa, name="a")
    b_var = T.tensor(dtype, shape=sb, name="b")
    fns = _fns(("b", name, dtype, pattern), lambda: compile_modes([a_var, b_var], fn(a_var, b_var)))
    rng = np.random.default_rng(seed)
    a = _values(rng, _concrete(sa, sizes), dtype, -10, 10, specials=seed % 4 == 0)
    b = _values(rng, _concrete(sb, sizes), dtype, -10, 10, specials=seed % 4 == 1)
    with np.errstate(all="ignore"):
        expected = ref(a, b)
    for mode, got in run_all(fns, a, b).items():
        assert_matches(got, expected)


@pytest.mark.parametrize("pattern", ["same2d", "row", "scalar"])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(FLOAT_BINARY))
@given(sizes=sizes_st, seed=st.integers(0, 2**16))
def test_float_binary(name, dtype, pattern, sizes, seed):
    fn, ref = FLOAT_BINARY[name]
    sa, sb = PATTERNS[pattern]
    a_var = T.tensor(dtype, shape=sa, name="a")
    b_var = T.tensor(dtype, shape=sb, name="b")
    fns = _fns(("fb", name, dtype, pattern), lambda: compile_modes([a_var, b_var], fn(a_var, b_var)))
    rng = np.random.default_rng(seed)
    lo = 0.1 if name == "pow" else -10
    a = _values(rng, _concrete(sa, sizes), dtype, lo, 10, specials=seed % 4 == 0)
    b = _values(rng, _concrete(sb, sizes), dtype, -3, 3)
    with np.errstate(all="ignore"):
        expected = ref(a, b)
    for mode, got in run_all(fns, a, b).items():
        assert_matches(got, expected, rtol=4e-6 if dtype == "float32" else 1e-13)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "uint8", "int64"])
@pytest.mark.parametrize("name", sorted(LOGICAL))
@given(sizes=sizes_st, seed=st.integers(0, 2**16))
def test_logical(name, dtype, sizes, seed):
    fn, ref = LOGICAL[name]
    a_var = T.tensor(dtype, shape=(None, None), name="a")
    b_var = T.tensor(dtype, shape=(1, None), name="b")
    fns = _fns(("l", name, dtype), lambda: compile_modes([a_var, b_var], [fn(a_var, b_var), T.invert(a_var)]))
    rng = np.random.default_rng(seed)
    a = _values(rng, tuple(sizes[:2]), dtype, 0, 0)
    b = _values(rng, (1, sizes[1]), dtype, 0, 0)
    for mode, (got, inv) in run_all(fns, a, b).items():
        assert_matches(got, ref(a, b))
        assert_matches(inv, np.invert(a))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8", "uint32"])
def test_integer_division_edge_cases(dtype):
    """Division and modulo by zero give 0, and INT_MIN // -1 wraps, as NumPy (never a trap)."""
    a_var, b_var = T.tensor(dtype, shape=(None,)), T.tensor(dtype, shape=(None,))
    fns = compile_modes([a_var, b_var], [a_var // b_var, a_var % b_var])
    info = np.iinfo(dtype)
    a = np.array([7, -7, 7, -7, 0, info.min, info.max, info.min, 5], dtype=dtype) if info.min < 0 else \
        np.array([7, 0, info.max, 3, 9], dtype=dtype)
    b = np.array([2, 2, -2, -2, 0, -1, 0, 1, 0], dtype=dtype)[: a.size] if info.min < 0 else \
        np.array([2, 0, 0, 7, 3], dtype=dtype)
    with np.errstate(all="ignore"):
        want = [np.floor_divide(a, b), np.mod(a, b)]
    for mode, got in run_all(fns, a, b).items():
        assert_matches(got[0], want[0])
        assert_matches(got[1], want[1])


def test_integer_power_and_negative_exponent():
    a_var, b_var = T.lvector("a"), T.lvector("b")
    fns = compile_modes([a_var, b_var], a_var ** b_var)
    a = np.array([2, -3, 0, 7, 1, -1, 10])
    b = np.array([10, 3, 0, 5, 62, 7, 18])
    for got in run_all(fns, a, b).values():
        assert_matches(got, np.power(a, b))
    for f in fns.values():
        with pytest.raises(ValueError, match="negative integer powers"):
            f(np.array([2, 3]), np.array([1, -1]))


@pytest.mark.parametrize("src,dst", [
    ("float64", "float32"), ("float32", "float64"), ("float64", "int32"), ("int64", "float32"),
    ("int32", "int8"), ("int8", "int64"), ("uint8", "int16"), ("bool", "float64"), ("float64", "bool"),
    ("int64", "uint8"), ("int32", "bool")])
def test_cast(src, dst):
    x = T.tensor(src, shape=(None,), name="x")
    fns = compile_modes([x], T.cast(x, dst))
    rng = np.random.default_rng(3)
    a = _values(rng, (37,), src, -100, 100)
    for got in run_all(fns, a).values():
        assert_matches(got, a.astype(dst))


def test_switch_and_clip():
    c, a, b = T.bvector("c"), T.dmatrix("a"), T.drow("b")
    fns = compile_modes([c, a, b], [T.switch(c, a, b), T.clip(a, -0.5, 0.5), T.isnan(a), T.isinf(a)])
    rng = np.random.default_rng(0)
    cv = rng.integers(0, 2, 6).astype(np.int8)
    av = rng.standard_normal((4, 6))
    av[0, 0], av[1, 1] = np.nan, np.inf
    bv = rng.standard_normal((1, 6))
    for got in run_all(fns, cv, av, bv).values():
        assert_matches(got[0], np.where(cv != 0, av, bv))
        assert_matches(got[1], np.clip(av, -0.5, 0.5))
        assert_matches(got[2], np.isnan(av))
        assert_matches(got[3], np.isinf(av))


def test_weak_python_scalars_keep_float32():
    x = T.fvector("x")
    y = x * 2.5 + 1
    assert y.dtype == "float32"
    f = symcomp.function([x], y)
    a = np.arange(5, dtype=np.float32)
    assert_matches(f(a), a * np.float32(2.5) + np.float32(1))


def test_mixed_dtype_promotion_follows_numpy():
    a, b = T.ivector("a"), T.fvector("b")
    out = a + b
    assert out.dtype == np.result_type(np.int32, np.float32).name
    f = symcomp.function([a, b], [out, a / a, a // 2])
    av = np.array([1, 2, 3], np.int32)
    bv = np.array([0.5, 0.25, 1], np.float32)
    got = f(av, bv)
    assert_matches(got[0], av + bv)
    assert_matches(got[1], av / av)
    assert_matches(got[2], av // 2)
