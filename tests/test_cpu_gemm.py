"""sc.gemm and the cpu-gemm-fold pass: alpha*dot(A,B) + beta*C as one BLAS call."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.compile.trace import trace
from symcomp.ir.opdef import build
from symcomp.ir.ops.linalg import Gemm
from symcomp.passes import PassManager, parse_pipeline

from helpers import example

A, B, C = T.dmatrix("A"), T.dmatrix("B"), T.dmatrix("C")
row, col = T.tensor("float64", (1, None), "row"), T.tensor("float64", (None, 1), "col")

RULES = [
    ("dot+C", lambda a, b, c: T.dot(a, b) + c, lambda a, b, c: a @ b + c),
    ("C+dot", lambda a, b, c: c + T.dot(a, b), lambda a, b, c: c + a @ b),
    ("k*dot+k*C", lambda a, b, c: 2.5 * T.dot(a, b) + 0.5 * c, lambda a, b, c: 2.5 * (a @ b) + 0.5 * c),
    ("C-k*dot", lambda a, b, c: c - 0.1 * T.dot(a, b), lambda a, b, c: c - 0.1 * (a @ b)),
    ("dot-C", lambda a, b, c: T.dot(a, b) - c, lambda a, b, c: a @ b - c),
    ("k*C-dot", lambda a, b, c: 3.0 * c - T.dot(a, b), lambda a, b, c: 3.0 * c - a @ b),
]


def _ops_after_fold(inputs, out):
    module, _ = trace(inputs, [out])
    PassManager(parse_pipeline("cpu-gemm-fold")).run(module)
    return [o.name for o in module.func().body.ops]


@pytest.mark.parametrize("name,sym,ref", RULES, ids=[r[0] for r in RULES])
def test_rule_folds_and_matches_numpy(name, sym, ref, rng):
    names = _ops_after_fold([A, B, C], sym(A, B, C))
    assert names.count("sc.gemm") == 1 and "sc.dot" not in names and "sc.add" not in names
    f = symcomp.function([A, B, C], sym(A, B, C))
    a, b, c = rng.random((7, 5)), rng.random((5, 9)), rng.random((7, 9))
    np.testing.assert_allclose(f(a, b, c), ref(a, b, c), rtol=1e-13)


@given(m=st.integers(0, 9), k=st.integers(0, 9), n=st.integers(0, 9), layout=st.sampled_from(["C", "F", "strided"]),
       addend=st.sampled_from(["full", "row", "col"]), dtype=st.sampled_from(["float64", "float32"]))
def test_any_shape_layout_and_broadcast(m, k, n, layout, addend, dtype):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a, b = rng.random((m, k)).astype(dtype), rng.random((k, n)).astype(dtype)
    if layout == "F":
        a, b = np.asfortranarray(a), np.asfortranarray(b)
    elif layout == "strided":
        a, b = np.repeat(a, 2, axis=1)[:, ::2], np.repeat(b, 3, axis=0)[::3]
    cshape = {"full": (m, n), "row": (1, n), "col": (m, 1)}[addend]
    c = rng.random(cshape).astype(dtype)
    f = _fn(dtype, addend)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(f(a, b, c), 0.5 * (a @ b) - 2.0 * c, rtol=tol, atol=tol)


_cache: dict = {}


def _fn(dtype, addend):
    key = (dtype, addend)
    if key not in _cache:
        a, b = T.tensor(dtype, (None, None), "a"), T.tensor(dtype, (None, None), "b")
        c = T.tensor(dtype, {"full": (None, None), "row": (1, None), "col": (None, 1)}[addend], "c")
        _cache[key] = symcomp.function([a, b, c], 0.5 * T.dot(a, b) - 2.0 * c)
    return _cache[key]


def test_bias_row_before_an_activation_is_left_for_fuse(rng):
    """tanh(dot + bias row): the bias is added in tanh's fused pass, not by a beta*C fill."""
    b = T.dvector("b")
    f = symcomp.function([A, B, b], T.tanh(T.dot(A, B) + b))
    a, w, bias = rng.random((6, 4)), rng.random((4, 3)), rng.random(3)
    np.testing.assert_allclose(f(a, w, bias), np.tanh(a @ w + bias), rtol=1e-14)
    assert "sc.gemm" not in _ops_after_fold([A, B, b], T.tanh(T.dot(A, B) + b))
    ops = [o for o in f.module.func().body.ops if o.name in ("sc.dot", "sc.gemm", "sc.fused")]
    assert [o.name for o in ops] == ["sc.dot", "sc.fused"]
    assert {o.name for o in ops[1].body.ops} >= {"sc.add", "sc.tanh"}


