"""The distributions against SciPy: Kolmogorov-Smirnov tests for the continuous ones, chi-square
tests for the discrete ones, moments within their confidence bounds, independence of streams.

Every test uses fixed seeds and the draws are bit-reproducible, so each test passes or fails the
same way on every run and machine: never flaky.  The thresholds (p > 1e-3, moments within 5
standard errors) were met by these seeds; a failure means the draws changed.
"""

import numpy as np
import pytest
from scipy import stats

import symcomp
from symcomp.tensor.randomstreams import RandomStreams

N = 200_000
P_MIN = 1e-3


def draw(make, seed=2024, calls=1):
    """``calls`` draws of the variable ``make(srng)`` from ``RandomStreams(seed)``, concatenated."""
    srng = RandomStreams(seed)
    f = symcomp.function([], make(srng))
    return np.concatenate([np.ravel(f()) for _ in range(calls)])


def chi2_counts(sample, probs, support):
    """Chi-square test of the counts of ``support`` values (bins with expected count < 5 merged into
    their neighbour); returns the p-value."""
    counts = np.array([(sample == k).sum() for k in support], float)
    expected = np.asarray(probs, float) * len(sample)
    assert counts.sum() == len(sample), "values outside the support"
    c, e = [], []
    acc_c = acc_e = 0.0
    for ci, ei in zip(counts, expected):
        acc_c += ci
        acc_e += ei
        if acc_e >= 5:
            c.append(acc_c)
            e.append(acc_e)
            acc_c = acc_e = 0.0
    if acc_e:
        c[-1] += acc_c
        e[-1] += acc_e
    return stats.chisquare(c, np.array(e) * sum(c) / sum(e)).pvalue


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_uniform_ks_and_moments(dtype):
    u = draw(lambda s: s.uniform((N,), low=-2.0, high=3.0, dtype=dtype))
    assert u.dtype == dtype
    assert stats.kstest(u, stats.uniform(-2, 5).cdf).pvalue > P_MIN
    se = 5 / np.sqrt(12 * N)
    assert abs(u.mean() - 0.5) < 5 * se
    assert abs(u.var() - 25 / 12) < 5 * 25 / 12 * np.sqrt(0.8 / N)  # var of the sample variance: 4/5 sigma^4 / N


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_normal_ks_and_moments(dtype):
    z = draw(lambda s: s.normal((N,), avg=1.0, std=2.0, dtype=dtype))
    assert stats.kstest(z, stats.norm(1, 2).cdf).pvalue > P_MIN
    assert abs(z.mean() - 1.0) < 5 * 2 / np.sqrt(N)
    assert abs(z.var() - 4.0) < 5 * 4 * np.sqrt(2 / N)
    assert abs(stats.skew(z)) < 5 * np.sqrt(6 / N)
    assert abs(stats.kurtosis(z)) < 5 * np.sqrt(24 / N)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_normal_tails(dtype):
    """Inversion of 52-bit uniforms reaches 8 standard deviations (23-bit ones in float32: 5.3); the
    tail mass is right."""
    z = draw(lambda s: s.normal((N,), dtype=dtype), calls=5)
    n = len(z)
    for k in (2.0, 3.0, 4.0):
        expected = 2 * stats.norm.sf(k) * n
        assert abs((np.abs(z) > k).sum() - expected) < 5 * np.sqrt(expected) + 1


def test_truncated_normal_ks():
    z = draw(lambda s: s.truncated_normal((N,), avg=0.5, std=1.5))
    assert stats.kstest(z, stats.truncnorm(-2, 2, loc=0.5, scale=1.5).cdf).pvalue > P_MIN


