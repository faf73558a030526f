"""Elemwise over PyTensor's scalar ops (and Composite, casts) through mode="SYMCOMP" equals PyTensor's
default mode, on hypothesis shapes and dtypes; gradients compiled through the linker equal PyTensor's."""

from __future__ import annotations

import numpy as np
import pytest

pytensor = pytest.importorskip("pytensor")

import hypothesis.extra.numpy as hnp  # noqa: E402
import pytensor.tensor as pt  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from pytensor_helpers import both, check  # noqa: E402

FLOATS = ["float64", "float32"]

# op, domain (low, high) of the inputs
UNARY = {
    "exp": (pt.exp, (-20, 20)), "expm1": (pt.expm1, (-20, 20)), "exp2": (pt.exp2, (-20, 20)),
    "log": (pt.log, (1e-3, 50)), "log2": (pt.log2, (1e-3, 50)), "log10": (pt.log10, (1e-3, 50)),
    "log1p": (pt.log1p, (-0.9, 50)), "sqrt": (pt.sqrt, (0, 50)), "sqr": (pt.sqr, (-10, 10)),
    "neg": (pt.neg, (-10, 10)), "abs": (pt.abs, (-10, 10)), "sign": (pt.sign, (-10, 10)),
    "floor": (pt.floor, (-10, 10)), "ceil": (pt.ceil, (-10, 10)), "trunc": (pt.trunc, (-10, 10)),
    "round": (pt.round, (-10, 10)), "reciprocal": (pt.reciprocal, (0.1, 10)),
    "sin": (pt.sin, (-10, 10)), "cos": (pt.cos, (-10, 10)), "tan": (pt.tan, (-1.5, 1.5)),
    "arcsin": (pt.arcsin, (-1, 1)), "arccos": (pt.arccos, (-1, 1)), "arctan": (pt.arctan, (-10, 10)),
    "sinh": (pt.sinh, (-10, 10)), "cosh": (pt.cosh, (-10, 10)), "tanh": (pt.tanh, (-10, 10)),
    "arcsinh": (pt.arcsinh, (-10, 10)), "arccosh": (pt.arccosh, (1, 10)), "arctanh": (pt.arctanh, (-0.99, 0.99)),
    "deg2rad": (pt.deg2rad, (-360, 360)), "rad2deg": (pt.rad2deg, (-7, 7)),
    "erf": (pt.erf, (-5, 5)), "erfc": (pt.erfc, (-5, 20)), "erfcx": (pt.erfcx, (-5, 40)),
    "gammaln": (pt.gammaln, (0.01, 50)), "psi": (pt.psi, (0.01, 50)),
    "sigmoid": (pt.sigmoid, (-30, 30)), "softplus": (pt.softplus, (-30, 30)),
    "log1mexp": (pt.log1mexp, (-30, -1e-3)), "log1pexp": (pt.log1pexp, (-30, 30)),
    "isnan": (pt.isnan, (-10, 10)), "isinf": (pt.isinf, (-10, 10)),
}
BINARY = {
    "add": pt.add, "sub": pt.sub, "mul": pt.mul, "true_div": pt.true_div, "maximum": pt.maximum,
    "minimum": pt.minimum, "arctan2": pt.arctan2, "lt": pt.lt, "le": pt.le, "gt": pt.gt, "ge": pt.ge,
    "eq": pt.eq, "neq": pt.neq, "pow": pt.pow, "mod": pt.mod, "int_div": pt.int_div,
}
INT_BINARY = {"add": pt.add, "sub": pt.sub, "mul": pt.mul, "int_div": pt.int_div, "mod": pt.mod,
              "maximum": pt.maximum, "and": pt.bitwise_and, "or": pt.bitwise_or, "xor": pt.bitwise_xor,
              "true_div": pt.true_div}

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)


def _data(draw, shape, dtype, lo, hi):
    return draw(hnp.arrays("float64", shape, elements=st.floats(lo, hi))).astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8)
