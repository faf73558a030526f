"""Canonicalization patterns for shapes: views, reshapes, broadcasts, reductions and sizes.

All of :data:`exact` is exact (the values are those of the expression
replaced); :data:`fast` holds the one rule that is not (a sum over a dynamic,
possibly empty, broadcast axis).  The three view rules give every chain of
``transpose``, ``expand_dims`` and ``squeeze`` the normal form
``expand_dims(transpose(squeeze(x)))``.  The ``canonicalize`` pass
(:mod:`symcomp.passes.canonicalize`) composes them with the arithmetic rules.
"""

from __future__ import annotations

from symcomp import tensor as T
from symcomp.ir.opdef import Elementwise, Positional, Reduction, build
from symcomp.ir.ops import reduce as R
from symcomp.ir.ops import shape as S
from symcomp.passes.match import constant_like, producer
from symcomp.passes.rewrite import PatternSet

exact = PatternSet("canonicalize-shapes")
fast = PatternSet("canonicalize-shapes-fast-math")


# -- transposes, new and squeezed axes -------------------------------------------------
@exact.pattern(S.Transpose)
def transpose_identity(op, rw):
    """transpose(x, [0, 1, ...]) -> x"""
    if list(op.perm) == list(range(len(op.perm))):
        rw.replace(op, op.operands[0])


@exact.pattern(S.Transpose)
def transpose_transpose(op, rw):
    """transpose(transpose(x, p), q) -> transpose(x, [p[i] for i in q])"""
    inner = producer(op.operands[0], "sc.transpose")
    if inner is not None:
        perm = [inner.perm[i] for i in op.perm]
        rw.replace(op, T.transpose(inner.operands[0], perm))


@exact.pattern(S.Transpose)
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
    rw.replace(op, T.expand_dims(T.transpose(inner.operands[0], q), new))


@exact.pattern(S.Squeeze)
def squeeze_transpose(op, rw):
    """squeeze(transpose(x, p), a) -> transpose(squeeze(x, p[a]), q): squeezes move inwards"""
    inner = producer(op.operands[0], "sc.transpose")
    if inner is None:
        return
    x, perm = inner.operands[0], inner.perm
    removed = sorted(perm[i] for i in op.axes)
    q = [perm[i] - sum(1 for r in removed if r < perm[i]) for i in range(len(perm)) if i not in op.axes]
    rw.replace(op, T.transpose(build(S.Squeeze, [x], axes=tuple(removed)), q))


@exact.pattern(S.ExpandDims, S.Squeeze)
def no_axes(op, rw):
    """expand_dims(x, []) -> x; squeeze(x, []) -> x"""
    if not op.axes:
        rw.replace(op, op.operands[0])


@exact.pattern(S.ExpandDims)
def expand_dims_expand_dims(op, rw):
    """expand_dims(expand_dims(x, a), b) -> expand_dims(x, a and b composed)"""
    inner = producer(op.operands[0], "sc.expand_dims")
    if inner is None:
        return
    n = op.result.type.ndim
    outer_new = set(op.axes)
    kept = [p for p in range(n) if p not in outer_new]  # positions of the inner result's dims
    new = sorted(outer_new | {kept[j] for j in inner.axes})
    rw.replace(op, T.expand_dims(inner.operands[0], new))


@exact.pattern(S.Squeeze)
def squeeze_squeeze(op, rw):
    """squeeze(squeeze(x, a), b) -> squeeze(x, a and b composed)"""
    inner = producer(op.operands[0], "sc.squeeze")
    if inner is None:
        return
    x = inner.operands[0]
    remaining = [i for i in range(x.type.ndim) if i not in inner.axes]
    removed = sorted(set(inner.axes) | {remaining[j] for j in op.axes})
    rw.replace(op, build(S.Squeeze, [x], axes=tuple(removed)))


@exact.pattern(S.Squeeze)
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
    rw.replace(op, T.expand_dims(y, new_pos))


