"""Theano's T.addbroadcast, T.unbroadcast and T.patternbroadcast, against NumPy's broadcasting."""

import inspect

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

from helpers import assert_matches

MODES = ("reference", "fast", "fast_compile")


def _line() -> int:
    return inspect.currentframe().f_back.f_lineno


@pytest.mark.parametrize("mode", MODES)
def test_the_broadcast_errors_advice_works(mode):
    """A (1, n) operand against (m, n) declared as two matrices is refused, and the error says to use
    T.addbroadcast, which did not exist; following the advice gives NumPy's broadcast result."""
    x, q = T.dmatrix("x"), T.dmatrix("q")
    xv, qv = np.arange(12.0).reshape(3, 4), np.array([[10.0, 20.0, 30.0, 40.0]])
    f = symcomp.function([x, q], x + q, mode=mode)
    with pytest.raises(ValueError, match=r"T\.addbroadcast"):
        f(xv, qv)
    g = symcomp.function([x, q], x + T.addbroadcast(q, 0), mode=mode)
    assert_matches(g(xv, qv), xv + qv)


@pytest.mark.parametrize("mode", MODES)
def test_addbroadcast_checks_the_size_when_called(mode):
    x, q = T.dmatrix("x"), T.dmatrix("q")
    qb = T.addbroadcast(q, 0); line = _line()  # noqa: E702 - the line the error must name
    f = symcomp.function([x, q], x * qb, mode=mode)
    with pytest.raises(ValueError, match=rf"axis 0 has size 2, not 1 .*test_broadcastable.py:{line}"):
        f(np.ones((3, 4)), np.ones((2, 4)))


def test_addbroadcast_types():
    x = T.dtensor3("x")
    assert T.addbroadcast(x, 0, -1).type.shape == (1, None, 1)
    assert T.addbroadcast(x).type == x.type
    r = T.drow("r")
    assert T.addbroadcast(r, 0) is r  # already broadcastable
    fixed = T.tensor("float64", shape=(3, None), name="fixed")
    with pytest.raises(ValueError, match="axis 0 of tensor<3x\\?xf64> has size 3"):
        T.addbroadcast(fixed, 0)
    with pytest.raises(ValueError, match="out of range"):
        T.addbroadcast(x, 3)
    with pytest.raises(TypeError, match="axes must be ints"):
        T.addbroadcast(x, "0")


@pytest.mark.parametrize("mode", MODES)
def test_unbroadcast_stops_an_axis_from_stretching(mode):
    x, r = T.dmatrix("x"), T.drow("r")
    u = T.unbroadcast(r, 0)
    assert u.type.shape == (None, None) and r.type.shape == (1, None)
    f = symcomp.function([x, r], x + u, mode=mode)
    with pytest.raises(ValueError, match="do not match on axis 0"):
        f(np.ones((3, 4)), np.ones((1, 4)))
    xv, rv = np.arange(4.0).reshape(1, 4), np.full((1, 4), 0.5)
    assert_matches(f(xv, rv), xv + rv)
    stretching = symcomp.function([x, r], x + r, mode=mode)  # without unbroadcast, the row stretches
    assert_matches(stretching(np.ones((3, 4)), rv), np.ones((3, 4)) + rv)


def test_unbroadcast_leaves_other_axes_alone():
    x = T.dmatrix("x")
    assert T.unbroadcast(x, 0, 1) is x
    c = T.dcol("c")
    assert T.unbroadcast(c, 0).type.shape == (None, 1)


@pytest.mark.parametrize("mode", MODES)
def test_patternbroadcast_sets_the_pattern(mode):
    x, r = T.dmatrix("x"), T.drow("r")
    assert T.patternbroadcast(x, (True, False)).type.shape == (1, None)
    assert T.patternbroadcast(r, (False, True)).type.shape == (None, 1)
    with pytest.raises(ValueError, match="2 entries in the pattern for a rank-3 tensor"):
        T.patternbroadcast(T.dtensor3("t"), (True, False))
    y = T.dmatrix("y")
    f = symcomp.function([x, y], T.patternbroadcast(x, (True, False)) * y, mode=mode)
    xv, yv = np.array([[1.0, 2.0, 3.0]]), np.arange(6.0).reshape(2, 3)
    assert_matches(f(xv, yv), xv * yv)
    with pytest.raises(ValueError, match="not 1"):
        f(np.ones((2, 3)), yv)


def test_gradient_through_addbroadcast_sums_the_stretched_axis():
    x, q = T.dmatrix("x"), T.dmatrix("q")
    cost = T.sum((x * T.addbroadcast(q, 0)) ** 2)
    g = symcomp.function([x, q], T.grad(cost, q))
    xv, qv = np.arange(12.0).reshape(3, 4), np.array([[1.0, -2.0, 0.5, 3.0]])
    assert_matches(g(xv, qv), (2 * xv * xv * qv).sum(axis=0, keepdims=True))
