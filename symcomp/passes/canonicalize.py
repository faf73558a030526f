"""Canonicalization: algebraic simplifications that are exact in IEEE 754 arithmetic.

Every pattern in :data:`canonical` gives bit-for-bit the result of the
expression it replaces, for every input, NaN, infinities and signed zeros
included (where a rule is exact only for integers, it checks the dtype).
Rules that are *not* exact in IEEE arithmetic live in :data:`fast_math` and
run only with ``canonicalize{fast-math=true}``; each says what it changes.
Two notes on "exact":

* ``pow`` is taken to be correctly rounded (as IEEE 754 recommends), so
  ``x**2 -> x*x`` and ``x**-1 -> 1/x`` give the correctly rounded value;
  libm's ``pow`` may be off by an ULP, the rewritten form is not.
* ``sum(broadcast_to(x))`` becomes ``x * count``: the correctly rounded value
  of the sum, where the loop accumulated one rounding error per term.

Replacements keep result types identical: when a rewrite drops an operand
that broadcast the result (``x * ones((3, 4))`` with ``x`` of shape ``(1, 4)``),
the replacement is broadcast back (:func:`~symcomp.passes.match.as_type`).
A rewrite may drop a run-time shape check of an operand it removes (the
program would otherwise have raised ValueError); it never changes a result.

The patterns follow PyTensor's ``local_*`` rewrites and MLIR's arith
canonicalizations (``arith.mulf %x, 1.0`` folds, ``arith.addf %x, -0.0``
folds, ``arith.addf %x, 0.0`` does not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symcomp.ir.opdef import Elementwise, Reduction, build
from symcomp.ir.ops import elementwise as E
from symcomp.ir.ops import reduction as R
from symcomp.ir.ops import shape as S
from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.match import is_splat, producer, replace_as, scalar_like, splat
from symcomp.passes.rewrite import PatternSet, apply_greedily

canonical = PatternSet("canonicalize")
fast_math = PatternSet("canonicalize-fast-math")


def _T():
    from symcomp import tensor as T

    return T


def _pairs(op):
    """(operand, other operand) pairs of a commutative binary op."""
    a, b = op.operands
    return ((a, b), (b, a))


def _zero(c, negative: bool) -> bool:
    """``c`` is the additive identity: any zero for integers, ``-0.0`` (or ``+0.0``) for floats."""
    if c.type.dtype.is_float:
        return is_splat(c, 0, negative_zero=negative)
    return is_splat(c, 0)


def _const(value, like):
    """A rank-0 constant of ``like``'s dtype."""
    return _T().constant(np.asarray(value, dtype=like.type.dtype.np))


# -- multiplication --------------------------------------------------------------------
@canonical.pattern(E.Mul)
def mul_by_one(op, rw):
    """x * 1 -> x"""
    for x, c in _pairs(op):
        if is_splat(c, 1) and replace_as(rw, op, x):
            return


@canonical.pattern(E.Mul)
def mul_by_minus_one(op, rw):
    """x * -1 -> -x (floats and signed integers)"""
    if op.result.type.dtype.kind not in "fi":
        return
    for x, c in _pairs(op):
        if is_splat(c, -1) and replace_as(rw, op, _T().neg(x)):
            return


@canonical.pattern(E.Mul)
def mul_int_by_zero(op, rw):
    """x * 0 -> 0 for integers (for floats, 0 * inf is NaN: fast-math only)"""
    if op.result.type.dtype.is_float:
        return
    for _, c in _pairs(op):
        if is_splat(c, 0) and replace_as(rw, op, scalar_like(0, op.result.type, op)):
            return


# -- addition and subtraction -------------------------------------------------------------
@canonical.pattern(E.Add)
def add_zero(op, rw):
    """x + (-0.0) -> x; x + 0 -> x for integers (x + 0.0 is +0.0 for x = -0.0: fast-math only)"""
    for x, c in _pairs(op):
        if _zero(c, negative=True) and replace_as(rw, op, x):
            return


@canonical.pattern(E.Add)
def add_neg(op, rw):
    """x + (-y) -> x - y (IEEE defines subtraction as adding the negation)"""
    for x, n in _pairs(op):
        neg = producer(n, "sc.neg")
        if neg is not None and replace_as(rw, op, _T().sub(x, neg.operands[0])):
            return


