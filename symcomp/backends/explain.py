"""Details of errors that native code reports only by kind.

Compiled code checks every integer-array index (gathers and scatters) and reports a failure as
``(op << 4) | kind``: which op, and that an index was out of range, but not which index or the
axis size (carrying them out of a vectorized, threaded loop would cost every call).  On that error
path, :func:`index_error` recomputes the failing op's operands with the reference interpreter, from
the call's own arguments, and lets the op's NumPy semantics name the index, as NumPy does.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from symcomp.ir.core import Operation


def _needed(op: Operation) -> set:
    """The ops whose results ``op``'s operands depend on (its backward slice)."""
    seen: set = set()
    stack = [v.owner for v in op.operands if v.owner is not None]
    while stack:
        o = stack.pop()
        if o in seen:
            continue
        seen.add(o)
        stack.extend(v.owner for v in o.operands if v.owner is not None and v.owner not in seen)
    return seen


def index_error(func, op: Operation, args: Sequence[np.ndarray]) -> Optional[str]:
    """NumPy's message for the out-of-range index that compiled code found in ``op``.

    Args:
        func: the compiled ``func.func`` holding ``op``.
        op: the op that reported an index out of bounds.
        args: the call's arguments, one per parameter of ``func`` (host arrays).

    Returns:
        e.g. ``"index 9 is out of bounds for axis 0 with size 3"``, or None when the reference
        interpreter does not reproduce the error (the caller keeps its own message then).
    """
    from symcomp.ir.interpreter import run_op

    if op.parent is None or len(args) != len(func.args):
        return None
    env = dict(zip(func.args, (np.asarray(a) for a in args)))
    needed = _needed(op)
    try:
        with np.errstate(all="ignore"):
            for o in func.body.ops:
                if o is op:
                    run_op(op, [env[v] for v in op.operands])
                    return None
                if o in needed:
                    env.update(zip(o.results, run_op(o, [env[v] for v in o.operands])))
    except IndexError as exc:
        return str(exc)
    except Exception:  # noqa: BLE001 - an explanation must never hide the error being explained
        return None
    return None


def index_error_message(func, op: Operation, args: Sequence[np.ndarray], where: str) -> str:
    """The IndexError message for ``op``: NumPy's account of the index when it can be recomputed."""
    detail = index_error(func, op, args)
    if detail is None:
        return f"index out of bounds in {where}"
    return f"{op.name}: {detail} (in {where})"
