"""Shape checks for the MLIR backend, per input signature, in Python.

Before native code runs, every op's type rule is re-run on the concrete
shapes (and on the values of the rank-0 integers that give sizes and basic
indices), with the same broadcast checks as the other backends: a mismatch is
a ValueError/IndexError naming the op, never an out-of-bounds access.  The
plan gives the shapes of the outputs and updates, which the runtime allocates
and passes as destinations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symcomp.ir.ops.control import ControlFlow
from symcomp.backends.prepare import needed_values
from symcomp.ir.core import Operation, Value

@dataclass(frozen=True)
class Plan:
    """Concrete shapes for one input signature.

    Attributes:
        outputs: shape of each output.
        updates: shape of each shared-variable update.
    """

    outputs: tuple
    updates: tuple


class ShapePlanner:
    """Checks concrete argument shapes against a function and computes its result shapes."""

    def __init__(self, func: Operation):
        self.func = func
        self.ops = [o for o in func.body.ops if o.name not in ("func.return", "sc.assign")]
        self.needed = needed_values(self.ops)
        self.value_params = [k for k, a in enumerate(func.args) if a in self.needed]
        self.outputs = list(func.return_op.operands)
        self.updates = [o.operands[1] for o in func.body.ops if o.name == "sc.assign"]

    def key(self, arrays) -> tuple:
        """The cache key of a call: shapes, and the values of scalar arguments that give sizes."""
        key = tuple(a.shape for a in arrays)
        return key + tuple(arrays[k].item() for k in self.value_params)

    def plan(self, arrays) -> Plan:
        """Run every type rule on the concrete shapes.

        Raises:
            ValueError, IndexError: for shapes or indices that do not fit, naming the op.
        """
        shape: dict[Value, tuple] = {}
        values: dict[Value, np.ndarray] = {}
        for arg, a in zip(self.func.args, arrays):
            shape[arg] = a.shape
            if arg in self.needed:
                values[arg] = np.asarray(a)
        _plan_block(self.ops, shape, values, self.needed)
        return Plan(tuple(shape[v] for v in self.outputs), tuple(shape[v] for v in self.updates))



def _plan_block(ops, shape: dict, values: dict, needed: set) -> None:
    """Run the type rules of ``ops`` on concrete shapes (and compute the values sizes need), into
    ``shape`` and ``values``; the regions of loops and branches are planned once (every step has
    the same shapes), which gives their results' shapes."""
    for op in ops:
        shapes = [shape[v] for v in op.operands]
        vals = [values.get(v) for v in op.operands]
        try:
            types = op.infer_for([v.type.with_shape(s) for v, s in zip(op.operands, shapes)], vals)
            if isinstance(op, ControlFlow):
                out_shapes = _region_results(op, shapes, vals, shape, values, needed)
            else:
                out_shapes = [t.shape for t in types]
                op.check_broadcast(shapes, vals, out_shapes)
        except (ValueError, IndexError) as exc:
            where = f" (in {op.name} created at {op.loc})" if op.loc else f" (in {op.name})"
            raise type(exc)(f"{exc}{where}") from None
        for r, s in zip(op.results, out_shapes):
            shape[r] = tuple(s)
        if op.results and op.results[0] in needed:
            if op.name == "sc.dim":  # needs the operand's shape only
                values[op.results[0]] = np.asarray(shape[op.operands[0]][op.axis], dtype=np.int64)
                continue
            with np.errstate(all="ignore"):
                values[op.results[0]] = np.asarray(op.ref(*[values[v] for v in op.operands]))


def _region_results(op, shapes, vals, shape: dict, values: dict, needed: set) -> list:
    """The result shapes of an ``sc.scan`` or ``sc.if`` from planning its regions once.

    Raises:
        NotImplementedError: for branches whose results differ in shape.
    """
    if op.name == "sc.if":
        got = []
        for region in op.regions:
            blk = region.block
            for a, s, v in zip(blk.args, shapes[1:], vals[1:]):
                shape[a] = s
                if v is not None:
                    values[a] = v
            _plan_block([o for o in blk.ops if o.name != "sc.yield"], shape, values, needed)
            got.append([shape[y] for y in blk.last.operands])
        if got[0] != got[1]:
            raise NotImplementedError(f"ifelse: the branches give results of shapes {got[0]} and {got[1]}; "
                                      "mode='mlir' needs the same shapes (use mode='reference')")
        return got[0]
    n = int(vals[0])
    op.check_shapes(shapes, n)
    seqs, states, nonseqs = op.arg_groups()
    for src, group in zip(op.seqs, seqs):
        for a in group:
            shape[a] = shape[src][1:]
    rows = []
    for init, group in zip(op.inits, states):
        rows.append(shape[init][1:])
        for a in group:
            shape[a] = shape[init][1:]
    for a, src in zip(nonseqs, op.nonseqs):
        shape[a] = shape[src]
        if src in values:
            values[a] = values[src]
    _plan_block([o for o in op.body.ops if o.name != "sc.yield"], shape, values, needed)
    ys = list(op.body.last.operands)
    out = []
    for j, (row, keep) in enumerate(zip(rows, op.state_keep)):
        if shape[ys[j]] != row:
            raise ValueError(f"scan: state {j}: a step gives a value of shape {shape[ys[j]]}, but the state has "
                             f"shape {row}")
        out.append(row if keep else (op.depth(j) + n,) + row)
    for k in range(op.n_nitsot):
        out.append((n,) + shape[ys[op.n_states + k]])
    if op.until:
        out.append(())
    return out
