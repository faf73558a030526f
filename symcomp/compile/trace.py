"""From a symbolic graph to a function in the IR.

:func:`trace` clones the operations between the inputs and the outputs (and
update expressions) into a new ``func.func``: the user's inputs become its
first parameters, the shared variables the graph reads come next (marked
``sc.shared``), every update becomes an ``sc.assign``, and ``func.return``
gives the outputs.  The ops that only one branch of an ``sc.if`` uses move into that branch
(:mod:`symcomp.passes.sink`): ``ifelse`` evaluates lazily in every mode.  The user's graph is never modified, so one graph can be
compiled many times, with different ``givens``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from symcomp.ir.core import Operation, Placeholder, Value
from symcomp.ir.module import FuncOp, ModuleOp, ReturnOp, new_func, new_module
from symcomp.ir.ops.basic import Assign
from symcomp.shared import SharedVariable


class MissingInputError(ValueError):
    """The outputs depend on a symbolic input that is not in the inputs list."""


class UnusedInputError(ValueError):
    """An input does not influence any output or update."""


@dataclass
class Signature:
    """How a traced function's parameters and results map to user objects.

    Attributes:
        inputs: the user's input variables (parameters 0..n-1).
        shared: shared variables read or updated (parameters n..).
        n_outputs: number of outputs returned to the user.
        updates: (shared variable, index of its parameter) per ``sc.assign``, in op order.
    """

    inputs: list = field(default_factory=list)
    shared: list = field(default_factory=list)
    n_outputs: int = 0
    updates: list = field(default_factory=list)


def _resolve(v: Value, givens: dict) -> Value:
    seen = 0
    while v in givens:
        v = givens[v]
        seen += 1
        if seen > 10_000:
            raise ValueError("givens contain a cycle")
    return v


def _leaves_and_order(roots: Sequence[Value], givens: dict) -> tuple[list[Operation], list[Placeholder]]:
    """Ops reachable from ``roots`` (through ``givens``) in topological order, and the leaf placeholders."""
    order: list[Operation] = []
    leaves: list[Placeholder] = []
    done: set = set()
    stack: list[tuple[Value, bool]] = [(_resolve(r, givens), False) for r in reversed(roots)]
    while stack:
        v, expanded = stack.pop()
        op = v.owner
        key = op if op is not None else v
        if expanded:
            if op is not None and op not in done:
                done.add(op)
                order.append(op)
            continue
        if key in done:
            continue
        if op is None:
            done.add(v)
            if not isinstance(v, Placeholder):
                raise TypeError(f"value {v!r} has no defining operation and is not an input")
            leaves.append(v)
            continue
        stack.append((v, True))
        for w in reversed(op.operands):
            w = _resolve(w, givens)
            if (w.owner if w.owner is not None else w) not in done:
                stack.append((w, False))
    return order, leaves


def default_updates(outputs: Sequence[Value], updates: Sequence[tuple], givens: Optional[dict] = None,
                    no_default_updates=False) -> list[tuple]:
    """The default updates (``var.default_update``) of the shared variables the graph reads (Theano's rule).

    A shared variable the graph (outputs, updates, and the default updates added so far) reads
    gets its default update unless it is updated explicitly or ``no_default_updates`` is True or
    a list holding it.

    Returns:
        (shared variable, expression) pairs, in the order the variables are found.
    """
    if no_default_updates is True:
        return []
    skip = set(no_default_updates or ()) | {var for var, _ in updates}
    givens = dict(givens or {})
    roots = list(outputs) + [u for _, u in updates]
    found: list[tuple] = []
    seen: set = set()
    while roots:
        _, leaves = _leaves_and_order(roots, givens)
        roots = []
        for leaf in leaves:
            if isinstance(leaf, SharedVariable) and leaf not in seen:
                seen.add(leaf)
                upd = leaf.default_update
                if upd is not None and leaf not in skip:
                    found.append((leaf, upd))
                    roots.append(upd)
    return found


def trace(inputs: Sequence[Value], outputs: Sequence[Value], updates: Sequence[tuple] = (),
          givens: Optional[dict] = None, name: str = "main", on_unused_input: str = "raise") -> tuple[ModuleOp, Signature]:
    """Build a module holding one function computing ``outputs`` and ``updates`` from ``inputs``.

    Args:
        inputs: symbolic input variables (not shared variables).
        outputs: symbolic values to return.
        updates: (shared variable, new value expression) pairs.
        givens: {variable: replacement} substitutions applied while tracing.
        name: the function's symbol name.
        on_unused_input: 'raise', 'warn' or 'ignore'.

    Raises:
        TypeError: for inputs that are not input variables, or a shared variable given as an input.
        MissingInputError: if the graph needs an input that is not listed.
        UnusedInputError: for an input nothing depends on (under 'raise').
    """
    givens = dict(givens or {})
    for i, v in enumerate(inputs):
        if isinstance(v, SharedVariable):
            raise TypeError(f"input {i} ({v.name}) is a shared variable; shared variables are implicit inputs, "
                            "do not list them in inputs")
        if not isinstance(v, Placeholder):
            raise TypeError(f"input {i} must be a symbolic input variable (T.matrix(...), ...), got "
                            f"{type(v).__name__} {v!r:.60}")
    if len({id(v) for v in inputs}) != len(inputs):
        raise ValueError("the same variable appears twice in inputs")
    input_set = set(inputs)
    for k in givens:
        if k in input_set:
            raise ValueError(f"givens replaces {k.name or repr(k)}, which is also listed in inputs")
    roots = list(outputs) + [u for _, u in updates]
    order, leaves = _leaves_and_order(roots, givens)

    sig = Signature(inputs=list(inputs))
    for leaf in leaves:
        if leaf in input_set:
            continue
        if isinstance(leaf, SharedVariable):
            sig.shared.append(leaf)
            continue
        where = f" (created at {leaf.loc})" if getattr(leaf, "loc", None) else ""
        raise MissingInputError(f"the outputs depend on input {leaf.name or repr(leaf)}{where}, "
                                "which is not in the inputs list")
    for var, _ in updates:
        if var not in sig.shared:
            sig.shared.append(var)
    used = set(leaves)
    unused = [v for v in inputs if v not in used]
    if unused and on_unused_input != "ignore":
        msg = ("inputs not used to compute any output or update: "
               + ", ".join((v.name or repr(v)) + (f" (created at {v.loc})" if v.loc else "") for v in unused)
               + " (pass on_unused_input='ignore' to allow this)")
        if on_unused_input == "raise":
            raise UnusedInputError(msg)
        import warnings

        warnings.warn(msg, stacklevel=3)

    params = list(inputs) + sig.shared
    func: FuncOp = new_func(name, [p.type.plain() for p in params], [p.name for p in params])
    mapping: dict[Value, Value] = dict(zip(params, func.args))
    for p, arg in zip(sig.shared, func.args[len(inputs):]):
        arg.attributes["sc.shared"] = p.name
    block = func.body
    for op in order:
        clone = op.clone({v: mapping[_resolve(v, givens)] for v in op.operands})
        block.append(clone)
        mapping.update(zip(op.results, clone.results))
    out_vals = [mapping[_resolve(v, givens)] for v in outputs]
    for var, expr in updates:
        idx = params.index(var)
        block.append(Assign([func.args[idx], mapping[_resolve(expr, givens)]], [], {}, loc=None))
        sig.updates.append((var, idx))
    block.append(ReturnOp(out_vals, [], {}))
    sig.n_outputs = len(out_vals)
    module = new_module([func])
    if any(op.name == "sc.if" for op in order):
        from symcomp.passes.sink import sink_into_branches

        sink_into_branches(module)  # ifelse is lazy: each branch's own work moves into it
    return module, sig
