"""Reverse-mode automatic differentiation over the symbolic graph.

``grad(cost, wrt)`` walks the operations between ``wrt`` and ``cost`` in
reverse topological order and applies each op's VJP rule (declared with the
op), summing the cotangents of values used more than once.  The VJP rules are
written with the front-end API, so the result is itself a symbolic graph:
gradients of gradients work, and the optimizer sees the gradient graph like
any other (Griewank & Walther, *Evaluating Derivatives*, 2nd ed., ch. 3; the
same scheme as Theano's ``grad`` and JAX's ``vjp``).
"""

from __future__ import annotations

import warnings
from typing import Optional, Sequence

from symcomp.ir.core import Value, walk_graph


class DisconnectedInputError(ValueError):
    """``grad`` was asked for a variable the cost does not depend on."""


def _as_list(x) -> tuple[list, bool]:
    if isinstance(x, (list, tuple)):
        return list(x), True
    return [x], False


def grad(cost, wrt, consider_constant: Optional[Sequence] = None, disconnected_inputs: str = "raise",
         known_grads: Optional[dict] = None):
    """Gradient of a scalar ``cost`` with respect to ``wrt``.

    Args:
        cost: a rank-0 float symbolic value (may be None when ``known_grads`` seeds the pass).
        wrt: a symbolic value or a list of them (inputs, shared variables or
            intermediate values).
        consider_constant: values to treat as constants (no gradient flows through them).
        disconnected_inputs: 'raise' (default), 'warn' or 'ignore' when an
            element of ``wrt`` does not influence the cost (its gradient is then zero).
        known_grads: {value: gradient} seeds added to the backward pass.

    Returns:
        One gradient per element of ``wrt`` (a list if ``wrt`` was a list),
        each with the type of its ``wrt``.

    Raises:
        TypeError: if the cost is not a float scalar or a ``wrt`` is not a
            float symbolic value.
        DisconnectedInputError: for an unused ``wrt`` under 'raise'.
    """
    import symcomp.tensor as T

    if disconnected_inputs not in ("raise", "warn", "ignore"):
        raise ValueError(f"disconnected_inputs must be 'raise', 'warn' or 'ignore', got {disconnected_inputs!r}")
    wrt_list, was_list = _as_list(wrt)
    for i, w in enumerate(wrt_list):
        if not isinstance(w, Value):
            raise TypeError(f"grad: wrt[{i}] must be a symbolic variable, got {type(w).__name__}")
        if not w.type.dtype.is_float:
            raise TypeError(f"grad: cannot differentiate with respect to {w.name or 'wrt[%d]' % i} "
                            f"of integer dtype {w.type.dtype.name}")
    seeds: dict[Value, Value] = {}
    if cost is not None:
        cost = T.as_value(cost)
        if cost.type.ndim != 0:
            raise TypeError(f"grad: cost must be a scalar, got a rank-{cost.type.ndim} value of type {cost.type}; "
                            "reduce it first (e.g. cost.sum() or cost.mean())")
        if not cost.type.dtype.is_float:
            raise TypeError(f"grad: cost must be a float scalar, got dtype {cost.type.dtype.name}")
        seeds[cost] = T.ones_like(cost)
    for v, g in (known_grads or {}).items():
        seeds[v] = T.cast(T.as_value(g), v.type.dtype)
    if not seeds:
        raise ValueError("grad: give a cost or known_grads")

    constants = set(consider_constant or ())
    grads = _backprop(seeds, set(wrt_list), constants)

    result = []
    for i, w in enumerate(wrt_list):
        g = grads.get(w)
        if g is None:
            what = f"grad: the cost does not depend on {w.name or 'wrt[%d]' % i}"
            if disconnected_inputs == "raise":
                raise DisconnectedInputError(what + " (pass disconnected_inputs='ignore' to get zeros)")
            if disconnected_inputs == "warn":
                warnings.warn(what, stacklevel=2)
            g = T.zeros_like(w)
        elif g.type.shape != w.type.shape:
            g = T.broadcast_like(g, w) if g.type.ndim == w.type.ndim and _only_stretches(g, w) else g
        result.append(g)
    return result if was_list else result[0]


