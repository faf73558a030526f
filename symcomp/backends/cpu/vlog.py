"""log and log1p on SIMD vectors of float32, emitted inline as LLVM IR (no call, no division).

In ``exp(-x*x/2)*sin(y) + log1p(z)`` over float32, the call to libmvec's ``_ZGVeN16v_log1pf``
took a fifth of the time, and around it the loop kept every live vector and constant on the
stack (the vector ABI preserves no vector register); inline code stays in registers and is
scheduled with the rest of the loop body (docs/performance.md).

Algorithm (the division-free scheme of Intel's SVML ``log1pf``, as shipped in glibc's libmvec;
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

log(x) is the same with hi = x, lo = 0 (subnormal x scaled by 2**23 first).

Special values are exact: log1p(-1) = log(0) = -inf, x below the domain gives NaN, +inf and NaN
return themselves, and log1p keeps -0 and tiny arguments (r = x there).

Accuracy, worst case over every float32 argument (against glibc's float64 log and log1p):
log1p 1.60 ULP, log 0.95 ULP (tests/exhaustive_f32.py);
tests/test_simd_math.py checks <= 4 ULP over each domain and the special values exactly.
"""

from __future__ import annotations

from llvmlite import ir

from symcomp.backends.cpu.vexp import _Emitter

_P = (-0.12422200292348862, 0.13748309016227722, -0.12288721650838852, 0.140558123588562,
      -0.16673316061496735, 0.20007233321666718, -0.24999944865703583, 0.33333271741867065, -0.5)
"""P(r) ~ (log1p(r) - r) / r**2 on [-1/3, 1/3], highest coefficient first (float32 values)."""
_LN2_HI, _LN2_LO = 0.6931471824645996, -1.9046542121259336e-09
_TWO_THIRDS_BITS = 0x3F2AAAAB  # float32 bits of 2/3 (rounded up)


def _emitter(b: ir.IRBuilder, x: ir.Value, what: str) -> _Emitter:
    if not (isinstance(x.type, ir.VectorType) and isinstance(x.type.element, ir.FloatType)):
        raise TypeError(f"vlog.{what}: expected a vector of float, got {x.type}")
    return _Emitter(b, x.type, what)


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
        # 2**-k in the exponent field; k <= 126 keeps it normal (for larger k, lo 2**-k is far
        # below the rounding of the result)
        kc = b.select(b.icmp_signed("<", k, e.isplat(126)), k, e.isplat(126))
        r = b.fadd(r, b.fmul(lo, b.bitcast(b.sub(e.isplat(0x3F800000), b.shl(kc, e.isplat(23))), e.t)))
    y = e.call("fma", b.fmul(e.horner(_P, r), r), r, r)
    kf = b.sitofp(k if k_add is None else b.add(k, k_add), e.t)
    return e.call("fma", kf, e.splat(_LN2_HI), e.call("fma", kf, e.splat(_LN2_LO), y))


def emit_log1p(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """log1p(x) = log(1 + x) for a vector ``x`` of float32, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type.
    """
    e = _emitter(b, x, "emit_log1p")
    one = e.splat(1.0)
    big, small = e.call("maxnum", x, one), e.call("minnum", x, one)
    hi = b.fadd(big, small)
    lo = b.fadd(b.fsub(big, hi), small)
    r = _log_core(e, hi, lo)
    # -0 stays -0: the sign of x is the sign of log1p(x) wherever that is defined
    r = b.bitcast(b.or_(b.bitcast(r, e.it), b.and_(b.bitcast(x, e.it), e.isplat(-0x80000000))), e.t)
    r = b.select(b.fcmp_ordered("==", x, e.splat(-1.0)), e.splat(float("-inf")), r)
    r = b.select(b.fcmp_ordered("<", x, e.splat(-1.0)), e.splat(float("nan")), r)
    r = b.select(b.fcmp_ordered("==", x, e.splat(float("inf"))), x, r)
    return e.nan_through(x, r)


def emit_log(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """log(x) for a vector ``x`` of float32, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type.
    """
    e = _emitter(b, x, "emit_log")
    tiny = b.fcmp_ordered("<", x, e.splat(2.0 ** -126))  # subnormal (or not positive)
    xs = b.select(tiny, b.fmul(x, e.splat(2.0 ** 23)), x)
    r = _log_core(e, xs, None, b.select(tiny, e.isplat(-23), e.isplat(0)))
    r = b.select(b.fcmp_ordered("==", x, e.splat(0.0)), e.splat(float("-inf")), r)
    r = b.select(b.fcmp_ordered("<", x, e.splat(0.0)), e.splat(float("nan")), r)
    r = b.select(b.fcmp_ordered("==", x, e.splat(float("inf"))), x, r)
    return e.nan_through(x, r)
