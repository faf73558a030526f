"""Cached machine code loaded as a shared object, without LLVM (symcomp.backends.cpu.cache.sharedlib)."""

import ctypes
import hashlib
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.cache import objects
from symcomp.backends.cpu.toolchain import machine
from symcomp.backends.cpu.runtime import background, openmp
from symcomp.backends.cpu.cache import sharedlib

needs_linker = pytest.mark.skipif(sharedlib.linker() is None or sharedlib.platform.machine() != "x86_64",
                                  reason="no C compiler driver to link shared objects, or not x86-64")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    # The native call wrappers these tests use are compiled once per process: make them exist
    # before the test's cache directory is chosen.
    x, m, n = T.dvector("x"), T.dmatrix("m"), T.dmatrix("n")
    symcomp.function([x], x * 1.5)
    symcomp.function([m, n], T.dot(m, n))
    d = tmp_path / "cache"
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(d))
    return d


def _exp_fn():
    x = T.dvector("x")
    return symcomp.function([x], T.exp(x) * 2.0 + 1.0)


def _module(f):
    return f.executable.jit


@needs_linker
def test_a_hit_loads_the_shared_object_and_computes_the_same(cache_dir):
    x = np.linspace(-3, 3, 37)
    cold = _exp_fn()
    assert isinstance(_module(cold), machine.JitModule)
    background.wait(60)  # the shared object is linked in the background
    assert len(_shared_files(cache_dir)) == 1
    warm = _exp_fn()
    assert isinstance(_module(warm), sharedlib.SharedModule) and "load_shared" in warm.timings
    np.testing.assert_array_equal(warm(x), cold(x))
    np.testing.assert_allclose(warm(x), np.exp(x) * 2.0 + 1.0, rtol=1e-15)
    # dumps still work (LLVM is initialized on request)
    assert "symcomp_main" in warm.dump("llvm") and "ret" in warm.dump("asm")


@needs_linker
def test_the_background_link_writes_where_its_compile_read(cache_dir, tmp_path, monkeypatch):
    """The shared object is linked after the compile returns: into the cache directory of that
    compile, even if the setting changed meanwhile (tests and programs switch it)."""
    import threading

    release, real_build = threading.Event(), sharedlib.build
    monkeypatch.setattr(sharedlib, "build", lambda *a: release.wait(60) and real_build(*a))
    f = _exp_fn()
    other = tmp_path / "other-cache"
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(other))
    release.set()
    assert background.wait(60)
    assert len(_shared_files(cache_dir)) == 1 and not other.exists()
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(cache_dir))
    key, entry = _function_entry(cache_dir)
    assert entry.meta["shared"]["sha256"] == hashlib.sha256((cache_dir / f"{key}.so").read_bytes()).hexdigest()
    np.testing.assert_allclose(f(np.array([0.0])), [3.0], rtol=1e-15)


def _mlp(init):
    x, t = T.dmatrix("x"), T.lvector("t")
    params = [symcomp.shared(v.copy(), name=f"p{i}") for i, v in enumerate(init)]
    h = T.tanh(T.dot(x, params[0]) + params[1])
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, params[2]) + params[3]), t))
    grads = T.grad(loss, params)
    f = symcomp.function([x, t], loss, updates=[(p, p - 0.5 * g) for p, g in zip(params, grads)])
    return f, params


@needs_linker
def test_warm_mlp_training_steps_equal_the_cold_ones(cache_dir):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 8)), rng.integers(0, 3, 50)
    init = [rng.normal(scale=0.3, size=(8, 16)), np.zeros(16), rng.normal(scale=0.3, size=(16, 3)), np.zeros(3)]
    runs = []
    for _ in range(2):
        f, params = _mlp(init)
        losses = [float(f(X, y)) for _ in range(3)]
        runs.append((f, losses, [p.get_value() for p in params]))
    (cold, l1, p1), (warm, l2, p2) = runs
    assert isinstance(_module(cold), machine.JitModule) and isinstance(_module(warm), sharedlib.SharedModule)
    assert l1 == l2
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a, b)
    # the reference: NumPy's forward pass of the first step
    h = np.tanh(X @ init[0] + init[1])
    z = h @ init[2] + init[3]
    logp = z - z.max(1, keepdims=True) - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True))
    assert l2[0] == pytest.approx(-logp[np.arange(50), y].mean(), rel=1e-13)


@needs_linker
def test_warm_blas_function(cache_dir):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(30, 20)), rng.normal(size=(20, 7))
    fns = []
    for _ in range(2):
        m, n = T.dmatrix("m"), T.dmatrix("n")
        fns.append(symcomp.function([m, n], T.dot(m, n) * 3.0))
    assert isinstance(_module(fns[1]), sharedlib.SharedModule)
    np.testing.assert_allclose(fns[1](a, b), a @ b * 3.0, rtol=1e-13)


