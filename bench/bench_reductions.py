"""Reductions over a 2000x5000 float64 matrix: ``sum(exp(x))`` and softmax over rows (fresh output)."""

from __future__ import annotations

import numpy as np

from common import THREADS, jax_call, peer, run_peers, set_threads, torch_call

SHAPE = (2000, 5000)


def _softmax_np(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


def peers_for(kind: str, x):
    import symcomp
    from symcomp import tensor as T

    ne, numba, jax, pytensor, torch = (peer(m) for m in ("numexpr", "numba", "jax", "pytensor", "torch"))
    sm = kind == "softmax"

    def sc():
        X = T.dmatrix("x")
        f = symcomp.function([X], T.nnet.softmax(X) if sm else T.sum(T.exp(X)))
        return lambda: f(x)

    def numexpr():
        if sm:  # one numexpr expression cannot hold a row reduction followed by a broadcast
            raise NotImplementedError("softmax over rows is not expressible in one numexpr expression")
        if ne is None:
            return None
        return lambda: ne.evaluate("sum(exp(x))", local_dict={"x": x})

    def nb():
        if numba is None:
            return None
        from numba import njit, prange

        if sm:
            @njit(parallel=True, fastmath=True)
            def k(a):
                out = np.empty_like(a)
                for i in prange(a.shape[0]):
                    m = a[i].max()
                    s = 0.0
                    for j in range(a.shape[1]):
                        out[i, j] = np.exp(a[i, j] - m)
                        s += out[i, j]
                    out[i] /= s
                return out
        else:
            @njit(parallel=True, fastmath=True)
            def k(a):
                s = 0.0
                flat = a.ravel()
                for i in prange(flat.size):
                    s += np.exp(flat[i])
                return s
        return lambda: k(x)

    def jx():
        if jax is None:
            return None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        return jax_call(jax, (lambda a: jax.nn.softmax(a, axis=1)) if sm else (lambda a: jnp.sum(jnp.exp(a))), x)

    def pt():
        if pytensor is None:
            return None
        import pytensor.tensor as pt_

        X = pt_.matrix("x", dtype="float64")
        f = pytensor.function([X], pt_.special.softmax(X, axis=1) if sm else pt_.sum(pt_.exp(X)))
        return lambda: f(x)

    def te(compiled):
        fn = (lambda a: torch.softmax(a, dim=1)) if sm else (lambda a: torch.exp(a).sum())
        return lambda: torch_call(torch, fn, x, compiled=compiled)

    return [
        ("symcomp", THREADS, sc), ("numpy", 1, lambda: (lambda: _softmax_np(x) if sm else np.exp(x).sum())),
        ("numexpr", THREADS, numexpr), ("numba parallel fastmath", THREADS, nb), ("jax.jit", "XLA default", jx),
        ("pytensor (default mode)", 1, pt), ("torch eager", THREADS, te(False)),
        ("torch.compile (inductor)", THREADS, te(True)),
    ]


def main():
    peer("numexpr"), peer("numba"), peer("torch")
    set_threads()
    x = np.random.default_rng(0).standard_normal(SHAPE)
    for bench, kind in (("sumexp", "sum"), ("softmax", "softmax")):
        want = _softmax_np(x) if kind == "softmax" else np.exp(x).sum()

        def check(got, want=want):
            got = np.asarray(got)
            return np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300))

        run_peers(bench, peers_for(kind, x), check)


if __name__ == "__main__":
    main()
