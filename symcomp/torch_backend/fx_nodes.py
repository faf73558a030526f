"""From ATen FX graphs (what AOTAutograd hands a backend) to symcomp functions.

One rule per supported ATen overload, written with symcomp's front-end
(``symcomp.tensor``), so that the rule is traced into IR like any user graph
and optimized by symcomp's passes.  Shapes are static: each graph is compiled
for the sizes PyTorch traced it with (``torch.compile`` recompiles when they
change); a node with symbolic sizes, an unsupported dtype or device, or
arguments a rule does not handle is left to PyTorch (:func:`is_supported`).

Semantics follow PyTorch: elementwise arithmetic is computed in the node's
result dtype (PyTorch's type promotion, which differs from NumPy's for an
integer tensor and a Python float); every converted value is checked against
the shape and dtype PyTorch recorded for the node, and a mismatch refuses the
whole partition (:class:`ConversionError`), which then runs in PyTorch.
"""

from __future__ import annotations

import operator
from typing import Callable, Optional

from symcomp import tensor as T
from symcomp.ir import types as IT
from symcomp.ir.core import Value

_DTYPES = ("float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class ConversionError(ValueError):
    """A graph could not be converted (the message names the node); it runs in PyTorch instead."""


class Rule:
    """How one ATen overload becomes symcomp front-end calls.

    Attributes:
        fn: ``fn(node, *args, **kwargs) -> Value`` with tensor arguments already converted.
        check: ``check(node) -> bool``: whether this node's arguments are supported (default: all).
        arith: cast tensor operands to the node's result dtype first (PyTorch's computation dtype).
    """

    def __init__(self, fn: Callable, check: Optional[Callable] = None, arith: bool = False):
        self.fn, self.check, self.arith = fn, check, arith


RULES: dict[str, Rule] = {}
"""ATen overload name (``"aten.add.Tensor"``) -> rule."""


def rule(*names: str, check: Optional[Callable] = None, arith: bool = False):
    def deco(fn):
        for n in names:
            RULES[n] = Rule(fn, check, arith)
        return fn

    return deco


# -- helpers -------------------------------------------------------------------------------
def meta(node):
    """The FakeTensor PyTorch recorded for ``node`` (None if it has none)."""
    return node.meta.get("val") if hasattr(node, "meta") else None


def static_shape(t) -> Optional[tuple]:
    """``t``'s shape as ints, or None if a size is symbolic."""
    try:
        return tuple(int(d) for d in t.shape) if all(type(d) is int for d in t.shape) else None
    except (TypeError, ValueError):
        return None


def dtype_name(t) -> str:
    return str(t.dtype).removeprefix("torch.")


def tensor_ok(t) -> bool:
    """A tensor symcomp can take: CPU, strided, a supported dtype, static sizes."""
    import torch

    return (isinstance(t, torch.Tensor) and t.device.type == "cpu" and t.layout == torch.strided
            and dtype_name(t) in _DTYPES and static_shape(t) is not None)


def _dims(dims, ndim: int):
    if dims is None:
        return None
    dims = [dims] if isinstance(dims, int) else list(dims)
    return tuple(d % max(ndim, 1) for d in dims) if dims else None


def _out_shape(node) -> tuple:
    return static_shape(meta(node))


def _only(node, allowed: dict) -> bool:
    """Keyword arguments of ``node`` are limited to ``allowed`` {name: accepted values (a set) or None (any)}."""
    for k, v in node.kwargs.items():
        if k not in allowed or (allowed[k] is not None and v not in allowed[k]):
            return False
    return True


# -- shape and copies ------------------------------------------------------------------------------
@rule("aten.detach.default", "aten.alias.default", "aten.clone.default", "aten.lift_fresh_copy.default",
      check=lambda n: _only(n, {"memory_format": None}))
def _identity(node, x, *rest, **kw):
    return x


@rule("aten.t.default")
def _t(node, x):
    return T.transpose(x) if x.type.ndim == 2 else x


@rule("aten.transpose.int")
def _transpose(node, x, d0, d1):
    perm = list(range(x.type.ndim))
    a, b = d0 % x.type.ndim, d1 % x.type.ndim
    perm[a], perm[b] = perm[b], perm[a]
    return T.transpose(x, perm)


@rule("aten.permute.default")
def _permute(node, x, dims):
    return T.transpose(x, [d % x.type.ndim for d in dims])


@rule("aten.view.default", "aten._unsafe_view.default", "aten.reshape.default", "aten.unsqueeze.default",
      "aten.squeeze.dim", "aten.squeeze.dims", "aten.squeeze.default", "aten.flatten.using_ints")
def _reshape(node, x, *rest):
    return T.reshape(x, _out_shape(node))


@rule("aten.expand.default", check=lambda n: _only(n, {"implicit": {False}}))
def _expand(node, x, *rest, **kw):
    shape = _out_shape(node)
    x = T.reshape(x, (1,) * (len(shape) - x.type.ndim) + tuple(x.type.shape)) if x.type.ndim < len(shape) else x
    return T.broadcast_to(x, shape)


@rule("aten._to_copy.default", check=lambda n: _only(n, {"dtype": None, "layout": None, "device": None,
                                                          "pin_memory": {None, False}, "memory_format": None})
      and str(n.kwargs.get("device", "cpu")) == "cpu")
def _to_copy(node, x, **kw):
    return T.cast(x, dtype_name(meta(node)))


# -- linear algebra ------------------------------------------------------------------------------
@rule("aten.mm.default", "aten.mv.default", "aten.dot.default")
def _mm(node, a, b):
    return T.dot(a, b)


@rule("aten.addmm.default", check=lambda n: _only(n, {"beta": None, "alpha": None}))
def _addmm(node, bias, a, b, beta=1, alpha=1):
    prod = T.dot(a, b)
    prod = prod if alpha == 1 else prod * alpha
    return prod + (bias if beta == 1 else bias * beta)


# -- elementwise -----------------------------------------------------------------------------------
def _binary(op):
    def fn(node, a, b, alpha=1):
        return op(a, b if alpha == 1 else b * alpha)

    return fn


_no_kw = lambda n: not n.kwargs  # noqa: E731
_alpha = lambda n: _only(n, {"alpha": None})  # noqa: E731
rule("aten.add.Tensor", "aten.add.Scalar", check=_alpha, arith=True)(_binary(operator.add))
rule("aten.sub.Tensor", "aten.sub.Scalar", check=_alpha, arith=True)(_binary(operator.sub))
rule("aten.mul.Tensor", "aten.mul.Scalar", check=_no_kw, arith=True)(_binary(operator.mul))
rule("aten.div.Tensor", "aten.div.Scalar", check=_no_kw, arith=True)(_binary(operator.truediv))
rule("aten.maximum.default", check=_no_kw, arith=True)(_binary(T.maximum))
rule("aten.minimum.default", check=_no_kw, arith=True)(_binary(T.minimum))
rule("aten.pow.Tensor_Scalar", "aten.pow.Tensor_Tensor", check=_no_kw, arith=True)(_binary(T.pow))


@rule("aten.rsub.Scalar", check=_alpha, arith=True)
def _rsub(node, a, b, alpha=1):
    return b - (a if alpha == 1 else a * alpha)


for _name, _fn in {"neg": T.neg, "exp": T.exp, "log": T.log, "log1p": T.log1p, "expm1": T.expm1, "tanh": T.tanh,
                   "sigmoid": T.sigmoid, "sqrt": T.sqrt, "abs": T.abs, "sin": T.sin, "cos": T.cos, "erf": T.erf,
                   "floor": T.floor, "ceil": T.ceil, "trunc": T.trunc}.items():
    rule(f"aten.{_name}.default", check=_no_kw, arith=True)(lambda node, x, _f=_fn: _f(x))


@rule("aten.rsqrt.default", "aten.reciprocal.default", arith=True)
def _rsqrt(node, x):
    return 1.0 / (T.sqrt(x) if str(node.target).startswith("aten.rsqrt") else x)


@rule("aten.relu.default", arith=True)
def _relu(node, x):
    return T.maximum(x, 0)


@rule("aten.clamp.default", check=_no_kw, arith=True)
def _clamp(node, x, lo=None, hi=None):
    x = T.maximum(x, lo) if lo is not None else x
    return T.minimum(x, hi) if hi is not None else x


@rule("aten.where.self", arith=True)
def _where(node, cond, a, b):
    return T.switch(cond, a, b)


for _name, _op in {"gt": T.gt, "ge": T.ge, "lt": T.lt, "le": T.le, "eq": T.eq, "ne": T.neq}.items():
    rule(f"aten.{_name}.Tensor", f"aten.{_name}.Scalar", check=_no_kw)(lambda node, a, b, _o=_op: _o(a, b))


@rule("aten.threshold_backward.default", arith=True)
def _threshold_backward(node, grad, x, threshold):
    return T.switch(x <= threshold, T.zeros_like(grad), grad)


@rule("aten.sigmoid_backward.default", arith=True)
def _sigmoid_backward(node, grad, out):
    return grad * out * (1.0 - out)


@rule("aten.tanh_backward.default", arith=True)
def _tanh_backward(node, grad, out):
    return grad * (1.0 - out * out)


# -- reductions and normalizations --------------------------------------------------------------------------
def _no_dtype(n):
    return _only(n, {"dtype": {None}, "keepdim": None}) and (len(n.args) < 4 or n.args[3] is None)


@rule("aten.sum.dim_IntList", "aten.sum.default", check=_no_dtype)
def _sum(node, x, dims=None, keepdim=False, dtype=None):
    return T.sum(x, axis=_dims(dims, x.type.ndim), keepdims=keepdim)


@rule("aten.mean.dim", "aten.mean.default", check=_no_dtype)
def _mean(node, x, dims=None, keepdim=False, dtype=None):
    return T.mean(x, axis=_dims(dims, x.type.ndim), keepdims=keepdim)


@rule("aten.amax.default", "aten.amin.default",
      check=lambda n: all(d != 0 for d in static_shape(meta(n.args[0])) or (0,)))
def _amax(node, x, dims=(), keepdim=False):
    reduce = T.max if "amax" in str(node.target) else T.min
    return reduce(x, axis=_dims(dims, x.type.ndim), keepdims=keepdim)


def _float_input(n):
    return dtype_name(meta(n.args[0])) in ("float32", "float64") and not (len(n.args) > 2 and n.args[2])


@rule("aten._softmax.default", check=_float_input)
def _softmax(node, x, dim, half_to_float=False):
    return T.nnet.softmax(x, axis=dim)


@rule("aten._log_softmax.default", check=_float_input)
def _log_softmax(node, x, dim, half_to_float=False):
    return T.nnet.log_softmax(x, axis=dim)


@rule("aten._softmax_backward_data.default")
def _softmax_backward(node, grad, out, dim, input_dtype):
    return out * (grad - T.sum(grad * out, axis=dim, keepdims=True))


@rule("aten._log_softmax_backward_data.default")
def _log_softmax_backward(node, grad, out, dim, input_dtype):
    return grad - T.exp(out) * T.sum(grad, axis=dim, keepdims=True)


# -- nodes and graphs -------------------------------------------------------------------------------------
def is_supported(node) -> bool:
    """Whether symcomp can compute ``node`` (an ATen call with static CPU tensors it has a rule for)."""
    if node.op != "call_function":
        return False
    r = RULES.get(str(node.target))
    if r is None or not tensor_ok(meta(node)):
        return False
    for a in node.all_input_nodes:
        if not tensor_ok(meta(a)):
            return False
    try:
        return r.check is None or bool(r.check(node))
    except (TypeError, ValueError, IndexError, AttributeError):
        return False


def _convert_args(args, env):
    from torch.fx import Node

    def conv(a):
        if isinstance(a, Node):
            return env[a]
        if isinstance(a, (list, tuple)):
            return type(a)(conv(x) for x in a)
        return a

    return conv(args)


def convert_node(node, env: dict):
    """The symcomp value computing ``node`` (tensor arguments looked up in ``env``).

    Raises:
        ConversionError: if the rule fails or its result disagrees with PyTorch's recorded shape or dtype.
    """
    r = RULES[str(node.target)]
    out = meta(node)
    want_dt = IT.dtype(dtype_name(out))
    args = _convert_args(node.args, env)
    kwargs = _convert_args(dict(node.kwargs), env)
    if r.arith:
        args = tuple(T.cast(a, want_dt) if isinstance(a, Value) else a for a in args)
    try:
        v = r.fn(node, *args, **kwargs)
    except (TypeError, ValueError, IndexError, NotImplementedError) as exc:
        raise ConversionError(f"{node.format_node()}: {type(exc).__name__}: {exc}") from None
    if v.type.dtype != want_dt:
        v = T.cast(v, want_dt)
    if tuple(v.type.shape) != static_shape(out):
        raise ConversionError(f"{node.format_node()}: symcomp gives type {v.type}, PyTorch recorded shape "
                              f"{tuple(out.shape)}")
    return v


def input_variable(node, fake, index: int):
    """A symcomp input of the static type of ``fake`` (the FakeTensor of the value fed in)."""
    name = node.name if node.name.isidentifier() else f"in{index}"
    return T.tensor(dtype_name(fake), shape=static_shape(fake), name=name)
