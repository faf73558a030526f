"""Multi-threaded loop nests through the OpenMP runtime (libgomp).

A large loop nest is *outlined*: its live-in values (trip counts, array
pointers and strides) are stored in a context array on the op function's
stack, and ``GOMP_parallel(worker, ctx, num_threads, 0)`` runs the outlined
worker on a team of threads; the calling thread takes part and returns when
every thread is done (libgomp's ABI, as GCC emits for ``#pragma omp
parallel``).  Each worker asks ``omp_get_thread_num``/``omp_get_num_threads``
for its share:

* *outer split*: the flat range of the outer loops (all axes but the inner
  one) is cut into equal contiguous chunks, one per thread;
* *inner split*: when the outer loops are too short (the iteration space
  coalesced to one long inner loop), the inner loop is cut into chunks that
  are multiples of the SIMD width.

A reduction whose output is shared by several threads' chunks (a full
reduction of a coalesced 1-D loop) accumulates into one private partial per
thread; the calling thread combines the partials in thread order, so the
result is deterministic for a given thread count.  A split that would let two
threads write the same output element is never chosen (the nest then runs on
the calling thread alone).

Threads are used when the loop has at least
:data:`~symcomp.backends.cpu.runtime.openmp.MIN_PARALLEL_ELEMENTS` (128Ki) elements: below
that, handing the work to the team costs about as much as it saves
(docs/performance.md).  The team size is read on every call from the native
global ``symcomp_num_threads`` that :mod:`symcomp.backends.cpu.runtime.openmp` keeps equal
to ``symcomp.config.num_threads``; that module also loads the runtime.
"""

from __future__ import annotations

from typing import Callable

from llvmlite import ir

from symcomp.backends.cpu.codegen.context import I32, I64, PTR, i64
from symcomp.backends.cpu.codegen.loops import Array, combine, for_range, identity
from symcomp.backends.cpu.vecmath.libcalls import declare
from symcomp.backends.cpu.runtime.openmp import MAX_THREADS, MIN_PARALLEL_ELEMENTS
from symcomp.backends.cpu.codegen.scalar import llvm_type


def _num_threads_global(module: ir.Module) -> ir.GlobalVariable:
    g = module.globals.get("symcomp_num_threads")
    if g is None:
        g = ir.GlobalVariable(module, I32, "symcomp_num_threads")
        g.linkage = "external"
    return g


class _Packer:
    """Live-in values of the outlined loop, stored as i64 words of the context array."""

    def __init__(self):
        self.values: list[ir.Value] = []

    def add(self, v: ir.Value) -> int:
        self.values.append(v)
        return len(self.values) - 1

    def store(self, b: ir.IRBuilder, ctx: ir.Value) -> None:
        for k, v in enumerate(self.values):
            w = b.ptrtoint(v, I64) if isinstance(v.type, ir.PointerType) else v
            b.store(w, b.gep(ctx, [i64(k)], source_etype=I64))

    def load(self, b: ir.IRBuilder, ctx: ir.Value, k: int, typ: ir.Type) -> ir.Value:
        w = b.load(b.gep(ctx, [i64(k)], source_etype=I64), typ=I64)
        return b.inttoptr(w, typ) if isinstance(typ, ir.PointerType) else w