@canonical.pattern(E.Sub)
def sub_zero(op, rw):
    """x - 0.0 -> x; x - 0 -> x for integers (x - (-0.0) is x + 0.0: fast-math only)"""
    x, c = op.operands
    if _zero(c, negative=False):
        replace_as(rw, op, x)


@canonical.pattern(E.Sub)
def sub_neg(op, rw):
    """x - (-y) -> x + y"""
    x, n = op.operands
    neg = producer(n, "sc.neg")
    if neg is not None:
        replace_as(rw, op, _T().add(x, neg.operands[0]))


@canonical.pattern(E.Sub)
def zero_sub(op, rw):
    """(-0.0) - x -> -x; 0 - x -> -x for integers ((+0.0) - x is not -x for x = 0.0: fast-math only)"""
    c, x = op.operands
    if op.result.type.dtype.kind in "fi" and _zero(c, negative=True):
        replace_as(rw, op, _T().neg(x))


@canonical.pattern(E.Sub)
def sub_self_int(op, rw):
    """x - x -> 0 for integers (for floats inf - inf is NaN: fast-math only)"""
    x, y = op.operands
    if x is y and not op.result.type.dtype.is_float:
        replace_as(rw, op, scalar_like(0, op.result.type, op))


# -- division ---------------------------------------------------------------------------
@canonical.pattern(E.Div)
def div_by_one(op, rw):
    """x / 1 -> x"""
    x, c = op.operands
    if is_splat(c, 1):
        replace_as(rw, op, x)


@canonical.pattern(E.Div)
def div_by_minus_one(op, rw):
    """x / -1 -> -x"""
    x, c = op.operands
    if is_splat(c, -1):
        replace_as(rw, op, _T().neg(x))


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


@canonical.pattern(E.Div)
def div_by_power_of_two(op, rw):
    """x / 2**k -> x * 2**-k (exact: both round the same real number once)"""
    x, c = op.operands
    inv = _exact_reciprocal(c)
    if inv is not None and not is_splat(c, 1) and not is_splat(c, -1):
        replace_as(rw, op, _T().mul(x, _const(inv, x)))


# -- negation and powers ----------------------------------------------------------------
@canonical.pattern(E.Neg)
def neg_neg(op, rw):
    """-(-x) -> x"""
    inner = producer(op.operands[0], "sc.neg")
    if inner is not None:
        rw.replace(op, inner.operands[0])


@canonical.pattern(E.Pow)
def pow_one(op, rw):
    """x ** 1 -> x"""
    x, y = op.operands
    if is_splat(y, 1):
        replace_as(rw, op, x)


@canonical.pattern(E.Pow)
def pow_zero(op, rw):
    """x ** 0 -> 1 (also for NaN and integers)"""
    if is_splat(op.operands[1], 0):
        replace_as(rw, op, scalar_like(1, op.result.type, op))


@canonical.pattern(E.Pow)
def pow_two(op, rw):
    """x ** 2 -> x * x"""
    x, y = op.operands
    if is_splat(y, 2):
        replace_as(rw, op, _T().mul(x, x))


@canonical.pattern(E.Pow)
def pow_minus_one(op, rw):
    """x ** -1 -> 1 / x (floats; an integer to a negative power is an error)"""
    x, y = op.operands
    if x.type.dtype.is_float and is_splat(y, -1):
        replace_as(rw, op, _T().true_div(_const(1, x), x))


# -- shapes -----------------------------------------------------------------------------
@canonical.pattern(S.Transpose)
def transpose_identity(op, rw):
    """transpose(x, [0, 1, ...]) -> x"""
    if list(op.perm) == list(range(len(op.perm))):
        rw.replace(op, op.operands[0])


@canonical.pattern(S.Transpose)
def transpose_transpose(op, rw):
    """transpose(transpose(x, p), q) -> transpose(x, [p[i] for i in q])"""
    inner = producer(op.operands[0], "sc.transpose")
    if inner is not None:
        perm = [inner.perm[i] for i in op.perm]
        rw.replace(op, _T().transpose(inner.operands[0], perm))


