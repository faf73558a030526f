"""Matrix products split across symcomp's thread team, each thread calling a private
single-threaded copy of NumPy's OpenBLAS (symcomp.backends.cpu.runtime.teamblas, lower/linalg.py).

Every product is checked against NumPy's own matrix product.  The fixed sizes are above the
split threshold (m*n*k/8 >= 2^17 for gemm, m*k >= 2^17 for gemv), so their blocks run on the
team: row blocks where the result has at least as many rows as columns, column blocks
otherwise.  The hypothesis sizes straddle the threshold, so both sides of it are checked.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.toolchain import build
from symcomp.backends.cpu.runtime import host, teamblas
from symcomp.backends.cpu.codegen.loops import threads_available

needs_team = pytest.mark.skipif(not (threads_available() and teamblas.available()),
                                reason="no OpenMP runtime, or no private OpenBLAS copy (NumPy without ILP64 OpenBLAS)")


def _operand(rng, rows, cols, transposed, padded, dtype):
    """A row-major ``rows x cols`` operand, given as the transpose of a stored matrix or as a view
    of a wider one (leading dimension larger than the row)."""
    if transposed:
        store = rng.standard_normal((cols, rows + 3 if padded else rows)).astype(dtype)
        return store[:, :rows].T
    store = rng.standard_normal((rows, cols + 5 if padded else cols)).astype(dtype)
    return store[:, :cols]


@needs_team
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(m=st.integers(1, 400), n=st.integers(1, 400), k=st.integers(60, 700), ta=st.booleans(), tb=st.booleans(),
       padded=st.booleans(), dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_split_gemm_matches_numpy(nthreads, m, n, k, ta, tb, padded, dtype, seed):
    rng = np.random.default_rng(seed)
    A = _operand(rng, m, k, ta, padded, dtype)
    B = _operand(rng, k, n, tb, padded, dtype)
    a, b = T.matrix("a", dtype=dtype), T.matrix("b", dtype=dtype)
    got = symcomp.function([a, b], a @ b)(A, B)
    ref = A.astype(np.float64) @ B.astype(np.float64)
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.sqrt(k) * 4)


@needs_team
@pytest.mark.parametrize("m,k,n", [(1797, 64, 256), (64, 1797, 256), (256, 1797, 10), (33, 5000, 47)])
def test_split_gemm_accumulates_into_its_output(nthreads, m, k, n):
    """``c - 0.5 * a @ b`` folds into one gemm with BLAS beta = 1 (the SGD update of the MLP):
    every block must accumulate into its own part of the prefilled output only."""
    rng = np.random.default_rng(m + n)
    A, B, C = rng.standard_normal((m, k)), rng.standard_normal((k, n)), rng.standard_normal((m, n))
    a, b, c = T.dmatrix("a"), T.dmatrix("b"), T.dmatrix("c")
    f = symcomp.function([a, b, c], c - 0.5 * (a @ b))
    assert "symcomp_dgemm" in f.dump("llvm")
    np.testing.assert_allclose(f(A, B, C), C - 0.5 * (A @ B), rtol=1e-12, atol=1e-10)


@needs_team
@pytest.mark.parametrize("rows,cols", [(5000, 300), (300, 5000), (1, 200000), (200000, 1)])
def test_split_gemv_matches_numpy(nthreads, rows, cols):
    rng = np.random.default_rng(rows)
    A = rng.standard_normal((rows, cols))
    x, y = rng.standard_normal(cols), rng.standard_normal(rows)
    a, v = T.dmatrix("a"), T.dvector("v")
    np.testing.assert_allclose(symcomp.function([a, v], a @ v)(A, x), A @ x, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(symcomp.function([a, v], v @ a)(A, y), y @ A, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(symcomp.function([a, v], a.T @ v)(A, y), A.T @ y, rtol=1e-12, atol=1e-10)


@needs_team
def test_functions_calling_blas_split_products_and_loops_across_the_team():
    x, w = T.dmatrix("x"), T.dmatrix("w")
    ir = symcomp.function([x, w], T.tanh(T.dot(x, w)) * 2.0).dump("llvm-optimized")
    # one region for the product's blocks, one for the tanh loop
    assert ir.count("call void @GOMP_parallel") >= 2 and "symcomp_dgemm" in ir


def test_without_the_private_copy_blas_functions_keep_their_loops_on_the_calling_thread(monkeypatch):
    """The fallback: NumPy's multithreaded OpenBLAS, whose workers busy-wait after each call, so
    the function gets no team of its own."""
    monkeypatch.setattr(teamblas, "available", lambda: False)
    x, w = T.dmatrix("x"), T.dmatrix("w")
    assert build.blas_mode([]) == "none"
    f = symcomp.function([x, w], T.tanh(T.dot(x, w)) * 2.0)
    assert "GOMP_parallel" not in f.dump("llvm-optimized")
    without = symcomp.function([x], T.tanh(x) * 2.0)
    assert "GOMP_parallel" in without.dump("llvm-optimized") or not threads_available()


_CHILD = textwrap.dedent("""
    import json, os, numpy as np, symcomp
    from symcomp import tensor as T
    from symcomp.backends.cpu.runtime import teamblas
    from threadpoolctl import threadpool_info
    symcomp.config.cache = {cache}

    def numpy_threads():
        return [i["num_threads"] for i in threadpool_info()
                if i["internal_api"] == "openblas" and "numpy.libs" in i["filepath"]]

    before = numpy_threads()
    v = T.dvector("v")
    symcomp.function([v], T.exp(v))
    no_products_no_copy = not teamblas._state.get("copy_started")
    a, b = T.dmatrix("a"), T.dmatrix("b")
    A, B = np.arange(600.0).reshape(30, 20), np.ones((20, 40))
    ok = bool(np.allclose(symcomp.function([a, b], a @ b)(A, B), A @ B))
    lib = teamblas._state.get("handle")
    seen = [i["filepath"] for i in threadpool_info()
            if os.path.basename(i["filepath"]) == os.path.basename(teamblas._state["path"])]
    print(json.dumps({{"ok": ok, "team": teamblas.available(), "numpy_threads": [before, numpy_threads()], "seen": seen,
                      "copy_threads": lib.scipy_openblas_get_num_threads64_() if lib else None,
                      "env": os.environ.get("OPENBLAS_NUM_THREADS"),
                      "background": [no_products_no_copy, teamblas._state.get("copy_started"),
                                     "copy" in teamblas._state]}}))
