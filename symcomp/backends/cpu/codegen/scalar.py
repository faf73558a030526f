"""Scalar code for elementwise operations: one emitter per op, for scalar or SIMD vector values.

An emitter receives LLVM values of the op's operand dtypes (all scalars, or all
vectors of one lane count) and returns the result.  IEEE semantics are kept
exactly (no fast-math flags).  Integer division and modulo by zero give 0 and
``INT_MIN // -1`` wraps, as NumPy does, so generated code never traps.
"""

from __future__ import annotations

import math
from typing import Callable

from llvmlite import ir

from symcomp.backends.cpu.vecmath import libcalls
from symcomp.backends.cpu.codegen.splat import splat_constant
from symcomp.backends.cpu.runtime import interrupt
from symcomp.ir import types as T
from symcomp.ir.ops.elementwise import MATH_FUNCTIONS
from symcomp.registry import by_name

Emitter = Callable[["ScalarContext", object, list], ir.Value]
EMITTERS: dict[str, Emitter] = {}


def llvm_type(dt: T.DType, in_memory: bool = False) -> ir.Type:
    """The LLVM type of one element (bool is i1 in registers, i8 in memory)."""
    if dt.is_float:
        return ir.DoubleType() if dt.bits == 64 else ir.FloatType()
    if dt.is_bool:
        return ir.IntType(8) if in_memory else ir.IntType(1)
    return ir.IntType(dt.bits)


class ScalarContext:
    """What emitters need: the builder, the lane count (None for scalars), an error flag and, in a
    loop whose body has a positional op (``sc.flat_index``), the loop point's flat index."""

    def __init__(self, builder: ir.IRBuilder, lanes, flag_error: Callable[[ir.Value, int], None]):
        self.b = builder
        self.lanes = lanes
        self.flag_error = flag_error
        self.index = None  # the loop point's flat index (i64, per lane), for positional ops
        self.memo: dict = {}  # values one body computes once for several ops (Philox blocks), per body

    def type(self, dt: T.DType) -> ir.Type:
        t = llvm_type(dt)
        return ir.VectorType(t, self.lanes) if self.lanes else t

    def const(self, dt: T.DType, value) -> ir.Value:
        """A constant (splatted across lanes for vectors)."""
        t = llvm_type(dt)
        if dt.is_bool:
            value = int(bool(value))
        elif dt.is_int:
            value = int(value)
        if self.lanes:
            return splat_constant(t, value, self.lanes)
        return ir.Constant(t, value)


emits = by_name(EMITTERS)
"""Decorator registering the decorated function for op names."""


def _dt(op, i=0) -> T.DType:
    return op.operands[i].type.dtype


def _signed(dt: T.DType) -> bool:
    return dt.kind == "i"


# -- unary -----------------------------------------------------------------------------
@emits("sc.neg")
def _neg(cx, op, a):
    return cx.b.fneg(a[0]) if _dt(op).is_float else cx.b.sub(cx.const(_dt(op), 0), a[0])


@emits("sc.abs")
def _abs(cx, op, a):
    dt, b = _dt(op), cx.b
    if dt.is_float:
        return libcalls.call(b, "fabs", a[0])
    if dt.kind == "u":
        return a[0]
    return b.select(b.icmp_signed("<", a[0], cx.const(dt, 0)), b.sub(cx.const(dt, 0), a[0]), a[0])


@emits("sc.sign")
def _sign(cx, op, a):
    dt, b, x = _dt(op), cx.b, a[0]
    one, zero, mone = cx.const(dt, 1), cx.const(dt, 0), cx.const(dt, -1 if dt.kind != "u" else 0)
    if dt.is_float:
        return b.select(b.fcmp_ordered(">", x, zero), one, b.select(b.fcmp_ordered("<", x, zero), mone, x))
    gt = b.icmp_signed(">", x, zero) if _signed(dt) else b.icmp_unsigned(">", x, zero)
    lt = b.icmp_signed("<", x, zero) if _signed(dt) else b.icmp_unsigned("<", x, zero)
    return b.select(gt, one, b.select(lt, mone, zero))


def _math(name):
    return lambda cx, op, a: libcalls.call(cx.b, name, *a)


for _op, _fn in MATH_FUNCTIONS.items():
    EMITTERS[_op] = _math(_fn)


@emits("sc.sigmoid")
def _sigmoid(cx, op, a):
    """With e = exp(-|x|): 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0.

    exp never overflows, so results in the subnormal range (x down to about -745 in
    float64, -103 in float32) keep full relative accuracy instead of flushing to 0, and
    the limits (0 and 1) are exact.
    """
    dt, b, x = _dt(op), cx.b, a[0]
    e = libcalls.call(b, "exp", b.fneg(libcalls.call(b, "fabs", x)))
    d = b.fadd(cx.const(dt, 1.0), e)
    neg = b.fcmp_ordered("<", x, cx.const(dt, 0.0))
    r = b.fdiv(b.select(neg, e, cx.const(dt, 1.0)), d)
    return b.select(b.fcmp_unordered("uno", x, x), x, r)


