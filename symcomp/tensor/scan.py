"""``scan``: symbolic loops, Theano's ``theano.scan`` (and ``map``, ``reduce``, ``foldl``, ``foldr``).

``scan`` calls the user's ``fn`` once, on symbolic stand-ins for one step's inputs, and turns
what it returns into an ``sc.scan`` op (:mod:`symcomp.ir.ops.control`) whose body region is
the step.  The semantics are Theano's (``theano/scan_module/scan.py``, documented in Theano's
"Loop" tutorial and the ``scan`` library reference):

* ``sequences``: iterated over their leading axis; ``dict(input=x, taps=[-1, 0, 1])`` gives
  ``fn`` the slices ``x[t-1], x[t], x[t+1]``, relative to a current step that starts at
  ``-min(taps)`` and ends where the largest tap reaches the sequence's end (Theano's rules for
  a single tap, ``x[k:]`` or ``x[:k]``, and for taps that are all negative included);
* ``outputs_info``: per output, ``None`` (not fed back), an initial value (fed back as the
  previous step's value), or ``dict(initial=x0, taps=[-2, -1])`` (``x0[0]`` is the value at
  ``t = -2``, ``x0[1]`` at ``t = -1``);
* ``non_sequences``: passed to every step; values ``fn`` uses without listing them are
  passed the same way;
* ``fn``'s arguments: sequence slices, then the fed-back outputs' taps, then non-sequences;
  it returns the outputs, and optionally a dict of shared-variable updates and an
  :class:`until` condition, in any order;
* shared variables updated in ``fn`` (explicitly, or by their default update, as the
  streams of ``RandomStreams`` are) are loop states: each step sees the value the previous
  step gave, and ``scan`` returns their final values in its ``updates``, which the user passes
  to ``symcomp.function``.
"""

from __future__ import annotations

import numbers
from collections import OrderedDict
from typing import Optional

from symcomp.ir import types as T
from symcomp.ir.core import Location, Placeholder, Value, walk_graph
from symcomp.ir.ops.control import Scan
from symcomp.tensor.convert import as_value, cast, constant, static_value
from symcomp.tensor.graph import make_body, substitute


class until:
    """The stop condition of a ``scan`` step (Theano's ``theano.scan_module.until``): returned by
    ``fn`` with its outputs, the loop ends after the first step where ``condition`` is true (that
    step's outputs included).

    Raises:
        TypeError: if ``condition`` is not a scalar.
    """

    def __init__(self, condition):
        c = as_value(condition)
        if c.type.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {c.type}")
        self.condition = c


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _split_return(ret):
    """Theano's rule: ``fn`` returns outputs, an updates dict and an ``until``, in any order."""
    outputs, updates, cond = [], OrderedDict(), None
    items = list(ret) if isinstance(ret, (list, tuple)) else [ret]
    # (outputs, updates) as a pair of a list and a dict: flatten one level
    flat = []
    for it in items:
        if isinstance(it, (list, tuple)) and not any(isinstance(e, (dict, until)) for e in it):
            flat.extend(it)
        else:
            flat.append(it)
    for it in flat:
        if isinstance(it, until):
            if cond is not None:
                raise ValueError("scan: fn returned two until conditions")
            cond = it.condition
        elif isinstance(it, dict):
            updates.update(it)
        elif isinstance(it, (list, tuple)) and all(isinstance(p, tuple) and len(p) == 2 for p in it) and it:
            updates.update(it)
        elif it is None:
            continue
        else:
            outputs.append(it)
    return outputs, updates, cond


def _placeholder(t: T.TensorType, name: Optional[str]) -> Placeholder:
    return Placeholder(T.TensorType(t.dtype, tuple(t.shape)), name)


