"""Vectorized math on the CPU: SIMD instructions in the hot loop, accuracy in ULPs against mpmath,
exact special values.

Transcendental functions in vector loops call glibc's libmvec (``_ZGV*``
symbols), except exp, expm1 and tanh (symcomp.backends.cpu.vecmath.exp), log and log1p (vecmath.log), sin and
cos (vecmath.trig) and, for float32 with AVX-512, erf (vecmath.erf), emitted inline; these tests hold the generated code to <= 4 ULP over each
function's domain (sampled log-uniformly from tiny to huge magnitudes) and to
exact IEEE results at the special points (signed zeros, infinities, NaN,
subnormals, overflow and underflow thresholds).
"""

import contextlib
import inspect
import re
import zlib

import mpmath
import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.toolchain import machine

mpmath.mp.prec = 160

FUNCS = {
    "exp": (T.exp, mpmath.exp),
    "log": (T.log, mpmath.log),
    "log1p": (T.log1p, mpmath.log1p),
    "expm1": (T.expm1, mpmath.expm1),
    "sin": (T.sin, mpmath.sin),
    "cos": (T.cos, mpmath.cos),
    "tanh": (T.tanh, mpmath.tanh),
    "erf": (T.erf, mpmath.erf),
    "erfc": (T.erfc, mpmath.erfc),
    "sigmoid": (T.nnet.sigmoid, lambda x: 1 / (1 + mpmath.exp(-x))),
    "softplus": (T.nnet.softplus, lambda x: mpmath.log1p(mpmath.exp(x))),
}
# (smallest, largest magnitude, negative arguments too) per function and dtype.
DOMAIN = {
    "float64": {"exp": (1e-300, 709.7, True), "log": (1e-307, 1e308, False), "log1p": (1e-300, 1e308, False),
                "expm1": (1e-300, 709.7, True), "sin": (1e-300, 1e5, True), "cos": (1e-300, 1e5, True),
                "tanh": (1e-300, 40.0, True), "erf": (1e-300, 7.0, True), "erfc": (1e-300, 27.0, True), "sigmoid": (1e-300, 800.0, True),
                "softplus": (1e-300, 800.0, True)},
    "float32": {"exp": (1e-37, 88.7, True), "log": (1e-37, 3e38, False), "log1p": (1e-37, 3e38, False),
                "expm1": (1e-37, 88.7, True), "sin": (1e-37, 1e4, True), "cos": (1e-37, 1e4, True),
                "tanh": (1e-37, 20.0, True), "erf": (1e-37, 5.0, True), "erfc": (1e-37, 10.5, True), "sigmoid": (1e-37, 110.0, True),
                "softplus": (1e-37, 110.0, True)},
}
N_SAMPLES = 600  # per function and dtype: ~25k mpmath evaluations in all


def ulps(got: np.ndarray, exact: list, dtype) -> np.ndarray:
    """|got - exact| in units in the last place of ``exact`` (subnormal spacing below the normal range)."""
    fi = np.finfo(dtype)
    out = np.zeros(len(got))
    for i, (g, e) in enumerate(zip(got, exact)):
        if mpmath.isnan(e):
            out[i] = 0.0 if np.isnan(g) else np.inf
            continue
        if e == 0:
            out[i] = float(abs(g)) / float(fi.smallest_subnormal)
            continue
        if abs(e) > fi.max:
            out[i] = 0.0 if np.isinf(g) and (g > 0) == (e > 0) else np.inf
            continue
        expo = max(int(mpmath.floor(mpmath.log(abs(e), 2))), int(fi.minexp))
        out[i] = float(abs(mpmath.mpf(float(g)) - e) / mpmath.ldexp(1, expo - int(fi.nmant))) if np.isfinite(g) \
            else np.inf
    return out


