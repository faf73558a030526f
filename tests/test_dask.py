"""symcomp.dask.map_blocks: elementwise functions and reductions over chunked arrays, on a process cluster."""

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
sd = pytest.importorskip("symcomp.dask")


@functools.cache
def _functions():
    x, y, r = T.dmatrix("x"), T.dvector("y"), T.drow("r")
    return {
        "elementwise": (symcomp.function([x, y], T.exp(x) * y + 2.0), lambda X, Y: np.exp(X) * Y + 2.0),
        "row": (symcomp.function([x, r], T.maximum(x, r)), lambda X, R: np.maximum(X, R)),
        "sum1": (symcomp.function([x], T.sum(x * x, axis=1)), lambda X: (X * X).sum(axis=1)),
        "mean0": (symcomp.function([x], T.mean(T.tanh(x), axis=0)), lambda X: np.tanh(X).mean(axis=0)),
        "mean": (symcomp.function([x], T.mean(x)), lambda X: X.mean()),
        "max": (symcomp.function([x], T.max(x, axis=0)), lambda X: X.max(axis=0)),
        "min": (symcomp.function([x], T.min(x - 1.0)), lambda X: (X - 1.0).min()),
        "prod": (symcomp.function([x], T.prod(1.0 + 0.1 * x, axis=1)), lambda X: np.prod(1.0 + 0.1 * X, axis=1)),
        "norm": (symcomp.function([x], T.sqrt(T.sum(x * x))), lambda X: np.sqrt((X * X).sum())),
    }


def _chunked(a, chunks):
    return da.from_array(a, chunks=chunks)


@given(st.integers(1, 13), st.integers(1, 11), st.integers(1, 5), st.integers(1, 4), st.sampled_from(sorted(
    ["sum1", "mean0", "mean", "max", "min", "prod", "norm"])))