@canonical.pattern(S.Transpose)
def transpose_expand_dims(op, rw):
    """transpose(expand_dims(x, a), p) -> expand_dims(transpose(x, q), b): new axes move outwards
    (size-1 axes hold no data; with the two rules below, view chains reach the normal form
    expand_dims(transpose(squeeze(x))))"""
    inner = producer(op.operands[0], "sc.expand_dims")
    if inner is None:
        return
    xpos, k = {}, 0
    for p in range(inner.result.type.ndim):
        if p not in inner.axes:
            xpos[p], k = k, k + 1
    new = [i for i, p in enumerate(op.perm) if p in inner.axes]
    q = [xpos[p] for p in op.perm if p not in inner.axes]
    rw.replace(op, _T().expand_dims(_T().transpose(inner.operands[0], q), new))


@canonical.pattern(S.Squeeze)
def squeeze_transpose(op, rw):
    """squeeze(transpose(x, p), a) -> transpose(squeeze(x, p[a]), q): squeezes move inwards"""
    inner = producer(op.operands[0], "sc.transpose")
    if inner is None:
        return
    x, perm = inner.operands[0], inner.perm
    removed = sorted(perm[i] for i in op.axes)
    q = [perm[i] - sum(1 for r in removed if r < perm[i]) for i in range(len(perm)) if i not in op.axes]
    rw.replace(op, _T().transpose(build(S.Squeeze, [x], axes=tuple(removed)), q))


@canonical.pattern(S.ExpandDims, S.Squeeze)
def no_axes(op, rw):
    """expand_dims(x, []) -> x; squeeze(x, []) -> x"""
    if not op.axes:
        rw.replace(op, op.operands[0])


@canonical.pattern(S.ExpandDims)
def expand_dims_expand_dims(op, rw):
    """expand_dims(expand_dims(x, a), b) -> expand_dims(x, a and b composed)"""
    inner = producer(op.operands[0], "sc.expand_dims")
    if inner is None:
        return
    n = op.result.type.ndim
    outer_new = set(op.axes)
    kept = [p for p in range(n) if p not in outer_new]  # positions of the inner result's dims
    new = sorted(outer_new | {kept[j] for j in inner.axes})
    rw.replace(op, _T().expand_dims(inner.operands[0], new))


@canonical.pattern(S.Squeeze)
def squeeze_squeeze(op, rw):
    """squeeze(squeeze(x, a), b) -> squeeze(x, a and b composed)"""
    inner = producer(op.operands[0], "sc.squeeze")
    if inner is None:
        return
    x = inner.operands[0]
    remaining = [i for i in range(x.type.ndim) if i not in inner.axes]
    removed = sorted(set(inner.axes) | {remaining[j] for j in op.axes})
    rw.replace(op, build(S.Squeeze, [x], axes=tuple(removed)))


@canonical.pattern(S.Squeeze)
def squeeze_expand_dims(op, rw):
    """squeeze(expand_dims(x, a), b) -> expand_dims(squeeze(x, c), d): new axes that are
    squeezed cancel (x itself when all do)"""
    inner = producer(op.operands[0], "sc.expand_dims")
    if inner is None:
        return
    x = inner.operands[0]
    items, k = [], 0
    for p in range(inner.result.type.ndim):
        if p in inner.axes:
            items.append(None)
        else:
            items.append(k)
            k += 1
    removed_x = [items[p] for p in op.axes if items[p] is not None]
    kept = [it for p, it in enumerate(items) if p not in op.axes]
    new_pos = [j for j, it in enumerate(kept) if it is None]
    y = build(S.Squeeze, [x], axes=tuple(removed_x)) if removed_x else x
    rw.replace(op, _T().expand_dims(y, new_pos))


@canonical.pattern(S.ExpandDims)
def expand_dims_squeeze(op, rw):
    """expand_dims(squeeze(x, a), b) -> x when the result has x's type (size-1 axes back in place)"""
    inner = producer(op.operands[0], "sc.squeeze")
    if inner is not None and inner.operands[0].type == op.result.type:
        rw.replace(op, inner.operands[0])


