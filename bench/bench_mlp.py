"""Digits MLP training step (64-256-10, tanh, softmax cross-entropy, full-batch SGD, float64) at 1797
and 60000 rows: symcomp beside the same network in hand-written NumPy, JAX, PyTensor and PyTorch
(eager autograd, and torch.compile of the loss with eager SGD).  Every peer starts from the same
weights, and the loss of that first step is reported so that the rows can be checked against each
other.

    python bench/bench_mlp.py [--rows 1797 60000]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_digits

from common import THREADS, emit, peer, set_threads, timeit

LR = 0.5


def numpy_step_factory(params):
    """The hand-written NumPy step (tanh hidden layer, softmax, mean cross-entropy, SGD), in place."""
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
        for prm, g in ((W1, dW1), (b1, db1), (W2, dW2), (b2, db2)):
            prm -= LR * g
        return loss

    return step


def make_peers(X, y, init):
    import mlp_digits

    jax, pytensor, torch = peer("jax"), peer("pytensor"), peer("torch")

    def sc():
        step, _, params = mlp_digits.build(64, 256, 10, LR, "tanh", "cpu")
        for p, v in zip(params, init):
            p.set_value(v)
        return (lambda: step(X, y)), (lambda: float(step(X, y)))

    def numpy_():
        step = numpy_step_factory([v.copy() for v in init])
        return (lambda: step(X, y)), (lambda: float(step(X, y)))

    def jx():
        if jax is None:
            return None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def loss(p, x, t):
            h = jnp.tanh(x @ p[0] + p[1])
            return -jnp.mean(jax.nn.log_softmax(h @ p[2] + p[3])[jnp.arange(x.shape[0]), t])

        @jax.jit
        def step(p, x, t):
            val, g = jax.value_and_grad(loss)(p, x, t)
            return tuple(a - LR * b for a, b in zip(p, g)), val

        state = {"p": tuple(jax.device_put(v) for v in init)}
        xd, yd = jax.device_put(X), jax.device_put(y)

        def run():
            state["p"], val = step(state["p"], xd, yd)
            return val.block_until_ready()

        return run, (lambda: float(run()))

    def pt():
        if pytensor is None:
            return None
        import pytensor.tensor as pt_

        x, t = pt_.matrix("x", dtype="float64"), pt_.vector("t", dtype="int64")
        params = [pytensor.shared(v.copy()) for v in init]
        h = pt_.tanh(x @ params[0] + params[1])
        p = pt_.special.softmax(h @ params[2] + params[3], axis=1)
        loss = -pt_.mean(pt_.log(p[pt_.arange(x.shape[0]), t]))
        f = pytensor.function([x, t], loss, updates=[(q, q - LR * g) for q, g in zip(params, pytensor.grad(loss, params))])
        return (lambda: f(X, y)), (lambda: float(f(X, y)))

    def te(compiled):
        def make():
            if torch is None:
                return None
            params = [torch.tensor(v, requires_grad=True) for v in init]
            xt, yt = torch.from_numpy(X), torch.from_numpy(y)

            def loss_fn(x, t):
                h = torch.tanh(x @ params[0] + params[1])
                return torch.nn.functional.cross_entropy(h @ params[2] + params[3], t)

            lf = torch.compile(loss_fn) if compiled else loss_fn

            def run():
                loss = lf(xt, yt)
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    for q, g in zip(params, grads):
                        q -= LR * g
                return loss

            return run, (lambda: float(run()))
        return make

    return [("symcomp", THREADS, sc), ("numpy by hand (OpenBLAS)", THREADS, numpy_), ("jax.jit", "XLA default", jx),
            ("pytensor (default mode)", "1 (+BLAS)", pt), ("torch eager autograd", THREADS, te(False)),
            ("torch.compile(loss) + eager SGD", THREADS, te(True))]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1797, 60000])
    args = ap.parse_args(argv)
    peer("torch")
    set_threads()
    digits = load_digits()
    X0, y0 = digits.data / 16.0, digits.target.astype(np.int64)
    rng = np.random.default_rng(0)
    s = np.sqrt(6.0 / (64 + 256))
    init = [rng.uniform(-s, s, (64, 256)), np.zeros(256), np.zeros((256, 10)), np.zeros(10)]
    for rows in args.rows:
        idx = np.resize(np.arange(len(X0)), rows)
        X, y = np.ascontiguousarray(X0[idx]), y0[idx]
        flops = 2 * rows * (64 * 256 * 2 + 256 * 10 * 3)  # GEMMs: X@W1, X^T@dH; h@W2, h^T@dz, dz@W2^T
        for name, threads, make in make_peers(X, y, init):
            try:
                made = make()
            except Exception as exc:  # noqa: BLE001
                emit(f"mlp_{rows}", name, threads, None, note=f"{type(exc).__name__}: {str(exc)[:120]}")
                continue
            if made is None:
                emit(f"mlp_{rows}", name, threads, None, note="not installed")
                continue
            run, loss = made
            first = loss()  # every peer's first step starts from the same weights: the losses must agree
            res = timeit(run, warmup=2, min_reps=9 if rows > 10000 else 50, budget_s=2.0)
            emit(f"mlp_{rows}", name, threads, res, flops=flops, first_loss=first)


if __name__ == "__main__":
    main()
