"""sin and cos on SIMD vectors of float32 and float64, emitted inline as LLVM IR (no call on the fast path).

A call to libmvec's ``_ZGVeN16v_sinf`` keeps the loop's live vectors and constants on the stack
around it (the vector ABI preserves no vector register); inline code stays in registers and is
scheduled with the rest of the loop body (docs/performance.md).

Algorithm (Cody and Waite, "Software Manual for the Elementary Functions", 1980, with the
reduction done by fused multiply-adds as in Intel's SVML ``sinf`` shipped in glibc's libmvec):

* a = |x|; sin: q = roundeven(a / pi); cos: q = roundeven(a / pi - 1/2) + 1/2, so that
  r = a - q pi lies in [-pi/2, pi/2]; the rounding adds 1.5 * 2**23 (2**52 for float64), which
  leaves q's parity in the last bit (no float-to-integer conversion, so NaN and infinite lanes
  stay defined);
* r = a - q P1 - q P2 - q P3 with three fused multiply-adds, pi = P1 + P2 + P3 in parts of the
  element type: a - q P1 is exact (P1's last bit is 2**-22, 2**-51), and the two later steps are
  each rounded once;
* sin(r) = r + r**3 P(r**2), P a Chebyshev fit of (sin(r) - r)/r**3 on [0, (pi/2)**2]
  (``mpmath.chebyfit``): degree 4 for float32 (relative error of sin 1.9e-8 with float32
  coefficients, 0.32 ULP, nearly all from rounding -1/6), degree 7 for float64 (0.32 ULP);
* sin(x) = sign(x) (-1)**q sin(r), cos(x) = (-1)**(q + 1/2 + 1/2) sin(r).

The reduction is accurate while |x| <= 2**17 (checked for every float32 below it, see
docs/performance.md; in float64 the second step's rounding is 2**-53 of |r| + |q P3| with
|q P3| < 4e-28, while no double comes within 2**-61 of a multiple of pi/2: Muller, "Elementary
Functions", ch. 11, worst cases of the reduction); a vector holding a larger argument (or an infinity) is computed by
libmvec's call instead, which reduces with more bits of pi (Payne and Hanek), so every lane
keeps <= 4 ULP.  NaN gives NaN, sin keeps -0 and tiny arguments.

Accuracy, worst case over every float32 argument with |x| <= 2**17 (against glibc's float64 sin
and cos, tests/exhaustive_f32.py): 2.0 ULP for both (libmvec's, past the limit: 0.56 ULP).
float64, 1.2e7 arguments spread below the limit and 3.6e6 nearest k pi/2, against long double:
sin 2.0 ULP, cos 2.1 ULP (libmvec's double sin, past the limit: up to 3.2 ULP).
tests/test_simd_math.py checks <= 4 ULP over each domain, the arguments nearest multiples of
pi/2, and the special values.
"""

from __future__ import annotations

import math

from llvmlite import ir

from symcomp.backends.cpu.vecmath.exp import _Emitter

_P = (-2.4080094362943782e-08, 2.753645958364359e-06, -0.00019841086759697646, 0.00833333283662796,
      -0.1666666716337204)
"""P(s) ~ (sin(r) - r) / r**3 with s = r**2 on [0, (pi/2)**2], highest coefficient first."""
_PI = (3.1415927410125732, -8.742277657347586e-08, -3.4302490200117637e-15)
"""pi = P1 + P2 + P3 (each float32; the remainder is 2.1e-23)."""
_SHIFTER = 1.5 * 2.0 ** 23
"""Adding it rounds a float32 in [-2**22, 2**22] to an integer (its ulp is 1), parity in bit 0."""
_P64 = (2.7314368769379893e-15, -7.643969663988074e-13, 1.6058977292642743e-10, -2.505210761669045e-08,
        2.7557319219160833e-06, -0.00019841269841254966, 0.008333333333333316, -0.16666666666666666)
"""The float64 P: degree 7 (relative error of sin 3.6e-17 with float64 coefficients, 0.32 ULP)."""
_PI64 = (3.141592653589793, 1.2246467991473532e-16, -2.9947698097183397e-33)
"""pi = P1 + P2 + P3 in float64 parts (the remainder is 1.1e-49)."""
_SHIFTER64 = 1.5 * 2.0 ** 52
FAST_LIMIT = 2.0 ** 17
"""Largest |x| the inline reduction handles; larger arguments go to libmvec."""


