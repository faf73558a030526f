"""The symbolic tensor front-end, Theano's ``theano.tensor`` API: ``from symcomp import tensor as T``.

Variables (``T.matrix``, ``T.dvector``, ``T.tensor``...) and their types (``T.TensorType``;
``T.dmatrix`` is one), NumPy-like functions (``T.exp``, ``T.sum``, ``T.dot``, indexing...),
``T.grad``, and Theano's submodules ``T.nnet``, ``T.xlogx``, ``T.nlinalg``, ``T.slinalg``,
``T.extra_ops`` (``symcomp.tensor.signal.pool`` is imported explicitly, as in Theano).
"""

import sys as _sys

from symcomp.ir import frontend as _frontend
from symcomp.tensor import extra_ops, nnet
from symcomp.tensor.convert import as_value, cast, constant
from symcomp.tensor.extra_ops import cumsum
from symcomp.tensor.elemwise import (
    abs, add, and_, arccos, arcsin, arctan, arctan2, ceil, clip, cos, cosh, eq, erf, erfc, exp, exp2, expm1,
    floor, floor_div, ge, gt, invert, isinf, isnan, le, log, log1p, log2, log10, lt, maximum, minimum, mod, mul,
    neg, neq, or_, pow, round, sgn, sigmoid, sign, sin, sinh, softplus, sqr, sqrt, sub, switch, tan, tanh,
    true_div, trunc, where, xor,
)
from symcomp.tensor.indexing import getitem, inc_subtensor, set_subtensor
from symcomp.tensor.linalg import dot, outer
from symcomp.tensor.reduce import all, any, argmax, argmin, max, mean, min, prod, std, sum, var
from symcomp.tensor.shape import (
    alloc, arange, broadcast_like, broadcast_to, concatenate, copy, dimshuffle, expand_dims, fill, flatten, full,
    ones, ones_like, reshape, shape, size, squeeze, stack, transpose, zeros, zeros_like,
)
from symcomp.tensor.broadcastable import addbroadcast, patternbroadcast, unbroadcast
from symcomp.tensor.type import TensorType
from symcomp.tensor.variables import CONSTRUCTORS as _CONSTRUCTORS, tensor
from symcomp.ir.core import Value as TensorVariable
from symcomp.tensor import extra_ops, nlinalg, slinalg, xlogx  # Theano's submodules of T
from symcomp.tensor import control_vjp  # the VJPs of sc.scan and sc.if (Scan.vjp, If.vjp call them)
from symcomp.tensor import shared_randomstreams  # T.shared_randomstreams.RandomStreams, as in Theano
from symcomp.tensor.graph import clone_replace
from symcomp.tensor.special import erfcx, gammaln, log1mexp, psi
from symcomp.tensor.diagonal import (
    alloc_diag, diag, diagonal, extract_diag, eye, fill_diagonal, fill_diagonal_offset, identity_like, trace, tri,
    tril, triu,
)
from symcomp.tensor.extra_ops import (
    bincount, cumprod, diff, ptp, ravel_multi_index, repeat, searchsorted, take_along_axis, tile, unravel_index,
)
from symcomp.tensor.sort import argsort, sort

globals().update(_CONSTRUCTORS)

Tensor = TensorType

as_tensor_variable = as_tensor = as_value
divide = true_divide = true_div
int_div = floor_div
power = pow
absolute = abs


def inv(x):
    """1 / x (Theano's ``T.inv``)."""
    return true_div(1.0, x)


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", known_grads=None):
    """Reverse-mode gradient (see :func:`symcomp.autodiff.grad`)."""
    from symcomp.autodiff import grad as _grad

    return _grad(cost, wrt, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs, known_grads=known_grads)



def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Jacobian of a vector (see :func:`symcomp.autodiff.jacobian`)."""
    from symcomp.autodiff import jacobian as _jacobian

    return _jacobian(expression, wrt, consider_constant, disconnected_inputs)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of a scalar (see :func:`symcomp.autodiff.hessian`)."""
    from symcomp.autodiff import hessian as _hessian

    return _hessian(cost, wrt, consider_constant, disconnected_inputs)


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """A Jacobian-vector product (see :func:`symcomp.autodiff.Rop`)."""
    from symcomp.autodiff import Rop as _Rop

    return _Rop(f, wrt, eval_points, disconnected_outputs, return_disconnected)


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """A vector-Jacobian product (see :func:`symcomp.autodiff.Lop`)."""
    from symcomp.autodiff import Lop as _Lop

    return _Lop(f, wrt, eval_points, consider_constant, disconnected_inputs)


# The IR's value operators and VJP rules are written with this namespace's functions.
_frontend.install(tensor=_sys.modules[__name__])

# ``from symcomp.tensor import *`` gives the public names but not the submodule ``type``
# (Theano's path symcomp.tensor.type), which would hide the builtin type().
__all__ = [_n for _n in list(globals()) if not _n.startswith("_") and _n != "type"]
