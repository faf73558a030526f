"""Random draws on the CUDA backend equal the reference's bit for bit (on a GPU when one is present,
else in Numba's CUDA simulator: see tests/test_cuda_kernels.py)."""

import importlib.util

import pytest

if importlib.util.find_spec("numba_cuda") is None:
    pytest.skip("the CUDA backend needs numba-cuda (pip install 'symcomp[cuda]')", allow_module_level=True)

from test_cuda_kernels import run_cuda  # noqa: E402,F401  (the fixture)
from test_random_backends import assert_identical, run  # noqa: E402


def cuda_draws():
    return run("fast", device="cuda", calls=1)


def test_cuda_gives_the_reference_bits(run_cuda):
    assert_identical(run_cuda(cuda_draws), run("reference", calls=1), "cuda")