def _backprop(seeds: dict, wrt: set, constants: set, leaves: frozenset = frozenset()) -> dict:
    """Cotangents of the values between ``wrt`` and the ``seeds`` ({value: cotangent}), not
    differentiating through ``constants`` nor ``leaves`` (which still receive cotangents).

    An op with a stable form (:func:`symcomp.passes.stabilize.stable_form`) passes its cotangent
    through that form instead of its own VJP and those of the naive ops under it, unless one of
    those ops' results is in ``wrt``, in ``constants`` or seeded.

    A value with a gradient rule of its own (:func:`symcomp.tensor.custom_vjp.with_vjp`:
    ``zero_grad``, ``grad_clip``, ``xlogx``...) passes its cotangent to the rule's inputs with
    that rule, never through the ops that compute it.
    """
    import symcomp.tensor as T
    from symcomp.tensor.custom_vjp import rule_of

    ops = walk_graph(list(seeds), stop=constants | leaves)
    rules = {op: rule for op in ops if len(op.results) == 1 and (rule := rule_of(op.results[0])) is not None}
    # Forward pass: which values depend on some wrt (only those get cotangents).
    depends: set[Value] = set(wrt)
    for op in ops:
        rule = rules.get(op)
        if rule is not None:
            if any(v in depends and v not in constants for v, c in zip(rule.inputs, rule.connected) if c):
                depends.update(op.results)
        elif any(v in depends for v in op.operands if v not in constants):
            depends.update(op.results)
    known = {v for op in ops for v in (*op.operands, *op.results)}
    pinned = wrt | constants | set(seeds) | {op.results[0] for op in rules}

    grads: dict[Value, Value] = dict(seeds)

    def accumulate(v: Value, g) -> None:
        if g is None or v not in depends or v in constants or not v.type.dtype.is_float:
            return
        g = T.cast(T.as_value(g), v.type.dtype)
        grads[v] = g if v not in grads else grads[v] + g

    for op in reversed(ops):
        outs = [grads.get(r) for r in op.results]
        if all(g is None for g in outs):
            continue
        rule = rules.get(op)
        if rule is not None:
            for v, g in zip(rule.inputs, rule.vjp(outs[0])):
                if g is not None and v in depends:
                    g = T.as_value(g)
                    accumulate(v, T.unbroadcast(g, v) if g.type.shape != v.type.shape else g)
            continue
        if not any(v in depends and v not in constants for v in op.operands):
            continue
        outs = [T.zeros_like(r) if g is None else g for g, r in zip(outs, op.results)]
        through = _through_stable_form(op, outs[0], known, pinned, constants) if len(outs) == 1 else None
        if through is not None:
            for v, g in through.items():
                accumulate(v, g)
            continue
        in_grads = op.vjp(outs)
        if len(in_grads) != len(op.operands):
            raise RuntimeError(f"{op.name}.vjp returned {len(in_grads)} gradients for {len(op.operands)} operands")
        for v, g in zip(op.operands, in_grads):
            accumulate(v, g)
    return grads


def _through_stable_form(op, g: Value, known: set, pinned: set, constants: set) -> Optional[dict]:
    """{value of the original graph: cotangent} from differentiating ``op``'s stable form with the
    cotangent ``g``, or None (no stable form, or it would bypass a pinned value)."""
    from symcomp.passes.stabilize import stable_form

    found = stable_form(op)
    if found is None:
        return None
    new, invariant = found
    reused = new in known  # the form is a value of the graph itself (log(exp(x)) -> x)
    # The values of the original graph the form is computed from, in first-use order.
    leaves = [new] if reused else list({v: None for o in walk_graph([new], stop=known)
                                        for v in o.operands if v in known})
    bypassed = walk_graph(list(op.operands), stop=set(leaves))
    if any(r in pinned for o in bypassed for r in o.results):
        return None
    if reused:
        return {new: g}
    inner = _backprop({new: g}, set(leaves), constants | set(invariant), frozenset(leaves))
    return {v: inner[v] for v in leaves if v in inner}


