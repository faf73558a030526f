"""Peak memory of compiled elementwise chains: fusion, in-place buffers and workspace reuse.

The CPU runtime allocates outputs, update arrays and the workspace as NumPy
arrays, which tracemalloc sees.  A 10-op chain over 1e7 float64 elements
(80 MB per array) must need about one output array of extra memory, not ten.
These are memory assertions, not timing ones.
"""

import tracemalloc

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.modes import MODES, Mode, register_mode

N = 10_000_000
ARRAY = N * 8


def chain(x):
    """Ten elementwise ops, none of which canonicalize removes."""
    v = x
    for k in range(5):
        v = v * (1.25 + k / 8)
        v = v - 0.25
    return v


def peak_extra_bytes(f, *args) -> int:
    """Peak bytes NumPy allocated during one call (the first: workspace included)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = f(*args)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    del out
    return peak


def _mode(name: str, pipeline: str) -> str:
    if name not in MODES:
        register_mode(Mode(name, pipeline, MODES["fast"].backend))
    return name


@pytest.fixture(scope="module")
def big():
    return np.random.default_rng(0).standard_normal(N)


def test_fused_chain_needs_one_output_array(big):
    x = T.dvector("x")
    f = symcomp.function([x], chain(x))
    assert f.dump("optimized").count("sc.fused") == 1
    f(big[:10])  # compile-time and planning allocations of another signature do not count
    assert peak_extra_bytes(f, big) < 1.1 * ARRAY
    np.testing.assert_allclose(f(big[:1000]), symcomp.function([x], chain(x), mode="reference")(big[:1000]))


def test_unfused_chain_runs_in_place_in_the_output_array(big):
    """Without fusion, every op overwrites its dead operand: the chain lives in the output array."""
    x = T.dvector("x")
    f = symcomp.function([x], chain(x), mode=_mode("test-inplace-only", "canonicalize,inplace,dce"))
    assert "sc.fused" not in f.dump("optimized") and f.dump("optimized").count("sc.inplace") == 9
    assert peak_extra_bytes(f, big) < 1.1 * ARRAY


def test_workspace_regions_are_reused_by_liveness(big):
    """Without fusion or in-place, liveness still bounds the workspace to two live temporaries."""
    x = T.dvector("x")
    f = symcomp.function([x], chain(x), mode=_mode("test-no-inplace", "canonicalize,dce"))
    assert peak_extra_bytes(f, big) < 3.1 * ARRAY  # the output + 2 regions, not the output + 9
    (plan,) = f.executable._plans.values()
    assert plan.workspace_bytes == 2 * ARRAY


def test_regions_of_different_sizes_are_reused_first_fit():
    x, y = T.dvector("x"), T.dvector("y")
    small = T.exp(y) * 2.0  # 1000 elements
    large = T.tanh(T.exp(x) * 3.0)  # 4000 elements, computed after the small temporaries died
    f = symcomp.function([x, y], [small.sum(), large.sum()], mode=_mode("test-no-inplace", "canonicalize,dce"))
    f(np.zeros(4000), np.zeros(1000))
    (plan,) = f.executable._plans.values()
    assert plan.workspace_bytes <= 2 * 4000 * 8 + 2 * 1000 * 8