@needs_linker
def test_thread_count_reaches_a_loaded_shared_object(cache_dir):
    x = np.linspace(-1, 1, 1 << 18)  # large enough for a thread team
    old = symcomp.config.num_threads
    try:
        fns = [_exp_fn() for _ in range(2)]
        mod = _module(fns[1])
        assert isinstance(mod, sharedlib.SharedModule)
        copy = ctypes.c_int32.from_address(mod._address(sharedlib.THREADS_EXPORT))
        for n in (1, 2, 3):
            symcomp.config.num_threads = n
            assert copy.value == n == openmp.num_threads()
            np.testing.assert_allclose(fns[1](x), np.exp(x) * 2.0 + 1.0, rtol=1e-15)
    finally:
        symcomp.config.num_threads = old


def _shared_files(d):
    return sorted(d.glob("*.so"))


def _function_entry(d):
    """The cache entry (key, Entry) of the one compiled function in ``d`` (the wrapper is elsewhere)."""
    for p in d.glob("*.sco"):
        e = objects.load(p.stem)
        if e is not None and "slot_keys" in e.meta:
            return p.stem, e
    raise AssertionError("no function entry")


@needs_linker
@pytest.mark.parametrize("damage", ["truncate", "flip", "missing"])
def test_damaged_shared_object_falls_back_to_the_jit(cache_dir, damage):
    _exp_fn()
    background.wait(60)
    key, _ = _function_entry(cache_dir)
    so = cache_dir / f"{key}{sharedlib.SUFFIX}"
    data = so.read_bytes()
    if damage == "truncate":
        so.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        so.write_bytes(data[:200] + bytes([data[200] ^ 0xFF]) + data[201:])
    else:
        so.unlink()
    f = _exp_fn()
    assert isinstance(_module(f), machine.JitModule) and "cache_load" in f.timings
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), [3.0, 2 * np.e + 1], rtol=1e-15)
    assert not so.exists(), "a damaged shared object is removed"


@needs_linker
def test_shared_object_that_fails_to_load_warns_and_falls_back(cache_dir):
    _exp_fn()
    background.wait(60)
    key, entry = _function_entry(cache_dir)
    so = cache_dir / f"{key}{sharedlib.SUFFIX}"
    so.write_bytes(b"\x7fELF not really a shared object")
    entry.meta["shared"]["sha256"] = hashlib.sha256(so.read_bytes()).hexdigest()
    objects.store(key, entry)
    sharedlib._warned.clear()
    with pytest.warns(RuntimeWarning, match="cannot load the cached shared object"):
        f = _exp_fn()
    assert isinstance(_module(f), machine.JitModule)
    np.testing.assert_allclose(f(np.array([0.0])), [3.0], rtol=1e-15)


def test_without_a_linker_the_cache_still_works(cache_dir, monkeypatch):
    monkeypatch.setattr(sharedlib.shutil, "which", lambda *a, **k: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cold = _exp_fn()
        warm = _exp_fn()
    assert not _shared_files(cache_dir) and "shared" not in _function_entry(cache_dir)[1].meta
    assert "cache_load" in warm.timings and isinstance(_module(warm), machine.JitModule)
    x = np.linspace(0, 1, 5)
    np.testing.assert_array_equal(warm(x), cold(x))


@pytest.mark.skipif(sharedlib.platform.machine() != "x86_64", reason="shared objects are made on x86-64 only")
def test_a_failed_link_warns_once_and_the_cache_still_works(cache_dir, monkeypatch, tmp_path):
    fake_cc = tmp_path / "fake-cc"
    fake_cc.write_text("#!/bin/sh\necho 'fake-cc: cannot link' >&2\nexit 3\n")
    fake_cc.chmod(0o755)
    monkeypatch.setenv("CC", str(fake_cc))
    sharedlib._warned.clear()
    with pytest.warns(RuntimeWarning, match=r"failed \(status 3\): fake-cc: cannot link"):
        cold = _exp_fn()
        background.wait(60)  # the link runs in the background
    warm = _exp_fn()
    assert not _shared_files(cache_dir) and "shared" not in _function_entry(cache_dir)[1].meta
    assert "cache_load" in warm.timings and isinstance(_module(warm), machine.JitModule)
    np.testing.assert_array_equal(warm(np.linspace(0, 1, 5)), cold(np.linspace(0, 1, 5)))


def test_shim_names_are_the_externals_mcjit_resolves():
    declared = ["exp", "symcomp_dgemm", "GOMP_parallel", "omp_get_thread_num", "symcomp_PyList_New",
                "llvm.memcpy.p0.p0.i64", "_ZGVeN8v_log"]
    assert sharedlib.shim_names(declared) == ["GOMP_parallel", "omp_get_thread_num", "symcomp_PyList_New",
                                           "symcomp_dgemm"]


_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import symcomp
    from symcomp import tensor as T

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 6)), rng.integers(0, 4, 40)
    init = [rng.normal(scale=0.3, size=(6, 12)), np.zeros(12), rng.normal(scale=0.3, size=(12, 4)), np.zeros(4)]
    x, t = T.dmatrix("x"), T.lvector("t")
    params = [symcomp.shared(v, name=f"p{i}") for i, v in enumerate(init)]
    h = T.tanh(T.dot(x, params[0]) + params[1])
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, params[2]) + params[3]), t))
    step = symcomp.function([x, t], loss, updates=[(p, p - 0.5 * g) for p, g in zip(params, T.grad(loss, params))])
    v = T.dvector("v")
    g = symcomp.function([v], T.tanh(v) * 2.0)  # no shared variables: the native call wrapper
    losses = [float(step(X, y)) for _ in range(2)]
    a = np.linspace(-2, 2, 9)
    outs = [g(a), g(a)]  # the second call takes the native wrapper's fast path
    print("hit" if "cache_load" in step.timings and "cache_load" in g.timings else "miss")
    print("llvm" if "llvmlite.binding" in sys.modules else "no-llvm")
    print("builder" if {"llvmlite.ir", "symcomp.backends.cpu.codegen.context"} & set(sys.modules) else "no-builder")
    print("passes" if "symcomp.passes.canonicalize" in sys.modules else "no-passes")
    with open("/proc/self/maps") as maps:  # LLVM's library itself, loaded by no import
        print("llvm-lib" if "libllvmlite" in maps.read() else "no-llvm-lib")
    print(repr(losses[0]), repr(losses[1]), repr(float(np.abs(outs[1] - np.tanh(a) * 2.0).max())))
