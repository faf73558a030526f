"""The random-number algorithms, written once and run by every backend.

Random variables must give the same bits on the reference backend, the CPU backend (at any thread
count and vector width) and CUDA.  Integer arithmetic is exact everywhere, but math functions are
not: NumPy's ``log``, glibc's, the CPU backend's inline polynomials and libdevice may differ in
the last bit.  So the algorithms below (Philox4x32-10, the conversion of random words to floats,
the natural logarithm they need, the normal quantile function, the Poisson sampler and the
Fisher-Yates step) use only operations that IEEE 754 rounds exactly (+, -, *, /, sqrt, floor,
integer and bit operations), in a fixed order, and each backend runs them through an
:class:`Arith`: NumPy arrays here (:class:`NumpyArith`, the reference semantics), LLVM values in
the CPU backend, generated Python source in the CUDA backend.  The same sequence of correctly
rounded operations gives the same bits on each.

Dtypes are NumPy names: ``"uint32"``, ``"uint64"``, ``"int64"``, ``"float32"``, ``"float64"``,
``"bool"``.
"""

from __future__ import annotations

import math

import numpy as np

# -- Philox4x32-10 (Salmon, Moraes, Dror, Shaw, SC 2011; Random123's philox4x32) ---------------
PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
PHILOX_ROUNDS = 10


class Arith:
    """The operations the algorithms use (a protocol; each backend implements it on its values).

    Integer arithmetic wraps; ``shr`` is a logical shift of unsigned values; ``cast`` converts
    as C does (float to integer truncates, used only on values in range); ``cmp`` gives bools;
    ``while_`` runs ``body`` on the lanes where ``cond`` holds until it holds on none;
    ``bits`` / ``from_bits`` reinterpret float64 as uint64 and float32 as uint32 (and back).
    """

    def c(self, dt: str, value): raise NotImplementedError
    def add(self, a, b): raise NotImplementedError
    def sub(self, a, b): raise NotImplementedError
    def mul(self, a, b): raise NotImplementedError
    def div(self, a, b): raise NotImplementedError
    def sqrt(self, a): raise NotImplementedError
    def floor(self, a): raise NotImplementedError
    def and_(self, a, b): raise NotImplementedError
    def or_(self, a, b): raise NotImplementedError
    def xor(self, a, b): raise NotImplementedError
    def shr(self, a, k: int): raise NotImplementedError
    def shl(self, a, k: int): raise NotImplementedError
    def mulhilo32(self, a, b): raise NotImplementedError
    def cast(self, a, dt: str): raise NotImplementedError
    def bits(self, a): raise NotImplementedError
    def from_bits(self, a): raise NotImplementedError
    def cmp(self, pred: str, a, b): raise NotImplementedError
    def select(self, cond, a, b): raise NotImplementedError
    def while_(self, cond, body, state: list) -> list: raise NotImplementedError


def philox4x32(A: Arith, c0, c1, c2, c3, k0, k1) -> list:
    """The four output words of Philox4x32-10 for counter (c0, c1, c2, c3) and key (k0, k1)
    (all uint32): ten rounds, the key bumped by the Weyl constants between rounds."""
    m0, m1 = A.c("uint32", PHILOX_M0), A.c("uint32", PHILOX_M1)
    for r in range(PHILOX_ROUNDS):
        if r:
            k0 = A.add(k0, A.c("uint32", PHILOX_W0))
            k1 = A.add(k1, A.c("uint32", PHILOX_W1))
        hi0, lo0 = A.mulhilo32(m0, c0)
        hi1, lo1 = A.mulhilo32(m1, c2)
        c0, c1, c2, c3 = A.xor(A.xor(hi1, c1), k0), lo1, A.xor(A.xor(hi0, c3), k1), lo0
    return [c0, c1, c2, c3]


def split64(A: Arith, x) -> tuple:
    """(low, high) uint32 halves of a uint64."""
    return A.cast(x, "uint32"), A.cast(A.shr(x, 32), "uint32")


def philox_words(A: Arith, ctr_lo, ctr_hi, key) -> list:
    """Philox4x32-10 with the 128-bit counter (ctr_lo, ctr_hi) and the 64-bit key, all uint64:
    counter words (c0, c1) = ctr_lo's (low, high) halves, (c2, c3) = ctr_hi's, key (k0, k1) = key's.

    An Arith may compute this itself (``A.philox_words``, in a representation that suits its
    hardware); it must give the same words as :func:`philox4x32` (the tests check it)."""
    own = getattr(A, "philox_words", None)
    if own is not None:
        return own(ctr_lo, ctr_hi, key)
    c0, c1 = split64(A, ctr_lo)
    c2, c3 = split64(A, ctr_hi)
    k0, k1 = split64(A, key)
    return philox4x32(A, c0, c1, c2, c3, k0, k1)