def _shared_states(values, explicit) -> list:
    """Shared variables read by ``values`` that have a default update (random streams) and are
    not updated explicitly, found transitively through the default updates."""
    from symcomp.shared import SharedVariable

    found, seen, roots = [], set(explicit), list(values)
    while roots:
        new_roots = []
        ops = walk_graph(roots)
        leaves = {v for op in ops for v in op.operands if v.owner is None} | {v for v in roots if v.owner is None}
        for leaf in leaves:
            if isinstance(leaf, SharedVariable) and leaf not in seen:
                seen.add(leaf)
                if leaf.default_update is not None:
                    found.append(leaf)
                    new_roots.append(leaf.default_update)
        roots = new_roots
    return found


def _align_sequence(x: Value, taps: list) -> tuple:
    """Theano's reading of a sequence with ``taps`` (sorted) as the IR's: ``sc.scan`` reads
    ``x[t - min(taps) + tap]`` over ``len(x) - (max - min)`` steps; Theano (``scan.py``) reads a
    single tap ``k > 0`` as ``x[k:]`` and ``k < 0`` as ``x[:k]``, and taps all negative as if the
    current step were one past the largest (``x[-max(taps):]``): the sequence is cut to match."""
    lo, hi = taps[0], taps[-1]
    if lo == hi and lo != 0:
        return (x[lo:] if lo > 0 else x[:lo]), [0]
    if hi < 0:
        return x[-hi:], taps
    return x, taps


