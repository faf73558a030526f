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
        runs[mode] = [gibbs10(np.ones(6)) for _ in range(6)]
        offsets = [int(np.asarray(u.get_value())[1]) for u in updates]
        assert sorted(offsets) == [6 * 10 * 4, 6 * 10 * 6]  # every step drew hidden (4) and visible (6) units
    np.testing.assert_array_equal(np.array(runs["reference"]), np.array(runs["fast"]))
    assert len({tuple(r) for r in runs["fast"]}) > 1
    assert all(set(np.unique(r)) <= {0.0, 1.0} for r in runs["fast"])
