"""Loop nests split across threads (symcomp.backends.cpu.codegen.parallel, libgomp).

Arrays here are larger than omp.MIN_PARALLEL_ELEMENTS so that the
parallel paths run: outer split (2-D), inner split (coalesced 1-D), per-thread
partials (full reductions), and the refusal to split along a reduced axis.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.runtime import openmp
from symcomp.backends.cpu.codegen.loops import threads_available

needs_openmp = pytest.mark.skipif(not threads_available(), reason="libgomp is not available")

BIG = 4 * openmp.MIN_PARALLEL_ELEMENTS + 37  # not a multiple of the SIMD width


def test_num_threads_is_mirrored_into_native_code():
    old = symcomp.config.num_threads
    try:
        symcomp.config.num_threads = 3
        assert openmp.num_threads() == 3
        symcomp.config.num_threads = 0
        assert openmp.num_threads() == len(os.sched_getaffinity(0))
    finally:
        symcomp.config.num_threads = old


def test_elementwise_1d_matches_numpy_exactly(nthreads, rng):
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(-x * x / 2) * T.sin(x) + T.log1p(x))
    a = rng.random(BIG)
    symcomp.config.num_threads = 1
    serial = f(a)
    symcomp.config.num_threads = nthreads
    got = f(a)
    np.testing.assert_array_equal(got, serial)  # same code per element, whatever the split
    np.testing.assert_allclose(got, np.exp(-a * a / 2) * np.sin(a) + np.log1p(a), rtol=1e-14)


@pytest.mark.parametrize("shape", [(3, BIG // 3), (BIG // 40, 40), (2, 5, BIG // 10)])
def test_elementwise_nd_with_broadcast_and_strides(nthreads, rng, shape):
    x = T.tensor("float64", (None,) * len(shape), "x")
    row = T.tensor("float64", (1,) * (len(shape) - 1) + (None,), "row")
    f = symcomp.function([x, row], x * row + 1.0)
    a = rng.random(shape)
    r = rng.random((1,) * (len(shape) - 1) + (shape[-1],))
    np.testing.assert_array_equal(f(a, r), a * r + 1.0)
    at = np.asfortranarray(a)  # non-unit inner strides: the scalar loop, still split
    np.testing.assert_array_equal(f(at, r), a * r + 1.0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_full_sum_combines_partials_deterministically(nthreads, rng, dtype):
    x = T.tensor(dtype, (None,), "x")
    f = symcomp.function([x], T.sum(x))
    a = rng.standard_normal(BIG).astype(dtype)
    r1, r2 = f(a), f(a)
    assert r1 == r2  # deterministic for a given thread count
    tol = 1e-12 if dtype == "float64" else 2e-4
    np.testing.assert_allclose(r1, np.sum(a.astype(np.float64)), rtol=tol, atol=tol * np.abs(a).sum())


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("kind", ["sum", "max", "min", "prod"])
def test_matrix_reductions(nthreads, rng, axis, kind):
    X = T.dmatrix("X")
    f = symcomp.function([X], getattr(T, kind)(X, axis=axis))
    a = rng.random((301, 700)) + (0.5 if kind == "prod" else 0.0)
    if kind == "prod":
        a = 1.0 + (a - 1.0) * 1e-3
    np.testing.assert_allclose(f(a), getattr(np, kind)(a, axis=axis), rtol=1e-12)


def test_max_propagates_nan_across_threads(nthreads):
    x = T.dvector("x")
    f = symcomp.function([x], T.max(x))
    a = np.arange(BIG, dtype=np.float64)
    a[BIG - 5] = np.nan  # in the last thread's chunk
    assert np.isnan(f(a))
    a[BIG - 5] = 1.0
    assert f(a) == BIG - 1


def test_integer_and_bool_reductions(nthreads, rng):
    x = T.lvector("x")
    s = symcomp.function([x], [T.sum(x), T.max(x), T.min(x)])
    a = rng.integers(-1000, 1000, BIG)
    assert [int(v) for v in s(a)] == [a.sum(), a.max(), a.min()]
    b = T.tensor("bool", (None,), "b")
    anyall = symcomp.function([b], [T.any(b), T.all(b)])
    m = np.zeros(BIG, bool)
    assert [bool(v) for v in anyall(m)] == [False, False]
    m[-1] = True
    assert [bool(v) for v in anyall(m)] == [True, False]


@given(rows=st.integers(1, 9), cols=st.integers(1, 3 * openmp.MIN_PARALLEL_ELEMENTS // 4),
       axis=st.sampled_from([None, 0, 1]))
def test_sum_any_shape_around_the_threshold(rows, cols, axis):
    f = _sum_fn(axis)
    a = np.random.default_rng(rows * 7919 + cols).random((rows, cols))
    np.testing.assert_allclose(f(a), a.sum(axis=axis), rtol=1e-12)


_fns: dict = {}


def _sum_fn(axis):
    if axis not in _fns:
        X = T.dmatrix("X")
        _fns[axis] = symcomp.function([X], T.sum(X * 2.0, axis=axis) / 2.0)
    return _fns[axis]


@needs_openmp
def test_generated_code_calls_gomp_parallel():
    x = T.fvector("x")
    f = symcomp.function([x], T.tanh(x) + 1)
    asm = f.dump("llvm")
    assert "GOMP_parallel" in asm and "omp_get_thread_num" in asm


_CHILD = textwrap.dedent("""
    import os, numpy as np, symcomp
    from symcomp import tensor as T
    symcomp.config.num_threads = 2
    symcomp.config.cache = False  # no background link of a shared object, whose thread would
    x = T.dvector("x")            # be counted, or not, depending on when it ends
    f = symcomp.function([x], T.exp(x))
    before = len(os.listdir("/proc/self/task"))
    f(np.zeros(10))           # small: stays on the calling thread
    small = len(os.listdir("/proc/self/task"))
    f(np.zeros(1_000_000))    # large: libgomp starts its team
    print(before, small, len(os.listdir("/proc/self/task")))
