"""Calling compiled CPU code: argument layout, per-signature plans, output allocation, errors.

A call looks up the plan for the arguments' shapes and strides (computing it
on a miss), allocates the outputs, fills the ``ptrs`` array and makes one
native call, which releases the GIL.  The workspace of a plan is reused
between calls; a call that finds it in use by another thread takes a fresh one.

An update that the plan computes in place is written into the shared
variable's own array, which is then returned as the new value.  Before the
call, the runtime checks that this array may be written: it is the stored
array itself (not a converted copy), writeable, and shares no memory with
any other argument; otherwise the call uses a plan that allocates the update.
"""

from __future__ import annotations

import ctypes
import math
import threading
import weakref
from collections import OrderedDict

import numpy as np

from symcomp.backends.cpu.toolchain.build import compile_to_machine_code
from symcomp.backends.cpu.runtime import interrupt
from symcomp.backends.cpu.runtime.planner import Plan, PlanContext, plan_op
from symcomp.backends.prepare import Compiled
from symcomp.ir.locations import where

_ENTRY = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p)
_MAX_PLANS = 256


def native_layout(a: np.ndarray) -> np.ndarray:
    """``a`` itself if the generated code can read it (aligned, native byte order, strides in
    whole elements), else a C-contiguous copy."""
    item = a.itemsize
    if a.flags.aligned and a.dtype.isnative and all(s % item == 0 for s in a.strides):
        return a
    return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))


