"""Elementwise operations: one scalar function applied over broadcast operands.

Operands of an elementwise op have equal rank; a dimension broadcasts only when
it is statically 1 (Theano's rule), every other dimension must agree, at trace
time when known, at call time otherwise.  Arithmetic operands share one dtype:
the front-end inserts ``sc.cast`` to apply NumPy's promotion before building
the op, so backends never see mixed-type arithmetic.

Each op gives its NumPy reference (``ref``) and its VJP; scalar lowerings live
in the backends' tables, which take the math functions from :data:`MATH_FUNCTIONS`.
"""

from __future__ import annotations

import math

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import DTypeAttr, Commutative, Elementwise, Pure, attr, op, operand
from symcomp.ir.frontend import tensor as _t


def _kind_check(name: str, dt: T.DType, allowed: str, what: str) -> None:
    if dt.kind not in allowed:
        raise TypeError(f"{name}: operand dtype {dt.name} is not allowed (expected {what})")


def _ub(g, x):
    """Sum ``g`` over the dimensions where ``x`` was broadcast (the VJP of broadcasting)."""
    return None if g is None else _t().unbroadcast(g, x)


def _float_grad(x, g):
    """Return ``g`` only when ``x`` is a float value (integers carry no gradient)."""
    return g if x.type.dtype.is_float else None


class ElementwiseOp(Operation):
    """Base of elementwise ops: equal ranks, broadcast shapes, a dtype rule per family."""

    traits = frozenset({Pure, Elementwise})
    allowed = "fiub"  # dtype kinds accepted
    allowed_what = "any dtype"

    @classmethod
    def result_dtype(cls, dtypes: list[T.DType]) -> T.DType:
        return dtypes[0]

    @classmethod
    def infer(cls, types, attrs, values):
        dts = [t.dtype for t in types]
        if len(set(dts)) != 1:
            got = ", ".join(d.ir for d in dts)
            raise TypeError(f"{cls.name}: operands must share one dtype, got {got}")
        _kind_check(cls.name, dts[0], cls.allowed, cls.allowed_what)
        shape = T.broadcast_shapes([t.shape for t in types], f"{cls.name} operands")
        return [T.TensorType(cls.result_dtype(dts), shape)]

    def check_broadcast(self, shapes, values, result_shapes):
        T.check_runtime_broadcast(self.name, [v.type.shape for v in self.operands], shapes)


class Unary(ElementwiseOp):
    x = operand()


class FloatUnary(Unary):
    allowed, allowed_what = "f", "a float dtype"


class Binary(ElementwiseOp):
    x = operand()
    y = operand()


class NumericBinary(Binary):
    allowed, allowed_what = "fiu", "a numeric dtype (not bool)"


class FloatBinary(Binary):
    allowed, allowed_what = "f", "a float dtype"


class Compare(Binary):
    @classmethod
    def result_dtype(cls, dtypes):
        return T.bool_


class Logical(Binary):
    allowed, allowed_what = "iub", "an integer or bool dtype"


# -- unary ------------------------------------------------------------------------------
@op("sc.neg")
class Neg(Unary):
    """-x."""
    allowed, allowed_what = "fiu", "a numeric dtype (not bool)"
    ref = staticmethod(np.negative)

    def vjp(self, grads):
        return [_float_grad(self.x, -grads[0])]


@op("sc.abs")
class Abs(Unary):
    """|x|."""
    allowed, allowed_what = "fiu", "a numeric dtype (not bool)"
    ref = staticmethod(np.abs)

    def vjp(self, grads):
        return [_float_grad(self.x, grads[0] * _t().sgn(self.x))]


@op("sc.sign")
class Sign(Unary):
    """sign(x): -1, 0 or 1 (NaN for NaN)."""
    allowed, allowed_what = "fiu", "a numeric dtype (not bool)"
    ref = staticmethod(np.sign)

    def vjp(self, grads):
        return [_float_grad(self.x, _t().zeros_like(self.x))]


class _ZeroGrad(FloatUnary):
    """Piecewise-constant float functions: zero gradient (as Theano)."""

    def vjp(self, grads):
        return [_t().zeros_like(self.x)]


