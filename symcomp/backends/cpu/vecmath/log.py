"""log and log1p on SIMD vectors of float32 and float64, emitted inline as LLVM IR (no call).

In ``exp(-x*x/2)*sin(y) + log1p(z)`` over float32, the call to libmvec's ``_ZGVeN16v_log1pf``
took a fifth of the time, and around it the loop kept every live vector and constant on the
stack (the vector ABI preserves no vector register); inline code stays in registers and is
scheduled with the rest of the loop body (docs/performance.md).

float32 (the division-free scheme of Intel's SVML ``log1pf``, as shipped in glibc's libmvec;
Muller, "Elementary Functions", 3rd ed., 2016, ch. 11 for the reduction):

* u = 1 + x as an unevaluated sum hi + lo: hi = max(1, x) + min(1, x) rounded and
  lo = (max(1, x) - hi) + min(1, x) exactly (Fast2Sum, Dekker 1971), so x enters unrounded;
* k = floor(log2(hi * 3/2)), read from the bits of hi minus the bits of 2/3, so that
  m = hi 2**-k lies in [2/3, 4/3); m is hi's bits with k subtracted from the exponent field;
* r = (m - 1) + lo 2**-k, m - 1 exact (Sterbenz), |r| <= 1/3;
* log1p(r) = r + r**2 P(r), P a degree-8 Chebyshev fit of (log1p(r) - r)/r**2 on [-1/3, 1/3]
  (``mpmath.chebyfit``; max error 3.5e-8 with float32 coefficients, which |r| <= 1/3 scales
  to 0.2 ULP);
* log1p(x) = k ln2_hi + (k ln2_lo + log1p(r)).

float64 (fdlibm's ``log1p``/``log``, Sun Microsystems 1993, whose polynomial in float64 would
otherwise need about 20 terms): the same hi + lo, m in [sqrt(2)/2, sqrt(2)), f = m - 1, one
division s = f / (2 + f), and log1p(f) = f - (f**2/2 - s (f**2/2 + z G(z))) with z = s**2 and G
a degree-7 Chebyshev fit (error 3.7e-17 on [0, 0.0295]); where k = 0, f is x itself.  The terms
are added smallest first and k ln2_hi last, so the cancellation at k = -1 meets two roundings.

log(x) is the same with hi = x, lo = 0 (subnormal x scaled by 2**23, or 2**52, first).

Special values are exact: log1p(-1) = log(0) = -inf, x below the domain gives NaN, +inf and NaN
return themselves, and log1p keeps -0 and tiny arguments (r = x there).

Accuracy, worst case over every float32 argument (against glibc's float64 log and log1p):
log1p 1.60 ULP, log 0.95 ULP (tests/exhaustive_f32.py); float64 over 1.6e7 arguments spread over
the domain, against long double: log1p 0.88 ULP, log 0.82 ULP.  tests/test_simd_math.py checks
<= 4 ULP over each domain and the special values exactly.
"""

from __future__ import annotations

from llvmlite import ir

from symcomp.backends.cpu.vecmath.exp import _Emitter

_P = (-0.12422200292348862, 0.13748309016227722, -0.12288721650838852, 0.140558123588562,
      -0.16673316061496735, 0.20007233321666718, -0.24999944865703583, 0.33333271741867065, -0.5)
"""P(r) ~ (log1p(r) - r) / r**2 on [-1/3, 1/3], highest coefficient first (float32 values)."""
_LN2_HI, _LN2_LO = 0.6931471824645996, -1.9046542121259336e-09
_TWO_THIRDS_BITS = 0x3F2AAAAB  # float32 bits of 2/3 (rounded up)


_G64 = (0.13086767009948175, 0.13268759668560612, 0.15386240205813478, 0.18181795630884753,
        0.2222222239180047, 0.2857142857080323, 0.4000000000000088, 0.6666666666666666)
"""G(z) ~ (2 atanh(s) - 2s) / (s z), z = s**2 on [0, 0.02944], highest coefficient first (float64)."""
_LN2_HI64, _LN2_LO64 = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_SQRT_HALF_BITS64 = 0x3FE6A09E667F3BCD  # float64 bits of sqrt(2)/2


def _times_pow2_neg(e: _Emitter, v: ir.Value, k: ir.Value) -> ir.Value:
    """v 2**-k for an integer vector k, 2**-k built in the exponent field with k capped at the
    largest normal exponent (lo 2**-k is far below the result's rounding for larger k)."""
    b, p = e.b, e.p
    cap = e.isplat(p["bias"] - 1)
    kc = b.select(b.icmp_signed("<", k, cap), k, cap)
    return b.fmul(v, b.bitcast(b.sub(e.isplat(p["bias"] << p["mant"]), b.shl(kc, e.isplat(p["mant"]))), e.t))


