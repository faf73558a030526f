"""``T.jacobian``, ``T.hessian``, ``T.Rop``, ``T.Lop`` (Theano's "Derivatives in Theano" tutorial)
against closed forms and NumPy."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.gradient import Rop, hessian, jacobian


@pytest.mark.parametrize("mode", ["reference", "fast"])
def test_jacobian_and_hessian(mode):
    x = T.dvector("x")
    y = x ** 2
    J = symcomp.function([x], T.jacobian(y, x), mode=mode)
    np.testing.assert_allclose(J([4, 4]), [[8, 0], [0, 8]])
    cost = (x ** 3).sum()
    H = symcomp.function([x], T.hessian(cost, x), mode=mode)
    np.testing.assert_allclose(H([1.0, 2.0, 3.0]), np.diag([6.0, 12.0, 18.0]))
    # Theano's theano.gradient path gives the same graphs' values
    both = symcomp.function([x], [jacobian(y, x), hessian(cost, x)], mode=mode)([1.0, 2.0, 3.0])
    np.testing.assert_allclose(both[0], np.diag([2.0, 4.0, 6.0]))
    np.testing.assert_allclose(both[1], np.diag([6.0, 12.0, 18.0]))


def test_jacobian_of_matrix_product_wrt_list():
    W = T.dmatrix("W")
    v = T.dvector("v")
    y = T.tanh(T.dot(W, v))
    Jw, Jv = T.jacobian(y, [W, v])
    f = symcomp.function([W, v], [Jw, Jv])
    rng = np.random.default_rng(0)
    Wv, vv = rng.normal(size=(3, 2)), rng.normal(size=2)
    jw, jv = f(Wv, vv)
    s = 1 - np.tanh(Wv @ vv) ** 2
    np.testing.assert_allclose(jv, s[:, None] * Wv)
    want_w = np.zeros((3, 3, 2))
    for i in range(3):
        want_w[i, i, :] = s[i] * vv
    np.testing.assert_allclose(jw, want_w)


def test_rop_tutorial():
    W = T.dmatrix("W")
    V = T.dmatrix("V")
    x = T.dvector("x")
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    f = symcomp.function([W, V, x], JV)
    np.testing.assert_allclose(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2.0, 2.0])


def test_lop_tutorial():
    W = T.dmatrix("W")
    v = T.dvector("v")
    x = T.dvector("x")
    y = T.dot(x, W)
    VJ = T.Lop(y, W, v)
    f = symcomp.function([v, x], VJ)
    np.testing.assert_allclose(f([2, 2], [0, 1]), [[0.0, 0.0], [2.0, 2.0]])


def test_rop_nonlinear_against_finite_differences():
    x = T.dvector("x")
    v = T.dvector("v")
    y = T.sin(x) * x.sum()
    f = symcomp.function([x, v], Rop(y, x, v))
    g = symcomp.function([x], y)
    xv, vv, eps = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0]), 1e-6
    np.testing.assert_allclose(f(xv, vv), (g(xv + eps * vv) - g(xv - eps * vv)) / (2 * eps), rtol=1e-6)


def test_rop_disconnected():
    x, z = T.dvector("x"), T.dvector("z")
    with pytest.raises(ValueError, match="does not depend"):
        T.Rop(z * 2, x, x)
    out = T.Rop(z * 2, x, x, disconnected_outputs="ignore")
    assert out is not None
