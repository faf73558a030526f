"""A private, single-threaded copy of NumPy's OpenBLAS, called by every thread of symcomp's team.

Why.  NumPy's OpenBLAS runs its own pthreads pool, and after each call its workers busy-wait
for more work (OpenBLAS's ``THREAD_TIMEOUT``: 2^28 cycles, about 0.1 s).  A function that
calls BLAS and also runs threaded loops then has two thread pools fighting for the cores, so
such functions used to run their loops on one thread.  Instead, a function that calls BLAS now
splits each matrix product into blocks of rows or columns itself, one block per thread of its
libgomp team (:func:`symcomp.backends.cpu.codegen.parallel.emit_parallel_for`, called by
:mod:`symcomp.backends.cpu.lower.linalg`), and each thread calls this copy, set to one thread.
One pool then runs the products and the loops around them.  The digits MLP step (1797 rows,
2 cores) went from 1.64 to 1.44-1.49 ms, against JAX's 1.63-1.68 (docs/performance.md,
"Threads").

How.  The dynamic linker hands back the library already loaded for the same file, so the copy
is a real file:

* with the disk cache on, it is written once to ``<cache_dir>/blas/`` under the source's name
  (behind :data:`_PREFIX`) and size (25 MB for NumPy 2.4's), through a temporary name and
  ``os.replace``, so that concurrent writers are harmless.  Before it is loaded it is checked
  to hold the source's bytes (:func:`_cached_copy`: a record of digests and ``stat`` facts
  spares the 25 MB read while nothing changed); a copy that differs is written again, so a
  damaged or planted file is never loaded.  The folder is private like the cache
  (:mod:`symcomp.backends.private_files`).  Copies of older OpenBLAS builds are not removed:
  another environment sharing the cache directory may still use them;
* with the cache off, it goes to a temporary directory and is unlinked as soon as it is loaded.

The copy is made in a background thread started before the passes of the first function with
matrix products (:func:`start_copy`), so that it overlaps them.

It is loaded with ``OPENBLAS_NUM_THREADS=1`` in the environment, which OpenBLAS's constructor
reads, so that it starts no threads of its own.  The previous value is restored right after.
OpenBLAS is thread-safe for concurrent calls (its buffers are allocated under a lock).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path

from symcomp.backends.cpu.runtime import background, host
from symcomp.backends.private_files import make_private_dir, untrusted_reason, write_private

_state: dict = {}
_copy_lock = threading.Lock()
_COPY_JOB = "teamblas-copy"
_PREFIX = "symcomp-private-"
"""Start of the copy's file name.  Not ``lib...``: threadpoolctl recognizes OpenBLAS by file name
(``libscipy_openblas``...), and a ``threadpool_limits(4)`` would then give every thread of the team
a 4-thread BLAS.  symcomp's own threads follow ``symcomp.config.num_threads``."""


def addresses() -> dict:
    """``{routine: address}`` for every routine of :data:`host.BLAS_ROUTINES` in the private copy
    (ILP64 interface, like NumPy's), or {} where products do not run on the team.

    They do not where there is no OpenMP runtime, or NumPy bundles no ILP64 OpenBLAS (both
    silently: nothing is lost that the process had), or the copy can be neither written nor
    loaded, for example with a cache directory on a ``noexec`` file system (a RuntimeWarning
    says why).  Generated code then calls NumPy's OpenBLAS once per product and runs its loops
    on the calling thread.  Computed once per process.
    """
    return host.once("teamblas", _load)


def available() -> bool:
    """Whether BLAS calls run on the thread team through the private copy (see :func:`addresses`)."""
    return bool(addresses())


def start_copy() -> None:
    """Start making the private copy in a background thread (:mod:`symcomp.backends.cpu.runtime.background`),
    so that the file copy, 25 MB and 10-16 ms the first time, overlaps the passes; :func:`addresses`
    waits for it.  Called for a function with matrix products before its passes run (it does
    nothing once the copy is loaded, or where NumPy has no ILP64 OpenBLAS to copy)."""
    with _copy_lock:
        if _state.get("copy_started") or host.is_known("teamblas"):
            return
        found = host.numpy_ilp64_library()
        if found is None:
            return
        _state["copy_started"] = True
        background.start(_COPY_JOB, _copy_job, found[0], _copy_folder(), name="symcomp-blas-copy")


def _copy_folder():
    """Where the copy goes: the cache's ``blas`` folder, or None with the cache off."""
    from symcomp.backends.cpu.cache import objects

    return objects.cache_dir() / "blas" if objects.enabled() else None


def _copy_job(src: Path, folder) -> None:
    try:
        _state["copy"] = _make_copy(src, folder)
    except OSError as exc:
        _state["copy"] = exc


def _take_copy(src: Path):
    """(path, scratch directory or None) of the copy: the one :func:`start_copy` made, else made now.

    Raises:
        OSError: the copy could not be written.
    """
    background.join(_COPY_JOB)
    made = _state.pop("copy", None)
    if made is None:  # not started (or this is a child forked while it ran)
        made = _make_copy(src, _copy_folder())
    if isinstance(made, OSError):
        raise made
    return made