class CPUExecutable:
    """A function compiled for the CPU."""

    def __init__(self, module, sig, timings):
        self.sig = sig
        self.c: Compiled
        self.c, self.jit, self._llvm, tier_up = compile_to_machine_code(module, sig, timings, module.func().sym_name)
        self._fn = _ENTRY(self.jit.address(self.c.symbol))
        from symcomp.backends.cpu.toolchain import machine

        if machine.is_initialized():  # the handler is JIT-compiled: not where only shared objects load
            interrupt.install()
        # One native entry per Function using this executable (unpickled copies share one), held
        # weakly: its Function owns it (its type holds the builtin that points into it), and a
        # Function dropped must not leave its entry here (a Dask worker unpickles the function with
        # every task: the list grew by one per task, and each call on a new shape re-armed them all).
        self._fast_refs: list = []
        # Code replaced by tiered compilation stays loaded: a call may still be running it.
        self._retired: list = []
        self._tier_lock = threading.Lock()
        # Started when the second call returns (the first, where a native entry may take the later
        # calls), so that a function called once costs nothing more, and neither the first call
        # nor the compilations that usually follow it (a program's other functions) wait for it.
        self._tier_up = tier_up
        self._calls = 0
        self.tier_thread = None
        self._plans: OrderedDict = OrderedDict()
        # Constants live in NumPy arrays owned here, passed by address (codegen: not embedded in LLVM).
        consts = sorted(self.c.const_roots, key=self.c.const_roots.get)
        self._consts = [np.ascontiguousarray(v.owner.attributes["value"]) for v in consts]
        self._const_addrs = [a.ctypes.data for a in self._consts]
        self._value_params = [k for k, a in enumerate(self.c.func.args) if a in self.c.needed]
        ret = self.c.func.return_op
        self._out_types = [v.type.dtype.np for v in ret.operands]
        assigns = [o for o in self.c.func.body.ops if o.name == "sc.assign"]
        self._upd_types = [a.operands[1].type.dtype.np for a in assigns]
        self.stages = {
            "llvm": self._llvm.llvm,
            "llvm-optimized": self._llvm.optimized,
            "asm": self._llvm.asm,
        }

    def _tier_install(self, engine) -> None:
        """Switch every caller to ``engine``, the same module compiled at a higher level (called
        from the tiering thread; each switch is one atomic store)."""
        entry = engine.address(self.c.symbol)
        with self._tier_lock:
            self._retired.append((self.jit, self._fn))
            self.jit, self._fn = engine, _ENTRY(entry)
            for fc in self._fasts:
                fc.retarget(entry)

    @property
    def _fasts(self) -> list:
        """The live native entries of this executable (:meth:`make_fast_call`), oldest first."""
        return [fc for fc in (r() for r in self._fast_refs) if fc is not None]

    # -- planning --------------------------------------------------------------------------
    def _plan(self, arrays, shared_inplace: bool = True) -> Plan:
        c = self.c
        P = PlanContext(c, arrays, shared_inplace)
        for i, op in enumerate(c.ops):
            if op not in c.nested:  # a region's ops are planned by their op's lowering
                plan_op(P, i, op)
        ints = P.fill_ints()
        ptrs = np.zeros(max(c.n_roots, c.ws_root + 1 + len(self._const_addrs)), dtype=np.uint64)
        for i, addr in enumerate(self._const_addrs):
            ptrs[c.ws_root + 1 + i] = addr
        ret = c.func.return_op
        outputs = [(P.shape[v], t) for v, t in zip(ret.operands, self._out_types)]
        assigns = [o for o in c.func.body.ops if o.name == "sc.assign"]
        updates = [(P.shape[a.operands[1]], t) for a, t in zip(assigns, self._upd_types)]
        return Plan(ints, ptrs, outputs, updates, P.ws_bytes, P.inplace_updates, largest_region=P.largest_region,
                    deferred=P.deferred)

    def _key(self, arrays) -> tuple:
        key = tuple((a.shape, a.strides) for a in arrays)
        if self._value_params:
            key += tuple(arrays[k].item() for k in self._value_params)
        return key

    # -- calling ---------------------------------------------------------------------------
    def make_fast_call(self, fallback, single: bool):
        """The native entry point (:class:`symcomp.backends.cpu.codegen.pyentry.FastCall`) calling this
        function, or None where it does not apply (shared variables, updates, sizes from argument
        values).  The caller must keep it alive as long as its ``callable``; this executable only
        holds it weakly (to retarget it after tiered compilation)."""
        from symcomp.backends.cpu.codegen.pyentry import FastCall

        if self.sig.shared or self.c.n_updates or self._value_params or self.c.truncate:
            return None
        ret = self.c.func.return_op
        with self._tier_lock:
            fc = FastCall(self.jit.address(self.c.symbol), [a.type.ndim for a in self.c.func.args],
                          [v.type.ndim for v in ret.operands], single, fallback)
            if fc.callable is None:
                return None
            self._fast_refs = [r for r in self._fast_refs if r() is not None] + [weakref.ref(fc)]
        return fc

    def _get_plan(self, key, arrays, shared_inplace: bool = True) -> Plan:
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plan(arrays, shared_inplace)
            self._plans[key] = plan
            if len(self._plans) > _MAX_PLANS:
                self._plans.popitem(last=False)
        return plan

    def run(self, arrays, fast=None):
        """Run on argument arrays (parameters in order); returns (outputs, update values).

        ``fast``: the calling Function's native entry (:meth:`make_fast_call`), armed for these
        arguments' signature so that the next call with it skips Python."""
        given = arrays
        arrays = [native_layout(a) for a in arrays]
        key = self._key(arrays)
        plan = self._get_plan(key, arrays)
        if plan.inplace_updates and not _writable_in_place(plan.inplace_updates, given, arrays):
            plan = self._get_plan(key + ("no-inplace",), arrays, shared_inplace=False)
        if fast is not None:
            fast.install(plan, arrays, self.c.ws_root)
        ptrs = plan.ptrs.copy()
        for k, a in enumerate(arrays):
            ptrs[k] = a.ctypes.data
        n = self.c.n_params
        try:
            outs = [np.empty(s, d) for s, d in plan.outputs]
            upds = [np.empty(s, d) for s, d in plan.updates] if not plan.inplace_updates else \
                self._update_arrays(plan, arrays)
        except MemoryError as exc:
            raise MemoryError(f"{exc} ({self._largest_result(plan)})") from None
        for j, o in enumerate(outs):
            ptrs[n + j] = o.ctypes.data
        n += len(outs)
        for j, o in enumerate(upds):
            ptrs[n + j] = o.ctypes.data
        owned = plan.lock.acquire(blocking=False)
        try:
            ws = plan.workspace if owned else None
            if ws is None:
                ws = self._new_workspace(plan)
                if owned:
                    plan.workspace = ws
            ptrs[self.c.ws_root] = ws.ctypes.data
            status = self._fn(ptrs.ctypes.data, plan.ints.ctypes.data)
        finally:
            if owned:
                plan.lock.release()
        if self._tier_up is not None:
            self._calls += 1
            if self._calls >= 2 or self._fast_refs:
                self._start_tier_up()
        if status:
            if status & 15 == interrupt.ERR_INTERRUPT:
                return self._interrupted(given, fast, plan)
            self._raise(status, arrays, plan)
        if self.c.truncate:  # outputs of a loop that stopped early (scan's until): cut to its steps
            for j, k in self.c.truncate.items():
                outs[j] = outs[j][:int(outs[k])]
            outs = outs[:self.c.n_user_outputs]
        return outs, upds

    def _interrupted(self, given, fast, plan):
        """The call stopped at a SIGINT: raise what Python's handler raises (KeyboardInterrupt),
        else (a handler that ignores it, a thread other than the main one) run the call again."""
        interrupt.raise_pending()
        if plan.inplace_updates:  # partly written in place: running again would read its own output
            raise KeyboardInterrupt("interrupted while updating a shared variable in place")
        return self.run(given, fast)

    def _start_tier_up(self) -> None:
        with self._tier_lock:
            start, self._tier_up = self._tier_up, None
        if start is not None:
            self.tier_thread = start(self._tier_install)

    def __reduce__(self):
        """Pickle support: the prepared module's IR text and the signature; unpickling compiles
        them again, once per process and IR text (a read when the disk cache has the code)."""
        from symcomp.ir.printer import print_module

        return (_unpickle, ({"format": PICKLE_FORMAT, "ir": print_module(self.c.func.parent_op), "sig": self.sig},))

    @staticmethod
    def _update_arrays(plan: Plan, arrays) -> list:
        """The update arrays of a call: the shared arrays written in place, fresh ones for the rest."""
        upds = [None] * len(plan.updates)
        for j, k in plan.inplace_updates:
            upds[j] = arrays[k]
        return [np.empty(s, d) if u is None else u for u, (s, d) in zip(upds, plan.updates)]

    def _new_workspace(self, plan: Plan) -> np.ndarray:
        """A scratch buffer for ``plan``.

        Raises:
            MemoryError: naming the workspace's size and the op that needs the largest part of it.
        """
        try:
            return np.empty(max(plan.workspace_bytes, 64), dtype=np.uint8)
        except MemoryError as exc:
            size, index = plan.largest_region
            by = f"; its largest part, {size} bytes, is for {where(self.c.ops[index])}" if 0 <= index < len(self.c.ops) \
                else ""
            raise MemoryError(f"{exc} (the workspace of {plan.workspace_bytes} bytes for the intermediate "
                              f"values{by})") from None

    def _largest_result(self, plan: Plan) -> str:
        """Names the largest output or update of ``plan`` and the op computing it (for MemoryError)."""
        ret = self.c.func.return_op
        assigns = [o for o in self.c.func.body.ops if o.name == "sc.assign"]
        values = list(ret.operands) + [a.operands[1] for a in assigns]
        sizes = [math.prod(s) * np.dtype(d).itemsize for s, d in plan.outputs + plan.updates]
        k = int(np.argmax(sizes))
        what = f"output {k}" if k < len(ret.operands) else f"update {k - len(ret.operands)}"
        op = values[k].owner
        by = f", computed by {where(op)}" if op is not None else ""
        return f"the largest result is {what}, of shape {(plan.outputs + plan.updates)[k][0]}{by}"

    def _raise(self, status: int, arrays, plan=None):
        from symcomp.backends.cpu.codegen.scalar import ERR_BRANCH, ERR_INDEX, ERR_LINALG, ERR_NEGATIVE_POWER

        op = self.c.ops[status >> 4]
        kind = status & 15
        if kind in (ERR_BRANCH, ERR_BRANCH + 1) and plan is not None and (status >> 4, kind - ERR_BRANCH) in plan.deferred:
            raise plan.deferred[(status >> 4, kind - ERR_BRANCH)]
        if kind == ERR_INDEX:
            from symcomp.backends.explain import index_error_message

            raise IndexError(index_error_message(self.c.func, op, arrays[:len(self.c.func.args)], where(op)))
        if kind == ERR_NEGATIVE_POWER:
            raise ValueError(f"Integers to negative integer powers are not allowed (in {where(op)})")
        if kind == ERR_LINALG:
            raise np.linalg.LinAlgError(f"{where(op)}: {getattr(op, 'linalg_error', 'LAPACK reported a failure')}")
        raise RuntimeError(f"native code reported error {kind} in {where(op)}")