def test_reductions_combine_partials_exactly(n, m, cn, cm, which):
    f, ref = _functions()[which]
    X = np.random.default_rng(n * 100 + m).standard_normal((n, m))
    with dask.config.set(scheduler="synchronous"):
        got = sd.map_blocks(f, _chunked(X, (cn, cm))).compute()
    want = ref(X)
    assert got.shape == np.shape(want) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_elementwise_functions_broadcast_like_the_compiled_function():
    rng = np.random.default_rng(1)
    X, Y, R = rng.standard_normal((17, 10)), rng.standard_normal(10), rng.standard_normal((1, 10))
    f, ref = _functions()["elementwise"]
    g, gref = _functions()["row"]
    with dask.config.set(scheduler="synchronous"):
        out = sd.map_blocks(f, _chunked(X, (5, 4)), _chunked(Y, 3))
        assert out.chunks[0] == (5, 5, 5, 2)
        np.testing.assert_allclose(out.compute(), ref(X, Y), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(sd.map_blocks(g, _chunked(X, (6, 5)), R).compute(), gref(X, R))
        np.testing.assert_allclose(sd.map_blocks(f, X, Y).compute(), ref(X, Y), rtol=1e-12, atol=1e-13)


def test_integer_sums_and_float32_inputs():
    i = T.lmatrix("i")
    f = symcomp.function([i], T.sum(i, axis=0))
    I = np.arange(-30, 30).reshape(12, 5)
    with dask.config.set(scheduler="synchronous"):
        got = sd.map_blocks(f, _chunked(I, (5, 2))).compute()
    np.testing.assert_array_equal(got, I.sum(axis=0))
    assert got.dtype == np.int64
    fx = T.fmatrix("fx")
    g = symcomp.function([fx], T.mean(fx, axis=1))
    X = np.random.default_rng(2).standard_normal((6, 40)).astype(np.float32)
    with dask.config.set(scheduler="synchronous"):
        got = sd.map_blocks(g, _chunked(X, (6, 7))).compute()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, X.mean(axis=1), rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("build, message", [
    (lambda x, v: T.dot(x, x.T), "sc.transpose .* neither elementwise nor"),
    (lambda x, v: x - T.mean(x), "adds axes to a reduction's result .*two passes"),
    (lambda x, v: T.sum(x * 2.0, axis=0) + v, "combines a reduction's result with the arrays again"),
    (lambda x, v: T.sum(T.max(x, axis=0)), "second reduction"),
    (lambda x, v: x / T.shape(x)[0], "uses a size of an array inside the blockwise part"),
    (lambda x, v: T.argmax(x, axis=0), "sc.argmax .* neither elementwise nor"),
])
def test_functions_that_do_not_split_are_refused(build, message):
    x, v = T.dmatrix("x"), T.dvector("v")
    f = symcomp.function([x, v], build(x, v), on_unused_input="ignore")
    with pytest.raises(NotImplementedError, match=message):
        sd.map_blocks(f, _chunked(np.ones((4, 4)), 2), _chunked(np.ones(4), 2))


def test_bad_arguments():
    x = T.dmatrix("x")
    f, _ = _functions()["sum1"]
    with pytest.raises(ValueError, match="input 0 \\(x\\) has type tensor<\\?x\\?xf64>, got an array of rank 1"):
        sd.map_blocks(f, _chunked(np.ones(4), 2))
    with pytest.raises(TypeError, match="takes 1 arrays \\(2 given\\)"):
        sd.map_blocks(f, np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(TypeError, match="compiled symcomp.Function"):
        sd.map_blocks(np.exp, np.ones((2, 2)))
    w = symcomp.shared(np.ones(3), name="w")
    with pytest.raises(NotImplementedError, match="shared variables"):
        sd.map_blocks(symcomp.function([x], x * w), np.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="2 outputs"):
        sd.map_blocks(symcomp.function([x], [x + 1, x - 1]), np.ones((2, 3)))
    g, _ = _functions()["elementwise"]
    with pytest.raises(ValueError, match="do not fit"):
        sd.map_blocks(g, np.ones((2, 3)), np.ones(4))
    v = _chunked(np.arange(10.0), 3)
    unknown = v[v > 2][:, None]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        sd.map_blocks(f, unknown)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_local_cluster_runs_the_compiled_code_compiling_once_per_worker(client):
    from symcomp.compile import pickling

    f, fref = _functions()["elementwise"]
    m, mref = _functions()["mean0"]
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((120, 64)), rng.standard_normal(64)
    dx, dy = _chunked(X, (30, 16)), _chunked(Y, 16)  # 16 blocks
    assert client.run(pickling.compilation_count) == {w: 0 for w in client.scheduler_info()["workers"]}
    np.testing.assert_allclose(sd.map_blocks(f, dx, dy).compute(), fref(X, Y), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(sd.map_blocks(m, dx).compute(), mref(X), rtol=1e-13)
    np.testing.assert_allclose(sd.map_blocks(m, dx).compute(), mref(X), rtol=1e-13)  # cached: no compile
    counts = client.run(pickling.compilation_count)
    # Three compiled functions (f, and mean's partial and post) over 16 + 2 * 16 blocks: each worker
    # compiled each function at most once, and the work was shared.
    assert all(1 <= c <= 3 for c in counts.values()), counts


def test_outputs_that_ignore_the_elements_are_refused():
    x = T.dmatrix("x")
    f = symcomp.function([x], T.shape(x)[0] * 2)
    with pytest.raises(NotImplementedError, match="does not depend on the arrays' elements"):
        sd.map_blocks(f, np.ones((3, 3)))


def test_errors_on_workers_point_at_the_users_lines(client):
    """The functions reach the workers pickled, as IR text; the pickle carries the ops' locations."""
    import inspect

    i = T.lvector("i")
    line = inspect.currentframe().f_lineno + 1
    power = symcomp.function([i], T.sum(i ** T.constant(np.int64(-1))))
    with pytest.raises(ValueError, match=rf"negative integer powers.*test_dask.py:{line}"):
        sd.map_blocks(power, da.from_array(np.array([1, 2, 3, 4]), chunks=2)).compute()


def test_errors_point_at_the_users_lines():
    """They pointed at the dumped IR ('<traced main>:11:10'), which the user never wrote."""
    import inspect

    here = inspect.currentframe().f_lineno
    x, w, i = T.dmatrix("x"), T.dmatrix("w"), T.lvector("i")
    product = symcomp.function([x, w], T.dot(x, w))  # line here + 2
    with pytest.raises(NotImplementedError, match=rf"sc.dot \(created at .*test_dask.py:{here + 2}\)"):
        sd.map_blocks(product, da.ones((4, 3), chunks=2), da.ones((3, 2), chunks=2))
    power = symcomp.function([i], T.sum(i ** T.constant(np.int64(-1))))  # line here + 5
    with pytest.raises(ValueError, match=rf"negative integer powers.*test_dask.py:{here + 5}"):
        sd.map_blocks(power, da.from_array(np.array([1, 2, 3, 4]), chunks=2)).compute(scheduler="sync")
    q, v = T.dvector("q"), T.dvector("v")
    dot = symcomp.function([q, v], T.sum(q * v))  # line here + 9
    with pytest.raises(ValueError, match=rf"do not fit main: .*sc.mul created at .*test_dask.py:{here + 9}\)"):
        sd.map_blocks(dot, da.ones(4, chunks=2), da.ones(3, chunks=3))