def _samples(name, dtype):
    lo, hi, signed = DOMAIN[dtype][name]
    rng = np.random.default_rng(zlib.crc32(f"{name}/{dtype}".encode()))
    mags = 10 ** rng.uniform(np.log10(lo), np.log10(hi), N_SAMPLES)
    # denser near 0..2, where the polynomials and reductions switch regimes
    mags[: N_SAMPLES // 4] = rng.uniform(0, 2, N_SAMPLES // 4)
    x = mags * (rng.choice([-1.0, 1.0], N_SAMPLES) if signed else 1.0)
    if name == "log1p":
        x[: N_SAMPLES // 8] = -rng.uniform(0, 1, N_SAMPLES // 8)
    return x.astype(dtype)


_compiled: dict = {}


def _fn(name, dtype):
    key = (name, dtype)
    if key not in _compiled:
        x = T.tensor(dtype, (None,), "x")
        _compiled[key] = symcomp.function([x], FUNCS[name][0](x))
    return _compiled[key]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(FUNCS))
def test_accuracy_within_4_ulp(name, dtype):
    x = _samples(name, dtype)
    got = _fn(name, dtype)(x)
    exact = [FUNCS[name][1](mpmath.mpf(float(v))) for v in x]
    err = ulps(got, exact, dtype)
    worst = int(np.argmax(err))
    assert err[worst] <= 4.0, f"{name}({x[worst]!r}) = {got[worst]!r}: {err[worst]:.2f} ULP (exact {exact[worst]})"


INF, NAN = np.inf, np.nan
# (argument, exact result) per function; signs of zeros are checked.
SPECIAL = {
    "exp": [(0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, 0.0), (NAN, NAN), ("tiny", 1.0), ("-tiny", 1.0)],
    "log": [(0.0, -INF), (-0.0, -INF), (1.0, 0.0), (INF, INF), (-1.0, NAN), (-INF, NAN), (NAN, NAN)],
    "log1p": [(0.0, 0.0), (-0.0, -0.0), (-1.0, -INF), (INF, INF), (-2.0, NAN), (NAN, NAN), ("tiny", "tiny"),
              ("-tiny", "-tiny")],
    "expm1": [(0.0, 0.0), (-0.0, -0.0), (INF, INF), (-INF, -1.0), (NAN, NAN), ("tiny", "tiny"), ("-tiny", "-tiny")],
    "sin": [(0.0, 0.0), (-0.0, -0.0), (INF, NAN), (-INF, NAN), (NAN, NAN), ("tiny", "tiny"), ("-tiny", "-tiny")],
    "cos": [(0.0, 1.0), (-0.0, 1.0), (INF, NAN), (-INF, NAN), (NAN, NAN), ("tiny", 1.0)],
    "tanh": [(0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0), (NAN, NAN), ("tiny", "tiny"), ("-tiny", "-tiny"),
             ("max", 1.0), ("-max", -1.0)],
    "erf": [(0.0, 0.0), (-0.0, -0.0), (INF, 1.0), (-INF, -1.0), (NAN, NAN), ("max", 1.0), ("-max", -1.0)],
    "erfc": [(0.0, 1.0), (-0.0, 1.0), (INF, 0.0), (-INF, 2.0), (NAN, NAN), ("max", 0.0), ("-max", 2.0),
             ("tiny", 1.0)],
    "sigmoid": [(0.0, 0.5), (-0.0, 0.5), (INF, 1.0), (-INF, 0.0), (NAN, NAN), (-800.0, 0.0), (800.0, 1.0),
                ("max", 1.0), ("-max", 0.0)],
    "softplus": [(INF, INF), (-INF, 0.0), (NAN, NAN), (800.0, 800.0), (-800.0, 0.0), ("max", "max"),
                 ("-max", 0.0), (0.0, float(mpmath.log(2)))],
}


def _resolve(v, dtype):
    fi = np.finfo(dtype)
    named = {"tiny": fi.smallest_subnormal, "-tiny": -fi.smallest_subnormal, "max": fi.max, "-max": -fi.max}
    return dtype.type(named[v]) if isinstance(v, str) else dtype.type(v)


@pytest.mark.parametrize("dtype", [np.dtype("float64"), np.dtype("float32")], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(SPECIAL))
def test_special_values_exact(name, dtype):
    args = np.array([_resolve(a, dtype) for a, _ in SPECIAL[name]] * 3, dtype)  # vector body and masked tail
    want = np.array([_resolve(r, dtype) for _, r in SPECIAL[name]] * 3, dtype)
    got = _fn(name, dtype.name)(args)
    for a, g, w in zip(args, got, want):
        if np.isnan(w):
            assert np.isnan(g), f"{name}({a!r}) = {g!r}, expected nan"
        else:
            assert g == w and np.signbit(g) == np.signbit(w), f"{name}({a!r}) = {g!r}, expected {w!r}"


THRESHOLDS = {  # (argument, exact result): the last finite / first infinite or zero results
    "float64": [("exp", 709.782712893384, 1.7976931348622732e308), ("exp", 709.7827128933841, INF),
                ("exp", -745.1332191019411, 5e-324), ("exp", -745.1332191019412, 0.0),
                ("exp", -708.3964185322641, float(mpmath.exp(-708.3964185322641))),  # smallest normal result
                ("expm1", 709.7827128933841, INF), ("expm1", -40.0, -1.0),
                ("softplus", -740.0, float(mpmath.exp(-740))), ("sigmoid", -745.0, float(mpmath.exp(-745))),
                ("sigmoid", -720.0, float(mpmath.exp(-720))), ("sigmoid", -709.9, float(mpmath.exp(-709.9))),
                ("log", 5e-324, float(mpmath.log(mpmath.mpf(5e-324)))),
                ("log", 2.2250738585072014e-308, float(mpmath.log(mpmath.mpf(2.2250738585072014e-308))))],
    "float32": [("exp", 88.72283, float(np.float32(mpmath.exp(mpmath.mpf(float(np.float32(88.72283))))))),
                ("exp", 88.72284, INF), ("exp", -103.97208, float(np.float32(1e-45))), ("exp", -104.0, 0.0),
                ("log", float(np.float32(1e-45)), float(np.float32(mpmath.log(mpmath.mpf(float(np.float32(1e-45))))))),
                ("softplus", 100.0, 100.0), ("sigmoid", -95.0, float(np.float32(mpmath.exp(-95)))),
                ("sigmoid", -89.0, float(np.float32(mpmath.exp(-89))))],
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_overflow_and_underflow_thresholds(dtype):
    dt = np.dtype(dtype)
    for name, arg, want in THRESHOLDS[dtype]:
        got = _fn(name, dtype)(np.array([arg] * 17, dt))
        w = dt.type(want)
        err = ulps(got[:1], [mpmath.mpf(float(w))], dt)[0] if np.isfinite(w) and w != 0 else 0.0
        assert (got == got[0]).all()
        if np.isfinite(w) and w != 0:
            assert err <= 1.0, f"{name}({arg!r}) = {got[0]!r}, expected {w!r}"
        else:
            assert got[0] == w, f"{name}({arg!r}) = {got[0]!r}, expected {w!r}"


def test_sigmoid_softplus_extremes():
    x = T.dvector("x")
    f = symcomp.function([x], [T.nnet.sigmoid(x), T.nnet.softplus(x)])
    s, sp = f(np.array([-800.0, 800.0, -700.0, 36.0, -36.0]))
    assert s[0] == 0.0 and s[1] == 1.0
    assert sp[1] == 800.0 and sp[0] == 0.0  # exp(-800) is below the smallest subnormal: 0 is the rounded result
    exact = [mpmath.exp(-700), mpmath.exp(-700), 36 + mpmath.exp(-36), mpmath.log1p(mpmath.exp(-36))]
    assert (ulps(np.array([s[2], sp[2], sp[3], sp[4]]), exact, np.float64) <= 4).all()


# -- the generated code -------------------------------------------------------------------------
def _asm(expr_fn, dtype):
    x = T.tensor(dtype, (None,), "x")
    y = T.tensor(dtype, (None,), "y")
    return symcomp.function([x, y], expr_fn(x, y)).dump("asm")


def _register():
    bits = machine.target().vector_bits
    return {512: "zmm", 256: "ymm", 128: "xmm"}[bits], bits


def test_asm_dump_is_made_at_the_level_of_the_code_that_runs(monkeypatch):
    """A small module runs code generated at CODEGEN_LEVEL_SMALL; its dump must show that code,
    not the level-0 code of large modules (the dump once did, spilling every loop variable)."""
    levels = []
    real = machine.assembly
    monkeypatch.setattr(machine, "assembly", lambda ref, level=machine.CODEGEN_LEVEL: levels.append(level) or real(ref, level))
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x) * 2.0)
    assert "ret" in f.dump("asm")
    assert levels == [machine.codegen_level(f.dump("llvm").count("\n"))] == [machine.CODEGEN_LEVEL_SMALL]


