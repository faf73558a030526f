"""The on-disk cache of compiled object code (symcomp.backends.cpu.cache.objects)."""

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
from symcomp.backends.cpu.runtime import background


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    # The native call wrapper for one vector in, one vector out is compiled once per process
    # (and cached too): make it exist before the test's cache directory is chosen.
    x = T.dvector("x")
    symcomp.function([x], x * 1.5)
    d = tmp_path / "cache"
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(d))
    return d


def _compile(scale=2.0):
    x = T.dvector("x")
    return symcomp.function([x], T.exp(x) * scale + 1.0)


def _entries(d):
    return sorted(p for p in d.glob("*.sco")) if d.exists() else []


def test_second_compile_is_a_hit_and_computes_the_same(cache_dir):
    x = np.linspace(-3, 3, 37)
    f1 = _compile()
    assert "machine_code" in f1.timings and "cache_load" not in f1.timings
    assert len(_entries(cache_dir)) == 1
    f2 = _compile()
    assert "cache_load" in f2.timings and "machine_code" not in f2.timings
    np.testing.assert_allclose(f2(x), np.exp(x) * 2.0 + 1.0, rtol=1e-15)
    np.testing.assert_array_equal(f1(x), f2(x))
    # A hit still gives every dump stage (regenerated on request).
    assert "symcomp_main" in f2.dump("llvm") and "ret" in f2.dump("asm")


def test_different_graphs_get_different_entries(cache_dir):
    _compile(2.0)
    f = _compile(3.0)
    assert len(_entries(cache_dir)) == 2
    np.testing.assert_allclose(f(np.zeros(3)), np.full(3, 4.0))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_damaged_entry_is_detected_and_recompiled(cache_dir, damage):
    _compile()
    background.wait(60)  # the entry is stored again once its shared object is linked
    (path,) = _entries(cache_dir)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        pos = len(data) - 100  # inside the machine code
        path.write_bytes(data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(b"\x7fELF" + os.urandom(200))
    f = _compile()
    assert "machine_code" in f.timings, "a damaged entry must not be used"
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), [3.0, 2 * np.e + 1], rtol=1e-15)
    background.wait(60)
    assert path.read_bytes() == data, "the entry is rewritten whole"


def test_decode_checks_magic_length_and_checksum():
    e = objects.Entry(b"object bytes", {"slot_keys": [["p", 0, "d0"]], "needs_blas": False})
    blob = objects.encode(e)
    back = objects.decode(blob)
    assert back.obj == e.obj and back.meta == e.meta
    assert objects.decode(blob[:-1]) is None
    assert objects.decode(blob + b"x") is None
    assert objects.decode(b"XYMCOMP" + blob[7:]) is None
    assert objects.decode(blob[:40]) is None


def test_config_cache_off_writes_nothing(cache_dir):
    symcomp.config.cache = False
    try:
        f = _compile()
    finally:
        symcomp.config.cache = True
    assert _entries(cache_dir) == []
    assert "cache_load" not in f.timings
    np.testing.assert_allclose(f(np.zeros(2)), [3.0, 3.0])