class _Region:
    """An outlined loop: the worker function ``void worker(ptr ctx)`` and its context.

    The worker holds the only copy of the loop's code.  The op function stores the live-ins in
    the context, then either calls ``GOMP_parallel(worker, ctx, num_threads, 0)`` or, when the
    loop is too small, calls the worker itself as a team of one.  Each worker stores its error
    status in ``status[thread]``; thread 0 stores the team size.
    """

    def __init__(self, E, live_ins: list):
        self.E = E
        module = E.b.module
        self.pk = _Packer()
        self.keys = [self.pk.add(v) for v in live_ins]
        self.status = E.entry_alloca(I32, MAX_THREADS, "thread_status")
        self.team = E.entry_alloca(I32, name="team")
        self.k_status, self.k_team = self.pk.add(self.status), self.pk.add(self.team)
        self.k_parallel = self.pk.add(i64(0))  # the real flag is stored by dispatch()
        self.fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [PTR]), module.get_unique_name(f"{E.fn.name}.omp"))
        self.fn.linkage = "internal"
        self.W = E.child(self.fn)
        wb, ctx = self.W.b, self.fn.args[0]
        parallel = wb.icmp_signed("!=", self.pk.load(wb, ctx, self.k_parallel, I64), i64(0))
        tid = wb.zext(wb.call(declare(module, "omp_get_thread_num", I32, []), []), I64)
        nth = wb.zext(wb.call(declare(module, "omp_get_num_threads", I32, []), []), I64)
        self.tid = wb.select(parallel, tid, i64(0))
        self.nth = wb.select(parallel, nth, i64(1))
        with wb.if_then(wb.icmp_signed("==", self.tid, i64(0))):
            wb.store(wb.trunc(self.nth, I32), self.pk.load(wb, ctx, self.k_team, PTR))
        self.values = [self.pk.load(wb, ctx, k, v.type) for k, v in zip(self.keys, live_ins)]

    def finish_worker(self) -> None:
        wb, ctx = self.W.b, self.fn.args[0]
        sbase = self.pk.load(wb, ctx, self.k_status, PTR)
        wb.store(wb.load(self.W.status, typ=I32), wb.gep(sbase, [self.tid], source_etype=I32))
        wb.ret_void()

    def dispatch(self, parallel: ir.Value) -> ir.Value:
        """Run the worker (a team when ``parallel``, else the calling thread); returns the team size."""
        E = self.E
        b, module = E.b, E.b.module
        self.pk.values[self.k_parallel] = b.zext(parallel, I64)
        ctx = E.entry_alloca(I64, len(self.pk.values), "ctx")
        self.pk.store(b, ctx)
        nthr = b.load(_num_threads_global(module), typ=I32)
        with b.if_else(parallel) as (par, ser):
            with par:
                b.call(declare(module, "GOMP_parallel", ir.VoidType(), [PTR, PTR, I32, I32]),
                       [self.fn, ctx, nthr, ir.Constant(I32, 0)])
            with ser:
                b.call(self.fn, [ctx])
        team = b.zext(b.load(self.team, typ=I32), I64)
        with for_range(b, 0, team, name="join") as t:  # the first error in thread order
            st = b.load(b.gep(self.status, [t], source_etype=I32), typ=I32)
            cur = b.load(E.status, typ=I32)
            b.store(b.select(b.icmp_signed("==", cur, ir.Constant(I32, 0)), st, cur), E.status)
        return team


def _wants_team(E, work: ir.Value) -> ir.Value:
    b = E.b
    nthr = b.zext(b.load(_num_threads_global(b.module), typ=I32), I64)
    if not E.mod.threads:
        return ir.Constant(ir.IntType(1), 0), nthr
    return b.and_(b.icmp_signed(">=", work, i64(MIN_PARALLEL_ELEMENTS)), b.icmp_signed(">", nthr, i64(1))), nthr


