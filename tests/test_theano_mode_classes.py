"""Theano's mode classes: theano.compile.debugmode.DebugMode and
theano.compile.nanguardmode.NanGuardMode(nan_is_error, inf_is_error, big_is_error)."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.debugmode import BadOutput, DebugMode
from symcomp.compile.nanguardmode import NanGuardError, NanGuardMode


def test_nanguard_mode_flags():
    x = T.dmatrix("x")
    big = symcomp.function([x], T.dot(x, x) * 1e6, mode=NanGuardMode(nan_is_error=True, inf_is_error=True,
                                                                      big_is_error=True))
    with pytest.raises(AssertionError, match="sc.mul produced Big"):
        big(np.full((2, 2), 1e3))
    np.testing.assert_allclose(big(np.eye(2)), 1e6 * np.eye(2))
    quiet = symcomp.function([x], T.dot(x, x) * 1e6, mode=NanGuardMode(big_is_error=False))
    np.testing.assert_allclose(quiet(np.full((2, 2), 1e3)), np.full((2, 2), 2e12))
    log = symcomp.function([x], T.log(x), mode=NanGuardMode(True, True, False))
    with pytest.raises(NanGuardError, match="sc.log produced NaN"):
        log(-np.ones((2, 2)))
    inf_ok = symcomp.function([x], T.log(x), mode=NanGuardMode(True, False, False))
    assert np.isneginf(inf_ok(np.zeros((1, 1)))).all()
    mode = NanGuardMode()
    assert (mode.nan_is_error, mode.inf_is_error, mode.big_is_error) == (True, True, True)
    assert "fuse" not in mode.pipeline.split(",")
    assert NanGuardMode(optimizer=None).pipeline == ""
    assert symcomp.compile.NanGuardMode is NanGuardMode


def test_nanguard_mode_reference_linker():
    x = T.dvector("x")
    f = symcomp.function([x], x / x, mode=NanGuardMode(linker="py"))
    with pytest.raises(NanGuardError):
        f(np.zeros(2))


def test_debug_mode_class():
    x = T.dmatrix("x")
    mode = DebugMode()
    assert mode.pipeline == symcomp.compile.get_mode("fast").pipeline
    f = symcomp.function([x], T.exp(x).sum(), mode=mode)
    assert f(np.zeros((2, 3))) == 6.0
    g = symcomp.function([x], x * 2, mode=DebugMode(optimizer="fast_compile", check_isfinite=False))
    np.testing.assert_array_equal(g(np.ones((1, 2))), [[2.0, 2.0]])
    assert symcomp.compile.DebugMode is DebugMode
    assert issubclass(BadOutput, Exception)
    with pytest.raises(ValueError, match="unknown optimizer"):
        DebugMode(optimizer="bogus")
    with pytest.raises(ValueError, match="unknown linker"):
        NanGuardMode(linker="bogus")