def _n_steps_from(n_steps, seqs) -> Value:
    """The step count: ``n_steps`` if given (checked), else the shortest sequence's."""
    from symcomp.tensor.elemwise import minimum
    from symcomp.tensor.shape import shape

    if n_steps is not None:
        if isinstance(n_steps, Value):
            if n_steps.type.ndim != 0 or not n_steps.type.dtype.is_int:
                raise ValueError(f"scan: n_steps must be an integer scalar, got a symbolic {n_steps.type}")
            known = static_value(n_steps)
            if known is not None and int(known) < 0:
                raise ValueError(f"scan: n_steps must be >= 0, got {int(known)}")
            return cast(n_steps, "int64")
        if isinstance(n_steps, float) and n_steps.is_integer():
            n_steps = int(n_steps)
        if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral):
            raise ValueError(f"scan: n_steps must be an integer, got {n_steps!r}")
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ValueError(f"scan: n_steps must be >= 0, got {n_steps}")
        return constant(n_steps, "int64")
    if not seqs:
        raise ValueError("scan: no sequences and no n_steps: give n_steps or a sequence to iterate over")
    lengths = []
    for i, (x, taps) in enumerate(seqs):
        span = taps[-1] - taps[0]
        s0 = x.type.shape[0]
        if s0 is not None and s0 < span:
            raise ValueError(f"scan: sequence {i} has {s0} entries, fewer than its taps {taps} need ({span})")
        length = constant(s0, "int64") if s0 is not None else cast(shape(x)[0], "int64")
        lengths.append(length - span if span else length)
    n = lengths[0]
    for ln in lengths[1:]:
        n = minimum(n, ln)
    return n


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False,
         return_list=False):
    """A symbolic loop (Theano's ``theano.scan``; see the module docstring for the conventions).

    Args:
        fn: a Python function building one step from symbolic values.
        sequences: values (or ``dict(input=x, taps=[...])``) iterated over their leading axis.
        outputs_info: per output of ``fn``: None, an initial value, or ``dict(initial=..., taps=[...])``.
        non_sequences: values passed to every step.
        n_steps: the number of steps (an int or integer scalar); required without sequences.
        truncate_gradient: backpropagate through at most this many steps (-1: all).
        go_backwards: iterate the sequences from their end.
        mode, name, profile, allow_gc: accepted for Theano's signature.
        strict: if True, ``fn`` may only use values passed to it (no captured values).
        return_list: always return a list of outputs, even of one.

    Returns:
        (outputs, updates): the stacked outputs, ``(n_steps, ...)`` each (a value, or a list of
        them), and an ``OrderedDict`` of the shared-variable updates to pass to ``function``.

    Raises:
        ValueError: for a negative or non-integer ``n_steps``, no step count, outputs that do not
            match ``outputs_info``, or an initial value whose dtype or rank differs from what
            ``fn`` returns for it (naming the output and both types).
        TypeError: for bad taps.
    """
    del mode, name, profile, allow_gc
    seqs: list[tuple[Value, list[int]]] = []
    seq_order: list[list[int]] = []  # the taps in the order fn receives them (the user's)
    for i, s in enumerate(_as_list(sequences)):
        if isinstance(s, dict):
            x, given = s.get("input"), s.get("taps", [0])
            given = [0] if given is None else list(dict.fromkeys(int(t) for t in _as_list(given)))
        else:
            x, given = s, [0]
        x = as_value(x)
        if x.type.ndim < 1:
            raise ValueError(f"scan: sequence {i} must have at least one axis to iterate over, got {x.type}")
        if not given:
            continue
        if go_backwards:
            x = x[::-1]
        x, taps = _align_sequence(x, sorted(given))
        seqs.append((x, taps))
        seq_order.append([taps[sorted(given).index(t)] for t in given])

    info = _as_list(outputs_info)
    states: list[dict] = []  # user states: init (m, *s), taps, output position
    out_kinds: list[tuple[str, int]] = []  # per output of fn: ("state", j) or ("nitsot", k)
    for k, o in enumerate(info):
        if isinstance(o, dict):
            init = o.get("initial")
            taps = o.get("taps", [-1] if init is not None else None)
            if init is None or not taps:
                out_kinds.append(("nitsot", k))
                continue
            given = list(dict.fromkeys(int(t) for t in _as_list(taps)))
            taps = sorted(given)
            if any(t >= 0 for t in taps):
                raise ValueError(f"scan: outputs_info[{k}]: taps of an output must be negative, got {given}")
        elif o is None:
            out_kinds.append(("nitsot", k))
            continue
        else:
            init, taps = o, [-1]
        if not isinstance(o, dict) or "taps" not in o:
            given = list(taps)
        init = as_value(init)
        m = -taps[0]
        if taps == [-1]:
            init_rows = init.dimshuffle("x", *range(init.type.ndim))
            row_t = init.type
        else:
            if init.type.ndim < 1:
                raise ValueError(f"scan: outputs_info[{k}] with taps {taps} needs an initial value with a leading "
                                 f"axis of at least {m} entries, got {init.type}")
            init_rows = init[:m]
            row_t = T.TensorType(init.type.dtype, init.type.shape[1:])
        out_kinds.append(("state", len(states)))
        states.append({"init": init_rows, "taps": taps, "row": row_t, "pos": k, "name": init.name, "given": given})

    nonseqs = [as_value(v) for v in _as_list(non_sequences)]

    # The step's stand-ins, in fn's argument order.
    seq_phs = [[_placeholder(T.TensorType(x.type.dtype, x.type.shape[1:]), _tap_name(x.name, tap)) for tap in taps]
               for x, taps in seqs]
    state_phs = [[_placeholder(st["row"], _tap_name(st["name"], tap)) for tap in st["taps"]] for st in states]
    nonseq_phs = list(nonseqs)  # Theano passes the non-sequences themselves: fn may differentiate through them
    # fn gets each sequence's and state's taps in the order the user listed them
    args = [ps[taps.index(t)] for ps, (_, taps), order in zip(seq_phs, seqs, seq_order) for t in order]
    args += [ps[st["taps"].index(t)] for ps, st in zip(state_phs, states) for t in st["given"]]
    args += nonseq_phs
    ret = fn(*args)
    outputs, updates, cond = _split_return(ret)
    outputs = [as_value(o) for o in outputs]
    if info and len(outputs) != len(info):
        raise ValueError(f"scan: fn returned {len(outputs)} outputs but outputs_info has {len(info)} entries "
                         "(give None for outputs that are not fed back)")
    if not info:
        out_kinds = [("nitsot", k) for k in range(len(outputs))]
    for (kind, j), o in zip(out_kinds, outputs):
        if kind == "state":
            _check_state(j, states[j], o)
    nitsot_pos = [k for kind, k in out_kinds if kind == "nitsot"]

    # Shared variables updated in the loop become states carrying their value from step to step.
    from symcomp.shared import SharedVariable

    upd_vars = []
    for var in updates:
        if not isinstance(var, SharedVariable):
            raise TypeError(f"scan: fn's updates must be keyed by shared variables, got {type(var).__name__}")
        upd_vars.append(var)
    upd_exprs = [as_value(updates[v]) for v in upd_vars]
    upd_exprs = [cast(e, var.type.dtype) if e.type.dtype != var.type.dtype else e for var, e in zip(upd_vars, upd_exprs)]
    roots = [o for o in outputs] + upd_exprs + ([cond] if cond is not None else [])
    for var in _shared_states(roots, upd_vars):
        upd_vars.append(var)
        upd_exprs.append(var.default_update)
    shared_phs = [_placeholder(v.type, v.name) for v in upd_vars]
    repl = dict(zip(upd_vars, shared_phs))
    values = substitute(outputs + upd_exprs + ([cond] if cond is not None else []), repl)
    outputs, upd_exprs = values[:len(outputs)], values[len(outputs):len(outputs) + len(upd_exprs)]
    cond = values[-1] if cond is not None else None

    state_outs = [outputs[out_kinds.index(("state", j))] for j in range(len(states))]
    nitsot_outs = [outputs[k] for k in nitsot_pos]
    yields = state_outs + upd_exprs + nitsot_outs + ([cond] if cond is not None else [])
    body_args = [p for ps in seq_phs for p in ps] + [p for ps in state_phs for p in ps] + shared_phs
    block, captured = make_body(body_args, yields)
    n_residual = 0 if cond is not None else _add_residuals(block, [p for ps in state_phs for p in ps] + shared_phs,
                                                          body_args)
    given = {id(v) for v in nonseqs}
    if strict and any(id(v) not in given for v in captured):
        names = ", ".join(v.name or repr(v) for v in captured if id(v) not in given)
        raise ValueError(f"scan: strict=True, but fn uses values it was not given: {names} "
                         "(pass them in non_sequences)")
    n = _n_steps_from(n_steps, seqs)
    shared_inits = [v.dimshuffle("x", *range(v.type.ndim)) for v in upd_vars]
    op = build_scan(n, [x for x, _ in seqs], [st["init"] for st in states] + shared_inits,
                    captured, block,
                    seq_taps=[t for _, t in seqs],
                    state_taps=[st["taps"] for st in states] + [[-1]] * len(upd_vars),
                    state_keep=[0] * len(states) + [1] * len(upd_vars),
                    n_nitsot=len(nitsot_outs) + n_residual, until=cond is not None,
                    truncate_gradient=truncate_gradient, n_residual=n_residual)
    res = list(op.results)
    count = res[-1] if cond is not None else None
    user_outs: list = [None] * len(out_kinds)
    for j, st in enumerate(states):
        h = res[j]
        m = -st["taps"][0]
        user_outs[st["pos"]] = h[m:] if count is None else h[m:][:count]
    nst = len(states) + len(upd_vars)
    for k, pos in enumerate(nitsot_pos):
        y = res[nst + k]
        user_outs[pos] = y if count is None else y[:count]
    new_updates = OrderedDict((var, res[len(states) + i]) for i, var in enumerate(upd_vars))
    if len(user_outs) == 1 and not return_list:
        return user_outs[0], new_updates
    return user_outs, new_updates


