"""Canonicalization patterns for arithmetic: identities of +, -, *, /, negation, powers, casts, selects.

:data:`exact` holds the rules that give bit for bit the result of the expression
they replace for every input (NaN, infinities and signed zeros included; a rule
exact only for integers checks the dtype); :data:`fast` holds the rules that
are not exact in IEEE arithmetic, each saying what it changes.  The
``canonicalize`` pass (:mod:`symcomp.passes.canonicalize`) composes them.
"""

from __future__ import annotations

import numpy as np

from symcomp import tensor as T
from symcomp.ir.opdef import build
from symcomp.ir.ops import elementwise as E
from symcomp.passes.match import constant_like, is_splat, pairs, producer, replace_as, scalar_like, splat
from symcomp.passes.rewrite import PatternSet

exact = PatternSet("canonicalize-arith")
fast = PatternSet("canonicalize-arith-fast-math")


def _zero(c, negative: bool) -> bool:
    """``c`` is the additive identity: any zero for integers, ``-0.0`` (or ``+0.0``) for floats."""
    if c.type.dtype.is_float:
        return is_splat(c, 0, negative_zero=negative)
    return is_splat(c, 0)


# -- multiplication --------------------------------------------------------------------
@exact.pattern(E.Mul)
def mul_by_one(op, rw):
    """x * 1 -> x"""
    for x, c in pairs(op):
        if is_splat(c, 1) and replace_as(rw, op, x):
            return


@exact.pattern(E.Mul)
def mul_by_minus_one(op, rw):
    """x * -1 -> -x (floats and signed integers)"""
    if op.result.type.dtype.kind not in "fi":
        return
    for x, c in pairs(op):
        if is_splat(c, -1) and replace_as(rw, op, T.neg(x)):
            return


@exact.pattern(E.Mul)
def mul_int_by_zero(op, rw):
    """x * 0 -> 0 for integers (for floats, 0 * inf is NaN: fast-math only)"""
    if op.result.type.dtype.is_float:
        return
    for _, c in pairs(op):
        if is_splat(c, 0) and replace_as(rw, op, scalar_like(0, op.result.type, op)):
            return


# -- addition and subtraction ----------------------------------------------------------
@exact.pattern(E.Add)
def add_zero(op, rw):
    """x + (-0.0) -> x; x + 0 -> x for integers (x + 0.0 is +0.0 for x = -0.0: fast-math only)"""
    for x, c in pairs(op):
        if _zero(c, negative=True) and replace_as(rw, op, x):
            return


@exact.pattern(E.Add)
def add_neg(op, rw):
    """x + (-y) -> x - y (IEEE defines subtraction as adding the negation)"""
    for x, n in pairs(op):
        neg = producer(n, "sc.neg")
        if neg is not None and replace_as(rw, op, T.sub(x, neg.operands[0])):
            return


@exact.pattern(E.Sub)
def sub_zero(op, rw):
    """x - 0.0 -> x; x - 0 -> x for integers (x - (-0.0) is x + 0.0: fast-math only)"""
    x, c = op.operands
    if _zero(c, negative=False):
        replace_as(rw, op, x)


@exact.pattern(E.Sub)
def sub_neg(op, rw):
    """x - (-y) -> x + y"""
    x, n = op.operands
    neg = producer(n, "sc.neg")
    if neg is not None:
        replace_as(rw, op, T.add(x, neg.operands[0]))


@exact.pattern(E.Sub)
def zero_sub(op, rw):
    """(-0.0) - x -> -x; 0 - x -> -x for integers ((+0.0) - x is not -x for x = 0.0: fast-math only)"""
    c, x = op.operands
    if op.result.type.dtype.kind in "fi" and _zero(c, negative=True):
        replace_as(rw, op, T.neg(x))


@exact.pattern(E.Sub)
def sub_self_int(op, rw):
    """x - x -> 0 for integers (for floats inf - inf is NaN: fast-math only)"""
    x, y = op.operands
    if x is y and not op.result.type.dtype.is_float:
        replace_as(rw, op, scalar_like(0, op.result.type, op))


