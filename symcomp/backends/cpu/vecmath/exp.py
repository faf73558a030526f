"""exp, expm1 and tanh on SIMD vectors, emitted inline as LLVM IR (no call).

A call to libmvec's ``_ZGVeN8v_exp`` costs a vector-ABI call per 8 lanes and keeps
the loop's live vectors in memory around it; inline code is scheduled with the
rest of the loop body (``sum(exp(x))`` over 1e7 float64: see docs/performance.md).

Algorithm (Cody & Waite range reduction; Tang, "Table-driven implementation of
the exponential function in IEEE floating-point arithmetic", ACM TOMS 15(2), 1989,
without the table; the same scheme as Sleef's and XLA's polynomial exp):

* clamp x to [lo, hi], just beyond the underflow-to-zero and overflow-to-inf
  thresholds (so that the integer conversion below cannot overflow);
* n = roundeven(x / ln 2), r = x - n*ln2_hi - n*ln2_lo with fused multiply-adds
  (ln2_hi has trailing zero bits, so n*ln2_hi is exact), |r| <= ln(2)/2;
* exp(r) by a polynomial in Horner form, 1 + r + r**2 * g(r) with g a Chebyshev
  fit (degree 11 in all for float64, 6 for float32; see ``_PARAMS``);
* 2**n with AVX-512's vscalef, or else as two powers of two built in the
  exponent field, 2**trunc(n/2) and 2**(n - trunc(n/2)), so that results down to
  the smallest subnormal and up to overflow are scaled exactly and rounded once;
* NaN lanes return the input.

expm1 and tanh reuse the reduction (see :func:`emit_expm1`, :func:`emit_tanh`).

Accuracy, worst case against mpmath over 9,000 random arguments per function and type:
exp 0.83 ULP (float64 and float32), expm1 1.87 / 1.34 ULP, tanh 2.31 / 2.52 ULP;
tests/test_simd_math.py checks <= 4 ULP over each domain and the special values and
thresholds exactly.
"""

from __future__ import annotations

import math

from llvmlite import ir

from symcomp.backends.cpu.codegen.splat import splat_constant

# Per element type: clamp bounds, ln2 split, exponent bias, mantissa bits, and the polynomial
# p(r) = 1 + r + r**2 * g(r), highest coefficient first, where g approximates (expm1(r) - r) / r**2
# on [-ln(2)/2, ln(2)/2]: mpmath.chebyfit at 80 digits, degree 9 for float64 (max error of
# p 1.3e-17 relative, 0.1 ULP) and degree 4 for float32 (7.8e-9, 0.13 ULP).  The two trailing
# coefficients are exactly 1, so exp(0) is exactly 1.
_PARAMS = {
    "double": dict(lo=-746.0, hi=710.0, ln2_hi=6.93147180369123816490e-01, ln2_lo=1.90821492927058770002e-10,
                   bias=1023, mant=52, bits=64,
                   poly=(2.5100375832561234e-08, 2.7620075879983367e-07, 2.7557268480310024e-06,
                         2.4801521322368692e-05, 0.00019841269863040545, 0.0013888888917196719,
                         0.008333333333330065, 0.041666666666624164, 0.16666666666666669, 0.5000000000000001,
                         1.0, 1.0)),
    "float": dict(lo=-104.0, hi=89.0, ln2_hi=0.693145751953125, ln2_lo=1.428606765330187045e-06,
                  bias=127, mant=23, bits=32,
                  poly=(0.001392617611993558, 0.008363173074513711, 0.041666554662050534, 0.1666657702559799,
                        0.5, 1.0, 1.0)),
}


def _has_avx512f() -> bool:
    from symcomp.backends.cpu.toolchain.machine import target

    return "+avx512f" in target().features.split(",")


def supported(t: ir.Type) -> bool:
    """Whether the functions of this module handle values of type ``t`` (vectors of float or double)."""
    return isinstance(t, ir.VectorType) and isinstance(t.element, (ir.FloatType, ir.DoubleType))