def _is_shared(v) -> bool:
    from symcomp.shared import SharedVariable

    return isinstance(v, SharedVariable)


def _tap_name(name, tap) -> Optional[str]:
    if not name:
        return None
    return f"{name}[t{tap:+d}]" if tap else f"{name}[t]"


def _check_state(j: int, st: dict, out: Value) -> None:
    """Theano's checks of a fed-back output against its initial value."""
    row = st["row"]
    what = f"output {st['pos']}" + (f" ({st['name']})" if st["name"] else "")
    if out.type.dtype != row.dtype:
        raise ValueError(f"scan: the initial value (outputs_info) of {what} has dtype {row.dtype.name}, while fn "
                         f"returns dtype {out.type.dtype.name} for it (types {row} and {out.type}); this can "
                         "happen when fn upcasts or downcasts: cast the initial value or the result")
    if out.type.ndim != row.ndim:
        raise ValueError(f"scan: the initial value (outputs_info) of {what} has {row.ndim} dimension(s) (type {row}), "
                         f"while fn returns {out.type.ndim} dimension(s) for it (type {out.type})")
    for a, b in zip(row.shape, out.type.shape):
        if a is not None and b is not None and a != b:
            raise ValueError(f"scan: the initial value (outputs_info) of {what} has shape {row.shape} "
                             f"(type {row}), while fn returns shape {out.type.shape} (type {out.type})")


