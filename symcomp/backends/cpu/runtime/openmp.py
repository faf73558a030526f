"""The OpenMP runtime that generated code runs its thread teams on: a private copy of libgomp,
loaded on first use, and the thread count compiled code reads.

Code generation for parallel loops is :mod:`symcomp.backends.cpu.codegen.parallel`; this module imports no
LLVM binding or IR builder, so that a process loading all its code from the cache
(:mod:`symcomp.backends.cpu.cache.sharedlib`) stays light.  ``symcomp.config.num_threads`` (0 = every core
this process may run on) is mirrored into the native global ``symcomp_num_threads`` that generated
code reads on every call, so changing it needs no recompile.
"""

from __future__ import annotations

import ctypes
import os

from symcomp.backends.cpu.runtime import host
from symcomp.config import config

MIN_PARALLEL_ELEMENTS = 1 << 17
MAX_THREADS = 256
"""Size of the per-thread status and partial arrays; larger teams are capped to it."""

_NUM_THREADS = ctypes.c_int32(1)


_forked = False
"""True in a child process forked after this process loaded libgomp (:func:`_after_fork`)."""


def _effective(n: int) -> int:
    if _forked:
        return 1
    if n <= 0:
        try:
            n = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            n = os.cpu_count() or 1
    return max(1, min(n, MAX_THREADS))


def set_num_threads(n: int) -> None:
    """Threads for later calls of compiled code (0 = all cores this process may use)."""
    _NUM_THREADS.value = _effective(n)
    for copy in list(_COPIES.values()):
        copy.value = _NUM_THREADS.value


_COPIES: dict = {}
"""Copies of ``symcomp_num_threads`` in loaded shared objects (:mod:`symcomp.backends.cpu.cache.sharedlib`),
kept equal to ``_NUM_THREADS`` by :func:`set_num_threads`."""


def track_copy(key: int, address: int) -> None:
    """Keep the ``int32`` at ``address`` (a shared object's ``symcomp_num_threads``) equal to the
    thread count, under ``key`` until :func:`untrack_copy`."""
    copy = ctypes.c_int32.from_address(address)
    copy.value = _NUM_THREADS.value
    _COPIES[key] = copy


def untrack_copy(key: int) -> None:
    """Stop updating the copy registered under ``key`` (its shared object is being unloaded)."""
    _COPIES.pop(key, None)


def num_threads() -> int:
    """The thread count compiled code uses now."""
    return _NUM_THREADS.value


GOMP_SYMBOLS = ("GOMP_parallel", "omp_get_thread_num", "omp_get_num_threads")
_LIB_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
             "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib")


def _open_own_libgomp() -> "ctypes.CDLL | None":
    """The system's libgomp, opened by its absolute path so that this process gets its own copy.

    Opened by soname, the dynamic linker would hand back an OpenMP runtime another library has
    already loaded: PyTorch bundles a ``libgomp.so.1`` whose workers spin between parallel regions
    (and have read their settings already), and with it the digits MLP step was 15x slower.
    """
    for d in _LIB_DIRS:
        path = os.path.join(d, "libgomp.so.1")
        if os.path.exists(path):
            try:
                return ctypes.CDLL(path, mode=os.RTLD_LOCAL)
            except OSError:
                continue
    try:  # unusual layouts: whatever the soname resolves to
        return ctypes.CDLL("libgomp.so.1", mode=os.RTLD_LOCAL)
    except OSError:
        return None


def gomp_symbols() -> dict:
    """``{name: address}`` of the OpenMP entry points generated code calls, from this process's
    private libgomp (loaded on the first call, workers spinning briefly after a parallel region); {} where
    libgomp cannot be loaded (every loop then runs on the calling thread)."""
    return host.once("libgomp", _load_gomp)


SPIN_COUNT = 10000
"""``GOMP_SPINCOUNT`` of symcomp's libgomp: after a parallel region its workers spin this many
times (about 0.2 ms of CPU time on the 2-core AMD EPYC of docs/performance.md) before they sleep.

That bridges the serial work between the parallel regions of one call: sleeping workers took
about 50 us to wake, once per region, which made the digits MLP step (five matrix products on
the team and its threaded loops) 1.76-1.80 ms instead of 1.42-1.44 ms.  libgomp's default (300000, some
6 ms) and OpenBLAS's (2^28 cycles, about 0.1 s) keep a core busy far longer after the last call,
taking it from other thread pools and processes."""


def _load_gomp() -> dict:
    # libgomp reads its settings from the environment when it is loaded.  Unless the user chose a
    # wait policy, its workers spin for SPIN_COUNT rounds, then sleep (docs/performance.md).
    override = "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ
    if override:
        os.environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)
    try:
        lib = _open_own_libgomp()
    finally:
        if override:  # the process environment is left as it was (child processes inherit it)
            del os.environ["GOMP_SPINCOUNT"]
    if lib is None:
        return {}
    try:
        symbols = {name: ctypes.cast(getattr(lib, name), ctypes.c_void_p).value for name in GOMP_SYMBOLS}
        pause = lib.omp_pause_resource_all
    except AttributeError:
        return {}
    _stop_team_at_exit(pause)
    _HANDLES.append(lib)  # keep the handle (and the library) for the life of the process
    return symbols


def initialize(llvm) -> bool:
    """Register libgomp's entry points and ``symcomp_num_threads`` for JIT-compiled code
    (called once by the JIT's initialization).

    Returns:
        Whether libgomp could be loaded (without it every loop runs on the calling thread).
    """
    llvm.add_symbol("symcomp_num_threads", ctypes.addressof(_NUM_THREADS))
    symbols = gomp_symbols()
    for name, address in symbols.items():  # explicit symbols win over whatever the process exports
        llvm.add_symbol(name, address)
    return bool(symbols)


def available() -> bool:
    """Whether the OpenMP runtime can be used (libgomp loaded); does not initialize LLVM."""
    return bool(gomp_symbols())


_HANDLES: list = []


def _stop_team_at_exit(pause) -> None:
    """Shut libgomp's worker threads down before the interpreter finalizes (omp_pause_resource_all,
    OpenMP 5.0): workers still spinning while the process tears down crashed it on exit.  Not in
    a forked child, whose libgomp still describes the parent's threads (:func:`_after_fork`)."""
    import atexit

    pause.restype, pause.argtypes = ctypes.c_int, [ctypes.c_int]
    atexit.register(lambda: None if _forked else pause(2))  # omp_pause_hard


def _after_fork() -> None:
    """In a child forked after libgomp was loaded, compiled code runs on one thread.

    libgomp is not fork-safe: the child inherits the parent's thread-pool bookkeeping but not its
    threads, and its next parallel region waits for them forever (GCC bug 52303; the child of
    ``multiprocessing``'s default "fork" start method hung on the first threaded call).  With one
    thread, generated code calls its outlined loops directly and never enters libgomp."""
    global _forked
    if _HANDLES:
        _forked = True
        set_num_threads(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


set_num_threads(config.num_threads)
config.on_change("num_threads", set_num_threads)
