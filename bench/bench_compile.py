"""Digits MLP training step (forward, grad, SGD updates; 1797 rows): graph to first result in a NEW
process, with an empty compilation cache (cold) and with the cache a previous process filled (warm):
symcomp's, JAX's persistent compilation cache, PyTensor's compiledir and TorchInductor's, each in a
temporary directory of the run.

Each measurement is its own child process (``--child PEER``); imports are timed separately and
excluded from 'to first result', as in PEERS.md.  Each row is the median (and minimum) of
``--repeats`` rounds (default 5); every round has its own cache directories, filled by its cold
process and read by its warm one, and takes turns between the peers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
        # JAX's persistent compilation cache, in the run's temporary directory (cold: empty),
        # keeping every entry however quick its compilation was.
        jax.config.update("jax_compilation_cache_dir", os.environ["BENCH_JAX_CACHE_DIR"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
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
    ap.add_argument("--repeats", type=int, default=5, help="new processes per peer and cache state")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child)), flush=True)
        return
    runs: dict = {}  # (peer, cache state) -> list of child results, or an error note
    with tempfile.TemporaryDirectory() as tmp:
        # Rounds take turns between the peers, so that a slower minute of the machine falls on all.
        for rep in range(args.repeats):
            d = os.path.join(tmp, str(rep))
            env = dict(os.environ, SYMCOMP_CACHE_DIR=os.path.join(d, "symcomp"),
                       PYTENSOR_FLAGS=f"compiledir={os.path.join(d, 'pytensor')}",
                       TORCHINDUCTOR_CACHE_DIR=os.path.join(d, "inductor"),
                       BENCH_JAX_CACHE_DIR=os.path.join(d, "jax"))
            for name in args.peers:
                for cache in ("cold", "warm"):  # warm: the cache the cold process of this round filled
                    got = runs.setdefault((name, cache), [])
                    if isinstance(got, str):
                        continue
                    r = subprocess.run([sys.executable, __file__, "--child", name], env=env, capture_output=True,
                                       text=True, timeout=600)
                    if r.returncode:
                        runs[(name, cache)] = r.stderr.strip().splitlines()[-1][:160] if r.stderr.strip() else \
                            f"exit {r.returncode}"
                        continue
                    got.append(json.loads(r.stdout.strip().splitlines()[-1]))
    for (name, cache), got in runs.items():
        if isinstance(got, str):
            emit("compile_mlp", f"{name} [{cache}]", "-", None, note=got)
            continue
        times = sorted(g["to_first_s"] for g in got)
        mid = statistics.median(times)
        shown = min(got, key=lambda g: abs(g["to_first_s"] - mid))  # its stages and import time
        extra = {k: v for k, v in shown.items() if k != "to_first_s"}
        emit("compile_mlp", f"{name} [{cache}]", "-", {"median_s": mid, "min_s": times[0], "reps": len(times)},
             **extra)


if __name__ == "__main__":
    main()