@op("sc.floor")
class Floor(_ZeroGrad):
    """Largest integer not greater than x (float result), ``np.floor``."""
    ref = staticmethod(np.floor)


@op("sc.ceil")
class Ceil(_ZeroGrad):
    """Smallest integer not less than x (float result), ``np.ceil``."""
    ref = staticmethod(np.ceil)


@op("sc.round")
class Round(_ZeroGrad):
    """Round half to even (NumPy's ``np.round``)."""
    ref = staticmethod(np.round)


@op("sc.trunc")
class Trunc(_ZeroGrad):
    """x rounded toward zero (float result), ``np.trunc``."""
    ref = staticmethod(np.trunc)


@op("sc.exp")
class Exp(FloatUnary):
    """e**x."""
    ref = staticmethod(np.exp)

    def vjp(self, grads):
        return [grads[0] * self.result]


@op("sc.exp2")
class Exp2(FloatUnary):
    """2**x."""
    ref = staticmethod(np.exp2)

    def vjp(self, grads):
        return [grads[0] * self.result * math.log(2.0)]


@op("sc.expm1")
class Expm1(FloatUnary):
    """exp(x) - 1, accurate for small x."""
    ref = staticmethod(np.expm1)

    def vjp(self, grads):
        return [grads[0] * (self.result + 1)]


@op("sc.log")
class Log(FloatUnary):
    """Natural logarithm; -inf at 0, NaN below."""
    ref = staticmethod(np.log)

    def vjp(self, grads):
        return [grads[0] / self.x]


@op("sc.log2")
class Log2(FloatUnary):
    """Base-2 logarithm."""
    ref = staticmethod(np.log2)

    def vjp(self, grads):
        return [grads[0] / (self.x * math.log(2.0))]


@op("sc.log10")
class Log10(FloatUnary):
    """Base-10 logarithm."""
    ref = staticmethod(np.log10)

    def vjp(self, grads):
        return [grads[0] / (self.x * math.log(10.0))]


@op("sc.log1p")
class Log1p(FloatUnary):
    """log(1 + x), accurate for small x."""
    ref = staticmethod(np.log1p)

    def vjp(self, grads):
        return [grads[0] / (self.x + 1)]


@op("sc.sqrt")
class Sqrt(FloatUnary):
    """Square root; NaN below 0."""
    ref = staticmethod(np.sqrt)

    def vjp(self, grads):
        return [grads[0] * 0.5 / self.result]


@op("sc.sin")
class Sin(FloatUnary):
    """Sine (radians)."""
    ref = staticmethod(np.sin)

    def vjp(self, grads):
        return [grads[0] * _t().cos(self.x)]


@op("sc.cos")
class Cos(FloatUnary):
    """Cosine (radians)."""
    ref = staticmethod(np.cos)

    def vjp(self, grads):
        return [-grads[0] * _t().sin(self.x)]


@op("sc.tan")
class Tan(FloatUnary):
    """Tangent (radians)."""
    ref = staticmethod(np.tan)

    def vjp(self, grads):
        return [grads[0] * (1 + self.result * self.result)]


@op("sc.arcsin")
class Arcsin(FloatUnary):
    """Inverse sine, in [-pi/2, pi/2]."""
    ref = staticmethod(np.arcsin)

    def vjp(self, grads):
        return [grads[0] / _t().sqrt(1 - self.x * self.x)]


@op("sc.arccos")
class Arccos(FloatUnary):
    """Inverse cosine, in [0, pi]."""
    ref = staticmethod(np.arccos)

    def vjp(self, grads):
        return [-grads[0] / _t().sqrt(1 - self.x * self.x)]


@op("sc.arctan")
class Arctan(FloatUnary):
    """Inverse tangent, in (-pi/2, pi/2)."""
    ref = staticmethod(np.arctan)

    def vjp(self, grads):
        return [grads[0] / (1 + self.x * self.x)]


@op("sc.sinh")
class Sinh(FloatUnary):
    """Hyperbolic sine."""
    ref = staticmethod(np.sinh)

    def vjp(self, grads):
        return [grads[0] * _t().cosh(self.x)]


