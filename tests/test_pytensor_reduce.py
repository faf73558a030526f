"""CAReduce families, Argmax, Softmax/LogSoftmax (and their gradients) through mode="SYMCOMP" equal
PyTensor's default mode on hypothesis shapes and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

pytensor = pytest.importorskip("pytensor")

import hypothesis.extra.numpy as hnp  # noqa: E402
import pytensor.tensor as pt  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from pytensor_helpers import both, check  # noqa: E402

REDUCE = {"sum": pt.sum, "prod": pt.prod, "max": pt.max, "min": pt.min, "mean": pt.mean, "all": pt.all,
          "any": pt.any, "argmax": pt.argmax, "logsumexp": pt.logsumexp}


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("name", sorted(REDUCE))
@settings(max_examples=5)
@given(data=st.data())
def test_reductions(name, axis, dtype, data):
    if name == "logsumexp" and dtype == "int64" or name == "argmax" and isinstance(axis, tuple):
        pytest.skip("not defined by PyTensor for these arguments")
    shape = data.draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=5))
    x = data.draw(hnp.arrays("float64", shape, elements=st.floats(-3, 3))).astype(dtype)

    def build():
        v = pt.tensor("x", dtype=dtype, shape=(None,) * len(shape))
        return [v], [REDUCE[name](v, axis=axis)]

    check(both(("reduce", name, axis, dtype, len(shape)), build), x,
          **({"rtol": 1e-5, "atol": 1e-5} if dtype == "float32" else {}))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, -1])
@settings(max_examples=8)
@given(x=hnp.arrays("float64", hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=st.floats(-30, 30)))
def test_softmax_and_gradient(fn, axis, x):
    w = np.linspace(-1, 1, x.size).reshape(x.shape)

    def build():
        v = pt.dmatrix("x")
        y = getattr(pt.special, fn)(v, axis=axis)
        cost = (y * w).sum()
        return [v], [y, pytensor.grad(cost, v)]

    check(both(("softmax", fn, axis), build), x)


@pytest.mark.parametrize("axis", [None, 0, 1])
@settings(max_examples=8)
@given(x=hnp.arrays("float64", hnp.array_shapes(min_dims=2, max_dims=2, max_side=6), elements=st.floats(-9, 9)))
def test_cumsum_and_gradient(axis, x):
    def build():
        v = pt.dmatrix("x")
        c = pt.cumsum(v, axis=axis)
        return [v], [c, pytensor.grad((c * c).sum(), v)]

    check(both(("cumsum", axis), build), x)
