"""Stabilization: rewrite numerically fragile expressions into stable equivalents.

Theano's "stability optimizations" (PyTensor's ``local_log1p``,
``local_log_softmax``, ``local_logsoftmax_grad``,
``crossentropy_to_crossentropy_with_softmax``...).  The rewritten forms are
equal in exact arithmetic and far more accurate in floating point; they are
*not* bit-identical to the naive forms, which is why they are a pass of their
own and not part of ``canonicalize``.

Forward rules (each is a pattern below; its docstring is the rule):

* ``log(1 + x) -> log1p(x)``, ``log(1 - x) -> log1p(-x)``, ``exp(x) - 1 -> expm1(x)``
  (Goldberg, "What every computer scientist should know about floating-point
  arithmetic", 1991, sec. 1.4 / Theorem 4);
* ``log(1 + exp(x)) -> softplus(x)``, ``1 / (1 + exp(-x)) -> sigmoid(x)``,
  ``log(sigmoid(x)) -> -softplus(-x)``, ``log(1 - sigmoid(x)) -> -softplus(x)``,
  ``log(exp(x)) -> x``;
* ``log(softmax(x)) -> log_softmax(x)``, also through selections of the softmax
  (the integer-label indexing of ``categorical_crossentropy``) and views;
* ``log(sum(exp(x))) -> m + log(sum(exp(x - m)))`` with ``m = max(x)`` (the
  log-sum-exp trick), also with keepdims;
* ``1 - erf(x) -> erfc(x)``, ``1 + erf(x) -> erfc(-x)``, ``1 - erfc(x) -> erf(x)``
  (Theano's ``local_one_minus_erf`` family): the exact GELU ``0.5 x (1 + erf(x / sqrt 2))``
  then keeps its relative accuracy for negative x, where ``1 + erf`` cancels.

Gradients.  ``T.grad`` differentiates each log / log1p / logistic quotient
through the value these forward rules give it (:func:`stable_form`), so the
gradient of ``log(1 - sigmoid(x))`` is ``-sigmoid(x)`` and the gradient of
``log(sum(exp(x)))`` is ``softmax(x)`` even with no pass run.  Gradients built
otherwise (``known_grads``, a gradient taken with respect to the intermediate
value itself) can still contain the naive quotients: the VJP of ``log(p)``
is ``g / p``, and for ``p = softmax(x)`` that is ``inf`` where ``p`` underflows,
which the softmax VJP then multiplies by ``p = 0``, giving NaN.  For a ``Y``
that is positive by construction (softmax, sigmoid, exp), ``Y * (M / Y)`` is
``M`` in exact arithmetic, and its floating-point value is ``M`` wherever ``Y``
did not underflow or overflow; the rules cancel the quotient:

* ``Y * (M / Y) -> M``, and the same through the scatter the VJP of indexing
  builds: ``Y * inc(0, N / Y[i], i) -> inc(0, N, i)``;
* ``Y * (G - E) -> Y*G - Y*E`` when ``G`` is such a quotient (the softmax VJP
  ``y * (g - sum(g * y))``), so the first rule applies.

With these, the gradient of the naive cross-entropy ``-log(softmax(x)[i, y])``
becomes ``softmax(x) - onehot(y)`` (scaled), finite for any logits.
"""

from __future__ import annotations

from dataclasses import dataclass

from symcomp.ir.core import Value
from symcomp.ir.opdef import build
from symcomp.ir.ops import elementwise as E
from symcomp.ir.ops import indexing as I
from symcomp.passes.fusion import reduction
from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.match import is_splat, producer, replace_as
from symcomp.passes.rewrite import PatternSet, apply_greedily

stable = PatternSet("stabilize")

# Ops whose result is a selection or rearrangement of their operand 0's elements,
# so that log(sel(y)) == sel(log(y)).
_SELECTIONS = ("sc.subtensor", "sc.advanced_subtensor", "sc.transpose", "sc.expand_dims", "sc.squeeze",
               "sc.reshape", "sc.broadcast_to")
# Values positive by construction: zero or inf only by underflow or overflow.
_POSITIVE = ("sc.softmax", "sc.sigmoid", "sc.exp")


def _T():
    from symcomp import tensor as T

    return T


def _pairs(op):
    a, b = op.operands
    return ((a, b), (b, a))


