"""Elementwise functions of the front-end (NumPy names and semantics, Theano aliases).

Every function accepts symbolic values, NumPy arrays and Python scalars,
promotes dtypes as NumPy 2 does and broadcasts as Theano does (size-1 axes
that are known statically).  Transcendental functions of integers compute in
float32 (8/16-bit inputs) or float64 (wider), Theano's rule.
"""

from __future__ import annotations

from symcomp.ir import types as T
from symcomp.ir.opdef import build
from symcomp.ir.ops import elementwise as E
from symcomp.tensor.convert import align, as_value, cast, result_dtype


def _binary(cls, x, y, dtype=None):
    a, b = align([x, y], dtype)
    return build(cls, [a, b])


def _float_unary(cls, x):
    x = as_value(x)
    return build(cls, [cast(x, T.float_of(x.type.dtype))])


def _numeric(x, what):
    if x.type.dtype.is_bool:
        raise TypeError(f"{what} is not supported for bool operands (NumPy refuses it too); cast first")


# -- arithmetic ---------------------------------------------------------------------------
def add(x, y):
    """x + y (for bools: logical or, as NumPy)."""
    if result_dtype(x, y).is_bool:
        return _binary(E.Or, x, y)
    return _binary(E.Add, x, y)


def sub(x, y):
    """x - y.

    Raises:
        TypeError: for two bool operands (NumPy refuses boolean subtract).
    """
    if result_dtype(x, y).is_bool:
        raise TypeError("subtraction of bool operands is not supported (NumPy refuses it too); use xor or cast")
    return _binary(E.Sub, x, y)


def mul(x, y):
    """x * y (for bools: logical and)."""
    if result_dtype(x, y).is_bool:
        return _binary(E.And, x, y)
    return _binary(E.Mul, x, y)


def true_div(x, y):
    """x / y; integers divide in float64 (float32 stays float32)."""
    dt = result_dtype(x, y)
    return _binary(E.Div, x, y, dt if dt.is_float else T.float64)


def floor_div(x, y):
    """x // y with Python semantics; integer division by zero gives 0 (NumPy warns and gives 0)."""
    dt = result_dtype(x, y)
    return _binary(E.FloorDiv, x, y, T.int8 if dt.is_bool else dt)


def mod(x, y):
    """x % y, the result having the sign of y (Python/NumPy semantics)."""
    dt = result_dtype(x, y)
    return _binary(E.Mod, x, y, T.int8 if dt.is_bool else dt)


def pow(x, y):
    """x ** y (NumPy's promotion; integer x to negative integer y raises at call time)."""
    dt = result_dtype(x, y)
    return _binary(E.Pow, x, y, T.int8 if dt.is_bool else dt)


def neg(x):
    """-x.

    Raises:
        TypeError: for bool (NumPy refuses it; use ``invert``).
    """
    x = as_value(x)
    _numeric(x, "negation")
    return build(E.Neg, [x])


def abs(x):
    x = as_value(x)
    return x if x.type.dtype.is_bool or x.type.dtype.kind == "u" else build(E.Abs, [x])


def sgn(x):
    """sign(x): -1, 0, 1 (NaN stays NaN)."""
    x = as_value(x)
    _numeric(x, "sign")
    return build(E.Sign, [x])


sign = sgn


def sqr(x):
    """x * x."""
    x = as_value(x)
    return mul(x, x)


def maximum(x, y):
    """Elementwise maximum; NaN propagates."""
    return _binary(E.Maximum, x, y)


def minimum(x, y):
    """Elementwise minimum; NaN propagates."""
    return _binary(E.Minimum, x, y)


def clip(x, lo, hi):
    """min(max(x, lo), hi), with NumPy's dtype promotion."""
    return minimum(maximum(x, lo), hi)


def arctan2(x, y):
    dt = result_dtype(x, y)
    return _binary(E.Arctan2, x, y, T.float_of(dt))


