"""On-disk cache of compiled object code, shared by every process of a user.

An entry holds the machine code of one compiled function (an ELF object
from :func:`symcomp.backends.cpu.toolchain.machine.emit_object`) and the little the runtime
needs besides it (the ``ints`` slot layout, the entry symbol); where a linker
is available, the same code is also stored linked as a shared object
(``<key>.so``, :mod:`symcomp.backends.cpu.cache.sharedlib`) that a later process loads
without LLVM.  Its key is the SHA-256 of the function's canonical IR text
together with everything else the machine code depends on: the host CPU and
its features (from /proc/cpuinfo: computing the key must not load LLVM), the
symcomp and llvmlite versions and LLVM library, the relocation model, the LLVM
pipeline settings and a digest of the backend's own source (so that editing a
lowering never serves stale code).

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
    """A digest of the sources cached results depend on (the backends, the IR, the passes and
    the front-end builders the passes' rewrites call): their paths, sizes and modification times
    (reading and hashing their contents cost ~10 ms at every process start)."""
    root = Path(__file__).resolve().parents[3]  # symcomp/ (this file: symcomp/backends/cpu/cache/)
    h = hashlib.sha256()
    for sub in ("backends", "ir", "passes", "tensor"):
        for p in sorted((root / sub).rglob("*.py")):
            st = p.stat()
            h.update(f"{p.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _llvm_identity() -> str:
    """llvmlite's version and the size and modification time of its LLVM library, without loading
    it (``import llvmlite`` does not import ``llvmlite.binding``): a rebuilt llvmlite changes it."""
    import importlib.util

    import llvmlite

    spec = importlib.util.find_spec("llvmlite")
    facts = [f"llvmlite={llvmlite.__version__}"]
    for loc in (spec.submodule_search_locations or []) if spec else []:
        for p in sorted((Path(loc) / "binding").glob("libllvmlite*")):
            st = p.stat()
            facts.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    return ",".join(facts)


def _cpu_identity() -> str:
    """The host CPU from /proc/cpuinfo, else (no /proc) LLVM's host CPU name and features."""
    from symcomp.backends.cpu.runtime import host
    from symcomp.backends.cpu.toolchain import machine

    ident = host.cpu_identity()
    if ident:
        return ident
    tgt = machine.target()
    return f"{tgt.cpu}:{tgt.features}"


def fingerprint() -> str:
    """Everything besides the IR that the machine code depends on, as one string (computed once).

    Found without loading LLVM (:mod:`symcomp.backends.cpu.runtime.host`), so that a process whose code
    all comes from the cache never maps it.
    """
    if not _fingerprint:
        import platform
        import sys

        from symcomp.backends.cpu.runtime import host, openmp
        from symcomp.backends.cpu.toolchain import machine
        from symcomp.version import __version__

        parts = [
            f"format={MAGIC!r}", f"symcomp={__version__}", f"llvm={_llvm_identity()}",
            f"machine={platform.machine()}-{sys.platform}", f"cpu={_cpu_identity()}",
            f"libmvec={host.has_libmvec()}", f"openmp={openmp.available()}", f"blas_int={host.blas_int_bits()}",
            f"llc={host.last_level_cache_bytes()}",
            f"pipeline={','.join(machine.LEAN_PIPELINE)};{','.join(machine.QUICK_PIPELINE)}", f"reloc={machine.RELOC}",
            f"codegen=O{machine.CODEGEN_LEVEL}/O{machine.CODEGEN_LEVEL_SMALL}<={machine.SMALL_MODULE_LINES}", f"source={_source_digest()}",
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


def _path(key: str, kind: str = OBJECT, directory: Optional[Path] = None) -> Path:
    return (directory or cache_dir()) / f"{key}{kind}"


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
        remove_quietly(path)
    return entry


def store(key: str, entry: Entry, kind: str = OBJECT, directory: Optional[Path] = None) -> None:
    """Write ``entry`` atomically; a failure to write is reported once as a warning, never raised.

    ``directory`` (default: :func:`cache_dir` now) is given by background threads, which store
    into the directory of the compile that started them even if the setting changed since."""
    d = directory or cache_dir()
    tmp = None
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=f".{key[:16]}.", suffix=".tmp", delete=False) as f:
            tmp = f.name
            f.write(encode(entry))
        os.replace(tmp, _path(key, kind, d))
        tmp = None
    except OSError as exc:
        _warn_once(f"symcomp: cannot write the compilation cache in {d} ({exc}); "
                   "set SYMCOMP_CACHE_DIR or symcomp.config.cache = False")
    finally:
        if tmp is not None:
            remove_quietly(tmp)


def remove_quietly(path) -> None:
    """Delete a file if it exists; a failure (already gone, no permission) is ignored."""
    try:
        os.unlink(path)
    except OSError:
        pass


def _warn_once(msg: str) -> None:
    if msg not in _warned:
        _warned.add(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=4)


def get_or_build(ir_text: str, build: Callable[[Optional[str]], Entry],
                 key: Optional[str] = None) -> tuple[Entry, bool]:
    """The cached entry for ``ir_text``, or ``build(key)``'s, stored for next time.

    Args:
        ir_text: the canonical IR text.
        build: makes the entry; called with the cache key (to store files of its own under it,
            :mod:`symcomp.backends.cpu.cache.sharedlib`), or None with the cache off.
        key: ``key_for(ir_text)`` if the caller has it already.

    Returns:
        (entry, hit): ``hit`` is True when the entry came from the disk.

    While building, a per-key file lock is held, so concurrent processes
    compiling the same function wait for the first one and then read its entry.
    With the cache off (``symcomp.config.cache = False``) this is ``build()``.
    """
    if not enabled():
        return build(None), False
    key = key or key_for(ir_text)
    entry = load(key)
    if entry is not None:
        return entry, True
    import filelock  # only on a miss: importing it costs a few ms of a warm compile

    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(d / f"{key}.lock"), timeout=_LOCK_TIMEOUT_S)
        lock.acquire()
    except (OSError, filelock.Timeout) as exc:
        _warn_once(f"symcomp: cannot use the compilation cache in {d} ({exc}); compiling without it")
        return build(None), False
    try:
        entry = load(key)  # another process may have finished it while we waited
        if entry is not None:
            return entry, True
        entry = build(key)
        store(key, entry)
        return entry, False
    finally:
        lock.release()
