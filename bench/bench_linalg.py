"""Linear algebra on a 300 x 300 float64 matrix (well conditioned; SPD where needed): inverse,
solve (10 right-hand sides), Cholesky, eigh, SVD values, and a sort of 10^6 values, side by side:
symcomp (LAPACK through scipy.linalg.cython_lapack, after a copy into column-major workspace),
NumPy, SciPy (and PyTensor where installed, on its default backend)."""

from __future__ import annotations

import numpy as np

from common import THREADS, peer, run_peers, set_threads

N = 300


def _data():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    spd = (q * rng.uniform(1, 3, N)) @ q.T
    return spd, rng.standard_normal((N, 10)), rng.standard_normal(10**6)


CASES = {
    "inverse": ("matrix_inverse", lambda np_, sl, a, b: np_.linalg.inv(a), lambda sl, a, b: sl.inv(a)),
    "solve": ("solve", lambda np_, sl, a, b: np_.linalg.solve(a, b), lambda sl, a, b: sl.solve(a, b)),
    "cholesky": ("cholesky", lambda np_, sl, a, b: np_.linalg.cholesky(a), lambda sl, a, b: sl.cholesky(a, lower=True)),
    "eigh": ("eigh", lambda np_, sl, a, b: np_.linalg.eigh(a)[0], lambda sl, a, b: sl.eigh(a, eigvals_only=True)),
    "svdvals": ("svdvals", lambda np_, sl, a, b: np_.linalg.svd(a, compute_uv=False), lambda sl, a, b: sl.svdvals(a)),
}


def _symcomp(kind, a, b, v):
    import symcomp
    from symcomp import tensor as T

    A, B, V = T.dmatrix("a"), T.dmatrix("b"), T.dvector("v")
    out = {"inverse": lambda: T.nlinalg.matrix_inverse(A), "solve": lambda: T.slinalg.solve(A, B),
           "cholesky": lambda: T.slinalg.cholesky(A), "eigh": lambda: T.nlinalg.eigh(A)[0],
           "svdvals": lambda: T.nlinalg.svd(A, compute_uv=False), "sort": lambda: T.sort(V)}[kind]()
    f = symcomp.function([A, B, V], out, on_unused_input="ignore")
    return lambda: f(a, b, v)


def main():
    set_threads()
    import scipy.linalg as sl

    a, b, v = _data()
    pt = peer("pytensor")
    for kind in list(CASES) + ["sort"]:
        if kind == "sort":
            ref = np.sort(v)
            peers = [("symcomp", THREADS, lambda: _symcomp("sort", a, b, v)), ("numpy", 1, lambda: lambda: np.sort(v))]
        else:
            _, np_fn, sl_fn = CASES[kind]
            ref = np_fn(np, sl, a, b)
            peers = [("symcomp", THREADS, lambda k=kind: _symcomp(k, a, b, v)),
                     ("numpy", THREADS, lambda f=np_fn: (lambda: f(np, sl, a, b))),
                     ("scipy", THREADS, lambda f=sl_fn: (lambda: f(sl, a, b)))]
            if pt is not None and kind in ("inverse", "cholesky"):
                def pyt(k=kind):
                    import pytensor
                    import pytensor.tensor as pT
                    from pytensor.tensor import nlinalg, slinalg

                    X = pT.dmatrix("a")
                    g = pytensor.function([X], nlinalg.matrix_inverse(X) if k == "inverse" else slinalg.cholesky(X))
                    return lambda: g(a)
                peers.append(("pytensor", THREADS, pyt))
        run_peers(f"linalg-{kind}", peers, check=lambda r, ref=ref: np.max(np.abs(r - ref)) / np.max(np.abs(ref)))


if __name__ == "__main__":
    main()
