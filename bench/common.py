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
import statistics
import sys
import time
from pathlib import Path

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


def _sample(fn, min_reps: int, budget_s: float, max_reps: int) -> tuple[list, float]:
    """Seconds of each of at least ``min_reps`` calls of ``fn()`` (more while ``budget_s`` lasts, at
    most ``max_reps``), gc off as in timeit; and the process CPU seconds they took."""
    gc.collect()
    gc.disable()
    try:
        times = []
        t_end = time.perf_counter() + budget_s
        c0 = time.process_time()
        while len(times) < min_reps or (time.perf_counter() < t_end and len(times) < max_reps):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return times, time.process_time() - c0
    finally:
        gc.enable()


def _summary(times: list, cpu_s: float) -> dict:
    return {"median_s": statistics.median(times), "min_s": min(times), "reps": len(times),
            "cores": cpu_s / max(sum(times), 1e-12)}


def timeit(fn, warmup: int = 2, min_reps: int = 7, budget_s: float = 1.5) -> dict:
    """Median and minimum seconds of ``fn()`` over at least ``min_reps`` calls (gc off, as timeit)."""
    for _ in range(warmup):
        fn()
    return _summary(*_sample(fn, min_reps, budget_s, 1000))


ROUNDS = 3
"""Rounds of :func:`time_interleaved`: this machine's speed drifts by up to 1.5x within a
minute (docs/performance.md), which timing the peers one after the other turned into a bias
against whichever peer ran in a slow spell."""


def time_interleaved(fns: dict, warmup: int = 2, min_reps: int = 7, budget_s: float = 1.5,
                     rounds: int = ROUNDS) -> dict:
    """``{name: summary}`` as :func:`timeit` gives, for every callable of ``fns``, timed in
    ``rounds`` rounds (each peer in turn, a share of ``min_reps`` and ``budget_s`` per round, one
    untimed call first), so that every peer samples the same spells of the machine."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    cpu = dict.fromkeys(fns, 0.0)
    per_reps, per_budget = max(1, -(-min_reps // rounds)), budget_s / rounds
    for _ in range(rounds):
        for name, fn in fns.items():
            fn()
            got, cpu_s = _sample(fn, per_reps, per_budget, 1000 // rounds)
            times[name] += got
            cpu[name] += cpu_s
    return {name: _summary(times[name], cpu[name]) for name in fns}


def emit(bench: str, peer_name: str, threads, result: dict | None = None, **extra) -> None:
    """Print one result row as JSON (``result`` None: the peer was skipped; give ``note``)."""
    row = {"bench": bench, "peer": peer_name, "threads": threads, "load": os.getloadavg()[0]}
    row.update(result or {"skipped": True})
    row.update(extra)
    print(json.dumps(row), flush=True)


def run_peers(bench: str, peers: list, check=None) -> None:
    """Time each ``(name, threads, make)`` where ``make()`` returns a no-argument callable giving
    the result, all in interleaved rounds (:func:`time_interleaved`); ``check(result)`` returns the
    max relative error against the reference."""
    made, threads_of = {}, {}
    for name, threads, make in peers:
        threads_of[name] = threads
        try:
            fn = make()
        except Exception as exc:  # noqa: BLE001 - a peer that cannot run is reported, not fatal
            made[name] = f"{type(exc).__name__}: {str(exc)[:120]}"
            continue
        made[name] = fn if fn is not None else "not installed"
    timed = time_interleaved({n: f for n, f in made.items() if callable(f)})
    for name, fn in made.items():
        if not callable(fn):
            emit(bench, name, threads_of[name], None, note=fn)
            continue
        res = timed[name]
        if check is not None:
            res["max_rel_err"] = float(check(fn()))
        emit(bench, name, threads_of[name], res)
