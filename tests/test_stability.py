"""The stabilize pass, through ``symcomp.function``: each naive form is wrong without the pass
(mode='reference' runs no pass) and accurate with it (the default mode), against mpmath at 50 digits."""

import mpmath
import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

from pass_helpers import count, optimized

mpmath.mp.dps = 50


def ulps(got, want) -> float:
    """Distance in units of the last place of ``want`` (float64)."""
    want = float(want)
    if want == 0.0:
        return 0.0 if got == 0.0 else np.inf
    return abs(float(got) - want) / float(np.spacing(abs(want)))


def naive_and_stable(inputs, output, *args):
    naive = symcomp.function(inputs, output, mode="reference")(*args)
    stable = symcomp.function(inputs, output)(*args)
    return np.asarray(naive), np.asarray(stable)


X = T.dvector("x")
E = mpmath.e

# (rule, expression, input, mpmath reference per element)
CASES = [
    ("log(1 + x)", T.log(1 + X), [1e-20, 1e-10, -1e-17], lambda x: mpmath.log1p(x)),
    ("log(1 - x)", T.log(1 - X), [1e-20, 3e-12], lambda x: mpmath.log(1 - x)),
    ("exp(x) - 1", T.exp(X) - 1, [1e-20, -3e-15], lambda x: mpmath.expm1(x)),
    ("log(1 + exp(x))", T.log(1 + T.exp(X)), [1000.0, -50.0, 3.0], lambda x: mpmath.log(1 + E ** x)),
    ("log(sigmoid(x))", T.log(T.nnet.sigmoid(X)), [-1000.0, -40.0, 2.0], lambda x: -mpmath.log(1 + E ** -x)),
    ("log(1 - sigmoid(x))", T.log(1 - T.nnet.sigmoid(X)), [1000.0, 40.0, -2.0], lambda x: -mpmath.log(1 + E ** x)),
    ("log(1 / (1 + exp(-x)))", T.log(1 / (1 + T.exp(-X))), [-1000.0, -40.0, 2.0],
     lambda x: -mpmath.log(1 + E ** -x)),
    ("log(sum(exp(x)))", T.log(T.sum(T.exp(X))), [1000.0, 1000.0], None),
    ("1 - erf(x)", 1 - T.erf(X), [5.0, 10.0, 26.0], lambda x: mpmath.erfc(x)),
    ("1 + erf(x)", 1 + T.erf(X), [-5.0, -10.0, -26.0], lambda x: mpmath.erfc(-x)),
    ("erf(x) + 1", T.erf(X) + 1, [-5.0, -10.0], lambda x: mpmath.erfc(-x)),
    ("1 - erfc(x)", 1 - T.erfc(X), [1e-20, 1e-10, -3e-9], lambda x: mpmath.erf(x)),
    # the reference takes erfc of the rounded product x * c, as the code does (erfc's condition
    # number there, 2 z**2, would otherwise dominate)
    ("exact GELU", 0.5 * X * (1 + T.erf(X * 0.7071067811865476)), [-8.0, -20.0],
     lambda x: x / 2 * mpmath.erfc(-mpmath.mpf(float(x) * 0.7071067811865476))),
]


@pytest.mark.parametrize("rule,expr,xs,ref", CASES, ids=[c[0] for c in CASES])
def test_stable_form_is_accurate_where_the_naive_form_is_not(rule, expr, xs, ref):
    x = np.array(xs)
    naive, stable = naive_and_stable([X], expr, x)
    if ref is None:  # log-sum-exp: one scalar
        want = [mpmath.log(sum(E ** mpmath.mpf(v) for v in xs))]
        naive, stable = naive.reshape(1), stable.reshape(1)
    else:
        want = [ref(mpmath.mpf(v)) for v in xs]
    errors = [ulps(s, w) for s, w in zip(stable, want)]
    assert max(errors) <= 1, f"{rule}: {stable} vs {[float(w) for w in want]} ({errors} ULP)"
    naive_err = max(ulps(n, w) if np.isfinite(n) else np.inf for n, w in zip(naive, want))
    assert naive_err > 1e3, f"{rule}: the naive form was already accurate ({naive})"


