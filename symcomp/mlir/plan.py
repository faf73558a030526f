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
        for op in self.ops:
            shapes = [shape[v] for v in op.operands]
            vals = [values.get(v) for v in op.operands]
            try:
                types = op.infer_for([v.type.with_shape(s) for v, s in zip(op.operands, shapes)], vals)
                op.check_broadcast(shapes, vals, [t.shape for t in types])
            except (ValueError, IndexError) as exc:
                where = f" (in {op.name} created at {op.loc})" if op.loc else f" (in {op.name})"
                raise type(exc)(f"{exc}{where}") from None
            for r, t in zip(op.results, types):
                shape[r] = t.shape
            if op.results and op.results[0] in self.needed:
                if op.name == "sc.dim":  # needs the operand's shape only
                    values[op.results[0]] = np.asarray(shape[op.operands[0]][op.axis], dtype=np.int64)
                    continue
                with np.errstate(all="ignore"):
                    values[op.results[0]] = np.asarray(op.ref(*[values[v] for v in op.operands]))
        return Plan(tuple(shape[v] for v in self.outputs), tuple(shape[v] for v in self.updates))
