"""An interpreter of the IR: each operation's reference semantics (its ``ref``, NumPy) in program order.

The semantics of every op are declared with the op (:mod:`symcomp.ir.opdef`); this module runs
them, checking each result against the op's type rule on the concrete operands, with the static
broadcasting rule checked exactly as the native backends check it.  Floating-point warnings are
silenced: results follow IEEE 754 (inf, NaN) as NumPy's do.  Its users: the reference backend
(:mod:`symcomp.backends.reference`, the test oracle), constant folding, ``mode="debug"`` and the
CUDA backend's host-side ops.  (xDSL keeps its interpreters beside its dialects the same way.)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from symcomp.ir.core import Operation
from symcomp.ir.locations import with_location
from symcomp.ir.opdef import Positional


class ReferenceError_(RuntimeError):
    """An op's reference implementation returned a value of the wrong type (a symcomp bug)."""


def run_op(op: Operation, args: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Evaluate one op on concrete operands; checks result dtypes and shapes against the type rule."""
    types = op.infer_concrete(args)
    out = op.ref(*args)
    outs = [out] if len(op.results) == 1 else list(out)
    result = []
    for t, r, o in zip(types, outs, op.results):
        r = np.asarray(r)
        if r.dtype != t.dtype.np or r.ndim != t.ndim or any(d is not None and d != e for d, e in zip(t.shape, r.shape)):
            # (a dynamic axis stays dynamic only for ops with regions: their per-step shapes come from the body)
            raise ReferenceError_(f"{op.name}: reference gave {r.dtype}{r.shape}, type rule says {t}")
        result.append(r)
    return result


def evaluate_block(block, args: Sequence[np.ndarray]):
    """Run a block; returns (terminator operand values, [(assign target index, value)])."""
    env = dict(zip(block.args, args))
    updates = []
    with np.errstate(all="ignore"):
        for op in block.ops:
            name = op.name
            if name in ("func.return", "sc.yield"):
                return [env[v] for v in op.operands], updates
            if name == "sc.assign":
                updates.append((op.operands[0].index, env[op.operands[1]]))
                continue
            args_ = [env[v] for v in op.operands]
            try:
                outs = run_op(op, args_)
            except (ValueError, IndexError, MemoryError) as exc:  # a call's bad shapes or sizes: name the user's line
                raise with_location(exc, op) from None
            for r, v in zip(op.results, outs):
                env[r] = v
    raise ValueError("block has no terminator")


_REDUCERS = {"add": np.sum, "mul": np.prod, "max": np.max, "min": np.min}


def _identity(kind: str, dtype: np.dtype):
    if kind in ("add", "mul"):
        return 0 if kind == "add" else 1
    if dtype.kind == "f":
        return -np.inf if kind == "max" else np.inf
    if dtype.kind == "b":
        return kind == "min"
    info = np.iinfo(dtype)
    return info.min if kind == "max" else info.max


def evaluate_fused(op: Operation, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Reference semantics of ``sc.fused``: the body on broadcast arrays, then the reduction.

    The body's ops are rank-0 in the IR; here each op's NumPy semantics runs on
    whole arrays (NumPy broadcasts them).  A reduction of an empty axis gives
    the identity (-inf for max), as the compiled loop does.
    """
    arrays = [np.asarray(a) for a in arrays]
    shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
    env = dict(zip(op.body.args, arrays))
    with np.errstate(all="ignore"):
        for o in op.body.ops:
            if o.name == "sc.yield":
                val = env[o.operands[0]]
                break
            if Positional in o.traits:  # the loop point's position: operands broadcast to the loop shape
                out = np.asarray(o.ref(*[np.broadcast_to(env[v], shape) for v in o.operands]))
            else:
                out = np.asarray(o.ref(*[env[v] for v in o.operands]))
            want = o.result.type.dtype.np
            if out.dtype != want:
                raise ReferenceError_(f"{o.name} in sc.fused: reference gave {out.dtype}, type rule says {want}")
            env[o.result] = out
        else:
            raise ValueError("sc.fused body has no sc.yield")
    val = np.broadcast_to(val, shape)
    if op.reduce:
        init = _identity(op.reduce, val.dtype)
        return np.asarray(_REDUCERS[op.reduce](val, axis=tuple(op.axes), initial=init), dtype=val.dtype)
    return np.array(val)