@exact.pattern(S.ExpandDims)
def expand_dims_squeeze(op, rw):
    """expand_dims(squeeze(x, a), b) -> x when the result has x's type (size-1 axes back in place)"""
    inner = producer(op.operands[0], "sc.squeeze")
    if inner is not None and inner.operands[0].type == op.result.type:
        rw.replace(op, inner.operands[0])


@exact.pattern("*")
def unary_of_broadcast(op, rw):
    """f(broadcast_to(x, s)) -> broadcast_to(f(x), s) for a unary elementwise f: f runs once per
    element of x instead of once per element of the broadcast"""
    if Elementwise not in op.traits or Positional in op.traits or len(op.operands) != 1 or len(op.results) != 1:
        return  # (a positional op's value depends on the broadcast shape: sc.flat_index)
    b = producer(op.operands[0], "sc.broadcast_to")
    if b is None:
        return
    attrs = {k: v for k, v in op.attributes.items() if "." not in k}
    small = build(type(op), [b.operands[0]], **attrs)
    rw.replace(op, build(S.BroadcastTo, [small, *b.operands[1:]], shape=b.shape))


# -- reshape and broadcast sizes -------------------------------------------------------
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


@exact.pattern(S.Reshape, S.BroadcastTo)
def constant_sizes(op, rw):
    """reshape/broadcast_to with a '?' size given by a constant -> the size in the attribute"""
    r = _static_dyn(op, 1)
    if r is not None:
        spec, rest = r
        rw.replace(op, build(type(op), [op.operands[0], *rest], shape=spec))


@exact.pattern(S.Reshape)
def reshape_identity(op, rw):
    """reshape(x, s) -> x when the result has x's type and at most one size is dynamic"""
    x = op.operands[0]
    if op.result.type == x.type and sum(d is None for d in x.type.shape) <= 1:
        rw.replace(op, x)


@exact.pattern(S.Reshape)
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


# -- reductions ------------------------------------------------------------------------
@exact.pattern(R.Sum, R.Prod, R.Max, R.Min)
def reduce_no_axes(op, rw):
    """reduce(x, axes=[]) -> x"""
    if not op.axes:
        rw.replace(op, op.operands[0])


def _sum_of_broadcast(op, rw, dynamic_ok: bool):
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
    y = y * (constant_like(count, y) if isinstance(count, int) else T.cast(count, y.type.dtype))
    dims = [b.type.shape[a] if b.type.shape[a] is not None else T.shape(b)[a]
            for a in range(n) if a not in op.axes]
    if y.type.shape != op.result.type.shape:
        y = T.broadcast_to(y, dims)
    if y.type == op.result.type:
        rw.replace(op, y)


@exact.pattern(R.Sum)
def sum_of_broadcast(op, rw):
    """sum(broadcast_to(x), axes) -> sum(x, axes x really has) * count of the broadcast axes
    (static non-zero counts; integers always)"""
    _sum_of_broadcast(op, rw, dynamic_ok=False)


# -- sizes -----------------------------------------------------------------------------
_SAME_SHAPE = ("sc.softmax", "sc.log_softmax", "sc.copy")


@exact.pattern(S.Dim)
def dim_through_ops(op, rw):
    """dim(f(x, ...), a) -> dim(x, a') where axis a of f's result is axis a' of operand x
    (elementwise ops, views, reductions, dot, indexing; Theano's rule makes every dynamic
    size along an axis equal)"""
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
        rw.replace(op, T.shape(x)[b] if x.type.shape[b] is None else constant_like(x.type.shape[b], op.result))


# -- fast-math (not exact in IEEE arithmetic) ------------------------------------------
@fast.pattern(R.Sum)
def sum_of_broadcast_dynamic(op, rw):
    """sum(broadcast_to(x), axes) -> ... * count for dynamic counts too (a count of 0 gives 0 * x,
    NaN where x is inf or NaN, instead of 0)"""
    _sum_of_broadcast(op, rw, dynamic_ok=True)