""")


@pytest.mark.skipif(not teamblas.available(), reason="no private OpenBLAS copy in this environment")
@pytest.mark.parametrize("cache", [True, False])
def test_private_copy_is_single_threaded_hidden_and_leaves_numpy_and_the_environment_alone(tmp_path, cache):
    import json

    cache_dir, tmp = tmp_path / "cache", tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env.update(SYMCOMP_CACHE_DIR=str(cache_dir), TMPDIR=str(tmp))
    out = subprocess.run([sys.executable, "-c", _CHILD.format(cache=cache)], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["ok"] and res["team"] and res["copy_threads"] == 1 and res["env"] is None
    before, after = res["numpy_threads"]
    assert before and after == before
    assert res["seen"] == []  # threadpoolctl cannot find the copy, so it cannot give it threads
    # made by the background job that the products' compile started before its passes, and taken
    assert res["background"] == [True, True, False]
    copies = sorted((cache_dir / "blas").glob("*.so")) if (cache_dir / "blas").exists() else []
    if cache:  # written once, whole, under the source's name and size
        assert len(copies) == 1 and copies[0].stat().st_size == host.numpy_ilp64_library()[0].stat().st_size
    else:  # a temporary copy, removed once loaded
        assert copies == [] and list(tmp.iterdir()) == []


@needs_team
def test_concurrent_callers_each_get_their_own_split_products(nthreads):
    """Four Python threads call one function whose product and loops are split across the team:
    libgomp gives every calling thread a team of its own, and all of them call the private
    OpenBLAS at once."""
    from concurrent.futures import ThreadPoolExecutor

    x, w, c = T.dmatrix("x"), T.dmatrix("w"), T.dmatrix("c")
    f = symcomp.function([x, w, c], [T.tanh(x @ w) * 2.0, c - 0.5 * (x.T @ (x @ w))])
    rng = np.random.default_rng(7)
    cases = [(rng.standard_normal((rows, 64)), rng.standard_normal((64, 256)), rng.standard_normal((64, 256)))
             for rows in (1797, 900, 1797, 3000)]

    def work(k):
        X, W, C = cases[k % len(cases)]
        want = [np.tanh(X @ W) * 2.0, C - 0.5 * (X.T @ (X @ W))]
        for _ in range(10):
            for g, e in zip(f(X, W, C), want):
                np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-9)
        return k

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(work, range(8))) == list(range(8))


_FALLBACK_CHILD = textwrap.dedent("""
    import warnings, numpy as np, symcomp
    from symcomp import tensor as T
    from symcomp.backends.cpu.runtime import teamblas
    x, w = T.dmatrix("x"), T.dmatrix("w")
    X, W = np.linspace(-1, 1, 1797 * 64).reshape(1797, 64), np.full((64, 256), 0.01)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = symcomp.function([x, w], T.tanh(x @ w))
        ok = bool(np.allclose(f(X, W), np.tanh(X @ W), rtol=1e-12))
    print(ok, teamblas.available(), "GOMP_parallel" in f.dump("llvm"),
          [str(c.message)[:60] for c in caught if c.category is RuntimeWarning])
""")


@pytest.mark.skipif(host.numpy_ilp64_library() is None or not threads_available(),
                    reason="no ILP64 OpenBLAS in NumPy, or no OpenMP runtime: nothing to copy")
def test_a_copy_that_cannot_be_written_is_reported_and_products_still_run(tmp_path):
    """The copy's folder in the cache is a file here, so the copy cannot be written: a RuntimeWarning
    says so, and the function calls NumPy's OpenBLAS once per product, with its loops on one thread."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    (cache / "blas").write_text("")
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", _FALLBACK_CHILD], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    ok, team, threaded, warned = out.stdout.strip().splitlines()[-1].split(" ", 3)
    assert (ok, team, threaded) == ("True", "False", "False")
    assert "no private single-threaded copy of NumPy's OpenBLAS" in warned
