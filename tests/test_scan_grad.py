"""Gradients through ``scan`` (backpropagation through time) against finite differences
(``symcomp.verify_grad``) and against the same loop unrolled in NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symcomp
from symcomp import tensor as T

MODES = ["reference", "fast"]


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def rnn(x, h0, W, U):
    out, _ = symcomp.scan(lambda x_t, h, W, U: T.tanh(T.dot(x_t, W) + T.dot(h, U)),
                          sequences=x, outputs_info=h0, non_sequences=[W, U])
    return out


def test_rnn_grad_all_inputs(mode):
    rng = np.random.default_rng(0)
    pt = [rng.normal(size=(5, 3)), rng.normal(size=4), rng.normal(size=(3, 4)) * 0.5, rng.normal(size=(4, 4)) * 0.5]
    symcomp.verify_grad(lambda x, h0, W, U: rnn(x, h0, W, U), pt, mode=mode, rng=np.random.default_rng(1))


def test_grad_of_last_state_matches_unrolled():
    rng = np.random.default_rng(3)
    xv, h0v, Wv, Uv = rng.normal(size=(6, 2)), rng.normal(size=3), rng.normal(size=(2, 3)), rng.normal(size=(3, 3))
    x, h0, W, U = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W"), T.dmatrix("U")
    cost = rnn(x, h0, W, U)[-1].sum()
    unrolled = h0
    for t in range(6):
        unrolled = T.tanh(T.dot(x[t], W) + T.dot(unrolled, U))
    want = T.grad(unrolled.sum(), [x, h0, W, U])
    got = T.grad(cost, [x, h0, W, U])
    f = symcomp.function([x, h0, W, U], got + want)
    res = f(xv, h0v, Wv, Uv)
    for g, w in zip(res[:4], res[4:]):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_grad_with_taps(mode):
    def fn(x, init, a):
        out, _ = symcomp.scan(lambda xm1, x0, h2, h1, a: a * h2 + T.sin(h1) * x0 + xm1,
                              sequences=dict(input=x, taps=[-1, 0]),
                              outputs_info=dict(initial=init, taps=[-2, -1]), non_sequences=a)
        return out

    rng = np.random.default_rng(5)
    symcomp.verify_grad(fn, [rng.normal(size=7), rng.normal(size=2), np.array(0.7)], mode=mode,
                        rng=np.random.default_rng(2))


def test_grad_nitsot_and_go_backwards(mode):
    def fn(x, w):
        ys, _ = symcomp.scan(lambda v, w: T.exp(v * w), sequences=x, non_sequences=w, go_backwards=True)
        return ys * T.arange(ys.shape[0])

    rng = np.random.default_rng(6)
    symcomp.verify_grad(fn, [rng.normal(size=5), np.array(0.3)], mode=mode, rng=np.random.default_rng(3))


def test_truncate_gradient():
    x, h0, a = T.dvector("x"), T.dscalar("h0"), T.dscalar("a")
    out, _ = symcomp.scan(lambda x_t, h, a: a * h + x_t, sequences=x, outputs_info=h0, non_sequences=a,
                          truncate_gradient=2)
    g = symcomp.function([x, h0, a], T.grad(out[-1], [x, h0]))
    gx, gh0 = g(np.ones(5), 1.0, 0.5)
    # d h_4 / d x_t = a^(4-t), kept for the last two steps only
    np.testing.assert_allclose(gx, [0, 0, 0, 0.5, 1.0])
    assert float(gh0) == 0.0


def test_second_order(mode):
    x, a = T.dvector("x"), T.dscalar("a")
    out, _ = symcomp.scan(lambda x_t, h, a: a * h * h + x_t, sequences=x, outputs_info=T.constant(0.1),
                          non_sequences=a)
    ga = T.grad(out[-1], a)
    gga = T.grad(ga, a)
    f = symcomp.function([x, a], gga, mode=mode)
    xv, av, eps = np.array([0.1, -0.2, 0.3]), 0.4, 1e-5
    g1 = symcomp.function([x, a], ga, mode=mode)
    fd = (g1(xv, av + eps) - g1(xv, av - eps)) / (2 * eps)
    np.testing.assert_allclose(f(xv, av), fd, rtol=1e-6)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 4), back=st.booleans(), trunc=st.sampled_from([-1, 1, 3]))
def test_hypothesis_steps(n, back, trunc):
    x, h0 = T.dvector("x"), T.dscalar("h0")
    out, _ = symcomp.scan(lambda x_t, h: 0.5 * h + x_t * x_t, sequences=x, outputs_info=h0, go_backwards=back,
                          truncate_gradient=trunc)
    cost = out.sum() + h0
    f = symcomp.function([x, h0], [out, T.grad(cost, x)])
    xv = np.arange(1.0, n + 1.0)
    got, gx = f(xv, 2.0)
    seq = xv[::-1] if back else xv
    h, want = 2.0, []
    for v in seq:
        h = 0.5 * h + v * v
        want.append(h)
    np.testing.assert_allclose(got, want)
    assert got.shape == (n,)
    # d(sum out)/d x_t (in iteration order): 2 x_t * sum_{s >= t, s - t < trunc} 0.5^(s - t)
    gs = []
    for t in range(n):
        lim = n if trunc < 0 else min(n, t + trunc)
        k = n - t if trunc < 0 else None
        del k
        lo = max(t, n - trunc) if trunc >= 0 else t
        gs.append(2 * seq[t] * sum(0.5 ** (s - t) for s in range(t, n) if s >= lo) if t >= (n - trunc if trunc >= 0 else 0) else 0.0)
        del lim
    want_gx = np.array(gs)[::-1] if back else np.array(gs)
    np.testing.assert_allclose(gx, want_gx if n else np.zeros(0))