def test_unwritable_directory_warns_and_still_compiles(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(objects, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = _compile(5.0)
    assert any("cache" in str(w.message) for w in caught)
    np.testing.assert_allclose(f(np.zeros(1)), [6.0])


def test_key_depends_on_ir_text_and_fingerprint(monkeypatch):
    k1, k2 = objects.key_for("module {}"), objects.key_for("module { }")
    assert k1 != k2 and len(k1) == 64
    monkeypatch.setattr(objects, "_fingerprint", ["another cpu"])
    assert objects.key_for("module {}") != k1


def test_default_directory_comes_from_platformdirs(monkeypatch):
    import platformdirs

    monkeypatch.delenv("SYMCOMP_CACHE_DIR", raising=False)
    assert str(objects.cache_dir()).startswith(platformdirs.user_cache_dir("symcomp", appauthor=False))


_CHILD = textwrap.dedent("""
    import numpy as np, symcomp
    from symcomp import tensor as T
    x = T.dmatrix("x"); w = T.dvector("w")
    f = symcomp.function([x, w], T.tanh(T.dot(x, w)).sum())
    r = f(np.arange(6.0).reshape(3, 2) / 10, np.array([0.5, -1.0]))
    print("hit" if "cache_load" in f.timings else "miss", repr(float(r)))
""")


def test_a_new_process_reuses_the_entry(cache_dir):
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(cache_dir))
    runs = [subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
            for _ in range(2)]
    (s1, v1), (s2, v2) = (r.stdout.split() for r in runs)
    assert (s1, s2) == ("miss", "hit")
    x = np.arange(6.0).reshape(3, 2) / 10
    assert float(v1) == float(v2) == pytest.approx(np.tanh(x @ np.array([0.5, -1.0])).sum(), rel=1e-14)


def test_timing_report_names_every_stage(cache_dir):
    f = _compile()
    rep = f.timing_report()
    for stage in ("front-end: trace", "pass: cse", "LLVM IR emission", "LLVM optimization", "machine code",
                  "load machine code", "total"):
        assert stage in rep
    assert "disk cache: miss" in rep
    assert "disk cache: hit" in _compile().timing_report()


def _pass_entries(d):
    return sorted(d.glob("*.scp")) if d.exists() else []


def test_optimized_ir_is_cached_and_reused(cache_dir):
    x = np.linspace(-3, 3, 37)
    f1 = _compile()
    assert "pass:cse" in f1.timings and "passes (disk cache)" not in f1.timings
    assert len(_pass_entries(cache_dir)) == 1
    f2 = _compile()
    assert "passes (disk cache)" in f2.timings and not any(k.startswith("pass:") for k in f2.timings)
    assert "passes: read from the disk cache" in f2.timing_report()
    for stage in ("traced", "canonicalize", "cse", "fuse", "optimized"):  # a hit replays them on request
        assert f1.dump(stage) == f2.dump(stage), stage
    assert f2.dump("traced") != f2.dump("optimized")
    np.testing.assert_allclose(f2(x), np.exp(x) * 2.0 + 1.0, rtol=1e-15)


def test_pipeline_is_part_of_the_pass_cache_key(cache_dir):
    x = T.dvector("x")
    symcomp.function([x], T.log(1 + x), mode="FAST_RUN")
    symcomp.function([x], T.log(1 + x), mode="FAST_COMPILE")
    f = symcomp.function([x], T.log(1 + x), mode="FAST_COMPILE")
    assert "passes (disk cache)" in f.timings
    assert len(_pass_entries(cache_dir)) == 2
    assert f(np.array([1e-20]))[0] == pytest.approx(1e-20, rel=1e-15)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_pass_entry_is_ignored(cache_dir, damage):
    _compile()
    (path,) = _pass_entries(cache_dir)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x00junk" * 50)
    f = _compile()
    assert "pass:cse" in f.timings, "a damaged entry must not be used"
    np.testing.assert_allclose(f(np.zeros(2)), np.full(2, 3.0))


def test_cache_off_writes_no_pass_entry(cache_dir):
    symcomp.config.cache = False
    try:
        f = _compile()
    finally:
        symcomp.config.cache = True
    assert _pass_entries(cache_dir) == [] and "passes (disk cache)" not in f.timings


def _add_program():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    return symcomp.function([x, y], x + y)  # the first program's line


def test_pass_cache_hit_reports_this_programs_source_lines(cache_dir):
    f1 = _add_program()
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f2 = symcomp.function([x, y], x + y)  # the second program's line
    assert "passes (disk cache)" in f2.timings
    for f, marker in ((f1, "the first program's line"), (f2, "the second program's line")):
        with pytest.raises(ValueError, match="incompatible dimensions") as info:
            f(np.zeros((2, 3)), np.zeros((2, 4)))
        line = next(i for i, t in enumerate(open(__file__), 1) if t.rstrip().endswith("# " + marker))
        assert f"test_cache.py:{line})" in str(info.value)


def test_source_fingerprint_covers_the_front_end_the_passes_call():
    """Rewrites build their replacements with symcomp.tensor, so a change there must invalidate
    cached optimized IR: the digest follows each file's size and modification time."""
    import symcomp.tensor.elemwise as mod

    path = mod.__file__
    st = os.stat(path)
    before = objects._source_digest()
    try:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert objects._source_digest() != before
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert objects._source_digest() == before