def _make_copy(src: Path, folder):
    """Write the copy into ``folder`` (the cache's), or into a new temporary directory where
    ``folder`` is None (returned as the scratch directory, to remove once the copy is loaded)."""
    if folder is not None:
        return _cached_copy(src, folder), None
    scratch = Path(tempfile.mkdtemp(prefix="symcomp-blas-"))
    path = scratch / f"{_PREFIX}{src.name}"
    try:
        shutil.copyfile(src, path)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return path, scratch


def _cached_copy(src: Path, folder: Path) -> Path:
    """The copy in the cache's ``folder``, written on first use, and checked against the source
    before it is loaded: it is the same bytes as NumPy's library, or it is written again.

    The check reads 25 MB only when something changed.  A record beside the copy (written 0600
    in the private folder, :func:`_record_path`) holds the SHA-256 of the bytes the copy was
    written with, the source's ``stat`` facts at the time, and the copy's (size, times, inode).
    While both sides' facts are unchanged the copy is trusted as is; a copy whose facts
    changed (rewritten, damaged in place, replaced) is hashed and compared, and written again if
    it differs; a source whose facts changed is hashed first.  A record written within
    :data:`_RACY_NS` of the copy's last change is not trusted alone (file times have the
    granularity of a clock tick, so a change in the same tick would keep them: git's "racily
    clean" entries), and the copy is hashed once more later.

    Raises:
        OSError: the folder is not private to this user, or the copy cannot be written.
    """
    make_private_dir(folder)
    reason = untrusted_reason(folder)
    if reason is not None:
        raise OSError(f"the copy's folder cannot be trusted: {reason}")
    src_stat = src.stat()
    dst = folder / f"{_PREFIX}{src.stem}-{src_stat.st_size}.so"
    record_path = _record_path(src, dst)
    record = _read_record(record_path)
    src_facts = _facts(src_stat)
    digest = record.get("sha256") if record.get("source") == src_facts else None
    dst_facts = _facts(dst.stat(), copy=True) if dst.exists() else None
    copy_as_recorded = (dst_facts is not None and record.get("copy") == dst_facts
                        and record.get("written_ns", 0) - dst_facts[2] > _RACY_NS)
    if digest is not None and copy_as_recorded:
        return dst  # the usual start: three stats and a small read
    if digest is None:
        digest = _sha256_file(src)
    if dst_facts is not None and ((copy_as_recorded and record.get("sha256") == digest)
                                  or _sha256_file(dst) == digest):
        _write_record(record_path, src_facts, digest, dst)
        return dst
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".so")  # 0600
    try:
        h = hashlib.sha256()
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            while chunk := fin.read(1 << 20):
                h.update(chunk)
                fout.write(chunk)
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _write_record(record_path, src_facts, h.hexdigest(), dst)  # the digest of what was written
    return dst


_RACY_NS = 2_000_000_000
"""A record written less than this long after the copy last changed is checked again (2 s)."""


def _facts(st: os.stat_result, copy: bool = False) -> list:
    """What a change to a file changes: size, modification time, inode, device (and, for the
    copy, the status-change time, which no user process can set back)."""
    facts = [st.st_size, st.st_mtime_ns, st.st_ctime_ns if copy else 0, st.st_ino, st.st_dev]
    return facts


def _record_path(src: Path, dst: Path) -> Path:
    """The record of the copy ``dst`` made from ``src``: one per source path, so that two
    environments sharing the cache, with the same library at two places, keep theirs apart."""
    tag = hashlib.sha256(str(src.resolve()).encode()).hexdigest()[:16]
    return dst.with_name(f"{dst.name}.{tag}.json")


def _read_record(path: Path) -> dict:
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write_record(path: Path, src_facts: list, digest: str, dst: Path) -> None:
    """Record ``dst`` as the verified copy, with digest ``digest``, of the source of facts
    ``src_facts`` (a failure to write only means hashing again next time)."""
    record = {"source": src_facts, "sha256": digest, "copy": _facts(dst.stat(), copy=True),
              "written_ns": time.time_ns()}
    try:
        write_private(path, json.dumps(record).encode())
    except OSError:
        pass


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _load() -> dict:
    from symcomp.backends.cpu.runtime import openmp

    found = host.numpy_ilp64_library()
    if found is None or not openmp.available():
        return {}
    src = found[0]
    scratch = None
    try:
        path, scratch = _take_copy(src)
        lib = _open_single_threaded(path)
        routines = host.ilp64_routines(lib)
        lib.scipy_openblas_set_num_threads64_(ctypes.c_int(1))
    except (OSError, AttributeError) as exc:
        warnings.warn(f"symcomp: no private single-threaded copy of NumPy's OpenBLAS ({exc}); functions "
                      "with matrix products run their loops on one thread", RuntimeWarning, stacklevel=2)
        return {}
    finally:
        if scratch is not None:  # the mapping outlives the file
            shutil.rmtree(scratch, ignore_errors=True)
    _state["handle"], _state["path"] = lib, str(path)  # kept for the life of the process
    return routines


def _open_single_threaded(path: Path) -> ctypes.CDLL:
    # The environment is changed for a moment: first let the background load of LLVM's library
    # (jit.preload) finish, whose constructors may read it (a putenv can reallocate the array
    # a concurrent getenv walks).
    background.join("llvm-preload")
    old = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        return ctypes.CDLL(str(path), mode=os.RTLD_LOCAL)
    finally:
        if old is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = old
