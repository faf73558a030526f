"""RandomStreams: Theano's API and semantics (streams in shared variables, default updates,
seeding, saving and restoring, symbolic sizes, broadcasting parameters, gradients)."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.tensor.randomstreams import RandomStreams, RandomVariable


def test_theano_paths():
    from symcomp.sandbox.rng_mrg import MRG_RandomStreams
    from symcomp.tensor.shared_randomstreams import RandomStreams as SharedRandomStreams

    assert symcomp.RandomStreams is RandomStreams is SharedRandomStreams
    assert issubclass(MRG_RandomStreams, RandomStreams)
    assert MRG_RandomStreams()._seed == 12345


def test_each_call_advances_the_stream_by_the_blocks_drawn():
    srng = RandomStreams(3)
    u = srng.uniform((2, 5))
    u32 = srng.uniform((3, 3), dtype="float32")
    assert isinstance(u, RandomVariable) and u.rng.get_value()[1] == 0
    f = symcomp.function([], [u, u32])
    (a, _), (b, _) = f(), f()
    assert a.shape == (2, 5) and not np.array_equal(a, b)
    assert u.rng.get_value()[1] == 10  # two blocks of Philox per two float64 elements: 5 per call
    assert u32.rng.get_value()[1] == 6  # one per four float32 elements: ceil(9 / 4) = 3 per call
    assert srng.updates() == [u.update, u32.update] and u.update[0] is u.rng


def test_no_default_updates():
    srng = RandomStreams(3)
    u, n = srng.uniform((4,)), srng.normal((4,))
    f = symcomp.function([], [u, n], no_default_updates=True)
    a, b = f(), f()
    np.testing.assert_array_equal(a[0], b[0])
    assert u.rng.get_value()[1] == 0 and n.rng.get_value()[1] == 0
    g = symcomp.function([], [u, n], no_default_updates=[u.rng])
    c, d = g(), g()
    np.testing.assert_array_equal(c[0], d[0])
    assert not np.array_equal(c[1], d[1])


def test_an_explicit_update_replaces_the_default_one():
    srng = RandomStreams(3)
    u = srng.uniform((4,))
    f = symcomp.function([], u, updates=[(u.rng, u.rng)])
    np.testing.assert_array_equal(f(), f())


def test_get_value_and_set_value_restore_a_stream_exactly():
    srng = RandomStreams(11)
    u = srng.normal((3, 3))
    f = symcomp.function([], u)
    f()
    saved = u.rng.get_value()
    a, b = f(), f()
    u.rng.set_value(saved)
    np.testing.assert_array_equal(f(), a)
    np.testing.assert_array_equal(f(), b)


def test_seed_reseeds_every_stream():
    srng = RandomStreams(1)
    u, v = srng.uniform((5,)), srng.integers((5,), 0, 1000)
    f = symcomp.function([], [u, v])
    first = f()
    f()
    srng.seed(1)
    for got, want in zip(f(), first):
        np.testing.assert_array_equal(got, want)
    srng.seed(2)
    assert not np.array_equal(f()[0], first[0])
    other = RandomStreams(2)
    g = symcomp.function([], [other.uniform((5,)), other.integers((5,), 0, 1000)])
    srng.seed(2)
    for got, want in zip(f(), g()):
        np.testing.assert_array_equal(got, want)


def test_one_node_per_variable_and_independent_variables():
    srng = RandomStreams(5)
    u, w = srng.uniform((1000,)), srng.uniform((1000,))
    a, b, c = symcomp.function([], [u, u * 1.0, w])()
    np.testing.assert_array_equal(a, b)
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.15
    assert not np.array_equal(u.rng.get_value(), w.rng.get_value())  # different keys


def test_symbolic_size():
    srng = RandomStreams(5)
    x = T.dmatrix("x")
    u = srng.uniform(x.shape)
    f = symcomp.function([x], [u, x + u])
    assert f(np.zeros((2, 3)))[0].shape == (2, 3)
    assert f(np.zeros((4, 1)))[0].shape == (4, 1)
    n = T.lscalar("n")
    g = symcomp.function([n], srng.normal((n, 2)))
    assert g(7).shape == (7, 2)
    assert g(0).shape == (0, 2)


def test_parameters_broadcast():
    srng = RandomStreams(6)
    avg = T.row("avg")
    std = T.col("std")
    z = srng.normal((3, 4), avg=avg, std=std)
    f = symcomp.function([avg, std], z, no_default_updates=True)
    base = symcomp.function([], srng.normal((3, 4)))
    a = f(np.arange(4.0)[None, :], np.full((3, 1), 2.0))
    z.rng.set_value(z.rng.get_value())
    assert a.shape == (3, 4)
    # size None: the parameters' broadcast shape
    lam = T.dvector("lam")
    p = srng.poisson(lam=lam)
    assert symcomp.function([lam], p)(np.array([1.0, 5.0, 50.0])).shape == (3,)
    lo, hi = T.dvector("lo"), T.dvector("hi")
    u = symcomp.function([lo, hi], srng.uniform(low=lo, high=hi))(np.array([0.0, 10.0]), np.array([1.0, 11.0]))
    assert 0 < u[0] < 1 and 10 < u[1] < 11
    assert base().shape == (3, 4)


def test_normal_is_the_reparameterised_standard_normal():
    srng = RandomStreams(8)
    z = srng.normal((6,))
    state = z.rng.get_value()
    std_draw = symcomp.function([], z)()
    srng2 = RandomStreams(8)
    w = srng2.normal((6,), avg=1.5, std=3.0)
    np.testing.assert_allclose(symcomp.function([], w)(), 1.5 + 3.0 * std_draw, rtol=1e-15)
    assert state[1] == 0


def test_gradients_flow_through_the_parameters_only():
    srng = RandomStreams(9)
    avg = symcomp.shared(0.5, name="avg")
    std = symcomp.shared(2.0, name="std")
    z = srng.normal((50,), avg=avg, std=std)
    cost = T.sum(z)
    g_avg, g_std = T.grad(cost, [avg, std])
    draw, ga, gs = symcomp.function([], [z, g_avg, g_std], no_default_updates=True)()
    assert ga == 50.0
    np.testing.assert_allclose(gs, np.sum((draw - 0.5) / 2.0), rtol=1e-12)
    low = symcomp.shared(1.0, name="low")
    u = srng.uniform((10,), low=low, high=3.0)
    (gl,) = symcomp.function([], [T.grad(T.sum(u), low)], no_default_updates=True)()
    uu = symcomp.function([], u, no_default_updates=True)()
    np.testing.assert_allclose(gl, np.sum(1 - (uu - 1.0) / 2.0), rtol=1e-12)


def test_dtypes():
    from symcomp.config import config

    srng = RandomStreams(1)
    assert srng.uniform((2,)).dtype == config.floatX
    assert srng.uniform((2,), dtype="float32").dtype == "float32"
    assert srng.normal((2,), avg=T.fscalar()).dtype == "float64"  # floatX (float64) promoted
    assert srng.binomial((2,)).dtype == "int64"
    assert srng.binomial((2,), p=0.5, dtype="float32").dtype == "float32"
    assert srng.integers((2,), 0, 5, dtype="int32").dtype == "int32"
    assert srng.poisson((2,)).dtype == "int64"
    assert srng.permutation(n=4).type.shape == (4,) or srng.permutation(n=4).ndim == 1


def test_discrete_draws_have_the_right_support():
    srng = RandomStreams(2)
    f = symcomp.function([], [srng.binomial((1000,), n=5, p=0.4), srng.integers((1000,), -3, 4),
                              srng.random_integers((1000,), 1, 6), srng.choice((1000,), 4),
                              srng.choice((1000,), np.array([10, 20, 30]), p=[0.2, 0.0, 0.8]),
                              srng.permutation((3,), 6), srng.choice((5,), 9, replace=False),
                              srng.multinomial((4,), 7, [0.25, 0.5, 0.25])])
    b, i, r, c, cp, perm, nr, m = f()
    assert b.min() >= 0 and b.max() <= 5
    assert set(np.unique(i)) == set(range(-3, 4))
    assert set(np.unique(r)) == set(range(1, 7))
    assert set(np.unique(c)) == set(range(4))
    assert set(np.unique(cp)) == {10, 30}
    assert perm.shape == (3, 6) and all(sorted(row) == list(range(6)) for row in perm)
    assert nr.shape == (5,) and len(set(nr)) == 5 and nr.min() >= 0 and nr.max() < 9
    assert m.shape == (4, 3) and (m.sum(axis=1) == 7).all()


def test_multinomial_rows_follow_pvals():
    srng = RandomStreams(4)
    pv = T.dmatrix("pv")
    m = srng.multinomial(n=3, pvals=pv)
    out = symcomp.function([pv], m)(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(out, [[3, 0, 0], [0, 0, 3]])


def test_poisson_edge_rates():
    srng = RandomStreams(4)
    lam = T.dvector("lam")
    out = symcomp.function([lam], srng.poisson(lam=lam))(np.array([0.0, -1.0, np.nan, 1e16, 1e6]))
    assert list(out[:4]) == [0, -1, -1, -1]
    assert abs(out[4] - 1e6) < 6 * 1e3


def test_truncated_normal_stays_within_two_standard_deviations():
    srng = RandomStreams(4)
    z = symcomp.function([], srng.truncated_normal((100000,), avg=1.0, std=0.5))()
    assert z.min() > 0.0 and z.max() < 2.0


def test_uniform_never_returns_its_bounds():
    srng = RandomStreams(4)
    u32, u64 = symcomp.function([], [srng.uniform((200000,), dtype="float32"), srng.uniform((200000,))])()
    assert 0 < u32.min() and u32.max() < 1 and 0 < u64.min() and u64.max() < 1


def test_unsupported_requests_raise():
    srng = RandomStreams(1)
    with pytest.raises(TypeError, match="integer tensor"):
        srng.binomial((3,), n=T.dscalar())
    with pytest.raises(ValueError, match="n must be >= 0"):
        srng.binomial((3,), n=-2)
    with pytest.raises(NotImplementedError, match="number of categories"):
        srng.multinomial((3,), n=T.lscalar(), pvals=T.dvector())
    with pytest.raises(ValueError, match="cannot take 6 values out of 5"):
        srng.choice((2, 3), 5, replace=False, p=[0.2] * 5)
    with pytest.raises(ValueError, match="ndim"):
        srng.uniform((2, 3), ndim=1)
    with pytest.raises(TypeError, match="float dtype"):
        srng.uniform((2,), dtype="int32")
    with pytest.raises(TypeError, match="seed must be an integer"):
        RandomStreams(1.5)
    with pytest.raises(ValueError, match="negative size"):
        srng.uniform((-1,))


def test_a_pickled_function_keeps_its_stream():
    import pickle

    srng = RandomStreams(12)
    f = symcomp.function([], srng.uniform((4,)))
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(f(), g())
    np.testing.assert_array_equal(f(), g())


def test_dask_refuses_positional_ops():
    """A block does not know its elements' places in the whole array (a draw's counters)."""
    import dask.array as da

    from symcomp import dask as sdask
    from symcomp.ir.opdef import build
    from symcomp.ir.ops.random import FlatIndex

    x = T.dmatrix("x")
    f = symcomp.function([x], x * T.cast(build(FlatIndex, [x]), "float64"))
    with pytest.raises(NotImplementedError, match="position"):
        sdask.map_blocks(f, da.ones((4, 4), chunks=2))


def test_mrg_argument_order_and_choice_from_p():
    from symcomp.sandbox.rng_mrg import MRG_RandomStreams

    srng = MRG_RandomStreams(5)
    b = srng.binomial((1000,), 0.25)  # MRG's order: size, p
    c = srng.choice(size=(1000,), p=[0.0, 1.0, 0.0])
    out_b, out_c = symcomp.function([], [b, c])()
    assert 0.15 < out_b.mean() < 0.35
    assert (out_c == 1).all()
    with pytest.raises(ValueError, match="3 probabilities for 4 choices"):
        RandomStreams(1).choice((2,), 4, p=[0.2, 0.3, 0.5])