def _static_dyn(op, first_dyn: int):
    """(new shape spec, remaining dynamic operands) with constant '?' operands folded in, or None."""
    dyn = op.operands[first_dyn:]
    if not any(producer(v, "sc.constant") is not None for v in dyn):
        return None
    spec, rest, it = [], [], iter(dyn)
    for s in op.shape:
        if s is not None:
            spec.append(s)
            continue
        v = next(it)
        c = producer(v, "sc.constant")
        if c is None:
            spec.append(None)
            rest.append(v)
        else:
            spec.append(int(c.attributes["value"]))
    return tuple(spec), rest


@canonical.pattern(S.Reshape, S.BroadcastTo)
def constant_sizes(op, rw):
    """reshape/broadcast_to with a '?' size given by a constant -> the size in the attribute"""
    r = _static_dyn(op, 1)
    if r is not None:
        spec, rest = r
        rw.replace(op, build(type(op), [op.operands[0], *rest], shape=spec))


@canonical.pattern(S.Reshape)
def reshape_identity(op, rw):
    """reshape(x, s) -> x when the result has x's type and at most one size is dynamic"""
    x = op.operands[0]
    if op.result.type == x.type and sum(d is None for d in x.type.shape) <= 1:
        rw.replace(op, x)


@canonical.pattern(S.Reshape)
def reshape_reshape(op, rw):
    """reshape(reshape(x, s1), s2) -> reshape(x, s2) when the inner reshape is valid statically
    (x has a static shape, or s1 is [-1])"""
    inner = producer(op.operands[0], "sc.reshape")
    if inner is None:
        return
    x = inner.operands[0]
    if not (x.type.is_static or tuple(inner.shape) == (-1,)):
        return
    rw.replace(op, build(S.Reshape, [x, *op.operands[1:]], shape=op.shape))


# -- reductions -------------------------------------------------------------------------
@canonical.pattern(R.Sum, R.Prod, R.Max, R.Min)
def reduce_no_axes(op, rw):
    """reduce(x, axes=[]) -> x"""
    if not op.axes:
        rw.replace(op, op.operands[0])


def _sum_of_broadcast(op, rw, dynamic_ok: bool):
    T = _T()
    b = op.operands[0]
    bop = producer(b, "sc.broadcast_to")
    if bop is None:
        return
    x = bop.operands[0]
    n, k = b.type.ndim, x.type.ndim
    lead = n - k
    stretched = [a for a in op.axes if a < lead or (x.type.shape[a - lead] == 1 and b.type.shape[a] != 1)]
    if not stretched:
        return
    exact_int = not op.result.type.dtype.is_float
    static = [b.type.shape[a] for a in stretched]
    if not exact_int and not dynamic_ok and any(d is None or d == 0 for d in static):
        return
    real = [a - lead for a in op.axes if a not in stretched]
    y = T.sum(x, axis=real, keepdims=True) if real else x
    drop = [a - lead for a in op.axes if a >= lead]
    y = T.squeeze(y, drop) if drop else y
    count = 1
    for a in stretched:
        count = count * (b.type.shape[a] if b.type.shape[a] is not None else T.shape(b)[a])
    y = y * (_const(count, y) if isinstance(count, int) else T.cast(count, y.type.dtype))
    dims = [b.type.shape[a] if b.type.shape[a] is not None else T.shape(b)[a]
            for a in range(n) if a not in op.axes]
    if y.type.shape != op.result.type.shape:
        y = T.broadcast_to(y, dims)
    if y.type == op.result.type:
        rw.replace(op, y)


@canonical.pattern(R.Sum)
def sum_of_broadcast(op, rw):
    """sum(broadcast_to(x), axes) -> sum(x, axes x really has) * count of the broadcast axes
    (static non-zero counts; integers always)"""
    _sum_of_broadcast(op, rw, dynamic_ok=False)


# -- casts, selects, min/max, dims --------------------------------------------------------
@canonical.pattern(E.Cast)
def cast_same(op, rw):
    """cast(x, dtype of x) -> x"""
    if op.dtype == op.operands[0].type.dtype:
        rw.replace(op, op.operands[0])


@canonical.pattern(E.Cast)
def cast_cast(op, rw):
    """cast(cast(x, A), B) -> cast(x, B) when x -> A is lossless (C casts depend on the value only)"""
    inner = producer(op.operands[0], "sc.cast")
    if inner is None:
        return
    x = inner.operands[0]
    if np.can_cast(x.type.dtype.np, inner.dtype.np, "safe"):
        rw.replace(op, _T().cast(x, op.dtype))