""")


@needs_linker
def test_a_warm_process_never_loads_llvm(tmp_path):
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
            .stdout.split("\n") for _ in range(2)]
    assert runs[0][:5] == ["miss", "llvm", "builder", "passes", "llvm-lib"]
    assert runs[1][:5] == ["hit", "no-llvm", "no-builder", "no-passes", "no-llvm-lib"], \
        "a warm process loads neither LLVM (not even its library), nor the IR builder and code " \
        "generators, nor any pass"
    assert runs[0][5] == runs[1][5], "the warm process computes exactly what the cold one did"
    l1, l2, err = map(float, runs[1][5].split())
    assert l2 < l1 and err <= 1e-15


def test_cpu_identity_comes_from_cpuinfo_else_from_llvm(monkeypatch):
    from symcomp.backends.cpu.runtime import host

    with open("/proc/cpuinfo") as f:
        flags = next(line for line in f if line.startswith(("flags", "Features"))).split(":", 1)[1].split()
    assert len(host.cpu_identity()) == 64 and flags  # a digest of the first processor's facts
    monkeypatch.setattr(host, "cpu_identity", lambda: "")
    tgt = machine.target()
    assert objects._cpu_identity() == f"{tgt.cpu}:{tgt.features}"


@needs_linker
def test_where_no_thread_can_start_the_background_work_runs_in_the_caller(cache_dir, monkeypatch):
    """Python 3.12+ refuses new threads while the interpreter shuts down: the link, the BLAS
    copy and LLVM's library load then run in the compiling thread, and the entry still gets
    its shared object."""
    import threading

    def refuse(self):
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    m, n = T.dmatrix("m"), T.dmatrix("n")
    f = symcomp.function([m, n], T.exp(T.dot(m, n)) + 1.0)
    a, b = np.linspace(-1, 1, 12).reshape(3, 4), np.linspace(0, 1, 8).reshape(4, 2)
    np.testing.assert_allclose(f(a, b), np.exp(a @ b) + 1.0, rtol=1e-14)
    key, entry = _function_entry(cache_dir)
    assert "shared" in entry.meta and (cache_dir / f"{key}{sharedlib.SUFFIX}").exists()


@needs_linker
def test_the_linker_gets_an_environment_of_its_own(monkeypatch, tmp_path):
    """The link runs in a background thread, and its child (started with vfork) must not read the
    process's ``environ`` while another thread's putenv reallocates it: the test suite saw the
    exec fail with EFAULT about once in 400 links.  So the linker gets a copy."""
    seen = {}
    real_run = sharedlib.subprocess.run

    def run(cmd, **kwargs):
        seen.update(kwargs)
        return real_run(cmd, **kwargs)

    monkeypatch.setattr(sharedlib.subprocess, "run", run)
    monkeypatch.setenv("SYMCOMP_TEST_MARK", "1")
    x = T.dvector("x")
    ref = machine.parse(symcomp.function([x], T.exp(x) * 3.0).dump("llvm"))
    assert sharedlib.link(machine.emit_object(ref), sharedlib.shim_names(machine.declared_functions(ref)), tmp_path / "x.so")
    assert isinstance(seen.get("env"), dict) and seen["env"].get("SYMCOMP_TEST_MARK") == "1"
