"""Fused elementwise kernels against NumPy, numexpr and a hand-written Numba loop, side by side.

Two expressions on N float64 elements (default 1e7), every peer returning a
freshly allocated result, all in this one process, single-threaded (numexpr
is set to one thread; the Numba loop is serial; symcomp's loops are serial
today)::

    a:  a*b + c
    b:  exp(-x*x/2) * sin(y) + log1p(z)

Each row is the median of ``--reps`` timed calls after two warm-up calls, the
peers called round-robin (one call each per round, so that load changes on a
shared machine hit all alike; the garbage collector off while timing), with
the ratio to symcomp's median and
the norm-wise relative error against NumPy (max |got - numpy| / max |numpy|).  Run it with the machine's BLAS
tuning variables unset, as for every benchmark here::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/bench_fusion.py

Requires the ``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np


def _median_seconds(fns: dict, args, reps: int) -> dict:
    """Median seconds per call of each function, timed round-robin (one call of each per round),
    so that load changes on a shared machine hit every peer alike."""
    for fn in fns.values():
        fn(*args)
        fn(*args)
    times = {name: [] for name in fns}
    gc.collect()
    gc.disable()
    try:
        for _ in range(reps):
            for name, fn in fns.items():
                t = time.perf_counter()
                fn(*args)
                times[name].append(time.perf_counter() - t)
    finally:
        gc.enable()
    return {name: statistics.median(ts) for name, ts in times.items()}


def _peers_a():
    import numexpr
    import numba

    @numba.njit(cache=False)
    def loop(a, b, c):
        out = np.empty_like(a)
        for i in range(a.shape[0]):
            out[i] = a[i] * b[i] + c[i]
        return out

    return {
        "numpy": lambda a, b, c: a * b + c,
        "numexpr (1 thread)": lambda a, b, c: numexpr.evaluate("a * b + c"),
        "numba @njit loop": loop,
    }


def _peers_b():
    import math

    import numexpr
    import numba

    @numba.njit(cache=False)
    def loop(x, y, z):
        out = np.empty_like(x)
        for i in range(x.shape[0]):
            out[i] = math.exp(-x[i] * x[i] / 2) * math.sin(y[i]) + math.log1p(z[i])
        return out

    return {
        "numpy": lambda x, y, z: np.exp(-x * x / 2) * np.sin(y) + np.log1p(z),
        "numexpr (1 thread)": lambda x, y, z: numexpr.evaluate("exp(-x * x / 2) * sin(y) + log1p(z)"),
        "numba @njit loop": loop,
    }


def _symcomp(expr: str, dtype: str):
    import symcomp
    from symcomp import tensor as T

    u, v, w = (T.vector(n, dtype=dtype) for n in "uvw")
    out = u * v + w if expr == "a" else T.exp(-u * u / 2) * T.sin(v) + T.log1p(w)
    f = symcomp.function([u, v, w], out)
    fused = f.dump("optimized").count("sc.fused")
    return f, fused


def run(n: int, reps: int, dtype: str) -> list[dict]:
    """Time both expressions; returns one row per (expression, peer)."""
    import numexpr

    numexpr.set_num_threads(1)
    rng = np.random.default_rng(0)
    inputs = {
        "a": [rng.standard_normal(n).astype(dtype) for _ in range(3)],
        "b": [rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype),
              rng.uniform(0, 2, n).astype(dtype)],
    }
    rows = []
    for expr, peers in (("a", _peers_a()), ("b", _peers_b())):
        args = inputs[expr]
        f, fused = _symcomp(expr, dtype)
        ref = peers["numpy"](*args)
        results = {f"symcomp (fused: {fused} sc.fused op)": f}
        results.update(peers)
        secs = _median_seconds(results, args, reps)
        base = next(iter(secs.values()))
        for name, fn in results.items():
            got = fn(*args)
            err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
            rows.append({"expr": expr, "peer": name, "ms": 1000 * secs[name], "ratio": secs[name] / base, "err": err})
    return rows


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000_000, help="elements per array")
    ap.add_argument("--reps", type=int, default=15, help="timed calls per row")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    args = ap.parse_args(argv)
    rows = run(args.n, args.reps, args.dtype)
    exprs = {"a": "a*b + c", "b": "exp(-x*x/2) * sin(y) + log1p(z)"}
    print(f"N = {args.n:,} {args.dtype}, median of {args.reps} calls, 1 thread each; "
          "ratio = time / symcomp's time")
    for e, text in exprs.items():
        print(f"\n{text}\n")
        print("| peer | median ms | ratio | rel err vs numpy |")
        print("|---|---|---|---|")
        for r in rows:
            if r["expr"] == e:
                print(f"| {r['peer']} | {r['ms']:.2f} | {r['ratio']:.2f} | {r['err']:.1e} |")
    return rows


if __name__ == "__main__":
    main()