STREAM_WORDS = {32: 1, 64: 2}
"""32-bit words per element of :func:`stream_bits` for each ``width``."""


def elements_per_block(width: int) -> int:
    """Elements of a draw one Philox block (four 32-bit words) serves: 4 at width 32, 2 at 64."""
    return 4 // STREAM_WORDS[width]


def stream_bits(A: Arith, index, offset, salt, key, width: int):
    """The random bits of the element with flat index ``index`` (int64) of a draw whose first block
    is ``offset`` (uint64), in the block row ``salt`` under ``key`` (uint64): every Philox block
    serves consecutive elements, all its four words used.

    * ``width`` 32: word ``index % 4`` of the block with counter (offset + index // 4, salt): uint32.
    * ``width`` 64: words 2 (index % 2) (low half) and 2 (index % 2) + 1 (high half) of the block
      (offset + index // 2, salt): uint64.

    This computes one whole block per element (the reference, CUDA and the CPU backend's scalar
    loops); the CPU backend's SIMD loops compute each block once for the 2 or 4 lanes it serves
    and give the same bits (``symcomp.backends.cpu.codegen.random``)."""
    per = elements_per_block(width)
    shift = per.bit_length() - 1
    i = A.cast(index, "uint64")
    w = philox_words(A, A.add(offset, A.shr(i, shift)), salt, key)
    slot = A.and_(i, A.c("uint64", per - 1))
    is_ = lambda k: A.cmp("==", slot, A.c("uint64", k))  # noqa: E731
    if width == 32:
        return A.select(is_(3), w[3], A.select(is_(2), w[2], A.select(is_(1), w[1], w[0])))
    lo = A.select(is_(1), w[2], w[0])
    hi = A.select(is_(1), w[3], w[1])
    return A.or_(A.cast(lo, "uint64"), A.shl(A.cast(hi, "uint64"), 32))


# -- random words to floats ----------------------------------------------------------------------
def unit_float32(A: Arith, w):
    """A float32 in the open interval (0, 1) from one uint32 word: ((w >> 9) + 0.5) * 2**-23.

    The 2**23 values are equally spaced, symmetric about 1/2, from 2**-24 to 1 - 2**-24; every
    step is exact, so each backend gives the same float (and log(u), log(1 - u) are finite)."""
    m = A.cast(A.shr(w, 9), "float32")
    return A.mul(A.add(m, A.c("float32", 0.5)), A.c("float32", 2.0 ** -23))


def unit_float64(A: Arith, lo, hi):
    """A float64 in the open interval (0, 1) from two uint32 words: the 52 bits
    (hi >> 12) * 2**32 + lo, plus 0.5, times 2**-52 (from 2**-53 to 1 - 2**-53, all steps exact)."""
    top = A.mul(A.cast(A.shr(hi, 12), "float64"), A.c("float64", 2.0 ** 32))
    m = A.add(top, A.cast(lo, "float64"))
    return A.mul(A.add(m, A.c("float64", 0.5)), A.c("float64", 2.0 ** -52))


def unit_float64_bits(A: Arith, x):
    """A float64 in the open interval (0, 1) from one uint64 word: ((x >> 12) + 0.5) * 2**-52, from
    2**-53 to 1 - 2**-53 (the 52 high bits).  Computed as the float 1 + (x >> 12) * 2**-52 (its
    bits: the exponent of 1 and the 52 bits as the mantissa) minus 1 - 2**-53: exact (Sterbenz),
    so every backend gives the same float."""
    one = A.or_(A.shr(x, 12), A.c("uint64", 0x3FF0000000000000))
    return A.sub(A.from_bits(one), A.c("float64", 1.0 - 2.0 ** -53))


def unit_float64_word(A: Arith, w):
    """A float64 in the open interval (0, 1) from one uint32 word: (w + 0.5) * 2**-32 (exact), from
    2**-33 to 1 - 2**-33: 32 random bits, for Bernoulli draws against a float64 p."""
    return A.mul(A.add(A.cast(w, "float64"), A.c("float64", 0.5)), A.c("float64", 2.0 ** -32))


