"""Special functions of statistics (Theano's ``T.gammaln``, ``T.psi``; SciPy's ``erfcx``, ``log1mexp``),
written with symcomp's elementwise ops, so they compile, fuse and differentiate like any expression.

Float operands keep their dtype; integer operands compute in float64 (float32 for 8/16-bit), as
every transcendental function of the front-end.  Each branch of a formula is computed and the
right one selected (``T.switch``), so a branch that does not apply may produce inf or NaN unseen.

Algorithms and accuracy (float64, measured against SciPy in tests/test_special.py):

* ``gammaln(x)``: Stirling's series with 8 terms (Abramowitz & Stegun 6.1.41) for x >= 8; the
  recurrence lgamma(x) = lgamma(x + 8) - log(x (x+1) ... (x+7)) below 8; the reflection formula
  lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x) for x <= 0 (A&S 6.1.17).  Absolute error
  about 1e-14 near the zeros at 1 and 2, relative 1e-15 elsewhere for x > 0.
* ``psi(x)`` (digamma): the asymptotic series (A&S 6.3.18) for x >= 8, the recurrence
  psi(x) = psi(x + 8) - sum_k 1/(x + k) below, reflection psi(x) = psi(1 - x) - pi / tan(pi x)
  for x <= 0 (A&S 6.3.7); -inf at 0 and NaN at the negative integers, as SciPy.
* ``erfcx(x) = exp(x**2) erfc(x)``: exp(x**2) is evaluated as exp(h**2) exp(l (x + h)) with x = h + l
  and h = x truncated to a multiple of 1/16, so no rounding error of x**2 is amplified; for x >= 25 (float32: 9) the
  asymptotic series 1/(x sqrt(pi)) sum (-1)^k (2k-1)!! / (2 x**2)^k (A&S 7.1.23).
* ``log1mexp(x) = log(1 - exp(x))`` for x <= 0: log(-expm1(x)) above -log(2), log1p(-exp(x)) below
  (Maechler 2012, "Accurately computing log(1 - exp(-|a|))").
* ``arcsinh``, ``arccosh``, ``arctanh``: log1p forms (no cancellation near 0 and 1), log(2x) for
  |x| > 1e8 (no overflow of x**2).
"""

from __future__ import annotations

import math

from symcomp.ir import types as IT
from symcomp.tensor.convert import as_value, cast
from symcomp.tensor.elemwise import (
    abs, eq, exp, expm1, erfc, isinf, log, log1p, lt, ge, gt, round, sgn, sin, sqrt, switch, tan, trunc,
)

__all__ = ["gammaln", "psi", "erfcx", "log1mexp", "arcsinh", "arccosh", "arctanh"]

_LN2 = math.log(2.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Stirling: B_2k / (2k (2k-1)), k = 1..8 (A&S 6.1.41).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400)
# Digamma: B_2k / (2k), k = 1..8 (A&S 6.3.18).
_DIGAMMA = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12, -3617 / 8160)
_SHIFT = 8


def _float(x, what):
    x = as_value(x)
    dt = x.type.dtype
    if dt.is_float:
        return x
    if dt.is_bool or dt.kind not in "iu":
        raise TypeError(f"{what}: x must be a numeric tensor, got dtype {dt.name}")
    return cast(x, IT.float_of(dt))


def _poly(z, coeffs):
    """sum_k coeffs[k] z**k (Horner)."""
    acc = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * z + c
    return acc


def _lgamma_positive(x):
    """lgamma(x) for x > 0 (other x: a value to discard)."""
    small = lt(x, float(_SHIFT))
    xs = switch(small, x, 1.0)  # each branch sees only arguments it is valid for (finite gradients)
    y = switch(small, xs + float(_SHIFT), x)
    prod = xs
    for k in range(1, _SHIFT):
        prod = prod * (xs + float(k))
    shift = switch(small, log(prod), 0.0)
    r = 1.0 / y
    series = r * _poly(r * r, _STIRLING)
    return (y - 0.5) * log(y) - y + _HALF_LOG_2PI + series - shift


def gammaln(x):
    """log|Gamma(x)| elementwise (Theano's ``T.gammaln``, ``scipy.special.gammaln``).

    Args:
        x: a numeric tensor of any shape.

    Returns:
        A float tensor of ``x``'s shape (float32 for float32 and 8/16-bit integers, else float64);
        +inf at the poles (non-positive integers), +-inf at +-inf (SciPy's values).

    Raises:
        TypeError: if ``x`` is bool or not numeric.
    """
    x0 = x = _float(x, "gammaln")
    positive = gt(x, 0.0)
    pos = _lgamma_positive(switch(positive, x, 1.0))
    x = switch(positive, -0.5, x)  # the reflection's argument (a discarded branch must not make NaN gradients)
    frac = x - round(x)  # |sin(pi x)| = |sin(pi frac)|: exact, no rounding of pi x for large |x|
    refl = log(math.pi / abs(sin(math.pi * frac))) - _lgamma_positive(1.0 - x)
    out = switch(positive, pos, refl)
    return switch(isinf(x0), x0, out)