""")


@needs_openmp
@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_small_arrays_stay_single_threaded_large_ones_use_a_team(tmp_path):
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    before, small, large = map(int, out.stdout.split())
    assert small == before
    assert large > small


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape,axis", [((700, 301), 1), ((301, 700), 0), ((8, 90, 200), 1), ((50000, 3), 1)])
def test_softmax_rows_split_across_threads(nthreads, rng, log, shape, axis):
    x = T.tensor("float64", (None,) * len(shape), "x")
    op = T.nnet.log_softmax if log else T.nnet.softmax
    f = symcomp.function([x], op(x, axis=axis))
    a = rng.standard_normal(shape) * 30
    m = a.max(axis=axis, keepdims=True)
    s = np.log(np.exp(a - m).sum(axis=axis, keepdims=True))
    want = a - m - s if log else np.exp(a - m - s)
    np.testing.assert_allclose(f(a), want, rtol=1e-13, atol=1e-13 if log else 1e-300)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_prefetches_the_next_row(log):
    """The exp pass of a (log_)softmax over rows prefetches the next row, which the max pass reads
    next (symcomp.backends.cpu.lower.nnet); a vector is one row, with nothing to prefetch."""
    op = T.nnet.log_softmax if log else T.nnet.softmax
    m, t, v = T.dmatrix("m"), T.tensor("float64", (None, None, None), "t"), T.dvector("v")
    assert "@\"llvm.prefetch.p0\"" in symcomp.function([m], op(m)).dump("llvm")
    assert "@\"llvm.prefetch.p0\"" in symcomp.function([t], op(t, axis=2)).dump("llvm")
    assert "llvm.prefetch" not in symcomp.function([v], op(v, axis=-1)).dump("llvm")


_EXIT_CHILD = textwrap.dedent("""
    import numpy as np, symcomp
    from symcomp import tensor as T
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x) * T.sin(x))
    a = np.ones(1_000_000)
    for n in (1, 2, 1, 2):
        symcomp.config.num_threads = n
        f(a)
    print("ok")
""")


@pytest.mark.parametrize("policy", ["active", "passive"])
def test_process_exits_cleanly_whatever_the_wait_policy(tmp_path, policy):
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(tmp_path), OMP_WAIT_POLICY=policy)
    out = subprocess.run([sys.executable, "-c", _EXIT_CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


_FORK_CHILD = textwrap.dedent("""
    import multiprocessing as mp, numpy as np, symcomp
    from symcomp import tensor as T
    x, w = T.dmatrix("x"), T.dmatrix("w")
    f = symcomp.function([x, w], [T.exp(x) * 2.0, T.tanh(x @ w)])
    X, W = np.linspace(-1, 1, 1797 * 256).reshape(1797, 256), np.full((256, 300), 0.01)
    want = [np.exp(X) * 2.0, np.tanh(X @ W)]
    f(X, W)  # the parent's team exists now

    def child(q):
        symcomp.config.num_threads = 2  # asked for, but a forked child gets one thread
        got = f(X, W)
        q.put([bool(np.allclose(g, e, rtol=1e-12)) for g, e in zip(got, want)]
              + [symcomp.backends.cpu.runtime.openmp.num_threads()])

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    print(q.get(timeout=120))
    p.join()
    print("parent", bool(np.allclose(f(X, W)[1], want[1], rtol=1e-12)), symcomp.backends.cpu.runtime.openmp.num_threads())
""")


@needs_openmp
def test_a_forked_child_runs_compiled_code_on_one_thread(tmp_path):
    """libgomp cannot be used in a child forked after the parent ran a team (GCC bug 52303): the
    child's first threaded call used to hang.  The child now runs on one thread; the parent keeps
    its team."""
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(tmp_path), SYMCOMP_FLAGS="num_threads=2")
    out = subprocess.run([sys.executable, "-c", _FORK_CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["[True,", "True,", "1]", "parent", "True", "2"], out.stdout
