"""Indexing: basic (ints and slices, a view) and advanced (integer arrays, a gather),
and their increment/set forms.

Basic indices are an attribute of strings, one per leading axis, in NumPy's
syntax: ``"3"``, ``"-1"``, ``"1:"``, ``"::2"``, ``":-1:"``; a ``?`` takes its value
from the next rank-0 integer operand: ``sc.subtensor %x, %i {index = ["?", "1:?"]}``.
Integer indices drop their axis.  Out-of-range integer indices raise
IndexError; slices clip as in Python.

Advanced indices are integer arrays (broadcast together) indexing the
consecutive axes ``axis .. axis+k-1``; the broadcast index shape replaces those
axes in the result.  Negative indices wrap; out-of-range ones raise IndexError
at call time.  The increment form accumulates repeated indices
(``np.add.at``); the set form lets the last write win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Bool, Int, Pure, Strs, View, attr, build, op, operand
from symcomp.ir.frontend import tensor as _t

DYN = "?"
_PART = r"(-?\d+|\?|)"
_INT_RE = re.compile(r"^(-?\d+|\?)$")
_SLICE_RE = re.compile(rf"^{_PART}:{_PART}(?::{_PART})?$")

Part = Union[int, None, str]  # int, absent (None) or DYN


@dataclass(frozen=True)
class AxisIndex:
    """One parsed basic index entry: an integer (``is_int``) or a slice (start, stop, step)."""

    is_int: bool
    parts: tuple  # (index,) or (start, stop, step); entries int, None (absent) or DYN


def parse_index(entries) -> list[AxisIndex]:
    """Parse index strings (``["?", "1:-1", "::2"]``).

    Raises:
        ValueError: on a malformed entry, naming it.
    """
    out = []
    for e in entries:
        e = e.strip()
        m = _INT_RE.match(e)
        if m:
            out.append(AxisIndex(True, (DYN if e == DYN else int(e),)))
            continue
        m = _SLICE_RE.match(e)
        if not m:
            raise ValueError(f"malformed index entry {e!r} (expected an int, '?' or start:stop:step)")
        parts = tuple(None if p in (None, "") else DYN if p == DYN else int(p) for p in m.groups())
        if parts[2] == 0:
            raise ValueError(f"index entry {e!r}: slice step cannot be zero")
        out.append(AxisIndex(False, parts))
    return out


def format_index(items) -> tuple[str, ...]:
    """Inverse of :func:`parse_index` for entries given as ints, slices or DYN markers."""
    out = []
    for it in items:
        if isinstance(it, slice):
            parts = ["" if p is None else str(p) for p in (it.start, it.stop, it.step)]
            out.append(":".join(parts[:2]) + (f":{parts[2]}" if parts[2] else ""))
        else:
            out.append(str(it))
    return tuple(out)


def count_dyn(index: list[AxisIndex]) -> int:
    return sum(1 for ax in index for p in ax.parts if p == DYN)


@dataclass
class Resolved:
    """Basic indexing resolved against a shape.

    Attributes:
        shape: the result shape (None where unknown).
        axes: per operand axis, ("int", i) or ("slice", start, step, length), with
            None for values not known yet.
    """

    shape: tuple
    axes: list

    def view(self, strides) -> tuple[int, list]:
        """(element offset, strides) of the selection in an array with element ``strides`` (known values)."""
        offset, out = 0, []
        for (kind, *rest), s in zip(self.axes, strides):
            if kind == "int":
                offset += rest[0] * s
            else:
                start, step, n = rest
                offset += (start if n else 0) * s
                out.append(s * step)
        return offset, out


def resolve_index(name: str, index: list[AxisIndex], shape, dyn_values) -> Resolved:
    """Apply basic indexing to ``shape`` with known dynamic values (None where unknown).

    Raises:
        IndexError: for an integer index out of range of a known dimension.
        ValueError: for more indices than dimensions or a zero step.
    """
    if len(index) > len(shape):
        raise ValueError(f"{name}: {len(index)} indices for a rank-{len(shape)} operand")
    vals = iter(dyn_values)

    def part(p):
        if p == DYN:
            v = next(vals)
            return None if v is None else int(v)
        return p

    out_shape, axes = [], []
    for ax, (entry, dim) in enumerate(zip(index, shape)):
        if entry.is_int:
            i = part(entry.parts[0])
            if i is not None and dim is not None:
                if not -dim <= i < dim:
                    raise IndexError(f"{name}: index {i} is out of bounds for axis {ax} with size {dim}")
                i = i + dim if i < 0 else i
            elif i is not None and i < 0:
                i = None  # needs the dimension to normalize
            axes.append(("int", i))
            continue
        start, stop, step = (part(p) for p in entry.parts)
        if step == 0:
            raise ValueError(f"{name}: slice step cannot be zero")
        if dim is None or (entry.parts[0] == DYN and start is None) or (entry.parts[1] == DYN and stop is None) \
                or (entry.parts[2] == DYN and step is None):
            axes.append(("slice", None, None, None))
            out_shape.append(None)
            continue
        s0, s1, s2 = slice(start, stop, step).indices(dim)
        n = len(range(s0, s1, s2))
        axes.append(("slice", s0, s2, n))
        out_shape.append(n)
    for ax in range(len(index), len(shape)):
        axes.append(("slice", 0, 1, shape[ax]))
        out_shape.append(shape[ax])
    return Resolved(tuple(out_shape), axes)


def _python_index(index: list[AxisIndex], dyn_values):
    vals = iter(dyn_values)

    def part(p):
        return int(next(vals)) if p == DYN else p

    out = []
    for entry in index:
        if entry.is_int:
            out.append(part(entry.parts[0]))
        else:
            out.append(slice(*(part(p) for p in entry.parts)))
    return tuple(out)


def _check_dyn(name, index, types):
    n = count_dyn(index)
    if n != len(types):
        raise TypeError(f"{name}: index has {n} '?' entries but {len(types)} dynamic operands")
    for t in types:
        if t.ndim != 0 or not t.dtype.is_int:
            raise TypeError(f"{name}: dynamic index operands must be rank-0 integers, got {t}")


def _check_broadcastable(name: str, src: T.TensorType, dst_shape) -> None:
    """``src`` must broadcast to ``dst_shape`` (right-aligned, static-1 axes stretch)."""
    if src.ndim > len(dst_shape):
        raise ValueError(f"{name}: value of rank {src.ndim} cannot fill a rank-{len(dst_shape)} selection")
    for d, s in zip(src.shape[::-1], dst_shape[::-1]):
        if d not in (1, None) and s is not None and d != s:
            raise ValueError(f"{name}: value dimension {d} does not match selection dimension {s}")


@op("sc.subtensor", traits=(Pure, View))
class Subtensor(Operation):
    """Basic indexing ``x[index]`` (a view)."""
    x = operand()
    dyn = operand(variadic=True)
    index = attr(Strs)

    @classmethod
    def infer(cls, types, attrs, values):
        idx = parse_index(attrs["index"])
        _check_dyn(cls.name, idx, types[1:])
        r = resolve_index(cls.name, idx, types[0].shape, values[1:])
        return [types[0].with_shape(r.shape)]

    def ref(self, x, *dyn):
        return x[_python_index(parse_index(self.index), dyn)]

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None] * len(self.operands)
        tb = _t()
        gx = build(IncSubtensor, [tb.zeros_like(self.x), grads[0], *self.dyn], index=self.index, set=False)
        return [gx] + [None] * len(self.dyn)


@op("sc.inc_subtensor", traits=(Pure,))
class IncSubtensor(Operation):
    """A copy of x with ``y`` added to (``set``: written into) ``x[index]``; y broadcasts."""
    x = operand()
    y = operand()
    dyn = operand(variadic=True)
    index = attr(Strs)
    set = attr(Bool, False)

    @classmethod
    def infer(cls, types, attrs, values):
        x, y = types[0], types[1]
        if x.dtype != y.dtype:
            raise TypeError(f"{cls.name}: value dtype {y.dtype.ir} differs from target dtype {x.dtype.ir}")
        idx = parse_index(attrs["index"])
        _check_dyn(cls.name, idx, types[2:])
        r = resolve_index(cls.name, idx, x.shape, values[2:])
        _check_broadcastable(cls.name, y, r.shape)
        return [x]

    def check_broadcast(self, shapes, values, result_shapes):
        sel = resolve_index(self.name, parse_index(self.index), shapes[0], values[2:]).shape
        T.check_runtime_broadcast(self.name, [self.y.type.shape, (None,) * len(sel)], [shapes[1], sel])

    def ref(self, x, y, *dyn):
        out = np.array(x, copy=True)
        where = _python_index(parse_index(self.index), dyn)
        if self.set:
            out[where] = y
        else:
            out[where] += y
        return out

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None] * len(self.operands)
        tb, g = _t(), grads[0]
        sub = build(Subtensor, [g, *self.dyn], index=self.index)
        gy = tb.unbroadcast(sub, self.y)
        if self.set:
            gx = build(IncSubtensor, [g, tb.zeros_like(sub), *self.dyn], index=self.index, set=True)
        else:
            gx = g
        return [gx, gy] + [None] * len(self.dyn)


def _advanced_shape(name, x: T.TensorType, idx_types, axis: int):
    if not idx_types:
        raise TypeError(f"{name}: needs at least one index array")
    for t in idx_types:
        if not t.dtype.is_int:
            raise TypeError(f"{name}: index arrays must have an integer dtype, got {t.dtype.name}")
    if not 0 <= axis or axis + len(idx_types) > x.ndim:
        raise ValueError(f"{name}: {len(idx_types)} index arrays at axis {axis} exceed rank {x.ndim}")
    b = T.broadcast_shapes([t.shape for t in idx_types], f"{name} index arrays")
    return x.shape[:axis] + b + x.shape[axis + len(idx_types):]


@op("sc.advanced_subtensor", traits=(Pure,))
class AdvancedSubtensor(Operation):
    """``x[:, ..., i0, i1, ...]``: integer-array indexing of consecutive axes from ``axis``."""
    x = operand()
    indices = operand(variadic=True)
    axis = attr(Int, 0)

    @classmethod
    def infer(cls, types, attrs, values):
        return [types[0].with_shape(_advanced_shape(cls.name, types[0], types[1:], attrs["axis"]))]

    def check_broadcast(self, shapes, values, result_shapes):
        T.check_runtime_broadcast(self.name + " index arrays", [v.type.shape for v in self.indices], shapes[1:])

    def ref(self, x, *idx):
        return x[(slice(None),) * self.axis + tuple(idx)]

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None] * len(self.operands)
        gx = build(AdvancedIncSubtensor, [_t().zeros_like(self.x), grads[0], *self.indices], axis=self.axis, set=False)
        return [gx] + [None] * len(self.indices)


@op("sc.advanced_inc_subtensor", traits=(Pure,))
class AdvancedIncSubtensor(Operation):
    """A copy of x with y added at (``set``: written to) ``x[:, ..., i0, i1, ...]``.

    Repeated indices accumulate when adding (``np.add.at``); when setting, the last wins.
    """
    x = operand()
    y = operand()
    indices = operand(variadic=True)
    axis = attr(Int, 0)
    set = attr(Bool, False)

    @classmethod
    def infer(cls, types, attrs, values):
        x, y = types[0], types[1]
        if x.dtype != y.dtype:
            raise TypeError(f"{cls.name}: value dtype {y.dtype.ir} differs from target dtype {x.dtype.ir}")
        sel = _advanced_shape(cls.name, x, types[2:], attrs["axis"])
        _check_broadcastable(cls.name, y, sel)
        return [x]

    def check_broadcast(self, shapes, values, result_shapes):
        b = T.check_runtime_broadcast(self.name + " index arrays", [v.type.shape for v in self.indices], shapes[2:])
        sel = shapes[0][: self.axis] + b + shapes[0][self.axis + len(self.indices):]
        T.check_runtime_broadcast(self.name, [self.y.type.shape, (None,) * len(sel)], [shapes[1], sel])

    def ref(self, x, y, *idx):
        out = np.array(x, copy=True)
        where = (slice(None),) * self.axis + tuple(idx)
        if self.set:
            out[where] = y
        else:
            np.add.at(out, where, y)
        return out

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None] * len(self.operands)
        tb, g = _t(), grads[0]
        sub = build(AdvancedSubtensor, [g, *self.indices], axis=self.axis)
        gy = tb.unbroadcast(sub, self.y)
        if self.set:
            gx = build(AdvancedIncSubtensor, [g, tb.zeros_like(sub), *self.indices], axis=self.axis, set=True)
        else:
            gx = g
        return [gx, gy] + [None] * len(self.indices)
