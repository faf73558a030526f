"""Per-signature planning for the CPU backend (Python, cached per input shapes and strides).

Given the concrete shapes and strides of the arguments, the planner walks the
function once and decides, for every value, where it lives (a ``ptrs``
root and a byte offset: an argument, an output, an update result, a
workspace region or a constant), its shape and its element strides; views
(transpose, slicing, broadcasting) just get new strides.  Each op's lowering
adds its own parameters (coalesced loop sizes, BLAS layouts...).  The result
fills the ``ints`` array the compiled code reads, so native code never
computes shapes and never runs on unchecked ones: every type rule and
broadcast check runs here first, raising ValueError/IndexError in Python.

Memory (docs/memory.md): a value marked in place (``Compiled.inplace``) takes
its operand's placement, and a chain of such values that ends in an output
lives in the output array from its start; an update computed in place goes
straight into the shared variable's storage when its array is C-contiguous.
Workspace regions are reused once their value's last reader has run
(first-fit over a free list ordered by offset), so the workspace holds only
the values live at the same time.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from symcomp.backends.layout import contiguous_strides
from symcomp.ir.core import Value
from symcomp.ir.ops.control import ControlFlow

MAX_BYTES = int(np.iinfo(np.intp).max)
"""The largest array, in bytes, that NumPy (and the generated code's 64-bit sizes) can describe."""


def check_size(t) -> None:
    """Check that a value of concrete type ``t`` (a view included) can be described at all.

    As NumPy (which refuses ``np.empty((2**40, 2**40, 0))`` too), the nonzero
    sizes times the item size must fit in :data:`MAX_BYTES`; beyond it the
    generated code's 64-bit sizes and strides would overflow.

    Raises:
        ValueError: naming the shape and dtype.
    """
    n = math.prod(max(d, 1) for d in t.shape) * t.dtype.itemsize
    if n > MAX_BYTES:
        raise ValueError(f"a result of shape {t.shape} and dtype {t.dtype.name} is too big: its sizes multiply to "
                         f"{n} bytes, more than an array can describe (at most {MAX_BYTES})")


@dataclass
class Plan:
    """Everything a call with one input signature needs.

    Attributes:
        ints: the filled ``ints`` array (int64).
        ptrs: a template of the ``ptrs`` array (uint64): workspace and constants set.
        outputs, updates: (shape, dtype) of the arrays to allocate per call.
        workspace_bytes: size of the scratch buffer.
        inplace_updates: (update index, parameter index) of updates computed
            straight into the shared variable's array (the runtime checks per
            call that this array may be written, else uses a plan without them).
    """

    ints: np.ndarray
    ptrs: np.ndarray
    outputs: list
    updates: list
    workspace_bytes: int
    inplace_updates: list = field(default_factory=list)
    workspace: Optional[np.ndarray] = None
    deferred: dict = field(default_factory=dict)  # (sc.if index, branch) -> the error planning that branch raised
    lock: threading.Lock = field(default_factory=threading.Lock)
    largest_region: tuple = (0, -1)  # (bytes, op index) of the largest workspace region (for errors)


_ALIGN = 64


class PlanContext:
    """Mutable state while planning one signature; lowerings call its methods."""

    def __init__(self, compiled, arrays, shared_inplace: bool = True):
        self.c = compiled
        self.shared_inplace = shared_inplace
        self.inplace_updates: list[tuple[int, int]] = []
        self.free: list[list[int]] = []  # [offset, size] of released workspace regions, by offset
        self.pending: dict[int, list[tuple[int, int]]] = {}  # op index -> regions released after it
        self.shape: dict[Value, tuple] = {}
        self.strides: dict[Value, tuple] = {}
        self.root: dict[Value, int] = {}
        self.off: dict[Value, int] = {}
        self.values: dict[Value, np.ndarray] = {}
        self.params: dict[tuple, int] = {}
        self.ws_bytes = 0
        self.op_index = -1
        self.deferred: dict = {}  # (sc.if index, branch) -> error, raised if that branch runs
        self.unplanned: set = set()  # values of such branches: their slots are never read
        self.unplanned_ops: set = set()  # and the indices of their ops
        self.largest_region = (0, -1)  # (bytes, op index): which op needs the most workspace at once
        for k, (arg, a) in enumerate(zip(compiled.func.args, arrays)):
            self.shape[arg] = a.shape
            self.strides[arg] = tuple(s // a.itemsize for s in a.strides)
            self.root[arg] = k
            self.off[arg] = 0
            if arg in compiled.needed:
                self.values[arg] = np.asarray(a)

    # -- results -----------------------------------------------------------------------
    def alloc(self, v: Value, shape) -> None:
        """A buffer for ``v``: its operand's (in place), its output/update array, or workspace."""
        shape = tuple(shape)
        src = self.c.inplace.get(v)
        if src is not None and self._take_over(v, src, shape):
            return
        self.shape[v] = shape
        self.strides[v] = contiguous_strides(shape)
        role = self.c.roles.get(v)
        if role is None:
            role = self.c.class_role.get(v)
        if role is not None:
            self.root[v], self.off[v] = role, 0
            return
        nbytes = math.prod(shape) * v.type.dtype.itemsize
        self.root[v] = self.c.ws_root
        self.off[v] = self._region(nbytes, self.c.ends.get(v, self.op_index))

    def _take_over(self, v: Value, src: Value, shape) -> bool:
        """Place ``v`` in ``src``'s memory if the plan allows it."""
        if src.owner is None:  # the updated shared variable
            k = self.c.func.args.index(src)
            if not (self.shared_inplace and self.shape[src] == shape
                    and self.strides[src] == contiguous_strides(shape)):
                return False
            self.inplace_updates.append((self.c.roles[v] - self.c.n_params - self.c.n_outputs, k))
        self.shape[v], self.strides[v] = shape, self.strides[src]
        self.root[v], self.off[v] = self.root[src], self.off[src]
        return True

    def scratch(self, nbytes: int) -> int:
        """Reserve workspace bytes for the current op's temporary; returns the byte offset."""
        return self._region(nbytes, self.op_index)

    def _region(self, nbytes: int, end: int) -> int:
        """A workspace region of ``nbytes`` (64-byte aligned) free until op ``end`` has run."""
        size = -(-max(nbytes, 1) // _ALIGN) * _ALIGN
        if size > self.largest_region[0]:
            self.largest_region = (size, self.op_index)
        off = None
        for i, (o, n) in enumerate(self.free):
            if n >= size:
                off = o
                if n == size:
                    del self.free[i]
                else:
                    self.free[i] = [o + size, n - size]
                break
        if off is None:
            if self.free and self.free[-1][0] + self.free[-1][1] == self.ws_bytes:
                off = self.free.pop()[0]  # grow the free region at the top
            else:
                off = self.ws_bytes
            self.ws_bytes = max(self.ws_bytes, off + size)
        self.pending.setdefault(max(end, self.op_index), []).append((off, size))
        return off

    def end_op(self, index: int) -> None:
        """Op ``index`` has run: release the regions whose last reader it was."""
        for off, size in self.pending.pop(index, ()):
            self.free.append([off, size])
        if not self.free:
            return
        self.free.sort()
        merged = [self.free[0]]
        for o, n in self.free[1:]:
            if merged[-1][0] + merged[-1][1] == o:
                merged[-1][1] += n
            else:
                merged.append([o, n])
        self.free = merged

    def view(self, v: Value, of: Value, shape, strides, elem_offset: int = 0) -> None:
        """``v`` aliases ``of``'s memory with other sizes/strides, starting ``elem_offset`` elements in."""
        self.shape[v] = tuple(shape)
        self.strides[v] = tuple(strides)
        self.root[v] = self.root[of]
        self.off[v] = self.off[of] + elem_offset * of.type.dtype.itemsize

    def constant(self, v: Value, root: int) -> None:
        arr = v.owner.attributes["value"]
        self.shape[v] = arr.shape
        self.strides[v] = contiguous_strides(arr.shape)
        self.root[v], self.off[v] = root, 0

    def set_param(self, name: str, value: int) -> None:
        self.params[(self.op_index, name)] = int(value)

    def set_params(self, prefix: str, values) -> None:
        for i, v in enumerate(values):
            self.params[(self.op_index, f"{prefix}{i}")] = int(v)

    # -- final ----------------------------------------------------------------------------
    def fill_ints(self) -> np.ndarray:
        vals = self.c.values
        out = np.empty(len(self.c.slot_keys), dtype=np.int64)
        for i, key in enumerate(self.c.slot_keys):
            kind = key[0]
            if kind != "p" and kind != "wsroot" and vals[key[1]] in self.unplanned and vals[key[1]] not in self.shape:
                out[i] = 0
                continue
            if kind == "p":
                out[i] = self.params.get((key[1], key[2]), 0) if key[1] in self.unplanned_ops else \
                    self.params[(key[1], key[2])]
            elif kind == "root":
                out[i] = self.root[vals[key[1]]]
            elif kind == "off":
                out[i] = self.off[vals[key[1]]]
            elif kind == "dim":
                out[i] = self.shape[vals[key[1]]][key[2]]
            elif kind == "stride":
                out[i] = self.strides[vals[key[1]]][key[2]]
            elif kind == "wsroot":
                out[i] = self.c.ws_root
            else:  # pragma: no cover - codegen and planner disagree
                raise KeyError(f"unknown slot {key}")
        return out


def plan_op(P: PlanContext, i: int, op) -> None:
    """Plan op number ``i``: its type rule on the concrete shapes, the broadcast checks, its
    lowering's placement and parameters, the values the planner needs from it; then release
    the workspace whose last reader it was.

    Raises:
        ValueError / IndexError: from the type rule or the checks, with the op's location.
    """
    from symcomp.backends.cpu.lower import lookup
    from symcomp.ir.locations import with_location

    P.op_index = i
    shapes = [P.shape[v] for v in op.operands]
    vals = [P.values.get(v) for v in op.operands]
    try:
        types = op.infer_for([v.type.with_shape(s) for v, s in zip(op.operands, shapes)], vals)
        if isinstance(op, ControlFlow):  # result shapes come from planning the regions
            lookup(op).plan(op, P, None)
        else:
            for t in types:
                check_size(t)
            out_shapes = [t.shape for t in types]
            op.check_broadcast(shapes, vals, out_shapes)
            lookup(op).plan(op, P, out_shapes)
    except (ValueError, IndexError) as exc:
        raise with_location(exc, op) from None
    P.op_index = i
    if op.results and op.results[0] in P.c.needed:
        if op.name == "sc.dim":  # needs the operand's shape only
            P.values[op.results[0]] = np.asarray(P.shape[op.operands[0]][op.axis], dtype=np.int64)
        else:
            with np.errstate(all="ignore"):
                P.values[op.results[0]] = np.asarray(op.ref(*[P.values[v] for v in op.operands]))
    outer = P.c.nested.get(op)
    if outer is None:
        P.end_op(i)
    elif i in P.pending:  # in a loop or branch: its temporaries are in use again at the next step
        P.pending.setdefault(outer, []).extend(P.pending.pop(i))
