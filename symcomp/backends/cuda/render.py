"""Kernel source rendering: scalar code for every elementwise op, as Python for Numba CUDA.

Kernels are written as Python source (a table from op name to a template, as
tinygrad's and xDSL's renderers are tables), compiled by Numba CUDA to PTX.
The generated code uses only what both targets support: ``lib.<name>`` is
NVIDIA's libdevice on a GPU and :mod:`symcomp.backends.cuda.simlib` in the
simulator; dtype names (``float32``, ``int8``...) are Numba types, which cast
when called.  Every value is kept in its IR dtype (results of narrow integer
arithmetic are cast back, so they wrap as in NumPy); bool values are Python
bools in registers and ``uint8`` in memory.

Semantics follow the CPU backend (:mod:`symcomp.backends.cpu.codegen.scalar`): NumPy's
results, integer division and modulo by zero give 0, float to integer casts
saturate (NaN gives 0), and integer powers with a negative exponent raise an
error through the kernel's error flag.
"""

from __future__ import annotations

import hashlib
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.ops.elementwise import MATH_FUNCTIONS
from symcomp.registry import by_name


@dataclass(frozen=True)
class Var:
    """A named scalar in generated code and its dtype."""

    name: str
    dtype: T.DType


@dataclass(frozen=True)
class Param:
    """One kernel parameter: ``kind`` is "ptr", "array", "i64" or "scalar" (see driver.numba_type)."""

    name: str
    kind: str
    dtype: str = ""


@dataclass(frozen=True)
class KernelSpec:
    """A rendered kernel: its function name (unique per source), the source and its parameters."""

    name: str
    source: str
    params: tuple

    def signature(self) -> tuple:
        """The Numba argument types of the kernel."""
        from symcomp.backends.cuda.driver import numba_type

        return tuple(numba_type(p.kind, p.dtype) for p in self.params)


class Source:
    """Lines of one kernel function with indentation and fresh temporaries."""

    def __init__(self, family: str, params: list[Param]):
        self.family = family
        self.params = list(params)
        self.lines: list[str] = []
        self.depth = 1
        self.count = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    @contextmanager
    def block(self, header: str):
        """``header:`` followed by an indented block."""
        self.line(header + ":")
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def fresh(self, prefix: str = "t") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def let(self, expr: str, dtype: T.DType, prefix: str = "t") -> Var:
        """Bind ``expr`` to a fresh variable."""
        name = self.fresh(prefix)
        self.line(f"{name} = {expr}")
        return Var(name, dtype)

    def finish(self) -> KernelSpec:
        """The kernel spec; its name is the family plus a hash of the body (equal bodies share a kernel)."""
        args = ", ".join(p.name for p in self.params)
        body = "\n".join(self.lines)
        sig = ",".join(f"{p.name}:{p.kind}:{p.dtype}" for p in self.params)
        digest = hashlib.sha1((sig + "\n" + body).encode()).hexdigest()[:10]
        name = f"{self.family}_{digest}"
        return KernelSpec(name, f"def {name}({args}):\n{body}\n", tuple(self.params))


# -- constants, loads and stores -------------------------------------------------------------
def const(dt: T.DType, value) -> str:
    """A literal of dtype ``dt`` (NaN and infinities through the globals NAN and INF)."""
    if dt.is_bool:
        return "True" if bool(value) else "False"
    if dt.is_float:
        v = float(value)
        if math.isnan(v):
            text = "NAN"
        elif math.isinf(v):
            text = "INF" if v > 0 else "-INF"
        else:
            text = repr(v)
        return f"{dt.name}({text})"
    return f"{dt.name}({int(value)})"


def load(ptr: str, index: str, dt: T.DType) -> str:
    """Read element ``index`` of pointer ``ptr`` (bool stored as uint8)."""
    return f"({ptr}[{index}] != 0)" if dt.is_bool else f"{ptr}[{index}]"


def store(ptr: str, index: str, value: str, dt: T.DType) -> str:
    """Write ``value`` to element ``index`` of ``ptr``."""
    return f"{ptr}[{index}] = uint8({value})" if dt.is_bool else f"{ptr}[{index}] = {value}"


def scalar_param(name: str, dt: T.DType) -> str:
    """Read a by-value kernel parameter (bool passed as uint8)."""
    return f"({name} != 0)" if dt.is_bool else name


def lowest(dt: T.DType):
    """The smallest value of ``dt`` (-inf for floats)."""
    if dt.is_float:
        return -math.inf
    if dt.is_bool:
        return False
    return int(np.iinfo(dt.np).min)


