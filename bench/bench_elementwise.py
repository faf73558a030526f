"""Fused elementwise work, 10^7 elements, fresh output every call:
``exp(-x*x/2)*sin(y)+log1p(z)`` in float64 and float32, ``a*b+c`` in float64, and GELU
(``0.5 x (1 + erf(x / sqrt 2))``, the exact form, not tanh's approximation) in float32.

symcomp beside NumPy, numexpr, Numba (parallel), JAX, PyTensor and PyTorch (eager and torch.compile).
"""

from __future__ import annotations

import numpy as np

from common import THREADS, jax_call, peer, run_peers, set_threads, torch_call

N = 10_000_000


def peers_for(kind: str, dtype, args):
    """(name, threads, make) for every peer computing ``kind`` ('trans' or 'fma') on ``args``."""
    import symcomp
    from symcomp import tensor as T

    ne, numba, jax, pytensor, torch = (peer(m) for m in ("numexpr", "numba", "jax", "pytensor", "torch"))
    trans = kind == "trans"
    expr_np = (lambda x, y, z: np.exp(-x * x / 2) * np.sin(y) + np.log1p(z)) if trans else \
        (lambda x, y, z: x * y + z)

    def sc(trust):
        def make():
            v = [T.tensor(np.dtype(dtype).name, (None,), n) for n in "xyz"]
            out = T.exp(-v[0] * v[0] / 2) * T.sin(v[1]) + T.log1p(v[2]) if trans else v[0] * v[1] + v[2]
            f = symcomp.function(v, out, trust_input=trust)
            return lambda: f(*args)
        return make

    def numexpr():
        if ne is None:
            return None
        s = "exp(-x*x/2)*sin(y)+log1p(z)" if trans else "x*y+z"
        d = dict(zip("xyz", args))
        return lambda: ne.evaluate(s, local_dict=d)

    def nb():
        if numba is None:
            return None
        from numba import njit, prange

        if trans:
            @njit(parallel=True, fastmath=True)
            def k(x, y, z):
                out = np.empty_like(x)
                for i in prange(x.size):
                    out[i] = np.exp(-x[i] * x[i] / 2) * np.sin(y[i]) + np.log1p(z[i])
                return out
        else:
            @njit(parallel=True, fastmath=True)
            def k(x, y, z):
                out = np.empty_like(x)
                for i in prange(x.size):
                    out[i] = x[i] * y[i] + z[i]
                return out
        return lambda: k(*args)

    def jx():
        if jax is None:
            return None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        return jax_call(jax, (lambda x, y, z: jnp.exp(-x * x / 2) * jnp.sin(y) + jnp.log1p(z)) if trans else
                        (lambda x, y, z: x * y + z), *args)

    def pt():
        if pytensor is None:
            return None
        import pytensor.tensor as pt_

        v = [pt_.vector(n, dtype=np.dtype(dtype).name) for n in "xyz"]
        out = pt_.exp(-v[0] * v[0] / 2) * pt_.sin(v[1]) + pt_.log1p(v[2]) if trans else v[0] * v[1] + v[2]
        f = pytensor.function(v, out)
        return lambda: f(*args)

    def te(compiled):
        fn = (lambda x, y, z: torch.exp(-x * x / 2) * torch.sin(y) + torch.log1p(z)) if trans else \
            (lambda x, y, z: x * y + z)
        return lambda: torch_call(torch, fn, *args, compiled=compiled)

    return [
        ("symcomp", THREADS, sc(False)), ("symcomp trust_input", THREADS, sc(True)),
        ("numpy", 1, lambda: (lambda: expr_np(*args))), ("numexpr", THREADS, numexpr),
        ("numba parallel fastmath", THREADS, nb), ("jax.jit", "XLA default", jx),
        ("pytensor (default mode)", 1, pt), ("torch eager", THREADS, te(False)),
        ("torch.compile (inductor)", THREADS, te(True)),
    ]


def gelu_peers(x):
    """(name, threads, make) for every peer computing the exact GELU of float32 ``x``."""
    import math

    import symcomp
    from symcomp import tensor as T

    numba, jax, pytensor, torch = (peer(m) for m in ("numba", "jax", "pytensor", "torch"))
    c = 1 / math.sqrt(2)

    def sc(trust):
        def make():
            v = T.tensor("float32", (None,), "x")
            f = symcomp.function([v], 0.5 * v * (1 + T.erf(v * c)), trust_input=trust)
            return lambda: f(x)
        return make

    def np_scipy():
        from scipy.special import erf

        h = np.float32(0.5)
        return lambda: h * x * (1 + erf(x * np.float32(c)))

    def nb():
        if numba is None:
            return None
        from numba import njit, prange

        @njit(parallel=True, fastmath=True)
        def k(v):
            out = np.empty_like(v)
            for i in prange(v.size):
                out[i] = 0.5 * v[i] * (1 + math.erf(v[i] * c))
            return out
        return lambda: k(x)

    def jx():
        return jax_call(jax, lambda v: jax.nn.gelu(v, approximate=False), x)

    def pt():
        if pytensor is None:
            return None
        import pytensor.tensor as pt_

        v = pt_.vector("x", dtype="float32")
        f = pytensor.function([v], 0.5 * v * (1 + pt_.erf(v * np.float32(c))))
        return lambda: f(x)

    def te(compiled):
        return lambda: torch_call(torch, lambda v: torch.nn.functional.gelu(v), x, compiled=compiled)

    return [
        ("symcomp", THREADS, sc(False)), ("symcomp trust_input", THREADS, sc(True)),
        ("numpy + scipy.special.erf", 1, np_scipy), ("numba parallel fastmath", THREADS, nb),
        ("jax.jit (jax.nn.gelu exact)", "XLA default", jx), ("pytensor (default mode)", 1, pt),
        ("torch eager (F.gelu)", THREADS, te(False)), ("torch.compile (F.gelu)", THREADS, te(True)),
    ]


def main():
    peer("numexpr"), peer("numba"), peer("torch")
    set_threads()
    rng = np.random.default_rng(0)
    for bench, kind, dtype in (("ew_f64", "trans", np.float64), ("ew_f32", "trans", np.float32),
                               ("abc_f64", "fma", np.float64)):
        args = [rng.random(N).astype(dtype) for _ in range(3)]
        args[0] *= 3.0
        with np.errstate(all="ignore"):
            want = (np.exp(-args[0].astype(np.float64) ** 2 / 2) * np.sin(args[1].astype(np.float64))
                    + np.log1p(args[2].astype(np.float64))) if kind == "trans" else args[0] * args[1] + args[2]

        def check(got, want=want):
            got = np.asarray(got)
            return np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-30))

        run_peers(bench, peers_for(kind, dtype, args), check)
    x = rng.standard_normal(N).astype(np.float32)
    from scipy.special import erf

    want = 0.5 * x.astype(np.float64) * (1 + erf(x.astype(np.float64) / np.sqrt(2)))
    run_peers("gelu_f32", gelu_peers(x),
              lambda got: np.max(np.abs(np.asarray(got, np.float64) - want) / np.maximum(np.abs(want), 1e-30)))


if __name__ == "__main__":
    main()