def unit_float32_bits(A: Arith, w):
    """:func:`unit_float32`'s float, ((w >> 9) + 0.5) * 2**-23, computed as the float
    1 + (w >> 9) * 2**-23 minus 1 - 2**-24 (exact: Sterbenz), by integer operations and one
    subtraction."""
    one = A.or_(A.shr(w, 9), A.c("uint32", 0x3F800000))
    return A.sub(A.from_bits(one), A.c("float32", 1.0 - 2.0 ** -24))


# -- the natural logarithm (fdlibm's e_log.c, as musl has it) ------------------------------------
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10


def log64(A: Arith, x):
    """log(x) for float64 x > 0 (finite or subnormal), within 1 ulp (fdlibm's algorithm):
    x = 2**k * m with m in [sqrt(2)/2, sqrt(2)), log(m) = f - f*f/2 + s*(f*f/2 + R(s*s)) where
    f = m - 1 and s = f / (2 + f).  Other inputs (0, negative, inf, NaN) give unspecified values;
    callers select around them."""
    f64 = lambda v: A.c("float64", v)  # noqa: E731
    u64 = lambda v: A.c("uint64", v)  # noqa: E731
    tiny = A.cmp("<", x, f64(2.0 ** -1022))
    x = A.select(tiny, A.mul(x, f64(2.0 ** 54)), x)
    ix = A.bits(x)
    hx = A.add(A.shr(ix, 32), u64(0x3FF00000 - 0x3FE6A09E))
    k = A.sub(A.cast(A.shr(hx, 20), "int64"), A.c("int64", 0x3FF))
    k = A.select(tiny, A.sub(k, A.c("int64", 54)), k)
    hx = A.add(A.and_(hx, u64(0x000FFFFF)), u64(0x3FE6A09E))
    m = A.from_bits(A.or_(A.shl(hx, 32), A.and_(ix, u64(0xFFFFFFFF))))
    f = A.sub(m, f64(1.0))
    hfsq = A.mul(A.mul(f64(0.5), f), f)
    s = A.div(f, A.add(f64(2.0), f))
    z = A.mul(s, s)
    w = A.mul(z, z)
    t1 = A.mul(w, A.add(f64(_LG[1]), A.mul(w, A.add(f64(_LG[3]), A.mul(w, f64(_LG[5]))))))
    t2 = A.mul(z, A.add(f64(_LG[0]), A.mul(w, A.add(f64(_LG[2]), A.mul(w, A.add(f64(_LG[4]),
                                                                                  A.mul(w, f64(_LG[6]))))))))
    r = A.add(t2, t1)
    dk = A.cast(k, "float64")
    out = A.add(A.mul(s, A.add(hfsq, r)), A.mul(dk, f64(_LN2_LO)))
    out = A.add(A.sub(out, hfsq), f)
    return A.add(out, A.mul(dk, f64(_LN2_HI)))


# -- the standard normal quantile function (Wichura, AS 241 PPND16, 1988) -------------------------
_AS241_A = (3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
            4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3)
_AS241_B = (1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
            2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3)
_AS241_C = (1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
            1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2,
            7.74545014278341407640e-4)
_AS241_D = (1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
            1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
            1.05075007164441684324e-9)
_AS241_E = (6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
            2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5,
            2.01033439929228813265e-7)
_AS241_F = (1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
            7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
            2.04426310338993978564e-15)