def _writable_in_place(inplace_updates, given, arrays) -> bool:
    """True if every shared array the plan writes in place is the stored array itself, writeable,
    and shares no memory with another argument (else the caller's other inputs would change)."""
    for _, k in inplace_updates:
        a = arrays[k]
        if a is not given[k] or not a.flags.writeable:
            return False
        for m, b in enumerate(arrays):
            if m != k and np.may_share_memory(a, b):
                return False
    return True


PICKLE_FORMAT = 1
"""Version of a pickled CPUExecutable's state; another version is refused with a clear error."""
_MAX_UNPICKLED = 64
_unpickled: OrderedDict = OrderedDict()  # IR text -> executable, most recently used last
_unpickled_lock = threading.Lock()


def _unpickle(state: dict) -> CPUExecutable:
    """Rebuild a pickled :class:`CPUExecutable` (see ``__reduce__``), reusing one built from the
    same IR text in this process.

    Raises:
        ValueError: for a pickle of another format version.
    """
    from symcomp.ir.parser import parse

    if not isinstance(state, dict) or state.get("format") != PICKLE_FORMAT:
        got = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"cannot unpickle a CPU executable of format {got!r}: this symcomp reads format {PICKLE_FORMAT}")
    with _unpickled_lock:
        exe = _unpickled.get(state["ir"])
        if exe is not None:
            _unpickled.move_to_end(state["ir"])
            return exe
    exe = CPUExecutable(parse(state["ir"], "<pickled CPUExecutable>"), state["sig"], {})
    with _unpickled_lock:
        _unpickled[state["ir"]] = exe
        while len(_unpickled) > _MAX_UNPICKLED:
            _unpickled.popitem(last=False)
    return exe
