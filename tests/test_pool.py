"""Pooling (symcomp.tensor.signal.pool) against a loop-per-output-element NumPy reference written
from Theano's documentation, on the reference and CPU backends; gradients (finite differences and
Theano's tie rule); errors; and the activations and batch normalization of T.nnet."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.tensor.signal.pool import max_pool_2d_same_size, pool_2d

MODES = ["reference", "fast"]
POOL_MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


def np_pool(x, ws, ignore_border, stride, pad, mode):
    """Theano's pool_2d, one output element at a time: the image is padded with ``pad`` zeros; window
    (r, c) starts at padded position (r * stride, c * stride), holds ``ws`` elements or fewer at
    the bottom/right edge (ignore_border=False), and - except for average_inc_pad - only the
    elements of the unpadded image count."""
    h, w = x.shape[-2:]
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]
    if ignore_border:
        oh, ow = (hp - ws[0]) // stride[0] + 1, (wp - ws[1]) // stride[1] + 1
    else:
        oh, ow = [((n - 1) // s + 1) if s >= k else max(0, (n - 1 - k + s) // s) + 1
                  for n, k, s in ((h, ws[0], stride[0]), (w, ws[1], stride[1]))]
    padded = np.zeros(x.shape[:-2] + (hp, wp), dtype=x.dtype)
    padded[..., pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    out = np.zeros(x.shape[:-2] + (oh, ow), dtype=x.dtype)
    for idx in np.ndindex(*x.shape[:-2]):
        for r in range(oh):
            for c in range(ow):
                rows = [i for i in range(r * stride[0], r * stride[0] + ws[0]) if i < hp]
                cols = [j for j in range(c * stride[1], c * stride[1] + ws[1]) if j < wp]
                if mode != "average_inc_pad":
                    rows = [i for i in rows if pad[0] <= i < pad[0] + h]
                    cols = [j for j in cols if pad[1] <= j < pad[1] + w]
                vals = [padded[idx + (i, j)] for i in rows for j in cols]
                if mode == "max":
                    out[idx + (r, c)] = max(vals)
                elif mode == "sum":
                    out[idx + (r, c)] = sum(vals)
                else:
                    out[idx + (r, c)] = sum(vals) / len(vals)
    return out


def _run(mode, fn, *arrays):
    syms = [T.tensor(a.dtype, shape=(None,) * a.ndim) for a in arrays]
    return symcomp.function(syms, fn(*syms), mode=mode)(*arrays)


@st.composite
def pool_case(draw):
    ws = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ignore_border = draw(st.booleans())
    pad = (draw(st.integers(0, ws[0] - 1)), draw(st.integers(0, ws[1] - 1))) if ignore_border else (0, 0)
    h = draw(st.integers(max(1, ws[0] - 2 * pad[0]) if ignore_border else 1, 8))
    w = draw(st.integers(max(1, ws[1] - 2 * pad[1]) if ignore_border else 1, 8))
    lead = draw(st.sampled_from([(), (2,), (2, 3), (1, 2, 2)]))
    mode = draw(st.sampled_from(POOL_MODES))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).normal(size=lead + (h, w))
    return x, dict(ws=ws, ignore_border=ignore_border, stride=stride, pad=pad, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=40)
@given(case=pool_case())
def test_pool_2d_matches_numpy(mode, case):
    x, kw = case
    got = _run(mode, lambda a: pool_2d(a, **kw), x)
    np.testing.assert_allclose(got, np_pool(x, kw["ws"], kw["ignore_border"], kw["stride"], kw["pad"], kw["mode"]),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("kw", [dict(ws=(2, 2), ignore_border=True), dict(ws=(3, 2), stride=(2, 1), pad=(1, 1),
                                                                          ignore_border=True),
                                dict(ws=(3, 3), stride=(2, 2), ignore_border=False)])
def test_every_mode_with_and_without_padding_on_both_backends(mode, kw):
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 6))
    want = np_pool(x, kw["ws"], kw["ignore_border"], kw.get("stride", kw["ws"]), kw.get("pad", (0, 0)), mode)
    for backend in MODES:
        np.testing.assert_allclose(_run(backend, lambda a: pool_2d(a, mode=mode, **kw), x), want, rtol=1e-12)
    f32 = x.astype(np.float32)
    np.testing.assert_allclose(_run("fast", lambda a: pool_2d(a, mode=mode, **kw), f32), want, rtol=1e-5, atol=1e-6)


def test_theano_documented_example():
    """4x4 input, 2x2 windows: each output is its window's max / sum / mean."""
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    assert _run("fast", lambda a: pool_2d(a, (2, 2), ignore_border=True), x).tolist() == [[[[5.0, 7.0],
                                                                                             [13.0, 15.0]]]]
    assert _run("fast", lambda a: pool_2d(a, (2, 2), ignore_border=True, mode="sum"), x).tolist() == \
        [[[[10.0, 18.0], [42.0, 50.0]]]]
    # ignore_border=False keeps the partial last window: 5x5 -> 3x3
    y = _run("fast", lambda a: pool_2d(a, (2, 2), ignore_border=False), np.arange(25.0).reshape(1, 1, 5, 5))
    assert y.tolist() == [[[[6.0, 8.0, 9.0], [16.0, 18.0, 19.0], [21.0, 23.0, 24.0]]]]