def test_bias_row_is_folded_where_nothing_elementwise_follows(rng):
    b = T.dvector("b")
    assert "sc.gemm" in _ops_after_fold([A, B, b], T.nnet.softmax(T.dot(A, B) + b))
    assert "sc.gemm" in _ops_after_fold([A, B, b], T.dot(A, B) + b)
    assert "sc.gemm" in _ops_after_fold([A, B, C], T.tanh(T.dot(A, B) + C))  # a full addend: gemm reads it once
    f = symcomp.function([A, B, b], T.nnet.softmax(T.dot(A, B) + b))
    a, w, bias = rng.random((6, 4)), rng.random((4, 3)), rng.random(3)
    z = a @ w + bias
    want = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(f(a, w, bias), want / want.sum(1, keepdims=True), rtol=1e-13)


def test_not_folded_when_the_product_is_used_twice():
    d = T.dot(A, B)
    names = _ops_after_fold([A, B, C], [d + C, d * 2.0][0] + d)
    assert "sc.gemm" in names or names.count("sc.dot") == 1  # the dot is computed once in any case
    names = _ops_after_fold([A, B, C], (d + C) * d)
    assert "sc.gemm" not in names and names.count("sc.dot") == 1


def test_not_folded_for_integers_or_when_the_addend_stretches_the_product():
    ia, ib, ic = T.lmatrix("ia"), T.lmatrix("ib"), T.lmatrix("ic")
    assert "sc.gemm" not in _ops_after_fold([ia, ib, ic], T.dot(ia, ib) + ic)
    thin = T.tensor("float64", (1, None), "thin")  # product (1, n) + (m, n) broadcasts the product
    assert "sc.gemm" not in _ops_after_fold([thin, B, C], T.dot(thin, B) + C)
    f = symcomp.function([thin, B, C], T.dot(thin, B) + C)
    t, b, c = np.ones((1, 2)), np.ones((2, 3)), np.ones((4, 3))
    np.testing.assert_array_equal(f(t, b, c), t @ b + c)


def test_runtime_shape_errors_name_the_op(rng):
    f = symcomp.function([A, B, C], T.dot(A, B) + C)
    with pytest.raises(ValueError, match="sc.gemm"):
        f(rng.random((3, 2)), rng.random((2, 4)), rng.random((3, 5)))


def test_mlp_updates_become_gemms():
    step, _, _ = example("mlp_digits").build(8, 16, 3, 0.5, "tanh", "cpu")
    text = str(step.module)  # the module as the CPU backend compiled it
    # forward: X@W1 stays a dot (b1 is added in tanh's fused pass), h@W2 + b2 a gemm (softmax follows);
    # updates: W1 - lr*(X^T@dH), W2 - lr*(h^T@dz); dz@W2^T stays a dot
    assert text.count("sc.gemm") == 3 and text.count("sc.dot") == 2


def test_gemm_gradient_by_finite_differences(rng):
    def fn(a, b, c):
        return build(Gemm, [a, b, c], alpha=1.5, beta=-0.5)

    symcomp.verify_grad(fn, [rng.random((3, 4)), rng.random((4, 2)), rng.random((3, 2))], rng=rng)