def _psi_positive(x):
    small = lt(x, float(_SHIFT))
    xs = switch(small, x, 1.0)
    y = switch(small, xs + float(_SHIFT), x)
    acc = 1.0 / xs
    for k in range(1, _SHIFT):
        acc = acc + 1.0 / (xs + float(k))
    shift = switch(small, acc, 0.0)
    r2 = 1.0 / (y * y)
    return log(y) - 0.5 / y - r2 * _poly(r2, _DIGAMMA) - shift


def psi(x):
    """The digamma function d/dx log Gamma(x) elementwise (Theano's ``T.psi``, ``scipy.special.psi``).

    Args:
        x: a numeric tensor of any shape.

    Returns:
        A float tensor of ``x``'s shape; -inf at 0 and NaN at the negative integers and -inf (SciPy's
        values), +inf at +inf.

    Raises:
        TypeError: if ``x`` is bool or not numeric.
    """
    x0 = _float(x, "psi")
    positive = gt(x0, 0.0)
    pos = _psi_positive(switch(positive, x0, 1.0))
    x = switch(positive, -0.5, x0)
    frac = x - round(x)  # tan has period pi: tan(pi x) = tan(pi frac), frac exact
    refl = _psi_positive(1.0 - x) - math.pi / tan(math.pi * frac)
    refl = switch(eq(frac, 0.0), float("nan"), refl)
    out = switch(positive, pos, refl)
    return switch(eq(x0, 0.0), float("-inf"), out)


def erfcx(x):
    """The scaled complementary error function exp(x**2) erfc(x) elementwise (``scipy.special.erfcx``).

    Args:
        x: a numeric tensor of any shape.

    Returns:
        A float tensor of ``x``'s shape; about 1/(x sqrt(pi)) for large x, +inf below about -26.6
        (float64), where the value overflows.

    Raises:
        TypeError: if ``x`` is bool or not numeric.
    """
    x0 = x = _float(x, "erfcx")
    at = 25.0 if x.type.dtype.bits == 64 else 9.0  # below, exp(h**2) and erfc(x) are finite and normal
    big = ge(x0, at)
    x = switch(big, 0.0, x0)  # the direct formula's argument
    h = trunc(x * 16.0) * (1.0 / 16.0)  # |h| <= |x|: exp(h**2) overflows only where the result does
    l = x - h
    direct = exp(h * h) * exp(l * (x + h)) * erfc(x)
    xs = switch(big, x0, at)  # keeps the series finite where it is not selected
    z = 1.0 / (2.0 * xs * xs)
    series = (1.0 / (xs * math.sqrt(math.pi))) * _poly(z, (1.0, -1.0, 3.0, -15.0, 105.0, -945.0, 10395.0))
    return switch(big, series, switch(isinf(x0), float("inf"), direct))


def log1mexp(x):
    """log(1 - exp(x)) elementwise, accurate for x near 0 and very negative x (PyTensor's ``log1mexp``).

    Args:
        x: a numeric tensor (values <= 0; positive values give NaN, 0 gives -inf).

    Returns:
        A float tensor of ``x``'s shape.

    Raises:
        TypeError: if ``x`` is bool or not numeric.
    """
    x = _float(x, "log1mexp")
    low = lt(x, -_LN2)
    return switch(low, log1p(-exp(switch(low, x, -1.0))), log(-expm1(switch(low, -0.5, x))))


def arcsinh(x):
    """The inverse hyperbolic sine elementwise (``np.arcsinh``); see the module docstring."""
    x = _float(x, "arcsinh")
    a = abs(x)
    big = gt(a, 1e8)
    an, af = switch(big, 0.0, a), switch(big, a, 2e8)  # each branch's valid arguments only
    near = log1p(an + an * an / (1.0 + sqrt(1.0 + an * an)))
    return sgn(x) * switch(big, log(af) + _LN2, near)


def arccosh(x):
    """The inverse hyperbolic cosine elementwise (``np.arccosh``; NaN below 1)."""
    x = _float(x, "arccosh")
    big = gt(x, 1e8)
    t = switch(big, 1.0, x - 1.0)
    near = log1p(t + sqrt(2.0 * t + t * t))
    return switch(big, log(switch(big, x, 2e8)) + _LN2, near)


def arctanh(x):
    """The inverse hyperbolic tangent elementwise (``np.arctanh``; +-inf at +-1, NaN beyond)."""
    x = _float(x, "arctanh")
    return 0.5 * log1p(2.0 * x / (1.0 - x))
