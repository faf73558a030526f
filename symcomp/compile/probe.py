"""Seeing inside a compiled function: the traced program, every intermediate value, reference values.

The self-checking modes (``debug``, ``nanguard``) need three things the
ordinary pipeline throws away:

* the program as traced, before any pass: :class:`CheckingMode` clones it
  before running its pipeline and hands the clone to its backend
  (:func:`traced_program`), together with a map from the values of the
  optimized program that survived the pipeline unchanged to their twins in
  the traced one (passes rewrite the module in place, so a value the
  pipeline kept is the same Python object before and after);
* the value of every operation of the *optimized* program as the backend
  computes it: :func:`instrument` builds a variant of the optimized function
  that also returns the result of every top-level operation, in program order
  (a fused loop nest counts as one operation);
* the value of every operation according to the reference semantics
  (:func:`reference_values`, the NumPy interpreter keeping every value), and
  inside a fused loop nest (:func:`fused_body_values`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from symcomp.ir.interpreter import run_op
from symcomp.ir.locations import IRLines, with_location
from symcomp.compile.modes import Mode
from symcomp.compile.trace import Signature
from symcomp.ir.core import Operation, Value
from symcomp.ir.gcpause import gc_paused
from symcomp.ir.module import ModuleOp, ReturnOp

_NOT_COMPUTED = ("func.return", "sc.assign")


@dataclass
class TracedProgram:
    """The program before optimization.

    Attributes:
        module: a clone of the traced module (never optimized).
        twin: value of the module being optimized -> the same value in ``module``.
    """

    module: ModuleOp
    twin: dict


_TRACED: "weakref.WeakKeyDictionary[ModuleOp, TracedProgram]" = weakref.WeakKeyDictionary()


class CheckingMode(Mode):
    """A mode whose backend can see the traced program (the debug mode compares against it).

    It runs the same pipeline as any mode; before it, it clones the traced
    module, which its backend fetches with :func:`traced_program`.
    """

    def optimize(self, module, stages: dict, timings: dict, device: Optional[str] = None) -> None:
        """Remember a clone of ``module``, then run the pipeline on ``module`` in place."""
        twin: dict = {}
        with gc_paused():
            clone = module.clone(twin)
        _TRACED[module] = TracedProgram(clone, twin)
        super().optimize(module, stages, timings, device)


def traced_program(module: ModuleOp) -> TracedProgram:
    """The traced program :class:`CheckingMode` saved before optimizing ``module``.

    A module compiled without running the mode's pipeline (IR built with the
    IR builder, or read back from text) is its own traced program: a clone of
    it is returned, so the checks compare the backend with the reference on
    that IR.
    """
    saved = _TRACED.pop(module, None)
    if saved is not None:
        return saved
    twin: dict = {}
    with gc_paused():
        clone = module.clone(twin)
    return TracedProgram(clone, twin)


def computing_ops(func: Operation) -> list[Operation]:
    """The top-level operations of ``func`` that compute values, in program order."""
    return [o for o in func.body.ops if o.name not in _NOT_COMPUTED]


@dataclass
class Instrumented:
    """A variant of an optimized function that also returns every intermediate value.

    Attributes:
        module: the variant (a clone; the optimized module is not changed).
        sig: its signature: the original outputs first, then one output per tracked value.
        n_outputs: the number of original outputs.
        ops: the computing ops of the *optimized* function, in program order.
        tracked: their results, in order: the values the extra outputs hold.
        args: the optimized function's parameters.
        results: the values the optimized function returns.
        updates: the values it assigns to shared variables, in ``sc.assign`` order.
        twin: value of the optimized function -> the same value in the variant.
        lines: the optimized module's IR lines (for diagnostics).
    """

    module: ModuleOp
    sig: Signature
    n_outputs: int
    ops: list
    tracked: list
    args: list
    results: list
    updates: list
    twin: dict
    lines: IRLines

    def values(self, outputs: Sequence[np.ndarray]) -> dict[Value, np.ndarray]:
        """{tracked value of the optimized function: its array} from the variant's outputs."""
        return {v: outputs[self.n_outputs + k] for k, v in enumerate(self.tracked)}


def instrument(module: ModuleOp, sig: Signature, keep_updates: bool) -> Instrumented:
    """Clone the optimized ``module`` into a variant also returning every top-level op's results.

    Args:
        module: an optimized module (one function); not modified.
        sig: its signature.
        keep_updates: keep the ``sc.assign`` ops (the variant then computes the
            updates too); without them the variant never writes shared storage.

    Returns:
        The variant, to be compiled by any backend.
    """
    func = module.func()
    lines = IRLines(module)
    ops = computing_ops(func)
    tracked = [r for o in ops for r in o.results]
    results = list(func.return_op.operands)
    updates = [o.operands[1] for o in func.body.ops if o.name == "sc.assign"]
    twin: dict = {}
    with gc_paused():
        clone = module.clone(twin)
    cfunc = clone.func()
    cfunc.return_op.erase()
    if not keep_updates:
        for o in [o for o in cfunc.body.ops if o.name == "sc.assign"]:
            o.erase()
    cfunc.body.append(ReturnOp([twin[v] for v in results + tracked], [], {}))
    new_sig = Signature(inputs=sig.inputs, shared=sig.shared, n_outputs=len(results) + len(tracked),
                        updates=list(sig.updates) if keep_updates else [])
    return Instrumented(clone, new_sig, len(results), ops, tracked, list(func.args), results, updates, twin, lines)


def reference_values(func: Operation, arrays: Sequence[np.ndarray]) -> dict[Value, np.ndarray]:
    """Every value of ``func`` (arguments and op results) by the reference semantics.

    Raises:
        ValueError / IndexError / TypeError: from an op's shape checks or
            reference, with the op's creation line appended.
    """
    env: dict = dict(zip(func.args, arrays))
    with np.errstate(all="ignore"):
        for o in computing_ops(func):
            try:
                results = run_op(o, [env[v] for v in o.operands])
            except (ValueError, IndexError, TypeError, ArithmeticError) as exc:
                raise with_location(exc, o) from None
            env.update(zip(o.results, results))
    return env


def reference_results(func: Operation, env: dict) -> tuple[list, list]:
    """(outputs, update values) of ``func`` from its reference values, as an executable returns them."""
    outputs = [env[v] for v in func.return_op.operands]
    assigns = [o for o in func.body.ops if o.name == "sc.assign"]
    return outputs, [env[a.operands[1]] for a in assigns]


def fused_body_values(op: Operation, operands: Sequence[np.ndarray]) -> list[tuple[Operation, np.ndarray]]:
    """(inner op, value) for every op of an ``sc.fused`` body, by the reference semantics.

    The body's ops are rank-0 in the IR; their NumPy semantics runs here on the
    whole operand arrays, which NumPy broadcasts.
    """
    env: dict = dict(zip(op.body.args, [np.asarray(a) for a in operands]))
    out = []
    with np.errstate(all="ignore"):
        for inner in op.body.ops:
            if inner.name == "sc.yield":
                break
            value = np.asarray(inner.ref(*[env[v] for v in inner.operands]))
            env[inner.result] = value
            out.append((inner, value))
    return out
