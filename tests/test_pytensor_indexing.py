"""Subtensor, IncSubtensor and the advanced forms (integer arrays, their set/inc with repeated indices)
through mode="SYMCOMP" equal PyTensor's default mode; boolean masks run on PyTensor, reported."""

from __future__ import annotations

import numpy as np
import pytest

pytensor = pytest.importorskip("pytensor")

import hypothesis.extra.numpy as hnp  # noqa: E402
import pytensor.tensor as pt  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

import symcomp.pytensor as sp  # noqa: E402
from pytensor_helpers import both, check  # noqa: E402


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
@settings(max_examples=10)
@given(data=st.data())
def test_basic_indexing(dtype, data):
    n, m = data.draw(st.integers(3, 6)), data.draw(st.integers(3, 6))
    x = data.draw(hnp.arrays(dtype, (n, m), elements=st.integers(-9, 9)))
    i = np.int64(data.draw(st.integers(-min(n, m), min(n, m) - 1)))

    def build():
        v = pt.tensor("x", dtype=dtype, shape=(None, None))
        k = pt.lscalar("k")
        return [v, k], [v[1:, ::2], v[k], v[:, -1], v[k, 1:-1], v[::-1, 1],
                        pt.set_subtensor(v[1:3], 0), pt.inc_subtensor(v[:, k], v[:, 0]), v[None, 1]]

    check(both(("basic", dtype), build), x, i)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@settings(max_examples=10)
@given(data=st.data())
def test_advanced_indexing(dtype, data):
    n = data.draw(st.integers(1, 6))
    x = data.draw(hnp.arrays(dtype, (n, 3), elements=st.integers(-9, 9)))
    idx = data.draw(hnp.arrays("int64", data.draw(st.integers(1, 8)), elements=st.integers(-n, n - 1)))

    def build():
        v = pt.tensor("x", dtype=dtype, shape=(None, 3))
        i = pt.lvector("i")
        return [v, i], [v[i], v[i, 1:], pt.inc_subtensor(v[i], 1), pt.set_subtensor(v[i], -1), v[i, i % 3],
                        pt.inc_subtensor(v[i, i % 3], 2)]

    check(both(("advanced", dtype), build), x, idx)


def test_boolean_mask_falls_back_and_is_reported():
    v = pt.dvector("x")
    f = pytensor.function([v], (v[v > 0] ** 2).sum() + pt.exp(v).sum(), mode="SYMCOMP")
    x = np.array([-1.0, 2.0, 3.0])
    assert np.isclose(f(x), 13 + np.exp(x).sum())
    rep = sp.report(f)
    assert rep.fallback and any("AdvancedSubtensor" in n for n, _ in rep.fallback), str(rep)
    assert rep.compiled
