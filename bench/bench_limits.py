"""The machine's limits, measured in the same run as the benchmarks: memory bandwidth (STREAM copy
and triad, and a read-only sum, with numba on all threads and NumPy on one) and DGEMM (NumPy's
OpenBLAS, 2000^3).  Rows: bench ``limits``; ``bytes``/``flops`` let run_all turn times into rates."""

from __future__ import annotations

import numpy as np

from common import THREADS, emit, peer, set_threads, timeit

N = 20_000_000


def main():
    numba = peer("numba")
    set_threads()
    a, b, c = np.empty(N), np.random.default_rng(0).random(N), np.random.default_rng(1).random(N)
    emit("limits", "copy: numpy np.copyto", 1, timeit(lambda: np.copyto(a, b), min_reps=11), bytes=16 * N)
    if numba is not None:
        from numba import njit, prange

        @njit(parallel=True)
        def copy(dst, src):
            for i in prange(src.size):
                dst[i] = src[i]

        @njit(parallel=True)
        def triad(dst, x, y):
            for i in prange(x.size):
                dst[i] = x[i] + 3.0 * y[i]

        @njit(parallel=True, fastmath=True)
        def total(x):
            s = 0.0
            for i in prange(x.size):
                s += x[i]
            return s

        emit("limits", "copy: numba prange", THREADS, timeit(lambda: copy(a, b), min_reps=11), bytes=16 * N)
        emit("limits", "triad: numba prange", THREADS, timeit(lambda: triad(a, b, c), min_reps=11), bytes=24 * N)
        emit("limits", "read: numba prange sum", THREADS, timeit(lambda: total(b), min_reps=11), bytes=8 * N,
             read_only=True)
    n = 2000
    A, B = np.random.default_rng(2).random((n, n)), np.random.default_rng(3).random((n, n))
    emit("limits", "dgemm 2000^3: numpy/OpenBLAS", THREADS, timeit(lambda: A @ B, min_reps=7), flops=2 * n ** 3)


if __name__ == "__main__":
    main()