def highest(dt: T.DType):
    """The largest value of ``dt`` (inf for floats)."""
    if dt.is_float:
        return math.inf
    if dt.is_bool:
        return True
    return int(np.iinfo(dt.np).max)


# -- scalar op templates ---------------------------------------------------------------------
Template = Callable[[Source, object, list, T.DType, "ErrorSink"], Var]
TEMPLATES: dict[str, Template] = {}


class ErrorSink:
    """Kernel-side error reporting: ``flag(cond, kind)`` writes ``ecode + kind`` to ``err[0]``
    unless an earlier error is recorded there (the first failing op is reported).

    A kernel that reports errors takes two extra parameters, ``err`` (a pointer to
    the plan's int64 error word) and ``ecode`` (the reporting op's code, so one
    compiled kernel serves every op).
    """

    def __init__(self, src: Source):
        self.src = src
        self.used = False

    def flag(self, cond: str, kind: int) -> None:
        self.used = True
        with self.src.block(f"if {cond} and err[0] == 0"):
            self.src.line(f"err[0] = ecode + {kind}")

    def params(self) -> list:
        """The extra parameters, when an error was flagged."""
        return [Param("err", "ptr", "int64"), Param("ecode", "i64")] if self.used else []


ERR_INDEX = 1
ERR_NEGATIVE_POWER = 2


template = by_name(TEMPLATES)
"""Decorator registering the decorated function for op names."""


def _f(dt: T.DType) -> str:
    """libdevice's suffix: ``expf`` for float32, ``exp`` for float64."""
    return "f" if dt.bits == 32 else ""


def _wrap(dt: T.DType, expr: str) -> str:
    """Cast integer arithmetic back to ``dt`` (Numba widens narrow integers; NumPy wraps)."""
    return f"{dt.name}({expr})" if dt.is_int else expr


def render_scalar(S: Source, op, args: list[Var], errors: ErrorSink) -> Var:
    """Emit the scalar code of elementwise ``op`` on ``args``; returns the result variable.

    Raises:
        NotImplementedError: for an op with no template, naming it.
    """
    try:
        tpl = TEMPLATES[op.name]
    except KeyError:
        raise NotImplementedError(f"the CUDA backend has no scalar code for {op.name}") from None
    return tpl(S, op, args, op.results[0].type.dtype, errors)


def _libcall(name):
    def tpl(S, op, a, rt, err):
        return S.let(f"lib.{name}{_f(rt)}({', '.join(v.name for v in a)})", rt)

    return tpl


_LIBDEVICE_NAMES = {"roundeven": "rint"}  # libdevice's rint rounds half to even (the default mode)
for _op, _fn in MATH_FUNCTIONS.items():
    TEMPLATES[_op] = _libcall(_LIBDEVICE_NAMES.get(_fn, _fn))


@template("sc.neg")
def _neg(S, op, a, rt, err):
    x = a[0].name
    return S.let(f"-{x}" if rt.is_float else f"{rt.name}({const(rt, 0)} - {x})", rt)


@template("sc.abs")
def _abs(S, op, a, rt, err):
    x = a[0].name
    if rt.is_float:
        return S.let(f"lib.fabs{_f(rt)}({x})", rt)
    if rt.kind == "u":
        return a[0]
    return S.let(f"{rt.name}({const(rt, 0)} - {x}) if {x} < {const(rt, 0)} else {x}", rt)


@template("sc.sign")
def _sign(S, op, a, rt, err):
    x = a[0].name
    one, zero = const(rt, 1), const(rt, 0)
    if rt.kind == "u":
        return S.let(f"{one} if {x} > {zero} else {zero}", rt)
    neg = f"{rt.name}(-1)"
    tail = x if rt.is_float else zero
    return S.let(f"{one} if {x} > {zero} else ({neg} if {x} < {zero} else {tail})", rt)


@template("sc.sigmoid")
def _sigmoid(S, op, a, rt, err):
    one = const(rt, 1)
    return S.let(f"{one} / ({one} + lib.exp{_f(rt)}(-{a[0].name}))", rt)


@template("sc.softplus")
def _softplus(S, op, a, rt, err):
    x, f = a[0].name, _f(rt)
    tail = S.let(f"lib.log1p{f}(lib.exp{f}(-lib.fabs{f}({x})))", rt)
    zero = const(rt, 0)
    return S.let(f"{x} if {x} != {x} else (({x} if {x} > {zero} else {zero}) + {tail.name})", rt)


