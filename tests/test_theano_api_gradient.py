"""``symcomp.gradient``'s helpers (issue 22, part 1): ``zero_grad``, ``disconnected_grad``,
``grad_clip``, ``grad_scale``, ``Lop``, checked against finite differences.

Reference: Theano 1.0 ``theano/gradient.py`` (``ZeroGrad.grad`` returns zeros,
``DisconnectedGrad`` has ``connection_pattern [[False]]``, ``GradClip.grad`` clips, ``GradScale``
multiplies, ``Lop`` is ``grad(cost=None, known_grads=...)``); ``grad_clip``'s docstring example
``print(f(2.0))`` gives ``[array(1.0), array(4.0)]``.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import symcomp
from symcomp import tensor as T
from symcomp.gradient import (
    DisconnectedInputError, Lop, consider_constant, disconnected_grad, grad, grad_clip, grad_scale, zero_grad,
)

VECTORS = hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-3, 3))


def numeric_grad(fn, x, eps=1e-6):
    """Central differences of the scalar ``fn`` at ``x``."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (fn(x + d) - fn(x - d)) / (2 * eps)
    return g


@given(VECTORS)
def test_zero_grad_treats_the_expression_as_a_constant(a):
    """d/dx sum(zero_grad(x**2) * x) is the derivative of sum(c * x) with c = x0**2 frozen."""
    x = T.dvector("x")
    cost = T.sum(zero_grad(x ** 2) * x)
    f = symcomp.function([x], [cost, grad(cost, x)])
    value, g = f(a)
    assert value == pytest.approx(np.sum(a ** 3))
    c = a ** 2
    np.testing.assert_allclose(g, numeric_grad(lambda v: np.sum(c * v), a), rtol=1e-6, atol=1e-8)


def test_zero_grad_keeps_the_input_connected():
    x = T.dvector("x")
    g = symcomp.function([x], grad(T.sum(zero_grad(x)), x))(np.ones(3))
    np.testing.assert_array_equal(g, np.zeros(3))


@given(VECTORS)
def test_disconnected_grad_truncates(a):
    x = T.dvector("x")
    cost = T.sum(disconnected_grad(T.exp(x)) * T.sin(x))
    g = symcomp.function([x], grad(cost, x))(a)
    c = np.exp(a)
    np.testing.assert_allclose(g, numeric_grad(lambda v: np.sum(c * np.sin(v)), a), rtol=1e-6, atol=1e-8)


def test_disconnected_grad_disconnects():
    """Theano: the only path to x goes through DisconnectedGrad, so x is disconnected."""
    x = T.dvector("x")
    y = disconnected_grad(x)
    with pytest.raises(DisconnectedInputError):
        grad(T.sum(y), x)
    g = grad(T.sum(y), x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(symcomp.function([x], g)(np.ones(2)), np.zeros(2))
    gy = symcomp.function([x], grad(T.sum(y * y), y))(np.array([1.0, 2.0]))  # y itself is an ordinary value
    np.testing.assert_array_equal(gy, [2.0, 4.0])


def test_grad_clip_docstring_example():
    """theano.gradient.grad_clip: z = grad(grad_clip(x, -1, 1)**2, x); z2 = grad(x**2, x); f(2.0)."""
    x = T.scalar()
    z = T.grad(grad_clip(x, -1, 1) ** 2, x)
    z2 = T.grad(x ** 2, x)
    f = symcomp.function([x], outputs=[z, z2])
    assert [float(v) for v in f(2.0)] == [1.0, 4.0]


@given(VECTORS, st.floats(0.1, 2.0))
def test_grad_clip_clips_the_finite_difference_gradient(a, bound):
    x = T.dvector("x")
    w = np.linspace(-2, 2, a.size)
    cost = T.sum(grad_clip(x, -bound, bound) ** 2 * w)
    g = symcomp.function([x], grad(cost, x))(a)
    np.testing.assert_allclose(g, np.clip(numeric_grad(lambda v: np.sum(v ** 2 * w), a), -bound, bound),
                               rtol=1e-6, atol=1e-7)


@given(VECTORS, st.floats(-3, 3))
def test_grad_scale_scales(a, m):
    x = T.dvector("x")
    g = symcomp.function([x], grad(T.sum(T.tanh(grad_scale(x, m))), x))(a)
    np.testing.assert_allclose(g, m * numeric_grad(lambda v: np.sum(np.tanh(v)), a), rtol=1e-6, atol=1e-8)


def test_the_helpers_leave_values_unchanged_and_cost_nothing():
    x = T.dvector("x")
    outs = [zero_grad(x), disconnected_grad(x), grad_clip(x, -1, 1), grad_scale(x, 3.0)]
    f = symcomp.function([x], [o * 2 for o in outs])
    a = np.array([1.5, -2.0])
    for got in f(a):
        np.testing.assert_array_equal(got, 2 * a)
    # the marker `x * 1` is gone once canonicalized: one multiplication by 2 per output remains
    assert f.dump("optimized").count("dense<1.0>") == 0
    i = T.lvector("i")
    assert zero_grad(i) is i  # integers carry no gradient: returned as they are


def test_grad_clip_bounds():
    with pytest.raises(ValueError, match="upper_bound"):
        grad_clip(T.dvector(), 1.0, -1.0)
    with pytest.raises(TypeError):
        grad_clip(T.dvector(), T.dscalar(), 1.0)


def test_consider_constant_is_deprecated_zero_grad():
    x = T.dvector("x")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = consider_constant(x)
    assert any("deprecated" in str(m.message) for m in w)
    np.testing.assert_array_equal(symcomp.function([x], grad(T.sum(y * x), x))(np.array([3.0])), [3.0])


@given(hnp.arrays(np.float64, (3,), elements=st.floats(-2, 2)), hnp.arrays(np.float64, (2,), elements=st.floats(-2, 2)))
def test_lop_is_a_vector_jacobian_product(a, v):
    """Lop(f, wrt, eval_points)[j] = sum_i eval_points[i] * d f[i] / d wrt[j]."""
    W = np.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]])
    x, e = T.dvector("x"), T.dvector("e")
    y = T.tanh(T.dot(W, x))
    got = symcomp.function([x, e], Lop(y, x, e))(a, v)
    np.testing.assert_allclose(got, numeric_grad(lambda u: v @ np.tanh(W @ u), a), rtol=1e-6, atol=1e-8)
    pair = Lop([y], [x], [e])
    assert isinstance(pair, list) and len(pair) == 1
    assert isinstance(Lop(y, (x,), e), tuple)
    with pytest.raises(ValueError):
        Lop([y, y], x, [e])


def test_verify_grad_of_xlogx():
    from symcomp.tensor.xlogx import xlogx, xlogy0

    symcomp.gradient.verify_grad(lambda v: xlogx(v), [np.array([0.3, 1.0, 2.5])])
    symcomp.gradient.verify_grad(lambda u, v: xlogy0(u, v), [np.array([0.5, 2.0]), np.array([0.7, 3.0])])
