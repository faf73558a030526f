"""Pickling compiled functions: ship a :class:`~symcomp.compile.function.Function` to another process.

Machine code is tied to one process (addresses of loaded code, of BLAS and
libm), so a pickled Function carries what it was compiled *from*:

* the optimized IR text (``f.dump("optimized")``; :func:`symcomp.ir.parse` reads it back),
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


def _check_format(state: dict, what: str) -> None:
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        got = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"cannot unpickle a symcomp {what} of format {got!r}: this symcomp reads format {FORMAT} "
                         "(pickle it again with this version)")


def _rebuild_function(state: dict):
    from symcomp.compile.function import Function, compile_module
    from symcomp.compile.interface import Interface
    from symcomp.compile.trace import Signature
    from symcomp.ir.core import Placeholder
    from symcomp.ir.parser import parse
    from symcomp.passes.manager import replay_stages

    _check_format(state, "Function")
    module = parse(state["ir"], "<pickled symcomp.Function>")
    func = module.func()
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