@canonical.pattern(E.Select)
def select_constant_condition(op, rw):
    """select(true, x, y) -> x; select(false, x, y) -> y"""
    c, x, y = op.operands
    s = splat(c)
    if s is not None:
        replace_as(rw, op, x if bool(s) else y)


@canonical.pattern(E.Select)
def select_same_branches(op, rw):
    """select(c, x, x) -> x"""
    _, x, y = op.operands
    if x is y:
        replace_as(rw, op, x)


@canonical.pattern(E.Select)
def select_not(op, rw):
    """select(~c, x, y) -> select(c, y, x)"""
    c, x, y = op.operands
    n = producer(c, "sc.not")
    if n is not None and n.operands[0].type.dtype.is_bool:
        rw.replace(op, build(E.Select, [n.operands[0], y, x]))


@canonical.pattern(E.Maximum, E.Minimum)
def minmax_same(op, rw):
    """maximum(x, x) -> x; minimum(x, x) -> x"""
    x, y = op.operands
    if x is y:
        rw.replace(op, x)


_SAME_SHAPE = ("sc.softmax", "sc.log_softmax", "sc.copy")


@canonical.pattern(S.Dim)
def dim_through_ops(op, rw):
    """dim(f(x, ...), a) -> dim(x, a') where axis a of f's result is axis a' of operand x
    (elementwise ops, views, reductions, dot, indexing; Theano's rule makes every dynamic
    size along an axis equal)"""
    T = _T()
    v, a = op.operands[0], op.axis
    o = v.owner
    if o is None:
        return
    src = None
    if o.name == "sc.transpose":
        src = (o.operands[0], o.perm[a])
    elif o.name == "sc.expand_dims":
        if a not in o.axes:
            src = (o.operands[0], a - sum(1 for p in o.axes if p < a))
    elif o.name == "sc.squeeze":
        kept = [i for i in range(o.operands[0].type.ndim) if i not in o.axes]
        src = (o.operands[0], kept[a])
    elif o.name == "sc.broadcast_to" and o.shape[a] is None:
        d = o.operands[1 + sum(1 for s in o.shape[:a] if s is None)]
        if d.type == op.result.type:
            rw.replace(op, d)
        return
    elif o.has_trait(Reduction) or (o.name == "sc.fused" and o.reduce):
        kept = [i for i in range(o.operands[0].type.ndim) if i not in o.axes]
        u = next((u for u in o.operands if u.type.shape[kept[a]] is None), o.operands[0])
        src = (u, kept[a])
    elif o.name == "sc.dot":
        x, y = o.operands
        src = (x, a) if a < x.type.ndim - 1 else (y, a - x.type.ndim + 2)
    elif o.name == "sc.advanced_subtensor":
        x, idx = o.operands[0], o.operands[1:]
        nb = idx[0].type.ndim
        if a < o.axis:
            src = (x, a)
        elif a >= o.axis + nb:
            src = (x, a - nb + len(idx))
        else:
            u = next((u for u in idx if u.type.shape[a - o.axis] is None), None)
            src = None if u is None else (u, a - o.axis)
    elif (o.name == "sc.fused" and not o.reduce) or Elementwise in o.traits or o.name in _SAME_SHAPE:
        u = next((u for u in o.operands if u.type.ndim == v.type.ndim and u.type.shape[a] is None), None)
        if u is not None:
            src = (u, a)
    if src is not None:
        x, b = src
        rw.replace(op, T.shape(x)[b] if x.type.shape[b] is None else _const(x.type.shape[b], op.result))


# -- fast-math (not exact in IEEE arithmetic) -----------------------------------------------
@fast_math.pattern(E.Mul)
def mul_by_zero(op, rw):
    """x * 0 -> 0 (wrong for x = inf or NaN, and loses the sign of -0.0)"""
    for _, c in _pairs(op):
        if is_splat(c, 0) and replace_as(rw, op, scalar_like(0, op.result.type, op)):
            return


@fast_math.pattern(E.Add)
def add_any_zero(op, rw):
    """x + 0.0 -> x (wrong for x = -0.0)"""
    for x, c in _pairs(op):
        if is_splat(c, 0) and replace_as(rw, op, x):
            return


