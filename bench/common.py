"""Helpers shared by the benchmark scripts: thread settings, timing, optional peers, result rows.

Every benchmark script runs its peers side by side in one process and prints
one JSON object per measured row on stdout (``emit``); ``run_all.py``
collects them and writes the markdown table.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def set_threads(n: int = THREADS) -> None:
    """The same thread count for every peer that has a setting (BLAS included)."""
    import symcomp

    symcomp.config.num_threads = n
    for name, setter in (("numexpr", "set_num_threads"), ("numba", "set_num_threads"), ("torch", "set_num_threads")):
        mod = sys.modules.get(name)
        if mod is not None:
            getattr(mod, setter)(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n, user_api="blas")
    except ImportError:
        pass


def peer(name: str):
    """The module ``name``, or None if it is not installed (the row is then reported as skipped)."""
    try:
        return importlib.import_module(name)
    except Exception:  # noqa: BLE001 - any import failure means the peer is unavailable
        return None


def timeit(fn, warmup: int = 2, min_reps: int = 7, budget_s: float = 1.5, prime: bool = False) -> dict:
    """Median and minimum seconds of ``fn()`` over at least ``min_reps`` calls (gc off, as timeit),
    the cores it kept busy, and the page faults per call (``faults``: a result in fresh pages
    faults once per 4 KiB page, e.g. torch eager's 80 MB softmax result, which glibc maps anew on
    each call when its ``posix_memalign`` fits no free chunk: 19532 faults, 24 ms against 5).

    Timing starts once compilation is over, for every peer: JAX, Numba and torch.compile compile
    in the warm-up calls, and symcomp's first calls start the optimizing compile of its tier-up
    in a background thread, which is awaited here (with its other background work:
    :mod:`symcomp.backends.cpu.runtime.background`).  Otherwise that thread competes with the
    first timed calls for the two cores: a*b+c read 8.12 ms for symcomp's first row and 6.37 ms
    for its second row (trust_input), which runs the same machine code.

    ``prime``: call :func:`prime_heap` once compilation is over, just before the timed calls."""
    for _ in range(warmup):
        fn()
    jobs = sys.modules.get("symcomp.backends.cpu.runtime.background")
    if jobs is not None:
        jobs.wait()
    if prime:
        prime_heap()
    gc.collect()
    gc.disable()
    try:
        times = []
        t_end = time.perf_counter() + budget_s
        c0 = time.process_time()
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        while len(times) < min_reps or (time.perf_counter() < t_end and len(times) < 1000):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / len(times)
        cores = (time.process_time() - c0) / max(sum(times), 1e-12)
    finally:
        gc.enable()
    return {"median_s": statistics.median(times), "min_s": min(times), "reps": len(times), "cores": cores,
            "faults": faults}


def emit(bench: str, peer_name: str, threads, result: dict | None = None, **extra) -> None:
    """Print one result row as JSON (``result`` None: the peer was skipped; give ``note``)."""
    row = {"bench": bench, "peer": peer_name, "threads": threads, "load": os.getloadavg()[0]}
    row.update(result or {"skipped": True})
    row.update(extra)
    print(json.dumps(row), flush=True)


def jax_call(jax, fn, *arrays):
    """A no-argument callable running ``jax.jit(fn)`` on device copies of ``arrays`` and waiting for
    its result (JAX dispatches asynchronously); None when JAX is not installed (``jax`` is None)."""
    if jax is None:
        return None
    f = jax.jit(fn)
    dev = [jax.device_put(a) for a in arrays]
    return lambda: f(*dev).block_until_ready()


def torch_call(torch, fn, *arrays, compiled: bool = False):
    """A no-argument callable running ``fn`` (``torch.compile(fn)`` when ``compiled``) on tensors
    sharing the memory of ``arrays``; None when PyTorch is not installed (``torch`` is None)."""
    if torch is None:
        return None
    f = torch.compile(fn) if compiled else fn
    tensors = [torch.from_numpy(a) for a in arrays]
    return lambda: f(*tensors)


HEAP_REGION_MIB = 210


def prime_heap() -> None:
    """Give the next peer the same heap as every other: a free region of HEAP_REGION_MIB at the top
    of glibc's main heap (7 blocks of 30 MiB, each below MALLOC_MMAP_THRESHOLD_, allocated and freed;
    the region stays below MALLOC_TRIM_THRESHOLD_, so it is not returned to the kernel).

    A large result (80 MB for 1e7 float64) is then served from that region on every call, for
    every peer that allocates it with ``malloc``, instead of from whatever the peers before had
    left: without this, Numba's a*b+c took 3.7 ms in one process where a free region happened to
    exist and 26 ms in another, where each call mapped and page-faulted fresh memory; symcomp,
    given the same region, 3.7 ms.  It does not hold for every peer: JAX's results always come
    in fresh pages, and torch's ``posix_memalign`` asks for more than the freed chunk of its
    last result holds, so in some processes glibc maps it anew on each call.  The table's
    ``page faults/call`` column shows which peer paid for that (:func:`timeit`).

    :func:`run_peers` primes after each peer's compilation and warm-up calls, not before: a
    compile in the process (symcomp's LLVM on a cache miss, Numba's, XLA's) allocates in the main
    heap too, and once left symcomp's a*b+c row 625 page faults per call and 8.45 ms against
    5.09-5.18 ms in the runs where its results came from the region."""
    blocks = [np.ones(30 << 17) for _ in range(HEAP_REGION_MIB // 30)]  # 30 MiB of float64 each
    del blocks


def run_peers(bench: str, peers: list, check=None) -> None:
    """Time each ``(name, threads, make)`` where ``make()`` returns a no-argument callable giving
    the result; ``check(result)`` returns the max relative error against the reference."""
    for name, threads, make in peers:
        try:
            fn = make()
        except Exception as exc:  # noqa: BLE001 - a peer that cannot run is reported, not fatal
            emit(bench, name, threads, None, note=f"{type(exc).__name__}: {str(exc)[:120]}")
            continue
        if fn is None:
            emit(bench, name, threads, None, note="not installed")
            continue
        res = timeit(fn, prime=True)
        if check is not None:
            res["max_rel_err"] = float(check(fn()))
        emit(bench, name, threads, res)