@op("sc.cosh")
class Cosh(FloatUnary):
    """Hyperbolic cosine."""
    ref = staticmethod(np.cosh)

    def vjp(self, grads):
        return [grads[0] * _t().sinh(self.x)]


@op("sc.tanh")
class Tanh(FloatUnary):
    """Hyperbolic tangent."""
    ref = staticmethod(np.tanh)

    def vjp(self, grads):
        return [grads[0] * (1 - self.result * self.result)]


@op("sc.erf")
class Erf(FloatUnary):
    """The error function 2/sqrt(pi) * integral_0^x exp(-t**2) dt."""
    def ref(self, x):
        import scipy.special as sps  # imported on first use: it costs 0.18 s

        return sps.erf(x).astype(x.dtype, copy=False)

    def vjp(self, grads):
        return [grads[0] * (2.0 / math.sqrt(math.pi)) * _t().exp(-self.x * self.x)]


@op("sc.erfc")
class Erfc(FloatUnary):
    """The complementary error function 1 - erf(x), accurate for large x."""
    def ref(self, x):
        import scipy.special as sps  # imported on first use: it costs 0.18 s

        return sps.erfc(x).astype(x.dtype, copy=False)

    def vjp(self, grads):
        return [grads[0] * (-2.0 / math.sqrt(math.pi)) * _t().exp(-self.x * self.x)]


@op("sc.sigmoid")
class Sigmoid(FloatUnary):
    """1 / (1 + exp(-x)), without overflow for any x."""

    def ref(self, x):
        import scipy.special as sps  # imported on first use: it costs 0.18 s

        return sps.expit(x).astype(x.dtype, copy=False)

    def vjp(self, grads):
        return [grads[0] * self.result * (1 - self.result)]


@op("sc.softplus")
class Softplus(FloatUnary):
    """log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) (no overflow)."""

    def ref(self, x):
        return np.logaddexp(np.zeros((), x.dtype), x)

    def vjp(self, grads):
        return [grads[0] * _t().sigmoid(self.x)]


@op("sc.not")
class Not(Unary):
    """Bitwise not for integers, logical not for bool (``~x``)."""
    allowed, allowed_what = "iub", "an integer or bool dtype"
    ref = staticmethod(np.invert)

    def vjp(self, grads):
        return [None]


class _FloatPredicate(Unary):
    allowed, allowed_what = "f", "a float dtype"

    @classmethod
    def result_dtype(cls, dtypes):
        return T.bool_

    def vjp(self, grads):
        return [None]


@op("sc.isnan")
class Isnan(_FloatPredicate):
    """True where x is NaN."""
    ref = staticmethod(np.isnan)


@op("sc.isinf")
class Isinf(_FloatPredicate):
    """True where x is +inf or -inf."""
    ref = staticmethod(np.isinf)


def _saturating_float_to_int(x: np.ndarray, want: np.dtype) -> np.ndarray:
    """Truncate toward zero, NaN -> 0, out-of-range values -> the nearest bound of ``want``."""
    info = np.iinfo(want)
    t = np.trunc(x.astype(np.float64))
    t = np.where(np.isnan(t), 0.0, t)
    over = t >= float(info.max)  # float(max) of a 64-bit type rounds up to 2**63 or 2**64
    under = t <= float(info.min)
    out = np.asarray(np.where(over | under, 0.0, t).astype(want))
    out[over] = info.max
    out[under] = info.min
    return out


@op("sc.copy")
class Copy(Unary):
    """A fresh copy of x (materializes views; outputs never alias inputs)."""
    ref = staticmethod(np.copy)

    def vjp(self, grads):
        return [_float_grad(self.x, grads[0])]


@op("sc.cast")
class Cast(Unary):
    """Convert to ``dtype`` with NumPy's ``astype`` semantics (C casts; float->int truncates).

    Where NumPy's result is undefined, float -> integer saturates: NaN gives 0
    and values beyond the target's range give its minimum or maximum (LLVM's
    ``fptosi.sat``/``fptoui.sat``, what the backends generate).
    """
    dtype = attr(DTypeAttr)

    @classmethod
    def infer(cls, types, attrs, values):
        return [T.TensorType(attrs["dtype"], types[0].shape)]

    def ref(self, x):
        want = self.dtype.np
        if x.dtype.kind == "f" and want.kind in "iu":
            return _saturating_float_to_int(x, want)
        with np.errstate(all="ignore"):
            return x.astype(want)

    def vjp(self, grads):
        if not (self.x.type.dtype.is_float and self.dtype.is_float):
            return [None]
        return [_t().cast(grads[0], self.x.type.dtype)]


