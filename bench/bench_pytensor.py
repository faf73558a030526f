"""symcomp as a PyTensor backend: PyMC's ``logp_dlogp_function`` per call, PyTensor's C, Numba and JAX
modes against mode="SYMCOMP", one process.

Models: the eight schools (non-centred, 10 parameters), a logistic regression on scikit-learn's breast
cancer data (569 x 30), and a logistic GLM on synthetic data with 10^5 rows and 50 predictors.  Each
function is evaluated at the model's initial point (raveled, shifted), with ``trust_input`` set as
PyMC's samplers do, and its outputs converted with ``np.asarray`` (which waits for JAX's
asynchronous results); every mode's log-density and gradient are checked against the C mode's first.

Run: ``python bench/bench_pytensor.py`` (rows as JSON lines, then a markdown table).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from common import emit, peer, set_threads, timeit

MODES = [("pytensor C", None), ("pytensor NUMBA", "NUMBA"), ("pytensor JAX", "JAX"), ("symcomp", "SYMCOMP")]


def models():
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent / "examples"))
    import pymc as pm
    from pymc_eight_schools import breast_cancer_logistic, eight_schools

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 50))
    beta = rng.standard_normal(50) * 0.3
    y = rng.random(100_000) < 1 / (1 + np.exp(-(X @ beta - 0.5)))
    with pm.Model() as glm:
        a = pm.Normal("alpha", 0.0, 2.5)
        b = pm.Normal("beta", 0.0, 1.0, shape=50)
        pm.Bernoulli("obs", logit_p=a + X @ b, observed=y.astype("int64"))
    return {"eight schools": eight_schools(), "logistic 569x30": breast_cancer_logistic(), "GLM 1e5x50": glm}


def main() -> None:
    set_threads()
    import symcomp.pytensor  # noqa: F401  (mode="SYMCOMP")

    table = {}
    for name, model in models().items():
        q = None
        ref = None
        for label, mode in MODES:
            if mode == "JAX" and peer("jax") is None or mode == "NUMBA" and peer("numba") is None:
                emit("pytensor", label, 2, None, model=name, note="not installed")
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = model.logp_dlogp_function(ravel_inputs=True, mode=mode)
                    f.set_extra_values({})
                    fn = f._pytensor_function
                    if q is None:
                        point = model.initial_point()
                        q = np.concatenate([np.ravel(point[v.name]) for v in f._grad_vars]).astype("float64")
                        q = q + np.linspace(-0.3, 0.3, q.size)
                    fn.trust_input = True
                    out = fn(q)
            except Exception as exc:  # noqa: BLE001 - a mode that cannot compile the model is reported
                emit("pytensor", label, 2, None, model=name, note=f"{type(exc).__name__}: {exc}"[:200])
                continue
            out = [np.asarray(o) for o in out]
            if ref is None:
                ref = out
            else:
                for a, b in zip(out, ref):
                    np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-8 * max(1.0, float(np.abs(b).max())))
            # np.asarray waits for JAX's asynchronous results (a no-op on NumPy arrays)
            res = timeit(lambda: [np.asarray(o) for o in fn(q)], budget_s=1.0)
            emit("pytensor", label, 2, res, model=name)
            table.setdefault(name, {})[label] = res["median_s"]
    labels = [lab for lab, _ in MODES]
    print("\n| model | " + " | ".join(labels) + " | symcomp vs best peer |")
    print("|---" * (len(labels) + 2) + "|")
    for name, row in table.items():
        cells = [f"{row[lab] * 1e6:.1f} us" if lab in row else "-" for lab in labels]
        peers = [row[lab] for lab in labels if lab in row and lab != "symcomp"]
        ratio = f"{min(peers) / row['symcomp']:.2f}x" if peers and "symcomp" in row else "-"
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main()