@template("sc.not")
def _not(S, op, a, rt, err):
    x = a[0].name
    return S.let(f"not {x}" if rt.is_bool else f"{rt.name}(~{x})", rt)


@template("sc.isnan")
def _isnan(S, op, a, rt, err):
    return S.let(f"{a[0].name} != {a[0].name}", rt)


@template("sc.isinf")
def _isinf(S, op, a, rt, err):
    return S.let(f"lib.fabs{_f(a[0].dtype)}({a[0].name}) == INF", rt)


@template("sc.copy")
def _copy(S, op, a, rt, err):
    return a[0]


@template("sc.cast")
def _cast(S, op, a, rt, err):
    return cast(S, a[0], rt)


def cast(S: Source, x: Var, dst: T.DType) -> Var:
    """Convert ``x`` to ``dst``: C semantics, except that float to integer saturates (NaN gives 0)."""
    src, v = x.dtype, x.name
    if src == dst:
        return x
    if dst.is_bool:
        return S.let(f"{v} != 0", dst)
    if src.is_bool:
        return S.let(f"{const(dst, 1)} if {v} else {const(dst, 0)}", dst)
    if src.is_float and dst.is_int:
        signed = dst.kind == "i"
        top = float(2 ** (dst.bits - 1 if signed else dst.bits))
        bottom = -top if signed else 0.0
        hi, lo = const(dst, highest(dst)), const(dst, lowest(dst))
        return S.let(f"{const(dst, 0)} if {v} != {v} else ({hi} if {v} >= {top!r} else "
                     f"({lo} if {v} <= {bottom!r} else {dst.name}({v})))", dst)
    return S.let(f"{dst.name}({v})", dst)


def _infix(sym):
    """``a <sym> b`` in Python, wrapped to the result dtype."""

    def tpl(S, op, a, rt, err):
        return S.let(_wrap(rt, f"{a[0].name} {sym} {a[1].name}"), rt)

    return tpl


for _name, _sym in (("sc.add", "+"), ("sc.sub", "-"), ("sc.mul", "*"), ("sc.div", "/"),  # div: floats only
                    ("sc.and", "&"), ("sc.or", "|"), ("sc.xor", "^")):
    TEMPLATES[_name] = _infix(_sym)


def _float_divmod(S, x: str, y: str, rt: T.DType):
    """NumPy's npy_divmod for floats (numpy/_core/src/npymath/npy_math_internal.h.src): (floordiv, mod)."""
    f = _f(rt)
    zero, one = const(rt, 0), const(rt, 1)
    mod = S.let(f"lib.fmod{f}({x}, {y})", rt).name
    div = S.let(f"({x} - {mod}) / {y}", rt).name
    adj = S.fresh("t")
    S.line(f"{adj} = {mod} != {zero} and (({y} < {zero}) != ({mod} < {zero}))")
    S.line(f"{div} = {div} - {one} if {adj} else {div}")
    fl = S.let(f"lib.floor{f}({div})", rt).name
    S.line(f"{fl} = {fl} + {one} if {div} - {fl} > {const(rt, 0.5)} else {fl}")
    floordiv = S.let(f"{fl} if {div} != {zero} else lib.copysign{f}({zero}, {x} / {y})", rt).name
    S.line(f"{mod} = {mod} + {y} if {adj} else {mod}")
    S.line(f"{mod} = {mod} if {mod} != {zero} else lib.copysign{f}({zero}, {y})")
    return floordiv, mod


@template("sc.floordiv")
def _floordiv(S, op, a, rt, err):
    x, y = a[0].name, a[1].name
    if rt.is_float:
        q, _ = _float_divmod(S, x, y, rt)
        return S.let(f"{x} / {y} if {y} == {const(rt, 0)} else {q}", rt)
    r = S.fresh("t")
    S.line(f"{r} = {const(rt, 0)}")
    with S.block(f"if {y} != {const(rt, 0)}"):
        if rt.kind == "i":
            S.line(f"{r} = {rt.name}({const(rt, 0)} - {x}) if {y} == {rt.name}(-1) else {rt.name}({x} // {y})")
        else:
            S.line(f"{r} = {rt.name}({x} // {y})")
    return Var(r, rt)


