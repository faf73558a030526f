"""The disk cache as a trust boundary (issue 23, items 1, 2 and 10): private directories and files
whatever the umask, no use of a directory someone else owns or can write, the private OpenBLAS copy
checked against its source before it is loaded, entries that know their own key, no lock files
left behind."""

import os
import shutil
import stat
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.backends import private_files
from symcomp.backends.cpu.cache import objects
from symcomp.backends.cpu.runtime import background, host, teamblas


def _fresh_dir_state(monkeypatch):
    monkeypatch.setattr(objects, "_dir_verdicts", {})
    monkeypatch.setattr(objects, "_warned", set())


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


# -- item 1: private directories and files -------------------------------------------------------------

_UMASK_CHILD = """
    import os
    os.umask(0)
    import numpy as np, symcomp
    from symcomp import tensor as T
    from symcomp.backends.cpu.runtime import background
    a, b = T.dmatrix("a"), T.dmatrix("b")
    f = symcomp.function([a, b], T.exp(a @ b))
    A = np.arange(12.0).reshape(3, 4) / 10
    assert np.allclose(f(A, A.T), np.exp(A @ A.T))
    x = T.dvector("x")
    assert np.allclose(symcomp.function([x], x + 1.0)(np.zeros(3)), 1.0)
    background.wait(120)
"""


def test_cache_directories_are_0700_and_files_0600_under_umask_000_and_no_lock_file_is_left(tmp_path):
    cache = tmp_path / "parent" / "cache"  # neither exists yet
    _run(_UMASK_CHILD, dict(os.environ, SYMCOMP_CACHE_DIR=str(cache)))
    dirs = [cache.parent, cache] + [p for p in cache.rglob("*") if p.is_dir()]
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sco" for p in files) and any(p.suffix == ".scp" for p in files)
    if teamblas.available():
        assert (cache / "blas").is_dir() and list((cache / "blas").glob("*.json"))
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in dirs} == {p.name: "0o700" for p in dirs}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}
    assert [p.name for p in files if p.suffix == ".lock" or p.name.endswith(".tmp")] == []  # item 10


def test_lock_file_is_removed_after_a_miss(tmp_path, monkeypatch):
    _fresh_dir_state(monkeypatch)
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(tmp_path / "c"))
    entry, hit = objects.get_or_build("some ir", lambda key: objects.Entry(b"code", {"k": 1}))
    assert not hit and objects.load(objects.key_for("some ir")).obj == b"code"
    assert list((tmp_path / "c").glob("*.lock")) == []


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_a_cache_directory_others_can_write_is_refused_with_one_warning(tmp_path, monkeypatch, mode):
    _fresh_dir_state(monkeypatch)
    d = tmp_path / "shared-cache"
    d.mkdir()
    os.chmod(d, mode)
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(d))
    x = T.dvector("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = symcomp.function([x], T.exp(x) * 3.0 + 0.25)
        g = symcomp.function([x], T.exp(x) * 3.0 + 0.5)
    msgs = [str(w.message) for w in caught if "not using the compilation cache" in str(w.message)]
    assert len(msgs) == 1 and str(d) in msgs[0] and "writable by its group or by others" in msgs[0]
    np.testing.assert_allclose(f(np.zeros(2)), [3.25, 3.25])
    np.testing.assert_allclose(g(np.zeros(2)), [3.5, 3.5])
    assert list(d.iterdir()) == [], "nothing is read from or written to a refused directory"
    assert not objects.enabled()


def test_a_cache_directory_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    d = tmp_path / "theirs"
    d.mkdir(mode=0o700)
    owner = d.stat().st_uid
    assert private_files.untrusted_reason(d) is None
    reason = private_files.untrusted_reason(d, uid=owner + 1)
    assert reason is not None and f"owned by uid {owner}" in reason
    # The same through the cache, as this user would see it (works as root too: the uid is mocked).
    _fresh_dir_state(monkeypatch)
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(d))
    monkeypatch.setattr(os, "getuid", lambda: owner + 1)
    with pytest.warns(RuntimeWarning, match="not using the compilation cache.*owned by uid"):
        assert objects.usable_dir() is None
    assert objects.load(objects.key_for("x")) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_as_root_a_directory_chowned_to_another_user_is_refused(tmp_path, monkeypatch):
    d = tmp_path / "daemons"
    d.mkdir(mode=0o700)
    os.chown(d, 1, 1)
    _fresh_dir_state(monkeypatch)
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(d))
    with pytest.warns(RuntimeWarning, match="owned by uid 1"):
        assert not objects.enabled()
    link = tmp_path / "link"
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    link.symlink_to(mine)
    os.lchown(link, 1, 1)
    assert "symbolic link owned by uid 1" in private_files.untrusted_reason(link)