# -- division --------------------------------------------------------------------------
@exact.pattern(E.Div)
def div_by_one(op, rw):
    """x / 1 -> x"""
    x, c = op.operands
    if is_splat(c, 1):
        replace_as(rw, op, x)


@exact.pattern(E.Div)
def div_by_minus_one(op, rw):
    """x / -1 -> -x"""
    x, c = op.operands
    if is_splat(c, -1):
        replace_as(rw, op, T.neg(x))


def _exact_reciprocal(c):
    """1/c when c is a finite power of two whose reciprocal is finite (then x/c == x*(1/c) exactly)."""
    s = splat(c)
    if s is None or not np.isfinite(s) or s == 0:
        return None
    mant, _ = np.frexp(s)
    with np.errstate(all="ignore"):
        inv = (np.ones((), s.dtype) / s).astype(s.dtype)
    if abs(mant) != 0.5 or not np.isfinite(inv) or abs(np.frexp(inv)[0]) != 0.5:
        return None
    return inv


@exact.pattern(E.Div)
def div_by_power_of_two(op, rw):
    """x / 2**k -> x * 2**-k (exact: both round the same real number once)"""
    x, c = op.operands
    inv = _exact_reciprocal(c)
    if inv is not None and not is_splat(c, 1) and not is_splat(c, -1):
        replace_as(rw, op, T.mul(x, constant_like(inv, x)))


# -- negation and powers ---------------------------------------------------------------
@exact.pattern(E.Neg)
def neg_neg(op, rw):
    """-(-x) -> x"""
    inner = producer(op.operands[0], "sc.neg")
    if inner is not None:
        rw.replace(op, inner.operands[0])


@exact.pattern(E.Pow)
def pow_one(op, rw):
    """x ** 1 -> x"""
    x, y = op.operands
    if is_splat(y, 1):
        replace_as(rw, op, x)


@exact.pattern(E.Pow)
def pow_zero(op, rw):
    """x ** 0 -> 1 (also for NaN and integers)"""
    if is_splat(op.operands[1], 0):
        replace_as(rw, op, scalar_like(1, op.result.type, op))


@exact.pattern(E.Pow)
def pow_two(op, rw):
    """x ** 2 -> x * x"""
    x, y = op.operands
    if is_splat(y, 2):
        replace_as(rw, op, T.mul(x, x))


@exact.pattern(E.Pow)
def pow_minus_one(op, rw):
    """x ** -1 -> 1 / x (floats; an integer to a negative power is an error)"""
    x, y = op.operands
    if x.type.dtype.is_float and is_splat(y, -1):
        replace_as(rw, op, T.true_div(constant_like(1, x), x))


# -- casts, selects, min/max -----------------------------------------------------------
@exact.pattern(E.Cast)
def cast_same(op, rw):
    """cast(x, dtype of x) -> x"""
    if op.dtype == op.operands[0].type.dtype:
        rw.replace(op, op.operands[0])


@exact.pattern(E.Cast)
def cast_cast(op, rw):
    """cast(cast(x, A), B) -> cast(x, B) when x -> A is lossless (C casts depend on the value only)"""
    inner = producer(op.operands[0], "sc.cast")
    if inner is None:
        return
    x = inner.operands[0]
    if np.can_cast(x.type.dtype.np, inner.dtype.np, "safe"):
        rw.replace(op, T.cast(x, op.dtype))


@exact.pattern(E.Select)
def select_constant_condition(op, rw):
    """select(true, x, y) -> x; select(false, x, y) -> y"""
    c, x, y = op.operands
    s = splat(c)
    if s is not None:
        replace_as(rw, op, x if bool(s) else y)


@exact.pattern(E.Select)
def select_same_branches(op, rw):
    """select(c, x, x) -> x"""
    _, x, y = op.operands
    if x is y:
        replace_as(rw, op, x)