class _Trig(_Emitter):
    """The constants of this module for one vector type, float32 or float64."""

    def __init__(self, b: ir.IRBuilder, t: ir.Type, what: str):
        super().__init__(b, t, what)
        wide = self.p["bits"] == 64
        self.poly, self.pi_parts = (_P64, _PI64) if wide else (_P, _PI)
        self.shifter = _SHIFTER64 if wide else _SHIFTER
        self.sign_bit = self.isplat(-(1 << (self.p["bits"] - 1)))
        self.cos_one_below = 2.0 ** -27 if wide else 2.0 ** -12

    def unshift(self, t: ir.Value) -> tuple[ir.Value, ir.Value]:
        """(q, q's parity in the sign bit) from t = q + shifter, the rounded sum of a value in
        [-1/2, 2**(mantissa - 1)) and the shifter: no float-to-integer conversion is needed."""
        b = self.b
        return b.fsub(t, self.splat(self.shifter)), b.shl(b.bitcast(t, self.it), self.isplat(self.p["bits"] - 1))

    def sin_reduced(self, a: ir.Value, q: ir.Value, flip: ir.Value) -> ir.Value:
        """(-1)**flip sin(a - q pi) for |a - q pi| <= pi/2 (``flip``: integer vector, the sign bit)."""
        b = self.b
        r = a
        for part in self.pi_parts:
            r = self.call("fma", b.fneg(q), self.splat(part), r)
        s = b.fmul(r, r)
        rs = b.bitcast(b.xor(b.bitcast(r, self.it), flip), self.t)
        return self.call("fma", b.fmul(self.horner(self.poly, s), s), rs, rs)


def _large_to_libmvec(e: _Trig, name: str, x: ir.Value, a: ir.Value, y: ir.Value) -> ir.Value:
    """``y``, with the lanes where |x| > FAST_LIMIT (or is infinite) taken from libmvec's ``name``,
    called only for vectors that hold such a lane."""
    from symcomp.backends.cpu.vecmath.libcalls import libmvec_call  # libcalls dispatches to this module

    b = e.b
    large = b.fcmp_ordered(">", a, e.splat(FAST_LIMIT))
    any_large = b.icmp_unsigned("!=", b.bitcast(large, ir.IntType(e.lanes)), ir.Constant(ir.IntType(e.lanes), 0))
    before = b.block
    with b.if_then(any_large, likely=False):
        slow = b.select(large, libmvec_call(b, name, x), y)
        slow_block = b.block
    merged = b.phi(e.t)
    merged.add_incoming(y, before)
    merged.add_incoming(slow, slow_block)
    return merged


def emit_sin(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """sin(x) (radians) for a vector ``x`` of float32 or float64, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type.
    """
    e = _Trig(b, x.type, "trig.emit_sin")
    sign = b.and_(b.bitcast(x, e.it), e.sign_bit)
    a = e.call("fabs", x)
    q, flip = e.unshift(e.call("fma", a, e.splat(1.0 / math.pi), e.splat(e.shifter)))  # one rounding
    y = e.sin_reduced(a, q, flip)
    y = b.bitcast(b.xor(b.bitcast(y, e.it), sign), e.t)  # after the sum, so that sin(-0) = -0
    return _large_to_libmvec(e, "sin", x, a, y)


def emit_cos(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """cos(x) (radians) for a vector ``x`` of float32 or float64, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type.
    """
    e = _Trig(b, x.type, "trig.emit_cos")
    a = e.call("fabs", x)
    # a/pi - 1/2 rounded, then to an integer (the shifter minus 1/2 is not representable)
    m, parity = e.unshift(b.fadd(e.call("fma", a, e.splat(1.0 / math.pi), e.splat(-0.5)), e.splat(e.shifter)))
    y = e.sin_reduced(a, b.fadd(m, e.splat(0.5)), b.xor(parity, e.sign_bit))  # parity of m + 1
    # near 0, cos rounds to 1 (1 - x**2/2 is within half an ulp); sin(-pi/2 rounded) is 1 ulp off
    y = b.select(b.fcmp_ordered("<", a, e.splat(e.cos_one_below)), e.splat(1.0), y)
    return _large_to_libmvec(e, "cos", x, a, y)