@given(data=st.data())
def test_unary(name, dtype, data):
    fn, (lo, hi) = UNARY[name]
    shape = data.draw(shapes)
    x = _data(data.draw, shape, dtype, lo, hi)
    fs = both(("unary", name, dtype, len(shape)), lambda: ([v := pt.tensor("x", dtype=dtype, shape=(None,) * len(shape))],
                                                             [fn(v)]))
    # PyTensor's C digamma is good to about 1e-10 (symcomp's to 1e-15: psi(1) = -0.5772156649015323 vs
    # PyTensor's -0.5772156649961839; Euler's constant is 0.57721566490153286...).
    f64 = {"rtol": 1e-9, "atol": 1e-9} if name == "psi" else {"rtol": 1e-10, "atol": 1e-11}
    check(fs, x, **({"rtol": 1e-4, "atol": 1e-4} if dtype == "float32" else f64))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=8)
@given(data=st.data())
def test_binary_broadcasting(name, dtype, data):
    """Operands (n, m) and (1, m): PyTensor's broadcastable axis reaches symcomp as a static 1."""
    n, m = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    x = _data(data.draw, (n, m), dtype, 0.5, 5)
    y = _data(data.draw, (1, m), dtype, 0.5, 5)

    def build():
        a = pt.tensor("a", dtype=dtype, shape=(None, None))
        b = pt.tensor("b", dtype=dtype, shape=(1, None))
        return [a, b], [BINARY[name](a, b)]

    check(both(("binary", name, dtype), build), x, y, **({"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {}))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
@pytest.mark.parametrize("name", sorted(INT_BINARY))
@settings(max_examples=8)
@given(data=st.data())
def test_integer_binary(name, dtype, data):
    shape = data.draw(shapes)
    info = np.iinfo(dtype)
    x = data.draw(hnp.arrays(dtype, shape, elements=st.integers(max(info.min, -50), min(info.max, 50))))
    y = data.draw(hnp.arrays(dtype, shape, elements=st.integers(1, min(info.max, 50))))

    def build():
        a = pt.tensor("a", dtype=dtype, shape=(None,) * len(shape))
        b = pt.tensor("b", dtype=dtype, shape=(None,) * len(shape))
        return [a, b], [INT_BINARY[name](a, b)]

    check(both(("int", name, dtype, len(shape)), build), x, y)


@settings(max_examples=8)
@given(data=st.data())
def test_switch_clip_casts_and_mixed_dtypes(data):
    """switch, clip, casts, an int32 and float32 sum (PyTensor's upcast) and a Composite of them."""
    shape = data.draw(shapes)
    x = _data(data.draw, shape, "float32", -5, 5)
    k = data.draw(hnp.arrays("int32", shape, elements=st.integers(-100, 100)))

    def build():
        a = pt.tensor("a", dtype="float32", shape=(None,) * len(shape))
        b = pt.tensor("b", dtype="int32", shape=(None,) * len(shape))
        return [a, b], [pt.switch(a > 0, a * 2, pt.exp(a)), pt.clip(a, -1, 1), pt.cast(a, "int16"),
                        a + b, pt.cast(b, "float64") / 3, pt.log1p(pt.exp(a)) * (b > 0)]

    check(both(("mixed", len(shape)), build), x, k, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid", "softplus", "gammaln", "erfcx", "log1mexp", "sqrt"])
@settings(max_examples=8)
@given(data=st.data())
def test_gradient_through_the_linker(name, data):
    """pytensor.grad's graph (psi for gammaln, etc.) compiled by symcomp equals PyTensor's."""
    fn, (lo, hi) = UNARY[name]
    x = _data(data.draw, (data.draw(st.integers(1, 6)),), "float64", max(lo, -20), min(hi, 20))

    def build():
        v = pt.dvector("x")
        cost = (fn(v) * pt.linspace(0.5, 1.5, 6)[: v.shape[0]]).sum()
        return [v], [cost, pytensor.grad(cost, v)]

    check(both(("grad", name), build), x, rtol=1e-9, atol=1e-10)