def test_float32_gelu_keeps_its_relative_accuracy_in_the_negative_tail():
    """float32 GELU over the negative tail: with the rewrite (and the inline float32 erfc) within a
    few ulps of mpmath; the naive 1 + erf(x) cancels to 0 or to a result off by up to 100%."""
    x = T.fvector("x")
    f = symcomp.function([x], 0.5 * x * (1 + T.erf(x * np.float32(0.7071067811865476))))
    text = f.dump("optimized")
    assert "sc.erfc" in text and "sc.erf " not in text
    xs = np.linspace(-13, -3, 101).astype(np.float32)
    got = f(xs)
    for v, g in zip(xs, got):
        z = float(v * np.float32(0.7071067811865476))  # the float32 product the code takes erfc of
        want = mpmath.mpf(float(v)) / 2 * mpmath.erfc(-mpmath.mpf(z))
        rel = abs(float(g) - want) / abs(want)
        assert rel < 4 * 2.0 ** -23, f"gelu({v!r}) = {g!r}, exact {float(want)!r} (relative error {float(rel):.2e})"


def test_log1p_of_1e_minus_20_to_one_ulp():
    f = symcomp.function([X], T.log(1 + X))
    assert "sc.log1p" in f.dump("optimized")
    assert ulps(f(np.array([1e-20]))[0], mpmath.log1p(mpmath.mpf(1e-20))) <= 1


def test_logistic_becomes_sigmoid():
    m = optimized([X], [1 / (1 + T.exp(-X)), 1 / (1 + T.exp(X))], "stabilize,canonicalize,dce")
    assert count(m, "sc.sigmoid") == 2 and count(m, "sc.exp") == 0
    f = symcomp.function([X], [1 / (1 + T.exp(-X)), 1 / (1 + T.exp(X))])
    x = np.array([-30.0, -1.0, 0.0, 2.5, 30.0])
    a, b = f(x)
    want_a = [1 / (1 + E ** -mpmath.mpf(v)) for v in x]
    want_b = [1 / (1 + E ** mpmath.mpf(v)) for v in x]
    assert max(ulps(g, w) for g, w in zip(a, want_a)) <= 2
    assert max(ulps(g, w) for g, w in zip(b, want_b)) <= 2


def test_log_softmax():
    naive, stable = naive_and_stable([X], T.log(T.nnet.softmax(X, axis=-1)), np.array([0.0, -1000.0]))
    assert naive[1] == -np.inf
    np.testing.assert_array_equal(stable, [0.0, -1000.0])


def test_log_sum_exp_with_keepdims_and_infinite_rows():
    m = T.dmatrix("m")
    expr = T.log(T.sum(T.exp(m), axis=1, keepdims=True))
    x = np.array([[1000.0, 1000.0, -np.inf], [-np.inf, -np.inf, -np.inf], [np.inf, 0.0, 1.0], [-3.0, 2.0, 0.5]])
    naive, stable = naive_and_stable([m], expr, x)
    assert naive[0, 0] == np.inf
    want = [mpmath.log(2 * E ** 1000), None, None, mpmath.log(sum(E ** mpmath.mpf(v) for v in x[3]))]
    assert ulps(stable[0, 0], want[0]) <= 1 and ulps(stable[3, 0], want[3]) <= 1
    assert stable[1, 0] == -np.inf and stable[2, 0] == np.inf  # like the naive form, not NaN


def test_log_sum_exp_of_an_empty_axis_is_minus_inf_not_an_error():
    m = T.dmatrix("m")
    f = symcomp.function([m], T.log(T.sum(T.exp(m), axis=1)))
    np.testing.assert_array_equal(f(np.zeros((2, 0))), [-np.inf, -np.inf])