# -- binary ------------------------------------------------------------------------------
@op("sc.add", traits=(Commutative,))
class Add(NumericBinary):
    """x + y (integers wrap)."""
    ref = staticmethod(np.add)

    def vjp(self, grads):
        g = grads[0]
        return [_ub(g, self.x), _ub(g, self.y)]


@op("sc.sub")
class Sub(NumericBinary):
    """x - y (integers wrap)."""
    ref = staticmethod(np.subtract)

    def vjp(self, grads):
        g = grads[0]
        return [_ub(g, self.x), _ub(-g, self.y)]


@op("sc.mul", traits=(Commutative,))
class Mul(NumericBinary):
    """x * y (integers wrap)."""
    ref = staticmethod(np.multiply)

    def vjp(self, grads):
        g = grads[0]
        return [_ub(g * self.y, self.x), _ub(g * self.x, self.y)]


@op("sc.div")
class Div(FloatBinary):
    """True division x / y (float operands; the front-end casts integers)."""
    ref = staticmethod(np.true_divide)

    def vjp(self, grads):
        g = grads[0]
        return [_ub(g / self.y, self.x), _ub(-g * self.result / self.y, self.y)]


@op("sc.floordiv")
class FloorDiv(NumericBinary):
    """floor(x / y) with Python semantics; integer division by zero gives 0 (as NumPy)."""

    def ref(self, x, y):
        with np.errstate(all="ignore"):
            return np.floor_divide(x, y)

    def vjp(self, grads):
        return [_float_grad(self.x, _t().zeros_like(self.x)), _float_grad(self.y, _t().zeros_like(self.y))]


@op("sc.mod")
class Mod(NumericBinary):
    """x mod y with the sign of y (Python/NumPy ``%``); integer mod by zero gives 0."""

    def ref(self, x, y):
        with np.errstate(all="ignore"):
            return np.mod(x, y)

    def vjp(self, grads):
        g = grads[0]
        if not self.x.type.dtype.is_float:
            return [None, None]
        return [_ub(g, self.x), _ub(-g * _t().floor_div(self.x, self.y), self.y)]


@op("sc.pow")
class Pow(NumericBinary):
    """x ** y.  Integer x to a negative integer power is an error, as in NumPy."""

    def ref(self, x, y):
        return np.power(x, y)

    def vjp(self, grads):
        g = grads[0]
        if not self.x.type.dtype.is_float:
            return [None, None]
        tb = _t()
        gx = g * self.y * tb.pow(self.x, self.y - 1)
        gy = g * tb.switch(self.x > 0, self.result * tb.log(self.x), tb.zeros_like(self.result))
        return [_ub(gx, self.x), _ub(gy, self.y)]


@op("sc.maximum", traits=(Commutative,))
class Maximum(Binary):
    """Elementwise maximum; NaN propagates (``np.maximum``)."""
    ref = staticmethod(np.maximum)

    def vjp(self, grads):
        g = grads[0]
        if not self.x.type.dtype.is_float:
            return [None, None]
        tb = _t()
        return [_ub(g * tb.cast(self.x >= self.y, g.dtype), self.x),
                _ub(g * tb.cast(self.x < self.y, g.dtype), self.y)]


@op("sc.minimum", traits=(Commutative,))
class Minimum(Binary):
    """Elementwise minimum; NaN propagates (``np.minimum``)."""
    ref = staticmethod(np.minimum)

    def vjp(self, grads):
        g = grads[0]
        if not self.x.type.dtype.is_float:
            return [None, None]
        tb = _t()
        return [_ub(g * tb.cast(self.x <= self.y, g.dtype), self.x),
                _ub(g * tb.cast(self.x > self.y, g.dtype), self.y)]


