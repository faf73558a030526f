"""Tiered compilation: a large module runs quickly generated machine code at once, and
optimized machine code from a background thread once that is ready.

Machine-code generation at level 2 takes 5-7x the time of level 0 (the digits MLP training
step: about 120 ms against 20 ms), which would double the time from graph to first result.
Level-0 code, though, keeps loop variables in stack slots and spills vector registers: the
same step runs 10% slower (1.76 against 1.58 ms).  So a module too large for level 2 up front
(:data:`~symcomp.backends.cpu.toolchain.machine.SMALL_MODULE_LINES`) is compiled at level 0 and called at
once, while a background thread compiles the same LLVM IR at level 2 and then switches the
function's entry address to the new code, as tiered JITs do (HotSpot's C1 then C2, V8's
baseline then optimizing tiers).  Both tiers come from one LLVM IR module without fast-math
flags, so they compute bit-identical results: only the speed changes.

The background thread holds no Python lock while LLVM works: llvmlite releases the GIL in its
calls (and serializes them with a lock of its own), so the program keeps running on the other
core; another compilation in the process waits at most for the LLVM call under way.  The thread
runs at the program's priority.  It does take a core from a program that uses both (on this
2-core machine, 1500 MLP steps right after the switch-on: about 0.15 s lost while it compiles,
made up after about 1000 steps at 1.65 instead of 1.8 ms), but at the lowest priority (nice 19)
it got so little time next to a busy program that 1500 steps ended before it did.

When the new code is loaded, the cache entry (object and shared object) is replaced too, so
that later processes start on level-2 code.  A process that loads a level-0 entry (its first
process ended before the upgrade) tiers it up the same way, generating the LLVM IR again.  The
thread is not a daemon: an interpreter that exits meanwhile waits for it (at most the level-2
compile time) rather than unloading LLVM under it.

``symcomp.config.tier_up = False`` keeps level-0 code (deterministic timings, e.g. for profiling).
"""

from __future__ import annotations

import threading
import warnings
from typing import Callable, Optional

from symcomp.backends.cpu.runtime import background


def start(source: Callable[[], str], needs_blas: bool, key: Optional[str], meta: dict,
          install: Callable) -> threading.Thread:
    """Compile a module now running level-0 code at level 2 in a background thread, then call
    ``install(engine)`` with the loaded code.

    Args:
        source: returns the module's LLVM IR, before optimization (called in the thread: after a
            cache hit the IR is generated again there).
        needs_blas: whether it calls BLAS (see :class:`~symcomp.backends.cpu.toolchain.machine.JitModule`).
        key: its disk-cache key, or None with the cache off; with a key, the entry is replaced
            by one holding the level-2 object.
        meta: the entry's metadata (slot keys...), copied into the new entry.
        install: called in the background thread with the new JitModule; it must switch the
            callers over (a pointer-sized store each) and keep the old code loaded.

    Returns:
        The started thread (:func:`symcomp.backends.cpu.runtime.background.wait` waits for it).  A failure in it
        is reported as a RuntimeWarning; the level-0 code then stays in use.
    """
    from symcomp.backends.cpu.cache import objects

    directory = objects.cache_dir() if key is not None else None  # where the entry is, even if the setting changes
    return background.start(object(), _work, source, needs_blas, key, directory, dict(meta), install,
                      name="symcomp-tier-up")


def _work(source: Callable[[], str], needs_blas: bool, key: Optional[str], directory, meta: dict,
          install: Callable) -> None:
    from symcomp.backends.cpu.cache import objects
    from symcomp.backends.cpu.toolchain import machine
    from symcomp.backends.cpu.cache import sharedlib

    try:
        ref = machine.parse(source())
        machine.optimize(ref)
        obj = machine.emit_object(ref, machine.CODEGEN_LEVEL_SMALL)
        declared = machine.declared_functions(ref)
        install(machine.JitModule(obj, needs_blas))
        if key is not None:
            sharedlib.wait_for_link(key)  # the level-0 entry's link must not replace this one
            meta.pop("shared", None)
            meta["level"] = machine.CODEGEN_LEVEL_SMALL
            meta.update(sharedlib.build(key, obj, declared, directory))
            objects.store(key, objects.Entry(obj, meta), directory=directory)
    except Exception as exc:  # noqa: BLE001 - the level-0 code is correct and stays in use
        warnings.warn(f"symcomp: optimizing machine code in the background failed ({exc!r}); "
                      "the function keeps its level-0 code", RuntimeWarning, stacklevel=1)

