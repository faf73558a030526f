"""Rewriting a user's symbolic graph: ``clone_replace`` (Theano's ``theano.clone``) and the
split of a traced Python function into a region body (used by ``scan`` and ``ifelse``).
"""

from __future__ import annotations

from typing import Sequence

from symcomp.ir.core import Block, Value, walk_graph
from symcomp.ir.ops.fused import Yield


def clone_replace(outputs, replace=None, share_inputs: bool = True):
    """The graph of ``outputs`` with the values of ``replace`` ({old: new}) substituted
    (Theano's ``theano.clone(output, replace=...)``).

    Ops on no path from a replaced value to an output are shared with the original graph, not
    copied; the original graph is never modified.

    Args:
        outputs: a symbolic value or a list/tuple of them.
        replace: {value: replacement} (or a list of pairs); each replacement must have the
            replaced value's dtype and rank.
        share_inputs: accepted for Theano's signature; inputs are always shared.

    Returns:
        The new value(s), in the shape of ``outputs``.

    Raises:
        TypeError: for a replacement of another dtype or rank.
    """
    from symcomp.tensor.convert import as_value

    pairs = list(replace.items()) if isinstance(replace, dict) else list(replace or ())
    mapping: dict[Value, Value] = {}
    for old, new in pairs:
        new = as_value(new)
        if new.type.dtype != old.type.dtype or new.type.ndim != old.type.ndim:
            raise TypeError(f"clone_replace: {old.name or 'a value'} of type {old.type} cannot be replaced by "
                            f"a value of type {new.type}")
        mapping[old] = new
    single = isinstance(outputs, Value)
    outs = [outputs] if single else list(outputs)
    new_outs = substitute(outs, mapping)
    return new_outs[0] if single else type(outputs)(new_outs) if isinstance(outputs, tuple) else new_outs


def substitute(outputs: Sequence[Value], mapping: dict) -> list[Value]:
    """``outputs`` recomputed with ``mapping``'s replacements; ops that depend on no replaced
    value are reused as they are."""
    if not mapping:
        return list(outputs)
    mapping = dict(mapping)
    for op in walk_graph(list(outputs), stop=set(mapping)):
        if any(v in mapping for v in op.operands):
            new = op.clone({v: mapping.get(v, v) for v in op.operands})
            mapping.update(zip(op.results, new.results))
    return [mapping.get(v, v) for v in outputs]


def depends_on(outputs: Sequence[Value], inputs) -> set:
    """The ops between ``inputs`` and ``outputs`` that depend on at least one of ``inputs``."""
    inputs = set(inputs)
    dep_vals = set(inputs)
    ops = []
    for op in walk_graph(list(outputs), stop=inputs):
        if any(v in dep_vals for v in op.operands):
            ops.append(op)
            dep_vals.update(op.results)
    return ops


def make_body(args: Sequence[Value], outputs: Sequence[Value]) -> tuple[Block, list[Value]]:
    """A block computing ``outputs`` from the placeholders ``args``, isolated from above.

    The ops that depend on an element of ``args`` are cloned into the block; every other value
    they use (a value computed outside, a constant, an input of the enclosing function) becomes
    an extra block argument, appended after ``args``: those are returned as the *captured*
    values, which the caller passes as operands.  Constants are cloned into the body instead
    (they cost nothing and keep folding possible).  The block ends with ``sc.yield outputs``.

    Returns:
        (block, captured values).
    """
    body_ops = depends_on(outputs, args)
    inner = set(args) | {r for op in body_ops for r in op.results}
    block = Block([a.type.plain() for a in args], [a.name for a in args])
    mapping: dict[Value, Value] = dict(zip(args, block.args))
    captured: list[Value] = []

    def arg_for(v: Value) -> Value:
        got = mapping.get(v)
        if got is not None:
            return got
        o = v.owner
        if o is not None and o.name == "sc.constant":
            c = o.clone({})
            block.append(c)
            mapping[v] = c.result
            return c.result
        a = block.add_arg(v.type.plain(), v.name)
        captured.append(v)
        mapping[v] = a
        return a

    for op in body_ops:
        for v in op.operands:
            if v not in inner:
                arg_for(v)
        clone = op.clone({v: mapping[v] for v in op.operands})
        block.append(clone)
        mapping.update(zip(op.results, clone.results))
    ys = [arg_for(v) if v not in mapping else mapping[v] for v in outputs]
    block.append(Yield(ys, [], {}))
    return block, captured