def _cross_entropy_reference(logits, labels):
    """-log(softmax(z)[k]) = log1p(sum over j != k of exp(z_j - z_k)), free of cancellation."""
    out = []
    for row, k in zip(logits, labels):
        z = [mpmath.mpf(v) for v in row]
        out.append(mpmath.log1p(sum(E ** (v - z[k]) for j, v in enumerate(z) if j != k)))
    return out


LOGITS = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0], [1.0, 2.0, 3.0]])
LABELS = np.array([2, 1, 0])


def test_categorical_crossentropy_of_integer_labels_with_logits_of_1000():
    m, y = T.dmatrix("m"), T.lvector("y")
    ce = T.nnet.categorical_crossentropy(T.nnet.softmax(m), y)
    naive, stable = naive_and_stable([m, y], ce, LOGITS, LABELS)
    assert np.isinf(naive[0])
    want = _cross_entropy_reference(LOGITS, LABELS)
    assert np.all(np.isfinite(stable))
    assert max(ulps(s, w) for s, w in zip(stable, want)) <= 1


def test_categorical_crossentropy_of_one_hot_targets():
    m, t = T.dmatrix("m"), T.dmatrix("t")
    ce = -T.sum(t * T.log(T.nnet.softmax(m)), axis=1)
    onehot = np.eye(3)[LABELS]
    naive, stable = naive_and_stable([m, t], ce, LOGITS, onehot)
    assert np.isnan(naive[0])  # 0 * log(0) = 0 * -inf
    want = _cross_entropy_reference(LOGITS, LABELS)
    assert max(ulps(s, w) for s, w in zip(stable, want)) <= 1


def _softmax_minus_onehot(logits, labels):
    out = np.zeros_like(logits)
    for i, (row, k) in enumerate(zip(logits, labels)):
        z = [mpmath.mpf(v) for v in row]
        s = sum(E ** v for v in z)
        out[i] = [float(E ** v / s) for v in z]
        out[i, k] -= 1.0
    return out / len(labels)


def both_modes(inputs, output, *args):
    """The value with no pass at all (mode='reference') and with the default pipeline."""
    return [np.asarray(symcomp.function(inputs, output, mode=m)(*args)) for m in ("reference", "FAST_RUN")]


def test_gradient_of_naive_cross_entropy_is_finite_and_exact():
    m, y = T.dmatrix("m"), T.lvector("y")
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(m), y))
    for got in both_modes([m, y], T.grad(loss, m), LOGITS, LABELS):
        np.testing.assert_allclose(got, _softmax_minus_onehot(LOGITS, LABELS), rtol=1e-15, atol=1e-17)


def test_gradient_of_one_hot_cross_entropy_is_finite_and_exact():
    m, t = T.dmatrix("m"), T.dmatrix("t")
    loss = T.mean(-T.sum(t * T.log(T.nnet.softmax(m)), axis=1))
    for got in both_modes([m, t], T.grad(loss, m), LOGITS, np.eye(3)[LABELS]):
        np.testing.assert_allclose(got, _softmax_minus_onehot(LOGITS, LABELS), rtol=1e-15, atol=1e-17)


def _sig(x):
    return 1 / (1 + E ** -mpmath.mpf(x))