@pytest.mark.parametrize("dtype,suffix", [("float64", "pd"), ("float32", "ps")])
def test_arithmetic_loop_uses_packed_instructions(dtype, suffix):
    reg, _ = _register()
    asm = _asm(lambda x, y: x * y + y, dtype)
    assert re.search(rf"vmul{suffix}\s+.*%{reg}", asm), f"no packed vmul{suffix} on {reg}"
    assert re.search(rf"vadd{suffix}\s+.*%{reg}", asm), f"no packed vadd{suffix} on {reg}"


INLINE_CASES = [(n, d, s) for n in ("exp", "sigmoid", "expm1", "tanh") for d, s in (("float64", "pd"), ("float32", "ps"))]


@pytest.mark.parametrize("name,dtype,suffix", INLINE_CASES)
def test_exp_is_inline_packed_code(name, dtype, suffix):
    """exp, expm1 and tanh (and sigmoid, through exp) are emitted inline (symcomp.backends.cpu.vecmath.exp):
    packed FMAs and, with AVX-512, vscalef (except tanh, whose 2**n stays in the normal range and
    is built in the exponent field); no call to libmvec or libm."""
    reg, bits = _register()
    asm = _asm(lambda x, y: FUNCS[name][0](x) + y, dtype)
    assert re.search(rf"vfmadd\w*{suffix}\s+.*%{reg}", asm), f"no packed FMA on {reg}"
    if "+avx512f" in machine.target().features.split(",") and bits == 512 and name != "tanh":
        assert re.search(rf"vscalef{suffix}\s+.*%zmm", asm)
    assert "_ZGV" not in asm and not re.search(r"call\w*\s+(exp|expm1|tanh)f?(@PLT)?\s*$", asm, re.M)


