"""Scalar semantics of symcomp's elementwise ops in the arith and math dialects.

One emitter per op name turns SSA scalars (the block arguments of a
``linalg.generic`` body) into the op's result.  The sequences match the native
CPU backend (:mod:`symcomp.backends.cpu.codegen.scalar`) bit for bit where the
arithmetic is exact:

* integer ``floordiv``/``mod`` follow Python (the result of ``mod`` has the sign
  of the divisor); division or modulo by zero gives 0 and ``INT_MIN // -1``
  wraps, as NumPy, so the generated code never traps;
* float ``floordiv``/``mod`` follow NumPy's ``npy_divmod``
  (numpy/_core/src/npymath/npy_math_internal.h.src);
* float -> integer casts saturate (NaN -> 0), as LLVM's ``fptosi.sat``;
* ``maximum``/``minimum`` propagate NaN (``arith.maximumf``, IEEE 754-2019 maximum);
* a signed integer ``pow`` with a negative exponent is an error (NumPy raises):
  the emitter reports the condition through :meth:`ScalarContext.check`.

Signedness comes from symcomp's dtype: MLIR integers are signless, so e.g.
``uint8`` division is ``arith.divui`` on ``i8``.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.ops.elementwise import MATH_FUNCTIONS
from symcomp.mlir.writer import FuncWriter, elem_type
from symcomp.registry import by_name

ERR_INDEX = 1
"""Status kind: an integer-array index out of bounds (IndexError)."""
ERR_NEGATIVE_POWER = 2
"""Status kind: a signed integer raised to a negative integer power (ValueError)."""


class ScalarContext:
    """What emitters need: the writer, and where data-dependent error conditions go.

    Attributes:
        w: the function writer.
        conditions: None when error conditions are not collected (the main
            computation), else a list of ``(i1 SSA name, kind)`` to OR together.
    """

    def __init__(self, w: FuncWriter, conditions: Optional[list] = None):
        self.w = w
        self.conditions = conditions

    def check(self, cond: str, kind: int) -> None:
        """Report that ``cond`` (an i1) true means error ``kind``."""
        if self.conditions is not None:
            self.conditions.append((cond, kind))

    def c(self, value, dt: T.DType) -> str:
        return self.w.const(value, dt)

    def op(self, rhs: str) -> str:
        return self.w.op(rhs)


Emitter = Callable[[ScalarContext, Operation, list], str]
EMITTERS: dict[str, Emitter] = {}


emits = by_name(EMITTERS)
"""Decorator registering the decorated function for op names."""


def has_checks(op: Operation) -> bool:
    """True if ``op`` (or a fused body) contains an op with a data-dependent error condition."""
    for o in op.walk():
        if o.name == "sc.pow" and o.operands[0].type.dtype.kind == "i":
            return True
    return False


def emit_scalar(cx: ScalarContext, op: Operation, args: list) -> str:
    """The result of elementwise ``op`` on scalar SSA values ``args``.

    Raises:
        NotImplementedError: naming the op, if it has no scalar form.
    """
    try:
        fn = EMITTERS[op.name]
    except KeyError:
        raise NotImplementedError(f"MLIR export: {op.name} has no scalar lowering") from None
    return fn(cx, op, args)


def _dt(op: Operation, i: int = 0) -> T.DType:
    return op.operands[i].type.dtype


def _ty(dt: T.DType) -> str:
    return elem_type(dt)


def _signed(dt: T.DType) -> bool:
    return dt.kind == "i"


def _bin(cx: ScalarContext, name: str, a: str, b: str, dt: T.DType) -> str:
    return cx.op(f"arith.{name} {a}, {b} : {_ty(dt)}")


def _cmpf(cx: ScalarContext, pred: str, a: str, b: str, dt: T.DType) -> str:
    return cx.op(f"arith.cmpf {pred}, {a}, {b} : {_ty(dt)}")


def _cmpi(cx: ScalarContext, pred: str, a: str, b: str, dt: T.DType) -> str:
    return cx.op(f"arith.cmpi {pred}, {a}, {b} : {_ty(dt)}")


def _select(cx: ScalarContext, c: str, a: str, b: str, dt: T.DType) -> str:
    return cx.op(f"arith.select {c}, {a}, {b} : {_ty(dt)}")


def _bool(cx: ScalarContext, name: str, a: str, b: str) -> str:
    return cx.op(f"arith.{name} {a}, {b} : i1")


def _math(cx: ScalarContext, name: str, dt: T.DType, *args: str) -> str:
    return cx.op(f"math.{name} {', '.join(args)} : {_ty(dt)}")


# -- unary ---------------------------------------------------------------------------------
@emits("sc.neg")
def _neg(cx, op, a):
    dt = _dt(op)
    if dt.is_float:
        return cx.op(f"arith.negf {a[0]} : {_ty(dt)}")
    return _bin(cx, "subi", cx.c(0, dt), a[0], dt)


@emits("sc.abs")
def _abs(cx, op, a):
    dt = _dt(op)
    if dt.is_float:
        return _math(cx, "absf", dt, a[0])
    if dt.kind == "u":
        return a[0]
    zero = cx.c(0, dt)  # INT_MIN stays INT_MIN, as NumPy
    return _select(cx, _cmpi(cx, "slt", a[0], zero, dt), _bin(cx, "subi", zero, a[0], dt), a[0], dt)


@emits("sc.sign")
def _sign(cx, op, a):
    dt, x = _dt(op), a[0]
    one, zero = cx.c(1, dt), cx.c(0, dt)
    if dt.is_float:
        mone = cx.c(-1.0, dt)
        neg = _select(cx, _cmpf(cx, "olt", x, zero, dt), mone, x, dt)
        return _select(cx, _cmpf(cx, "ogt", x, zero, dt), one, neg, dt)
    if dt.kind == "u":
        return _select(cx, _cmpi(cx, "ne", x, zero, dt), one, zero, dt)
    mone = cx.c(-1, dt)
    neg = _select(cx, _cmpi(cx, "slt", x, zero, dt), mone, zero, dt)
    return _select(cx, _cmpi(cx, "sgt", x, zero, dt), one, neg, dt)


def _math_unary(name: str) -> Emitter:
    return lambda cx, op, a: _math(cx, name, _dt(op), a[0])


for _op_name, _fn in MATH_FUNCTIONS.items():  # the math dialect op of the same name
    if _op_name != "sc.arctan2":  # binary: its own emitter below
        EMITTERS[_op_name] = _math_unary(_fn)


@emits("sc.sigmoid")
def _sigmoid(cx, op, a):
    """With e = exp(-|x|): 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0 (the CPU backend's form):
    exp never overflows, so subnormal results keep full relative accuracy; the limits are exact."""
    dt, x = _dt(op), a[0]
    absx = cx.op(f"math.absf {x} : {_ty(dt)}")
    e = _math(cx, "exp", dt, cx.op(f"arith.negf {absx} : {_ty(dt)}"))
    one, zero = cx.c(1.0, dt), cx.c(0.0, dt)
    num = _select(cx, _cmpf(cx, "olt", x, zero, dt), e, one, dt)
    r = _bin(cx, "divf", num, _bin(cx, "addf", one, e, dt), dt)
    return _select(cx, _cmpf(cx, "uno", x, x, dt), x, r, dt)


@emits("sc.softplus")
def _softplus(cx, op, a):
    """max(x, 0) + log1p(exp(-|x|)): never overflows; NaN stays NaN."""
    dt, x = _dt(op), a[0]
    zero = cx.c(0.0, dt)
    neg_abs = cx.op(f"arith.negf {_math(cx, 'absf', dt, x)} : {_ty(dt)}")
    tail = _math(cx, "log1p", dt, _math(cx, "exp", dt, neg_abs))
    pos = _select(cx, _cmpf(cx, "ogt", x, zero, dt), x, zero, dt)
    return _select(cx, _cmpf(cx, "uno", x, x, dt), x, _bin(cx, "addf", pos, tail, dt), dt)


@emits("sc.not")
def _not(cx, op, a):
    dt = _dt(op)
    return _bin(cx, "xori", a[0], cx.c(True if dt.is_bool else -1, dt), dt)


@emits("sc.isnan")
def _isnan(cx, op, a):
    return _cmpf(cx, "uno", a[0], a[0], _dt(op))


@emits("sc.isinf")
def _isinf(cx, op, a):
    dt = _dt(op)
    return _cmpf(cx, "oeq", _math(cx, "absf", dt, a[0]), cx.c(math.inf, dt), dt)


@emits("sc.copy")
def _copy(cx, op, a):
    return a[0]


@emits("sc.cast")
def _cast(cx, op, a):
    src, dst, x = _dt(op), op.attributes["dtype"], a[0]
    return convert(cx, x, src, dst)


def convert(cx: ScalarContext, x: str, src: T.DType, dst: T.DType) -> str:
    """Convert scalar ``x`` from ``src`` to ``dst`` with symcomp's cast semantics.

    Floats to integers truncate toward zero and saturate (NaN -> 0), as
    LLVM's ``fptosi.sat``/``fptoui.sat`` (NumPy leaves these undefined).
    """
    st, dtt = _ty(src), _ty(dst)
    if src == dst or (src.bits == dst.bits and not src.is_float and not dst.is_float and not dst.is_bool
                      and not src.is_bool):
        return x  # same type, or a signedness reinterpretation of one width
    if dst.is_bool:
        if src.is_float:
            return _cmpf(cx, "une", x, cx.c(0.0, src), src)
        return _cmpi(cx, "ne", x, cx.c(0, src), src)
    if src.is_float and dst.is_float:
        return cx.op(f"arith.{'truncf' if src.bits > dst.bits else 'extf'} {x} : {st} to {dtt}")
    if src.is_float:
        return _saturating_fptoi(cx, x, src, dst)
    if dst.is_float:
        conv = "sitofp" if _signed(src) else "uitofp"
        return cx.op(f"arith.{conv} {x} : {st} to {dtt}")
    if src.bits > dst.bits:
        return cx.op(f"arith.trunci {x} : {st} to {dtt}")
    ext = "extsi" if _signed(src) else "extui"
    return cx.op(f"arith.{ext} {x} : {st} to {dtt}")


def _saturating_fptoi(cx: ScalarContext, x: str, src: T.DType, dst: T.DType) -> str:
    n = dst.bits
    if _signed(dst):
        lo, hi, vmin, vmax, conv = -(2.0 ** (n - 1)), 2.0 ** (n - 1), -(2 ** (n - 1)), 2 ** (n - 1) - 1, "fptosi"
    else:
        lo, hi, vmin, vmax, conv = 0.0, 2.0 ** n, 0, 2 ** n - 1, "fptoui"
    lo_c, hi_c = cx.c(lo, src), cx.c(hi, src)
    ge_lo = _cmpf(cx, "oge", x, lo_c, src)
    lt_hi = _cmpf(cx, "olt", x, hi_c, src)
    inside = _bool(cx, "andi", ge_lo, lt_hi)
    safe = _select(cx, inside, x, cx.c(0.0, src), src)
    v = cx.op(f"arith.{conv} {safe} : {_ty(src)} to {_ty(dst)}")
    v = _select(cx, _cmpf(cx, "olt", x, lo_c, src), cx.c(vmin, dst), v, dst)
    return _select(cx, _cmpf(cx, "oge", x, hi_c, src), cx.c(vmax, dst), v, dst)


# -- binary ----------------------------------------------------------------------------------
def _arith(fop: str, iop: str) -> Emitter:
    return lambda cx, op, a: _bin(cx, fop if _dt(op).is_float else iop, a[0], a[1], _dt(op))


EMITTERS["sc.add"] = _arith("addf", "addi")
EMITTERS["sc.sub"] = _arith("subf", "subi")
EMITTERS["sc.mul"] = _arith("mulf", "muli")
EMITTERS["sc.div"] = _arith("divf", "divf")  # float operands only (type rule)
EMITTERS["sc.and"] = _arith("andi", "andi")
EMITTERS["sc.or"] = _arith("ori", "ori")
EMITTERS["sc.xor"] = _arith("xori", "xori")


def _safe_divisor(cx, dt, y):
    """(divisor with 0 and -1 replaced by 1, y == 0, y == -1 or None): no SIGFPE on x86."""
    zero, one = cx.c(0, dt), cx.c(1, dt)
    is0 = _cmpi(cx, "eq", y, zero, dt)
    if not _signed(dt):
        return _select(cx, is0, one, y, dt), is0, None
    ism1 = _cmpi(cx, "eq", y, cx.c(-1, dt), dt)
    return _select(cx, _bool(cx, "ori", is0, ism1), one, y, dt), is0, ism1


def _float_fmod_parts(cx, dt, x, y):
    zero = cx.c(0.0, dt)
    mod = _bin(cx, "remf", x, y, dt)
    mod_nz = _cmpf(cx, "une", mod, zero, dt)
    sign_differs = _bool(cx, "xori", _cmpf(cx, "olt", y, zero, dt), _cmpf(cx, "olt", mod, zero, dt))
    return mod, _bool(cx, "andi", mod_nz, sign_differs)


def _signed_zero(cx, dt, like):
    """copysign(0, like): +0.0 or -0.0 from the sign bit of ``like`` (NaNs included).

    Written with a bitcast rather than ``math.copysign``, which the pipeline's
    libm conversion does not handle.
    """
    ity = f"i{dt.bits}"
    negative = cx.op(f"arith.cmpi slt, {cx.op(f'arith.bitcast {like} : {_ty(dt)} to {ity}')}, "
                     f"{cx.w.const_typed('0', ity)} : {ity}")
    return _select(cx, negative, cx.c(-0.0, dt), cx.c(0.0, dt), dt)


def _int_adjust(cx, dt, r, y):
    """True where a truncated remainder ``r`` must move toward the divisor's sign."""
    zero = cx.c(0, dt)
    nz = _cmpi(cx, "ne", r, zero, dt)
    differ = _cmpi(cx, "slt", _bin(cx, "xori", r, y, dt), zero, dt)
    return _bool(cx, "andi", nz, differ)


@emits("sc.floordiv")
def _floordiv(cx, op, a):
    """NumPy's npy_floor_divide (floats) and Python's floor division (integers; x // 0 == 0)."""
    dt, x, y = _dt(op), a[0], a[1]
    if dt.is_float:
        zero, one, half = cx.c(0.0, dt), cx.c(1.0, dt), cx.c(0.5, dt)
        mod, adjust = _float_fmod_parts(cx, dt, x, y)
        div = _bin(cx, "divf", _bin(cx, "subf", x, mod, dt), y, dt)
        div = _select(cx, adjust, _bin(cx, "subf", div, one, dt), div, dt)
        fl = _math(cx, "floor", dt, div)
        fl = _select(cx, _cmpf(cx, "ogt", _bin(cx, "subf", div, fl, dt), half, dt), _bin(cx, "addf", fl, one, dt), fl, dt)
        quotient = _bin(cx, "divf", x, y, dt)
        signed_zero = _signed_zero(cx, dt, quotient)
        res = _select(cx, _cmpf(cx, "une", div, zero, dt), fl, signed_zero, dt)
        return _select(cx, _cmpf(cx, "oeq", y, zero, dt), quotient, res, dt)
    safe, is0, ism1 = _safe_divisor(cx, dt, y)
    zero = cx.c(0, dt)
    if not _signed(dt):
        return _select(cx, is0, zero, _bin(cx, "divui", x, safe, dt), dt)
    q = _bin(cx, "divsi", x, safe, dt)
    r = _bin(cx, "remsi", x, safe, dt)
    adj = cx.op(f"arith.extui {_int_adjust(cx, dt, r, y)} : i1 to {_ty(dt)}")
    q = _bin(cx, "subi", q, adj, dt)
    q = _select(cx, ism1, _bin(cx, "subi", zero, x, dt), q, dt)
    return _select(cx, is0, zero, q, dt)


@emits("sc.mod")
def _mod(cx, op, a):
    """x mod y with the sign of y (NumPy's npy_divmod for floats); x mod 0 == 0 for integers."""
    dt, x, y = _dt(op), a[0], a[1]
    if dt.is_float:
        zero = cx.c(0.0, dt)
        mod, adjust = _float_fmod_parts(cx, dt, x, y)
        mod = _select(cx, adjust, _bin(cx, "addf", mod, y, dt), mod, dt)
        mod = _select(cx, _cmpf(cx, "oeq", mod, zero, dt), _signed_zero(cx, dt, y), mod, dt)
        return _select(cx, _cmpf(cx, "oeq", y, zero, dt), _bin(cx, "remf", x, y, dt), mod, dt)
    safe, is0, _ = _safe_divisor(cx, dt, y)
    zero = cx.c(0, dt)
    if not _signed(dt):
        return _select(cx, is0, zero, _bin(cx, "remui", x, safe, dt), dt)
    r = _bin(cx, "remsi", x, safe, dt)
    r = _select(cx, _int_adjust(cx, dt, r, y), _bin(cx, "addi", r, y, dt), r, dt)
    return _select(cx, is0, zero, r, dt)


@emits("sc.pow")
def _pow(cx, op, a):
    """``math.powf`` for floats; ``math.ipowi`` for integers (wrapping, as NumPy).

    A negative signed exponent is reported as an error.  For unsigned
    exponents with the top bit set (negative to ``ipowi``), the power is split
    as ``x**(y & (2**(n-1) - 1)) * (x**(2**(n-2)))**2``, exact modulo ``2**n``.
    """
    dt, x, y = _dt(op), a[0], a[1]
    if dt.is_float:
        return _math(cx, "powf", dt, x, y)
    if _signed(dt):
        cx.check(_cmpi(cx, "slt", y, cx.c(0, dt), dt), ERR_NEGATIVE_POWER)
        return _math(cx, "ipowi", dt, x, y)
    n = dt.bits
    low = _math(cx, "ipowi", dt, x, _bin(cx, "andi", y, cx.c(2 ** (n - 1) - 1, dt), dt))
    quarter = _math(cx, "ipowi", dt, x, cx.c(2 ** (n - 2), dt))
    high = _bin(cx, "muli", low, _bin(cx, "muli", quarter, quarter, dt), dt)
    top = _cmpi(cx, "slt", y, cx.c(0, dt), dt)
    return _select(cx, top, high, low, dt)


def _extremum(kind: str, dt: T.DType) -> str:
    """The arith op of ``max``/``min`` for ``dt`` (NaN-propagating for floats)."""
    if dt.is_float:
        return f"{kind}imumf"
    return f"{kind}{'si' if _signed(dt) else 'ui'}"


EMITTERS["sc.maximum"] = lambda cx, op, a: _bin(cx, _extremum("max", _dt(op)), a[0], a[1], _dt(op))
EMITTERS["sc.minimum"] = lambda cx, op, a: _bin(cx, _extremum("min", _dt(op)), a[0], a[1], _dt(op))


@emits("sc.arctan2")
def _arctan2(cx, op, a):
    return _math(cx, "atan2", _dt(op), a[0], a[1])


_PREDICATES = {
    # op: (float predicate, signed predicate, unsigned predicate); != is unordered (true for NaN)
    "sc.eq": ("oeq", "eq", "eq"), "sc.ne": ("une", "ne", "ne"), "sc.lt": ("olt", "slt", "ult"),
    "sc.le": ("ole", "sle", "ule"), "sc.gt": ("ogt", "sgt", "ugt"), "sc.ge": ("oge", "sge", "uge"),
}


def _compare(preds) -> Emitter:
    def emit(cx, op, a):
        dt = _dt(op)
        if dt.is_float:
            return _cmpf(cx, preds[0], a[0], a[1], dt)
        return _cmpi(cx, preds[1] if _signed(dt) else preds[2], a[0], a[1], dt)

    return emit


for _op_name, _preds in _PREDICATES.items():
    EMITTERS[_op_name] = _compare(_preds)


@emits("sc.select")
def _select_op(cx, op, a):
    return _select(cx, a[0], a[1], a[2], _dt(op, 1))


# -- reductions ----------------------------------------------------------------------------
def combine(cx: ScalarContext, kind: str, dt: T.DType, acc: str, v: str) -> str:
    """One step of a reduction ``kind`` (``add``, ``mul``, ``max``, ``min``)."""
    if kind == "add":
        return _bin(cx, "addf" if dt.is_float else "addi", acc, v, dt)
    if kind == "mul":
        return _bin(cx, "mulf" if dt.is_float else "muli", acc, v, dt)
    if kind in ("max", "min"):
        return _bin(cx, _extremum(kind, dt), acc, v, dt)
    raise ValueError(f"unknown reduction {kind!r}")


def identity(kind: str, dt: T.DType):
    """The identity element of reduction ``kind`` over ``dt``."""
    if kind == "add":
        return 0
    if kind == "mul":
        return 1
    if dt.is_float:
        return -math.inf if kind == "max" else math.inf
    if dt.is_bool:
        return kind == "min"
    if dt.kind == "u":
        return 0 if kind == "max" else 2 ** dt.bits - 1
    return -(2 ** (dt.bits - 1)) if kind == "max" else 2 ** (dt.bits - 1) - 1


from symcomp.mlir import random as _random  # noqa: E402,F401  (the random ops' emitters register here)
