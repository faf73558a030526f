"""``scan``: Theano's loop tutorial programs (theano/doc/tutorial/loop.txt), checked against NumPy
on the reference and CPU backends, and their gradients against finite differences."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

MODES = ["reference", "fast"]


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def test_power_of_a_by_iteration(mode):
    k = T.iscalar("k")
    A = T.vector("A")
    result, updates = symcomp.scan(fn=lambda prior_result, A: prior_result * A,
                                   outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    final_result = result[-1]
    power = symcomp.function(inputs=[A, k], outputs=final_result, updates=updates, mode=mode)
    a = np.arange(10, dtype=symcomp.config.floatX)
    np.testing.assert_allclose(power(a, 2), a ** 2)
    np.testing.assert_allclose(power(a, 5), a ** 5)
    full = symcomp.function([A, k], result, mode=mode)
    np.testing.assert_allclose(full(a, 3), np.stack([a, a ** 2, a ** 3]))


def test_polynomial_with_arange_sequence(mode):
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000
    components, updates = symcomp.scan(fn=lambda coefficient, power, free_variable: coefficient * (free_variable ** power),
                                       outputs_info=None,
                                       sequences=[coefficients, T.arange(max_coefficients_supported)],
                                       non_sequences=x)
    polynomial = components.sum()
    calculate_polynomial = symcomp.function(inputs=[coefficients, x], outputs=polynomial, mode=mode)
    test_coefficients = np.asarray([1, 0, 2], dtype=symcomp.config.floatX)
    test_value = 3
    assert float(calculate_polynomial(test_coefficients, test_value)) == pytest.approx(19.0)
    assert float(calculate_polynomial(np.asarray([], dtype=symcomp.config.floatX), 2.0)) == 0.0


def test_sum_of_a_sequence(mode):
    up_to = T.iscalar("up_to")

    def accumulate_by_adding(arange_val, sum_to_date):
        return sum_to_date + arange_val

    seq = T.arange(up_to)
    outputs_info = T.as_tensor_variable(np.asarray(0, seq.dtype))
    scan_result, scan_updates = symcomp.scan(fn=accumulate_by_adding, outputs_info=outputs_info, sequences=seq)
    triangular_sequence = symcomp.function(inputs=[up_to], outputs=scan_result, mode=mode)
    np.testing.assert_array_equal(triangular_sequence(15), np.cumsum(np.arange(15)))
    assert triangular_sequence(0).shape == (0,)


def test_tanh_of_rows(mode):
    X = T.matrix("X")
    W = T.matrix("W")
    b_sym = T.vector("b_sym")
    results, updates = symcomp.scan(lambda v: T.tanh(T.dot(v, W) + b_sym), sequences=X)
    compute_elementwise = symcomp.function(inputs=[X, W, b_sym], outputs=results, mode=mode)
    x = np.eye(2, dtype=symcomp.config.floatX)
    w = np.ones((2, 2), dtype=symcomp.config.floatX)
    b = np.ones((2), dtype=symcomp.config.floatX)
    b[1] = 2
    np.testing.assert_allclose(compute_elementwise(x, w, b), np.tanh(x.dot(w) + b))


def test_fibonacci_with_taps(mode):
    x0 = T.vector("x0")
    n = T.iscalar("n")
    fib, _ = symcomp.scan(lambda a_tm2, a_tm1: a_tm2 + a_tm1,
                          outputs_info=dict(initial=x0, taps=[-2, -1]), n_steps=n)
    f = symcomp.function([x0, n], fib, mode=mode)
    want = [0.0, 1.0]
    for _ in range(10):
        want.append(want[-1] + want[-2])
    np.testing.assert_allclose(f(np.array([0.0, 1.0]), 10), want[2:])


def test_sequence_taps(mode):
    x = T.vector("x")
    out, _ = symcomp.scan(lambda xm1, x0, xp1: xm1 - 2 * x0 + xp1, sequences=dict(input=x, taps=[-1, 0, 1]))
    f = symcomp.function([x], out, mode=mode)
    a = np.arange(8.0) ** 2
    np.testing.assert_allclose(f(a), a[:-2] - 2 * a[1:-1] + a[2:])


def test_go_backwards(mode):
    x = T.vector("x")
    out, _ = symcomp.scan(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(0.0), go_backwards=True)
    f = symcomp.function([x], out, mode=mode)
    a = np.arange(1.0, 6.0)
    np.testing.assert_allclose(f(a), np.cumsum(a[::-1]))


def test_shared_accumulator_updates(mode):
    k = symcomp.shared(0)
    n_sym = T.iscalar("n_sym")
    results, updates = symcomp.scan(lambda: {k: (k + 1)}, n_steps=n_sym)
    accumulator = symcomp.function([n_sym], [], updates=updates, allow_input_downcast=True, mode=mode)
    assert k.get_value() == 0
    accumulator(5)
    assert k.get_value() == 5
    accumulator(0)
    assert k.get_value() == 5


def test_until_stops_early(mode):
    max_value = T.scalar("max_value")

    def power_of_2(previous_power, max_value):
        return previous_power * 2, symcomp.scan_module.until(previous_power * 2 > max_value)

    values, _ = symcomp.scan(power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=1024)
    f = symcomp.function([max_value], values, mode=mode)
    np.testing.assert_allclose(f(45), [2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
    np.testing.assert_allclose(f(0.5), [2.0])


@pytest.mark.parametrize("stop", [0, 1, 2, 5, 9])
def test_until_with_outputs_and_shared_updates(mode, stop):
    count = symcomp.shared(np.float64(0.0))
    x = T.dvector("x")
    ys, upd = symcomp.scan(lambda v: (v * 10, {count: count + 1}, symcomp.scan_module.until(T.ge(v, stop))),
                           sequences=x)
    f = symcomp.function([x], ys, updates=upd, mode=mode)
    xv = np.arange(8.0)
    got = f(xv)
    ran = min(stop + 1, 8)
    np.testing.assert_allclose(got, xv[:ran] * 10)
    assert float(count.get_value()) == ran


def test_map_reduce_fold(mode):
    x = T.vector("x")
    sq, _ = symcomp.map(lambda v: v ** 2, sequences=x)
    total, _ = symcomp.reduce(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(0.0))
    left, _ = symcomp.foldl(lambda v, acc: acc * 2 + v, sequences=x, outputs_info=T.constant(0.0))
    right, _ = symcomp.foldr(lambda v, acc: acc * 2 + v, sequences=x, outputs_info=T.constant(0.0))
    f = symcomp.function([x], [sq, total, left, right], mode=mode)
    a = np.array([1.0, 2.0, 3.0])
    got = f(a)
    np.testing.assert_allclose(got[0], a ** 2)
    assert float(got[1]) == 6.0
    assert float(got[2]) == ((1 * 2 + 2) * 2 + 3)
    assert float(got[3]) == ((3 * 2 + 2) * 2 + 1)


def test_jacobian_by_scan(mode):
    x = T.dvector("x")
    y = x ** 2
    J, updates = symcomp.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x])
    f = symcomp.function([x], J, updates=updates, mode=mode)
    np.testing.assert_allclose(f([4, 4]), [[8, 0], [0, 8]])


def test_hessian_by_scan(mode):
    x = T.dvector("x")
    y = x ** 2
    cost = y.sum()
    gy = T.grad(cost, x)
    H, updates = symcomp.scan(lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]),
                              non_sequences=[gy, x])
    f = symcomp.function([x], H, updates=updates, mode=mode)
    np.testing.assert_allclose(f([4, 4]), [[2, 0], [0, 2]])


def test_gibbs_chain_with_random_streams():
    """Theano's scan tutorial Gibbs sampler: the stream advances at every step, scan's updates carry
    it out, and the CPU backend draws exactly the reference backend's numbers."""
    rng = np.random.default_rng(0)
    W = symcomp.shared(rng.normal(size=(6, 4)) * 0.5)
    bvis, bhid = symcomp.shared(np.zeros(6)), symcomp.shared(np.zeros(4))
    trng = T.shared_randomstreams.RandomStreams(1234)

    def OneStep(vsample):
        hmean = T.nnet.sigmoid(T.dot(vsample, W) + bhid)
        hsample = trng.binomial(size=hmean.shape, n=1, p=hmean, dtype="float64")
        vmean = T.nnet.sigmoid(T.dot(hsample, W.T) + bvis)
        return trng.binomial(size=vsample.shape, n=1, p=vmean, dtype="float64")

    sample = T.dvector()
    values, updates = symcomp.scan(OneStep, outputs_info=sample, n_steps=10)
    assert len(updates) == 2
    start = [u.get_value() for u in updates]
    runs = {}
    for mode in ("reference", "fast"):
        for u, s in zip(updates, start):
            u.set_value(s)
        gibbs10 = symcomp.function([sample], values[-1], updates=updates, mode=mode)
        runs[mode] = [gibbs10(np.ones(6))]
        once = [int(np.asarray(u.get_value())[1]) for u in updates]
        runs[mode] += [gibbs10(np.ones(6)) for _ in range(5)]
        offsets = [int(np.asarray(u.get_value())[1]) for u in updates]
        assert all(o > 0 for o in once) and offsets == [6 * o for o in once]  # each call advances the streams alike
    np.testing.assert_array_equal(np.array(runs["reference"]), np.array(runs["fast"]))
    assert len({tuple(r) for r in runs["fast"]}) > 1
    assert all(set(np.unique(r)) <= {0.0, 1.0} for r in runs["fast"])


