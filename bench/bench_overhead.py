"""Per-call overhead: ``x + 1`` on a 1-element float64 array, a fresh result every call (timed in
batches of 1000 calls, loop included)."""

from __future__ import annotations

import numpy as np

from common import emit, peer, set_threads, timeit


def main():
    set_threads()
    a = np.ones(1)
    rows = []
    import symcomp
    from symcomp import tensor as T

    x = T.dvector("x")
    f, ft = symcomp.function([x], x + 1), symcomp.function([x], x + 1, trust_input=True)
    rows += [("symcomp", lambda: f(a)), ("symcomp trust_input=True", lambda: ft(a)), ("numpy x + 1", lambda: a + 1)]
    ne = peer("numexpr")
    if ne is not None:
        rows.append(("numexpr.evaluate('x+1')", lambda: ne.evaluate("x+1", local_dict={"x": a})))
    numba = peer("numba")
    if numba is not None:
        k = numba.njit(lambda v: v + 1)
        rows.append(("numba @njit", lambda: k(a)))
    jax = peer("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
        jf, ja = jax.jit(lambda v: v + 1), jax.device_put(a)
        rows.append(("jax.jit (device array, block_until_ready)", lambda: jf(ja).block_until_ready()))
    pytensor = peer("pytensor")
    if pytensor is not None:
        import pytensor.tensor as pt

        v = pt.vector("x", dtype="float64")
        pf = pytensor.function([v], v + 1)
        pft = pytensor.function([v], v + 1)
        pft.trust_input = True
        rows += [("pytensor (default mode)", lambda: pf(a)), ("pytensor trust_input=True", lambda: pft(a))]
    torch = peer("torch")
    if torch is not None:
        t = torch.from_numpy(a)
        rows.append(("torch eager x + 1", lambda: t + 1))
    batch = 1000  # calls per timed sample: a timer read costs as much as a fast call
    for name, fn in rows:
        def many(fn=fn):
            for _ in range(batch):
                fn()

        res = timeit(many, warmup=2, min_reps=15, budget_s=1.0)
        res.update(median_s=res["median_s"] / batch, min_s=res["min_s"] / batch, reps=res["reps"] * batch)
        emit("overhead", name, 1, res)


if __name__ == "__main__":
    main()
