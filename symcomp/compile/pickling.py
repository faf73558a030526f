"""Pickling compiled functions: ship a :class:`~symcomp.compile.function.Function` to another process.

Machine code is tied to one process (addresses of loaded code, of BLAS and
libm), so a pickled Function carries what it was compiled *from*:

* the optimized IR text (``f.dump("optimized")``; :func:`symcomp.ir.parse` reads it back),
  and the location of each of its ops (the user's lines, which the text does not carry: errors
  raised by the unpickled function, on a Dask worker say, still point at them),
* the signature: input names, the number of outputs, which parameter each
  shared-variable update writes,
* the shared variables themselves, pickled with their values (the pickle
  memo keeps two functions that share a variable sharing it after loading),
* the mode (a name, or the mode object itself: ``symcomp.Mode(...)``), device and call options,
* the arguments' defaults and states (``symcomp.In``), when the function has any.

Unpickling parses the IR and hands it to the backend, skipping the pass
pipeline (the IR is already optimized).  Each process keeps the executables
it built this way, keyed by a SHA-256 of the IR text, mode and device: a
Dask worker that receives the same function with every task compiles it
once (:func:`compilation_count` tells how often it compiled).  With the CPU
backend's on-disk object cache, that one compilation is a cache read.

Trust.  That key is computed again from the pickled IR on load, never taken from the pickle
(a pickle whose IR says ``y + 1`` but which carried the key of a loaded ``exp(x)`` used to run
exp), and the signature is checked against the IR's parameters and results.  Unpickling still
runs code, as any pickle does (NumPy's and PyTorch's documentation say the same): load pickles
from trusted sources only.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict

FORMAT = 1
"""Version of the pickled state; a pickle of another version is refused with a clear error."""

_MAX_EXECUTABLES = 64
_executables: OrderedDict = OrderedDict()
_lock = threading.Lock()
_compilations = [0]
_states: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def compilation_count() -> int:
    """How many backend compilations unpickling Functions has done in this process (memoized ones excluded)."""
    return _compilations[0]


def _key(*parts: str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()


def _memo_get(key: str):
    with _lock:
        exe = _executables.get(key)
        if exe is not None:
            _executables.move_to_end(key)
        return exe


def _memo_put(key: str, exe) -> None:
    with _lock:
        _executables[key] = exe
        _compilations[0] += 1
        while len(_executables) > _MAX_EXECUTABLES:
            _executables.popitem(last=False)


def content_key(f) -> str:
    """A SHA-256 (hex) of what ``f`` computes: its optimized IR, mode and device (Dask task names)."""
    return reduce_function(f)[1][0]["key"]


def reduce_function(f) -> tuple:
    """``Function.__reduce__``: the state is computed once per Function (dumping the IR is not free)."""
    state = _states.get(f)
    if state is None:
        sig = f.signature
        ir_text = f.dump("optimized")
        state = {
            "format": FORMAT,
            "ir": ir_text,
            "locs": _locations(f.module, ir_text),
            "key": _key(ir_text, f.mode, f.device),
            "inputs": [v.name for v in sig.inputs],
            "shared": list(sig.shared),
            "updates": [(sig.shared.index(var), idx) for var, idx in sig.updates],
            "n_outputs": sig.n_outputs,
            "mode": f._mode_arg if not isinstance(f._mode_arg, str) else f.mode,
            "device": f.device,
            "interface": f._interface.state() if f._interface.needs_python else None,
            "allow_input_downcast": f.allow_input_downcast,
            "trust_input": f.trust_input,
            "single": f._single,
        }
        _states[f] = state
    return (_rebuild_function, (state,))


def _locations(module, ir_text: str) -> list:
    """(file, line) of each op of ``module`` in walk order, when ``module`` prints as ``ir_text``
    (the ops of the text are then those ops, in that order), else []."""
    from symcomp.ir.printer import print_module

    if print_module(module) != ir_text:
        return []
    return [None if op.loc is None or op.loc.col else (op.loc.file, op.loc.line) for op in module.walk()]


def _restore_locations(module, locs) -> None:
    from symcomp.ir.core import Location

    ops = list(module.walk())
    if not isinstance(locs, list) or len(locs) != len(ops):
        return
    for op, loc in zip(ops, locs):
        if isinstance(loc, (list, tuple)) and len(loc) == 2:
            op.loc = Location(str(loc[0]), int(loc[1]))


def _check_format(state: dict, what: str) -> None:
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        got = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"cannot unpickle a symcomp {what} of format {got!r}: this symcomp reads format {FORMAT} "
                         "(pickle it again with this version)")


def _check_signature(state: dict, func) -> None:
    """Check that the pickled signature fits the pickled IR's function (``func``).

    Raises:
        ValueError: naming the first thing that does not fit.
    """
    from symcomp.compile.modes import Mode
    from symcomp.shared import SharedVariable

    what = "cannot unpickle a symcomp Function"
    if not isinstance(state.get("mode"), (str, Mode)):
        raise ValueError(f"{what}: its 'mode' should be a mode name or a symcomp.Mode, got "
                         f"{type(state.get('mode')).__name__}")
    for field, kind in (("ir", str), ("device", str), ("inputs", list), ("shared", list),
                        ("updates", list), ("n_outputs", int)):
        if not isinstance(state.get(field), kind):
            raise ValueError(f"{what}: its {field!r} should be a {kind.__name__}, got "
                             f"{type(state.get(field)).__name__}")
    n_in, shared, args = len(state["inputs"]), state["shared"], func.args
    if n_in + len(shared) != len(args):
        raise ValueError(f"{what}: {n_in} inputs and {len(shared)} shared variables were pickled, but its IR's "
                         f"@{func.sym_name} has {len(args)} parameters")
    for k, var in enumerate(shared):
        want = args[n_in + k].type
        if not isinstance(var, SharedVariable) or var.type.dtype != want.dtype or var.type.ndim != want.ndim:
            raise ValueError(f"{what}: shared variable {k} ({getattr(var, 'name', var)!r:.40}) does not fit "
                             f"parameter {n_in + k} of @{func.sym_name}, of type {want}")
    n_results = len(func.return_op.operands)
    if state["n_outputs"] != n_results:
        raise ValueError(f"{what}: {state['n_outputs']} outputs were pickled, but @{func.sym_name} returns "
                         f"{n_results} values")
    n_assign = sum(1 for op in func.body.ops if op.name == "sc.assign")
    ups = state["updates"]
    if len(ups) != n_assign or not all(isinstance(u, (list, tuple)) and len(u) == 2
                                       and all(isinstance(i, int) for i in u) and 0 <= u[0] < len(shared)
                                       for u in ups):
        raise ValueError(f"{what}: its updates {ups!r:.80} do not fit the {n_assign} sc.assign ops of "
                         f"@{func.sym_name} and its {len(shared)} shared variables")


def _rebuild_function(state: dict):
    from symcomp.compile.function import Function, compile_module
    from symcomp.compile.interface import Interface
    from symcomp.compile.trace import Signature
    from symcomp.ir.core import Placeholder
    from symcomp.ir.parser import parse
    from symcomp.passes.manager import replay_stages

    _check_format(state, "Function")
    if not isinstance(state.get("ir"), str):
        raise ValueError(f"cannot unpickle a symcomp Function: its 'ir' should be a str, got "
                         f"{type(state.get('ir')).__name__}")
    module = parse(state["ir"], "<pickled symcomp.Function>")
    _restore_locations(module, state.get("locs"))
    func = module.func()
    _check_signature(state, func)
    # The memo key comes from what will run, never from the pickle: a pickle may carry any key.
    mode_name = state["mode"] if isinstance(state["mode"], str) else state["mode"].name
    state = {**state, "key": _key(state["ir"], mode_name, state["device"])}
    shared = state["shared"]
    inputs = [Placeholder(a.type, name) for a, name in zip(func.args, state["inputs"])]
    sig = Signature(inputs=inputs, shared=list(shared), n_outputs=state["n_outputs"],
                    updates=[(shared[k], idx) for k, idx in state["updates"]])
    options = dict(allow_input_downcast=state["allow_input_downcast"], trust_input=state["trust_input"])
    interface = None
    if state.get("interface") is not None:
        interface = Interface.from_state(state["interface"], sig, state["allow_input_downcast"])
    mode = state["mode"]
    exe = _memo_get(state["key"])
    if exe is None:
        f = compile_module(module, sig, mode=mode, device=state["device"], single_output=state["single"],
                           optimize=False, interface=interface, **options)
        _memo_put(state["key"], f.executable)
    else:
        f = Function(module, sig, exe, replay_stages(module, []), mode if isinstance(mode, str) else mode.name,
                     state["device"], func.sym_name, options["allow_input_downcast"], options["trust_input"],
                     state["single"], {}, interface=interface, mode_arg=mode, traced=False)
    _states[f] = state
    return f