@op("sc.arctan2")
class Arctan2(FloatBinary):
    """arctan2(x, y): the angle of the point (y, x), as ``np.arctan2(x, y)``."""
    ref = staticmethod(np.arctan2)

    def vjp(self, grads):
        g = grads[0]
        r2 = self.x * self.x + self.y * self.y
        return [_ub(g * self.y / r2, self.x), _ub(-g * self.x / r2, self.y)]


@op("sc.eq", traits=(Commutative,))
class Eq(Compare):
    """x == y (NaN compares unequal)."""
    ref = staticmethod(np.equal)

    def vjp(self, grads):
        return [None, None]


@op("sc.ne", traits=(Commutative,))
class Ne(Compare):
    """x != y (true for NaN)."""
    ref = staticmethod(np.not_equal)

    def vjp(self, grads):
        return [None, None]


@op("sc.lt")
class Lt(Compare):
    """x < y."""
    ref = staticmethod(np.less)

    def vjp(self, grads):
        return [None, None]


@op("sc.le")
class Le(Compare):
    """x <= y."""
    ref = staticmethod(np.less_equal)

    def vjp(self, grads):
        return [None, None]


@op("sc.gt")
class Gt(Compare):
    """x > y."""
    ref = staticmethod(np.greater)

    def vjp(self, grads):
        return [None, None]


@op("sc.ge")
class Ge(Compare):
    """x >= y."""
    ref = staticmethod(np.greater_equal)

    def vjp(self, grads):
        return [None, None]


@op("sc.and", traits=(Commutative,))
class And(Logical):
    """Bitwise and (logical and for bool)."""
    ref = staticmethod(np.bitwise_and)

    def vjp(self, grads):
        return [None, None]


@op("sc.or", traits=(Commutative,))
class Or(Logical):
    """Bitwise or (logical or for bool)."""
    ref = staticmethod(np.bitwise_or)

    def vjp(self, grads):
        return [None, None]


@op("sc.xor", traits=(Commutative,))
class Xor(Logical):
    """Bitwise exclusive or (logical xor for bool)."""
    ref = staticmethod(np.bitwise_xor)

    def vjp(self, grads):
        return [None, None]


@op("sc.select")
class Select(ElementwiseOp):
    """cond ? x : y elementwise (``np.where``, Theano's ``switch``)."""
    cond = operand()
    x = operand()
    y = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        c, a, b = types
        if not c.dtype.is_bool:
            raise TypeError(f"sc.select: condition must have dtype bool (i1), got {c.dtype.ir}")
        if a.dtype != b.dtype:
            raise TypeError(f"sc.select: branches must share one dtype, got {a.dtype.ir} and {b.dtype.ir}")
        shape = T.broadcast_shapes([c.shape, a.shape, b.shape], "sc.select operands")
        return [T.TensorType(a.dtype, shape)]

    ref = staticmethod(np.where)

    def vjp(self, grads):
        g = grads[0]
        if not self.x.type.dtype.is_float:
            return [None, None, None]
        tb = _t()
        z = tb.zeros_like(g)
        return [None, _ub(tb.switch(self.cond, g, z), self.x), _ub(tb.switch(self.cond, z, g), self.y)]


MATH_FUNCTIONS: dict[str, str] = {
    "sc.exp": "exp", "sc.exp2": "exp2", "sc.expm1": "expm1", "sc.log": "log", "sc.log2": "log2",
    "sc.log10": "log10", "sc.log1p": "log1p", "sc.sqrt": "sqrt", "sc.sin": "sin", "sc.cos": "cos",
    "sc.tan": "tan", "sc.arcsin": "asin", "sc.arccos": "acos", "sc.arctan": "atan", "sc.sinh": "sinh",
    "sc.cosh": "cosh", "sc.tanh": "tanh", "sc.erf": "erf", "sc.erfc": "erfc", "sc.floor": "floor",
    "sc.ceil": "ceil", "sc.trunc": "trunc", "sc.round": "roundeven", "sc.arctan2": "atan2",
}
"""Op name -> the ``<math.h>`` function (C23 names) that computes the op on floats.  Each backend
maps these names to its own implementation: libm/libmvec or LLVM intrinsics on the CPU, libdevice
on CUDA, the ``math`` dialect in MLIR."""