def _negated(v):
    """-v, folding a double negation."""
    n = producer(v, "sc.neg")
    return n.operands[0] if n is not None else _T().neg(v)


def _one_plus(v):
    """x when v is ``1 + x`` (either order), else None."""
    a = producer(v, "sc.add")
    if a is None:
        return None
    for c, x in _pairs(a):
        if is_splat(c, 1):
            return x
    return None


def _one_minus(v):
    """x when v is ``1 - x``, else None."""
    s = producer(v, "sc.sub")
    if s is not None and is_splat(s.operands[0], 1):
        return s.operands[1]
    return None


def _arg_of(v, name):
    """The operand of ``v``'s producer when it is a ``name`` op, else None."""
    o = producer(v, name)
    return o.operands[0] if o is not None else None


def _strip_selections(v):
    """(base value, selection ops from the base outwards) of a chain of selections."""
    chain = []
    o = producer(v)
    while o is not None and o.name in _SELECTIONS:
        chain.append(o)
        v = o.operands[0]
        o = producer(v)
    return v, list(reversed(chain))


def _reapply(chain, base):
    """The selection ops of ``chain`` applied to ``base`` instead of their original operand."""
    for o in chain:
        base = build(type(o), [base, *o.operands[1:]], **o.attributes)
    return base


# -- log / exp forms --------------------------------------------------------------------------
@stable.pattern(E.Log)
def log_one_plus_exp(op, rw):
    """log(1 + exp(x)) -> softplus(x)"""
    y = _one_plus(op.operands[0])
    x = _arg_of(y, "sc.exp") if y is not None else None
    if x is not None:
        replace_as(rw, op, _T().softplus(x))


@stable.pattern(E.Log1p)
def log1p_exp(op, rw):
    """log1p(exp(x)) -> softplus(x)"""
    x = _arg_of(op.operands[0], "sc.exp")
    if x is not None:
        rw.replace(op, _T().softplus(x))


@stable.pattern(E.Log)
def log_one_minus_sigmoid(op, rw):
    """log(1 - sigmoid(x)) -> -softplus(x)"""
    y = _one_minus(op.operands[0])
    x = _arg_of(y, "sc.sigmoid") if y is not None else None
    if x is not None:
        replace_as(rw, op, -_T().softplus(x))


@stable.pattern(E.Log1p)
def log1p_neg_sigmoid(op, rw):
    """log1p(-sigmoid(x)) -> -softplus(x)"""
    y = _arg_of(op.operands[0], "sc.neg")
    x = _arg_of(y, "sc.sigmoid") if y is not None else None
    if x is not None:
        rw.replace(op, -_T().softplus(x))


@stable.pattern(E.Log)
def log_sigmoid(op, rw):
    """log(sigmoid(x)) -> -softplus(-x)"""
    x = _arg_of(op.operands[0], "sc.sigmoid")
    if x is not None:
        rw.replace(op, -_T().softplus(_negated(x)))


@stable.pattern(E.Log)
def log_exp(op, rw):
    """log(exp(x)) -> x"""
    x = _arg_of(op.operands[0], "sc.exp")
    if x is not None:
        rw.replace(op, x)


@stable.pattern(E.Log)
def log_one_plus(op, rw):
    """log(1 + x) -> log1p(x)"""
    x = _one_plus(op.operands[0])
    if x is not None:
        replace_as(rw, op, _T().log1p(x))


@stable.pattern(E.Log)
def log_one_minus(op, rw):
    """log(1 - x) -> log1p(-x)"""
    x = _one_minus(op.operands[0])
    if x is not None:
        replace_as(rw, op, _T().log1p(_negated(x)))


@stable.pattern(E.Sub)
def exp_minus_one(op, rw):
    """exp(x) - 1 -> expm1(x)"""
    e, c = op.operands
    x = _arg_of(e, "sc.exp")
    if x is not None and is_splat(c, 1):
        replace_as(rw, op, _T().expm1(x))


@stable.pattern(E.Add)
def exp_plus_minus_one(op, rw):
    """exp(x) + (-1) -> expm1(x)"""
    for e, c in _pairs(op):
        x = _arg_of(e, "sc.exp")
        if x is not None and is_splat(c, -1) and replace_as(rw, op, _T().expm1(x)):
            return


