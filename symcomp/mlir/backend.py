"""The ``mlir`` compilation mode: symcomp IR -> upstream MLIR -> mlir-opt -> mlir-translate -> llvmlite.

Compilation exports the optimized function in destination-passing style
(:func:`symcomp.mlir.export.export_func`), lowers it with the pass pipeline of
:mod:`symcomp.mlir.pipeline`, translates the LLVM dialect to LLVM IR,
optimizes it with LLVM's loop vectorizer on, maps vector math to libmvec
(:mod:`symcomp.mlir.veclib`) and JIT-compiles it with the CPU backend's
llvmlite machinery (:mod:`symcomp.backends.cpu.toolchain.machine`).

Calling convention (MLIR's C interface, ``llvm.emit_c_interface``): the entry
``_mlir_ciface_symcomp_entry`` takes one pointer per argument, each to a
memref descriptor ``{allocated, aligned, offset, sizes[rank], strides[rank]}``
(https://mlir.llvm.org/docs/TargetLLVMIR/#c-compatible-wrapper-emission):
the inputs (C-contiguous; other layouts are copied first), then one
destination per output, per shared-variable update and, when the function has
data-dependent checks, an ``int32`` status.  The runtime allocates the
destinations with NumPy from shapes the planner (:mod:`symcomp.mlir.plan`)
computed and checked, so native code never runs on unchecked shapes and
outputs never alias inputs.  Temporaries are allocated and freed by the
generated code (malloc/free).
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import OrderedDict

import numpy as np

from symcomp.backends.cpu.toolchain import machine
from symcomp.mlir.export import export_func
from symcomp.mlir.pipeline import pass_pipeline
from symcomp.mlir.plan import ShapePlanner
from symcomp.mlir.scalar import ERR_INDEX, ERR_NEGATIVE_POWER
from symcomp.mlir.tools import MLIRToolError, c_runner_utils, run_tool
from symcomp.mlir.veclib import map_vector_math

ENTRY = "symcomp_entry"
"""Symbol name of the exported function (its C interface is ``_mlir_ciface_symcomp_entry``)."""

_MAX_PLANS = 256
_lock = threading.Lock()
_loaded: dict = {}
_DESCRIPTORS: dict[int, type] = {}


def backend(device: str):
    """The backend factory of mode ``mlir`` (CPU only).

    Raises:
        ValueError: for a device other than 'cpu'.
    """
    if device != "cpu":
        raise ValueError(f"mode='mlir' compiles for the CPU only, got device={device!r}")
    return MLIRExecutable


def descriptor_type(rank: int) -> type:
    """The ctypes structure of a ranked memref descriptor (MLIR's ``StridedMemRefType``)."""
    if rank not in _DESCRIPTORS:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _DESCRIPTORS[rank] = type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})
    return _DESCRIPTORS[rank]


def descriptor(a: np.ndarray):
    """A memref descriptor of a C-contiguous array (identity layout: C-order strides in elements)."""
    d = descriptor_type(a.ndim)()
    d.allocated = d.aligned = a.ctypes.data
    d.offset = 0
    if a.ndim:
        d.sizes[:] = a.shape
        stride = 1
        for axis in range(a.ndim - 1, -1, -1):
            d.strides[axis] = stride
            stride *= max(a.shape[axis], 1)
    return d


def _c_layout(a: np.ndarray) -> np.ndarray:
    """``a`` if it is C-contiguous, aligned and in native byte order, else such a copy."""
    if a.flags.c_contiguous and a.flags.aligned and a.dtype.isnative:
        return a
    return np.array(a, dtype=a.dtype.newbyteorder("="), order="C")


def _load_runtime() -> None:
    """Make the symbols lowered MLIR code calls resolvable: libm (via jit) and MLIR's C runner utils."""
    st = machine.ensure_initialized()
    with _lock:
        if "runner" not in _loaded:
            path = c_runner_utils()
            if path is not None:
                st["llvm"].load_library_permanently(path)
            _loaded["runner"] = path


def _check_symbols(module_ref) -> None:
    """Refuse to JIT code calling a function no loaded library defines (MCJIT would abort the process).

    Raises:
        MLIRToolError: naming the missing symbol.
    """
    llvm = machine.ensure_initialized()["llvm"]
    for fn in module_ref.functions:
        if fn.is_declaration and not fn.name.startswith("llvm.") and not llvm.address_of_symbol(fn.name):
            raise MLIRToolError(f"the lowered MLIR code calls {fn.name}, which no loaded library defines "
                                f"(MLIR's C runner utils were {'not found' if not _loaded.get('runner') else 'loaded'})")