def _only_stretches(g: Value, w: Value) -> bool:
    """True if ``g`` differs from ``w``'s shape only by static 1s that must stretch."""
    return all(dg == dw or dg == 1 for dg, dw in zip(g.type.shape, w.type.shape))


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs: str = "raise"):
    """``eval_points`` times the Jacobian of ``f`` with respect to ``wrt`` (a vector-Jacobian product,
    Theano's ``theano.gradient.Lop``).

    ``L[j] = sum_i eval_points[i] * d f[i] / d wrt[j]``, summed over every element of every
    ``f[i]``: ``grad`` with ``known_grads={f[i]: eval_points[i]}``, as Theano computes it.

    Args:
        f: a symbolic value or a list of them.
        wrt: a symbolic value or a list/tuple of them.
        eval_points: one value per ``f``, of its shape.
        consider_constant, disconnected_inputs: as for :func:`grad`.

    Returns:
        One value per ``wrt``: a list or tuple when ``wrt`` is one, else a single value.

    Raises:
        ValueError: if ``f`` and ``eval_points`` differ in length.
    """
    points = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    if len(fs) != len(points):
        raise ValueError(f"Lop: {len(fs)} values f but {len(points)} eval_points")
    as_list = isinstance(wrt, (list, tuple))
    out = grad(None, list(wrt) if as_list else [wrt], consider_constant=consider_constant,
               disconnected_inputs=disconnected_inputs, known_grads=dict(zip(fs, points)))
    if not as_list:
        return out[0]
    return tuple(out) if isinstance(wrt, tuple) else out


def Rop(f, wrt, eval_points, disconnected_outputs: str = "raise", return_disconnected: str = "zero"):
    """The Jacobian of ``f`` with respect to ``wrt`` times ``eval_points`` (a Jacobian-vector
    product, Theano's ``theano.gradient.Rop``): ``R[i] = sum_j d f[i] / d wrt[j] * eval_points[j]``.

    Computed in reverse mode twice (the "double VJP": the VJP ``u -> u^T J`` is linear in ``u``,
    and its own VJP with cotangent ``v`` is ``J v``; Townsend 2017, used by JAX's ``linear_transpose``
    idea and PyTensor's ``Rop`` fallback), so every op with a VJP rule supports it.

    Args:
        f: a symbolic value or a list of them.
        wrt: a symbolic value or a list of them.
        eval_points: one value per ``wrt``, of its shape and dtype.
        disconnected_outputs: 'raise' (default), 'warn' or 'ignore' for an ``f`` no ``wrt`` reaches.
        return_disconnected: 'zero' (default) or 'none' for such an ``f``.

    Returns:
        One value per ``f``, of its shape: a list if ``f`` is one, else a single value.

    Raises:
        ValueError: if ``wrt`` and ``eval_points`` differ in length or shape.
    """
    import symcomp.tensor as T
    from symcomp.ir.core import Placeholder
    from symcomp.tensor.graph import substitute

    fs = list(f) if isinstance(f, (list, tuple)) else [f]
    ws = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    vs = list(eval_points) if isinstance(eval_points, (list, tuple)) else [eval_points]
    if len(ws) != len(vs):
        raise ValueError(f"Rop: {len(ws)} values wrt but {len(vs)} eval_points")
    vs = [T.as_value(v) for v in vs]
    for i, (w, v) in enumerate(zip(ws, vs)):
        if v.type.ndim != w.type.ndim:
            raise ValueError(f"Rop: eval_points[{i}] has {v.type.ndim} dimension(s), wrt[{i}] has {w.type.ndim}")
    out = []
    for y in fs:
        y = T.as_value(y)
        u = Placeholder(y.type.plain(), "u")
        lop = grad(None, ws, known_grads={y: u}, disconnected_inputs="ignore")
        inner = None
        for g, v in zip(lop, vs):
            term = T.sum(g * T.cast(v, g.type.dtype))
            inner = term if inner is None else inner + term
        jv = grad(inner, u, disconnected_inputs="ignore")
        jv = substitute([jv], {u: T.zeros_like(y)})[0]  # linear in u: no value of u remains
        if not _reaches(y, ws):
            msg = "Rop: an output does not depend on any wrt"
            if disconnected_outputs == "raise":
                raise ValueError(msg + " (pass disconnected_outputs='ignore')")
            if disconnected_outputs == "warn":
                warnings.warn(msg, stacklevel=2)
            if return_disconnected == "none":
                jv = None
        out.append(jv)
    return out if isinstance(f, (list, tuple)) else out[0]