def test_make_private_dir_sets_0700_whatever_the_umask(tmp_path):
    old = os.umask(0o700)  # mkdir(0o700) alone would give 0000
    try:
        private_files.make_private_dir(tmp_path / "a" / "b")
        os.umask(0o777)
        private_files.make_private_dir(tmp_path / "c")
    finally:
        os.umask(old)
    for p in ("a", "a/b", "c"):
        assert stat.S_IMODE((tmp_path / p).stat().st_mode) == 0o700


# -- item 1 and 2: the private OpenBLAS copy is checked against its source -------------------------------

@pytest.fixture
def fake_source(tmp_path):
    src = tmp_path / "src" / "libfakeblas.so"
    src.parent.mkdir()
    src.write_bytes(os.urandom(1 << 20))
    return src


def test_blas_copy_planted_with_the_same_name_and_size_is_replaced(tmp_path, fake_source):
    folder = tmp_path / "cache" / "blas"
    dst = teamblas._cached_copy(fake_source, folder)
    assert dst.read_bytes() == fake_source.read_bytes()
    dst.write_bytes(os.urandom(fake_source.stat().st_size))  # same size, another library
    assert teamblas._cached_copy(fake_source, folder).read_bytes() == fake_source.read_bytes()


@pytest.mark.parametrize("how", ["in place", "replaced", "times restored"])
def test_blas_copy_damaged_without_changing_its_size_is_written_again(tmp_path, fake_source, how, monkeypatch):
    folder = tmp_path / "cache" / "blas"
    dst = teamblas._cached_copy(fake_source, folder)
    st = dst.stat()
    monkeypatch.setattr(teamblas, "_RACY_NS", -10**15)  # the record is trusted at once: stat alone decides
    if how == "in place":
        with open(dst, "r+b") as f:
            f.seek(1000)
            f.write(b"\x00" * 64)
    elif how == "replaced":
        tmp = folder / "other"
        tmp.write_bytes(os.urandom(st.st_size))
        os.replace(tmp, dst)
    else:  # an attacker of the same user who restores the times: the status-change time still moves
        with open(dst, "r+b") as f:
            f.seek(5)
            f.write(b"\xff" * 8)
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert teamblas._cached_copy(fake_source, folder).read_bytes() == fake_source.read_bytes()


def test_blas_copy_damaged_in_the_same_clock_tick_is_caught_by_the_racy_check(tmp_path, fake_source):
    folder = tmp_path / "cache" / "blas"
    dst = teamblas._cached_copy(fake_source, folder)
    st = dst.stat()
    with open(dst, "r+b") as f:
        f.write(b"\x00" * 16)
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert teamblas._cached_copy(fake_source, folder).read_bytes() == fake_source.read_bytes()


def test_blas_copy_is_not_read_again_while_nothing_changed(tmp_path, fake_source, monkeypatch):
    folder = tmp_path / "cache" / "blas"
    teamblas._cached_copy(fake_source, folder)
    teamblas._cached_copy(fake_source, folder)  # the copy was made just now: checked once more
    reads = []
    real = teamblas._sha256_file
    monkeypatch.setattr(teamblas, "_sha256_file", lambda p: reads.append(p) or real(p))
    monkeypatch.setattr(teamblas, "_RACY_NS", -10**15)
    teamblas._cached_copy(fake_source, folder)
    assert reads == []
    os.utime(fake_source)  # the source changed (as far as stat can tell): it is hashed, the copy kept
    dst = teamblas._cached_copy(fake_source, folder)
    assert reads == [fake_source] and dst.read_bytes() == fake_source.read_bytes()


def test_blas_copy_in_a_folder_others_can_write_is_refused(tmp_path, fake_source):
    folder = tmp_path / "blas"
    folder.mkdir()
    os.chmod(folder, 0o777)
    with pytest.raises(OSError, match="writable by its group or by others"):
        teamblas._cached_copy(fake_source, folder)


_PLANT = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void planted(void) {
    int fd = open("MARKER", O_CREAT | O_WRONLY, 0600);
    if (fd >= 0) close(fd);
}
"""

_PRODUCT_CHILD = """
    import numpy as np, symcomp
    from symcomp import tensor as T
    from symcomp.backends.cpu.runtime import teamblas
    a, b = T.dmatrix("a"), T.dmatrix("b")
    A = np.arange(600.0).reshape(30, 20) / 100
    B = np.linspace(-1, 1, 800).reshape(20, 40)
    got = symcomp.function([a, b], a @ b)(A, B)
    assert np.allclose(got, A @ B, rtol=1e-13), "wrong product"
    print(teamblas.available())