LIBMVEC_CASES = [("erf", "float64"), ("erfc", "float64")]


@pytest.mark.parametrize("name,dtype", LIBMVEC_CASES)
def test_transcendentals_call_libmvec(name, dtype):
    tgt = machine.target()
    if not tgt.has_libmvec:
        pytest.skip("glibc's libmvec is not available")
    reg, bits = _register()
    lanes = bits // (64 if dtype == "float64" else 32)
    isa = {128: "b", 256: "d", 512: "e"}[bits]
    f = "f" if dtype == "float32" else ""
    callee = {"softplus": "log1p"}.get(name, name)
    asm = _asm(lambda x, y: FUNCS[name][0](x) + y, dtype)
    assert f"_ZGV{isa}N{lanes}v_{callee}{f}" in asm
    # never the scalar libm function inside the vector loop
    assert not re.search(rf"call\w*\s+{callee}{f}(@PLT)?\s*$", asm, re.M)


@pytest.mark.parametrize("dtype,suffix", [("float64", "pd"), ("float32", "ps")])
@pytest.mark.parametrize("name", ["log", "log1p", "softplus"])
def test_log_is_inline_packed_code(name, dtype, suffix):
    """log and log1p (and softplus, through log1p) are inline (symcomp.backends.cpu.vecmath.log): packed
    FMAs and no call; float32 has no division either (float64 has fdlibm's one)."""
    reg, _ = _register()
    asm = _asm(lambda x, y: FUNCS[name][0](x) + y, dtype)
    assert re.search(rf"vfmadd\w*{suffix}\s+.*%{reg}", asm), f"no packed FMA on {reg}"
    assert "_ZGV" not in asm and not re.search(r"call\w*\s+log1?p?f?(@PLT)?\s*$", asm, re.M)
    if dtype == "float32":
        assert "vdivps" not in asm


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["sin", "cos"])
def test_trig_is_inline_with_a_libmvec_fallback(name, dtype):
    """sin and cos are inline (symcomp.backends.cpu.vecmath.trig); libmvec is called only for a vector
    holding an argument beyond the inline reduction's range."""
    tgt = machine.target()
    reg, bits = _register()
    elem, f = ("double", "") if dtype == "float64" else ("float", "f")
    x = T.tensor(dtype, (None,), "x")
    llvm = symcomp.function([x], FUNCS[name][0](x) * 2.0).dump("llvm")
    assert re.search(rf"call <\d+ x {elem}> @\"?llvm\.fma", llvm)
    if tgt.has_libmvec:  # the fallback, in a block of its own behind a branch
        lanes = bits // (64 if dtype == "float64" else 32)
        calls = re.findall(rf"call <{lanes} x {elem}> @\"?_ZGV\w+_{name}{f}\b", llvm)
        assert calls and "br i1" in llvm


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_float32_erf_is_inline_table_code(name):
    """float32 erf and erfc are inline with AVX-512 (symcomp.backends.cpu.vecmath.erf): coefficients read
    by vpermt2ps/vpermi2ps from 32-entry tables, packed FMAs, no call; elsewhere libmvec's."""
    reg, bits = _register()
    asm = _asm(lambda x, y: FUNCS[name][0](x) + y, "float32")
    if "+avx512f" in machine.target().features.split(",") and bits == 512:
        assert re.search(r"vperm[ti]2ps\s+.*%zmm", asm) and re.search(r"vfmadd\w*ps\s+.*%zmm", asm)
        assert "_ZGV" not in asm and not re.search(rf"call\w*\s+{name}f(@PLT)?\s*$", asm, re.M)
    elif machine.target().has_libmvec:
        assert "_ZGV" in asm and f"{name}f" in asm


