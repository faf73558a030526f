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
* Every entry carries a SHA-256 checksum of its contents and the digest of
  its own key: a truncated or corrupted file, or an entry of another function
  stored under this one's name, is detected, removed and compiled again.
* The directory is private (:mod:`symcomp.backends.private_files`): created
  0700 with files 0600 whatever the umask, and a directory that is not the
  user's, or that its group or others can write, is not used at all (warned
  once; the process compiles without the disk cache).  The per-key lock file
  is removed once the entry is written.
* A cache that cannot be written (read-only disk, no space) never fails a
  compile; the function is compiled and the problem reported once as a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from symcomp.backends.private_files import FILE_MODE, make_private_dir, untrusted_reason, write_private

MAGIC = b"SYMCOMP-OBJ\x02"
_HEADER = struct.Struct("<12s32sQ32s")  # magic, sha256(key), payload length, sha256(sha256(key) + payload)
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


_dir_verdicts: dict = {}  # {directory: None where it may be used, else why not}


def enabled() -> bool:
    """Whether the cache is on: ``symcomp.config.cache``, and a cache directory this process may
    use (:func:`usable_dir`)."""
    from symcomp.config import config

    return bool(config.cache) and usable_dir() is not None


def usable_dir() -> Optional[Path]:
    """:func:`cache_dir`, created private (0700) if missing, or None where it must not be used.

    It must not when it is not owned by this user or its group or others can write it
    (:func:`symcomp.backends.private_files.untrusted_reason`: the cache holds code that later
    processes run), or when it cannot be created.  The reason is reported once, as a
    RuntimeWarning, and the process runs without the disk cache.  Checked once per directory
    and process (one ``stat``).
    """
    d = cache_dir()
    key = str(d)
    if key not in _dir_verdicts:
        try:
            make_private_dir(d)
            reason = untrusted_reason(d)
        except OSError as exc:
            reason = f"{d} cannot be created ({exc.strerror or exc})"
        _dir_verdicts[key] = reason
        if reason is not None:
            _warn_once(f"symcomp: not using the compilation cache: {reason}. The cache holds machine code "
                       "that symcomp runs, so it must be a directory of this user that no one else can "
                       "write; compiling without it (set SYMCOMP_CACHE_DIR to another directory, or "
                       "symcomp.config.cache = False to silence this)")
    return None if _dir_verdicts[key] is not None else d


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


def _key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def encode(entry: Entry, key: str = "") -> bytes:
    """The file contents for ``entry`` stored under ``key``: header (magic, the key's digest,
    length, checksum of both), JSON metadata, object code."""
    meta = json.dumps(entry.meta, separators=(",", ":")).encode()
    payload = struct.pack("<Q", len(meta)) + meta + entry.obj
    kd = _key_digest(key)
    return _HEADER.pack(MAGIC, kd, len(payload), hashlib.sha256(kd + payload).digest()) + payload


def decode(data: bytes, key: Optional[str] = None) -> Optional[Entry]:
    """The entry stored in ``data``, or None if it is truncated, corrupted, of another format, or
    (``key`` given) was stored under another key: an entry knows its own key, so that a file of
    another function put in this one's place is never run."""
    if len(data) < _HEADER.size:
        return None
    magic, kd, length, digest = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if magic != MAGIC or len(payload) != length or hashlib.sha256(kd + payload).digest() != digest:
        return None
    if key is not None and kd != _key_digest(key):
        return None
    (n,) = struct.unpack_from("<Q", payload)
    try:
        meta = json.loads(payload[8:8 + n])
    except ValueError:
        return None
    return Entry(payload[8 + n:], meta)


def load(key: str, kind: str = OBJECT) -> Optional[Entry]:
    """The entry for ``key``, or None (missing, unreadable, damaged, or another key's entry: such a
    file is removed, and the caller compiles again)."""
    if usable_dir() is None:
        return None
    path = _path(key, kind)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    entry = decode(data, key)
    if entry is None:
        remove_quietly(path)
    return entry


def store(key: str, entry: Entry, kind: str = OBJECT, directory: Optional[Path] = None) -> None:
    """Write ``entry`` atomically; a failure to write is reported once as a warning, never raised.

    ``directory`` (default: :func:`cache_dir` now) is given by background threads, which store
    into the directory of the compile that started them even if the setting changed since."""
    d = directory or usable_dir()
    if d is None:
        return
    try:
        make_private_dir(d)
        write_private(_path(key, kind, d), encode(entry, key))
    except OSError as exc:
        _warn_once(f"symcomp: cannot write the compilation cache in {d} ({exc}); "
                   "set SYMCOMP_CACHE_DIR or symcomp.config.cache = False")


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
    lock_path = d / f"{key}.lock"
    try:
        make_private_dir(d)
        lock = filelock.FileLock(str(lock_path), timeout=_LOCK_TIMEOUT_S, mode=FILE_MODE)
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
        # The lock only saves a second process the same compile (the entry's atomic write keeps
        # the cache consistent), so its file is removed while still held, not left behind per
        # entry: a waiter that then gets the unlinked file reads the entry, or at worst compiles
        # the function once more.
        remove_quietly(lock_path)
        lock.release()