@template("sc.mod")
def _mod(S, op, a, rt, err):
    x, y = a[0].name, a[1].name
    if rt.is_float:
        _, m = _float_divmod(S, x, y, rt)
        return S.let(f"lib.fmod{_f(rt)}({x}, {y}) if {y} == {const(rt, 0)} else {m}", rt)
    r = S.fresh("t")
    S.line(f"{r} = {const(rt, 0)}")
    cond = f"{y} != {const(rt, 0)}" + (f" and {y} != {rt.name}(-1)" if rt.kind == "i" else "")
    with S.block(f"if {cond}"):
        S.line(f"{r} = {rt.name}({x} % {y})")
    return Var(r, rt)


@template("sc.pow")
def _pow(S, op, a, rt, err):
    x, y = a[0].name, a[1].name
    if rt.is_float:
        return S.let(f"lib.pow{_f(rt)}({x}, {y})", rt)
    if rt.kind == "i":
        err.flag(f"{y} < {const(rt, 0)}", ERR_NEGATIVE_POWER)
    r, b, e = S.fresh("t"), S.fresh("t"), S.fresh("t")
    S.line(f"{r} = {const(rt, 1)}")
    S.line(f"{b} = {x}")
    S.line(f"{e} = {y}")
    with S.block(f"while {e} > {const(rt, 0)}"):
        with S.block(f"if {e} & {const(rt, 1)}"):
            S.line(f"{r} = {rt.name}({r} * {b})")
        S.line(f"{b} = {rt.name}({b} * {b})")
        S.line(f"{e} = {e} >> {const(rt, 1)}")
    return Var(r, rt)


def maximum(x: str, y: str, dt: T.DType) -> str:
    """np.maximum: NaN propagates."""
    if dt.is_float:
        return f"{x} if ({x} >= {y} or {x} != {x}) else {y}"
    return f"{x} if {x} >= {y} else {y}"


def minimum(x: str, y: str, dt: T.DType) -> str:
    """np.minimum: NaN propagates."""
    if dt.is_float:
        return f"{x} if ({x} <= {y} or {x} != {x}) else {y}"
    return f"{x} if {x} <= {y} else {y}"


@template("sc.maximum")
def _maximum(S, op, a, rt, err):
    return S.let(maximum(a[0].name, a[1].name, rt), rt)


@template("sc.minimum")
def _minimum(S, op, a, rt, err):
    return S.let(minimum(a[0].name, a[1].name, rt), rt)


def _compare(sym):
    def tpl(S, op, a, rt, err):
        return S.let(f"{a[0].name} {sym} {a[1].name}", rt)

    return tpl


for _name, _sym in {"sc.eq": "==", "sc.ne": "!=", "sc.lt": "<", "sc.le": "<=", "sc.gt": ">", "sc.ge": ">="}.items():
    TEMPLATES[_name] = _compare(_sym)


@template("sc.select")
def _select(S, op, a, rt, err):
    return S.let(f"{a[1].name} if {a[0].name} else {a[2].name}", rt)


# -- reductions --------------------------------------------------------------------------------
def identity(kind: str, dt: T.DType):
    """The identity element of reduction ``kind`` ("add", "mul", "max", "min") in ``dt``."""
    return {"add": 0, "mul": 1, "max": lowest(dt), "min": highest(dt)}[kind]


def combine(kind: str, x: str, y: str, dt: T.DType) -> str:
    """An expression combining two partial results of reduction ``kind`` (bool: or/and)."""
    if dt.is_bool:
        return f"{x} | {y}" if kind in ("add", "max") else f"{x} & {y}"
    if kind == "add":
        return _wrap(dt, f"{x} + {y}")
    if kind == "mul":
        return _wrap(dt, f"{x} * {y}")
    return maximum(x, y, dt) if kind == "max" else minimum(x, y, dt)


def arg_better(kind: str, v: str, i: str, bv: str, bi: str, dt: T.DType) -> str:
    """True when candidate (v, i) beats (bv, bi) for argmax/argmin: the first extremum, the first NaN."""
    cmp = ">" if kind == "argmax" else "<"
    plain = f"{v} {cmp} {bv} or ({v} == {bv} and {i} < {bi})"
    if not dt.is_float:
        return plain
    return f"{plain} or ({v} != {v} and ({bv} == {bv} or {i} < {bi}))"


def cast_expr(dt: T.DType, expr: str) -> str:
    """``expr`` converted to ``dt`` for a store (integer arithmetic wraps)."""
    return _wrap(dt, expr)


from symcomp.backends.cuda import random as _random  # noqa: E402,F401  (the random ops' templates)
