"""PyMC models sampled with PyTensor's default mode and with symcomp (mode="SYMCOMP").

Two models, each sampled with NUTS twice from the same seed:

* the eight schools (Rubin 1981, "Estimation in parallel randomized experiments", J. Educ. Stat.
  6(4); the data as in Gelman et al., Bayesian Data Analysis, section 5.5), non-centred;
* a logistic regression on scikit-learn's bundled breast cancer data (569 rows, 30 standardized
  predictors).

For each, it prints both wall times, checks r_hat <= 1.01 for both runs and that the posterior
means agree within Monte Carlo error (|difference| <= 4 combined MCSEs), and exits non-zero if not.

Run: ``python examples/pymc_eight_schools.py [--draws N] [--tune N] [--chains N]``
(needs ``pip install -e '.[pytensor]' scikit-learn``; a few minutes on 2 cores with the defaults).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def eight_schools():
    import pymc as pm

    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    sigma = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 5.0)
        tau = pm.HalfCauchy("tau", 5.0)
        theta_tilde = pm.Normal("theta_tilde", 0.0, 1.0, shape=8)
        pm.Deterministic("theta", mu + tau * theta_tilde)
        pm.Normal("obs", mu + tau * theta_tilde, sigma, observed=y)
    return model


def breast_cancer_logistic():
    import pymc as pm
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    X = (data.data - data.data.mean(0)) / data.data.std(0)
    with pm.Model() as model:
        alpha = pm.Normal("alpha", 0.0, 2.5)
        beta = pm.Normal("beta", 0.0, 1.0, shape=X.shape[1])
        pm.Bernoulli("obs", logit_p=alpha + X @ beta, observed=data.target)
    return model


def sample(model, mode, args):
    import pymc as pm

    kwargs = {} if mode is None else {"compile_kwargs": {"mode": mode}}
    with model:
        start = time.perf_counter()
        idata = pm.sample(draws=args.draws, tune=args.tune, chains=args.chains, cores=args.cores,
                          random_seed=args.seed, progressbar=False, target_accept=0.9, **kwargs)
        return idata, time.perf_counter() - start


def compare(name, model, args) -> bool:
    import arviz as az

    runs = {}
    for label, mode in (("default", None), ("SYMCOMP", "SYMCOMP")):
        runs[label] = sample(model, mode, args)
    ok = True
    print(f"\n== {name}: wall time default {runs['default'][1]:.1f} s, SYMCOMP {runs['SYMCOMP'][1]:.1f} s")
    summaries = {k: az.summary(v[0], kind="all", round_to="none") for k, v in runs.items()}
    a, b = summaries["default"], summaries["SYMCOMP"]
    rhat = max(a["r_hat"].max(), b["r_hat"].max())
    z = np.abs(a["mean"] - b["mean"]) / np.sqrt(a["mcse_mean"] ** 2 + b["mcse_mean"] ** 2)
    print(f"   max r_hat {rhat:.4f}; max |mean difference| / MCSE {z.max():.2f} "
          f"(over {len(z)} scalar parameters)")
    table = a[["mean", "sd", "mcse_mean", "r_hat"]].head(4).join(b[["mean", "r_hat"]].head(4), rsuffix="_symcomp")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    if rhat > 1.01:
        print("   FAIL: r_hat > 1.01")
        ok = False
    if z.max() > 4.0:
        print("   FAIL: posterior means differ by more than 4 Monte Carlo standard errors")
        ok = False
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261208)
    args = parser.parse_args(argv)

    import symcomp.pytensor  # noqa: F401  (registers mode="SYMCOMP")

    ok = compare("eight schools (non-centred)", eight_schools(), args)
    ok &= compare("logistic regression, breast cancer data", breast_cancer_logistic(), args)
    print("\nOK" if ok else "\nFAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
