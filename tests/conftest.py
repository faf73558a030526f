"""Shared test configuration: hypothesis profiles and helpers.

Profiles: ``ci`` (default; bounded examples, no deadline — JIT compilation
times vary on shared machines) and ``thorough`` (select with
``--hypothesis-profile=thorough``).
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _private_compile_cache(tmp_path_factory):
    """Compiled code is cached in a fresh directory per test session, never in the user's cache."""
    old = os.environ.get("SYMCOMP_CACHE_DIR")
    os.environ["SYMCOMP_CACHE_DIR"] = str(tmp_path_factory.mktemp("symcomp-cache"))
    yield
    if old is None:
        os.environ.pop("SYMCOMP_CACHE_DIR", None)
    else:
        os.environ["SYMCOMP_CACHE_DIR"] = old


@pytest.fixture
def rng():
    """A seeded NumPy generator (tests are reproducible)."""
    return np.random.default_rng(1234)


@pytest.fixture(params=[1, 2, 3])
def nthreads(request):
    """Run the test with ``symcomp.config.num_threads`` at 1, 2 and 3 (restored afterwards)."""
    import symcomp

    old = symcomp.config.num_threads
    symcomp.config.num_threads = request.param
    yield request.param
    symcomp.config.num_threads = old
