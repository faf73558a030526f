"""The SYMCOMP mode as a whole: registration, partitioning around unconvertible ops (reported),
shared variables and updates, RandomVariable fallback, and PyMC's logp_dlogp_function."""

from __future__ import annotations

import numpy as np
import pytest

pytensor = pytest.importorskip("pytensor")

import pytensor.tensor as pt  # noqa: E402

import symcomp.pytensor as sp  # noqa: E402


def test_mode_is_registered_under_its_name():
    from pytensor.compile.mode import get_mode

    assert get_mode("SYMCOMP") is sp.SYMCOMP
    assert isinstance(get_mode("SYMCOMP").linker, sp.SymcompLinker)


def test_report_refuses_other_modes():
    x = pt.dvector("x")
    with pytest.raises(TypeError, match="SYMCOMP"):
        sp.report(pytensor.function([x], x * 2))


def test_unconvertible_op_partitions_the_graph():
    """A cumulative product (symcomp has no cumprod) between converted parts: two symcomp functions
    around it, equal to PyTensor's default mode, and the fallback reported with its reason."""
    x = pt.dvector("x")
    y = pt.cumprod(pt.exp(x)) * 2
    out = pt.log(y).sum() + pt.sqrt(x * x).max()
    f = pytensor.function([x], [out, y], mode="SYMCOMP")
    g = pytensor.function([x], [out, y])
    v = np.linspace(-1, 2, 7)
    for a, b in zip(f(v), g(v)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    rep = sp.report(f)
    assert [n for n, _ in rep.fallback] and all("Cumprod" in n for n, _ in rep.fallback), str(rep)
    assert "cumulative mul" in rep.fallback[0][1]
    assert rep.functions == 2 and rep.compiled
    assert "on PyTensor's default linker" in str(rep)


def test_shared_variables_and_updates():
    w = pytensor.shared(np.arange(3.0), name="w")
    x = pt.dvector("x")
    cost = ((w - x) ** 2).sum()
    f = pytensor.function([x], cost, updates={w: w - 0.1 * pytensor.grad(cost, w)}, mode="SYMCOMP")
    w0 = np.arange(3.0)
    xv = np.ones(3)
    for _ in range(3):
        c = f(xv)
        assert np.isclose(c, ((w0 - xv) ** 2).sum())
        w0 = w0 - 0.1 * 2 * (w0 - xv)
        np.testing.assert_allclose(w.get_value(), w0, rtol=1e-14)


def test_random_variables_fall_back_reported():
    rng = pytensor.shared(np.random.default_rng(1))
    draws = pt.random.normal(0, 1, size=(4,), rng=rng)
    f = pytensor.function([], pt.exp(draws), mode="SYMCOMP")
    g = pytensor.function([], pt.exp(pt.random.normal(0, 1, size=(4,), rng=pytensor.shared(np.random.default_rng(1)))))
    np.testing.assert_allclose(f(), g(), rtol=1e-12)
    assert any(why.startswith("RandomVariable") for _, why in sp.report(f).fallback), str(sp.report(f))


def test_pymc_logp_and_gradient_equal_the_default_mode():
    pm = pytest.importorskip("pymc")
    y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
    s = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 5)
        tau = pm.HalfCauchy("tau", 5)
        th = pm.Normal("theta_t", 0, 1, shape=8)
        pm.Normal("y", mu + tau * th, s, observed=y)
        pm.Gamma("g", 2.0, 1.5)  # gammaln in the log-density, psi in no gradient (alpha is fixed)
        pm.Beta("b", 2.0, 3.0)
    q = np.linspace(-1, 1, 12)
    outs = []
    for mode in (None, "SYMCOMP"):
        f = model.logp_dlogp_function(ravel_inputs=True, mode=mode)
        f.set_extra_values({})
        outs.append(f._pytensor_function(q))
        if mode:
            assert not sp.report(f._pytensor_function).fallback, str(sp.report(f._pytensor_function))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_pymc_distributions_compile_entirely_and_agree():
    """Log-densities of 19 PyMC distributions (gammaln, psi, log1mexp, erfcx, Split of a Dirichlet...):
    all of logp_dlogp converts, and equals the default mode."""
    pm = pytest.importorskip("pymc")
    with pm.Model() as m:
        a = pm.Gamma("a", 2, 1)
        b = pm.Beta("b", 2, 3)
        c = pm.StudentT("c", nu=4, mu=0, sigma=1)
        d = pm.Exponential("d", 1.0)
        e = pm.LogNormal("e", 0, 1)
        f = pm.HalfNormal("f", 1)
        g = pm.Dirichlet("g", np.ones(3))
        h = pm.InverseGamma("h", 2, 1)
        pm.Poisson("p", a, observed=np.array([1, 2, 3]))
        pm.Binomial("bi", 10, b, observed=np.array([3, 4]))
        pm.NegativeBinomial("nb", mu=a, alpha=d, observed=np.array([0, 5]))
        pm.Normal("n", c, f, observed=[0.1, 0.3])
        pm.Categorical("cat", p=g, observed=np.array([0, 2, 1]))
        pm.Weibull("w", 1.5, h, observed=[0.5])
        pm.TruncatedNormal("tn", mu=c, sigma=1, lower=-1, upper=2, observed=[0.5])
        pm.Laplace("l", c, e, observed=[1.0])
        pm.Censored("cens", pm.Normal.dist(c, 1), lower=-1, upper=1, observed=[-1.0, 0.2, 1.0])
        pm.Cauchy("cau", 0, 1, observed=[3.0])
        pm.Logistic("lg", 0, 1, observed=[0.3])
    outs = []
    for mode in (None, "SYMCOMP"):
        fn = m.logp_dlogp_function(ravel_inputs=True, mode=mode)
        fn.set_extra_values({})
        q = np.linspace(-0.5, 0.5, fn._pytensor_function.maker.fgraph.inputs[0].type.shape[0])
        outs.append(fn._pytensor_function(q))
        if mode:
            rep = sp.report(fn._pytensor_function)
            assert not rep.fallback and rep.functions == 1, str(rep)
    for a_, b_ in zip(*outs):
        np.testing.assert_allclose(a_, b_, rtol=1e-10, atol=1e-11)