@exact.pattern(E.Select)
def select_not(op, rw):
    """select(~c, x, y) -> select(c, y, x)"""
    c, x, y = op.operands
    n = producer(c, "sc.not")
    if n is not None and n.operands[0].type.dtype.is_bool:
        rw.replace(op, build(E.Select, [n.operands[0], y, x]))


@exact.pattern(E.Maximum, E.Minimum)
def minmax_same(op, rw):
    """maximum(x, x) -> x; minimum(x, x) -> x"""
    x, y = op.operands
    if x is y:
        rw.replace(op, x)


# -- fast-math (not exact in IEEE arithmetic) ------------------------------------------
@fast.pattern(E.Mul)
def mul_by_zero(op, rw):
    """x * 0 -> 0 (wrong for x = inf or NaN, and loses the sign of -0.0)"""
    for _, c in pairs(op):
        if is_splat(c, 0) and replace_as(rw, op, scalar_like(0, op.result.type, op)):
            return


@fast.pattern(E.Add)
def add_any_zero(op, rw):
    """x + 0.0 -> x (wrong for x = -0.0)"""
    for x, c in pairs(op):
        if is_splat(c, 0) and replace_as(rw, op, x):
            return


@fast.pattern(E.Sub)
def sub_any_zero(op, rw):
    """x - (-0.0) -> x (wrong for x = -0.0)"""
    x, c = op.operands
    if is_splat(c, 0):
        replace_as(rw, op, x)


@fast.pattern(E.Sub)
def any_zero_sub(op, rw):
    """0.0 - x -> -x (wrong for x = 0.0)"""
    c, x = op.operands
    if is_splat(c, 0):
        replace_as(rw, op, T.neg(x))


@fast.pattern(E.Sub)
def sub_self(op, rw):
    """x - x -> 0 (wrong for inf and NaN)"""
    x, y = op.operands
    if x is y:
        replace_as(rw, op, scalar_like(0, op.result.type, op))


@fast.pattern(E.Div)
def div_self(op, rw):
    """x / x -> 1 (wrong for 0, inf and NaN)"""
    x, y = op.operands
    if x is y:
        replace_as(rw, op, scalar_like(1, op.result.type, op))


@fast.pattern(E.Div)
def div_by_constant(op, rw):
    """x / c -> x * (1/c) (up to one ULP off: 1/c is rounded)"""
    x, c = op.operands
    s = splat(c)
    if s is not None and np.isfinite(s) and s != 0:
        with np.errstate(all="ignore"):
            inv = (np.ones((), s.dtype) / s).astype(s.dtype)
        if np.isfinite(inv):
            replace_as(rw, op, T.mul(x, constant_like(inv, x)))


@fast.pattern(E.Pow)
def pow_half(op, rw):
    """x ** 0.5 -> sqrt(x) (pow(-0.0, 0.5) is 0.0 but sqrt(-0.0) is -0.0; pow(-inf, 0.5) is inf,
    sqrt(-inf) is NaN)"""
    x, y = op.operands
    if x.type.dtype.is_float and is_splat(y, 0.5):
        replace_as(rw, op, T.sqrt(x))


@fast.pattern(E.Add, E.Mul)
def reassociate_constants(op, rw):
    """(x + c1) + c2 -> x + (c1 + c2); (x * c1) * c2 -> x * (c1 * c2) (rounds once instead of twice)"""
    for inner_v, c2 in pairs(op):
        s2 = splat(c2)
        inner = producer(inner_v, op.name)
        if s2 is None or inner is None or len(inner.result.uses) != 1:
            continue
        for x, c1 in pairs(inner):
            s1 = splat(c1)
            if s1 is None:
                continue
            with np.errstate(all="ignore"):
                c = (s1 + s2) if op.name == "sc.add" else (s1 * s2)
            new = T.add(x, constant_like(c, x)) if op.name == "sc.add" else T.mul(x, constant_like(c, x))
            if replace_as(rw, op, new):
                return
