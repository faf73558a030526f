"""Threads and processes: concurrent calls give correct results, the native call releases the GIL,
compilation is thread-safe, and the on-disk compilation cache is safe under concurrent processes and
survives damaged entries."""

import importlib.util
import os
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T


def test_concurrent_calls_give_correct_results():
    """Eight threads call one function (same and different shapes: shared plans, contended workspaces)."""
    x, y = T.dmatrix("x"), T.dvector("y")
    f = symcomp.function([x, y], [T.exp(x) * y - T.sum(x, axis=0), T.dot(T.tanh(x), y)])
    rng = np.random.default_rng(0)
    cases = [(rng.standard_normal((n, 50)), rng.standard_normal(50)) for n in (200, 200, 200, 31, 1, 0, 200, 77)]

    def expected(a, b):
        return [np.exp(a) * b - a.sum(axis=0), np.tanh(a) @ b]

    def work(k):
        a, b = cases[k % len(cases)]
        for _ in range(25):
            got = f(a, b)
            for g, w in zip(got, expected(a, b)):
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
        return k

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(work, range(32))) == list(range(32))


def test_the_native_call_releases_the_gil():
    """Another Python thread runs while this one is inside the compiled code, and only then.

    The switch interval is raised so high that the interpreter never takes the GIL from a running
    thread: a thread waiting for the GIL can only get it when the holder releases it.  So the counting
    thread can advance during ``f(a)`` only if the native call releases the GIL (it yields the GIL back
    every 1000 counts, letting the caller continue once the call returns).  Holding the GIL, the counter
    never moves; releasing it, the counter moves during the first call or, on a busy machine where the
    thread is not scheduled in time, one of the next.  No timing is measured.
    """
    x = T.dvector("x")
    f = symcomp.function([x], T.sum(T.sqrt(T.exp(T.sin(x)) + 1.0)))
    a = np.linspace(0.0, 1.0, 2_000_000)
    f(a)  # plan this signature now: the measured call then runs no planning code
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1
            if counter[0] % 1000 == 0:
                time.sleep(0)  # release the GIL, so that the caller can resume

    saved = sys.getswitchinterval()
    t = threading.Thread(target=count)
    sys.setswitchinterval(1000.0)
    try:
        t.start()
        while counter[0] == 0:
            time.sleep(0.001)
        for calls in range(1, 201):  # the other thread may need a few calls to be scheduled on a busy machine
            before = counter[0]
            f(a)
            if counter[0] > before:
                break
        during = counter[0] - before
    finally:
        stop.set()
        sys.setswitchinterval(saved)
        t.join()
    assert during > 0, f"the counting thread never ran during {calls} calls: the GIL was held"


def test_compiling_from_several_threads():
    def work(k):
        x = T.dvector("x")
        f = symcomp.function([x], T.exp(x) * float(k) + T.sum(x))
        a = np.arange(5.0)
        np.testing.assert_allclose(f(a), np.exp(a) * k + a.sum(), rtol=1e-14)
        return k

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(work, range(8))) == list(range(8))


# -- the on-disk compilation cache -------------------------------------------------------------------------
HAS_CACHE = importlib.util.find_spec("symcomp.backends.cpu.cache.objects") is not None
needs_cache = pytest.mark.skipif(not HAS_CACHE, reason="the on-disk compilation cache (symcomp.backends.cpu.cache.objects, "
                                                       "branch 'speed') is not in this build")

WORKER = textwrap.dedent("""
    import sys
    import numpy as np
    import symcomp
    from symcomp import tensor as T
    symcomp.config.cache = True
    x = T.dvector("x")
    f = symcomp.function([x], T.tanh(x) * 3.0 + T.sum(T.exp(x)))
    a = np.linspace(-1.0, 1.0, 11)
    assert np.allclose(f(a), np.tanh(a) * 3.0 + np.exp(a).sum(), rtol=1e-13)
    print("hit" if "cache_load" in f.timings else "miss")
""")


def _workers(cache_dir, n):
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(cache_dir))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(n)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(out.strip())
    return results


def _entries(cache_dir):
    return sorted(p for p in cache_dir.rglob("*") if p.is_file() and p.suffix == ".sco")


@needs_cache
def test_processes_compiling_the_same_function_at_once(tmp_path):
    """Four processes compile one function at once: all correct; one compiles (the others wait for its
    lock, then load its entry); a later process loads it too."""
    results = _workers(tmp_path, 4)
    assert sorted(results) == ["hit", "hit", "hit", "miss"], results
    assert _entries(tmp_path)
    assert _workers(tmp_path, 1) == ["hit"]


@needs_cache
@pytest.mark.parametrize("damage", ["truncate", "corrupt", "empty", "garbage"])
def test_a_damaged_entry_is_recompiled(tmp_path, damage):
    """Every entry damaged: detected, compiled again (correctly), and replaced by a good entry."""
    assert _workers(tmp_path, 1) == ["miss"]
    for entry in _entries(tmp_path):
        data = entry.read_bytes()
        if damage == "truncate":
            entry.write_bytes(data[: len(data) // 2])
        elif damage == "corrupt":
            i = len(data) // 2
            entry.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:])
        elif damage == "empty":
            entry.write_bytes(b"")
        else:
            entry.write_bytes(os.urandom(len(data)))
    assert _workers(tmp_path, 1) == ["miss"]
    assert _workers(tmp_path, 1) == ["hit"]
