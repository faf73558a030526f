"""Pickles as a trust boundary (issue 23, items 3 and 4): unpickling the same function again and
again (the Dask pattern: a worker receives the function with every task) keeps memory and call time
flat, and a pickle cannot make symcomp run the code of another function than the IR it carries."""

import ctypes
import gc
import pickle
import time

import numpy as np
import psutil
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.codegen import pyentry
from symcomp.compile import pickling


def _rss() -> int:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return psutil.Process().memory_info().rss


def _new_shape_call_seconds(blob, sizes) -> float:
    """Median time of a first call on a new shape (the Python path, which arms the native entry)."""
    times = []
    for n in sizes:
        g = pickle.loads(blob)
        a = np.ones(n)
        t = time.perf_counter()
        g(a)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def test_unpickling_the_same_function_many_times_keeps_memory_and_call_time_flat(monkeypatch):
    """Before issue 23 each load appended a native entry to the shared executable that nothing
    removed: +165 MB after 5,000 loads, and a call on a new shape re-armed every one of them
    (0.1 ms became 60-160 ms)."""
    x = T.dvector("x")
    blob = pickle.dumps(symcomp.function([x], T.exp(x) * 2.0 + 1.0))
    for _ in range(200):  # warm up: memo, plans, allocator pools
        pickle.loads(blob)(np.ones(3))
    before = _new_shape_call_seconds(blob, range(20, 40))
    rss0 = _rss()
    installs = []
    real_install = pyentry.FastCall.install
    monkeypatch.setattr(pyentry.FastCall, "install", lambda self, *a: installs.append(1) or real_install(self, *a))
    n = 5000
    for i in range(n):
        g = pickle.loads(blob)
        np.testing.assert_allclose(g(np.full(3, 0.5)), np.exp(0.5) * 2 + 1)
    rss1 = _rss()
    assert len(g.executable._fasts) <= 2, "native entries of dropped Functions are left in the executable"
    installs.clear()
    g(np.ones(7))  # a new shape: the Python path arms this Function's entry only
    assert len(installs) == 1
    monkeypatch.setattr(pyentry.FastCall, "install", real_install)
    after = _new_shape_call_seconds(blob, range(40, 60))
    assert rss1 - rss0 < 8e6, f"RSS grew by {(rss1 - rss0) / 1e6:.1f} MB over {n} loads"
    assert after < 10 * before + 1e-3, f"a new-shape call took {after * 1e3:.2f} ms after {n} loads, " \
                                       f"{before * 1e3:.2f} ms before"


class _Forged:
    """A pickle made by hand: ``state`` as the reducer of a symcomp Function would write it."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        return (pickling._rebuild_function, (self.state,))


def _state(f) -> dict:
    return dict(pickling.reduce_function(f)[1][0])


def test_a_pickle_carrying_another_functions_key_runs_its_own_ir():
    """The executable memo trusted the key stored in the pickle: a pickle whose IR says ``y + 1`` with
    the key of a loaded ``exp(x)`` returned exp."""
    x, y = T.dvector("x"), T.dvector("y")
    exp_f = pickle.loads(pickle.dumps(symcomp.function([x], T.exp(x))))  # in the memo now
    forged = _state(symcomp.function([y], y + 1.0))
    forged["key"] = pickling.content_key(exp_f)
    g = pickle.loads(pickle.dumps(_Forged(forged)))
    np.testing.assert_allclose(g(np.array([0.0, 1.0])), [1.0, 2.0])
    assert pickling.content_key(g) != pickling.content_key(exp_f)
    np.testing.assert_allclose(exp_f(np.array([0.0, 1.0])), [1.0, np.e])


def test_a_pickled_signature_that_does_not_fit_its_ir_is_refused():
    x = T.dvector("x")
    w = symcomp.shared(np.zeros(3), name="w")
    state = _state(symcomp.function([x], (x * w).sum(), updates={w: w + x}))
    cases = {
        "inputs": dict(state, inputs=[]),
        "shared": dict(state, shared=[symcomp.shared(np.zeros((2, 2)), name="m")]),
        "outputs": dict(state, n_outputs=3),
        "updates": dict(state, updates=[(5, 0)]),
        "ir": dict(state, ir=b"not text"),
    }
    for what, bad in cases.items():
        with pytest.raises(ValueError, match="cannot unpickle a symcomp Function"):
            pickle.loads(pickle.dumps(_Forged(bad)))
    good = pickle.loads(pickle.dumps(_Forged(state)))
    np.testing.assert_allclose(good(np.ones(3)), 0.0)