def _trig_hard_cases(dtype):
    """Arguments closest to multiples of pi (sin) and pi/2 + k pi (cos) below the inline
    reduction's limit (for float32 found by a search over every float32 there; for float64 the
    doubles nearest k pi and (k + 1/2) pi), then beyond it."""
    from symcomp.backends.cpu.vecmath import trig

    if dtype == "float32":
        near = {"sin": [105032.87, 113986.41, 96079.33, 122939.945, 505.79642, 1011.59283, 3.1415927, 6.2831855],
                "cos": [52516.434, 56993.203, 48039.664, 61469.973, 65946.74, 126211.914, 1.5707964, 4.712389]}
    else:
        ks = [1, 2, 3, 7, 100, 355, 1000, 33102, 41000]
        near = {"sin": [float(k * mpmath.pi) for k in ks], "cos": [float((k + 0.5) * mpmath.pi) for k in [0] + ks]}
    dt = np.dtype(dtype)
    limit = dt.type(trig.FAST_LIMIT)
    beyond = [float(np.nextafter(limit, dt.type(np.inf))), 1e6, 12345678.0, 1e20, 3.4e38]
    return {k: v + beyond + [float(limit)] for k, v in near.items()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["sin", "cos"])
def test_trig_hard_arguments(name, dtype):
    """Arguments where the reduction cancels most, and large ones that take the libmvec fallback:
    alone, and mixed with small ones in one vector (the fallback must not disturb the others)."""
    dt = np.dtype(dtype)
    hard = _trig_hard_cases(dtype)[name]
    rng = np.random.default_rng(7)
    x = np.concatenate([hard, -np.array(hard), rng.uniform(-10, 10, 37)]).astype(dt)
    rng.shuffle(x)
    got = _fn(name, dtype)(x)
    exact = [FUNCS[name][1](mpmath.mpf(float(v))) for v in x]
    err = ulps(got, exact, dt)
    worst = int(np.argmax(err))
    assert err[worst] <= 4.0, f"{name}({x[worst]!r}) = {got[worst]!r}: {err[worst]:.2f} ULP"


@contextlib.contextmanager
def _fresh_compiles():
    """Compile anew inside (no disk cache: a changed code generator can emit the same IR text, so
    the cache would hand back the other code), then restore this module's compiled functions."""
    symcomp.config.cache = False
    saved = dict(_compiled)
    _compiled.clear()
    try:
        yield
    finally:
        symcomp.config.cache = True
        _compiled.clear()
        _compiled.update(saved)


@pytest.fixture
def without_vscalef(monkeypatch):
    """Compile with vecmath.exp's portable scaling (exponent-field powers of two) instead of AVX-512's vscalef."""
    from symcomp.backends.cpu.vecmath import exp

    monkeypatch.setattr(exp, "_has_avx512f", lambda: False)
    with _fresh_compiles():
        yield


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_exp_without_vscalef(without_vscalef, dtype):
    assert "vscalef" not in _asm(lambda x, y: T.exp(x) + y, dtype)
    for name in ("exp", "sigmoid", "expm1", "tanh"):
        test_accuracy_within_4_ulp(name, dtype)
        test_special_values_exact(name, np.dtype(dtype))
    test_overflow_and_underflow_thresholds(dtype)


