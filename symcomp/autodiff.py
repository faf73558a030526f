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
    ops = walk_graph(list(seeds), stop=constants)
    # Forward pass: which values depend on some wrt (only those get cotangents).
    depends: set[Value] = set(wrt_list)
    for op in ops:
        if any(v in depends for v in op.operands if v not in constants):
            depends.update(op.results)

    grads: dict[Value, Value] = {}
    for v, g in seeds.items():
        grads[v] = g
    for op in reversed(ops):
        outs = [grads.get(r) for r in op.results]
        if all(g is None for g in outs):
            continue
        if not any(v in depends and v not in constants for v in op.operands):
            continue
        outs = [T.zeros_like(r) if g is None else g for g, r in zip(outs, op.results)]
        in_grads = op.vjp(outs)
        if len(in_grads) != len(op.operands):
            raise RuntimeError(f"{op.name}.vjp returned {len(in_grads)} gradients for {len(op.operands)} operands")
        for v, g in zip(op.operands, in_grads):
            if g is None or v not in depends or v in constants or not v.type.dtype.is_float:
                continue
            g = T.cast(T.as_value(g), v.type.dtype)
            grads[v] = g if v not in grads else grads[v] + g

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


def _only_stretches(g: Value, w: Value) -> bool:
    """True if ``g`` differs from ``w``'s shape only by static 1s that must stretch."""
    return all(dg == dw or dg == 1 for dg, dw in zip(g.type.shape, w.type.shape))
