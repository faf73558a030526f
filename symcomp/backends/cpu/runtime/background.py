"""Background work a compile leaves behind: one registry of its threads, to wait for them.

Four kinds of work run off the path from graph to first result:

* the copy of NumPy's OpenBLAS that the team BLAS loads (:mod:`symcomp.backends.cpu.runtime.teamblas`),
  started before the passes so that the file copy overlaps them;
* the load of LLVM's shared library on a cold compile (:func:`symcomp.backends.cpu.toolchain.machine.preload`),
  also during the passes;
* the link of a new disk-cache entry's shared object (:func:`symcomp.backends.cpu.cache.sharedlib.link_later`),
  which only later processes use;
* tiered compilation (:mod:`symcomp.backends.cpu.toolchain.tiering`).

The first three wait on a file system, ``dlopen`` or a child process, without the GIL, so the
compile goes on in the meantime (the digits MLP step, graph to first result on 2 cores: about
40 ms less; docs/performance.md, "Off the critical path").

The threads are not daemons: an interpreter that exits waits for them (each takes
milliseconds, a level-2 compile a few hundred), so that no half-written file is left and
LLVM is not unloaded under a compile.  A job started under a key that is still running is not
started again.
"""

from __future__ import annotations

import threading
from typing import Callable, Hashable, Optional

_lock = threading.Lock()
_jobs: dict = {}  # key -> Thread


def start(key: Hashable, target: Callable, *args, name: str) -> threading.Thread:
    """Run ``target(*args)`` in a new non-daemon thread named ``name``, registered under ``key``.

    Where no thread can be started (Python 3.12 and later refuse while the interpreter shuts
    down; a process may be at its thread limit), ``target`` runs in the calling thread instead:
    slower, never lost.

    Returns:
        The thread (not alive if ``target`` ran in the caller); the one already running under
        ``key`` if there is one.
    """
    with _lock:
        for k in [k for k, t in _jobs.items() if not t.is_alive()]:
            del _jobs[k]
        running = _jobs.get(key)
        if running is not None:
            return running
        t = threading.Thread(target=target, args=args, name=name, daemon=False)
        try:
            t.start()
        except RuntimeError:
            started = False
        else:
            started = True
            _jobs[key] = t
    if not started:
        target(*args)
    return t


def join(key: Hashable, timeout: Optional[float] = None) -> None:
    """Wait for the job under ``key``, if there is one (not from inside that job)."""
    with _lock:
        t = _jobs.get(key)
    if t is not None and t is not threading.current_thread():
        t.join(timeout)


def wait(timeout: Optional[float] = None) -> bool:
    """Wait for every job started so far (each up to ``timeout`` seconds); True if all have finished."""
    with _lock:
        pending = list(_jobs.values())
    for t in pending:
        if t is not threading.current_thread():
            t.join(timeout)
    return not any(t.is_alive() for t in pending)