class _Emitter:
    """Shared pieces of the exp family for one vector type: constants, intrinsics, the reduction."""

    def __init__(self, b: ir.IRBuilder, t: ir.Type, what: str):
        if not supported(t):
            raise TypeError(f"{what}: expected a vector of float or double, got {t}")
        self.b, self.t = b, t
        self.p = _PARAMS["float" if isinstance(t.element, ir.FloatType) else "double"]
        self.lanes = t.count
        self.it = ir.VectorType(ir.IntType(self.p["bits"]), self.lanes)

    def splat(self, v: float) -> ir.Constant:
        return splat_constant(self.t.element, v, self.lanes)

    def isplat(self, v: int) -> ir.Constant:
        return splat_constant(self.it.element, v, self.lanes)

    def call(self, name: str, *args: ir.Value) -> ir.Value:
        """The LLVM intrinsic ``llvm.<name>`` on this vector type."""
        from symcomp.backends.cpu.vecmath.libcalls import intrinsic  # libcalls dispatches to this module

        return intrinsic(self.b, f"llvm.{name}", *args)

    def clamp(self, x: ir.Value, lo: float, hi: float) -> ir.Value:
        """x clamped to [lo, hi]; NaN becomes hi (``llvm.minnum``/``maxnum`` drop NaN)."""
        return self.call("minnum", self.call("maxnum", x, self.splat(lo)), self.splat(hi))

    def native_512(self) -> bool:
        """Whether this vector type fills one AVX-512 register: then :meth:`scale` is ``vscalef``
        (NaN in, NaN out) and :meth:`min_keeping_nan` applies."""
        return self.lanes * self.p["bits"] == 512 and _has_avx512f()

    def _x86(self, op: str, limit: float, v: ir.Value) -> ir.Value:
        from symcomp.backends.cpu.vecmath.libcalls import declare  # libcalls dispatches to this module

        kind = "pd" if self.p["bits"] == 64 else "ps"
        fn = declare(self.b.module, f"llvm.x86.avx512.{op}.{kind}.512", self.t, [self.t, self.t, ir.IntType(32)])
        return self.b.call(fn, [self.splat(limit), v, ir.Constant(ir.IntType(32), 4)])

    def min_keeping_nan(self, limit: float, v: ir.Value) -> ir.Value:
        """min(limit, v), NaN where v is NaN, for :meth:`native_512` types: AVX-512's ``vminps``
        and ``vminpd`` return their second operand when either is NaN, so one instruction
        (``llvm.minnum`` returns the limit, and then NaN needs a compare and a select)."""
        return self._x86("min", limit, v)

    def clamp_keeping_nan(self, x: ir.Value, lo: float, hi: float) -> ir.Value:
        """x clamped to [lo, hi], NaN where x is NaN, for :meth:`native_512` types (two instructions)."""
        return self.min_keeping_nan(hi, self._x86("max", lo, x))

    def reduce(self, xc: ir.Value) -> tuple[ir.Value, ir.Value]:
        """(n, r): n = roundeven(x / ln 2), r = x - n ln 2 (|r| <= ln(2)/2)."""
        b = self.b
        n = self.call("roundeven", b.fmul(xc, self.splat(1.0 / math.log(2.0))))
        neg_n = b.fneg(n)
        r = self.call("fma", neg_n, self.splat(self.p["ln2_hi"]), xc)
        return n, self.call("fma", neg_n, self.splat(self.p["ln2_lo"]), r)

    def horner(self, coeffs, r: ir.Value) -> ir.Value:
        acc = self.splat(coeffs[0])
        for c in coeffs[1:]:
            acc = self.call("fma", acc, r, self.splat(c))
        return acc

    def pow2(self, n: ir.Value) -> ir.Value:
        """2**n, exact, for integral n in the normal exponent range."""
        b, p = self.b, self.p
        ni = b.fptosi(n, self.it)
        return b.bitcast(b.shl(b.add(ni, self.isplat(p["bias"])), self.isplat(p["mant"])), self.t)

    def scale(self, v: ir.Value, n: ir.Value) -> ir.Value:
        """v * 2**n rounded once, for n down to below the subnormals and up to overflow."""
        b, t = self.b, self.t
        if self.lanes * self.p["bits"] == 512 and _has_avx512f():
            # AVX-512's vscalef: one instruction, overflow and underflow included.
            kind = "pd" if self.p["bits"] == 64 else "ps"
            mask_t = ir.IntType(self.lanes)
            name = f"llvm.x86.avx512.mask.scalef.{kind}.512"
            fn = b.module.globals.get(name)
            if fn is None:
                fn = ir.Function(b.module, ir.FunctionType(t, [t, t, t, mask_t, ir.IntType(32)]), name)
            return b.call(fn, [v, n, ir.Constant(t, ir.Undefined), ir.Constant(mask_t, -1), ir.Constant(ir.IntType(32), 4)])
        half = self.call("trunc", b.fmul(n, self.splat(0.5)))
        return b.fmul(b.fmul(v, self.pow2(half)), self.pow2(b.fsub(n, half)))

    def expm1_reduced(self, n: ir.Value, r: ir.Value) -> tuple[ir.Value, ir.Value]:
        """(expm1 of n ln2 + r, q) for n in the normal exponent range, where exp(r) - 1 = q r:
        fma(2**n q, r, 2**n - 1), the product 2**n q exact, so rounded once (no cancellation
        near 0).  For n above the mantissa width the -1 is lost (see :func:`emit_expm1`)."""
        b = self.b
        q = self.horner(self.p["poly"][:-1], r)
        s = self.pow2(n)
        return self.call("fma", b.fmul(s, q), r, b.fsub(s, self.splat(1.0))), q

    def nan_through(self, x: ir.Value, y: ir.Value) -> ir.Value:
        return self.b.select(self.b.fcmp_unordered("uno", x, x), x, y)


