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
loaded once per inner loop and splatted.  Two kinds of :class:`Array` are not
loaded at all: an *index* array gives the body each point's flat C-order index
in the loop (its strides are the loop's C-contiguous strides, so it coalesces
and splits between threads like a real array), and an *unused* operand (whose
value the body never reads) takes no loads and no part in the SIMD check.
"""

from __future__ import annotations

import platform
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Optional

from llvmlite import ir

from symcomp.backends.cpu.vecmath import libcalls
from symcomp.backends.cpu.codegen.context import I1, I8, I32, I64, PTR, OpEmitter, i64
from symcomp.backends.cpu.codegen.scalar import ScalarContext, llvm_type
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


POLL_ELEMENTS = 1 << 16
"""Elements between two reads of the interrupt flag (:func:`polled_range`): one load and one
branch per chunk, a few microseconds of work even in the cache.  a*b+c on 1e7 float64, compiled
with and without the polls, alternating in one process (100 calls each): medians 17.75 / 17.76 ms
and 22.7 / 22.1 ms in two runs (without / with), no cost above the noise."""


def interrupt_pending(b: ir.IRBuilder) -> ir.Value:
    """An i1: a SIGINT arrived (the flag of :mod:`symcomp.backends.cpu.runtime.interrupt`, read
    through the external pointer ``symcomp_interrupt_ptr``; an atomic load, never hoisted out of
    the loop that polls it)."""
    from symcomp.backends.cpu.runtime.interrupt import SYMBOL

    g = b.module.globals.get(SYMBOL)
    if g is None:
        g = ir.GlobalVariable(b.module, PTR, SYMBOL)
        g.linkage = "external"
    flag = b.load_atomic(b.load(g, typ=PTR), "monotonic", 4, typ=I32)
    return b.icmp_signed("!=", flag, ir.Constant(I32, 0))


@contextmanager
def polled_range(E: "OpEmitter", start, stop, step, chunk, name="i"):
    """:func:`for_range` cut into chunks of ``chunk`` (a multiple of ``step``; int or i64 value)
    with a poll of the interrupt flag before each: when it is set, the loop stops and the op's
    status becomes ``ERR_INTERRUPT``.  Yields the i64 induction variable."""
    from symcomp.backends.cpu.codegen.scalar import ERR_INTERRUPT

    b = E.b
    start = i64(start) if isinstance(start, int) else start
    chunk = i64(chunk) if isinstance(chunk, int) else chunk
    pre = b.block
    head = b.append_basic_block(f"{name}.chunk")
    poll = b.append_basic_block(f"{name}.poll")
    stopped = b.append_basic_block(f"{name}.interrupted")
    body = b.append_basic_block(f"{name}.chunkbody")
    after = b.append_basic_block(f"{name}.chunkend")
    b.branch(head)
    b.position_at_end(head)
    c = b.phi(I64, name=f"{name}.c")
    c.add_incoming(start, pre)
    b.cbranch(b.icmp_signed("<", c, stop), poll, after)
    b.position_at_end(poll)
    b.cbranch(interrupt_pending(b), stopped, body)
    b.position_at_end(stopped)
    b.store(ir.Constant(I32, ERR_INTERRUPT), E.status)
    b.branch(after)
    b.position_at_end(body)
    end = b.add(c, chunk)
    end = b.select(b.icmp_signed("<", end, stop), end, stop)
    with for_range(b, c, end, step, name=name) as i:
        yield i
    c.add_incoming(end, b.block)
    b.branch(head)
    b.position_at_end(after)


@dataclass
class Array:
    """An array taking part in a loop nest.

    Attributes:
        ptr: data pointer.
        dtype: element dtype.
        strides: element strides per loop axis (i64 values).
        inner_bcast: statically broadcast along the inner axis (stride 0).
        role: "data" (loaded), "index" (no memory: its value is the element offset itself,
            the loop point's flat index when its strides are the loop's C strides) or
            "unused" (never loaded; the body gets None).
    """

    ptr: ir.Value
    dtype: DType
    strides: list
    inner_bcast: bool = False
    role: str = "data"


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
        return libcalls.call(b, "maximum" if kind == "max" else "minimum", a, b_)
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
                body: Callable, out_dtype: DType, reduce: Optional[str] = None, lanes: Optional[int] = None,
                parallel: bool = False, unroll: int = 0, prefetch_ahead=None) -> None:
    """Emit a loop nest computing ``out = body(inputs)`` (or ``out = reduce(out, body(inputs))``).

    Args:
        dims: loop trip counts per axis (i64 values); the last axis is the inner loop.
        inputs: arrays read at every point.
        out: the array written; for a reduction its strides are 0 along reduced axes.
        body: ``body(cx, values) -> value`` building the scalar/vector computation; it may
            use only ``cx`` and ``values`` (a parallel nest emits it in another function).
        out_dtype: dtype of ``body``'s result.
        reduce: None (store) or 'add' / 'mul' / 'max' / 'min' (accumulate into ``out``,
            which the caller has filled with the identity).
        lanes: SIMD lanes (default: from the dtypes involved).
        parallel: split large nests across threads (:mod:`symcomp.backends.cpu.codegen.parallel`).
            Only for a nest that is the whole of its op, never one inside another loop.
        unroll: vectors per iteration of the main SIMD loop (0: :data:`UNROLL`).
        prefetch_ahead: None, or an i64 element distance: each full vector step of the inner SIMD
            loop also prefetches input 0 that far ahead (the next row of a row-wise pass, so that
            its memory reads overlap this row's arithmetic).
    """
    b = E.b
    unroll = unroll or UNROLL
    rank = len(dims)
    lanes = lanes or E.lanes_for([a.dtype for a in inputs] + [out_dtype])
    if rank == 0:
        vals = [_rank0_value(E, a) for a in inputs]
        res = body(E.scalar_context(None), vals)
        if reduce:
            res = combine(E, reduce, out_dtype, E.load(out.ptr, out_dtype, i64(0)), res)
        E.store(res, out.ptr, out_dtype, i64(0))
        return

    if parallel and E.mod.threads and threads_available():
        from symcomp.backends.cpu.codegen import parallel

        def ranged(W, wdims, w_in, w_out, outer, inner):
            stream = _stream_flag(W, wdims, w_out, out_dtype, reduce, lanes)
            _ranged_nest(W, wdims, w_in, w_out, body, out_dtype, reduce, lanes, outer, inner, unroll,
                         prefetch_ahead, stream)
            _fence(W, stream)

        parallel.emit_parallel_kernel(E, dims, inputs, out, out_dtype, reduce, lanes, ranged)
        return
    arrays = inputs + [out]
    stream = _stream_flag(E, dims, out, out_dtype, reduce, lanes)

    def nest(level: int, offsets: list):
        if level == rank - 1:
            _inner(E, dims[-1], inputs, out, offsets, body, out_dtype, reduce, lanes, unroll, prefetch_ahead,
                   stream)
            return
        loop = polled_range(E, 0, dims[level], 1, _rows_per_poll(b, dims[level + 1:]), name=f"l{level}") \
            if level == 0 else for_range(b, 0, dims[level], name=f"l{level}")
        with loop as i:
            nest(level + 1, [b.add(o, b.mul(i, a.strides[level])) for o, a in zip(offsets, arrays)])

    nest(0, [i64(0)] * len(arrays))
    del nest  # a recursive closure is a reference cycle: without this, the IR it holds waits for the collector
    _fence(E, stream)


def _rank0_value(E: OpEmitter, a: Array):
    if a.role == "index":
        return i64(0)
    if a.role == "unused":
        return None
    return E.load(a.ptr, a.dtype, i64(0))


def _fence(E: OpEmitter, stream) -> None:
    """``sfence`` once the whole nest (or a thread's share) has streamed: once per row instead
    made a*row + c on 200000 x 50 float64 6x slower."""
    if stream is not None:
        with E.b.if_then(stream):
            E.store_fence()


_STREAMING_TARGET = platform.machine() in ("x86_64", "AMD64") and sys.platform.startswith("linux")
"""Where :func:`_stream_flag` may stream: x86's ``vmovntp*`` and ``sfence``, Linux's ``mincore``."""


def _stream_flag(E: OpEmitter, dims: list, out: Array, out_dtype: DType, reduce, lanes: int):
    """An i1 value: whether the main SIMD loop writes ``out`` with non-temporal stores; None where
    it never does (a reduction, booleans, a vector that is not 16, 32 or 64 bytes, a target other
    than x86-64 Linux).

    At run time, when all of these hold:

    * the output takes at least the last-level cache
      (:func:`symcomp.backends.cpu.runtime.host.last_level_cache_bytes`), so that regular stores would
      evict the inputs and first read every output line from memory (a fifth of a*b+c's
      traffic).  An output smaller than the cache stays in it for the next kernel.  The C loop
      a*b+c with 2 threads, here: 2e6 float64 13% faster streaming, 1e7 22% faster, but 1e6
      (in the cache) 5% slower;
    * the nest is one loop (its operands coalesced to one axis at run time).  Row by row, each
      row's first and last lines also get regular (masked) stores, and a broadcast row
      a*row + c on 2000 x 5000 float64 read 2.90-3.25 ms streaming against 2.71-2.86 ms regular
      in one hour (2.11 against 2.60 in the hour before); on 200000 x 50, 3.31 against 3.19;
    * its address is a multiple of the element size, so that the peeled head aligns the main
      loop to the vector size (an unaligned ``vmovntpd`` faults);
    * the page of its last byte is resident (``mincore``).  glibc maps every block above
      32 MiB anew, and the kernel zeroes each new page at its first store, in the cache, where
      regular stores then hit; streaming stores would write those lines twice (1e7 float64,
      fresh pages: 8.5 ms streaming against 8.1 ms).  The last page is the last one written,
      so each thread of a parallel loop, checking as it starts, sees the same answer."""
    from symcomp.backends.cpu.runtime import host

    size = out_dtype.itemsize
    if reduce or out_dtype.is_bool or lanes * size not in (16, 32, 64) or not _STREAMING_TARGET:
        return None
    b = E.b
    total = i64(1)
    for d in dims:
        total = b.mul(total, d)
    big = b.and_(b.icmp_signed(">=", total, i64(-(-host.last_level_cache_bytes() // size))),
                 b.icmp_signed("==", total, dims[-1]))  # one row: the nest coalesced to one loop
    addr = b.ptrtoint(out.ptr, I64)
    aligned = b.icmp_signed("==", b.and_(addr, i64(size - 1)), i64(0))
    flag = E.entry_alloca(I1)
    b.store(b.and_(big, aligned), flag)
    with b.if_then(b.load(flag)):
        page = b.and_(b.add(addr, b.sub(b.mul(total, i64(size)), i64(1))), i64(-host.page_bytes()))
        status = E.entry_alloca(I8)
        mincore = libcalls.declare(b.module, "mincore", I32, [PTR, I64, PTR])
        rc = b.call(mincore, [b.inttoptr(page, PTR), i64(1), status])
        resident = b.trunc(b.load(status), I1)  # bit 0: the page is in memory
        b.store(b.and_(b.icmp_signed("==", rc, ir.Constant(I32, 0)), resident), flag)
    return b.load(flag)


def threads_available() -> bool:
    """Whether the OpenMP runtime can be loaded (:func:`symcomp.backends.cpu.runtime.openmp.available`)."""
    from symcomp.backends.cpu.runtime import openmp

    return openmp.available()


def _ranged_nest(E: OpEmitter, dims, inputs, out, body, out_dtype, reduce, lanes, outer, inner, unroll,
                 prefetch_ahead, stream):
    """The nest restricted to flat outer iterations ``outer`` = [lo, hi) (the outer axes taken
    as one loop in C order) and to inner iterations ``inner`` = [lo, hi)."""
    b = E.b
    rank = len(dims)
    arrays = inputs + [out]
    lo_in, hi_in = inner
    n = b.sub(hi_in, lo_in)
    base = [b.mul(lo_in, a.strides[-1]) for a in arrays]
    with polled_range(E, outer[0], outer[1], 1, _rows_per_poll(b, [n]), name="q") as q:
        offsets = list(base)
        rem = q
        for k in range(rank - 2, -1, -1):
            idx = b.urem(rem, dims[k]) if k else rem
            if k:
                rem = b.udiv(rem, dims[k])
            offsets = [b.add(o, b.mul(idx, a.strides[k])) for o, a in zip(offsets, arrays)]
        _inner(E, n, inputs, out, offsets, body, out_dtype, reduce, lanes, unroll, prefetch_ahead, stream)


def _rows_per_poll(b: ir.IRBuilder, inner_dims: list) -> ir.Value:
    """Iterations of an outer loop per poll: about :data:`POLL_ELEMENTS` elements, at least one."""
    work = i64(1)
    for d in inner_dims:
        work = b.mul(work, d)
    work = b.select(b.icmp_signed(">", work, i64(0)), work, i64(1))
    rows = b.udiv(i64(POLL_ELEMENTS), work)
    return b.select(b.icmp_signed(">", rows, i64(0)), rows, i64(1))


def _inner(E: OpEmitter, n, inputs, out, offsets, body, out_dtype, reduce, lanes, unroll, prefetch_ahead,
           stream=None):
    b = E.b
    in_offs, out_off = offsets[:-1], offsets[-1]
    out_inner_reduced = out.inner_bcast  # for reductions: stride 0 along the inner axis
    # Run-time check: can the SIMD version run?
    contiguous = ir.Constant(I1, 1)
    for a in inputs + ([] if out_inner_reduced else [out]):
        if not a.inner_bcast and a.role == "data":
            contiguous = b.and_(contiguous, b.icmp_signed("==", a.strides[-1], i64(1)))
    with b.if_else(contiguous, likely=True) as (simd, scalar):
        with simd:
            _inner_simd(E, n, inputs, out, in_offs, out_off, body, out_dtype, reduce, lanes, unroll, prefetch_ahead,
                        stream)
        with scalar:
            _inner_scalar(E, n, inputs, out, in_offs, out_off, body, out_dtype, reduce)


def _inner_scalar(E, n, inputs, out, in_offs, out_off, body, out_dtype, reduce):
    b = E.b
    cx = E.scalar_context(None)
    bcast = {k: E.load(a.ptr, a.dtype, in_offs[k]) for k, a in enumerate(inputs) if a.inner_bcast and a.role == "data"}
    acc_slot = None
    if reduce and out.inner_bcast:
        acc_slot = E.entry_alloca(llvm_type(out_dtype))
        b.store(E.load(out.ptr, out_dtype, out_off), acc_slot)
    with polled_range(E, 0, n, 1, POLL_ELEMENTS, name="j") as j:
        vals = [bcast[k] if k in bcast else _scalar_value(E, a, b.add(in_offs[k], b.mul(j, a.strides[-1])))
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


def _scalar_value(E: OpEmitter, a: Array, offset: ir.Value):
    if a.role == "index":
        return offset
    if a.role == "unused":
        return None
    return E.load(a.ptr, a.dtype, offset)


UNROLL = 2
"""Vectors per iteration of the main SIMD loop.  With several independent vectors per
iteration the loop overhead (which level-0 code generation keeps in stack slots) is shared,
and a reduction gets as many accumulators, so it is not bound by the latency of one
dependent add chain.  A body whose constants fill the vector registers (the coefficient
tables of :mod:`symcomp.backends.cpu.vecmath.erf`) is emitted once per iteration instead: a second
copy spilled the tables (float32 GELU at 1e7, 2 threads: 2.65 ms unrolled, 2.04-2.12 ms not)."""


def _inner_simd(E, n, inputs, out, in_offs, out_off, body, out_dtype, reduce, lanes, unroll, prefetch_ahead,
                stream=None):
    b = E.b
    cx = E.scalar_context(lanes)
    bcast = {k: _splat(b, E.load(a.ptr, a.dtype, in_offs[k]), lanes) for k, a in enumerate(inputs)
             if a.inner_bcast and a.role == "data"}
    accs = []
    if reduce and out.inner_bcast:
        vt = ir.VectorType(llvm_type(out_dtype), lanes)
        for _ in range(unroll):
            accs.append(E.entry_alloca(vt))
            b.store(cx.const(out_dtype, identity(reduce, out_dtype)), accs[-1])

    def step(j, mask, acc=0):
        if prefetch_ahead is not None and mask is None and inputs[0].role == "data":
            _prefetch(E, E.elem_ptr(inputs[0].ptr, inputs[0].dtype, b.add(b.add(in_offs[0], j), prefetch_ahead)))
        vals = []
        for k, a in enumerate(inputs):
            if k in bcast:
                vals.append(bcast[k])
            elif a.role == "index":
                vals.append(b.add(_splat(b, b.add(in_offs[k], j), lanes), _lane_iota(lanes)))
            elif a.role == "unused":
                vals.append(None)
            elif mask is None:
                vals.append(E.load(a.ptr, a.dtype, b.add(in_offs[k], j), lanes))
            else:
                vals.append(E.masked_load(a.ptr, a.dtype, b.add(in_offs[k], j), mask, lanes))
        # Lanes past the end hold zeros, which a fused body may turn into an error (2 ** (0 - 3)):
        # errors count only on active lanes.
        lane_cx = cx if mask is None else ScalarContext(b, lanes, lambda c, kind: E.flag_error(b.and_(c, mask), kind))
        res = body(lane_cx, vals)
        if accs:
            if mask is not None:
                res = b.select(mask, res, cx.const(out_dtype, identity(reduce, out_dtype)))
            b.store(combine(E, reduce, out_dtype, b.load(accs[acc]), res), accs[acc])
            return
        idx = b.add(out_off, j)
        if reduce:
            cur = E.load(out.ptr, out_dtype, idx, lanes) if mask is None else \
                E.masked_load(out.ptr, out_dtype, idx, mask, lanes)
            res = combine(E, reduce, out_dtype, cur, res)
        if mask is not None:
            E.masked_store(res, out.ptr, out_dtype, idx, mask)
        elif stream is None:
            E.store(res, out.ptr, out_dtype, idx)
        else:  # full steps after the peeled head: aligned to the vector size
            with b.if_else(stream) as (streaming, regular):
                with streaming:
                    E.store_streaming(res, out.ptr, out_dtype, idx)
                with regular:
                    E.store(res, out.ptr, out_dtype, idx)

    head = i64(0)
    if not (reduce and out.inner_bcast):
        # Peel a masked step so that the stores of the main loop are aligned to the vector width:
        # an unaligned 64-byte store touches two cache lines (large NumPy arrays start 16 bytes
        # into a page, so every store of the loop would).
        size = max(1, out_dtype.itemsize)
        addr = b.ptrtoint(E.elem_ptr(out.ptr, out_dtype, out_off), I64)
        k = b.and_(b.lshr(addr, i64(size.bit_length() - 1)), i64(lanes - 1))
        head = b.and_(b.sub(i64(lanes), k), i64(lanes - 1))
        head = b.select(b.icmp_signed("<", head, n), head, n)
        with b.if_then(b.icmp_signed(">", head, i64(0))):
            step(i64(0), b.icmp_signed("<", _lane_iota(lanes), _splat(b, head, lanes)))
    rest = b.sub(n, head)
    main = b.add(head, b.sub(rest, b.srem(rest, i64(lanes))))
    big = b.add(head, b.sub(rest, b.srem(rest, i64(lanes * unroll))))
    with polled_range(E, head, big, lanes * unroll, POLL_ELEMENTS, name="vu") as j:
        for u in range(unroll):
            step(b.add(j, i64(u * lanes)) if u else j, None, u)
    with for_range(b, big, main, lanes, name="v") as j:
        step(j, None)
    with b.if_then(b.icmp_signed("<", main, n)):
        lane_idx = b.add(_splat(b, main, lanes), _lane_iota(lanes))
        mask = b.icmp_signed("<", lane_idx, _splat(b, n, lanes))
        step(main, mask)
    if accs:
        vals = [b.load(a) for a in accs]
        while len(vals) > 1:  # pairwise: (a0 . a1) . (a2 . a3)
            vals = [combine(E, reduce, out_dtype, vals[i], vals[i + 1]) for i in range(0, len(vals), 2)]
        total = horizontal(E, reduce, out_dtype, vals[0])
        E.store(combine(E, reduce, out_dtype, E.load(out.ptr, out_dtype, out_off), total), out.ptr, out_dtype, out_off)


def _prefetch(E: OpEmitter, ptr: ir.Value) -> None:
    """``llvm.prefetch`` of the cache line at ``ptr`` for reading, into all cache levels (a hint:
    an address past the array is harmless)."""
    b = E.b
    fn = b.module.globals.get("llvm.prefetch.p0") or ir.Function(
        b.module, ir.FunctionType(ir.VoidType(), [ptr.type, I32, I32, I32]), "llvm.prefetch.p0")
    b.call(fn, [ptr, ir.Constant(I32, 0), ir.Constant(I32, 3), ir.Constant(I32, 1)])


def emit_fill(E: OpEmitter, ptr: ir.Value, dtype: DType, count: ir.Value, value) -> None:
    """Set ``count`` contiguous elements to a constant."""
    cx = E.scalar_context(None)
    c = cx.const(dtype, value)
    with for_range(E.b, 0, count, name="fill") as i:
        E.store(c, ptr, dtype, i)


def emit_copy(E: OpEmitter, dims: list, src: Array, dst: Array) -> None:
    """Strided copy of ``src`` into ``dst`` over ``dims`` (same dtype)."""
    emit_kernel(E, dims, [src], dst, lambda cx, v: v[0], dst.dtype)