@stable.pattern(E.Sub)
def one_minus_erf(op, rw):
    """1 - erf(x) -> erfc(x); 1 - erfc(x) -> erf(x)"""
    c, v = op.operands
    if not is_splat(c, 1):
        return
    x = _arg_of(v, "sc.erf")
    if x is not None:
        replace_as(rw, op, _T().erfc(x))
        return
    x = _arg_of(v, "sc.erfc")
    if x is not None:
        replace_as(rw, op, _T().erf(x))


@stable.pattern(E.Add)
def one_plus_erf(op, rw):
    """1 + erf(x) -> erfc(-x)"""
    for c, v in _pairs(op):
        x = _arg_of(v, "sc.erf")
        if x is not None and is_splat(c, 1) and replace_as(rw, op, _T().erfc(_negated(x))):
            return


@stable.pattern(E.Div)
def logistic(op, rw):
    """1 / (1 + exp(-x)) -> sigmoid(x); 1 / (1 + exp(x)) -> sigmoid(-x)"""
    c, d = op.operands
    z = _one_plus(d) if is_splat(c, 1) else None
    x = _arg_of(z, "sc.exp") if z is not None else None
    if x is not None:
        replace_as(rw, op, _T().sigmoid(_negated(x)))


# -- softmax and log-sum-exp -----------------------------------------------------------------
@stable.pattern(E.Log)
def log_softmax(op, rw):
    """log(sel(softmax(x))) -> sel(log_softmax(x)) for selections and views sel (none, indexing,
    transpose...): the categorical cross-entropy of integer labels"""
    base, chain = _strip_selections(op.operands[0])
    sm = producer(base, "sc.softmax")
    if sm is not None:
        ls = _T().nnet.log_softmax(sm.operands[0], axis=sm.axis)
        rw.replace(op, _reapply(chain, ls))


@stable.pattern(E.Log)
def log_sum_exp(op, rw):
    """log(sel(sum(exp(x), axes))) -> sel(log(sum(exp(x - m), axes)) + m), m = max(x, axes) where
    finite, else 0 (keeps log(0) = -inf for all -inf rows and +inf for +inf)"""
    T = _T()
    base, chain = _strip_selections(op.operands[0])
    s = producer(base, "sc.sum")
    x = _arg_of(s.operands[0], "sc.exp") if s is not None else None
    if x is None or not x.type.dtype.is_float:
        return
    axes = tuple(s.axes)
    m = reduction(x, "max", axes)  # the identity -inf on an empty axis, where sc.max would raise
    m = T.switch(T.isinf(m), 0.0, m)
    rw.grad_invariant([m])
    # The sum is an sc.fused reduction, not sc.sum, so that this pattern does not match its own result.
    lse = T.log(reduction(T.exp(x - T.expand_dims(m, axes)), "add", axes)) + m
    rw.replace(op, _reapply(chain, lse))


# -- gradients: cancel quotients by values that are positive by construction ---------------------
def _cancel_quotient(g, y):
    """``y * g`` with the division by ``y`` cancelled, when ``g`` is ``m / y`` or a zero tensor with
    ``n / y[i]`` added at ``i``; else None."""
    d = producer(g, "sc.div")
    if d is not None and d.operands[1] is y:
        return d.operands[0]
    inc = producer(g, "sc.advanced_inc_subtensor", "sc.inc_subtensor")
    if inc is None or inc.set or not is_splat(inc.operands[0], 0):
        return None
    z, val = inc.operands[0], inc.operands[1]
    rest = list(inc.operands[2:])
    dv = producer(val, "sc.div")
    sel = producer(dv.operands[1], "sc.advanced_subtensor", "sc.subtensor") if dv is not None else None
    if sel is None or sel.operands[0] is not y or list(sel.operands[1:]) != rest:
        return None
    if inc.name == "sc.advanced_inc_subtensor":
        if sel.name != "sc.advanced_subtensor" or sel.axis != inc.axis:
            return None
        return build(I.AdvancedIncSubtensor, [z, dv.operands[0], *rest], axis=inc.axis, set=False)
    if sel.name != "sc.subtensor" or tuple(sel.index) != tuple(inc.index):
        return None
    return build(I.IncSubtensor, [z, dv.operands[0], *rest], index=inc.index, set=False)


