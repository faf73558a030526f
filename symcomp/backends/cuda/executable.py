"""Calling compiled CUDA code: argument binding, per-signature plans, launches, outputs, errors.

A call binds its arguments (NumPy arrays are uploaded; objects exposing
``__cuda_array_interface__`` are used in place, zero copy), looks up the plan
for their shapes and strides (planning on a miss), allocates the outputs and
update results, launches the plan's kernels in order on the default stream,
and checks the error word of plans whose kernels can fail (index checks,
integer powers).  Outputs come back as NumPy arrays, or as device arrays (CuPy
arrays when CuPy is installed, else Numba's) when
``executable.return_device_arrays`` is True.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Optional

import numpy as np

from symcomp.ir.ops.control import ControlFlow
from symcomp.backends.layout import contiguous_strides
from symcomp.backends.cuda import driver, memory, residency
from symcomp.backends.cuda.build import general_kernels, legalize, ptx_listing
from symcomp.backends.cuda.lower import lookup
from symcomp.backends.cuda.lower.elementwise import copy_into
from symcomp.backends.cuda.planner import (
    HOST_FOLD_LIMIT, Addr, Call, Host, Plan, PlanContext, Root, Tuning,
)
from symcomp.backends.cuda.render import ERR_INDEX, ERR_NEGATIVE_POWER
from symcomp.backends.prepare import prepare
from symcomp.ir.interpreter import run_op
from symcomp.ir.opdef import Pure, View

_MAX_PLANS = 64
_BINARIES: dict = {}
_BINARIES_LOCK = threading.Lock()


def binary(spec) -> driver.Kernel:
    """The loaded kernel for a spec (compiled once per process; equal sources share it)."""
    b = _BINARIES.get(spec.name)
    if b is None:
        with _BINARIES_LOCK:
            b = _BINARIES.get(spec.name)
            if b is None:
                b = driver.load(spec.name, spec.source, spec.params, spec.signature())
                _BINARIES[spec.name] = b
    return b


class CUDAExecutable:
    """A function compiled for an NVIDIA GPU (or Numba's CUDA simulator).

    Attributes:
        return_device_arrays: when True, calls return device arrays (CuPy arrays when
            CuPy is installed, else Numba device arrays; both expose
            ``__cuda_array_interface__``) instead of NumPy arrays.  Default False.
        stages: ``{"ptx": callable}``: the PTX of every kernel (``f.dump("ptx")``).
    """

    def __init__(self, module, sig, timings: dict):
        t0 = time.perf_counter()
        self.sig = sig
        for op in module.func().body.ops:
            if isinstance(op, ControlFlow):
                from symcomp.ir.locations import where

                raise NotImplementedError(
                    f"the CUDA backend cannot run loops and branches yet ({where(op)}): compile this function "
                    "for the CPU (device='cpu'), where sc.scan and sc.if run as native loops and branches")
        legalize(module)
        self.c = prepare(module, sig)
        self.kernels = general_kernels(self.c.func, self.c.ops)
        self.stages = {"ptx": lambda: ptx_listing(self.c.func, self.kernels)}
        self.return_device_arrays = False
        self._plans: OrderedDict = OrderedDict()
        self._value_params = [k for k, a in enumerate(self.c.func.args) if a in self.c.needed]
        self._lock = threading.Lock()
        self._tuning: Optional[Tuning] = None
        self._bool_params = [k for k, a in enumerate(self.c.func.args) if a.type.dtype.is_bool]
        timings["cuda_codegen"] = time.perf_counter() - t0

    # -- entry points ----------------------------------------------------------------------
    def run(self, arrays):
        """Run on parameter values (NumPy or device arrays, in parameter order).

        Returns:
            (outputs, update values): NumPy arrays (device arrays for outputs when
            ``return_device_arrays``; update values are always NumPy arrays here).

        Raises:
            RuntimeError: when no GPU is found and the simulator is off.
            ValueError / IndexError: for shapes that do not fit, or indices out of range.
        """
        outs, upds = self._execute(list(arrays))
        return [self._output(o) for o in outs], [_to_host(u) for u in upds]

    def call(self, args, specs, trust_input: bool):
        """Run for :class:`symcomp.Function`: shared variables stay on the device.

        ``args`` are the user's arguments in input order; ``specs`` their
        :class:`symcomp.compile.inputs.InputSpec`.  Device arrays are checked
        (dtype, rank, static sizes) and used in place; anything else goes
        through the usual host conversion.  Shared variables are read from
        their device copies and updated there (:mod:`.residency`).

        Raises:
            RuntimeError: when no GPU is found and the simulator is off (before anything is uploaded).
        """
        driver.require_device()  # before any upload: without a GPU, the clear error, not Numba's
        arrays = [a if trust_input else self._convert(spec, a) for spec, a in zip(specs, args)]
        containers = [residency.attach(s) for s in self.sig.shared]
        arrays += [c.device_value() for c in containers]
        outs, upds = self._execute(arrays)
        for (var, _), u in zip(self.sig.updates, upds):
            dev = memory.to_device(u) if isinstance(u, np.ndarray) else u
            containers[self.sig.shared.index(var)].set_device(dev)
        return [self._output(o) for o in outs]

    # -- arguments ---------------------------------------------------------------------------
    @staticmethod
    def _convert(spec, a):
        if not memory.is_device_array(a):
            return spec.convert(a)
        dtype, shape, _ = memory.describe(a)
        want = spec.type.dtype.np
        if dtype != want:
            raise TypeError(f"{spec.label}: expected a device array of dtype {want}, got dtype {dtype} "
                            "(device arrays are not converted; cast it on the device first)")
        if len(shape) != spec.type.ndim:
            raise ValueError(f"{spec.label}: expected rank {spec.type.ndim} ({spec.type}), got a device "
                             f"array of shape {shape}")
        for ax, (want_d, got) in enumerate(zip(spec.type.shape, shape)):
            if want_d is not None and want_d != got:
                raise ValueError(f"{spec.label}: axis {ax} must have size {want_d} ({spec.type}), got shape {shape}")
        return a

    def _bind(self, arrays):
        """(layouts, handles, host values, keepalive) for the parameters."""
        layouts, handles, host, keep = [], {}, {}, []
        for k, a in enumerate(arrays):
            if k in self._value_params:
                value = a if isinstance(a, np.ndarray) else memory.to_host(a)
                host[k] = value.view(np.bool_) if k in self._bool_params and value.dtype != np.bool_ else value
                layouts.append((value.shape, ()))
                continue
            if isinstance(a, np.ndarray):
                dev = memory.upload(a)
                layouts.append((a.shape, contiguous_strides(a.shape)))
            else:
                _, shape, strides = memory.describe(a)
                dev = a
                if strides is None or driver.simulator():  # odd strides (or the simulator): a flat copy
                    dev = memory.upload(memory.to_host(a))
                    strides = contiguous_strides(shape)
                layouts.append((shape, tuple(strides)))
            keep.append(dev)
            handles[Root("arg", k)] = memory.handle(dev)
        return layouts, handles, host, keep

    # -- planning --------------------------------------------------------------------------
    def _plan(self, layouts, host_args) -> Plan:
        c = self.c
        P = PlanContext(c, layouts, host_args, self._tuning)
        for i, op in enumerate(c.ops):
            P.op_index, P.op = i, op
            shapes = [P.shape(v) for v in op.operands]
            vals = [d.value if isinstance(d, Host) else None for d in (P.get(v) for v in op.operands)]
            try:
                types = op.infer_for([v.type.with_shape(s) for v, s in zip(op.operands, shapes)], vals)
                out_shapes = [t.shape for t in types]
                op.check_broadcast(shapes, vals, out_shapes)
                if _foldable(op, vals, out_shapes):
                    for r, value in zip(op.results, run_op(op, vals)):
                        P.host(r, value)
                else:
                    lookup(op).plan(op, P, out_shapes)
            except (ValueError, IndexError) as exc:
                where = f" (in {op.name} created at {op.loc})" if op.loc else f" (in {op.name})"
                raise type(exc)(f"{exc}{where}") from None
        ret = c.func.return_op
        assigns = [o for o in c.func.body.ops if o.name == "sc.assign"]
        outputs = [self._own(P, v, Root("out", j)) for j, v in enumerate(ret.operands)]
        updates = [self._own(P, a.operands[1], Root("upd", u)) for u, a in enumerate(assigns)]
        return P.finish(outputs, updates)

    @staticmethod
    def _own(P, v, root: Root):
        """The final Desc of an output/update: in its own per-call buffer (copied there if needed)."""
        d = P.get(v)
        if isinstance(d, Host) or (d.root == root and d.off == 0 and
                                   d.strides == tuple(contiguous_strides(d.shape))):
            return d
        out = P.alloc(v, d.shape)
        copy_into(P, d, d.strides, out, out.strides, d.shape)
        return out

    def _key(self, layouts, host) -> tuple:
        return tuple(layouts) + tuple(host[k].tobytes() + host[k].dtype.str.encode() for k in sorted(host))

    # -- running -------------------------------------------------------------------------------
    def _execute(self, arrays):
        driver.require_device()
        if self._tuning is None:
            self._tuning = Tuning.for_device()
        if not driver.simulator():
            driver.current_device()
        with self._lock:
            layouts, handles, host, _uploaded = self._bind(arrays)  # uploads live until the launches are queued
            key = self._key(layouts, host)
            plan = self._plans.get(key)
            if plan is None:
                plan = self._plan(layouts, host)
                self._plans[key] = plan
                if len(self._plans) > _MAX_PLANS:
                    self._plans.popitem(last=False)
            return self._launch(plan, handles, arrays)

    def _launch(self, plan: Plan, handles: dict, params: list):
        arrays = {}
        for kind, allocs in (("out", plan.out_alloc), ("upd", plan.upd_alloc)):
            for j, alloc in enumerate(allocs):
                if alloc is not None:
                    buf = memory.empty(*alloc)
                    arrays[Root(kind, j)] = buf
                    handles[Root(kind, j)] = memory.handle(buf)
        if plan.buffers is None:
            self._prepare(plan)
        for i, buf in enumerate(plan.buffers):
            arrays[Root("ws", i)] = buf
        handles.update(plan.ws_handles)
        for step in plan.bound:
            step(handles)
        if plan.error_ops:
            self._check(plan, params)
        outs = [self._result(d, arrays, Root("out", j)) for j, d in enumerate(plan.outputs)]
        upds = [self._result(d, arrays, Root("upd", j)) for j, d in enumerate(plan.updates)]
        return outs, upds

    @staticmethod
    def _prepare(plan: Plan) -> None:
        """First call of a plan: its workspace buffers, error word and prepared launches."""
        plan.buffers = [memory.upload(h) if h is not None else memory.empty(n, dt) for n, dt, h in plan.workspace]
        plan.err = memory.upload(np.zeros(1, np.int64))
        plan.ws_handles = {Root("ws", i): memory.handle(b) for i, b in enumerate(plan.buffers)}
        plan.ws_handles[Root("err", 0)] = memory.handle(plan.err)
        sizes = {Root("ws", i): (n, np.dtype(dt).itemsize) for i, (n, dt, _) in enumerate(plan.workspace)}
        for kind, allocs in (("out", plan.out_alloc), ("upd", plan.upd_alloc)):
            for j, alloc in enumerate(allocs):
                if alloc is not None:
                    sizes[Root(kind, j)] = (max(alloc[0], 1), np.dtype(alloc[1]).itemsize)
        plan.bound = [_bind_call(step) if isinstance(step, Call) else
                      binary(step.spec).bind(step.grid, step.block, step.args, sizes) for step in plan.launches]

    def _check(self, plan: Plan, params: list) -> None:
        code = int(memory.to_host(plan.err)[0])
        if not code:
            return
        memory.zero(plan.err)
        op = plan.error_ops[code >> 4]
        where = op.name + (f" created at {op.loc}" if op.loc else "")
        kind = code & 15
        if kind == ERR_INDEX:
            from symcomp.backends.explain import index_error_message

            host = [a if isinstance(a, np.ndarray) else memory.to_host(a) for a in params]
            raise IndexError(index_error_message(self.c.func, op, host, where))
        if kind == ERR_NEGATIVE_POWER:
            raise ValueError(f"Integers to negative integer powers are not allowed (in {where})")
        raise RuntimeError(f"a CUDA kernel reported error {kind} in {where}")  # pragma: no cover

    @staticmethod
    def _result(d, arrays: dict, root: Root):
        """An output/update value: a Host value (NumPy), or a device array of its shape and dtype."""
        if isinstance(d, Host):
            return np.array(d.value, copy=True)
        return memory.shaped(arrays[root], d.shape, d.dtype.np)

    def _output(self, value):
        if self.return_device_arrays:
            return memory.to_device(value) if isinstance(value, np.ndarray) else value
        return _to_host(value)


def _bind_call(step: Call):
    """A prepared library call: its Addr placeholders resolved per call."""
    def run(handles):
        step.fn(*[handles[a.root] + a.byte_offset if isinstance(a, Addr) else a for a in step.args])

    return run


def _to_host(value) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    return memory.to_host(value)


def _foldable(op, vals, out_shapes) -> bool:
    """Whether ``op`` is computed on the host at plan time (all operands known, cheap result)."""
    if op.name == "sc.constant":
        return True
    if Pure not in op.traits or any(v is None for v in vals) or not op.results:
        return False
    if View in op.traits:
        return True
    return all(int(np.prod(s)) <= HOST_FOLD_LIMIT for s in out_shapes)