def _reaches(y, ws) -> bool:
    """Whether ``y`` is computed from some element of ``ws``."""
    wset = set(ws)
    return y in wset or any(v in wset for op in walk_graph([y]) for v in (*op.operands, *op.results))


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs: str = "raise"):
    """The Jacobian of a vector ``expression`` with respect to ``wrt`` (Theano's
    ``theano.gradient.jacobian``): ``J[i, ...] = d expression[i] / d wrt[...]``, of shape
    ``expression.shape + wrt.shape``, built as Theano builds it: a ``scan`` over the rows, each
    step the gradient of one element.

    Args:
        expression: a rank-1 (or rank-0: then the gradient) float value.
        wrt: a value or a list of them.
        consider_constant, disconnected_inputs: as for :func:`grad`.

    Returns:
        One Jacobian per ``wrt`` (a list if ``wrt`` is one).

    Raises:
        TypeError: if ``expression`` has more than one dimension.
    """
    import symcomp.tensor as T
    from symcomp.tensor.scan import scan

    expression = T.as_value(expression)
    ws = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    if expression.type.ndim == 0:
        gs = grad(expression, ws, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        return gs if isinstance(wrt, (list, tuple)) else gs[0]
    if expression.type.ndim != 1:
        raise TypeError(f"jacobian: expression must be a vector, got {expression.type} (flatten it first)")

    def row(i, y, *xs):
        return grad(y[i], list(xs), consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)

    rows, _ = scan(row, sequences=T.arange(expression.shape[0]), non_sequences=[expression] + ws,
                   return_list=True)
    return rows if isinstance(wrt, (list, tuple)) else rows[0]


def hessian(cost, wrt, consider_constant=None, disconnected_inputs: str = "raise"):
    """The Hessian of a scalar ``cost`` with respect to each vector of ``wrt`` (Theano's
    ``theano.gradient.hessian``): the Jacobian of the gradient.

    Raises:
        TypeError: if ``cost`` is not a scalar or a ``wrt`` is not a vector.
    """
    import symcomp.tensor as T

    cost = T.as_value(cost)
    if cost.type.ndim != 0:
        raise TypeError(f"hessian: cost must be a scalar, got {cost.type}")
    ws = list(wrt) if isinstance(wrt, (list, tuple)) else [wrt]
    out = []
    for w in ws:
        if w.type.ndim != 1:
            raise TypeError(f"hessian: wrt must be vectors, got {w.type} for {w.name or 'wrt'}")
        g = grad(cost, w, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
        out.append(jacobian(g, w, consider_constant=consider_constant, disconnected_inputs=disconnected_inputs))
    return out if isinstance(wrt, (list, tuple)) else out[0]


def _install() -> None:
    from symcomp.ir import frontend

    frontend.install(backprop=_backprop)


_install()
