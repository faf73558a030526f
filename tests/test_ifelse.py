"""``ifelse``: Theano's lazy branch (theano/doc/tutorial/conditions.txt) on the reference and CPU
backends, its laziness, its errors and its gradient."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.ifelse import ifelse

MODES = ["reference", "fast", "fast_compile"]


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


def test_tutorial_switch_and_ifelse(mode):
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = symcomp.function([a, b, x, y], z_switch, mode=mode)
    f_lazyifelse = symcomp.function([a, b, x, y], z_lazy, mode=mode)
    val1, val2 = 0.0, 1.0
    big_mat1 = np.ones((100, 100))
    big_mat2 = np.full((100, 100), 3.0)
    assert float(f_switch(val1, val2, big_mat1, big_mat2)) == 1.0
    assert float(f_lazyifelse(val1, val2, big_mat1, big_mat2)) == 1.0
    assert float(f_lazyifelse(val2, val1, big_mat1, big_mat2)) == 3.0


def test_several_outputs(mode):
    c = T.iscalar("c")
    x, y = T.dvectors("x", "y")
    o1, o2 = ifelse(c, [x * 2, y.sum()], [x + 1, y.max()])
    f = symcomp.function([c, x, y], [o1, o2], mode=mode)
    xv, yv = np.arange(3.0), np.array([1.0, 5.0, 2.0])
    r = f(1, xv, yv)
    np.testing.assert_allclose(r[0], xv * 2)
    assert float(r[1]) == 8.0
    r = f(0, xv, yv)
    np.testing.assert_allclose(r[0], xv + 1)
    assert float(r[1]) == 5.0


def test_branch_not_taken_is_not_evaluated(mode):
    c = T.iscalar("c")
    x = T.dvector("x")
    i = T.lscalar("i")
    out = ifelse(c, x[i], T.constant(-1.0))  # x[i] out of range is never computed when c == 0
    f = symcomp.function([c, x, i], out, mode=mode)
    assert float(f(0, np.arange(3.0), 10)) == -1.0
    assert float(f(1, np.arange(3.0), 2)) == 2.0
    with pytest.raises(IndexError):
        f(1, np.arange(3.0), 10)


def test_lazy_branch_moves_into_region():
    c = T.iscalar("c")
    x = T.dmatrix("x")
    out = ifelse(c, T.dot(x, x).sum(), x.sum())
    f = symcomp.function([c, x], out)
    traced = f.dump("traced")
    before, _, inside = traced.partition("sc.if")
    assert "sc.dot" not in before and "sc.dot" in inside


def test_errors():
    c = T.iscalar("c")
    x, v = T.dmatrix("x"), T.dvector("v")
    with pytest.raises(TypeError, match="output 0"):
        ifelse(c, x, v)
    with pytest.raises(TypeError, match="dtype"):
        ifelse(c, v, T.fvector("f"))
    with pytest.raises(ValueError):
        ifelse(c, [v, v], [v])
    with pytest.raises(TypeError, match="scalar"):
        ifelse(v, v, v)


def test_gradient_flows_through_taken_branch(mode):
    c = T.iscalar("c")
    x = T.dvector("x")
    out = ifelse(c, (x ** 2).sum(), T.sin(x).sum())
    g = T.grad(out, x)
    f = symcomp.function([c, x], g, mode=mode)
    xv = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(f(1, xv), 2 * xv)
    np.testing.assert_allclose(f(0, xv), np.cos(xv))


def test_ifelse_inside_scan(mode):
    x = T.dvector("x")
    out, _ = symcomp.scan(lambda v, acc: ifelse(T.gt(v, 0), acc + v, acc * 0.5), sequences=x,
                          outputs_info=T.constant(1.0))
    f = symcomp.function([x], out, mode=mode)
    xv = np.array([1.0, -2.0, 3.0, -1.0])
    want, acc = [], 1.0
    for v in xv:
        acc = acc + v if v > 0 else acc * 0.5
        want.append(acc)
    np.testing.assert_allclose(f(xv), want)


def test_failing_branch_with_several_ops_is_deferred():
    c = T.iscalar("c")
    x = T.dvector("x")
    out = ifelse(c, T.exp(x[5:7].reshape((2, 1))).sum() * x[7], x.sum())
    f = symcomp.function([c, x], out)
    assert float(f(0, np.arange(3.0))) == 3.0
    with pytest.raises((IndexError, ValueError)):
        f(1, np.arange(3.0))