def test_nanguard_names_the_step_and_op_inside_the_loop():
    from symcomp.compile.nanguard import NanGuardError

    x = T.dvector("x")
    out, _ = symcomp.scan(lambda v, h: T.log(h - v), sequences=x, outputs_info=T.constant(10.0))
    f = symcomp.function([x], out, mode="nanguard")
    np.testing.assert_allclose(f(np.array([1.0, 1.0])), [np.log(9.0), np.log(np.log(9.0) - 1.0)])
    with pytest.raises(NanGuardError) as e:
        f(np.array([1.0, 1.0, 5.0]))  # log(h - 5) with h = log(log 9 - 1) < 5: NaN at step 2
    assert e.value.step == 2
    assert "step 2" in str(e.value) and "sc.log" in str(e.value)


def test_rnn_with_several_taps_and_outputs(mode):
    """Theano's "Multiple outputs, several taps values" recurrent network, against a NumPy loop."""
    W, W_in_1, W_in_2, W_feedback, W_out = T.dmatrices("W", "W_in_1", "W_in_2", "W_feedback", "W_out")
    u, x0, y0 = T.dmatrix("u"), T.dmatrix("x0"), T.dvector("y0")

    def oneStep(u_tm4, u_t, x_tm3, x_tm1, y_tm1, W, W_in_1, W_in_2, W_feedback, W_out):
        x_t = T.tanh(T.dot(x_tm1, W) + T.dot(u_t, W_in_1) + T.dot(u_tm4, W_in_2) + T.dot(y_tm1, W_feedback))
        y_t = T.dot(x_tm3, W_out)
        return [x_t, y_t]

    ([x_vals, y_vals], updates) = symcomp.scan(fn=oneStep, sequences=dict(input=u, taps=[-4, -0]),
                                               outputs_info=[dict(initial=x0, taps=[-3, -1]), y0],
                                               non_sequences=[W, W_in_1, W_in_2, W_feedback, W_out], strict=True)
    f = symcomp.function([u, x0, y0, W, W_in_1, W_in_2, W_feedback, W_out], [x_vals, y_vals], mode=mode)
    rng = np.random.default_rng(0)
    nu, nx, ny, steps = 2, 3, 2, 9
    args = [rng.normal(size=(steps, nu)), rng.normal(size=(3, nx)), rng.normal(size=ny),
            rng.normal(size=(nx, nx)) * 0.5, rng.normal(size=(nu, nx)), rng.normal(size=(nu, nx)),
            rng.normal(size=(ny, nx)), rng.normal(size=(nx, ny))]
    uv, x0v, y0v, Wv, W1, W2, Wf, Wo = args
    xs, ys = list(x0v), [y0v]
    for t in range(4, steps):
        x_t = np.tanh(xs[-1] @ Wv + uv[t] @ W1 + uv[t - 4] @ W2 + ys[-1] @ Wf)
        ys.append(xs[-3] @ Wo)
        xs.append(x_t)
    got_x, got_y = f(*args)
    np.testing.assert_allclose(got_x, np.array(xs[3:]), rtol=1e-12)
    np.testing.assert_allclose(got_y, np.array(ys[1:]), rtol=1e-12)
    gw = T.grad((x_vals.sum() + y_vals.sum()), W)
    symcomp.function([u, x0, y0, W, W_in_1, W_in_2, W_feedback, W_out], gw, mode=mode)(*args)


