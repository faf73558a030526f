"""Elementwise fusion: chains of elementwise ops (and the reduction they feed) become one ``sc.fused`` op.

The backends lower an ``sc.fused`` op to a single loop nest whose body is the
scalar code of every fused op, so a fused chain reads its inputs once and
writes one result: no intermediate arrays (``sum(exp(x))`` is one pass over x).

Groups are grown from a root (an elementwise op, an existing ``sc.fused`` op,
or a reduction: ``sc.sum``, ``sc.prod``, ``sc.max``, ``sc.min``) towards its
operands, visiting roots from the end of the function.  A producer joins the
group when:

* it is elementwise (or an ``sc.fused`` op without reduction, whose body is inlined);
* every use of its result is inside the group: the fused op computes it only
  for the group, so nothing is computed twice and no cycle can arise (the
  group's only externally used value is the root's result);
* its result has exactly the group's loop shape: a value that the group
  broadcasts (static size 1 against a larger loop axis) would be recomputed
  at every loop point, so it stays an input;
* the body stays within ``max-ops`` operations.

Constants whose every dimension is 1 (scalars, and views of them such as
``ones_like(x)``) move into the body.  Elementwise consumers of a reduction's
result are not fused into it: they form their own group over the (smaller)
reduced array.  This is XLA's and TVM's producer-consumer "loop fusion"
restricted to single-output groups (PyTensor's ``FusionOptimizer`` is the same idea).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from symcomp.ir.core import Block, Operation, Region, Value
from symcomp.ir.opdef import Elementwise
from symcomp.ir.ops.basic import Constant
from symcomp.ir.ops.fused import Fused, Yield
from symcomp.ir.types import TensorType, broadcast_shapes
from symcomp.passes.manager import ModulePass, register_pass

REDUCE_KINDS = {"sc.sum": "add", "sc.prod": "mul", "sc.max": "max", "sc.min": "min"}
_SPLAT_VIEWS = ("sc.broadcast_to", "sc.expand_dims")


def reduction(x: Value, kind: str, axes) -> Value:
    """A detached ``sc.fused`` reducing ``x`` over ``axes`` with ``kind`` (``add``/``mul``/``max``/``min``).

    Unlike ``sc.max``, a fused max of an empty axis is the identity (-inf), not an error.
    """
    return Fused.from_body([x], lambda a: a, kind, tuple(sorted(axes))).result


def _is_elementwise(op: Operation) -> bool:
    if op.name == "sc.fused":
        return not op.reduce
    return Elementwise in op.traits and len(op.results) == 1


def _body_size(op: Operation) -> int:
    if op.name == "sc.fused":
        return sum(1 for o in op.body.ops if o.name not in ("sc.yield", "sc.constant"))
    return 1


def _splat_constant(v: Value) -> Optional[tuple[np.ndarray, bool]]:
    """(rank-0 value, seen through a view) for a one-element constant, possibly broadcast, else None."""
    o = v.owner
    via_view = False
    while o is not None and o.name in _SPLAT_VIEWS:
        o, via_view = o.operands[0].owner, True
    if o is None or o.name != "sc.constant":
        return None
    arr = o.attributes["value"]
    if arr.size != 1:
        return None
    return arr.reshape(()), via_view


@dataclass
class _Group:
    root: Operation
    loop_shape: tuple
    members: set
    size: int


def _loop_shape(root: Operation) -> tuple:
    if root.name in REDUCE_KINDS:
        return root.operands[0].type.shape
    if root.name == "sc.fused" and root.reduce:
        return broadcast_shapes([v.type.shape for v in root.operands])
    return root.result.type.shape


def _grow(root: Operation, max_ops: int) -> _Group:
    g = _Group(root, _loop_shape(root), {root}, _body_size(root))
    changed = True
    while changed:
        changed = False
        for m in list(g.members):
            for v in m.operands:
                p = v.owner
                if p is None or p in g.members or p.parent is not root.parent or not _is_elementwise(p):
                    continue
                if v.type.shape != g.loop_shape or g.size + _body_size(p) > max_ops:
                    continue
                if any(u not in g.members for u, _ in v.uses):
                    continue
                g.members.add(p)
                g.size += _body_size(p)
                changed = True
    return g


def _is_root(op: Operation) -> bool:
    """Groups grow from elementwise ops, fused ops and the reductions sc.fused can express."""
    return op.name in REDUCE_KINDS or op.name == "sc.fused" or _is_elementwise(op)


class _BodyBuilder:
    """Builds the scalar body of a group: block arguments for inputs, constants, cloned ops."""

    def __init__(self, move_views: bool):
        self.move_views = move_views
        self.inputs: list[Value] = []
        self.block = Block()
        self.env: dict[Value, Value] = {}
        self.consts: dict[tuple, Value] = {}

    def value(self, v: Value) -> Value:
        got = self.env.get(v)
        if got is not None:
            return got
        sc = _splat_constant(v)
        if sc is not None and (self.move_views or not sc[1]):
            arr = sc[0]
            key = (arr.dtype.str, arr.tobytes())
            c = self.consts.get(key)
            if c is None:
                op = Constant([], [TensorType(v.type.dtype, ())], {"value": np.array(arr)}, loc=v.owner.loc)
                self.block.append(op)
                c = self.consts[key] = op.result
            self.env[v] = c
            return c
        arg = self.block.add_arg(TensorType(v.type.dtype, ()), v.name)
        self.inputs.append(v)
        self.env[v] = arg
        return arg

    def add(self, m: Operation) -> Value:
        """Clone member ``m`` into the body; returns its scalar result (the value it yields)."""
        args = [self.value(v) for v in m.operands]
        if m.name == "sc.fused":
            inner = dict(zip(m.body.args, args))
            for o in m.body.ops:
                if o.name == "sc.yield":
                    return inner[o.operands[0]]
                new = o.clone(inner)
                self.block.append(new)
            raise AssertionError("sc.fused body without sc.yield")
        attrs = {k: v for k, v in m.attributes.items() if "." not in k}
        new = type(m)(args, [TensorType(m.result.type.dtype, ())], attrs, loc=m.loc)
        self.block.append(new)
        return new.result


def _build(g: _Group, order: dict, move_views: bool) -> Optional[Operation]:
    root = g.root
    members = sorted(g.members, key=order.__getitem__)
    bb = _BodyBuilder(move_views)
    reduce, axes = "", ()
    for m in members:
        if m is root and root.name in REDUCE_KINDS:
            reduce, axes = REDUCE_KINDS[root.name], tuple(root.axes)
            out = bb.value(root.operands[0])
        else:
            out = bb.add(m)
            bb.env[m.result] = out
            if m is root and root.name == "sc.fused":
                reduce, axes = root.reduce, tuple(root.axes)
    if not bb.inputs:
        return None
    try:  # the inputs must span the group's loop: a reduction of constants moved into the body would
        # otherwise reduce a smaller loop and still give the root's type
        if broadcast_shapes([v.type.shape for v in bb.inputs]) != g.loop_shape:
            return None
    except (TypeError, ValueError):
        return None
    bb.block.append(Yield([out], [], {}))
    fused = Fused(bb.inputs, [root.result.type], {"reduce": reduce, "axes": axes}, [Region([bb.block])],
                  loc=root.loc, result_names=[root.result.name])
    try:
        (t,) = fused.infer_for([v.type for v in bb.inputs], [None] * len(bb.inputs))
    except (TypeError, ValueError):
        return None
    return fused if t == root.result.type else None


def fuse_block(block: Block, max_ops: int = 64) -> int:
    """Fuse the elementwise groups of ``block``; returns how many ``sc.fused`` ops were made."""
    made = 0
    ops = list(block.ops)
    order = {op: i for i, op in enumerate(ops)}
    for root in reversed(ops):
        if root.parent is not block:
            continue
        if not _is_root(root):
            continue
        g = _grow(root, max_ops)
        if len(g.members) < 2:
            continue
        fused = _build(g, order, move_views=True) or _build(g, order, move_views=False)
        if fused is None:
            continue
        block.insert_before(fused, root)
        order[fused] = order[root]
        root.result.replace_all_uses_with(fused.result)
        operands = {v for m in g.members for v in m.operands}
        for m in sorted(g.members, key=order.__getitem__, reverse=True):
            m.erase()
        _erase_dead_constants(operands)
        made += 1
    return made


def _erase_dead_constants(values) -> None:
    """Erase the constants (and views of constants) a group moved into its body, once unused."""
    for v in values:
        o = v.owner
        while o is not None and o.parent is not None and not o.results[0].uses and \
                (o.name == "sc.constant" or o.name in _SPLAT_VIEWS):
            nxt = o.operands[0].owner if o.operands else None
            o.erase()
            o = nxt


def fuse(module: Operation, max_ops: int = 64) -> int:
    """Fuse every function body of ``module``; returns how many ``sc.fused`` ops were made."""
    from symcomp.passes.rewrite import tensor_blocks

    return sum(fuse_block(b, max_ops) for b in tensor_blocks(module))


@register_pass
@dataclass(frozen=True)
class Fuse(ModulePass):
    """Fuse elementwise chains, and the reductions they feed, into ``sc.fused`` loop nests.

    Options:
        max-ops: the most scalar operations in one fused body.
    """

    name = "fuse"
    description = "Fuse chains of elementwise ops (and their reductions) into single sc.fused loop nests"
    max_ops: int = 64

    def apply(self, module) -> None:
        from symcomp.ir.parser import MAX_FUSED_BODY_OPS

        if not 1 <= self.max_ops <= MAX_FUSED_BODY_OPS:
            raise ValueError(f"fuse: max-ops must be between 1 and {MAX_FUSED_BODY_OPS} (larger bodies compile "
                             f"slowly, and IR text does not take them), got {self.max_ops}")
        fuse(module, self.max_ops)
