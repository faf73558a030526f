"""Shape ops (DimShuffle, Reshape, Shape, Alloc, Join, Split, MakeVector, SpecifyShape, ARange) through
mode="SYMCOMP" equal PyTensor's default mode."""

from __future__ import annotations

import pytest

pytensor = pytest.importorskip("pytensor")

import hypothesis.extra.numpy as hnp  # noqa: E402
import pytensor.tensor as pt  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from pytensor_helpers import both, check  # noqa: E402


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@settings(max_examples=10)
@given(data=st.data())
def test_shape_ops(dtype, data):
    n, m = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    x = data.draw(hnp.arrays(dtype, (n, m), elements=st.integers(-9, 9)))

    def build():
        v = pt.tensor("x", dtype=dtype, shape=(None, None))
        return [v], [v.T, v.dimshuffle(1, "x", 0), v.reshape((-1,)), v.reshape((v.shape[1], v.shape[0])),
                     v.shape, pt.alloc(pt.cast(v.sum(), dtype), 2, v.shape[1]), pt.concatenate([v, v * 2], axis=0),
                     pt.concatenate([v, v], axis=1), pt.stack([v.sum(), v.max()]), pt.zeros_like(v) + 1,
                     pt.specify_shape(v, (None, None)) + 1, pt.arange(v.shape[0]), v.flatten()[None, :],
                     *pt.split(pt.stack([v.sum(), v.max(), v.min()]), [1, 2], axis=0)]

    check(both(("shape", dtype), build), x)


@settings(max_examples=10)
@given(x=hnp.arrays("float64", (3, 1, 4), elements=st.floats(-5, 5)))
def test_static_shapes_and_broadcasting(x):
    """A statically shaped input: DimShuffle drops the size-1 axis; static sizes reach symcomp."""

    def build():
        v = pt.tensor("x", dtype="float64", shape=(3, 1, 4))
        return [v], [v.dimshuffle(2, 0), v.squeeze(), v + v.sum(axis=0, keepdims=True)]

    check(both("static", build), x)