@pytest.mark.parametrize("n, p", [(1, 0.3), (10, 0.3), (64, 0.9)])
def test_binomial_chi_square(n, p):
    b = draw(lambda s: s.binomial((N // 4,), n=n, p=p))
    k = np.arange(n + 1)
    assert chi2_counts(b, stats.binom(n, p).pmf(k), k) > P_MIN


def _chi2_clipped(x, dist):
    """Chi-square p-value of integer draws ``x`` against the scipy distribution ``dist``, the values
    below its 1e-6 quantile and above its 1 - 1e-6 quantile pooled into the end bins."""
    lo, hi = int(dist.ppf(1e-6)), int(dist.ppf(1 - 1e-6))
    k = np.arange(lo, hi + 1)
    probs = dist.pmf(k)
    probs[0] += dist.cdf(lo - 1)
    probs[-1] += dist.sf(hi)
    return chi2_counts(np.clip(x, lo, hi), probs, k)


@pytest.mark.parametrize("n, p", [(65, 0.5), (100, 0.3), (500, 0.9), (1000, 0.002), (200, 0.049), (10**6, 0.4),
                                  (3000, 0.9985)])
def test_large_binomial_chi_square(n, p):
    """n above 64: BTRS (mean n min(p, 1 - p) >= 10) or geometric waiting times (below), and p > 1/2
    by symmetry."""
    b = draw(lambda s: s.binomial((N // 4,), n=n, p=p))
    assert b.min() >= 0 and b.max() <= n
    assert _chi2_clipped(b, stats.binom(n, p)) > P_MIN
    assert abs(b.mean() - n * p) < 5 * np.sqrt(n * p * (1 - p) / len(b))


def test_binomial_with_a_symbolic_n_chi_square():
    from symcomp import tensor as T

    srng = RandomStreams(5)
    n = T.lvector("n")
    f = symcomp.function([n], srng.binomial((N // 8, 3), n=n, p=np.array([0.5, 0.2, 0.7])))
    b = f(np.array([7, 40, 2000]))
    for j, (nj, pj) in enumerate(((7, 0.5), (40, 0.2), (2000, 0.7))):
        assert _chi2_clipped(b[:, j], stats.binom(nj, pj)) > P_MIN
    bad = f(np.array([-1, 0, 3]))
    assert (bad[:, 0] == -1).all() and (bad[:, 1] == 0).all()


def test_binomial_float32_probability():
    b = draw(lambda s: s.binomial((N,), p=np.float32(0.25), dtype="int8"))
    assert chi2_counts(b, [0.75, 0.25], [0, 1]) > P_MIN


def test_integers_chi_square():
    v = draw(lambda s: s.integers((N,), 3, 20))
    k = np.arange(3, 20)
    assert chi2_counts(v, np.full(17, 1 / 17), k) > P_MIN
    r = draw(lambda s: s.random_integers((N,), -2, 2), seed=7)
    assert chi2_counts(r, np.full(5, 0.2), np.arange(-2, 3)) > P_MIN


def test_choice_with_probabilities_chi_square():
    p = np.array([0.05, 0.25, 0.0, 0.4, 0.3])
    c = draw(lambda s: s.choice((N,), 5, p=p))
    assert chi2_counts(c, p, np.arange(5)) > P_MIN


def test_multinomial_chi_square():
    pv = np.array([0.1, 0.2, 0.3, 0.4])
    m = draw(lambda s: s.multinomial((N // 8,), 1, pv)).reshape(-1, 4)
    cat = m.argmax(axis=1)
    assert chi2_counts(cat, pv, np.arange(4)) > P_MIN
    m5 = draw(lambda s: s.multinomial((N // 8,), 5, pv)).reshape(-1, 4)
    assert (m5.sum(axis=1) == 5).all()
    for j in range(4):  # each category's count is Binomial(5, p_j)
        assert chi2_counts(m5[:, j], stats.binom(5, pv[j]).pmf(np.arange(6)), np.arange(6)) > P_MIN


def test_multinomial_with_a_symbolic_n_chi_square():
    """Conditional binomials: every count is Binomial(n, p_j), the counts add up to n."""
    from symcomp import tensor as T

    pv = np.array([0.1, 0.2, 0.3, 0.4])
    srng = RandomStreams(6)
    n = T.lscalar("n")
    f = symcomp.function([n], srng.multinomial((N // 8,), n, pv))
    m = f(20)
    assert m.shape == (N // 8, 4) and (m.sum(axis=1) == 20).all()
    for j in range(4):
        assert chi2_counts(m[:, j], stats.binom(20, pv[j]).pmf(np.arange(21)), np.arange(21)) > P_MIN
    pairs = m[:, 0] * 21 + m[:, 1]  # the joint law of two counts
    k = np.unique(pairs)
    joint = stats.multinomial(20, [0.1, 0.2, 0.7])
    probs = np.array([joint.pmf([c // 21, c % 21, 20 - c // 21 - c % 21]) for c in k])
    assert chi2_counts(pairs, probs / probs.sum(), k) > P_MIN
    assert (f(-3) == -1).all()


@pytest.mark.parametrize("lam", [0.5, 3.5, 9.99, 10.0, 40.0, 1000.0])
def test_poisson_chi_square(lam):
    x = draw(lambda s: s.poisson((N // 4,), lam=lam))
    lo, hi = int(stats.poisson(lam).ppf(1e-6)), int(stats.poisson(lam).ppf(1 - 1e-6))
    k = np.arange(lo, hi + 1)
    x = np.clip(x, lo, hi)
    probs = stats.poisson(lam).pmf(k)
    probs[0] += stats.poisson(lam).cdf(lo - 1)
    probs[-1] += stats.poisson(lam).sf(hi)
    assert chi2_counts(x, probs, k) > P_MIN
    assert abs(x.mean() - lam) < 5 * np.sqrt(lam / len(x))


def test_permutations_are_uniform():
    rows = 24_000
    perm = draw(lambda s: s.permutation((rows,), 4)).reshape(rows, 4)
    assert (np.sort(perm, axis=1) == np.arange(4)).all()
    codes = perm @ np.array([64, 16, 4, 1])
    all_perms = sorted({int(c) for c in codes})
    assert len(all_perms) == 24
    assert chi2_counts(codes, np.full(24, 1 / 24), all_perms) > P_MIN


def test_choice_without_replacement_is_uniform_over_subsets():
    srng = RandomStreams(3)
    f = symcomp.function([], srng.choice((2,), 4, replace=False))
    firsts = np.array([f()[0] for _ in range(2000)])
    assert chi2_counts(firsts, np.full(4, 0.25), np.arange(4)) > P_MIN


def test_choice_without_replacement_with_probabilities_chi_square():
    """Successive draws with the probabilities renormalised over the categories left (NumPy's law):
    the ordered pair (i, j) has probability p_i p_j / (1 - p_i)."""
    p = np.array([0.1, 0.2, 0.3, 0.4])
    srng = RandomStreams(4)
    f = symcomp.function([], srng.choice((2,), 4, replace=False, p=p))
    pairs = np.array([f() for _ in range(8000)])
    assert (pairs[:, 0] != pairs[:, 1]).all()
    support = [i * 4 + j for i in range(4) for j in range(4) if i != j]
    probs = [p[c // 4] * p[c % 4] / (1 - p[c // 4]) for c in support]
    assert chi2_counts(pairs[:, 0] * 4 + pairs[:, 1], probs, support) > P_MIN
    g = symcomp.function([], srng.choice((3,), np.array([5.0, 6.0, 7.0, 8.0]), replace=False, p=[0.5, 0.0, 0.25, 0.25]))
    for _ in range(50):
        v = g()
        assert sorted(v) == [5.0, 7.0, 8.0]  # a zero probability is never chosen while others are left


def test_streams_and_calls_are_uncorrelated():
    srng = RandomStreams(99)
    f = symcomp.function([], [srng.uniform((N,)), srng.uniform((N,)), srng.normal((N,))])
    a, b, z = f()
    a2, _, _ = f()
    bound = 5 / np.sqrt(N)
    for x, y in ((a, b), (a, z), (a, a2), (a[:-1], a[1:])):
        assert abs(np.corrcoef(x, y)[0, 1]) < bound
    # neighbouring seeds give unrelated streams
    c = draw(lambda s: s.uniform((N,)), seed=100)
    d = draw(lambda s: s.uniform((N,)), seed=101)
    assert abs(np.corrcoef(c, d)[0, 1]) < bound


def test_bits_are_balanced():
    """Every bit of the raw words is 1 half of the time (a smoke test of the generator's output)."""
    from symcomp import tensor as T
    from symcomp.ir.opdef import build
    from symcomp.ir.ops.random import Philox

    lo = T.tensor("uint64", shape=(None,))
    f = symcomp.function([lo], build(Philox, [lo, T.constant(np.zeros(1, np.uint64)),
                                              T.constant(np.full(1, 12345, np.uint64))], word=3))
    w = f(np.arange(N, dtype=np.uint64))
    ones = np.array([((w >> np.uint32(k)) & 1).sum() for k in range(32)])
    assert (np.abs(ones - N / 2) < 5 * np.sqrt(N / 4)).all()