def _log_core64(e: _Emitter, hi: ir.Value, lo: ir.Value | None, k_add: ir.Value | None = None,
                x1: ir.Value | None = None) -> ir.Value:
    """The float64 :func:`_log_core`, after fdlibm's ``log1p``: m = hi 2**-k in [sqrt(2)/2, sqrt(2)),
    f = m - 1 exact, s = f / (2 + f), log1p(f) = f - (f**2/2 - s (f**2/2 + z G(z))), z = s**2,
    plus lo 2**-k / m, the division by m done as (1 - f + f**2) (relative error |f|**3 on a term
    below 2**-53 |m|, where the result is at least 0.34).  Where k = 0, ``x1`` (if given, with
    hi + lo = 1 + x1) is f itself, unrounded, and lo is not needed."""
    b = e.b
    off = b.sub(b.bitcast(hi, e.it), e.isplat(_SQRT_HALF_BITS64))
    k = b.ashr(off, e.isplat(52))
    m = b.bitcast(b.add(b.and_(off, e.isplat((1 << 52) - 1)), e.isplat(_SQRT_HALF_BITS64)), e.t)
    f = b.fsub(m, e.splat(1.0))  # exact
    if x1 is not None:
        k0 = b.icmp_signed("==", k, e.isplat(0))
        f = b.select(k0, x1, f)
        lo = b.select(k0, e.splat(0.0), lo)
    s = b.fdiv(f, b.fadd(f, e.splat(2.0)))
    z = b.fmul(s, s)
    hfsq = b.fmul(e.splat(0.5), b.fmul(f, f))
    kf = b.sitofp(k if k_add is None else b.add(k, k_add), e.t)
    # fdlibm's order: the small terms first, f and k ln2_hi (exact) last, so that the cancellation
    # between them (k = -1, f ~ 0.4) meets only two roundings
    t = e.call("fma", s, b.fadd(hfsq, b.fmul(z, e.horner(_G64, z))), b.fmul(kf, e.splat(_LN2_LO64)))
    if lo is not None:
        c = _times_pow2_neg(e, lo, k)
        inv_m = e.call("fma", f, b.fsub(f, e.splat(1.0)), e.splat(1.0))  # 1 - f + f**2
        t = e.call("fma", c, inv_m, t)
    return e.call("fma", kf, e.splat(_LN2_HI64), b.fsub(f, b.fsub(hfsq, t)))


def _log_core(e: _Emitter, hi: ir.Value, lo: ir.Value | None, k_add: ir.Value | None = None) -> ir.Value:
    """log((hi + lo) 2**k_add) for positive normal ``hi`` (``lo`` None: 0), |lo| <= ulp(hi),
    ``k_add`` an integer vector (None: 0)."""
    b = e.b
    bits = b.bitcast(hi, e.it)
    off = b.sub(bits, e.isplat(_TWO_THIRDS_BITS))
    k = b.ashr(off, e.isplat(23))  # floor(log2(hi * 3/2))
    m = b.bitcast(b.add(b.and_(off, e.isplat(0x7FFFFF)), e.isplat(_TWO_THIRDS_BITS)), e.t)
    r = b.fsub(m, e.splat(1.0))  # exact
    if lo is not None:
        r = b.fadd(r, _times_pow2_neg(e, lo, k))
    y = e.call("fma", b.fmul(e.horner(_P, r), r), r, r)
    kf = b.sitofp(k if k_add is None else b.add(k, k_add), e.t)
    return e.call("fma", kf, e.splat(_LN2_HI), e.call("fma", kf, e.splat(_LN2_LO), y))


def emit_log1p(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """log1p(x) = log(1 + x) for a vector ``x`` of float32 or float64, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type.
    """
    e = _Emitter(b, x.type, "log.emit_log1p")
    one = e.splat(1.0)
    big, small = e.call("maxnum", x, one), e.call("minnum", x, one)
    hi = b.fadd(big, small)
    lo = b.fadd(b.fsub(big, hi), small)
    r = _log_core64(e, hi, lo, x1=x) if e.p["bits"] == 64 else _log_core(e, hi, lo)
    # -0 stays -0: the sign of x is the sign of log1p(x) wherever that is defined
    sign = e.isplat(-(1 << (e.p["bits"] - 1)))
    r = b.bitcast(b.or_(b.bitcast(r, e.it), b.and_(b.bitcast(x, e.it), sign)), e.t)
    r = b.select(b.fcmp_ordered("==", x, e.splat(-1.0)), e.splat(float("-inf")), r)
    r = b.select(b.fcmp_ordered("<", x, e.splat(-1.0)), e.splat(float("nan")), r)
    r = b.select(b.fcmp_ordered("==", x, e.splat(float("inf"))), x, r)
    return e.nan_through(x, r)


def emit_log(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """log(x) for a vector ``x`` of float32 or float64, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type.
    """
    e = _Emitter(b, x.type, "log.emit_log")
    wide = e.p["bits"] == 64
    mant, min_exp = (52, -1022) if wide else (23, -126)
    tiny = b.fcmp_ordered("<", x, e.splat(2.0 ** min_exp))  # subnormal (or not positive)
    xs = b.select(tiny, b.fmul(x, e.splat(2.0 ** mant)), x)
    r = (_log_core64 if wide else _log_core)(e, xs, None, b.select(tiny, e.isplat(-mant), e.isplat(0)))
    r = b.select(b.fcmp_ordered("==", x, e.splat(0.0)), e.splat(float("-inf")), r)
    r = b.select(b.fcmp_ordered("<", x, e.splat(0.0)), e.splat(float("nan")), r)
    r = b.select(b.fcmp_ordered("==", x, e.splat(float("inf"))), x, r)
    return e.nan_through(x, r)