@pytest.mark.parametrize("taps", [[1], [-2], [2, 3], [-3, -1], [0, -1], [1, -1, 0]])
def test_sequence_taps_follow_theano(mode, taps):
    """Theano's reading of sequence taps (theano/scan_module/scan.py): a single tap k reads x[k:]
    (k > 0) or x[:k] (k < 0); taps all negative read as if the current step were one past the
    largest; fn gets the slices in the order the taps are listed."""
    x = T.dvector("x")
    out, _ = symcomp.scan(lambda *a: sum(a[i] * 10 ** i for i in range(len(a))),
                          sequences=dict(input=x, taps=taps))
    f = symcomp.function([x], out, mode=mode)
    xv = np.arange(10.0)
    lo, hi = min(taps), max(taps)
    if lo == hi and lo != 0:
        rows = [[v] for v in (xv[lo:] if lo > 0 else xv[:lo])]
    else:
        offset = -hi if hi < 0 else 0
        n = len(xv) - (hi - lo) - offset
        rows = [[xv[t + offset + k - lo] for k in taps] for t in range(n)]
    want = [sum(r[i] * 10 ** i for i in range(len(r))) for r in rows]
    np.testing.assert_allclose(f(xv), want)


def test_state_taps_in_the_order_given(mode):
    x0, n = T.dvector("x0"), T.iscalar("n")
    out, _ = symcomp.scan(lambda a_tm1, a_tm2: a_tm1 - a_tm2, outputs_info=dict(initial=x0, taps=[-1, -2]), n_steps=n)
    f = symcomp.function([x0, n], out, mode=mode)
    want, h = [], [1.0, 3.0]
    for _ in range(5):
        h.append(h[-1] - h[-2])
        want.append(h[-1])
    np.testing.assert_allclose(f(np.array([1.0, 3.0]), 5), want)
