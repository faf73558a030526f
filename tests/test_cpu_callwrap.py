"""The native call wrapper (symcomp.backends.cpu.codegen.pyentry): the same results and errors as the
Python path for every kind of argument, balanced reference counts, fallback on anything unusual."""

import sys
import types
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.codegen import pyentry

x, y = T.dvector("x"), T.dvector("y")
F = symcomp.function([x], x + 1)
G = symcomp.function([x, y], [x + y, x * y])


def _armed(f) -> bool:
    return bool(f.executable._fasts[-1]._ctx[pyentry._ENABLED])


def test_compiled_functions_get_a_native_entry():
    assert isinstance(type(F).__call__, types.BuiltinFunctionType)
    assert isinstance(F, symcomp.Function)
    F(np.ones(2))
    assert _armed(F)


def test_functions_with_shared_variables_keep_the_python_path():
    w = symcomp.shared(np.ones(2), name="w")
    f = symcomp.function([x], x * w, updates=[(w, w + 1)])
    assert not isinstance(type(f).__call__, types.BuiltinFunctionType)
    np.testing.assert_array_equal(f(np.ones(2)), [1, 1])
    np.testing.assert_array_equal(f(np.ones(2)), [2, 2])


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=40),
       st.sampled_from([1, 2, 3]))
def test_matches_numpy_for_any_length_and_step(values, step):
    a = np.array(values, dtype=np.float64)[::step]
    np.testing.assert_array_equal(F(a), a + 1)
    np.testing.assert_array_equal(F(a), a + 1)  # second call: the fast path for this signature


def test_alternating_signatures_rearm_the_wrapper(rng):
    a, b = rng.random(5), rng.random((2, 8))[:, ::2].copy()[0]
    for _ in range(3):
        np.testing.assert_array_equal(F(a), a + 1)
        np.testing.assert_array_equal(F(b), b + 1)


@pytest.mark.parametrize("arg", [
    [1.0, 2.0],                                          # a list
    np.array([1, 2], dtype=np.int32),                    # safely cast
    np.array([1.0, 2.0], dtype=">f8"),                   # byte-swapped
    np.frombuffer(b"\0" + np.arange(2.0).tobytes(), dtype=np.float64, offset=1),  # misaligned
    np.ones((3, 2))[:, 0],                               # strided view
    np.arange(2.0).view(type("Sub", (np.ndarray,), {})),  # subclass
], ids=["list", "int32", "byteswapped", "misaligned", "strided", "subclass"])
def test_unusual_arguments_take_the_python_path(arg):
    want = np.asarray(arg, dtype=np.float64) + 1
    for _ in range(2):
        got = F(arg)
        assert type(got) is np.ndarray
        np.testing.assert_array_equal(got, want)


def test_errors_are_the_python_paths():
    a = np.ones(3)
    G(a, a)
    with pytest.raises(ValueError, match="incompatible"):
        G(a, np.ones(4))
    with pytest.raises(TypeError, match="takes 2 arguments"):
        G(a)
    with pytest.raises(TypeError, match="complex128"):
        F(np.ones(3, dtype=np.complex128))
    with pytest.raises(TypeError, match="unexpected keyword"):
        F(a, z=a)
    np.testing.assert_array_equal(F(x=a), a + 1)


def test_native_error_status_raises_through_the_python_path():
    v = T.dvector("v")
    i = T.lvector("i")
    f = symcomp.function([v, i], v[i])
    a = np.arange(4.0)
    np.testing.assert_array_equal(f(a, np.array([3, 0])), [3.0, 0.0])
    with pytest.raises(IndexError):
        f(a, np.array([4, 0]))  # same signature as the armed one: the native status is checked
    np.testing.assert_array_equal(f(a, np.array([1, 1])), [1.0, 1.0])