def _add_residuals(block, state_args_ph, body_args) -> int:
    """Yield, after the step's outputs, the matrix products of the body that depend on a state
    (``h_prev @ U``): the gradient's backward loop reads them instead of computing them again.
    Returns how many were added (``n_residual``)."""
    from symcomp.ir.ops.fused import Yield

    k = len(body_args)
    state_args = {a for a, ph in zip(block.args[:k], body_args) if ph in set(state_args_ph)}
    if not state_args:
        return 0
    term = block.last
    ys = list(term.operands)
    reach = set(state_args)
    extra = []
    for o in block.ops:
        if any(v in reach for v in o.operands):
            reach.update(o.results)
            if o.name == "sc.dot" and o.result.type.dtype.is_float and o.result not in ys:
                extra.append(o.result)
    if not extra:
        return 0
    term.erase()
    block.append(Yield(ys + extra, [], {}))
    return len(extra)


def build_scan(n: Value, seqs, inits, nonseqs, block, seq_taps, state_taps, state_keep, n_nitsot: int,
               until: bool = False, truncate_gradient: int = -1, n_residual: int = 0) -> Scan:
    """A detached ``sc.scan`` from its parts (``block``'s arguments in the op's order).

    Raises:
        TypeError / ValueError: from the op's type rule.
    """
    operands = [n] + list(seqs) + list(inits) + list(nonseqs)
    attrs = {"seq_taps": tuple(t for ts in seq_taps for t in ts), "seq_ntaps": tuple(len(t) for t in seq_taps),
             "state_taps": tuple(t for ts in state_taps for t in ts),
             "state_ntaps": tuple(len(t) for t in state_taps), "state_keep": tuple(state_keep),
             "n_nitsot": int(n_nitsot), "until": bool(until), "truncate_gradient": int(truncate_gradient),
             "n_residual": int(n_residual)}
    return Scan.create(operands, [block], attrs, Location.capture())


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False, mode=None, name=None):
    """``fn`` applied to each step of ``sequences`` (Theano's ``theano.map``): ``scan`` with no
    fed-back outputs.  Returns (outputs, updates)."""
    return scan(fn, sequences=sequences, outputs_info=None, non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode, name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None):
    """``scan`` keeping only the last step's outputs (Theano's ``theano.reduce``).
    Returns (outputs, updates)."""
    outs, upd = scan(fn, sequences=sequences, outputs_info=outputs_info, non_sequences=non_sequences,
                     go_backwards=go_backwards, mode=mode, name=name, return_list=True)
    last = [o[-1] for o in outs]
    return (last[0] if len(last) == 1 else last), upd


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the first step to the last (Theano's ``theano.foldl``)."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, mode=mode, name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """``reduce`` from the last step to the first (Theano's ``theano.foldr``)."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, mode=mode, name=name)