def emit(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """exp(x) for a vector ``x`` of float or double, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type (see :func:`supported`).
    """
    e = _Emitter(b, x.type, "exp.emit")
    if e.native_512():  # NaN flows through the clamp, the reduction and vscalef
        n, r = e.reduce(e.clamp_keeping_nan(x, e.p["lo"], e.p["hi"]))
        return e.scale(e.horner(e.p["poly"], r), n)
    n, r = e.reduce(e.clamp(x, e.p["lo"], e.p["hi"]))
    return e.nan_through(x, e.scale(e.horner(e.p["poly"], r), n))


def emit_expm1(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """expm1(x) = exp(x) - 1 for a vector ``x`` of float or double, accurate near 0.

    With the reduction of :func:`emit`, expm1(x) = 2**n * em + (2**n - 1) where em = exp(r) - 1
    = q r with q = 1 + r g(r) is computed without the constant term (no cancellation), as
    fma(2**n q, r, 2**n - 1); for n above the mantissa width, exp(x) - 1 (fdlibm's expm1 splits the same way).
    ±0 returns itself.

    Raises:
        TypeError: for any other type (see :func:`supported`).
    """
    e = _Emitter(b, x.type, "exp.emit_expm1")
    p = e.p
    n, r = e.reduce(e.clamp(x, p["lo"], p["hi"]))
    lim = float(p["mant"] + 1)
    small, q = e.expm1_reduced(e.clamp(n, -lim - 8, lim + 8), r)
    big = b.fsub(e.scale(e.call("fma", q, r, e.splat(1.0)), n), e.splat(1.0))
    y = b.select(b.fcmp_ordered(">", n, e.splat(lim)), big, small)
    y = b.select(b.fcmp_ordered("==", x, e.splat(0.0)), x, y)
    return e.nan_through(x, y)


def emit_tanh(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """tanh(x) = t / (t + 2) with t = expm1(2|x|), the sign of x restored (no cancellation for
    small |x|: t ~ 2|x|); |x| is clamped where tanh rounds to 1 (20 for float64, 9 for float32).

    The clamp bounds n = roundeven(2|x| / ln 2) to [0, 58], so expm1 needs neither its argument
    clamp nor its branch for large n (:func:`emit_expm1`): fma(2**n q, r, 2**n - 1) loses only the
    -1 once n exceeds the mantissa width, where t / (t + 2) rounds the same.

    Raises:
        TypeError: for any other type (see :func:`supported`).
    """
    e = _Emitter(b, x.type, "exp.emit_tanh")
    a = e.call("minnum", e.call("fabs", x), e.splat(20.0 if e.p["bits"] == 64 else 9.0))
    t, _ = e.expm1_reduced(*e.reduce(b.fadd(a, a)))
    y = b.fdiv(t, b.fadd(t, e.splat(2.0)))
    return e.nan_through(x, e.call("copysign", y, x))
