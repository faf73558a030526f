"""Dot (matrix, vector) and PyTensor's BLAS forms (Gemm, Gemv, Ger: made by the C rewrites, given
here as nodes) through mode="SYMCOMP" equal PyTensor's default mode; gradients too."""

from __future__ import annotations

import numpy as np
import pytest

pytensor = pytest.importorskip("pytensor")

import hypothesis.extra.numpy as hnp  # noqa: E402
import pytensor.tensor as pt  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402
from pytensor.tensor.blas import gemm_no_inplace, gemv_no_inplace, ger  # noqa: E402

from pytensor_helpers import both, check  # noqa: E402


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@settings(max_examples=10)
@given(data=st.data())
def test_dot_gemm_gemv_ger_and_gradient(dtype, data):
    n, k, m = (data.draw(st.integers(1, 6)) for _ in range(3))
    arr = lambda shape: data.draw(hnp.arrays("float64", shape, elements=st.floats(-2, 2))).astype(dtype)  # noqa: E731
    a, b, c, u, w = arr((n, k)), arr((k, m)), arr((n, m)), arr((k,)), arr((n,))

    def build():
        A, B, C = (pt.tensor(s, dtype=dtype, shape=(None, None)) for s in "ABC")
        U, W = pt.tensor("u", dtype=dtype, shape=(None,)), pt.tensor("w", dtype=dtype, shape=(None,))
        half = np.asarray(0.5, dtype)
        cost = (pt.dot(A, B) ** 2).sum() + pt.dot(A, U).sum()
        return [A, B, C, U, W], [pt.dot(A, B), pt.dot(A, U), pt.dot(U, B), pt.dot(U, U),
                                 gemm_no_inplace(C, half, A, B, half), gemv_no_inplace(W, half, A, U, half),
                                 ger(C, half, W, pt.dot(U, B)), *pytensor.grad(cost, [A, U])]

    check(both(("linalg", dtype), build), a, b, c, u, w,
          **({"rtol": 1e-4, "atol": 1e-4} if dtype == "float32" else {}))
