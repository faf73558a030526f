"""Cached machine code as a shared object: the warm path that does not load LLVM.

At a cache miss the object code (position-independent, :func:`symcomp.backends.cpu.toolchain.machine.emit_object`)
is also linked by the system C compiler driver (``cc -shared``), in a background thread
(:func:`link_later`), into a shared object stored next to the cache entry (same key, suffix
``.so``).  A later process that hits the cache loads it with ``dlopen`` (``RTLD_LOCAL``) instead
of MCJIT, so it never maps LLVM (``llvmlite.binding``: 20-70 ms to load, 8 ms more to
initialize).

External symbols.  libm and libmvec functions are ordinary dynamic dependencies (``DT_NEEDED``).
The symbols MCJIT resolves through ``llvm.add_symbol`` -- BLAS (``symcomp_dgemm``...), the
private libgomp's entry points (``GOMP_parallel``, ``omp_get_thread_num``...), the Python and
NumPy C API of the native call wrapper (``symcomp_PyArray_Empty``...) -- are defined in the shared
object by a small generated *shim*: one hidden trampoline per symbol that jumps through the
exported pointer table ``symcomp_ext_table``, which :class:`SharedModule` fills right after
``dlopen``.  Hidden visibility keeps the process's global scope (another OpenMP runtime, say
PyTorch's libgomp) from interposing.  The shim also defines a hidden ``symcomp_num_threads``,
exported under a second name ``symcomp_ext_num_threads`` so that
:mod:`symcomp.backends.cpu.codegen.parallel` keeps it equal to ``symcomp.config.num_threads``, and a
hidden ``symcomp_interrupt_ptr`` (exported as ``symcomp_ext_interrupt_ptr``) that the loader points
at the flag of :mod:`symcomp.backends.cpu.runtime.interrupt` (until then at a private 0).

Failures never fail a compile: no C compiler driver, an unsupported machine (the trampolines are
x86-64 assembly) or a failed link (reported once as a warning) leaves the entry without a shared
object; a missing or damaged
shared object (checked against the SHA-256 in the entry) or one that fails to load makes the
caller use MCJIT on the cached object (a load failure is reported once as a warning).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
import weakref
from pathlib import Path
from typing import Optional

from symcomp.backends.cpu.cache import objects
from symcomp.backends.cpu.runtime import background, host, interrupt, openmp
from symcomp.backends.private_files import FILE_MODE, make_private_dir

SUFFIX = ".so"
TABLE = "symcomp_ext_table"
THREADS_EXPORT = "symcomp_ext_num_threads"
_THREADS = "symcomp_num_threads"
INTERRUPT_EXPORT = "symcomp_ext_interrupt_ptr"
_INTERRUPT = interrupt.SYMBOL
_LINK_TIMEOUT_S = 120.0
_warned: set = set()


def linker() -> Optional[str]:
    """The C compiler driver that links shared objects (``$CC``, a program name, else ``cc``), or
    None if it is not on ``PATH``."""
    return shutil.which(os.environ.get("CC", "cc"))


def shim_names(declared) -> list:
    """The declared (undefined) symbols of a module that the shim must define, sorted.

    Args:
        declared: names of the functions a module declares without defining them.
    """
    gomp = set(openmp.GOMP_SYMBOLS)
    return sorted({n for n in declared if n in gomp or (n.startswith("symcomp_") and n not in (_THREADS, _INTERRUPT))})


def shim_assembly(names: list) -> str:
    """x86-64 assembly (GNU as) of the shim for ``names`` (see the module docstring)."""
    lines = ["\t.text"]
    for i, name in enumerate(names):
        lines += [f"\t.globl {name}", f"\t.hidden {name}", f"\t.type {name},@function", f"{name}:",
                  f"\tjmp *.Ltable+{8 * i}(%rip)", f"\t.size {name},.-{name}"]
    lines += ["\t.data", "\t.balign 8", f"\t.globl {TABLE}", f"\t.type {TABLE},@object",
              f"\t.size {TABLE},{8 * max(len(names), 1)}", f"{TABLE}:", ".Ltable:",
              f"\t.zero {8 * max(len(names), 1)}",
              f"\t.globl {THREADS_EXPORT}", f"\t.type {THREADS_EXPORT},@object", f"\t.size {THREADS_EXPORT},4",
              f"\t.globl {_THREADS}", f"\t.hidden {_THREADS}", f"\t.type {_THREADS},@object", f"\t.size {_THREADS},4",
              f"{THREADS_EXPORT}:", f"{_THREADS}:", "\t.long 1",
              "\t.balign 8",
              f"\t.globl {INTERRUPT_EXPORT}", f"\t.type {INTERRUPT_EXPORT},@object", f"\t.size {INTERRUPT_EXPORT},8",
              f"\t.globl {_INTERRUPT}", f"\t.hidden {_INTERRUPT}", f"\t.type {_INTERRUPT},@object",
              f"\t.size {_INTERRUPT},8",
              f"{INTERRUPT_EXPORT}:", f"{_INTERRUPT}:", "\t.quad .Lnever", ".Lnever:", "\t.long 0",
              '\t.section .note.GNU-stack,"",@progbits', ""]
    return "\n".join(lines)


def link(obj: bytes, names: list, out: Path) -> bool:
    """Link object code and its shim into the shared object ``out``.

    Args:
        obj: an ELF relocatable object, position-independent.
        names: the symbols the shim defines (:func:`shim_names`).
        out: the path to write.

    Returns:
        True on success; False where there is no linker, the machine is not x86-64, or the link fails.
    """
    cc = linker()
    if cc is None or platform.machine() not in ("x86_64", "AMD64"):
        return False
    with tempfile.TemporaryDirectory(prefix="symcomp-link-") as d:
        o, s = os.path.join(d, "code.o"), os.path.join(d, "shim.s")
        Path(o).write_bytes(obj)
        Path(s).write_text(shim_assembly(names))
        libs = ["-lm"] + (["-l:libmvec.so.1"] if host.has_libmvec() else [])
        # No start files: the code has no constructors.  -z defs: a symbol nothing defines fails
        # the link here rather than the dlopen later.  --as-needed: libmvec only if it is called.
        cmd = [cc, "-shared", "-nostartfiles", "-o", str(out), o, s, "-Wl,-z,defs", "-Wl,-z,noexecstack",
               "-Wl,--as-needed", *libs]
        try:
            # With an environment of its own: the child (started with vfork) would otherwise read
            # the process's ``environ`` after the parent thread let go of the GIL, and another
            # thread's putenv can reallocate that array meanwhile.  The link runs in a background
            # thread (link_later), and once in about 400 links the exec failed with EFAULT.
            done = subprocess.run(cmd, capture_output=True, timeout=_LINK_TIMEOUT_S, env=dict(os.environ))
        except (OSError, subprocess.SubprocessError) as exc:
            _warn_once(f"symcomp: cannot run {cc} to link the cached code ({exc}); later processes will "
                       "load it with the JIT (slower to start)")
            return False
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace").strip()[-400:]
            _warn_once(f"symcomp: linking the cached code with {cc} failed (status {done.returncode}): {tail}; "
                       "later processes will load it with the JIT (slower to start)")
            return False
        return out.exists()


def build(key: str, obj: bytes, declared, directory: Optional[Path] = None) -> dict:
    """Link ``obj`` into the cache's shared object for ``key`` (written atomically) in ``directory``
    (default: the cache directory now).

    Returns:
        The entry metadata describing it, ``{"shared": {"sha256": ..., "externals": [...]}}``, or {}
        where no shared object could be made (the entry then loads through MCJIT only).
    """
    names = shim_names(declared)
    d = directory or objects.usable_dir()
    if d is None:
        return {}
    try:
        make_private_dir(d)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=f".{key[:16]}.", suffix=".so.tmp")
        os.close(fd)
    except OSError:
        return {}
    try:
        if not link(obj, names, Path(tmp)):
            return {}
        os.chmod(tmp, FILE_MODE)  # the linker writes a new file, executable for all (dlopen needs read only)
        digest = hashlib.sha256(Path(tmp).read_bytes()).hexdigest()
        os.replace(tmp, d / f"{key}{SUFFIX}")
        tmp = None
        return {"shared": {"sha256": digest, "externals": names}}
    except OSError:
        return {}
    finally:
        if tmp is not None:
            objects.remove_quietly(tmp)


def link_later(key: str, entry: "cache.Entry", declared) -> None:
    """Link the shared object of the new cache entry ``key`` in a background thread
    (:mod:`symcomp.backends.cpu.runtime.background`), then store the entry again with it.

    Only later processes load it: this one runs the object through MCJIT, so the link (a
    C compiler driver in a child process, about 16 ms) is kept off the path to the first
    result.  Until it is done the stored entry has no shared object, and a process that reads
    it meanwhile uses MCJIT; this process waits for it before reading the entry again
    (:func:`wait_for_link`).

    Args:
        key: the entry's cache key.
        entry: the entry as stored (its object code and metadata).
        declared: names of the functions its module declares without defining them.
    """
    background.start(("link", key), _link_and_store, key, entry, list(declared), objects.usable_dir(),
                     name="symcomp-link")


def wait_for_link(key: str) -> None:
    """Wait until this process has finished linking the entry ``key`` (:func:`link_later`), if it is."""
    background.join(("link", key))


def _link_and_store(key: str, entry: "cache.Entry", declared: list, directory: Path) -> None:
    # At the lowest priority (this thread and the linker it starts: Linux gives each thread its
    # own nice value, and children inherit it), so that the link takes no core from the
    # program's first calls: on 2 cores, the MLP step's first call took 17-22 ms next to a
    # linker at the same priority, against 5-10 ms.
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (OSError, AttributeError):
        pass
    try:
        info = build(key, entry.obj, declared, directory)
        if info:
            objects.store(key, objects.Entry(entry.obj, {**entry.meta, **info}), directory=directory)
    except Exception as exc:  # noqa: BLE001 - the entry stays usable through MCJIT
        _warn_once(f"symcomp: linking the cached code in the background failed ({exc!r}); later "
                   "processes will load it with the JIT (slower to start)")


def _resolve(name: str) -> int:
    if name in openmp.GOMP_SYMBOLS:
        return openmp.gomp_symbols()[name]
    if name[len("symcomp_"):] in host.BLAS_ROUTINES:
        return host.blas_symbols()[name]
    if name[len("symcomp_"):] in host.LAPACK_ROUTINES:
        return host.lapack_symbols()[name]
    from symcomp.backends.cpu.runtime import printing

    if name == printing.SYMBOL:
        return printing.symbols()[name]
    from symcomp.backends.cpu.codegen import pyentry

    return pyentry.c_api_symbols()[name]


def load(key: str, meta: dict) -> Optional["SharedModule"]:
    """The shared object of the cache entry ``key`` (with metadata ``meta``) loaded, or None where
    there is none, it is damaged, or it cannot be loaded (warned once); the caller then uses MCJIT."""
    info = meta.get("shared")
    if not isinstance(info, dict):
        return None
    d = objects.usable_dir()
    if d is None:
        return None
    path = d / f"{key}{SUFFIX}"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != info.get("sha256"):
        objects.remove_quietly(path)
        return None
    try:
        return SharedModule(path, list(info.get("externals", ())))
    except (OSError, KeyError, AttributeError) as exc:
        _warn_once(f"symcomp: cannot load the cached shared object {path} ({exc}); using the JIT instead")
        return None


def _warn_once(msg: str) -> None:
    if msg not in _warned:
        _warned.add(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=4)


def _unload(handle: int, key: int) -> None:
    openmp.untrack_copy(key)
    import _ctypes

    _ctypes.dlclose(handle)


class SharedModule:
    """A linked shared object loaded with ``dlopen`` (``RTLD_LOCAL``), its shim table filled;
    unloaded when this object is garbage (the same lifetime as :class:`~symcomp.backends.cpu.toolchain.machine.JitModule`).

    Args:
        path: the shared object.
        externals: the symbols its shim defines, in table order.

    Raises:
        OSError: if it cannot be loaded.
        KeyError, AttributeError: if a symbol cannot be resolved in this process.
    """

    def __init__(self, path: Path, externals: list):
        addresses = [_resolve(n) for n in externals]
        self.lib = ctypes.CDLL(str(path), mode=os.RTLD_LOCAL)
        self._closer = weakref.finalize(self, _unload, self.lib._handle, id(self))
        table = ctypes.cast(getattr(self.lib, TABLE), ctypes.POINTER(ctypes.c_void_p))
        for i, a in enumerate(addresses):
            table[i] = a
        openmp.track_copy(id(self), self._address(THREADS_EXPORT))
        ctypes.c_void_p.from_address(self._address(INTERRUPT_EXPORT)).value = interrupt.flag_address()

    def _address(self, name: str) -> int:
        return ctypes.cast(getattr(self.lib, name), ctypes.c_void_p).value

    def address(self, name: str) -> int:
        """Address of an exported function.

        Raises:
            KeyError: if there is no such symbol.
        """
        try:
            return self._address(name)
        except AttributeError:
            raise KeyError(f"symbol {name} not found in the compiled module") from None
