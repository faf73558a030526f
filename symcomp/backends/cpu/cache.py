"""On-disk cache of compiled object code, shared by every process of a user.

An entry holds the machine code of one compiled function (an ELF object
from :func:`symcomp.backends.cpu.jit.emit_object`) and the little the runtime
needs besides it (the ``ints`` slot layout, the entry symbol).  Its key is the
SHA-256 of the function's canonical IR text together with everything else
the machine code depends on: the target CPU and its features, the symcomp,
llvmlite and LLVM versions, the LLVM pipeline settings and a digest of the
backend's own source (so that editing a lowering never serves stale code).

* Location: ``$SYMCOMP_CACHE_DIR`` if set, else the per-user cache directory
  that platformdirs gives for ``symcomp`` (``~/.cache/symcomp`` on Linux),
  subdirectory ``cpu``.
* ``symcomp.config.cache = False`` turns the cache off (nothing is read or written).
* Writes are atomic (a temporary file in the same directory, then
  ``os.replace``), and a compile holds a per-key lock (filelock), so two
  processes compiling the same function compile it once.
* Every entry carries a SHA-256 checksum of its contents: a truncated or
  corrupted file is detected, removed and compiled again.
* A cache that cannot be written (read-only disk, no space) never fails a
  compile; the function is compiled and the problem reported once as a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

MAGIC = b"SYMCOMP-OBJ\x01"
_HEADER = struct.Struct("<12sQ32s")  # magic, payload length, sha256(payload)
_LOCK_TIMEOUT_S = 600.0
_warned: set = set()
_fingerprint: list = []


@dataclass
class Entry:
    """A cached compilation result.

    Attributes:
        obj: the object file (ELF relocatable, host target).
        meta: JSON-serializable facts the runtime needs (slot keys, symbol names...).
    """

    obj: bytes
    meta: dict


def enabled() -> bool:
    """Whether the cache is on (``symcomp.config.cache``)."""
    from symcomp.config import config

    return bool(config.cache)


def cache_dir() -> Path:
    """The directory holding the entries (created on first write)."""
    env = os.environ.get("SYMCOMP_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("symcomp", appauthor=False)) / "cpu"


def _source_digest() -> str:
    """A digest of the sources cached results depend on (the CPU backend, the IR and the passes):
    their paths, sizes and modification times (reading and hashing their contents cost ~10 ms at
    every process start)."""
    root = Path(__file__).resolve().parent.parent.parent
    h = hashlib.sha256()
    for sub in ("backends/cpu", "ir", "passes"):
        for p in sorted((root / sub).rglob("*.py")):
            st = p.stat()
            h.update(f"{p.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def fingerprint() -> str:
    """Everything besides the IR that the machine code depends on, as one string (computed once)."""
    if not _fingerprint:
        import llvmlite
        import llvmlite.binding as llvm

        import symcomp
        from symcomp.backends.cpu import jit

        tgt = jit.target()
        parts = [
            f"format={MAGIC!r}", f"symcomp={symcomp.__version__}", f"llvmlite={llvmlite.__version__}",
            f"llvm={'.'.join(map(str, llvm.llvm_version_info))}", f"triple={jit.ensure_initialized()['triple']}",
            f"cpu={tgt.cpu}", f"features={tgt.features}", f"libmvec={tgt.has_libmvec}",
            f"openmp={jit.ensure_initialized()['omp']}", f"blas_int={jit.blas_int_bits()}",
            f"pipeline={','.join(jit.LEAN_PIPELINE)}", f"codegen=O{jit.CODEGEN_LEVEL}/O{jit.CODEGEN_LEVEL_SMALL}<={jit.SMALL_MODULE_LINES}", f"source={_source_digest()}",
        ]
        _fingerprint.append("\n".join(parts))
    return _fingerprint[0]


def key_for(ir_text: str) -> str:
    """The cache key of a function whose canonical IR text is ``ir_text`` (64 hex digits)."""
    h = hashlib.sha256(fingerprint().encode())
    h.update(b"\0")
    h.update(ir_text.encode())
    return h.hexdigest()


OBJECT, OPTIMIZED_IR = ".sco", ".scp"
"""File suffixes of the two kinds of entries: object code, and a pass pipeline's output IR."""


def _path(key: str, kind: str = OBJECT) -> Path:
    return cache_dir() / f"{key}{kind}"


def encode(entry: Entry) -> bytes:
    """The file contents for ``entry``: header (magic, length, checksum), JSON metadata, object code."""
    meta = json.dumps(entry.meta, separators=(",", ":")).encode()
    payload = struct.pack("<Q", len(meta)) + meta + entry.obj
    return _HEADER.pack(MAGIC, len(payload), hashlib.sha256(payload).digest()) + payload


def decode(data: bytes) -> Optional[Entry]:
    """The entry stored in ``data``, or None if it is truncated, corrupted or of another format."""
    if len(data) < _HEADER.size:
        return None
    magic, length, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if magic != MAGIC or len(payload) != length or hashlib.sha256(payload).digest() != digest:
        return None
    (n,) = struct.unpack_from("<Q", payload)
    try:
        meta = json.loads(payload[8:8 + n])
    except ValueError:
        return None
    return Entry(payload[8 + n:], meta)


def load(key: str, kind: str = OBJECT) -> Optional[Entry]:
    """The entry for ``key``, or None (missing, unreadable or damaged: a damaged file is removed)."""
    path = _path(key, kind)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    entry = decode(data)
    if entry is None:
        try:
            path.unlink()
        except OSError:
            pass
    return entry


def store(key: str, entry: Entry, kind: str = OBJECT) -> None:
    """Write ``entry`` atomically; a failure to write is reported once as a warning, never raised."""
    d = cache_dir()
    tmp = None
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=f".{key[:16]}.", suffix=".tmp", delete=False) as f:
            tmp = f.name
            f.write(encode(entry))
        os.replace(tmp, _path(key, kind))
        tmp = None
    except OSError as exc:
        _warn_once(f"symcomp: cannot write the compilation cache in {d} ({exc}); "
                   "set SYMCOMP_CACHE_DIR or symcomp.config.cache = False")
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _warn_once(msg: str) -> None:
    if msg not in _warned:
        _warned.add(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=4)


def get_or_build(ir_text: str, build: Callable[[], Entry]) -> tuple[Entry, bool]:
    """The cached entry for ``ir_text``, or ``build()``'s, stored for next time.

    Returns:
        (entry, hit): ``hit`` is True when the entry came from the disk.

    While building, a per-key file lock is held, so concurrent processes
    compiling the same function wait for the first one and then read its entry.
    With the cache off (``symcomp.config.cache = False``) this is ``build()``.
    """
    if not enabled():
        return build(), False
    import filelock

    key = key_for(ir_text)
    entry = load(key)
    if entry is not None:
        return entry, True
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(d / f"{key}.lock"), timeout=_LOCK_TIMEOUT_S)
        lock.acquire()
    except (OSError, filelock.Timeout) as exc:
        _warn_once(f"symcomp: cannot use the compilation cache in {d} ({exc}); compiling without it")
        return build(), False
    try:
        entry = load(key)  # another process may have finished it while we waited
        if entry is not None:
            return entry, True
        entry = build()
        store(key, entry)
        return entry, False
    finally:
        lock.release()
