"""Per-signature planning for the CUDA backend (Python, cached per input shapes and strides).

Given the concrete shapes and strides of the arguments, the planner walks the
function once, runs every op's type rule and broadcast check on the concrete
shapes (so kernels never run on unchecked shapes), and decides for every value
where it lives:

* :class:`Desc`: a tensor in device memory: a *root* buffer (an argument, an
  output or update result allocated per call, a plan-owned workspace buffer)
  plus an element offset, sizes and element strides.  Views (transpose,
  slicing, broadcasting) only get new strides.
* :class:`Host`: a value known on the host at plan time (constants, ``sc.dim``
  and small computations on them, such as ``1 / n`` in a mean).  Kernels take
  such values as by-value parameters when they hold one distinct element;
  otherwise they are uploaded once per plan.

Each op's lowering appends kernel launches to the plan.  A call then only
resolves root buffers to device pointers and launches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Optional, Union

import numpy as np

from symcomp.backends.layout import coalesce, contiguous_strides
from symcomp.backends.cuda import driver
from symcomp.backends.cuda.render import KernelSpec
from symcomp.ir import types as T
from symcomp.ir.core import Value

HOST_FOLD_LIMIT = 64
"""Results of at most this many elements computed from host-known values are folded on the host."""


class Root(NamedTuple):
    """A buffer a call resolves: ``kind`` is "arg", "out", "upd", "ws" or "err" (a tuple: cheap to hash)."""

    kind: str
    index: int


@dataclass
class Desc:
    """A device tensor: root buffer, element offset, sizes, element strides and dtype."""

    root: Root
    off: int
    shape: tuple
    strides: tuple
    dtype: T.DType

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass
class Host:
    """A value known on the host at plan time."""

    value: np.ndarray

    def uniform(self) -> bool:
        """True when every element is the same memory element (a scalar, or a broadcast of one)."""
        v = self.value
        return v.size >= 1 and all(s == 0 or d == 1 for d, s in zip(v.shape, v.strides))

    def scalar(self):
        """The single element of a uniform value."""
        return self.value.reshape(-1)[0] if self.value.size else self.value.dtype.type(0)


Operand = Union[Desc, Host]


@dataclass(frozen=True)
class Ptr:
    """Launch argument placeholder: the device address (simulator: the buffer) of a root."""

    root: Root


@dataclass(frozen=True)
class Arr:
    """Launch argument placeholder: a root as a 1-D typed device array (for atomics)."""

    root: Root


@dataclass(frozen=True)
class Addr:
    """Host-call argument placeholder: the device address of a root plus a byte offset."""

    root: Root
    byte_offset: int = 0


@dataclass
class Launch:
    """A kernel launch: the kernel, grid and block sizes, and arguments (placeholders resolved per call)."""

    spec: KernelSpec
    grid: tuple
    block: tuple
    args: list


@dataclass
class Call:
    """A host-side library call in launch order (cuBLAS), with placeholder arguments."""

    fn: object
    args: list


@dataclass
class Tuning:
    """Launch parameters.  The simulator uses small ones, so that small tests cover the
    multi-block, grid-stride and two-stage paths (and run quickly: it runs a Python
    thread per CUDA thread).

    Attributes:
        block: threads per block of elementwise and row kernels (a power of two).
        reduce_block: threads per block of block reductions (a power of two, at most 256).
        max_blocks: cap of 1-D grids (grid-stride loops cover the rest).
        max_row_blocks: cap of grids with a block per output or row.
        target_blocks: blocks a block reduction aims to fill the device with (splitting long reductions).
        target_threads: threads a thread-per-output reduction aims for.
        min_chunk: smallest reduced extent worth a separate chunk.
        tile: tile size of the tiled matrix product (its blocks are tile x tile threads).
    """

    block: int
    reduce_block: int
    max_blocks: int
    max_row_blocks: int
    target_blocks: int
    target_threads: int
    min_chunk: int
    tile: int

    @staticmethod
    def for_device() -> "Tuning":
        if driver.simulator():
            return Tuning(block=16, reduce_block=16, max_blocks=3, max_row_blocks=3, target_blocks=4,
                          target_threads=32, min_chunk=8, tile=4)
        sms = driver.device_count_sms()
        return Tuning(block=256, reduce_block=256, max_blocks=sms * 16, max_row_blocks=65535,
                      target_blocks=sms * 4, target_threads=sms * 1024, min_chunk=1024, tile=16)


@dataclass
class Plan:
    """Everything a call with one input signature needs.

    Attributes:
        launches: kernel launches in order (and cuBLAS calls, see lower/linalg.py).
        workspace: plan-owned buffers: (element count, storage dtype, host array to upload or None).
        outputs, updates: per output/update, its Desc (rooted in a per-call buffer) or Host value.
        out_alloc, upd_alloc: (element count, storage dtype) of each per-call buffer.
        error_ops: the ops whose kernels report errors (error code = index << 4 | kind).
        buffers, err, ws_handles, bound: set by the first call: the workspace buffers, the
            error word, their kernel handles, and the launches prepared for cuda.core.
    """

    launches: list
    workspace: list
    outputs: list
    updates: list
    out_alloc: list
    upd_alloc: list
    error_ops: list
    buffers: Optional[list] = None
    err: object = None
    ws_handles: Optional[dict] = None
    bound: Optional[list] = None


class PlanContext:
    """Mutable state while planning one signature; lowerings call its methods."""

    def __init__(self, compiled, arg_layouts, host_args: dict, tuning: Tuning):
        self.c = compiled
        self.tuning = tuning
        self.vals: dict[Value, Operand] = {}
        self.workspace: list = []
        self.launches: list[Launch] = []
        self.out_alloc: list = [None] * compiled.n_outputs
        self.upd_alloc: list = [None] * compiled.n_updates
        self.error_ops: list = []
        self.op_index = -1
        self.op = None
        for k, (arg, (shape, strides)) in enumerate(zip(compiled.func.args, arg_layouts)):
            if k in host_args:
                self.vals[arg] = Host(host_args[k])
            else:
                self.vals[arg] = Desc(Root("arg", k), 0, tuple(shape), tuple(strides), arg.type.dtype)

    # -- values ----------------------------------------------------------------------------
    def get(self, v: Value) -> Operand:
        return self.vals[v]

    def shape(self, v: Value) -> tuple:
        d = self.vals[v]
        return tuple(d.value.shape) if isinstance(d, Host) else d.shape

    def alloc(self, v: Value, shape) -> Desc:
        """A fresh C-contiguous buffer for ``v``: its output/update root, or a workspace buffer."""
        shape = tuple(int(s) for s in shape)
        role = self.c.roles.get(v)
        dt = v.type.dtype
        n = math.prod(shape)
        if role is not None:
            j = role - self.c.n_params
            if j < self.c.n_outputs:
                root = Root("out", j)
                self.out_alloc[j] = (n, driver.storage_dtype(dt))
            else:
                root = Root("upd", j - self.c.n_outputs)
                self.upd_alloc[j - self.c.n_outputs] = (n, driver.storage_dtype(dt))
        else:
            root = self.scratch(dt, n)
        d = Desc(root, 0, shape, contiguous_strides(shape), dt)
        self.vals[v] = d
        return d

    def scratch(self, dt: T.DType, n: int) -> Root:
        """A plan-owned buffer of ``n`` elements of ``dt``."""
        self.workspace.append((max(n, 1), driver.storage_dtype(dt), None))
        return Root("ws", len(self.workspace) - 1)

    def view(self, v: Value, of: Desc, shape, strides, elem_offset: int = 0) -> None:
        """``v`` aliases ``of``'s memory with other sizes/strides, ``elem_offset`` elements in."""
        self.vals[v] = Desc(of.root, of.off + elem_offset, tuple(shape), tuple(strides), v.type.dtype)

    def host(self, v: Value, value) -> None:
        self.vals[v] = Host(np.asarray(value, dtype=v.type.dtype.np))

    def materialize(self, operand: Operand) -> Desc:
        """A device tensor holding ``operand`` (host values are uploaded once per plan)."""
        if isinstance(operand, Desc):
            return operand
        arr = np.ascontiguousarray(operand.value)
        self.workspace.append((max(arr.size, 1), arr.dtype if arr.dtype != np.bool_ else np.dtype(np.uint8), arr))
        dt = T.dtype(arr.dtype)
        return Desc(Root("ws", len(self.workspace) - 1), 0, arr.shape, contiguous_strides(arr.shape), dt)

    # -- launches ----------------------------------------------------------------------------
    def launch(self, spec: KernelSpec, grid, block, args: list) -> None:
        if len(args) != len(spec.params):  # pragma: no cover - a lowering and its renderer disagree
            raise AssertionError(f"{spec.name}: {len(args)} arguments for {len(spec.params)} parameters")
        self.launches.append(Launch(spec, _dim3(grid), _dim3(block), list(args)))

    def call(self, fn, args: list) -> None:
        """Append a library call ``fn(*args)`` (Addr placeholders resolved per call)."""
        self.launches.append(Call(fn, list(args)))

    def error_args(self, spec: KernelSpec) -> list:
        """Arguments for a kernel's error parameters (none if it reports no errors)."""
        if not any(p.name == "err" for p in spec.params):
            return []
        if self.op not in self.error_ops:
            self.error_ops.append(self.op)
        return [Ptr(Root("err", 0)), self.error_ops.index(self.op) << 4]

    def grid_1d(self, n: int, block: Optional[int] = None) -> int:
        block = block or self.tuning.block
        return max(1, min(-(-n // block), self.tuning.max_blocks))

    def finish(self, outputs: list, updates: list) -> Plan:
        return Plan(self.launches, self.workspace, outputs, updates, self.out_alloc, self.upd_alloc,
                    list(self.error_ops))


def _dim3(d) -> tuple:
    return tuple(d) if isinstance(d, (tuple, list)) else (int(d),)


def operand_strides(v: Value, d: Operand, loop_rank: int) -> list:
    """Strides of an operand over a loop of rank ``loop_rank`` (0 along statically size-1 axes)."""
    if isinstance(d, Host):
        return [0] * loop_rank
    return [0 if s == 1 else st for s, st in zip(v.type.shape, d.strides)]


def aligned_strides(d: Operand, target_shape) -> list:
    """Strides of ``d`` broadcast (right-aligned) to ``target_shape``: 0 where it stretches.

    Host values give zeros (callers pass them only when uniform).
    """
    if isinstance(d, Host):
        return [0] * len(target_shape)
    lead = len(target_shape) - len(d.shape)
    return [0] * lead + [0 if e == 1 and t != 1 else s for e, t, s in
                         zip(d.shape, target_shape[lead:], d.strides)]


def coalesce_loop(shape, strides: list) -> tuple[list, list]:
    """Merge loop axes every array walks as one (see :func:`symcomp.backends.layout.coalesce`),
    dropping the leading size-1 axes it pads with (at least one axis is kept)."""
    dims, st = coalesce(list(shape), [list(s) for s in strides])
    keep = 0
    while keep < len(dims) - 1 and dims[keep] == 1:
        keep += 1
    return dims[keep:] or [1], [s[keep:] or [0] for s in st]