@emits("sc.softplus")
def _softplus(cx, op, a):
    """max(x, 0) + log1p(exp(-|x|)): never overflows."""
    dt, b, x = _dt(op), cx.b, a[0]
    tail = libcalls.call(b, "log1p", libcalls.call(b, "exp", b.fneg(libcalls.call(b, "fabs", x))))
    pos = b.select(b.fcmp_ordered(">", x, cx.const(dt, 0.0)), x, cx.const(dt, 0.0))
    return b.select(b.fcmp_unordered("uno", x, x), x, b.fadd(pos, tail))


@emits("sc.not")
def _not(cx, op, a):
    return cx.b.xor(a[0], cx.const(_dt(op), 1 if _dt(op).is_bool else -1))


@emits("sc.isnan")
def _isnan(cx, op, a):
    return cx.b.fcmp_unordered("uno", a[0], a[0])


@emits("sc.isinf")
def _isinf(cx, op, a):
    return cx.b.fcmp_ordered("==", libcalls.call(cx.b, "fabs", a[0]), cx.const(_dt(op), math.inf))


@emits("sc.copy")
def _copy(cx, op, a):
    return a[0]


@emits("sc.cast")
def _cast(cx, op, a):
    src, dst, b, x = _dt(op), op.attributes["dtype"], cx.b, a[0]
    st, dt_ = cx.type(src), cx.type(dst)
    if src == dst:
        return x
    if dst.is_bool:
        zero = cx.const(src, 0)
        return b.fcmp_unordered("!=", x, zero) if src.is_float else b.icmp_unsigned("!=", x, zero)
    if src.is_float and dst.is_float:
        return b.fptrunc(x, dt_) if src.bits > dst.bits else b.fpext(x, dt_)
    if src.is_float:
        # Saturating conversion: defined for NaN and out-of-range values (NumPy calls them undefined).
        name = ("llvm.fptosi.sat" if _signed(dst) else "llvm.fptoui.sat") + \
            f".{_vec_suffix(dt_)}.{_vec_suffix(st)}"
        fn = b.module.globals.get(name) or ir.Function(b.module, ir.FunctionType(dt_, [st]), name)
        return b.call(fn, [x])
    if dst.is_float:
        return b.sitofp(x, dt_) if _signed(src) else b.uitofp(x, dt_)
    if src.bits > dst.bits:
        return b.trunc(x, dt_)
    if src.bits < dst.bits:
        return b.sext(x, dt_) if _signed(src) else b.zext(x, dt_)
    return x  # same width, signedness reinterpretation


def _vec_suffix(t: ir.Type) -> str:
    def scalar(e):
        if isinstance(e, ir.DoubleType):
            return "f64"
        if isinstance(e, ir.FloatType):
            return "f32"
        return f"i{e.width}"

    if isinstance(t, ir.VectorType):
        return f"v{t.count}{scalar(t.element)}"
    return scalar(t)


# -- binary ----------------------------------------------------------------------------
def _arith(fop, iop):
    def emit(cx, op, a):
        return getattr(cx.b, fop if _dt(op).is_float else iop)(a[0], a[1])

    return emit


EMITTERS["sc.add"] = _arith("fadd", "add")
EMITTERS["sc.sub"] = _arith("fsub", "sub")
EMITTERS["sc.mul"] = _arith("fmul", "mul")
EMITTERS["sc.div"] = _arith("fdiv", "fdiv")  # float operands only
EMITTERS["sc.and"] = _arith("and_", "and_")
EMITTERS["sc.or"] = _arith("or_", "or_")
EMITTERS["sc.xor"] = _arith("xor", "xor")


def _safe_divisor(cx, dt, y):
    """(divisor with 0 and -1 replaced by 1, y == 0, y == -1 or None): avoids SIGFPE on x86."""
    b = cx.b
    is0 = b.icmp_unsigned("==", y, cx.const(dt, 0))
    if not _signed(dt):
        return b.select(is0, cx.const(dt, 1), y), is0, None
    ism1 = b.icmp_signed("==", y, cx.const(dt, -1))
    return b.select(b.or_(is0, ism1), cx.const(dt, 1), y), is0, ism1


def _float_fmod_parts(cx, dt, x, y):
    b = cx.b
    mod = b.frem(x, y)
    zero = cx.const(dt, 0.0)
    mod_nz = b.fcmp_unordered("!=", mod, zero)
    sign_differs = b.xor(b.fcmp_ordered("<", y, zero), b.fcmp_ordered("<", mod, zero))
    return mod, b.and_(mod_nz, sign_differs)


