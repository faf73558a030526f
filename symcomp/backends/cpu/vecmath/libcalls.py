"""Calls to math functions from generated code: scalar libm, SIMD libmvec, LLVM intrinsics.

LLVM scalarizes a vector call to a libm intrinsic (``llvm.exp.v8f64`` becomes
eight calls to ``exp``), so vector code calls glibc's libmvec variants
directly, following the x86-64 vector function ABI names
(``_ZGV<isa>N<lanes><v per arg>_<name>``: ``_ZGVeN8v_exp`` is 8 x f64 on
AVX-512, ``_ZGVdN8v_expf`` 8 x f32 on AVX2).  libmvec's documented accuracy is
within 4 ULP (glibc manual, "Errors in Math Functions").  Without libmvec the
lanes are computed one by one with libm.
"""

from __future__ import annotations

from llvmlite import ir

from symcomp.backends.cpu.vecmath import erf, exp, log, trig
from symcomp.backends.cpu.toolchain.machine import target

# Functions with libmvec variants (f64 names; f32 adds an 'f').
LIBMVEC = {
    "exp": 1, "exp2": 1, "expm1": 1, "log": 1, "log2": 1, "log10": 1, "log1p": 1,
    "sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1, "atan": 1, "sinh": 1, "cosh": 1, "tanh": 1,
    "erf": 1, "erfc": 1, "cbrt": 1, "atan2": 2, "pow": 2, "hypot": 2,
}
# Functions LLVM lowers well itself (native instructions), scalar or vector.
INTRINSICS = {"sqrt": "llvm.sqrt", "fabs": "llvm.fabs", "floor": "llvm.floor", "ceil": "llvm.ceil",
              "trunc": "llvm.trunc", "roundeven": "llvm.roundeven", "maximum": "llvm.maximum",
              "minimum": "llvm.minimum", "copysign": "llvm.copysign", "fma": "llvm.fma"}

_ISA = {128: "b", 256: "d", 512: "e"}
# Vector functions emitted inline instead of calling libmvec (symcomp/backends/cpu/vecmath/exp.py), for
# the element types where that measured faster (docs/performance.md).
_INLINE = {"exp": (exp.emit, (ir.FloatType, ir.DoubleType)), "expm1": (exp.emit_expm1, (ir.FloatType, ir.DoubleType)),
           "tanh": (exp.emit_tanh, (ir.FloatType, ir.DoubleType)),
           "log": (log.emit_log, (ir.FloatType, ir.DoubleType)), "log1p": (log.emit_log1p, (ir.FloatType, ir.DoubleType)),
           "sin": (trig.emit_sin, (ir.FloatType, ir.DoubleType)), "cos": (trig.emit_cos, (ir.FloatType, ir.DoubleType)),
           "erf": (erf.emit_erf, (ir.FloatType,)), "erfc": (erf.emit_erfc, (ir.FloatType,))}


def table_driven(name: str, t: ir.Type) -> bool:
    """Whether ``name`` on values of type ``t`` is emitted as inline code whose coefficient tables
    take vector registers of their own (float32 erf and erfc with AVX-512: 14 and 16 zmm), so that
    a loop should not hold two copies of it (:func:`symcomp.backends.cpu.codegen.loops.emit_kernel`)."""
    return name in ("erf", "erfc") and erf.supported(t)


def _elem(t: ir.Type) -> ir.Type:
    return t.element if isinstance(t, ir.VectorType) else t


def _suffix(t: ir.Type) -> str:
    return "f" if isinstance(_elem(t), ir.FloatType) else ""


def declare(module: ir.Module, name: str, ret: ir.Type, args: list) -> ir.Function:
    """The function ``name`` of ``module``, declared (external, ``nounwind``) on first use."""
    fn = module.globals.get(name)
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(ret, args), name)
        fn.attributes.add("nounwind")
    return fn


def _intrinsic_name(base: str, t: ir.Type) -> str:
    if isinstance(t, ir.VectorType):
        el = "f32" if isinstance(t.element, ir.FloatType) else "f64"
        return f"{base}.v{t.count}{el}"
    return f"{base}.{'f32' if isinstance(t, ir.FloatType) else 'f64'}"


def intrinsic(builder: ir.IRBuilder, base: str, *args: ir.Value) -> ir.Value:
    """A call to the LLVM intrinsic ``base`` (``"llvm.fma"``) overloaded on the type of ``args``
    (``llvm.fma.v8f64``), declared in the builder's module on first use."""
    t = args[0].type
    return builder.call(declare(builder.module, _intrinsic_name(base, t), t, [t] * len(args)), list(args))


def call(builder: ir.IRBuilder, name: str, *args: ir.Value) -> ir.Value:
    """``name(args)`` for scalar or vector float arguments of one type.

    Raises:
        KeyError: for a function symcomp has no lowering for.
    """
    t = args[0].type
    if name in INTRINSICS:
        return intrinsic(builder, INTRINSICS[name], *args)
    if name not in LIBMVEC:
        raise KeyError(f"no lowering for math function {name}")
    if name in _INLINE and exp.supported(t) and isinstance(t.element, _INLINE[name][1]):
        return _INLINE[name][0](builder, args[0])
    return libmvec_call(builder, name, *args)


def libmvec_call(builder: ir.IRBuilder, name: str, *args: ir.Value) -> ir.Value:
    """``name(args)`` by glibc: libm for scalars, libmvec for vectors where this target has it,
    else one libm call per lane (never inline code; the inline functions fall back to it).

    Raises:
        KeyError: for a function libm lacks (see ``LIBMVEC``).
    """
    if name not in LIBMVEC:
        raise KeyError(f"no libm function {name}")
    t = args[0].type
    module = builder.module
    if not isinstance(t, ir.VectorType):
        return builder.call(declare(module, name + _suffix(t), t, [t] * len(args)), list(args))
    bits = t.count * (32 if isinstance(t.element, ir.FloatType) else 64)
    tgt = target()
    if tgt.has_libmvec and bits in _ISA and bits <= tgt.vector_bits:
        vname = f"_ZGV{_ISA[bits]}N{t.count}{'v' * len(args)}_{name}{_suffix(t)}"
        return builder.call(declare(module, vname, t, [t] * len(args)), list(args))
    # Fallback: one libm call per lane.
    out = ir.Constant(t, ir.Undefined)
    for lane in range(t.count):
        idx = ir.Constant(ir.IntType(32), lane)
        scalars = [builder.extract_element(a, idx) for a in args]
        out = builder.insert_element(out, libmvec_call(builder, name, *scalars), idx)
    return out
