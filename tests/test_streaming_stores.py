"""Non-temporal ("streaming") stores of large outputs (symcomp.backends.cpu.codegen.loops._stream_flag).

Outputs at least as large as the last-level cache are written with ``vmovntp*`` after a peeled
head that aligns the main loop to the vector size.  Real outputs of that size take tens of MB,
so these tests shrink the threshold to a few hundred bytes (``last_level_cache_bytes``) and
compile anew: every shape then crosses it, and results must match NumPy exactly, with ragged
heads and tails, broadcasting, strided views, every dtype the store path takes, and threads.
"""

import contextlib
import platform

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.runtime import host, openmp
from symcomp.backends.cpu.codegen.loops import threads_available

X86 = platform.machine() in ("x86_64", "AMD64")
SMALL_LLC = 256  # bytes: 32 float64, 64 float32


@contextlib.contextmanager
def _threshold(nbytes):
    """Compile inside with ``last_level_cache_bytes() == nbytes`` and no disk cache (the cache key
    covers the real size, not this one)."""
    old_cache, saved = symcomp.config.cache, host.last_level_cache_bytes
    symcomp.config.cache = False
    host.last_level_cache_bytes = lambda: nbytes
    try:
        yield
    finally:
        host.last_level_cache_bytes = saved
        symcomp.config.cache = old_cache


@pytest.fixture(scope="module")
def fused():
    """dtype -> a*b+c and a*b+c with b broadcast along the rows, compiled with the small threshold."""
    out = {}
    with _threshold(SMALL_LLC):
        for dt in ("float32", "float64", "int32", "int64"):
            a, b, c = (T.tensor(dt, (None, None), n) for n in "abc")
            row = T.tensor(dt, (1, None), "row")
            out[dt] = (symcomp.function([a, b, c], a * b + c), symcomp.function([a, row], a * row + a))
    return out


@settings(max_examples=60, deadline=None)
@given(dt=st.sampled_from(["float32", "float64", "int32", "int64"]),
       rows=st.integers(1, 4), cols=st.integers(0, 300), seed=st.integers(0, 2**32 - 1))
def test_streamed_outputs_match_numpy(fused, dt, rows, cols, seed):
    rng = np.random.default_rng(seed)
    a, b, c = ((rng.random((rows, cols)) * 100).astype(dt) for _ in range(3))
    f, g = fused[dt]
    np.testing.assert_array_equal(f(a, b, c), a * b + c)
    r = b[:1]
    np.testing.assert_array_equal(g(a, r), a * r + a)


def test_output_in_fresh_pages(fused):
    """A result above glibc's mmap threshold (32 MiB) comes in pages not yet touched: the
    residency check sends it to the regular stores, with the same result."""
    rng = np.random.default_rng(2)
    a, b, c = (rng.random((2, 2_500_001)) for _ in range(3))  # 40 MB
    f, _ = fused["float64"]
    np.testing.assert_array_equal(f(a, b, c), a * b + c)


def test_strided_inputs_and_offsets_into_a_view(fused):
    rng = np.random.default_rng(0)
    big = rng.random((5, 403))
    a, b, c = big[:, 3:], big[:, :400] * 2, big[::-1, 1:401]  # inputs start off the vector grid
    f, _ = fused["float64"]
    np.testing.assert_array_equal(f(a, b, c), a * b + c)
    at = np.asfortranarray(a)  # non-unit inner stride: the scalar loop
    np.testing.assert_array_equal(f(at, b, c), a * b + c)


@pytest.mark.skipif(not threads_available(), reason="libgomp is not available")
def test_streamed_outputs_split_across_threads():
    n = 4 * openmp.MIN_PARALLEL_ELEMENTS + 37
    old = symcomp.config.num_threads
    try:
        with _threshold(SMALL_LLC):
            x, y = T.dvector("x"), T.dvector("y")
            f = symcomp.function([x, y], T.exp(-x * x / 2) * y + 1.0)
        rng = np.random.default_rng(1)
        a, b = rng.random(n), rng.random(n)
        symcomp.config.num_threads = 1
        serial = f(a, b)
        symcomp.config.num_threads = 2
        np.testing.assert_array_equal(f(a, b), serial)
        np.testing.assert_allclose(serial, np.exp(-a * a / 2) * b + 1.0, rtol=1e-15)
    finally:
        symcomp.config.num_threads = old


@pytest.mark.skipif(not X86, reason="non-temporal stores are emitted on x86-64 only")
def test_large_stores_are_non_temporal_and_fenced_reductions_are_not():
    with _threshold(SMALL_LLC):
        x = T.dvector("x")
        streamed = symcomp.function([x], x * 2 + 1).dump("asm")
        reduced = symcomp.function([x], T.sum(x * 2)).dump("asm")
    assert "vmovntp" in streamed or "movntp" in streamed, "no non-temporal store in the elementwise loop"
    assert "sfence" in streamed
    assert "mincore" in streamed  # a freshly mapped output is written with regular stores
    assert "movntp" not in reduced


def test_last_level_cache_size_is_read_from_sysfs_or_defaults(monkeypatch):
    size = host.last_level_cache_bytes()
    assert isinstance(size, int) and size >= 1 << 20
    import os

    def listing(path):
        raise FileNotFoundError(path)

    monkeypatch.setattr(os, "listdir", listing)
    monkeypatch.delitem(host._memo, "llc")
    assert host.last_level_cache_bytes() == host.DEFAULT_LLC_BYTES
    monkeypatch.setitem(host._memo, "llc", size)  # restored for the rest of the process


def test_last_level_cache_is_the_outermost_sysfs_index(monkeypatch, tmp_path):
    """index10 sorts before index2 as text: the outermost level is the highest number."""
    base = tmp_path / "cache"
    for i, size in [(0, "48K"), (2, "1024K"), (3, "32768K"), (10, "260M")]:
        (base / f"index{i}").mkdir(parents=True)
        (base / f"index{i}" / "size").write_text(size + "\n")
    import os

    real_listdir, real_open = os.listdir, open

    def redirect(path):
        return str(path).replace("/sys/devices/system/cpu/cpu0/cache", str(base))

    monkeypatch.setattr(os, "listdir", lambda p: real_listdir(redirect(p)))
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: real_open(redirect(p), *a, **k))
    saved = host._memo.pop("llc", None)
    try:
        assert host.last_level_cache_bytes() == 260 << 20
    finally:
        host._memo.pop("llc", None)
        if saved is not None:
            host._memo["llc"] = saved
