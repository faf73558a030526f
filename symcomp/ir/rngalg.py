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
    ``while_`` runs ``body`` on the lanes where ``cond`` holds until it holds on none.
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
        return np.ascontiguousarray(a, np.float64).view(np.uint64)

    def from_bits(self, a):
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