def _poly(A: Arith, coeffs, x):
    """coeffs[0] + coeffs[1] x + ... by Horner's rule."""
    acc = A.c("float64", coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc = A.add(A.mul(acc, x), A.c("float64", c))
    return acc


def _poly2(A: Arith, cond, coeffs_a, coeffs_b, x):
    """By Horner's rule, the polynomial with ``coeffs_a`` where ``cond`` holds, ``coeffs_b``
    elsewhere (one polynomial evaluation with each lane's coefficients)."""
    f64 = lambda v: A.c("float64", v)  # noqa: E731
    acc = A.select(cond, f64(coeffs_a[-1]), f64(coeffs_b[-1]))
    for ca, cb in zip(reversed(coeffs_a[:-1]), reversed(coeffs_b[:-1])):
        acc = A.add(A.mul(acc, x), A.select(cond, f64(ca), f64(cb)))
    return acc


def ndtri64(A: Arith, p):
    """The standard normal quantile Phi^-1(p) for float64 p (AS 241, relative error about 1e-16):
    a rational function of (p - 1/2)**2 in the centre (|p - 1/2| <= 0.425), of
    r = sqrt(-log(min(p, 1 - p))) in the tails (one pair of polynomials for r <= 5, another
    beyond).  p = 0 gives -inf, p = 1 gives inf, p outside [0, 1] and NaN give NaN.

    Each lane computes both branches (SIMD), so the tails' two rational functions share one
    evaluation with per-lane coefficients, and the quotient is one division for all three."""
    f64 = lambda v: A.c("float64", v)  # noqa: E731
    q = A.sub(p, f64(0.5))
    neg = A.cmp("<", q, f64(0.0))
    central = A.cmp("<=", A.select(neg, A.sub(f64(0.0), q), q), f64(0.425))
    r_c = A.sub(f64(0.180625), A.mul(q, q))
    num_c = A.mul(q, _poly(A, _AS241_A, r_c))
    den_c = _poly(A, _AS241_B, r_c)
    small = A.select(neg, p, A.sub(f64(1.0), p))
    ok = A.cmp(">", small, f64(0.0))
    r = A.sqrt(A.sub(f64(0.0), log64(A, A.select(ok, small, f64(0.5)))))
    near = A.cmp("<=", r, f64(5.0))
    x = A.select(near, A.sub(r, f64(1.6)), A.sub(r, f64(5.0)))
    num_t = _poly2(A, near, _AS241_C, _AS241_E, x)
    den_t = _poly2(A, near, _AS241_D, _AS241_F, x)
    num_t = A.select(neg, A.sub(f64(0.0), num_t), num_t)
    out = A.div(A.select(central, num_c, num_t), A.select(central, den_c, den_t))
    out = A.select(A.cmp("==", p, f64(0.0)), f64(-math.inf), out)
    out = A.select(A.cmp("==", p, f64(1.0)), f64(math.inf), out)
    inside = A.and_(A.cmp(">=", p, f64(0.0)), A.cmp("<=", p, f64(1.0)))  # false for NaN
    return A.select(inside, out, f64(math.nan))


# -- float32: the logarithm (fdlibm's e_logf.c) and AS 241's PPND7 ------------------------------
_LGF = (float.fromhex("0xaaaaaa.0p-24"), float.fromhex("0xccce13.0p-25"), float.fromhex("0x91e9ee.0p-25"),
        float.fromhex("0xf89e26.0p-26"))
_LN2F_HI, _LN2F_LO = 6.9313812256e-01, 9.0580006145e-06  # 0x3f317180, 0x3717f7d1


def log32(A: Arith, x):
    """log(x) for a normal float32 x > 0 in float32 arithmetic, within 1 ulp (FreeBSD's e_logf.c:
    x = 2**k * m with m in [sqrt(2)/2, sqrt(2)), f = m - 1, s = f / (2 + f),
    log(m) = f - (f*f/2 - s*(f*f/2 + R(s*s))) with a degree-4 minimax R).  Other inputs
    (0, subnormal, negative, inf, NaN) give unspecified values; callers select around them."""
    f32 = lambda v: A.c("float32", v)  # noqa: E731
    u32 = lambda v: A.c("uint32", v)  # noqa: E731
    ix = A.add(A.bits(x), u32(0x3F800000 - 0x3F3504F3))
    k = A.sub(A.cast(A.shr(ix, 23), "int32"), A.c("int32", 0x7F))
    m = A.from_bits(A.add(A.and_(ix, u32(0x007FFFFF)), u32(0x3F3504F3)))
    f = A.sub(m, f32(1.0))
    hfsq = A.mul(A.mul(f32(0.5), f), f)
    s = A.div(f, A.add(f32(2.0), f))
    z = A.mul(s, s)
    w = A.mul(z, z)
    t1 = A.mul(w, A.add(f32(_LGF[1]), A.mul(w, f32(_LGF[3]))))
    t2 = A.mul(z, A.add(f32(_LGF[0]), A.mul(w, f32(_LGF[2]))))
    r = A.add(t2, t1)
    dk = A.cast(k, "float32")
    out = A.add(A.mul(s, A.add(hfsq, r)), A.mul(dk, f32(_LN2F_LO)))
    out = A.add(A.sub(out, hfsq), f)
    return A.add(out, A.mul(dk, f32(_LN2F_HI)))


# PPND7 (Wichura 1988, AS 241, "accurate to about 1 part in 10**7"): numerator and denominator
# coefficients, constant term first, for the centre (in r = 0.180625 - q*q), the near tail
# (in r - 1.6) and the far tail (in r - 5); the tails' denominators have degree 2 (a 0 leads).
_PPND7_NUM = ((3.3871327179e+00, 5.0434271938e+01, 1.5929113202e+02, 5.9109374720e+01),
              (1.4234372777e+00, 2.7568153900e+00, 1.3067284816e+00, 1.7023821103e-01),
              (6.6579051150e+00, 3.0812263860e+00, 4.2868294337e-01, 1.7337203997e-02))
_PPND7_DEN = ((1.0, 1.7895169469e+01, 7.8757757664e+01, 6.7187563600e+01),
              (1.0, 7.3700164250e-01, 1.2021132975e-01, 0.0),
              (1.0, 2.4197894225e-01, 1.2258202635e-02, 0.0))


def _poly3(A: Arith, central, near, table, x):
    """Horner's rule with each lane's coefficients: ``table[0]`` where ``central``, else
    ``table[1]`` where ``near``, else ``table[2]`` (float32)."""
    f32 = lambda v: A.c("float32", v)  # noqa: E731

    def coeff(k):
        return A.select(central, f32(table[0][k]), A.select(near, f32(table[1][k]), f32(table[2][k])))

    acc = coeff(3)
    for k in (2, 1, 0):
        acc = A.add(A.mul(acc, x), coeff(k))
    return acc


def ndtri32(A: Arith, p):
    """The standard normal quantile Phi^-1(p) for float32 p, in float32 arithmetic: AS 241's PPND7
    (Wichura 1988), a rational function of degree 3/3 of (p - 1/2)**2 in the centre
    (|p - 1/2| <= 0.425) and of degree 3/2 of r = sqrt(-log(min(p, 1 - p))) in the tails
    (r <= 5 and beyond), with :func:`log32`.  PPND7's relative error is about 1e-7; with the
    float32 rounding, the result is within 6 ulp of the correctly rounded Phi^-1 for p in
    [2**-24, 1 - 2**-24] (tests/test_random_philox.py checks every float32 unit float).
    p = 0 gives -inf, p = 1 gives inf, p outside [0, 1] and NaN give NaN; p below the smallest
    normal float32 gives an unspecified finite value (never from :func:`unit_float32`)."""
    f32 = lambda v: A.c("float32", v)  # noqa: E731
    q = A.sub(p, f32(0.5))
    neg = A.cmp("<", q, f32(0.0))
    central = A.cmp("<=", A.select(neg, A.sub(f32(0.0), q), q), f32(0.425))
    small = A.select(neg, p, A.sub(f32(1.0), p))
    ok = A.cmp(">", small, f32(0.0))
    r = A.sqrt(A.sub(f32(0.0), log32(A, A.select(ok, small, f32(0.5)))))
    near = A.cmp("<=", r, f32(5.0))
    x = A.select(central, A.sub(f32(0.180625), A.mul(q, q)), A.select(near, A.sub(r, f32(1.6)), A.sub(r, f32(5.0))))
    num = _poly3(A, central, near, _PPND7_NUM, x)
    num = A.select(central, A.mul(q, num), A.select(neg, A.sub(f32(0.0), num), num))
    out = A.div(num, _poly3(A, central, near, _PPND7_DEN, x))
    out = A.select(A.cmp("==", p, f32(0.0)), f32(-math.inf), out)
    out = A.select(A.cmp("==", p, f32(1.0)), f32(math.inf), out)
    inside = A.and_(A.cmp(">=", p, f32(0.0)), A.cmp("<=", p, f32(1.0)))  # false for NaN
    return A.select(inside, out, f32(math.nan))


# -- Poisson ---------------------------------------------------------------------------------------
POISSON_LAM_MAX = 1e15
"""The largest rate the Poisson sampler accepts (the counts stay exact in float64)."""
POISSON_PTRS_MIN = 10.0
"""From this rate on, Hormann's PTRS; below it, exponential spacings."""

_LOGGAM_A = (8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04, -5.952380952380952e-04,
             8.417508417508418e-04, -1.917526917526918e-03, 6.410256410256410e-03, -2.955065359477124e-02,
             1.796443723688307e-01, -1.39243221690590e+00)
_HALF_LOG_2PI = 0.9189385332046727


def loggam64(A: Arith, x):
    """log(Gamma(x)) for float64 x >= 1 (NumPy's random_loggam: Stirling's series at x + n >= 7,
    then log(Gamma(x)) = log(Gamma(x + n)) - log(x (x+1) ... (x+n-1)))."""
    f64 = lambda v: A.c("float64", v)  # noqa: E731
    n = A.select(A.cmp("<", x, f64(7.0)), A.floor(A.sub(f64(7.0), x)), f64(0.0))
    x0 = A.add(x, n)
    x2 = A.div(f64(1.0), A.mul(x0, x0))
    gl0 = f64(_LOGGAM_A[9])
    for k in range(8, -1, -1):
        gl0 = A.add(A.mul(gl0, x2), f64(_LOGGAM_A[k]))
    gl = A.add(A.sub(A.add(A.div(gl0, x0), f64(_HALF_LOG_2PI)), x0), A.mul(A.sub(x0, f64(0.5)), log64(A, x0)))
    for k in range(1, 8):  # n < 7 steps, applied where k <= n
        x0 = A.sub(x0, f64(1.0))
        gl = A.select(A.cmp("<=", f64(float(k)), n), A.sub(gl, log64(A, x0)), gl)
    one_or_two = A.cmp("<=", A.mul(A.sub(x, f64(1.0)), A.sub(x, f64(2.0))), f64(0.0))  # x in [1, 2]: exact 0 at 1, 2
    return A.select(A.and_(one_or_two, A.cmp("==", A.floor(x), x)), f64(0.0), gl)


def poisson(A: Arith, lam, draw):
    """A Poisson(lam) count (int64) for float64 ``lam``; ``draw(j)`` gives the four uint32 words of
    attempt ``j`` (a uint64 value) of this element.

    Below :data:`POISSON_LAM_MAX` = 1e15 and for lam >= 0: exponential spacings for lam < 10
    (count the sums of -log(u) that stay below lam; about lam + 1 attempts), Hormann's PTRS
    (transformed rejection with squeeze, 1993; NumPy's algorithm) above (1.1 to 1.2 attempts on
    average).  Other rates (negative, NaN, too large) give -1.
    """
    f64 = lambda v: A.c("float64", v)  # noqa: E731
    valid = A.and_(A.cmp(">=", lam, f64(0.0)), A.cmp("<", lam, f64(POISSON_LAM_MAX)))
    lam = A.select(valid, lam, f64(0.0))
    big = A.cmp(">=", lam, f64(POISSON_PTRS_MIN))
    lam_b = A.select(big, lam, f64(POISSON_PTRS_MIN))
    slam = A.sqrt(lam_b)
    loglam = log64(A, lam_b)
    b = A.add(f64(0.931), A.mul(f64(2.53), slam))
    a = A.add(f64(-0.059), A.mul(f64(0.02483), b))
    log_invalpha = log64(A, A.add(f64(1.1239), A.div(f64(1.1328), A.sub(b, f64(3.4)))))
    vr = A.sub(f64(0.9277), A.div(f64(3.6224), A.sub(b, f64(2.0))))

    def cond(state):
        return A.cmp("==", state[0], A.c("int64", 0))

    def body(state):
        _, j, k_small, t_small, result = state
        w = draw(j)
        u1 = unit_float64(A, w[0], w[1])
        u2 = unit_float64(A, w[2], w[3])
        # exponential spacings: one more arrival at time t + (-log u1)
        t_new = A.sub(t_small, log64(A, u1))
        past = A.cmp(">", t_new, lam)
        # PTRS
        U = A.sub(u1, f64(0.5))
        V = u2
        absU = A.select(A.cmp("<", U, f64(0.0)), A.sub(f64(0.0), U), U)
        us = A.sub(f64(0.5), absU)
        kf = A.floor(A.add(A.add(A.mul(A.add(A.div(A.mul(f64(2.0), a), us), b), U), lam_b), f64(0.43)))
        quick = A.and_(A.cmp(">=", us, f64(0.07)), A.cmp("<=", V, vr))
        reject = A.or_(A.cmp("<", kf, f64(0.0)), A.and_(A.cmp("<", us, f64(0.013)), A.cmp(">", V, us)))
        kpos = A.select(A.cmp("<", kf, f64(0.0)), f64(0.0), kf)
        lhs = A.sub(A.add(log64(A, V), log_invalpha), log64(A, A.add(A.div(a, A.mul(us, us)), b)))
        rhs = A.sub(A.add(A.sub(f64(0.0), lam_b), A.mul(kpos, loglam)), loggam64(A, A.add(kpos, f64(1.0))))
        accept = A.or_(quick, A.and_(A.cmp("==", reject, A.c("bool", False)), A.cmp("<=", lhs, rhs)))
        done = A.select(big, accept, past)
        value = A.select(big, A.cast(kpos, "int64"), k_small)
        one = A.c("int64", 1)
        return [A.select(done, one, A.c("int64", 0)), A.add(j, A.c("uint64", 1)),
                A.add(k_small, one), t_new, A.select(done, value, result)]

    zero64 = A.c("int64", 0)
    # A zero rate needs no draw: its loop is already done (with the count 0).
    start_done = A.select(A.and_(valid, A.cmp(">", lam, f64(0.0))), zero64, A.c("int64", 1))
    state = A.while_(cond, body, [start_done, A.c("uint64", 0), zero64, f64(0.0), zero64])
    return A.select(valid, state[4], A.c("int64", -1))


# -- binomial --------------------------------------------------------------------------------------
BINOMIAL_BTRS_MIN = 10.0
"""From this mean n * min(p, 1 - p) on, Hormann's BTRS; below it, geometric waiting times."""
BINOMIAL_N_MAX = 2 ** 53
"""The binomial sampler's bound on n (exclusive): counts stay exact in float64."""


def binomial(A: Arith, n, p, draw):
    """A Binomial(n, p) count (int64) for int64 ``n`` and float64 ``p``; ``draw(j)`` gives the four
    uint32 words of attempt ``j`` (a uint64 value) of this element.

    With s = min(p, 1 - p) (p > 1/2 draws Binomial(n, 1 - p) and returns n minus it):

    * n s < 10: geometric waiting times.  The trials up to and including the next success number
      floor(log(u) / log(1 - s)) + 1 (Geometric(s)); successes are counted while their trial
      stays within n (about n s + 1 attempts).  log(1 - s) is log(q) * -s / (q - 1) for the
      rounded q = 1 - s (Goldberg's log1p), -s where q rounds to 1.
    * n s >= 10: Hormann's BTRS (transformed rejection with squeeze, "The generation of binomial
      random variates", J. Statist. Comput. Simul. 46, 1993; TensorFlow's sampler), 1.1 to 1.2
      attempts on average, with :func:`loggam64` for the log factorials.

    n = 0 or s = 0 gives the certain count with no draw; n < 0, n >= 2**53, p outside [0, 1]
    and NaN give -1.
    """
    f64 = lambda v: A.c("float64", v)  # noqa: E731
    valid = A.and_(A.and_(A.cmp(">=", n, A.c("int64", 0)), A.cmp("<", n, A.c("int64", BINOMIAL_N_MAX))),
                   A.and_(A.cmp(">=", p, f64(0.0)), A.cmp("<=", p, f64(1.0))))
    nf = A.select(valid, A.cast(n, "float64"), f64(0.0))
    pv = A.select(valid, p, f64(0.0))
    flip = A.cmp(">", pv, f64(0.5))
    s = A.select(flip, A.sub(f64(1.0), pv), pv)
    big = A.cmp(">=", A.mul(nf, s), f64(BINOMIAL_BTRS_MIN))
    # BTRS's constants (lanes on the other path compute them for n = 40, s = 1/2: all finite)
    sb = A.select(big, s, f64(0.5))
    nb = A.select(big, nf, f64(40.0))
    qb = A.sub(f64(1.0), sb)
    spq = A.sqrt(A.mul(A.mul(nb, sb), qb))
    b = A.add(f64(1.15), A.mul(f64(2.53), spq))
    a = A.add(A.add(f64(-0.0873), A.mul(f64(0.0248), b)), A.mul(f64(0.01), sb))
    c = A.add(A.mul(nb, sb), f64(0.5))
    vr = A.sub(f64(0.92), A.div(f64(4.2), b))
    alpha = A.mul(A.add(f64(2.83), A.div(f64(5.1), b)), spq)
    lpq = log64(A, A.div(sb, qb))
    m = A.floor(A.mul(A.add(nb, f64(1.0)), sb))
    h = A.add(loggam64(A, A.add(m, f64(1.0))), loggam64(A, A.add(A.sub(nb, m), f64(1.0))))
    # the waiting times' log(1 - s)
    q = A.sub(f64(1.0), s)
    exact_one = A.cmp("==", q, f64(1.0))
    q_safe = A.select(exact_one, f64(0.5), q)
    logq = A.select(exact_one, A.sub(f64(0.0), s),
                    A.div(A.mul(log64(A, q_safe), A.sub(f64(0.0), s)), A.sub(q_safe, f64(1.0))))

    def cond(state):
        return A.cmp("==", state[0], A.c("int64", 0))

    def body(state):
        _, j, count, trial, result = state
        w = draw(j)
        u1 = unit_float64(A, w[0], w[1])
        u2 = unit_float64(A, w[2], w[3])
        # waiting times: the trial of the next success
        gap = A.add(A.floor(A.div(log64(A, u1), logq)), f64(1.0))
        trial_new = A.add(trial, gap)
        past = A.cmp(">", trial_new, nf)
        # BTRS
        U = A.sub(u1, f64(0.5))
        absU = A.select(A.cmp("<", U, f64(0.0)), A.sub(f64(0.0), U), U)
        us = A.sub(f64(0.5), absU)
        kf = A.floor(A.add(A.mul(A.add(A.div(A.mul(f64(2.0), a), us), b), U), c))
        outside = A.or_(A.cmp("<", kf, f64(0.0)), A.cmp(">", kf, nb))
        kc = A.select(A.cmp("<", kf, f64(0.0)), f64(0.0), A.select(A.cmp(">", kf, nb), nb, kf))
        quick = A.and_(A.cmp(">=", us, f64(0.07)), A.cmp("<=", u2, vr))
        lhs = log64(A, A.div(A.mul(u2, alpha), A.add(A.div(a, A.mul(us, us)), b)))
        rhs = A.add(A.sub(A.sub(h, loggam64(A, A.add(kc, f64(1.0)))), loggam64(A, A.add(A.sub(nb, kc), f64(1.0)))),
                    A.mul(A.sub(kc, m), lpq))
        accept = A.and_(A.cmp("==", outside, A.c("bool", False)), A.or_(quick, A.cmp("<=", lhs, rhs)))
        done = A.select(big, accept, past)
        value = A.select(big, kc, count)
        return [A.select(done, A.c("int64", 1), A.c("int64", 0)), A.add(j, A.c("uint64", 1)),
                A.add(count, f64(1.0)), trial_new, A.select(done, value, result)]

    certain = A.or_(A.cmp("==", nf, f64(0.0)), A.cmp("==", s, f64(0.0)))
    start_done = A.select(A.and_(valid, A.cmp("==", certain, A.c("bool", False))), A.c("int64", 0), A.c("int64", 1))
    state = A.while_(cond, body, [start_done, A.c("uint64", 0), f64(0.0), f64(0.0), f64(0.0)])
    k = A.cast(state[4], "int64")
    k = A.select(flip, A.sub(A.cast(nf, "int64"), k), k)
    return A.select(valid, k, A.c("int64", -1))


# -- the reference: NumPy arrays -----------------------------------------------------------------
class NumpyArith(Arith):
    """:class:`Arith` on NumPy arrays (and NumPy scalars): the reference semantics."""

    def c(self, dt, value):
        return np.asarray(value, dtype=dt)

    def add(self, a, b):
        return np.add(a, b, dtype=np.result_type(a, b))

    def sub(self, a, b):
        return np.subtract(a, b, dtype=np.result_type(a, b))

    def mul(self, a, b):
        return np.multiply(a, b, dtype=np.result_type(a, b))

    def div(self, a, b):
        return np.true_divide(a, b)

    def sqrt(self, a):
        return np.sqrt(a)

    def floor(self, a):
        return np.floor(a)

    def and_(self, a, b):
        return np.bitwise_and(a, b)

    def or_(self, a, b):
        return np.bitwise_or(a, b)

    def xor(self, a, b):
        return np.bitwise_xor(a, b)

    def shr(self, a, k):
        return np.right_shift(a, np.asarray(k, a.dtype))

    def shl(self, a, k):
        return np.left_shift(a, np.asarray(k, a.dtype))

    def mulhilo32(self, a, b):
        p = np.multiply(np.asarray(a, np.uint64), np.asarray(b, np.uint64))
        return (p >> np.uint64(32)).astype(np.uint32), p.astype(np.uint32)

    def cast(self, a, dt):
        return np.asarray(a).astype(dt)

    def bits(self, a):
        a = np.asarray(a)
        if a.dtype == np.float32:
            return np.ascontiguousarray(a).view(np.uint32)
        return np.ascontiguousarray(a, np.float64).view(np.uint64)

    def from_bits(self, a):
        a = np.asarray(a)
        if a.dtype == np.uint32:
            return np.ascontiguousarray(a).view(np.float32)
        return np.ascontiguousarray(a, np.uint64).view(np.float64)

    def cmp(self, pred, a, b):
        return {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
                "==": np.equal, "!=": np.not_equal}[pred](a, b)

    def select(self, cond, a, b):
        return np.where(cond, a, b)

    def while_(self, cond, body, state):
        shape = np.broadcast_shapes(*[np.shape(s) for s in state])
        state = [np.array(np.broadcast_to(s, shape)) for s in state]
        active = np.asarray(cond(state), bool)
        while active.any():
            new = body(state)
            state = [np.where(active, n, s).astype(s.dtype) for n, s in zip(new, state)]
            active = np.asarray(cond(state), bool) & active
        return state


NUMPY = NumpyArith()