def test_a_large_call_leaving_early_gives_the_context_back(rng):
    """A large call marks the context busy before checking its arguments: a mismatch, a native
    error status or a good call must each leave it free, so the next call is native again."""
    v, i = T.dvector("v"), T.lvector("i")
    f = symcomp.function([v, i], v[i] * 2.0)
    n = pyentry.MAX_ELEMENTS * 2
    a, idx = rng.random(n), rng.integers(0, n, n)
    ctx = lambda: f.executable._fasts[-1]._ctx  # noqa: E731
    np.testing.assert_array_equal(f(a, idx), a[idx] * 2.0)
    assert ctx()[pyentry._RELEASE] == 1 and ctx()[pyentry._BUSY] == 0 and _armed(f)
    np.testing.assert_array_equal(f(a, idx.astype(np.int32)), a[idx] * 2.0)  # dtype mismatch: slow path
    assert ctx()[pyentry._BUSY] == 0
    bad = idx.copy()
    bad[-1] = n  # out of bounds: the native status sends the call to the Python path, which raises
    with pytest.raises(IndexError):
        f(a, bad)
    assert ctx()[pyentry._BUSY] == 0
    np.testing.assert_array_equal(f(a, idx), a[idx] * 2.0)
    assert ctx()[pyentry._BUSY] == 0 and _armed(f)


def test_outputs_are_fresh_and_inputs_untouched(rng):
    a = rng.random(6)
    keep = a.copy()
    o1, o2 = F(a), F(a)
    assert o1 is not o2 and not np.shares_memory(o1, o2) and not np.shares_memory(o1, a)
    np.testing.assert_array_equal(a, keep)
    s, p = G(a, a)
    assert isinstance(G(a, a), list) and not np.shares_memory(s, p)


def test_scalars_and_no_outputs():
    s = T.dscalar("s")
    f = symcomp.function([s], s * 2)
    for _ in range(2):
        r = f(np.array(3.0))
        assert r.shape == () and r == 6.0
    g = symcomp.function([x], [], on_unused_input="ignore")
    assert g(np.ones(2)) == [] and g(np.ones(2)) == []


def test_reference_counts_balance(rng):
    a = rng.random(3)
    for _ in range(10):
        F(a), G(a, a)
    before = sys.getrefcount(a), sys.getrefcount(a.dtype)
    for _ in range(2000):
        F(a), G(a, a)
    assert (sys.getrefcount(a), sys.getrefcount(a.dtype)) == before


def test_large_signatures_use_the_native_path_without_the_gil(rng):
    a = rng.random(pyentry.MAX_ELEMENTS + 1)
    np.testing.assert_array_equal(F(a), a + 1)
    ctx = F.executable._fasts[-1]._ctx
    assert _armed(F) and ctx[pyentry._RELEASE] == 1 and ctx[pyentry._BUSY] == 0
    np.testing.assert_array_equal(F(a[:10]), a[:10] + 1)
    assert _armed(F) and ctx[pyentry._RELEASE] == 0


def test_concurrent_large_and_small_calls_from_threads(rng):
    """A call running without the GIL marks the context busy: calls arriving meanwhile (same or
    other signature) take the Python path and must not re-arm the context under it."""
    f = symcomp.function([x, y], [x * y + 1.0, T.sum(x - y)])
    sizes = (pyentry.MAX_ELEMENTS * 4, 5, pyentry.MAX_ELEMENTS * 4 + 1, 9) * 12
    pairs = [(rng.random(n), rng.random(n)) for n in sizes]
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda p: f(*p), pairs))
    for (a, b), (prod, total) in zip(pairs, outs):
        np.testing.assert_array_equal(prod, a * b + 1.0)
        np.testing.assert_allclose(total, np.sum(a - b), rtol=1e-12, atol=1e-9)
    assert f.executable._fasts[-1]._ctx[pyentry._BUSY] == 0


def test_concurrent_calls_from_threads(rng):
    arrays = [rng.random(n) for n in (3, 7, 3, 11) * 25]
    with ThreadPoolExecutor(4) as ex:
        outs = list(ex.map(lambda a: G(a, a), arrays))
    for a, (s, p) in zip(arrays, outs):
        np.testing.assert_array_equal(s, a + a)
        np.testing.assert_array_equal(p, a * a)


def test_trust_input_uses_the_same_entry():
    f = symcomp.function([x], x * 3, trust_input=True)
    a = np.arange(3.0)
    for _ in range(2):
        np.testing.assert_array_equal(f(a), a * 3)
