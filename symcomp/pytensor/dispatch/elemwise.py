"""``Elemwise`` over PyTensor's scalar ops (``Composite`` included), as symcomp elementwise graphs.

Each scalar op maps to the symcomp builder with the same NumPy semantics
(:data:`SCALAR_RULES`); the result of every scalar op is cast to the dtype
PyTensor's type rules gave it, so mixed-dtype arithmetic computes what
PyTensor's C and Numba code compute.  ``Composite`` (PyTensor's fused scalar
graphs) is converted op by op over the tensors, and symcomp's ``fuse`` pass
fuses it again.  The special functions PyMC's log-densities use (``gammaln``,
``psi``, ``erfcx``, ``log1mexp``, ``softplus``, ``sigmoid``) are symcomp
functions (:mod:`symcomp.tensor.special`).
"""

from __future__ import annotations

import math

import numpy as np
import pytensor.scalar.basic as ps
import pytensor.scalar.math as psm
from pytensor.graph.basic import Constant
from pytensor.graph.traversal import io_toposort
from pytensor.tensor.elemwise import Elemwise

from symcomp import tensor as T
from symcomp.pytensor.dispatch import ConversionError, as_dtype, symcomp_convert
from symcomp.tensor import special as S


def _second(x, y):
    """PyTensor's ``second(x, y)``: ``y`` broadcast against ``x`` (adding zeros of ``x``'s shape)."""
    y = T.as_value(y)
    zeros = T.zeros_like(x, dtype=y.type.dtype)
    return T.or_(y, zeros) if y.type.dtype.is_bool else y + zeros


def _deg2rad(x):
    return x * (math.pi / 180.0)


def _rad2deg(x):
    return x * (180.0 / math.pi)


SCALAR_RULES = {
    ps.Add: lambda *xs: _fold(T.add, xs),
    ps.Mul: lambda *xs: _fold(T.mul, xs),
    ps.Sub: T.sub,
    ps.TrueDiv: T.true_div,
    ps.IntDiv: T.floor_div,
    ps.Mod: T.mod,
    ps.Pow: T.pow,
    ps.Neg: T.neg,
    ps.Abs: T.abs,
    ps.Sign: T.sgn,
    ps.Ceil: T.ceil,
    ps.Floor: T.floor,
    ps.Trunc: T.trunc,
    ps.RoundHalfToEven: T.round,
    ps.RoundHalfAwayFromZero: lambda x: T.round(x, mode="half_away_from_zero"),
    ps.Reciprocal: lambda x: T.true_div(1.0, x),  # a weak Python float: float32 stays float32
    ps.Sqr: T.sqr,
    ps.Sqrt: T.sqrt,
    ps.Exp: T.exp,
    ps.Exp2: T.exp2,
    ps.Expm1: T.expm1,
    ps.Log: T.log,
    ps.Log2: T.log2,
    ps.Log10: T.log10,
    ps.Log1p: T.log1p,
    ps.Sin: T.sin,
    ps.Cos: T.cos,
    ps.Tan: T.tan,
    ps.ArcSin: T.arcsin,
    ps.ArcCos: T.arccos,
    ps.ArcTan: T.arctan,
    ps.ArcTan2: T.arctan2,
    ps.Sinh: T.sinh,
    ps.Cosh: T.cosh,
    ps.Tanh: T.tanh,
    ps.ArcSinh: S.arcsinh,
    ps.ArcCosh: S.arccosh,
    ps.ArcTanh: S.arctanh,
    ps.Deg2Rad: _deg2rad,
    ps.Rad2Deg: _rad2deg,
    ps.Maximum: T.maximum,
    ps.Minimum: T.minimum,
    ps.Clip: T.clip,
    ps.LT: T.lt,
    ps.GT: T.gt,
    ps.LE: T.le,
    ps.GE: T.ge,
    ps.EQ: T.eq,
    ps.NEQ: T.neq,
    ps.IsNan: T.isnan,
    ps.IsInf: T.isinf,
    ps.AND: T.and_,
    ps.OR: T.or_,
    ps.XOR: T.xor,
    ps.Invert: T.invert,
    ps.Switch: T.switch,
    ps.Second: _second,
    ps.Identity: T.copy,
    psm.Erf: T.erf,
    psm.Erfc: T.erfc,
    psm.Erfcx: S.erfcx,
    psm.GammaLn: S.gammaln,
    psm.Psi: S.psi,
    psm.Sigmoid: T.sigmoid,
    psm.Softplus: T.softplus,
    psm.Log1mexp: S.log1mexp,
}
"""PyTensor scalar Op class -> symcomp builder (operands in PyTensor's order)."""


def _fold(fn, xs):
    out = xs[0]
    for x in xs[1:]:
        out = fn(out, x)
    return out


def _scalar_constant(c):
    dt = c.type.dtype
    if dt not in ("bool",) and np.dtype(dt).kind not in "iuf":
        raise ConversionError(f"scalar constant of dtype {dt}")
    return T.constant(np.asarray(c.data, dtype=dt))


def convert_scalar(scalar_op, out_vars, args):
    """Apply one scalar op over tensors ``args``; results cast to the dtypes of ``out_vars``."""
    if isinstance(scalar_op, ps.Composite):
        return _composite(scalar_op, args)
    if isinstance(scalar_op, ps.Cast):
        return [T.cast(args[0], scalar_op.o_type.dtype)]
    rule = SCALAR_RULES.get(type(scalar_op))
    if rule is None:
        raise ConversionError(f"no symcomp rule for the scalar op {type(scalar_op).__name__}")
    for v in out_vars:
        if np.dtype(v.type.dtype).kind == "c" or v.type.dtype == "float16":
            raise ConversionError(f"scalar op {scalar_op} on dtype {v.type.dtype}")
    res = rule(*args)
    res = res if isinstance(res, (list, tuple)) else [res]
    return [T.cast(r, v.type.dtype) for r, v in zip(res, out_vars)]


def _composite(comp, args):
    env = dict(zip(comp.inputs, args))
    for node in io_toposort(comp.inputs, comp.outputs):
        ins = [env[i] if i in env else _scalar_constant(i) for i in node.inputs]
        for o, r in zip(node.outputs, convert_scalar(node.op, node.outputs, ins)):
            env[o] = r
    return [env[o] if o in env else _scalar_constant(o) for o in comp.outputs]


@symcomp_convert.register(Elemwise)
def _elemwise(op, node, *inputs):
    # op.inplace_pattern is ignored: symcomp decides in-place updates itself (the values are the same).
    for v in node.inputs:
        if isinstance(v, Constant) and v.type.dtype not in ("bool",) and np.dtype(v.type.dtype).kind not in "iuf":
            raise ConversionError(f"operand of dtype {v.type.dtype}")
    return convert_scalar(op.scalar_op, node.outputs, list(inputs))
