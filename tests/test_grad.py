"""Gradients of every differentiable op against central finite differences (symcomp.verify_grad),
plus the grad API's contracts (second derivatives, disconnected inputs, errors)."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.ifelse import ifelse
from symcomp.ir.opdef import OPS

R = np.random.default_rng(7)


def _u(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, size=shape)


# op name -> (function of symbolic inputs, points)
CASES = {
    "sc.neg": (lambda x: -x, [_u(3, 4)]),
    "sc.abs": (lambda x: abs(x), [_u(3, 4, lo=0.2) * np.sign(_u(3, 4))]),
    "sc.exp": (T.exp, [_u(3, 4)]),
    "sc.exp2": (T.exp2, [_u(3, 4)]),
    "sc.expm1": (T.expm1, [_u(3, 4)]),
    "sc.log": (T.log, [_u(3, 4, lo=0.2)]),
    "sc.log2": (T.log2, [_u(3, 4, lo=0.2)]),
    "sc.log10": (T.log10, [_u(3, 4, lo=0.2)]),
    "sc.log1p": (T.log1p, [_u(3, 4, lo=-0.5)]),
    "sc.sqrt": (T.sqrt, [_u(3, 4, lo=0.2)]),
    "sc.sin": (T.sin, [_u(3, 4)]),
    "sc.cos": (T.cos, [_u(3, 4)]),
    "sc.tan": (T.tan, [_u(3, 4, lo=-1.2, hi=1.2)]),
    "sc.arcsin": (T.arcsin, [_u(3, 4, lo=-0.9, hi=0.9)]),
    "sc.arccos": (T.arccos, [_u(3, 4, lo=-0.9, hi=0.9)]),
    "sc.arctan": (T.arctan, [_u(3, 4)]),
    "sc.sinh": (T.sinh, [_u(3, 4)]),
    "sc.cosh": (T.cosh, [_u(3, 4)]),
    "sc.tanh": (T.tanh, [_u(3, 4)]),
    "sc.erf": (T.erf, [_u(3, 4)]),
    "sc.erfc": (T.erfc, [_u(3, 4)]),
    "sc.sigmoid": (T.nnet.sigmoid, [_u(3, 4, lo=-6, hi=6)]),
    "sc.softplus": (T.nnet.softplus, [_u(3, 4, lo=-6, hi=6)]),
    "sc.add": (lambda x, y: x + y, [_u(3, 4), _u(4)]),
    "sc.sub": (lambda x, y: x - y, [_u(3, 4), _u(3, 4)]),
    "sc.mul": (lambda x, y: x * y, [_u(3, 4), _u(4)]),
    "sc.div": (lambda x, y: x / y, [_u(3, 4), _u(3, 4, lo=0.5)]),
    "sc.pow": (lambda x, y: x ** y, [_u(3, 4, lo=0.5), _u(3, 4)]),
    "sc.maximum": (T.maximum, [_u(3, 4), _u(3, 4)]),
    "sc.minimum": (T.minimum, [_u(3, 4), _u(3, 4)]),
    "sc.arctan2": (T.arctan2, [_u(3, 4), _u(3, 4, lo=0.5)]),
    "sc.mod": (lambda x, y: x % y, [_u(3, 4, lo=0.1, hi=0.9) + 3.0, np.full((3, 4), 2.0)]),
    "sc.select": (lambda x, y: T.switch(x > 0, x * y, y), [_u(3, 4, lo=0.3) * np.sign(_u(3, 4)), _u(3, 4)]),
    "sc.cast": (lambda x: T.cast(x, "float64") ** 2, [_u(3, 4).astype(np.float32)]),
    "sc.copy": (lambda x: T.copy(x) * x, [_u(3, 4)]),
    "sc.sum": (lambda x: (x * x).sum(axis=1), [_u(3, 4)]),
    "sc.prod": (lambda x: x.prod(axis=0), [_u(3, 4, lo=0.5)]),
    "sc.max": (lambda x: x.max(axis=1), [_u(3, 4)]),
    "sc.min": (lambda x: x.min(axis=0), [_u(3, 4)]),
    "sc.dot": (T.dot, [_u(3, 4), _u(4, 2)]),
    "sc.transpose": (lambda x: x.T * _u(4, 3), [_u(3, 4)]),
    "sc.expand_dims": (lambda x: x.dimshuffle(0, "x", 1) * _u(3, 2, 4), [_u(3, 4)]),
    "sc.squeeze": (lambda x: T.squeeze(x, 1) * _u(3, 4), [_u(3, 1, 4)]),
    "sc.reshape": (lambda x: x.reshape((2, 6)) * _u(2, 6), [_u(3, 4)]),
    "sc.broadcast_to": (lambda x: T.broadcast_to(x, (3, 4)) * _u(3, 4), [_u(4)]),
    "sc.concatenate": (lambda x, y: T.concatenate([x, y * y], axis=1), [_u(3, 4), _u(3, 2)]),
    "sc.scan": (lambda x, h: symcomp.scan(lambda x_t, h_: T.tanh(x_t * h_ + 0.5), sequences=x, outputs_info=h)[0],
                [_u(4, 3), _u(3)]),
    "sc.if": (lambda x, c: ifelse(T.gt(c.sum(), 0), T.exp(x), T.sin(x) * c), [_u(3, 4), _u(3, 4, lo=0.1)]),
    "sc.subtensor": (lambda x: x[1:, ::2] ** 2, [_u(3, 4)]),
    "sc.inc_subtensor": (lambda x, y: T.inc_subtensor(x[1:], y) ** 2, [_u(3, 4), _u(4)]),
    "sc.advanced_subtensor": (lambda x: x[[0, 2, 0]] ** 2, [_u(3, 4)]),
    "sc.advanced_inc_subtensor": (lambda x, y: T.inc_subtensor(x[[0, 2, 0]], y) ** 2, [_u(3, 4), _u(3, 4)]),
    "sc.softmax": (lambda x: T.nnet.softmax(x) * _u(3, 4), [_u(3, 4)]),
    "sc.log_softmax": (lambda x: T.nnet.log_softmax(x) * _u(3, 4), [_u(3, 4)]),
    "sc.gemm": (lambda a, b, c: _gemm(a, b, c) ** 2, [_u(3, 4), _u(4, 2), _u(3, 2)]),
    "sc.ndtri": (lambda x: _ndtri(x), [_u(3, 4, lo=0.05, hi=0.95)]),
    "sc.exponential": (lambda x: _random_op("Exponential", x), [_u(3, 4, lo=0.05, hi=0.95)]),
    "sc.cumsum": (lambda x: T.cumsum(x, axis=1) * _u(3, 4), [_u(3, 4)]),
    "sc.conv2d": (lambda x, w: T.nnet.conv2d(x, w, border_mode="half", subsample=(2, 1)) ** 2,
                  [_u(2, 3, 5, 4), _u(4, 3, 3, 2)]),
    "sc.conv2d_grad_input": (lambda g, w: T.nnet.conv2d_grad_wrt_inputs(g, w, (2, 3, 5, 4), subsample=(2, 1)) ** 2,
                             [_u(2, 4, 2, 3), _u(4, 3, 3, 2)]),
    "sc.conv2d_grad_filters": (lambda x, g: T.nnet.conv2d_grad_wrt_weights(x, g, (4, 3, 3, 2), num_groups=1,
                                                                           border_mode=1) ** 2,
                               [_u(2, 3, 5, 4), _u(2, 4, 5, 5)]),
    "sc.pool2d": (lambda x: _pool(x, (2, 2), "max") ** 2, [_u(2, 3, 5, 4)]),
    "sc.pool2d_grad": (lambda x, g: _pool_grad(x, g) ** 2, [_u(2, 5, 4), _u(2, 3, 2)]),
    # the LAPACK ops (tests/test_linalg_lapack.py checks more of their gradients)
    "sc.matrix_inverse": (T.nlinalg.matrix_inverse, [_u(3, 3) + 4 * np.eye(3)]),
    "sc.det": (T.nlinalg.det, [_u(3, 3) + 4 * np.eye(3)]),
    "sc.eigh": (lambda x: T.nlinalg.eigh(x)[0] + T.sum(T.nlinalg.eigh(x)[1] ** 2 * _u(3, 3), 0),
                [_u(3, 3) + np.diag([0.0, 3.0, 6.0])]),
    "sc.svd": (lambda x: T.nlinalg.svd(x)[1], [_u(4, 3)]),
    "sc.svdvals": (lambda x: T.nlinalg.svd(x, compute_uv=False), [_u(4, 3)]),
    "sc.qr": (lambda x: T.nlinalg.qr(x)[1] * _u(3, 3), [_u(4, 3)]),
    "sc.cholesky": (T.slinalg.cholesky, [_u(3, 3) / 4 + 3 * np.eye(3)]),
    "sc.solve": (T.slinalg.solve, [_u(3, 3) + 4 * np.eye(3), _u(3, 2)]),
    "sc.solve_triangular": (T.slinalg.solve_triangular, [_u(3, 3) + 4 * np.eye(3), _u(3, 2)]),
    "sc.cumprod": (lambda x: T.cumprod(x, axis=1) * _u(3, 4), [_u(3, 4, lo=0.5)]),
    "sc.sort": (lambda x: T.sort(x, axis=0) * _u(3, 4), [_u(3, 4)]),
    "sc.print": (lambda x: symcomp.printing.Print("x", attrs=("shape",))(x) ** 2, [_u(3, 4)]),
}


def _pool(x, ws, mode, **kw):
    from symcomp.tensor.signal.pool import pool_2d

    return pool_2d(x, ws, ignore_border=True, mode=mode, **kw)


def _pool_grad(x, g):
    """sc.pool2d_grad of an average pooling: linear in the output gradient."""
    from symcomp.ir.opdef import build
    from symcomp.ir.ops.pool import Pool2dGrad

    y = _pool(x, (2, 3), "average_exc_pad", stride=(2, 1), pad=(1, 0))
    return build(Pool2dGrad, [x, y, g], ws=(2, 3), stride=(2, 1), pad=(1, 0), mode="average_exc_pad")


def _ndtri(x):
    from symcomp.ir.opdef import build
    from symcomp.ir.ops.random import Ndtri

    return build(Ndtri, [x])


def _random_op(name, *args):
    from symcomp.ir.opdef import build
    from symcomp.ir.ops import random

    return build(getattr(random, name), list(args))


def _gemm(a, b, c):
    """sc.gemm is made by the cpu-gemm-fold pass; build it directly to check its VJP."""
    from symcomp.ir.opdef import build
    from symcomp.ir.ops.linalg import Gemm

    return build(Gemm, [a, b, c], alpha=1.5, beta=-0.5)

# Ops that are not differentiable (integer/boolean results, zero derivative, structural) or that
# only the optimizer creates.
NON_DIFFERENTIABLE = {
    "sc.eq", "sc.ne", "sc.lt", "sc.le", "sc.gt", "sc.ge", "sc.and", "sc.or", "sc.xor", "sc.not", "sc.isnan",
    "sc.isinf", "sc.argmax", "sc.argmin", "sc.dim", "sc.arange", "sc.constant", "sc.assign", "sc.floordiv",
    "sc.floor", "sc.ceil", "sc.round", "sc.trunc", "sc.sign", "sc.fused", "sc.yield", "builtin.module",
    "func.func", "func.return",
    # random bits and draws: a draw is a constant for T.grad (parameters enter by reparameterisation)
    "sc.flat_index", "sc.philox", "sc.random_bits", "sc.unit_float", "sc.random_poisson", "sc.random_binomial",
    "sc.random_permutation",
    # Theano's Eig has no gradient either (and symcomp returns only the real parts)
    "sc.eig",
    "sc.argsort",
}


def test_every_op_is_covered():
    """Adding an op without a gradient test (or a reason) fails here."""
    missing = sorted(set(OPS) - set(CASES) - NON_DIFFERENTIABLE)
    assert not missing, f"ops without a gradient test: {missing}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_verify_grad(name):
    fn, pts = CASES[name]
    symcomp.verify_grad(fn, [p.copy() for p in pts])


def test_verify_grad_detects_a_wrong_gradient():
    import symcomp.ir.ops.elementwise as E

    original = E.Sin.vjp
    try:
        E.Sin.vjp = lambda self, grads: [grads[0] * T.sin(self.x)]  # wrong on purpose
        with pytest.raises(symcomp.GradientError):
            symcomp.verify_grad(T.sin, [_u(5)])
    finally:
        E.Sin.vjp = original


def test_piecewise_constant_ops_have_zero_gradient():
    x = T.dvector("x")
    g = T.grad(T.sum(T.floor(x) + T.round(x) + T.sgn(x) + T.ceil(x)), x)
    assert np.array_equal(symcomp.function([x], g)(np.array([0.3, -1.7])), [0.0, 0.0])


def test_second_derivative():
    x = T.dscalar("x")
    y = x ** 3 + T.sin(x)
    d2 = T.grad(T.grad(y, x), x)
    f = symcomp.function([x], d2)
    assert np.isclose(f(0.7), 6 * 0.7 - np.sin(0.7))


def test_hessian_vector_product_through_matrix_ops():
    x, v = T.dvector("x"), T.dvector("v")
    A = np.random.default_rng(0).standard_normal((4, 4))
    cost = T.sum(T.tanh(T.dot(A, x)) ** 2)
    g = T.grad(cost, x)
    hv = T.grad(T.sum(g * v), x)
    f = symcomp.function([x, v], hv)
    xv, vv = R.standard_normal(4), R.standard_normal(4)
    eps = 1e-6
    fg = symcomp.function([x], g)
    fd = (fg(xv + eps * vv) - fg(xv - eps * vv)) / (2 * eps)
    np.testing.assert_allclose(f(xv, vv), fd, rtol=1e-6, atol=1e-8)


def test_grad_errors():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(TypeError, match="scalar"):
        T.grad(x * 2, x)
    with pytest.raises(symcomp.DisconnectedInputError, match="y"):
        T.grad(x.sum(), [x, y])
    gx, gy = T.grad(x.sum(), [x, y], disconnected_inputs="ignore")
    f = symcomp.function([x, y], gy, on_unused_input="ignore")
    assert np.array_equal(f(np.ones(2), np.ones(3)), np.zeros(3))
    with pytest.raises(TypeError, match="integer"):
        T.grad(x.sum(), T.lvector("i"))


def test_grad_wrt_shared_and_consider_constant():
    W = symcomp.shared(np.full((2, 2), 3.0), name="W")
    x = T.dmatrix("x")
    cost = T.sum(T.dot(x, W) ** 2)
    gW = T.grad(cost, W)
    f = symcomp.function([x], gW)
    xv = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(f(xv), 2 * xv.T @ (xv @ W.get_value()))
    h = x * 2
    g_const = T.grad(T.sum(h * x), x, consider_constant=[h])
    np.testing.assert_allclose(symcomp.function([x], g_const)(xv), 2 * xv)