@pytest.mark.parametrize("mode", ["sum", "average_inc_pad", "average_exc_pad", "max"])
@pytest.mark.parametrize("kw", [dict(ws=(2, 2)), dict(ws=(3, 2), stride=(2, 1), pad=(1, 1)),
                                dict(ws=(2, 3), stride=(1, 2))])
def test_finite_difference_gradients(mode, kw):
    r = np.random.default_rng(1)
    x = r.permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5) / 7.0  # distinct values: max pooling is smooth there
    symcomp.verify_grad(lambda a: pool_2d(a, ignore_border=True, mode=mode, **kw) ** 2, [x])
    symcomp.verify_grad(lambda a: pool_2d(a, ignore_border=True, mode=mode, **kw) ** 2, [x], mode="reference")


@pytest.mark.parametrize("backend", MODES)
def test_max_pool_gradient_goes_to_every_tied_maximum(backend):
    """Theano's MaxPoolGrad: each window's gradient goes to every element equal to its maximum."""
    x = np.array([[[3.0, 3.0, 1.0, 2.0], [0.0, 3.0, 2.0, 2.0]]])  # (1, 2, 4): windows 2x2
    xs = T.dtensor3("x")
    y = pool_2d(xs, (2, 2), ignore_border=True)
    gx = T.grad((y * np.array([[10.0, 100.0]])).sum(), xs)
    got = symcomp.function([xs], gx, mode=backend)(x)
    assert got.tolist() == [[[10.0, 10.0, 0.0, 100.0], [0.0, 10.0, 100.0, 100.0]]]


