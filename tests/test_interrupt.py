"""Ctrl-C during a long native call: KeyboardInterrupt arrives long before the call would have
ended, and the function computes correctly afterwards (symcomp.backends.cpu.runtime.interrupt).

Each case runs in a subprocess that sends itself SIGINT from a thread (pytest and its workers
have SIGINT handlers of their own).  Bounds are ratios of the call's own uninterrupted duration,
measured in the same process, and generous: the machine may be loaded."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

_PRELUDE = textwrap.dedent("""
    import json, os, signal, threading, time
    import numpy as np
    import symcomp, symcomp.tensor as T
    symcomp.config.num_threads = 1  # calls long enough to interrupt on a machine of any size

    def timed(f, *args):
        t = time.perf_counter()
        r = f(*args)
        return r, time.perf_counter() - t

    def long_graph(a, b, c):
        # a fused body of transcendental functions: seconds for 1e7 elements on one thread
        e = a
        for _ in range(10):
            e = T.exp(T.sin(e) * T.cos(b)) + T.log1p(c * c) * T.tanh(e + b)
        return e

    def interrupted(f, *args, after=0.3):
        def kick():
            time.sleep(after)
            os.kill(os.getpid(), signal.SIGINT)
        th = threading.Thread(target=kick)
        t = time.perf_counter()
        th.start()
        try:
            f(*args)
            raised = False
        except KeyboardInterrupt:
            raised = True
        took = time.perf_counter() - t
        th.join()
        return raised, took
""")


def _run(body: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(body)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Exception in thread" not in proc.stderr, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_ctrl_c_stops_a_long_elementwise_call():
    r = _run("""
        a, b, c = T.dvector('a'), T.dvector('b'), T.dvector('c')
        f = symcomp.function([a, b, c], long_graph(a, b, c))
        n = 10**7
        x, y, z = (np.random.default_rng(k).random(n) for k in range(3))
        f(x[:100], y[:100], z[:100])
        want, full = timed(f, x, y, z)
        raised, took = interrupted(f, x, y, z, after=0.1)    # the native entry (fast path) is armed now
        again = f(x, y, z)
        raised2, took2 = interrupted(f, x, y, z, after=0.1)  # and once more: the flag was cleared
        print(json.dumps(dict(full=full, raised=raised, took=took, raised2=raised2, took2=took2,
                              same=bool(np.array_equal(again, want)))))
    """)
    assert r["raised"] and r["raised2"], r
    if r["full"] < 0.3:
        pytest.skip(f"the call takes {r['full']:.2f} s here: too short to show anything")
    assert r["took"] < 0.1 + 0.5 * r["full"] and r["took2"] < 0.1 + 0.5 * r["full"], r
    assert r["same"], r


def test_ctrl_c_stops_a_large_product():
    r = _run("""
        from symcomp.backends.cpu.runtime import teamblas
        A, B = T.dmatrix('A'), T.dmatrix('B')
        f = symcomp.function([A, B], T.dot(A, B))
        n = 3000
        x, y = (np.random.default_rng(k).random((n, n)) for k in range(2))
        f(x[:5, :5], y[:5, :5])
        want, full = timed(f, x, y)
        raised, took = interrupted(f, x, y, after=0.1)
        again = f(x, y)
        print(json.dumps(dict(team=teamblas.available(), full=full, raised=raised, took=took,
                              close=bool(np.allclose(again, x @ y)), same=bool(np.array_equal(again, want)))))
    """)
    if not r["team"]:
        pytest.skip("products do not run on symcomp's team here (one BLAS call, not interruptible)")
    assert r["raised"], r
    if r["full"] < 0.6:
        pytest.skip(f"the product takes {r['full']:.2f} s here: too short to show anything")
    assert r["took"] < 0.1 + 0.8 * r["full"], r
    assert r["close"] and r["same"], r


def test_sigint_handled_without_raising_lets_the_call_finish():
    """A program whose SIGINT handler raises nothing gets the call's full, correct result: the
    call stopped at the signal runs again."""
    r = _run("""
        seen = []
        signal.signal(signal.SIGINT, lambda *a: seen.append(1))
        a, b = T.dvector('a'), T.dvector('b')
        f = symcomp.function([a, b], long_graph(a, b, b))
        x, y = (np.random.default_rng(k).random(10**7) for k in range(2))
        want, full = timed(f, x, y)
        out = []
        raised, took = interrupted(lambda *a: out.append(f(*a)), x, y, after=0.1)
        print(json.dumps(dict(full=full, raised=raised, seen=len(seen), same=bool(np.array_equal(out[0], want)))))
    """)
    assert r["full"] > 0.3, r  # the signal (at 0.1 s) arrives during the call
    assert not r["raised"] and r["seen"] == 1 and r["same"], r


def test_call_on_another_thread_completes():
    """A SIGINT while a worker thread runs a long call: the main thread gets KeyboardInterrupt,
    the worker's call still returns the right result."""
    r = _run("""
        a, b = T.dvector('a'), T.dvector('b')
        f = symcomp.function([a, b], long_graph(a, b, b))
        x, y = (np.random.default_rng(k).random(10**7) for k in range(2))
        want, full = timed(f, x, y)
        out = []
        worker = threading.Thread(target=lambda: out.append(f(x, y)))
        worker.start()
        def wait():  # not worker.join: a KeyboardInterrupt inside Thread.join can leave it returning early
            while worker.is_alive():
                time.sleep(0.01)
        raised, took = interrupted(wait, after=0.1)
        worker.join()
        print(json.dumps(dict(full=full, raised=raised, same=bool(np.array_equal(out[0], want)))))
    """)
    assert r["full"] > 0.3, r
    assert r["raised"] and r["same"], r


def test_ctrl_c_on_the_python_path():
    """A function with a shared variable has no native entry: the Python path raises too."""
    r = _run("""
        a, b = T.dvector('a'), T.dvector('b')
        s = symcomp.shared(np.random.default_rng(2).random(10**7), name='s')
        f = symcomp.function([a, b], long_graph(a, b, s))
        x, y = (np.random.default_rng(k).random(10**7) for k in range(2))
        want, full = timed(f, x, y)
        raised, took = interrupted(f, x, y, after=0.1)
        again = f(x, y)
        print(json.dumps(dict(fast=f._fast is not None, full=full, raised=raised, took=took,
                              same=bool(np.array_equal(again, want)))))
    """)
    if r["full"] < 0.3:
        pytest.skip(f"the call takes {r['full']:.2f} s here: too short to show anything")
    assert not r["fast"], r
    assert r["raised"] and r["took"] < 0.1 + 0.5 * r["full"], r
    assert r["same"], r