@stable.pattern(E.Mul)
def cancel_quotient(op, rw):
    """y * (m / y) -> m and y * inc(0, n / y[i], i) -> inc(0, n, i), for y = softmax, sigmoid or exp"""
    for y, g in _pairs(op):
        if producer(y, *_POSITIVE) is None:
            continue
        m = _cancel_quotient(g, y)
        if m is not None and replace_as(rw, op, m):
            return


@stable.pattern(E.Mul)
def distribute_over_quotient(op, rw):
    """y * (g - e) -> y*g - y*e when y*g cancels a quotient (the softmax VJP y * (g - sum(g * y)))"""
    T = _T()
    for y, d in _pairs(op):
        if producer(y, *_POSITIVE) is None:
            continue
        sub = producer(d, "sc.sub")
        if sub is None:
            continue
        a, b = sub.operands
        ma = _cancel_quotient(a, y)
        if ma is not None and replace_as(rw, op, T.sub(ma, T.mul(y, b))):
            return
        mb = _cancel_quotient(b, y)
        if mb is not None and replace_as(rw, op, T.sub(T.mul(y, a), mb)):
            return


# -- the stable form of one op, for grad -----------------------------------------------------------
# The roots of the forward rules: what the value of a log / log1p / logistic quotient is rewritten to.
_FORWARD_ROOTS = ("sc.log", "sc.log1p", "sc.div")


class _Capture:
    """A stand-in Rewriter for :func:`stable_form`: records a pattern's replacement, changes nothing."""

    def __init__(self):
        self.changed = False
        self.value = None
        self.invariant: list = []

    def replace(self, op, new) -> bool:
        if not isinstance(new, Value) or new.type != op.result.type:
            return False
        self.value, self.changed = new, True
        return True

    def grad_invariant(self, values) -> None:
        self.invariant.extend(values)

    def notify_failure(self, message: str) -> None:
        pass


def stable_form(op, depth: int = 3):
    """The value the forward stabilization rules would give ``op``'s result, or None.

    ``grad`` differentiates this form instead of the naive one, so that the gradient of
    ``log(1 - sigmoid(x))`` is ``-sigmoid(x)`` and not ``-s(1-s)/(1-s)`` (NaN where ``1 - s``
    rounds to 0): "the gradient of a stable form is stable".  Rules apply bottom-up over the
    ``depth`` producers under ``op`` too, as the pass would, so that ``log(1 - 1/(1 + exp(-x)))``
    becomes ``-softplus(x)`` through ``1/(1 + exp(-x)) -> sigmoid(x)``.

    Args:
        op: a detached or attached single-result operation of the traced graph.
        depth: how many levels of producers to stabilize first.

    Returns:
        ``(value, invariant)``: the replacement (a new expression over values of ``op``'s graph, or
        one of those values) and the values it does not depend on in exact arithmetic (to hold
        constant when differentiating); None when no forward rule applies.
    """
    if op.name not in _FORWARD_ROOTS or len(op.results) != 1:
        return None
    invariant: list = []
    value = _stabilized(op.result, depth + 1, invariant)
    return (value, invariant) if value is not op.result else None


def _stabilized(v, depth: int, invariant: list):
    """``v``, or its stable form when a forward rule applies to it or (rebuilt) to its producers."""
    o = v.owner
    if depth == 0 or o is None or len(o.results) != 1 or o.regions:
        return v
    operands = [_stabilized(u, depth - 1, invariant) for u in o.operands]
    if any(a is not b for a, b in zip(operands, o.operands)):
        v = build(type(o), operands, **o.attributes)
        o = v.owner
    if o.name in _FORWARD_ROOTS:
        for fn in stable.for_op(o):
            rw = _Capture()
            fn(o, rw)
            if rw.changed:
                invariant.extend(rw.invariant)
                return rw.value
    return v


def stabilize(module, max_iters: int = 10, stats=None) -> bool:
    """Apply the stability patterns to a fixed point."""
    return apply_greedily(module, stable, max_iters, stats)


@register_pass
@dataclass(frozen=True)
class Stabilize(ModulePass):
    """Rewrite numerically fragile forms (log(1+x), log(softmax), log(sum(exp))...) into stable ones.

    Options:
        max-iters: the most sweeps of the greedy driver.
    """

    name = "stabilize"
    description = "Rewrite numerically unstable expressions (and their gradients) into stable forms"
    max_iters: int = 10

    def apply(self, module) -> None:
        stabilize(module, self.max_iters)