class MLIRExecutable:
    """A function compiled through upstream MLIR, with the CPU backend's ``run`` contract.

    Attributes:
        stages: dump stages beyond ``f.dump('mlir')``: 'mlir-dps' (the
            destination-passing form mlir-opt lowers), 'mlir-llvm' (LLVM
            dialect), 'llvm', 'llvm-optimized', 'asm'.
    """

    def __init__(self, module, sig, timings: dict):
        func = module.func()
        self.sig = sig
        t0 = time.perf_counter()
        self.exported = export_func(func, destination_passing=True, symbol=ENTRY)
        self.mlir = "module {\n" + self.exported.text + "\n}\n"
        t1 = time.perf_counter()
        self.mlir_llvm = run_tool("mlir-opt", [f"--pass-pipeline={pass_pipeline()}"], self.mlir)
        self.llvm_ir = run_tool("mlir-translate", ["--mlir-to-llvmir"], self.mlir_llvm)
        t2 = time.perf_counter()
        _load_runtime()
        ref = machine.parse(self.llvm_ir)
        machine.optimize(ref, level="O2", loop_vectorization=True)
        optimized = str(ref)
        with_libmvec = map_vector_math(optimized, machine.target())
        self._ref = machine.parse(with_libmvec) if with_libmvec != optimized else ref
        _check_symbols(self._ref)
        self.jit = machine.JitModule(machine.emit_object(self._ref), needs_blas=False)
        t3 = time.perf_counter()
        timings.update({"mlir_export": t1 - t0, "mlir_opt": t2 - t1, "llvm_jit": t3 - t2})
        n_args = len(func.args) + self.exported.n_outputs + self.exported.n_updates + int(self.exported.has_status)
        proto = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * n_args))
        self._fn = proto(self.jit.address("_mlir_ciface_" + ENTRY))
        self.planner = ShapePlanner(func)
        self._out_dtypes = [v.type.dtype.np for v in self.planner.outputs]
        self._upd_dtypes = [v.type.dtype.np for v in self.planner.updates]
        self._plans: OrderedDict = OrderedDict()
        self.stages = {
            "mlir-dps": lambda: self.mlir,
            "mlir-llvm": lambda: self.mlir_llvm,
            "llvm": lambda: self.llvm_ir,
            "llvm-optimized": lambda: str(self._ref),
            "asm": lambda: machine.assembly(self._ref),
        }

    def run(self, arrays):
        """Run on argument arrays (parameters in order); returns (outputs, update values).

        Raises:
            ValueError, IndexError: for shapes that do not fit (before any native
                code runs), an integer-array index out of bounds, or a negative
                integer power (after the call, naming the op).
        """
        arrays = [_c_layout(np.asarray(a)) for a in arrays]
        key = self.planner.key(arrays)
        plan = self._plans.get(key)
        if plan is None:
            plan = self.planner.plan(arrays)
            self._plans[key] = plan
            if len(self._plans) > _MAX_PLANS:
                self._plans.popitem(last=False)
        outs = [np.empty(s, d) for s, d in zip(plan.outputs, self._out_dtypes)]
        upds = [np.empty(s, d) for s, d in zip(plan.updates, self._upd_dtypes)]
        buffers = arrays + outs + upds
        status = np.zeros((), np.int32) if self.exported.has_status else None
        if status is not None:
            buffers.append(status)
        descs = [descriptor(b) for b in buffers]
        self._fn(*[ctypes.addressof(d) for d in descs])
        if status is not None and int(status):
            self._raise(int(status), arrays)
        return outs, upds

    def _raise(self, status: int, arrays):
        op = self.exported.ops[status >> 4]
        kind = status & 15
        where = op.name + (f" created at {op.loc}" if op.loc else "")
        if kind == ERR_INDEX:
            from symcomp.backends.explain import index_error_message

            raise IndexError(index_error_message(self.planner.func, op, arrays, where))
        if kind == ERR_NEGATIVE_POWER:
            raise ValueError(f"Integers to negative integer powers are not allowed (in {where})")
        raise RuntimeError(f"native code reported error {kind} in {where}")
