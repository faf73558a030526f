"""Random numbers: 10^7 uniform and normal draws in float64 and float32 (a fresh result every call),
and dropout ``x * (u < keep) / keep`` on a 2000 x 5000 float64 matrix (beside ``x * 2``, the same
memory traffic without random numbers: the bound).

symcomp (a RandomStreams variable compiled into a function; dropout is one fused loop) beside
NumPy's ``Generator(Philox)`` (Philox4x64-10) and ``Generator(PCG64)``, ``torch.rand`` /
``torch.randn`` / ``F.dropout`` and ``jax.random.uniform`` / ``normal`` / ``bernoulli`` (jitted,
Threefry).  NumPy's generators run on one thread; the others on BENCH_THREADS where they have a
setting.
"""

from __future__ import annotations

import numpy as np

from common import THREADS, jax_call, peer, run_peers, set_threads

N = 10_000_000
ROWS, COLS = 2000, 5000
KEEP = 0.5


def draw_peers(kind: str, dtype):
    """(name, threads, make) for every peer drawing N ``kind`` ('uniform' or 'normal') numbers."""
    import symcomp

    jax, torch = peer("jax"), peer("torch")
    np_dt = np.dtype(dtype)

    def sc(trust):
        def make():
            srng = symcomp.RandomStreams(1)
            v = getattr(srng, kind)((N,), dtype=np_dt.name)
            f = symcomp.function([], v, trust_input=trust)
            return f
        return make

    def gen(bitgen):
        def make():
            g = np.random.Generator(bitgen(1))
            if kind == "uniform":
                return lambda: g.random(N, dtype=np_dt)
            return lambda: g.standard_normal(N, dtype=np_dt)
        return make

    def te():
        if torch is None:
            return None
        t_dt = getattr(torch, np_dt.name)
        fn = torch.rand if kind == "uniform" else torch.randn
        torch.manual_seed(1)
        return lambda: fn(N, dtype=t_dt)

    def jx():
        if jax is None:
            return None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        fn = getattr(jax.random, kind)
        key = jax.random.PRNGKey(1)
        j_dt = getattr(jnp, np_dt.name)
        return jax_call(jax, lambda k: fn(k, (N,), dtype=j_dt), key)

    return [
        ("symcomp", THREADS, sc(False)),
        ("numpy Generator(Philox)", 1, gen(np.random.Philox)), ("numpy Generator(PCG64)", 1, gen(np.random.PCG64)),
        (f"torch.{'rand' if kind == 'uniform' else 'randn'}", THREADS, te),
        (f"jax.random.{kind} (jit)", "XLA default", jx),
    ]


def dropout_peers(x):
    """(name, threads, make) for every peer computing dropout of ``x`` with a new mask per call."""
    import symcomp
    from symcomp import tensor as T

    jax, torch = peer("jax"), peer("torch")

    def sc():
        srng = symcomp.RandomStreams(1)
        v = T.dmatrix("x")
        f = symcomp.function([v], v * srng.binomial(v.shape, p=KEEP, dtype="float64") / KEEP)
        return lambda: f(x)

    def numpy_pcg():
        g = np.random.Generator(np.random.PCG64(1))
        return lambda: x * (g.random(x.shape) < KEEP) / KEEP

    def te():
        if torch is None:
            return None
        t = torch.from_numpy(x)
        f = torch.nn.functional.dropout
        return lambda: f(t, p=1 - KEEP, training=True)

    def jx():
        if jax is None:
            return None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def fn(k, v):
            return jnp.where(jax.random.bernoulli(k, KEEP, v.shape), v / KEEP, 0.0)

        return jax_call(jax, fn, jax.random.PRNGKey(1), x)

    return [("symcomp (fused)", THREADS, sc), ("numpy Generator(PCG64)", 1, numpy_pcg),
            ("torch F.dropout", THREADS, te), ("jax.random.bernoulli + where (jit)", "XLA default", jx)]


def bound_peers(x):
    """The memory traffic of dropout without its random numbers: ``x * 2`` reads x and writes a new
    array of its size, as dropout does; its time is the bound the fused dropout aims at."""
    import symcomp
    from symcomp import tensor as T

    def sc():
        v = T.dmatrix("x")
        f = symcomp.function([v], v * 2.0)
        return lambda: f(x)

    return [("symcomp x * 2 (no random numbers)", THREADS, sc), ("numpy x * 2", 1, lambda: (lambda: x * 2.0))]


def main():
    peer("torch")
    set_threads()
    for kind in ("uniform", "normal"):
        for dtype, tag in ((np.float64, "f64"), (np.float32, "f32")):
            run_peers(f"rand_{kind[0]}_{tag}", draw_peers(kind, dtype))
    x = np.random.default_rng(0).random((ROWS, COLS))

    def check(got):  # the kept fraction and the scaling: every element is 0 or x / keep
        got = np.asarray(got)
        kept = got != 0
        scale = np.abs(got[kept] - x[kept] / KEEP).max()
        return max(abs(kept.mean() - KEEP) / KEEP, scale)

    run_peers("dropout", dropout_peers(x), check)
    run_peers("dropout_memory_bound", bound_peers(x))


if __name__ == "__main__":
    main()