XS = np.array([-1000.0, -40.0, -3.0, 0.0, 2.5, 40.0, 1000.0])
# (form, expression, d/dx against mpmath, the naive chain rule in NumPy: what differentiating the
# naive form op by op gives)
GRAD_CASES = [
    ("log(sigmoid(x))", T.log(T.nnet.sigmoid(X)), lambda x: _sig(-x),
     lambda x, s: (1 / s) * s * (1 - s)),
    ("log(1 - sigmoid(x))", T.log(1 - T.nnet.sigmoid(X)), lambda x: -_sig(x),
     lambda x, s: -(1 / (1 - s)) * s * (1 - s)),
    ("log1p(-sigmoid(x))", T.log1p(-T.nnet.sigmoid(X)), lambda x: -_sig(x),
     lambda x, s: -(1 / (1 - s)) * s * (1 - s)),
    ("log(1 + exp(x))", T.log(1 + T.exp(X)), lambda x: _sig(x),
     lambda x, s: np.exp(x) / (1 + np.exp(x))),
    ("log(1 / (1 + exp(-x)))", T.log(1 / (1 + T.exp(-X))), lambda x: _sig(-x),
     lambda x, s: (1 + np.exp(-x)) * np.exp(-x) / (1 + np.exp(-x)) ** 2),
    ("log(exp(x))", T.log(T.exp(X)), lambda x: mpmath.mpf(1),  # the stable form is x itself
     lambda x, s: np.exp(x) / np.exp(x)),
    ("log(1 - 1 / (1 + exp(-x)))", T.log(1 - 1 / (1 + T.exp(-X))), lambda x: -_sig(x),
     lambda x, s: -np.exp(-x) / (1 + np.exp(-x)) ** 2 / (1 - 1 / (1 + np.exp(-x)))),
]


@pytest.mark.parametrize("form, expr, ref, naive_chain", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_of_a_naive_form_is_the_gradient_of_its_stable_form(form, expr, ref, naive_chain):
    """grad differentiates the stable form, so the gradient is exact even with no pass run; the
    op-by-op chain rule of the naive form is NaN at the extremes."""
    with np.errstate(all="ignore"):
        s = 1 / (1 + np.exp(-XS))
        assert np.isnan(naive_chain(XS, s)).any()
    want = [ref(v) for v in XS]
    for got in both_modes([X], T.grad(T.sum(expr), X), XS):
        assert max(ulps(g, w) for g, w in zip(got, want)) <= 2, (form, got)


def test_gradient_of_log_sum_exp_is_softmax():
    x = np.array([1000.0, 999.0, -1000.0, 0.0])
    z = [mpmath.mpf(v) for v in x]
    want = [E ** v / sum(E ** u for u in z) for v in z]
    with np.errstate(all="ignore"):
        assert np.isnan(np.exp(x) / np.sum(np.exp(x))).any()  # the naive chain rule
    for got in both_modes([X], T.grad(T.log(T.sum(T.exp(X))), X), x):
        assert max(ulps(g, w) for g, w in zip(got, want)) <= 2, got


def test_stable_gradient_respects_other_uses_wrt_and_consider_constant():
    s = T.nnet.sigmoid(X)
    x = np.array([-1.0, 0.0, 2.0])
    sv = 1 / (1 + np.exp(-x))
    # s is used again: its other cotangent still flows to x
    (got,) = both_modes([X], T.grad(T.sum(T.log(1 - s)) + T.sum(s ** 2), X), x)[:1]
    np.testing.assert_allclose(got, -sv + 2 * sv * sv * (1 - sv), rtol=1e-14)
    # asked for the gradient with respect to s itself: the naive chain is kept
    gx, gs = T.grad(T.sum(T.log(1 - s)), [X, s])
    out = symcomp.function([X], [gx, gs])(x)
    np.testing.assert_allclose(out[0], -sv, rtol=1e-14)
    np.testing.assert_allclose(out[1], -1 / (1 - sv), rtol=1e-14)
    # s held constant: no gradient reaches x
    g = T.grad(T.sum(T.log(1 - s)), X, consider_constant=[s], disconnected_inputs="ignore")
    np.testing.assert_array_equal(symcomp.function([X], g)(x), np.zeros(3))


def test_mlp_training_step_with_huge_logits_stays_finite():
    """One SGD step of the naive softmax cross-entropy: the parameters stay finite."""
    x, y = T.dmatrix("x"), T.lvector("y")
    w = symcomp.shared(np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]), name="w")
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(x, w)), y))
    step = symcomp.function([x, y], loss, updates=[(w, w - 0.1 * T.grad(loss, w))])
    out = step(np.array([[1.0, 0.0]]), np.array([2]))
    assert float(out) == 2000.0
    assert np.all(np.isfinite(w.get_value()))
