"""Calling a compiled kernel from other code: per-call cost of each way in, side by side.

f(x, y) = exp(x) * y + 1 on float64 vectors of n elements, called in a loop of
``reps`` calls: NumPy; a symcomp Function called from Python; the same function
specialized as a native kernel (symcomp.embed.entry_point) called from a Numba
@njit loop; the same expression written in Numba itself.  Medians of repeated
runs, microseconds per call, in one process.

    python bench/bench_embed.py [--sizes 100 10000 1000000] [--reps 2000]

Unset OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE when comparing with published numbers
(BLAS is not used here, but NumPy's kernels are affected on some machines).
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

import symcomp
from symcomp import embed
from symcomp import tensor as T


def _median_us(fn, reps: int, repeats: int = 7) -> float:
    fn(1)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(reps)
        times.append((time.perf_counter() - t0) / reps)
    return 1e6 * float(np.median(times))


@numba.njit
def _numba_expr(x, y, out, reps):
    for _ in range(reps):
        for i in range(x.size):
            out[i] = np.exp(x[i]) * y[i] + 1.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 10_000, 1_000_000])
    ap.add_argument("--reps", type=int, default=2000)
    args = ap.parse_args(argv)
    x, y = T.dvector("x"), T.dvector("y")
    f = symcomp.function([x, y], T.exp(x) * y + 1.0, name="expmul")
    print(f"{'n':>9} {'numpy':>10} {'symcomp f()':>12} {'kernel<-numba':>14} {'numba':>10}   (us per call)")
    for n in args.sizes:
        rng = np.random.default_rng(0)
        xv, yv, out = rng.standard_normal(n), rng.standard_normal(n), np.empty(n)
        reps = max(3, args.reps * 100 // max(n, 100))
        kernel = embed.entry_point(f, [(n,), (n,)]).cfunc

        @numba.njit
        def via_kernel(x, y, out, reps):
            for _ in range(reps):
                kernel(x.ctypes, y.ctypes, out.ctypes, 0)

        def run_numpy(r):
            for _ in range(r):
                np.exp(xv) * yv + 1.0

        def run_symcomp(r):
            for _ in range(r):
                f(xv, yv)

        row = [_median_us(run_numpy, reps), _median_us(run_symcomp, reps),
               _median_us(lambda r: via_kernel(xv, yv, out, r), reps),
               _median_us(lambda r: _numba_expr(xv, yv, out, r), reps)]
        np.testing.assert_allclose(out, np.exp(xv) * yv + 1.0, rtol=1e-12)
        print(f"{n:>9} {row[0]:>10.2f} {row[1]:>12.2f} {row[2]:>14.2f} {row[3]:>10.2f}")


if __name__ == "__main__":
    main()
