"""MLP training step: symcomp against the same network written in plain NumPy (forward and backward by hand).

Both run side by side in this one process on the same data and the same initial weights; the medians of
the timed steps and their ratio are printed as a markdown table.  Run with the machine's OpenBLAS
overrides unset (they slow NumPy's BLAS about 2x on this machine), e.g.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/bench_mlp.py --rows 1797 60000
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import mlp_digits  # noqa: E402


def numpy_step_factory(params, lr):
    """The hand-written NumPy training step (tanh hidden layer, softmax, mean cross-entropy, SGD)."""
    W1, b1, W2, b2 = params

    def step(x, y):
        n = x.shape[0]
        h = np.tanh(x @ W1 + b1)
        z = h @ W2 + b2
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(n), y]))
        dz = p
        dz[np.arange(n), y] -= 1.0
        dz /= n
        dW2 = h.T @ dz
        db2 = dz.sum(axis=0)
        dh = (dz @ W2.T) * (1.0 - h * h)
        dW1 = x.T @ dh
        db1 = dh.sum(axis=0)
        for p, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
            p -= lr * g
        return loss

    return step


def timed(fn, args, warmup: int, reps: int) -> list[float]:
    for _ in range(warmup):
        fn(*args)
    gc.collect()
    gc.disable()
    try:
        out = []
        for _ in range(reps):
            t = time.perf_counter()
            fn(*args)
            out.append(time.perf_counter() - t)
        return out
    finally:
        gc.enable()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1797, 60000])
    ap.add_argument("--reps", type=int, default=0, help="timed steps (default: enough for ~2 s per peer)")
    args = ap.parse_args(argv)
    digits = load_digits()
    X0, y0 = digits.data / 16.0, digits.target.astype(np.int64)
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}")
    print("| rows | symcomp ms/step (median) | NumPy by hand ms/step (median) | NumPy / symcomp |")
    print("|---|---|---|---|")
    for rows in args.rows:
        reps_ = np.resize(np.arange(len(X0)), rows)
        X, y = np.ascontiguousarray(X0[reps_]), y0[reps_]
        step, _, params = mlp_digits.build(64, 256, 10, 0.1, "tanh", "cpu")
        init = [p.get_value() for p in params]
        np_params = [v.copy() for v in init]
        np_step = numpy_step_factory(np_params, 0.1)
        reps = args.reps or max(7, int(2.0 / max(1e-4, rows * 2e-6)))
        t_sc = timed(step, (X, y), 3, reps)
        t_np = timed(np_step, (X, y), 3, reps)
        m_sc, m_np = statistics.median(t_sc) * 1e3, statistics.median(t_np) * 1e3
        print(f"| {rows} | {m_sc:.3f} | {m_np:.3f} | {m_np / m_sc:.2f}x |")


if __name__ == "__main__":
    main()