@pytest.fixture(params=[256, 128], ids=["256-bit", "128-bit"])
def narrow_vectors(request, monkeypatch):
    """Compile with AVX2-wide (or SSE-wide) vectors, as on a CPU without AVX-512: the inline math
    must not depend on the lane count (bit masks of 4 or 2 lanes, libmvec's ``_ZGVd``/``_ZGVb``)."""
    import dataclasses

    state = machine.ensure_initialized()
    monkeypatch.setitem(state, "target", dataclasses.replace(state["target"], vector_bits=request.param))
    with _fresh_compiles():
        yield request.param


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_inline_math_with_narrower_vectors(narrow_vectors, dtype):
    lanes = narrow_vectors // (64 if dtype == "float64" else 32)
    assert f"<{lanes} x {'double' if dtype == 'float64' else 'float'}>" in _fn("sin", dtype).dump("llvm")
    for name in ("exp", "expm1", "tanh", "log", "log1p", "sin", "cos", "erf", "erfc"):
        test_accuracy_within_4_ulp(name, dtype)
        test_special_values_exact(name, np.dtype(dtype))
    for name in ("sin", "cos"):
        test_trig_hard_arguments(name, dtype)


def test_kernels_with_table_driven_math_are_not_unrolled(monkeypatch):
    """A loop body using float32 erf/erfc (16 zmm of coefficient tables) is emitted once per
    main-loop iteration, other bodies UNROLL times (symcomp.backends.cpu.codegen.loops.emit_kernel)."""
    from symcomp.backends.cpu.codegen import loops
    from symcomp.backends.cpu.vecmath import erf

    seen = []
    real = loops._inner_simd
    unroll_arg = list(inspect.signature(real).parameters).index("unroll")
    monkeypatch.setattr(loops, "_inner_simd", lambda *a, **k: seen.append(a[unroll_arg]) or real(*a, **k))
    with _fresh_compiles():
        x = T.fvector("x")
        symcomp.function([x], 0.5 * x * (1 + T.erf(x * np.float32(0.7071))))
        gelu = list(seen)
        seen.clear()
        symcomp.function([x], T.exp(x) * 2)
    from llvmlite import ir

    table = erf.supported(ir.VectorType(ir.FloatType(), 16)) and machine.target().vector_bits == 512
    assert gelu and set(gelu) == ({1} if table else {loops.UNROLL})
    assert seen and set(seen) == {loops.UNROLL}


@pytest.mark.parametrize("module,name", [("exp", "emit"), ("exp", "emit_tanh"), ("log", "emit_log1p"),
                                         ("trig", "emit_sin"), ("erf", "emit_erf")])
def test_inline_math_rejects_non_float_vectors_by_name(module, name):
    """The inline emitters take vectors of float (or double); anything else is a TypeError naming
    the emitter, not a silently wrong instruction sequence."""
    import importlib

    from llvmlite import ir

    emit = getattr(importlib.import_module(f"symcomp.backends.cpu.vecmath.{module}"), name)
    m = ir.Module()
    fn = ir.Function(m, ir.FunctionType(ir.VoidType(), [ir.VectorType(ir.IntType(32), 8)]), "f")
    with pytest.raises(TypeError, match=rf"{module}\.{name}: expected a vector of float"):
        emit(ir.IRBuilder(fn.append_basic_block()), fn.args[0])


def test_splat_constants_are_shared_printed_short_and_keep_the_sign_of_zero():
    from llvmlite import ir

    from symcomp.backends.cpu.codegen.splat import splat_constant

    d = ir.DoubleType()
    half = splat_constant(d, 0.5, 8)
    assert splat_constant(d, 0.5, 8) is half and splat_constant(d, 0.5, 4) is not half
    assert str(half) == "<8 x double> splat (double 0x3fe0000000000000)"
    zero, neg_zero = splat_constant(d, 0.0, 8), splat_constant(d, -0.0, 8)
    assert zero is not neg_zero and "0x8000000000000000" in str(neg_zero)
    assert splat_constant(ir.IntType(64), 3, 8) is not splat_constant(ir.IntType(32), 3, 8)
    # LLVM parses the short form and folds it like the long one
    ref = machine.parse(f"""
define <8 x double> @f() {{
  %a = fadd <8 x double> {neg_zero.get_reference()}, {half.get_reference()}
  ret <8 x double> %a
}}""")
    machine.optimize(ref)
    assert "ret <8 x double> splat (double 5.000000e-01)" in str(ref.get_function("f"))


def test_a_negative_zero_constant_keeps_its_sign_in_compiled_code():
    x = T.dvector("x")
    f = symcomp.function([x], (x * 0.0, x * -0.0))
    pos, neg = f(np.array([1.0, 2.0, -3.0]))
    np.testing.assert_array_equal(np.signbit(pos), [False, False, True])
    np.testing.assert_array_equal(np.signbit(neg), [True, True, False])