"""


@pytest.mark.skipif(host.numpy_ilp64_library() is None or not teamblas.available() or shutil.which("cc") is None,
                    reason="no private OpenBLAS copy in this environment, or no C compiler")
def test_a_planted_blas_library_of_the_right_size_is_never_loaded(tmp_path):
    """Before issue 23 a file of the copy's name and size was dlopen'ed as is: its constructor ran in
    every later process that multiplied matrices."""
    cache = tmp_path / "cache"
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(cache))
    assert _run(_PRODUCT_CHILD, env).stdout.split()[-1] == "True"
    (copy,) = (cache / "blas").glob("*.so")
    marker = tmp_path / "constructor-ran"
    c_file = tmp_path / "plant.c"
    c_file.write_text(_PLANT.replace("MARKER", str(marker)))
    planted = tmp_path / "plant.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(planted), str(c_file)], check=True, timeout=120)
    size = copy.stat().st_size
    data = planted.read_bytes()
    copy.write_bytes(data + b"\0" * (size - len(data)))  # same name, same size
    assert _run(_PRODUCT_CHILD, env).stdout.split()[-1] == "True"
    assert not marker.exists(), "the planted library's constructor ran"
    # and a copy damaged in place, same size, gives right products (checked in the child)
    with open(copy, "r+b") as f:
        f.seek(size // 2)
        f.write(os.urandom(4096))
    assert _run(_PRODUCT_CHILD, env).stdout.split()[-1] == "True"


# -- item 2: entries know their own key ---------------------------------------------------------------

def test_decode_rejects_an_entry_stored_under_another_key():
    blob = objects.encode(objects.Entry(b"code", {"a": 1}), "key-a")
    assert objects.decode(blob, "key-a").obj == b"code"
    assert objects.decode(blob, "key-b") is None
    assert objects.decode(blob) is not None  # no key given: only the checksum is checked


def _only(d, suffix):
    (p,) = [p for p in d.glob(f"*{suffix}")]
    return p


def test_swapped_pass_cache_entry_is_not_used(tmp_path, monkeypatch):
    """A's optimized IR replaced by B's (a valid entry of another function, checksum and all) made A
    silently compute B."""
    x = T.dvector("x")
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(b_dir))
    symcomp.function([x], x + 1.0)
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(a_dir))
    symcomp.function([x], T.exp(x))
    background.wait(60)
    shutil.copyfile(_only(b_dir, objects.OPTIMIZED_IR), _only(a_dir, objects.OPTIMIZED_IR))
    f = symcomp.function([x], T.exp(x))
    assert "passes (disk cache)" not in f.timings
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), [1.0, np.e])
    background.wait(60)
    assert symcomp.function([x], T.exp(x)).timings.get("passes (disk cache)") is not None  # written anew


_SWAP_CHILD = """
    import numpy as np, symcomp
    from symcomp import tensor as T
    x, y = T.dvector("x"), T.dvector("y")
    f = symcomp.function([x, y], T.exp(x) * y)
    for _ in range(3):
        assert np.allclose(f(np.array([0.0, 1.0]), np.array([2.0, 3.0])), [2.0, 3 * np.e])
    print(sorted(k for k in f.timings if k in ("cache_load", "machine_code")))
"""

_KEYS_CHILD = """
    from symcomp.backends.cpu.cache import objects
    print(objects.key_for("symcomp.fastcall in=(1, 1) out=(1,) single=True"))
"""


def test_swapped_object_entry_is_recompiled_in_every_later_process(tmp_path):
    """The call wrapper's entry (and its shared object) replaced by the function's: a later process
    raised ``KeyError: symbol symcomp_fastcall not found`` until the file was deleted by hand."""
    cache = tmp_path / "cache"
    env = dict(os.environ, SYMCOMP_CACHE_DIR=str(cache))
    _run(_SWAP_CHILD, env)
    wrapper = _run(_KEYS_CHILD, env).stdout.split()[-1]
    assert (cache / f"{wrapper}.sco").exists()
    (func_key,) = {p.stem for p in cache.glob("*.sco")} - {wrapper}
    for suffix in (".sco", ".so"):
        if (cache / f"{func_key}{suffix}").exists():
            shutil.copyfile(cache / f"{func_key}{suffix}", cache / f"{wrapper}{suffix}")
    _run(_SWAP_CHILD, env)  # detected, removed, compiled again
    assert "cache_load" in _run(_SWAP_CHILD, env).stdout  # and the new entries are good


def test_ptx_cache_is_private_and_rejects_another_kernels_file(tmp_path, monkeypatch):
    from symcomp.backends.cuda import ptx_cache

    root = tmp_path / "ptx"
    monkeypatch.setattr(ptx_cache, "cache_dir", lambda: str(root))
    monkeypatch.setattr(ptx_cache, "_toolchain", lambda: "toolchain")
    assert ptx_cache.ptx(("a",), lambda: "PTX A") == "PTX A"
    assert ptx_cache.ptx(("b",), lambda: "PTX B") == "PTX B"
    assert ptx_cache.ptx(("a",), lambda: "compiled again") == "PTX A"  # a hit
    files = {p.read_text().split("\n", 1)[1]: p for p in root.rglob("*.ptx")}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in files.values()} == {"0o600"}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in root.rglob("*") if p.is_dir()} == {"0o700"}
    shutil.copyfile(files["PTX B"], files["PTX A"])
    assert ptx_cache.ptx(("a",), lambda: "compiled again") == "compiled again"