# -- transcendental and rounding -----------------------------------------------------------
def exp(x): return _float_unary(E.Exp, x)
def exp2(x): return _float_unary(E.Exp2, x)
def expm1(x): return _float_unary(E.Expm1, x)
def log(x): return _float_unary(E.Log, x)
def log2(x): return _float_unary(E.Log2, x)
def log10(x): return _float_unary(E.Log10, x)
def log1p(x): return _float_unary(E.Log1p, x)
def sqrt(x): return _float_unary(E.Sqrt, x)
def sin(x): return _float_unary(E.Sin, x)
def cos(x): return _float_unary(E.Cos, x)
def tan(x): return _float_unary(E.Tan, x)
def arcsin(x): return _float_unary(E.Arcsin, x)
def arccos(x): return _float_unary(E.Arccos, x)
def arctan(x): return _float_unary(E.Arctan, x)
def sinh(x): return _float_unary(E.Sinh, x)
def cosh(x): return _float_unary(E.Cosh, x)
def tanh(x): return _float_unary(E.Tanh, x)
def erf(x): return _float_unary(E.Erf, x)
def erfc(x): return _float_unary(E.Erfc, x)
def floor(x): return _float_unary(E.Floor, x)
def ceil(x): return _float_unary(E.Ceil, x)
def trunc(x): return _float_unary(E.Trunc, x)
def sigmoid(x): return _float_unary(E.Sigmoid, x)
def softplus(x): return _float_unary(E.Softplus, x)


def round(x, mode="half_to_even"):
    """Round half to even (NumPy's ``np.round``); ``mode='half_away_from_zero'`` as C's round.

    Raises:
        ValueError: for an unknown mode.
    """
    if mode == "half_to_even":
        return _float_unary(E.Round, x)
    if mode == "half_away_from_zero":
        x = as_value(x)
        return sgn(x) * floor(abs(x) + 0.5)
    raise ValueError(f"round: unknown mode {mode!r} (expected 'half_to_even' or 'half_away_from_zero')")


def isnan(x):
    x = as_value(x)
    if not x.type.dtype.is_float:
        return zeros_bool_like(x)
    return build(E.Isnan, [x])


def isinf(x):
    x = as_value(x)
    if not x.type.dtype.is_float:
        return zeros_bool_like(x)
    return build(E.Isinf, [x])


def zeros_bool_like(x):
    from symcomp.tensor.shape import zeros_like

    return zeros_like(x, dtype="bool")


# -- comparisons and logic ----------------------------------------------------------------
def eq(x, y): return _binary(E.Eq, x, y)
def neq(x, y): return _binary(E.Ne, x, y)
def lt(x, y): return _binary(E.Lt, x, y)
def le(x, y): return _binary(E.Le, x, y)
def gt(x, y): return _binary(E.Gt, x, y)
def ge(x, y): return _binary(E.Ge, x, y)


def _logical(cls, x, y):
    dt = result_dtype(x, y)
    if dt.is_float:
        raise TypeError(f"{cls.name}: bitwise/logical operations need integer or bool operands, got {dt.name}")
    return _binary(cls, x, y)


def and_(x, y): return _logical(E.And, x, y)
def or_(x, y): return _logical(E.Or, x, y)
def xor(x, y): return _logical(E.Xor, x, y)


def invert(x):
    """Bitwise not (integers) or logical not (bool)."""
    x = as_value(x)
    if x.type.dtype.is_float:
        raise TypeError(f"invert needs an integer or bool operand, got {x.type.dtype.name}")
    return build(E.Not, [x])


def switch(cond, a, b):
    """Elementwise ``cond ? a : b`` (``np.where``); a non-bool cond means ``cond != 0``."""
    cond = as_value(cond)
    if not cond.type.dtype.is_bool:
        cond = neq(cond, 0)
    x, y = align([a, b])
    ndim = max(cond.type.ndim, x.type.ndim)
    from symcomp.tensor.convert import expand_to_rank

    return build(E.Select, [expand_to_rank(cond, ndim), expand_to_rank(x, ndim), expand_to_rank(y, ndim)])


where = switch