@pytest.mark.parametrize("backend", MODES)
def test_max_pool_2d_same_size(backend):
    x = np.array([[[[1.0, 5.0, 2.0, 2.0], [3.0, 4.0, 2.0, 0.0], [7.0, 0.0, 1.0, 9.0]]]])
    got = _run(backend, lambda a: max_pool_2d_same_size(a, (2, 2)), x)
    assert got.tolist() == [[[[0.0, 5.0, 2.0, 2.0], [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]


def test_int_max_pooling_and_noncontiguous_input():
    x = np.random.default_rng(2).integers(-50, 50, size=(5, 4, 3, 2)).astype(np.int32).transpose(2, 3, 0, 1)
    got = _run("fast", lambda a: pool_2d(a, (2, 2), ignore_border=False), x)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np_pool(x, (2, 2), False, (2, 2), (0, 0), "max"))


def test_the_ignore_border_default_warns_as_theano_does():
    with pytest.warns(UserWarning, match="ignore_border"):
        y = pool_2d(T.dtensor4(), (2, 2))
    assert y.owner.ignore_border is False


def test_errors():
    x = T.tensor("float64", shape=(None, 1, 3, 3))
    with pytest.raises(ValueError, match=r"window \(4, 2\) is larger than the input of shape \(None, 1, 3, 3\)"):
        pool_2d(x, (4, 2), ignore_border=True)
    f = symcomp.function([a := T.dtensor4()], pool_2d(a, (4, 4), ignore_border=True))
    with pytest.raises(ValueError, match=r"larger than the input of shape \(2, 1, 3, 5\)"):
        f(np.zeros((2, 1, 3, 5)))
    with pytest.raises(NotImplementedError, match="ignore_border=True"):
        pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(ValueError, match="smaller than the window"):
        pool_2d(x, (2, 2), ignore_border=True, pad=(2, 0))
    with pytest.raises(ValueError, match="mode"):
        pool_2d(x, (2, 2), ignore_border=True, mode="median")
    with pytest.raises(ValueError, match="rank"):
        pool_2d(T.dvector(), (2, 2), ignore_border=True)


def test_theano_older_argument_names():
    x = np.random.default_rng(3).normal(size=(1, 6, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = _run("fast", lambda a: pool_2d(a, ds=(3, 3), st=(2, 2), padding=(1, 1), ignore_border=True,
                                             mode="average"), x)
    np.testing.assert_allclose(got, np_pool(x, (3, 3), True, (2, 2), (1, 1), "average_inc_pad"), rtol=1e-12)


# -- activations and batch normalization ------------------------------------------------------------
def test_relu_elu_selu():
    x = np.linspace(-3, 3, 13)
    xs = T.dvector()
    f = symcomp.function([xs], [T.nnet.relu(xs), T.nnet.relu(xs, alpha=0.1), T.nnet.elu(xs), T.nnet.elu(xs, 0.5),
                                T.nnet.selu(xs)])
    relu, leaky, elu, elu5, selu = f(x)
    np.testing.assert_allclose(relu, np.maximum(x, 0))
    np.testing.assert_allclose(leaky, np.where(x > 0, x, 0.1 * x))
    np.testing.assert_allclose(elu, np.where(x > 0, x, np.expm1(x)))
    np.testing.assert_allclose(elu5, np.where(x > 0, x, 0.5 * np.expm1(x)))
    a, s = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946  # Klambauer et al.
    np.testing.assert_allclose(selu, s * np.where(x > 0, x, a * np.expm1(x)))


@pytest.mark.parametrize("axes", ["per-activation", "spatial", (0, 2)])
def test_batch_normalization_train_and_test(axes):
    r = np.random.default_rng(4)
    x = r.normal(2.0, 3.0, size=(8, 3, 4, 5))
    ax = {"per-activation": (0,), "spatial": (0, 2, 3)}.get(axes, axes)
    pshape = tuple(1 if a in ax else s for a, s in enumerate(x.shape))
    gamma, beta = r.normal(size=pshape), r.normal(size=pshape)
    rm, rv = r.normal(size=pshape), r.uniform(1, 2, size=pshape)
    xs = T.dtensor4()
    ps = [T.tensor("float64", shape=tuple(1 if s == 1 else None for s in pshape)) for _ in range(4)]
    outs = T.nnet.batch_normalization_train(xs, ps[0], ps[1], axes=axes, epsilon=1e-3, running_average_factor=0.2,
                                            running_mean=ps[2], running_var=ps[3])
    assert len(outs) == 5
    out, mean, invstd, nrm, nrv = symcomp.function([xs] + ps, list(outs))(x, gamma, beta, rm, rv)
    mu, var = x.mean(axis=ax, keepdims=True), x.var(axis=ax, keepdims=True)
    m = np.prod([x.shape[a] for a in ax])
    np.testing.assert_allclose(out, (x - mu) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-12)
    np.testing.assert_allclose(mean, mu, rtol=1e-12)
    np.testing.assert_allclose(invstd, 1 / np.sqrt(var + 1e-3), rtol=1e-12)
    np.testing.assert_allclose(nrm, rm * 0.8 + mu * 0.2, rtol=1e-12)
    np.testing.assert_allclose(nrv, rv * 0.8 + var * m / (m - 1) * 0.2, rtol=1e-12)
    three = T.nnet.batch_normalization_train(xs, ps[0], ps[1], axes=axes)
    assert len(three) == 3
    test = symcomp.function([xs] + ps, T.nnet.batch_normalization_test(xs, ps[0], ps[1], ps[2], ps[3], axes=axes))
    np.testing.assert_allclose(test(x, gamma, beta, rm, rv), (x - rm) / np.sqrt(rv + 1e-4) * gamma + beta,
                               rtol=1e-12)


def test_batch_normalization_parameters_without_the_normalized_axes():
    r = np.random.default_rng(5)
    x, gamma, beta = r.normal(size=(6, 4)), r.normal(size=(4,)), r.normal(size=(4,))
    xs, g, b = T.dmatrix(), T.dvector(), T.dvector()
    out, mean, invstd = symcomp.function([xs, g, b], list(T.nnet.batch_normalization_train(xs, g, b)))(x, gamma, beta)
    assert mean.shape == (4,) and invstd.shape == (4,)
    np.testing.assert_allclose(out, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-4) * gamma + beta, rtol=1e-12)
    std = np.sqrt(x.var(0) + 1e-4)
    f = symcomp.function([xs, g, b], T.nnet.bn.batch_normalization(xs, g, b, x.mean(0), std))
    np.testing.assert_allclose(f(x, gamma, beta), (x - x.mean(0)) * (gamma / std) + beta, rtol=1e-12)
    symcomp.verify_grad(lambda a, c, d: T.nnet.batch_normalization_train(a, c, d)[0] ** 2, [x, gamma, beta])
