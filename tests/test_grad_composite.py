"""Gradients of composite and numerically stabilized forms (symcomp.verify_grad against central finite
differences, float64, points drawn by hypothesis), and their values and gradients at extreme inputs
against closed forms.  tests/test_grad.py covers every differentiable op alone."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import expit

import symcomp
from symcomp import tensor as T

EXAMPLES = 6  # per form: each example compiles two functions

nnet = T.nnet


def _logsumexp_naive(x):
    return T.log(T.sum(T.exp(x), axis=-1))


def _logsumexp_stable(x):
    m = T.max(x, axis=-1, keepdims=True)
    return T.squeeze(m, -1) + T.log(T.sum(T.exp(x - m), axis=-1))


def _onehot(labels, k):
    return np.eye(k)[labels]


# name -> (function of the symbolic inputs, value range of the points)
FORMS = {
    "log_softmax": (lambda x: nnet.log_softmax(x), 30.0),
    "log(softmax) naive": (lambda x: T.log(nnet.softmax(x)), 5.0),
    "softplus": (lambda x: nnet.softplus(x), 30.0),
    "log(1 + exp(x)) naive": (lambda x: T.log(1.0 + T.exp(x)), 5.0),
    "log(sigmoid(x))": (lambda x: T.log(nnet.sigmoid(x)), 5.0),
    "log(1 - sigmoid(x))": (lambda x: T.log(1 - nnet.sigmoid(x)), 5.0),
    "log(1 - 1/(1 + exp(-x)))": (lambda x: T.log(1 - 1 / (1 + T.exp(-x))), 5.0),
    "log(1 - sigmoid(x)) + sigmoid(x)**2": (lambda x: T.log(1 - nnet.sigmoid(x)) + nnet.sigmoid(x) ** 2, 5.0),
    "logsumexp naive": (_logsumexp_naive, 5.0),
    "logsumexp stabilized": (_logsumexp_stable, 30.0),
}


def _points(limit):
    shapes = st.tuples(st.integers(1, 3), st.integers(2, 4))
    return shapes.flatmap(lambda s: hnp.arrays(np.float64, s, elements=st.floats(-limit, limit, width=64)))


def _separated(x):
    """Move entries apart so that a row maximum is unique (max is not differentiable at ties)."""
    return x + np.arange(x.size).reshape(x.shape) * 1e-3


@pytest.mark.parametrize("name", sorted(FORMS))
def test_unary_forms(name):
    fn, limit = FORMS[name]

    @settings(max_examples=EXAMPLES)
    @given(_points(limit))
    def check(x):
        symcomp.verify_grad(fn, [_separated(x)])

    check()


@settings(max_examples=EXAMPLES)
@given(_points(20.0), st.data())
def test_sigmoid_cross_entropy_stable_and_naive(z, data):
    t = data.draw(hnp.arrays(np.float64, z.shape, elements=st.floats(0.0, 1.0)))
    symcomp.verify_grad(lambda a: nnet.sigmoid_binary_crossentropy(a, t), [z])
    small = np.clip(z, -5.0, 5.0)
    symcomp.verify_grad(lambda a: nnet.binary_crossentropy(nnet.sigmoid(a), t), [small])


@settings(max_examples=EXAMPLES)
@given(_points(10.0), st.data())
def test_categorical_cross_entropy_of_softmax(x, data):
    n, k = x.shape
    labels = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=np.int64)
    symcomp.verify_grad(lambda a: nnet.categorical_crossentropy(nnet.softmax(a), labels), [x])
    symcomp.verify_grad(lambda a: nnet.categorical_crossentropy(nnet.softmax(a), _onehot(labels, k)), [x])
    symcomp.verify_grad(lambda a: T.mean(nnet.categorical_crossentropy(nnet.softmax(a), labels)), [x])


def test_stable_forms_at_extreme_inputs_match_closed_forms():
    """At |x| = 1000 the naive formulas overflow; the stable ones give the exact value and gradient."""
    xv = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -999.0, -1001.0]])
    x = T.dmatrix("x")
    ls = nnet.log_softmax(x)
    lse = _logsumexp_stable(x)
    sp = nnet.softplus(x)
    f = symcomp.function([x], [ls, T.grad(T.sum(ls[:, 0]), x), lse, T.grad(T.sum(lse), x), sp, T.grad(T.sum(sp), x)])
    got = f(xv)
    m = xv.max(axis=1, keepdims=True)
    want_lse = (m + np.log(np.exp(xv - m).sum(axis=1, keepdims=True)))[:, 0]
    softmax = np.exp(xv - want_lse[:, None])
    onehot0 = np.zeros_like(xv)
    onehot0[:, 0] = 1.0
    want = [xv - want_lse[:, None], onehot0 - softmax, want_lse, softmax,
            np.logaddexp(0.0, xv), expit(xv)]
    for g, w in zip(got, want):
        assert np.all(np.isfinite(g))
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-300)
