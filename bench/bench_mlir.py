"""The MLIR backend beside the native CPU backend, side by side in one process.

Benchmarks (those of /work/shared/research/PEERS.md):

* ``a*b + c`` on 1e7 float64 (memory bound);
* ``exp(-x*x/2) * sin(y) + log1p(z)`` on 1e7 float64 (vector math);
* one training step of the digits MLP of examples/mlp_digits.py (1797 rows,
  64 -> 256 -> 10, full batch): forward, backward and SGD updates.

Method: each function is compiled in both modes, its results are checked to
agree, then after 2 warm-up calls the median of ``--reps`` timed calls is
reported (one ``gc.collect()`` before, the garbage collector off while
timing), with the ratio MLIR / native (below 1: MLIR is faster).  Compile
times are one cold compile each.

Run with OpenBLAS's tuning variables unset (they slow this machine's BLAS
about 2x; the native backend's matrix products call BLAS)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/bench_mlir.py

On a loaded machine, two-thread BLAS stalls on the busy cores; add
``OPENBLAS_NUM_THREADS=1`` for the native backend's single-thread numbers (the
MLIR code is single-threaded either way).
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np

import common  # noqa: F401  (puts the repository and examples/ on sys.path)
import symcomp
from symcomp import tensor as T

MODES = ("fast", "mlir")
LABELS = {"fast": "native CPU", "mlir": "MLIR"}


def median_seconds(fn, args, reps: int, warmup: int = 2) -> float:
    """Median wall time of ``fn(*args)`` over ``reps`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn(*args)
    gc.collect()
    gc.disable()
    try:
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn(*args)
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return float(np.median(times))


def compiled(build, mode: str):
    """(function, seconds to compile) for ``build(mode)``."""
    t0 = time.perf_counter()
    f = build(mode)
    return f, time.perf_counter() - t0


def elementwise_cases(n: int, rng):
    x, y, z = T.dvectors("x", "y", "z")
    a, b, c = (rng.standard_normal(n) for _ in range(3))
    return [
        (f"a*b + c ({n:.0e} f64)", lambda mode: symcomp.function([x, y, z], x * y + z, mode=mode), (a, b, c)),
        (f"exp(-x*x/2)*sin(y) + log1p(z) ({n:.0e} f64)",
         lambda mode: symcomp.function([x, y, z], T.exp(-x * x / 2) * T.sin(y) + T.log1p(z), mode=mode),
         (a, b, np.abs(c))),
    ]


def mlp_case(n_hidden: int = 256, lr: float = 0.5, seed: int = 0):
    """The training step of examples/mlp_digits.py on all 1797 digits, with fresh weights per mode."""
    import mlp_digits
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target.astype(np.int64)

    def build(mode):
        x, t, loss, _, updates, _ = mlp_digits.model(64, n_hidden, 10, lr, "tanh", seed)
        return symcomp.function([x, t], loss, updates=updates, name="train_step", mode=mode)

    return (f"MLP train step ({len(X)} rows, 64-{n_hidden}-10)", build, (X, y))


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000_000, help="elements of the elementwise benchmarks")
    ap.add_argument("--reps", type=int, default=11, help="timed calls per benchmark (median reported)")
    args = ap.parse_args(argv)
    if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
        print("note: OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are set; BLAS (native matrix products) runs ~2x slower")
    load = os.getloadavg()[0]
    print(f"load average before the run: {load:.2f} on {os.cpu_count()} CPUs; "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    rng = np.random.default_rng(0)
    rows = []
    for name, build, data in elementwise_cases(args.n, rng) + [mlp_case()]:
        fns, compile_s = {}, {}
        for mode in MODES:
            fns[mode], compile_s[mode] = compiled(build, mode)
        first = [np.asarray(fns[m](*data)) for m in MODES]
        np.testing.assert_allclose(first[1], first[0], rtol=1e-9, err_msg=name)
        med = {m: median_seconds(fns[m], data, args.reps) for m in MODES}
        rows.append({"benchmark": name, **{f"{m}_ms": 1e3 * med[m] for m in MODES},
                     **{f"{m}_compile_s": compile_s[m] for m in MODES}})
    print(f"\n| benchmark | {LABELS['fast']} ms | {LABELS['mlir']} ms | MLIR / native | compile native s | "
          f"compile MLIR s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['benchmark']} | {r['fast_ms']:.2f} | {r['mlir_ms']:.2f} | {r['mlir_ms'] / r['fast_ms']:.2f} | "
              f"{r['fast_compile_s']:.2f} | {r['mlir_compile_s']:.2f} |")
    return rows


if __name__ == "__main__":
    main()
