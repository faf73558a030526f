"""Loop nests for elementwise kernels and reductions, with explicit SIMD inner loops.

:func:`emit_kernel` generates the loop nest of one elementwise or fused op
(or a reduction into an accumulator) over an iteration space the planner has
already *coalesced* (adjacent axes merged where every array allows it, so a
contiguous operation becomes one long inner loop).  The inner loop has two
versions chosen at run time:

* every non-broadcast array has unit stride: a SIMD loop of ``lanes``
  elements per step (libmvec for transcendental functions) and one masked
  SIMD step for the remainder;
* otherwise: a scalar loop with strides.

Operands that are broadcast along the inner axis (statically size 1) are
loaded once per inner loop and splatted.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Optional

from llvmlite import ir

from symcomp.backends.cpu import mathlib
from symcomp.backends.cpu.emit import I1, I32, I64, OpEmitter, i64
from symcomp.backends.cpu.scalar import ScalarContext, llvm_type
from symcomp.ir.types import DType


@contextmanager
def for_range(b: ir.IRBuilder, start, stop, step=1, name="i"):
    """``for i in range(start, stop, step)`` (step > 0); yields the i64 induction variable."""
    start = i64(start) if isinstance(start, int) else start
    stop = i64(stop) if isinstance(stop, int) else stop
    step = i64(step) if isinstance(step, int) else step
    pre = b.block
    header = b.append_basic_block(f"{name}.head")
    body = b.append_basic_block(f"{name}.body")
    after = b.append_basic_block(f"{name}.end")
    b.branch(header)
    b.position_at_end(header)
    i = b.phi(I64, name=name)
    i.add_incoming(start, pre)
    b.cbranch(b.icmp_signed("<", i, stop), body, after)
    b.position_at_end(body)
    yield i
    nxt = b.add(i, step, name=f"{name}.next")
    i.add_incoming(nxt, b.block)
    b.branch(header)
    b.position_at_end(after)


@dataclass
class Array:
    """An array taking part in a loop nest.

    Attributes:
        ptr: data pointer.
        dtype: element dtype.
        strides: element strides per loop axis (i64 values).
        inner_bcast: statically broadcast along the inner axis (stride 0).
    """

    ptr: ir.Value
    dtype: DType
    strides: list
    inner_bcast: bool = False


REDUCE_IDENTITY = {"add": 0, "mul": 1}


def identity(kind: str, dt: DType):
    """The identity element of a reduction for dtype ``dt``."""
    import math

    import numpy as np

    if kind in REDUCE_IDENTITY:
        return REDUCE_IDENTITY[kind]
    if dt.is_float:
        return -math.inf if kind == "max" else math.inf
    if dt.is_bool:
        return 0 if kind == "max" else 1
    info = np.iinfo(dt.np)
    return int(info.min) if kind == "max" else int(info.max)


def combine(E: OpEmitter, kind: str, dt: DType, a: ir.Value, b_: ir.Value) -> ir.Value:
    """One reduction step: a (op) b, NaN-propagating for float max/min."""
    b = E.b
    if kind == "add":
        return b.fadd(a, b_) if dt.is_float else (b.or_(a, b_) if dt.is_bool else b.add(a, b_))
    if kind == "mul":
        return b.fmul(a, b_) if dt.is_float else (b.and_(a, b_) if dt.is_bool else b.mul(a, b_))
    if dt.is_float:
        return mathlib.call(b, "maximum" if kind == "max" else "minimum", a, b_)
    if dt.is_bool:
        return b.or_(a, b_) if kind == "max" else b.and_(a, b_)
    signed = dt.kind == "i"
    pred = ">=" if kind == "max" else "<="
    c = b.icmp_signed(pred, a, b_) if signed else b.icmp_unsigned(pred, a, b_)
    return b.select(c, a, b_)


def horizontal(E: OpEmitter, kind: str, dt: DType, vec: ir.Value) -> ir.Value:
    """Reduce the lanes of ``vec`` (a power-of-two count) to one scalar by a pairwise tree."""
    b = E.b
    cur, width = vec, vec.type.count
    while width > 1:
        half = width // 2
        lo = b.shuffle_vector(cur, cur, ir.Constant(ir.VectorType(I32, half), list(range(half))))
        hi = b.shuffle_vector(cur, cur, ir.Constant(ir.VectorType(I32, half), list(range(half, width))))
        cur = combine(E, kind, dt, lo, hi)
        width = half
    return b.extract_element(cur, ir.Constant(I32, 0))


def _lane_iota(lanes: int) -> ir.Constant:
    return ir.Constant(ir.VectorType(I64, lanes), [ir.Constant(I64, k) for k in range(lanes)])


def _splat(b: ir.IRBuilder, v: ir.Value, lanes: int) -> ir.Value:
    vt = ir.VectorType(v.type, lanes)
    tmp = b.insert_element(ir.Constant(vt, ir.Undefined), v, ir.Constant(I32, 0))
    return b.shuffle_vector(tmp, ir.Constant(vt, ir.Undefined), ir.Constant(ir.VectorType(I32, lanes), [0] * lanes))


def emit_kernel(E: OpEmitter, dims: list, inputs: list[Array], out: Array,
                body: Callable, out_dtype: DType, reduce: Optional[str] = None, lanes: Optional[int] = None) -> None:
    """Emit a loop nest computing ``out = body(inputs)`` (or ``out = reduce(out, body(inputs))``).

    Args:
        dims: loop trip counts per axis (i64 values); the last axis is the inner loop.
        inputs: arrays read at every point.
        out: the array written; for a reduction its strides are 0 along reduced axes.
        body: ``body(cx, values) -> value`` building the scalar/vector computation.
        out_dtype: dtype of ``body``'s result.
        reduce: None (store) or 'add' / 'mul' / 'max' / 'min' (accumulate into ``out``,
            which the caller has filled with the identity).
        lanes: SIMD lanes (default: from the dtypes involved).
    """
    b = E.b
    rank = len(dims)
    lanes = lanes or E.lanes_for([a.dtype for a in inputs] + [out_dtype])
    if rank == 0:
        vals = [E.load(a.ptr, a.dtype, i64(0)) for a in inputs]
        res = body(E.scalar_context(None), vals)
        if reduce:
            res = combine(E, reduce, out_dtype, E.load(out.ptr, out_dtype, i64(0)), res)
        E.store(res, out.ptr, out_dtype, i64(0))
        return
    arrays = inputs + [out]

    def nest(level: int, offsets: list):
        if level == rank - 1:
            _inner(E, dims[-1], inputs, out, offsets, body, out_dtype, reduce, lanes)
            return
        with for_range(b, 0, dims[level], name=f"l{level}") as i:
            nest(level + 1, [b.add(o, b.mul(i, a.strides[level])) for o, a in zip(offsets, arrays)])

    nest(0, [i64(0)] * len(arrays))


def _inner(E: OpEmitter, n, inputs, out, offsets, body, out_dtype, reduce, lanes):
    b = E.b
    in_offs, out_off = offsets[:-1], offsets[-1]
    out_inner_reduced = out.inner_bcast  # for reductions: stride 0 along the inner axis
    # Run-time check: can the SIMD version run?
    contiguous = ir.Constant(I1, 1)
    for a in inputs + ([] if out_inner_reduced else [out]):
        if not a.inner_bcast:
            contiguous = b.and_(contiguous, b.icmp_signed("==", a.strides[-1], i64(1)))
    with b.if_else(contiguous, likely=True) as (simd, scalar):
        with simd:
            _inner_simd(E, n, inputs, out, in_offs, out_off, body, out_dtype, reduce, lanes)
        with scalar:
            _inner_scalar(E, n, inputs, out, in_offs, out_off, body, out_dtype, reduce)


def _inner_scalar(E, n, inputs, out, in_offs, out_off, body, out_dtype, reduce):
    b = E.b
    cx = E.scalar_context(None)
    bcast = {k: E.load(a.ptr, a.dtype, in_offs[k]) for k, a in enumerate(inputs) if a.inner_bcast}
    acc_slot = None
    if reduce and out.inner_bcast:
        acc_slot = b.alloca(llvm_type(out_dtype))
        b.store(E.load(out.ptr, out_dtype, out_off), acc_slot)
    with for_range(b, 0, n, name="j") as j:
        vals = [bcast[k] if k in bcast else E.load(a.ptr, a.dtype, b.add(in_offs[k], b.mul(j, a.strides[-1])))
                for k, a in enumerate(inputs)]
        res = body(cx, vals)
        if acc_slot is not None:
            b.store(combine(E, reduce, out_dtype, b.load(acc_slot), res), acc_slot)
        else:
            idx = b.add(out_off, b.mul(j, out.strides[-1]))
            if reduce:
                res = combine(E, reduce, out_dtype, E.load(out.ptr, out_dtype, idx), res)
            E.store(res, out.ptr, out_dtype, idx)
    if acc_slot is not None:
        E.store(b.load(acc_slot), out.ptr, out_dtype, out_off)


def _inner_simd(E, n, inputs, out, in_offs, out_off, body, out_dtype, reduce, lanes):
    b = E.b
    cx = E.scalar_context(lanes)
    bcast = {k: _splat(b, E.load(a.ptr, a.dtype, in_offs[k]), lanes) for k, a in enumerate(inputs) if a.inner_bcast}
    main = b.sub(n, b.srem(n, i64(lanes)))
    acc_slot = None
    if reduce and out.inner_bcast:
        vt = ir.VectorType(llvm_type(out_dtype), lanes)
        acc_slot = b.alloca(vt)
        b.store(cx.const(out_dtype, identity(reduce, out_dtype)), acc_slot)

    def step(j, mask):
        vals = []
        for k, a in enumerate(inputs):
            if k in bcast:
                vals.append(bcast[k])
            elif mask is None:
                vals.append(E.load(a.ptr, a.dtype, b.add(in_offs[k], j), lanes))
            else:
                vals.append(E.masked_load(a.ptr, a.dtype, b.add(in_offs[k], j), mask, lanes))
        # Lanes past the end hold zeros, which a fused body may turn into an error (2 ** (0 - 3)):
        # errors count only on active lanes.
        lane_cx = cx if mask is None else ScalarContext(b, lanes, lambda c, kind: E.flag_error(b.and_(c, mask), kind))
        res = body(lane_cx, vals)
        if acc_slot is not None:
            if mask is not None:
                res = b.select(mask, res, cx.const(out_dtype, identity(reduce, out_dtype)))
            b.store(combine(E, reduce, out_dtype, b.load(acc_slot), res), acc_slot)
            return
        idx = b.add(out_off, j)
        if reduce:
            cur = E.load(out.ptr, out_dtype, idx, lanes) if mask is None else \
                E.masked_load(out.ptr, out_dtype, idx, mask, lanes)
            res = combine(E, reduce, out_dtype, cur, res)
        if mask is None:
            E.store(res, out.ptr, out_dtype, idx)
        else:
            E.masked_store(res, out.ptr, out_dtype, idx, mask)

    with for_range(b, 0, main, lanes, name="v") as j:
        step(j, None)
    with b.if_then(b.icmp_signed("<", main, n)):
        lane_idx = b.add(_splat(b, main, lanes), _lane_iota(lanes))
        mask = b.icmp_signed("<", lane_idx, _splat(b, n, lanes))
        step(main, mask)
    if acc_slot is not None:
        total = horizontal(E, reduce, out_dtype, b.load(acc_slot))
        E.store(combine(E, reduce, out_dtype, E.load(out.ptr, out_dtype, out_off), total), out.ptr, out_dtype, out_off)


def emit_fill(E: OpEmitter, ptr: ir.Value, dtype: DType, count: ir.Value, value) -> None:
    """Set ``count`` contiguous elements to a constant."""
    cx = E.scalar_context(None)
    c = cx.const(dtype, value)
    with for_range(E.b, 0, count, name="fill") as i:
        E.store(c, ptr, dtype, i)


def emit_copy(E: OpEmitter, dims: list, src: Array, dst: Array) -> None:
    """Strided copy of ``src`` into ``dst`` over ``dims`` (same dtype)."""
    emit_kernel(E, dims, [src], dst, lambda cx, v: v[0], dst.dtype)