@emits("sc.floordiv")
def _floordiv(cx, op, a):
    """NumPy's npy_floor_divide / npy_divmod (numpy/_core/src/npymath/npy_math_internal.h.src)."""
    dt, b, x, y = _dt(op), cx.b, a[0], a[1]
    if dt.is_float:
        zero, one = cx.const(dt, 0.0), cx.const(dt, 1.0)
        mod, adjust = _float_fmod_parts(cx, dt, x, y)
        div = b.fdiv(b.fsub(x, mod), y)
        div = b.select(adjust, b.fsub(div, one), div)
        fl = libcalls.call(b, "floor", div)
        fl = b.select(b.fcmp_ordered(">", b.fsub(div, fl), cx.const(dt, 0.5)), b.fadd(fl, one), fl)
        signed_zero = libcalls.call(b, "copysign", zero, b.fdiv(x, y))
        res = b.select(b.fcmp_unordered("!=", div, zero), fl, signed_zero)
        return b.select(b.fcmp_ordered("==", y, zero), b.fdiv(x, y), res)
    safe, is0, ism1 = _safe_divisor(cx, dt, y)
    if not _signed(dt):
        return b.select(is0, cx.const(dt, 0), b.udiv(x, safe))
    q = b.sdiv(x, safe)
    r = b.srem(x, safe)
    adjust = b.and_(b.icmp_signed("!=", r, cx.const(dt, 0)),
                    b.icmp_signed("<", b.xor(r, y), cx.const(dt, 0)))
    q = b.sub(q, b.zext(adjust, q.type))
    q = b.select(ism1, b.sub(cx.const(dt, 0), x), q)
    return b.select(is0, cx.const(dt, 0), q)


@emits("sc.mod")
def _mod(cx, op, a):
    dt, b, x, y = _dt(op), cx.b, a[0], a[1]
    if dt.is_float:
        zero = cx.const(dt, 0.0)
        mod, adjust = _float_fmod_parts(cx, dt, x, y)
        mod = b.select(adjust, b.fadd(mod, y), mod)
        mod = b.select(b.fcmp_ordered("==", mod, zero), libcalls.call(b, "copysign", zero, y), mod)
        return b.select(b.fcmp_ordered("==", y, zero), b.frem(x, y), mod)
    safe, is0, _ = _safe_divisor(cx, dt, y)
    if not _signed(dt):
        return b.select(is0, cx.const(dt, 0), b.urem(x, safe))
    r = b.srem(x, safe)
    adjust = b.and_(b.icmp_signed("!=", r, cx.const(dt, 0)), b.icmp_signed("<", b.xor(r, y), cx.const(dt, 0)))
    r = b.select(adjust, b.add(r, y), r)
    return b.select(is0, cx.const(dt, 0), r)


@emits("sc.pow")
def _pow(cx, op, a):
    dt, b, x, y = _dt(op), cx.b, a[0], a[1]
    if dt.is_float:
        return libcalls.call(b, "pow", x, y)
    if _signed(dt):
        cx.flag_error(b.icmp_signed("<", y, cx.const(dt, 0)), ERR_NEGATIVE_POWER)
    # Branch-free square-and-multiply over the exponent's bits.
    result, base = cx.const(dt, 1), x
    for bit in range(dt.bits - (1 if _signed(dt) else 0)):
        take = b.icmp_unsigned("!=", b.and_(y, cx.const(dt, 1 << bit)), cx.const(dt, 0))
        result = b.select(take, b.mul(result, base), result)
        base = b.mul(base, base)
    return result


def _minmax(fname, signed_pred, unsigned_pred):
    def emit(cx, op, a):
        dt, b = _dt(op), cx.b
        if dt.is_float:
            return libcalls.call(b, fname, a[0], a[1])
        c = b.icmp_signed(signed_pred, a[0], a[1]) if _signed(dt) else b.icmp_unsigned(unsigned_pred, a[0], a[1])
        return b.select(c, a[0], a[1])

    return emit


EMITTERS["sc.maximum"] = _minmax("maximum", ">=", ">=")
EMITTERS["sc.minimum"] = _minmax("minimum", "<=", "<=")


def _compare(pred):
    def emit(cx, op, a):
        dt, b = _dt(op), cx.b
        if dt.is_float:
            return b.fcmp_unordered(pred, a[0], a[1]) if pred == "!=" else b.fcmp_ordered(pred, a[0], a[1])
        return b.icmp_signed(pred, a[0], a[1]) if _signed(dt) else b.icmp_unsigned(pred, a[0], a[1])

    return emit


for _name, _pred in {"sc.eq": "==", "sc.ne": "!=", "sc.lt": "<", "sc.le": "<=", "sc.gt": ">", "sc.ge": ">="}.items():
    EMITTERS[_name] = _compare(_pred)


@emits("sc.select")
def _select(cx, op, a):
    return cx.b.select(a[0], a[1], a[2])


ERR_NEGATIVE_POWER = 2
ERR_INDEX = 1
ERR_LINALG = 6  # LAPACK reported info != 0 (backends/cpu/lower/lapack.py): numpy.linalg.LinAlgError
ERR_INTERRUPT = interrupt.ERR_INTERRUPT
ERR_BRANCH = 4
"""The branch of an ``sc.if`` that ran (then: ``ERR_BRANCH``, else: ``ERR_BRANCH + 1``) could not be
planned for these shapes (an index out of range...): the runtime raises the planner's error, which
was deferred because ``ifelse`` must not fail on the branch it does not take."""


from symcomp.backends.cpu.codegen import random as _random  # noqa: E402,F401  (the random ops' emitters)
