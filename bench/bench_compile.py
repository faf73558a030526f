"""Digits MLP training step (forward, grad, SGD updates; 1797 rows): graph to first result in a NEW
process, with an empty compilation cache (cold) and with the cache a previous process filled (warm).

Each measurement is its own child process (``--child PEER``); imports are timed separately and
excluded from 'to first result', as in PEERS.md.  One measurement per row (not a median: every row
is a fresh process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from common import emit

LR = 0.5


def child(name: str) -> dict:
    t0 = time.perf_counter()
    import numpy as np
    from sklearn.datasets import load_digits

    d = load_digits()
    X, y = d.data / 16.0, d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    s = np.sqrt(6.0 / (64 + 256))
    init = [rng.uniform(-s, s, (64, 256)), np.zeros(256), np.zeros((256, 10)), np.zeros(10)]
    if name == "symcomp":
        import symcomp
        from symcomp import tensor as T
        t1 = time.perf_counter()
        x, t = T.dmatrix("x"), T.lvector("y")
        params = [symcomp.shared(v, name=f"p{i}") for i, v in enumerate(init)]
        h = T.tanh(T.dot(x, params[0]) + params[1])
        loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, params[2]) + params[3]), t))
        f = symcomp.function([x, t], loss, updates=[(p, p - LR * g) for p, g in zip(params, T.grad(loss, params))])
        first = float(f(X, y))
        extra = {"stages_ms": {k: round(v * 1e3, 2) for k, v in f.timings.items()}}
    elif name == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        t1 = time.perf_counter()

        def lossf(p, x, t):
            hh = jnp.tanh(x @ p[0] + p[1])
            return -jnp.mean(jax.nn.log_softmax(hh @ p[2] + p[3])[jnp.arange(x.shape[0]), t])

        @jax.jit
        def step(p, x, t):
            val, g = jax.value_and_grad(lossf)(p, x, t)
            return tuple(a - LR * b for a, b in zip(p, g)), val

        _, val = step(tuple(init), X, y)
        first = float(val.block_until_ready())
        extra = {}
    elif name == "pytensor":
        import pytensor
        import pytensor.tensor as pt
        t1 = time.perf_counter()
        x, t = pt.matrix("x", dtype="float64"), pt.vector("t", dtype="int64")
        params = [pytensor.shared(v) for v in init]
        hh = pt.tanh(x @ params[0] + params[1])
        p = pt.special.softmax(hh @ params[2] + params[3], axis=1)
        loss = -pt.mean(pt.log(p[pt.arange(x.shape[0]), t]))
        f = pytensor.function([x, t], loss, updates=[(q, q - LR * g) for q, g in zip(params, pytensor.grad(loss, params))])
        first = float(f(X, y))
        extra = {}
    elif name == "torch.compile":
        import torch
        t1 = time.perf_counter()
        params = [torch.tensor(v, requires_grad=True) for v in init]

        @torch.compile
        def lossf(x, t):
            hh = torch.tanh(x @ params[0] + params[1])
            return torch.nn.functional.cross_entropy(hh @ params[2] + params[3], t)

        val = lossf(torch.from_numpy(X), torch.from_numpy(y))
        grads = torch.autograd.grad(val, params)
        with torch.no_grad():
            for q, g in zip(params, grads):
                q -= LR * g
        first = float(val.detach())
        extra = {}
    else:
        raise SystemExit(f"unknown peer {name}")
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "to_first_s": t2 - t1, "first_loss": first, **extra}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child")
    ap.add_argument("--peers", nargs="+", default=["symcomp", "jax", "pytensor", "torch.compile"])
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, SYMCOMP_CACHE_DIR=os.path.join(tmp, "symcomp"),
                   PYTENSOR_FLAGS=f"compiledir={os.path.join(tmp, 'pytensor')}",
                   TORCHINDUCTOR_CACHE_DIR=os.path.join(tmp, "inductor"))
        for name in args.peers:
            for cache in (("cold", "warm") if name != "jax" else ("cold (no persistent cache)",)):
                r = subprocess.run([sys.executable, __file__, "--child", name], env=env, capture_output=True,
                                   text=True, timeout=600)
                if r.returncode:
                    emit("compile_mlp", f"{name} [{cache}]", "-", None, note=r.stderr.strip().splitlines()[-1][:160])
                    continue
                res = json.loads(r.stdout.strip().splitlines()[-1])
                emit("compile_mlp", f"{name} [{cache}]", "-", {"median_s": res.pop("to_first_s"), "reps": 1}, **res)


if __name__ == "__main__":
    main()