@fast_math.pattern(E.Sub)
def sub_any_zero(op, rw):
    """x - (-0.0) -> x (wrong for x = -0.0)"""
    x, c = op.operands
    if is_splat(c, 0):
        replace_as(rw, op, x)


@fast_math.pattern(E.Sub)
def any_zero_sub(op, rw):
    """0.0 - x -> -x (wrong for x = 0.0)"""
    c, x = op.operands
    if is_splat(c, 0):
        replace_as(rw, op, _T().neg(x))


@fast_math.pattern(E.Sub)
def sub_self(op, rw):
    """x - x -> 0 (wrong for inf and NaN)"""
    x, y = op.operands
    if x is y:
        replace_as(rw, op, scalar_like(0, op.result.type, op))


@fast_math.pattern(E.Div)
def div_self(op, rw):
    """x / x -> 1 (wrong for 0, inf and NaN)"""
    x, y = op.operands
    if x is y:
        replace_as(rw, op, scalar_like(1, op.result.type, op))


@fast_math.pattern(E.Div)
def div_by_constant(op, rw):
    """x / c -> x * (1/c) (up to one ULP off: 1/c is rounded)"""
    x, c = op.operands
    s = splat(c)
    if s is not None and np.isfinite(s) and s != 0:
        with np.errstate(all="ignore"):
            inv = (np.ones((), s.dtype) / s).astype(s.dtype)
        if np.isfinite(inv):
            replace_as(rw, op, _T().mul(x, _const(inv, x)))


@fast_math.pattern(E.Pow)
def pow_half(op, rw):
    """x ** 0.5 -> sqrt(x) (pow(-0.0, 0.5) is 0.0 but sqrt(-0.0) is -0.0; pow(-inf, 0.5) is inf,
    sqrt(-inf) is NaN)"""
    x, y = op.operands
    if x.type.dtype.is_float and is_splat(y, 0.5):
        replace_as(rw, op, _T().sqrt(x))


@fast_math.pattern(E.Add, E.Mul)
def reassociate_constants(op, rw):
    """(x + c1) + c2 -> x + (c1 + c2); (x * c1) * c2 -> x * (c1 * c2) (rounds once instead of twice)"""
    for inner_v, c2 in _pairs(op):
        s2 = splat(c2)
        inner = producer(inner_v, op.name)
        if s2 is None or inner is None or len(inner.result.uses) != 1:
            continue
        for x, c1 in _pairs(inner):
            s1 = splat(c1)
            if s1 is None:
                continue
            with np.errstate(all="ignore"):
                c = (s1 + s2) if op.name == "sc.add" else (s1 * s2)
            new = _T().add(x, _const(c, x)) if op.name == "sc.add" else _T().mul(x, _const(c, x))
            if replace_as(rw, op, new):
                return


@fast_math.pattern(R.Sum)
def sum_of_broadcast_dynamic(op, rw):
    """sum(broadcast_to(x), axes) -> ... * count for dynamic counts too (a count of 0 gives 0 * x,
    NaN where x is inf or NaN, instead of 0)"""
    _sum_of_broadcast(op, rw, dynamic_ok=True)


def canonicalize(module, fast: bool = False, max_iters: int = 10, stats=None) -> bool:
    """Apply the exact patterns (and the fast-math ones if ``fast``) to a fixed point."""
    return apply_greedily(module, canonical + fast_math if fast else canonical, max_iters, stats)


@register_pass
@dataclass(frozen=True)
class Canonicalize(ModulePass):
    """Algebraic simplification exact in IEEE arithmetic (see the module docstring).

    Options:
        fast-math: also apply rewrites that are not exact in IEEE arithmetic
            (x*0 -> 0, x-x -> 0, x/c -> x*(1/c), x**0.5 -> sqrt(x), reassociation).
        max-iters: the most sweeps of the greedy driver.
    """

    name = "canonicalize"
    description = "Algebraic simplification exact in IEEE arithmetic (fast-math=true adds inexact rules)"
    fast_math: bool = False
    max_iters: int = 10

    def apply(self, module) -> None:
        canonicalize(module, self.fast_math, self.max_iters)
