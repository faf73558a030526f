"""exp(x) on SIMD vectors, emitted inline as LLVM IR (no call).

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
* 2**n as two powers of two built in the exponent field, 2**(n>>1) and
  2**(n - (n>>1)), so that results down to the smallest subnormal and up to
  overflow are scaled exactly and rounded once;
* NaN lanes return the input.

Accuracy: 0.83 ULP (float64) and 0.83 ULP (float32) at worst in 9,000 random arguments per
type against mpmath; tests/test_simd_math.py checks <= 4 ULP over the domain and the special
values and thresholds exactly.
"""

from __future__ import annotations

import math

from llvmlite import ir

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


def _intrinsic(module: ir.Module, name: str, t: ir.Type, nargs: int) -> ir.Function:
    fn = module.globals.get(name)
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(t, [t] * nargs), name)
    return fn


def _has_avx512f() -> bool:
    from symcomp.backends.cpu.jit import target

    return "+avx512f" in target().features.split(",")


def supported(t: ir.Type) -> bool:
    """Whether :func:`emit` handles values of type ``t`` (vectors of float or double)."""
    return isinstance(t, ir.VectorType) and isinstance(t.element, (ir.FloatType, ir.DoubleType))


def emit(b: ir.IRBuilder, x: ir.Value) -> ir.Value:
    """exp(x) for a vector ``x`` of float or double, elementwise, as inline instructions.

    Raises:
        TypeError: for any other type (see :func:`supported`).
    """
    t = x.type
    if not supported(t):
        raise TypeError(f"vexp.emit: expected a vector of float or double, got {t}")
    p = _PARAMS["float" if isinstance(t.element, ir.FloatType) else "double"]
    n_lanes = t.count
    suffix = f"v{n_lanes}{'f32' if p['bits'] == 32 else 'f64'}"
    module = b.module
    fma = _intrinsic(module, f"llvm.fma.{suffix}", t, 3)
    maxnum = _intrinsic(module, f"llvm.maxnum.{suffix}", t, 2)
    minnum = _intrinsic(module, f"llvm.minnum.{suffix}", t, 2)
    rint = _intrinsic(module, f"llvm.roundeven.{suffix}", t, 1)

    def splat(v: float) -> ir.Constant:
        return ir.Constant(t, [v] * n_lanes)

    it = ir.VectorType(ir.IntType(p["bits"]), n_lanes)

    def isplat(v: int) -> ir.Constant:
        return ir.Constant(it, [v] * n_lanes)

    xc = b.call(minnum, [b.call(maxnum, [x, splat(p["lo"])]), splat(p["hi"])])
    n = b.call(rint, [b.fmul(xc, splat(1.0 / math.log(2.0)))])
    neg_n = b.fneg(n)
    r = b.call(fma, [neg_n, splat(p["ln2_hi"]), xc])
    r = b.call(fma, [neg_n, splat(p["ln2_lo"]), r])
    poly = splat(p["poly"][0])  # Horner's rule
    for c in p["poly"][1:]:
        poly = b.call(fma, [poly, r, splat(c)])
    if n_lanes * p["bits"] == 512 and _has_avx512f():
        # AVX-512's vscalef: poly * 2**n in one instruction, rounded once, overflow and underflow included.
        kind = "pd" if p["bits"] == 64 else "ps"
        mask_t = ir.IntType(n_lanes)
        scalef = module.globals.get(f"llvm.x86.avx512.mask.scalef.{kind}.512")
        if scalef is None:
            scalef = ir.Function(module, ir.FunctionType(t, [t, t, t, mask_t, ir.IntType(32)]),
                                 f"llvm.x86.avx512.mask.scalef.{kind}.512")
        y = b.call(scalef, [poly, n, ir.Constant(t, ir.Undefined), ir.Constant(mask_t, -1), ir.Constant(ir.IntType(32), 4)])
        return b.select(b.fcmp_unordered("uno", x, x), x, y)
    ni = b.fptosi(n, it)
    k1 = b.ashr(ni, isplat(1))
    k2 = b.sub(ni, k1)
    s1 = b.bitcast(b.shl(b.add(k1, isplat(p["bias"])), isplat(p["mant"])), t)
    s2 = b.bitcast(b.shl(b.add(k2, isplat(p["bias"])), isplat(p["mant"])), t)
    y = b.fmul(b.fmul(poly, s1), s2)
    return b.select(b.fcmp_unordered("uno", x, x), x, y)
