"""sin and cos on SIMD vectors of float32, emitted inline as LLVM IR (no call on the fast path).

A call to libmvec's ``_ZGVeN16v_sinf`` keeps the loop's live vectors and constants on the stack
around it (the vector ABI preserves no vector register); inline code stays in registers and is
scheduled with the rest of the loop body (docs/performance.md).

Algorithm (Cody and Waite, "Software Manual for the Elementary Functions", 1980, with the
reduction done by fused multiply-adds as in Intel's SVML ``sinf`` shipped in glibc's libmvec):

* a = |x|; sin: q = roundeven(a / pi); cos: q = roundeven(a / pi - 1/2) + 1/2, so that
  r = a - q pi lies in [-pi/2, pi/2]; the rounding adds 1.5 * 2**23, which leaves q's parity in
  the last bit (no float-to-integer conversion, so NaN and infinite lanes stay defined);
* r = a - q P1 - q P2 - q P3 with three fused multiply-adds, pi = P1 + P2 + P3 in float32 parts:
  a - q P1 is exact (P1's last bit is 2**-22), and the two later steps are each rounded once;
* sin(r) = r + r**3 P(r**2), P a degree-4 Chebyshev fit of (sin(r) - r)/r**3 on
  [0, (pi/2)**2] (``mpmath.chebyfit``; relative error of sin 1.9e-8 with float32 coefficients,
  0.32 ULP, nearly all from rounding -1/6);
* sin(x) = sign(x) (-1)**q sin(r), cos(x) = (-1)**(q + 1/2 + 1/2) sin(r).

The reduction is accurate while |x| <= 2**17 (checked for every float32 below it, see
docs/performance.md); a vector holding a larger argument (or an infinity) is computed by
libmvec's call instead, which reduces with more bits of pi (Payne and Hanek), so every lane
keeps <= 4 ULP.  NaN gives NaN, sin keeps -0 and tiny arguments.

Accuracy, worst case over every float32 argument with |x| <= 2**17 (against glibc's float64 sin
and cos, tests/exhaustive_f32.py): 2.0 ULP for both (libmvec's, past the limit: 0.56 ULP).
tests/test_simd_math.py checks <= 4 ULP over each domain, the arguments nearest multiples of
pi/2, and the special values.
"""

from __future__ import annotations

import math

from llvmlite import ir

from symcomp.backends.cpu.vexp import _Emitter

_P = (-2.4080094362943782e-08, 2.753645958364359e-06, -0.00019841086759697646, 0.00833333283662796,
      -0.1666666716337204)
"""P(s) ~ (sin(r) - r) / r**3 with s = r**2 on [0, (pi/2)**2], highest coefficient first."""
_PI = (3.1415927410125732, -8.742277657347586e-08, -3.4302490200117637e-15)
"""pi = P1 + P2 + P3 (each float32; the remainder is 2.1e-23)."""
_SHIFTER = 1.5 * 2.0 ** 23
"""Adding it rounds a float32 in [-2**22, 2**22] to an integer (its ulp is 1), parity in bit 0."""
FAST_LIMIT = 2.0 ** 17
"""Largest |x| the inline reduction handles; larger arguments go to libmvec."""


def _emitter(b: ir.IRBuilder, x: ir.Value, what: str) -> _Emitter:
    if not (isinstance(x.type, ir.VectorType) and isinstance(x.type.element, ir.FloatType)):
        raise TypeError(f"vtrig.{what}: expected a vector of float, got {x.type}")
    return _Emitter(b, x.type, what)


def _sin_reduced(e: _Emitter, a: ir.Value, q: ir.Value, flip: ir.Value) -> ir.Value:
    """(-1)**flip sin(a - q pi) for |a - q pi| <= pi/2 (``flip``: integer vector, sign in bit 31)."""
    b = e.b
    r = a
    for part in _PI:
        r = e.call("fma", b.fneg(q), e.splat(part), r)
    s = b.fmul(r, r)
    rs = b.bitcast(b.xor(b.bitcast(r, e.it), flip), e.t)
    return e.call("fma", b.fmul(e.horner(_P, s), s), rs, rs)


def _large_to_libmvec(e: _Emitter, name: str, x: ir.Value, a: ir.Value, y: ir.Value) -> ir.Value:
    """``y``, with the lanes where |x| > FAST_LIMIT (or is infinite) taken from libmvec's ``name``,
    called only for vectors that hold such a lane."""
    from symcomp.backends.cpu.mathlib import libmvec_call  # mathlib dispatches to this module

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
    """sin(x) (radians) for a vector ``x`` of float32, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type.
    """
    e = _emitter(b, x, "emit_sin")
    sign = b.and_(b.bitcast(x, e.it), e.isplat(-0x80000000))
    a = e.call("fabs", x)
    t = e.call("fma", a, e.splat(1.0 / math.pi), e.splat(_SHIFTER))  # _SHIFTER + q, q's parity in bit 0
    q = b.fsub(t, e.splat(_SHIFTER))
    flip = b.shl(b.bitcast(t, e.it), e.isplat(31))
    y = _sin_reduced(e, a, q, flip)
    y = b.bitcast(b.xor(b.bitcast(y, e.it), sign), e.t)  # after the sum, so that sin(-0) = -0
    return _large_to_libmvec(e, "sin", x, a, y)


def emit_cos(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """cos(x) (radians) for a vector ``x`` of float32, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type.
    """
    e = _emitter(b, x, "emit_cos")
    a = e.call("fabs", x)
    t = b.fadd(e.call("fma", a, e.splat(1.0 / math.pi), e.splat(-0.5)), e.splat(_SHIFTER))
    m = b.fsub(t, e.splat(_SHIFTER))
    flip = b.xor(b.shl(b.bitcast(t, e.it), e.isplat(31)), e.isplat(-0x80000000))  # parity of m + 1
    y = _sin_reduced(e, a, b.fadd(m, e.splat(0.5)), flip)
    # below 2**-12, cos rounds to 1 (1 - x**2/2 is within half an ulp); sin(-pi/2 rounded) is 1 ulp off
    y = b.select(b.fcmp_ordered("<", a, e.splat(2.0 ** -12)), e.splat(1.0), y)
    return _large_to_libmvec(e, "cos", x, a, y)