def emit_parallel_kernel(E, dims: list, inputs: list, out, out_dtype, reduce, lanes: int, nest: Callable) -> None:
    """Emit a loop nest, outlined, run by a thread team when large enough.

    Args:
        E: the op's :class:`~symcomp.backends.cpu.codegen.context.OpEmitter`.
        dims, inputs, out, out_dtype, reduce, lanes: as for :func:`~symcomp.backends.cpu.codegen.loops.emit_kernel`.
        nest: ``nest(W, dims, inputs, out, outer=(lo, hi), inner=(lo, hi))`` emits the nest
            restricted to flat outer iterations and inner iterations, with emitter ``W``.
    """
    b = E.b
    rank = len(dims)
    outer = i64(1)
    for d in dims[:-1]:
        outer = b.mul(outer, d)
    n = dims[-1]
    big, nthr = _wants_team(E, b.mul(outer, n))
    inner_reduced = bool(reduce) and out.inner_bcast
    # Two threads must never write one output element: an outer axis of extent > 1 along which the
    # output does not move (a reduced axis) forbids the outer split.
    unsafe_outer = ir.Constant(ir.IntType(1), 0)
    for k in range(rank - 1):
        unsafe_outer = b.or_(unsafe_outer, b.and_(b.icmp_signed("==", out.strides[k], i64(0)),
                                                  b.icmp_signed(">", dims[k], i64(1))))
    use_outer = b.and_(big, b.and_(b.icmp_signed(">=", outer, nthr), b.not_(unsafe_outer)))
    inner_ok = b.icmp_signed(">=", n, b.mul(nthr, i64(2 * lanes)))
    if inner_reduced:  # partials per thread: only when the whole loop feeds one output element
        inner_ok = b.and_(inner_ok, b.icmp_signed("==", outer, i64(1)))
    use_inner = b.and_(big, b.and_(b.not_(use_outer), inner_ok))
    et = llvm_type(out_dtype, in_memory=True)
    partials = E.entry_alloca(et, MAX_THREADS, "partials") if inner_reduced else ir.Constant(PTR, None)
    live = list(dims) + [v for a in inputs + [out] for v in [a.ptr] + list(a.strides)]
    live += [b.zext(use_outer, I64), b.zext(use_inner, I64), partials]
    R = _Region(E, live)
    W, wb, vals = R.W, R.W.b, R.values
    wdims, pos = vals[:rank], rank
    arrays = []
    for a in inputs + [out]:
        arrays.append(Array(vals[pos], a.dtype, vals[pos + 1:pos + 1 + rank], inner_bcast=a.inner_bcast, role=a.role))
        pos += 1 + rank
    w_outer, w_inner = wb.icmp_signed("!=", vals[pos], i64(0)), wb.icmp_signed("!=", vals[pos + 1], i64(0))
    w_partials = vals[pos + 2]
    total = i64(1)
    for d in wdims[:-1]:
        total = wb.mul(total, d)
    wn = wdims[-1]
    tid, nth = R.tid, R.nth
    # outer split: a contiguous share of the flat outer range, whole inner loops
    o_lo = wb.select(w_outer, wb.udiv(wb.mul(total, tid), nth), i64(0))
    o_hi = wb.select(w_outer, wb.udiv(wb.mul(total, wb.add(tid, i64(1))), nth), total)
    # inner split: a share of the inner loop in multiples of the SIMD width
    per = wb.udiv(wb.add(wn, wb.sub(nth, i64(1))), nth)
    per = wb.mul(wb.udiv(wb.add(per, i64(lanes - 1)), i64(lanes)), i64(lanes))
    i_lo = wb.select(w_inner, _umin(wb, wb.mul(per, tid), wn), i64(0))
    i_hi = wb.select(w_inner, _umin(wb, wb.add(i_lo, per), wn), wn)
    w_in, w_out = arrays[:-1], arrays[-1]
    if inner_reduced:
        cell = wb.gep(w_partials, [tid], source_etype=et)
        with wb.if_then(w_inner):
            W.store(W.scalar_context(None).const(out_dtype, identity(reduce, out_dtype)), cell, out_dtype, i64(0))
        w_out = Array(wb.select(w_inner, cell, w_out.ptr), out_dtype, w_out.strides, inner_bcast=True)
    nest(W, wdims, w_in, w_out, (o_lo, o_hi), (i_lo, i_hi))
    R.finish_worker()
    team = R.dispatch(b.or_(use_outer, use_inner))
    if inner_reduced:  # partials combined in thread order: deterministic for a given team size
        with b.if_then(use_inner):
            with for_range(b, 0, team, name="combine") as t:
                part = E.load(b.gep(partials, [t], source_etype=et), out_dtype, i64(0))
                acc = E.load(out.ptr, out_dtype, i64(0))
                E.store(combine(E, reduce, out_dtype, acc, part), out.ptr, out_dtype, i64(0))


def emit_parallel_for(E, n: ir.Value, work: ir.Value, live_ins: list, body: Callable) -> None:
    """``for i in range(n)``, outlined, split into one contiguous chunk per thread when ``work``
    (elements touched in all) reaches :data:`MIN_PARALLEL_ELEMENTS`, else run by the calling thread.

    Args:
        E: the op's emitter.
        n: trip count (i64); iterations must write disjoint outputs.
        work: elements touched by the whole loop (i64), for the threshold.
        live_ins: LLVM values (i64 or pointers) the body uses from the op function.
        body: ``body(W, lo, hi, values)`` emits iterations [lo, hi) with emitter ``W`` and
            ``values``, the live-ins as seen in the worker.
    """
    b = E.b
    big, _ = _wants_team(E, work)
    R = _Region(E, [n] + list(live_ins))
    wb = R.W.b
    wn = R.values[0]
    lo = wb.udiv(wb.mul(wn, R.tid), R.nth)
    hi = wb.udiv(wb.mul(wn, wb.add(R.tid, i64(1))), R.nth)
    body(R.W, lo, hi, R.values[1:])
    R.finish_worker()
    R.dispatch(b.and_(big, b.icmp_signed(">", n, i64(1))))


def _umin(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.select(b.icmp_unsigned("<", x, y), x, y)
