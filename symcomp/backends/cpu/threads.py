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

Threads are used when the loop has at least :data:`MIN_PARALLEL_ELEMENTS`
(128Ki) elements: below that, waking the team (sleeping workers, see
:func:`initialize`) costs about as much as it saves (docs/performance.md).  ``symcomp.config.num_threads`` (0 = every core this
process may run on) is mirrored into the native global ``symcomp_num_threads``
that generated code reads on every call, so changing it needs no recompile.
"""

from __future__ import annotations

import ctypes
import os
from typing import Callable

from llvmlite import ir

from symcomp.backends.cpu.emit import I32, I64, PTR, i64
from symcomp.backends.cpu.loops import Array, combine, for_range, identity
from symcomp.backends.cpu.scalar import llvm_type
from symcomp.config import config

MIN_PARALLEL_ELEMENTS = 1 << 17
MAX_THREADS = 256
"""Size of the per-thread status and partial arrays; larger teams are capped to it."""

_NUM_THREADS = ctypes.c_int32(1)


def _effective(n: int) -> int:
    if n <= 0:
        try:
            n = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            n = os.cpu_count() or 1
    return max(1, min(n, MAX_THREADS))


def set_num_threads(n: int) -> None:
    """Threads for later calls of compiled code (0 = all cores this process may use)."""
    _NUM_THREADS.value = _effective(n)


def num_threads() -> int:
    """The thread count compiled code uses now."""
    return _NUM_THREADS.value


def initialize(llvm) -> bool:
    """Load libgomp and register ``symcomp_num_threads`` (called once by the JIT's initialization).

    Returns:
        Whether libgomp could be loaded (without it every loop runs on the calling thread).
    """
    # libgomp reads its settings from the environment when it is loaded.  Unless the user chose a
    # wait policy, its workers sleep between parallel regions instead of spinning: a spinning
    # worker takes the core that OpenBLAS's threads (and other processes) need, which made the
    # digits MLP step 3-20x slower on this 2-core machine (docs/performance.md).
    override = "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ
    if override:
        os.environ["OMP_WAIT_POLICY"] = "passive"
    from symcomp.backends.cpu.jit import load_library

    try:
        ok = load_library(llvm, "libgomp.so.1", "gomp")
    finally:
        if override:  # the process environment is left as it was (child processes inherit it)
            del os.environ["OMP_WAIT_POLICY"]
    llvm.add_symbol("symcomp_num_threads", ctypes.addressof(_NUM_THREADS))
    return ok


set_num_threads(config.num_threads)
config.on_change("num_threads", set_num_threads)


def _declare(module: ir.Module, name: str, ret: ir.Type, args: list) -> ir.Function:
    fn = module.globals.get(name)
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(ret, args), name)
    return fn


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


def emit_parallel_kernel(E, dims: list, inputs: list, out, out_dtype, reduce, lanes: int,
                         nest: Callable, serial: Callable) -> None:
    """Emit a loop nest that runs on a thread team when large enough, else ``serial()``.

    Args:
        E: the op's :class:`~symcomp.backends.cpu.emit.OpEmitter`.
        dims, inputs, out, out_dtype, reduce, lanes: as for :func:`~symcomp.backends.cpu.loops.emit_kernel`.
        nest: ``nest(E2, dims, inputs, out, outer=(lo, hi) | None, inner=(lo, hi) | None)`` emits the
            nest restricted to a flat outer range or an inner range, with ``E2``'s builder.
        serial: emits the whole nest on the calling thread, with ``E``'s builder.
    """
    b, module = E.b, E.b.module
    rank = len(dims)
    outer = i64(1)
    for d in dims[:-1]:
        outer = b.mul(outer, d)
    n = dims[-1]
    work = b.mul(outer, n)
    nthr = b.load(_num_threads_global(module), typ=I32)
    nthr64 = b.zext(nthr, I64)
    inner_reduced = bool(reduce) and out.inner_bcast
    # Two threads must never write one output element: an outer axis of extent > 1 along which the
    # output does not move (a reduced axis) forbids the outer split.
    unsafe_outer = ir.Constant(ir.IntType(1), 0)
    for k in range(rank - 1):
        unsafe_outer = b.or_(unsafe_outer, b.and_(b.icmp_signed("==", out.strides[k], i64(0)),
                                                  b.icmp_signed(">", dims[k], i64(1))))
    big = b.and_(b.icmp_signed(">=", work, i64(MIN_PARALLEL_ELEMENTS)), b.icmp_signed(">", nthr64, i64(1)))
    use_outer = b.and_(big, b.and_(b.icmp_signed(">=", outer, nthr64), b.not_(unsafe_outer)))
    inner_ok = b.icmp_signed(">=", n, b.mul(nthr64, i64(2 * lanes)))
    if inner_reduced:  # partials per thread: only when the whole loop feeds one output element
        inner_ok = b.and_(inner_ok, b.icmp_signed("==", outer, i64(1)))
    use_inner = b.and_(big, b.and_(b.not_(use_outer), inner_ok))
    with b.if_else(b.or_(use_outer, use_inner)) as (par, ser):
        with par:
            _emit_region(E, dims, inputs, out, out_dtype, reduce, lanes, nest, use_outer, nthr)
        with ser:
            serial()


def _emit_region(E, dims, inputs, out, out_dtype, reduce, lanes, nest, use_outer, nthr):
    """The outlined worker, the GOMP_parallel call and the join (statuses, partials)."""
    b, module = E.b, E.b.module
    rank = len(dims)
    inner_reduced = bool(reduce) and out.inner_bcast
    pk = _Packer()
    k_dims = [pk.add(d) for d in dims]
    k_arrays = [(pk.add(a.ptr), [pk.add(s) for s in a.strides]) for a in inputs + [out]]
    k_mode = pk.add(b.zext(use_outer, I64))
    status = b.alloca(I32, size=i64(MAX_THREADS), name="thread_status")
    k_status = pk.add(status)
    et = llvm_type(out_dtype, in_memory=True)
    partials = None
    if inner_reduced:
        partials = b.alloca(et, size=i64(MAX_THREADS), name="partials")
    k_partials = pk.add(partials if partials is not None else ir.Constant(PTR, None))
    team = b.alloca(I32, name="team")
    k_team = pk.add(team)
    with for_range(b, 0, MAX_THREADS, name="init") as t:
        b.store(ir.Constant(I32, 0), b.gep(status, [t], source_etype=I32))
        if partials is not None:
            E.store(E.scalar_context(None).const(out_dtype, identity(reduce, out_dtype)),
                    b.gep(partials, [t], source_etype=et), out_dtype, i64(0))
    ctx = b.alloca(I64, size=i64(len(pk.values)), name="ctx")
    pk.store(b, ctx)

    # The outlined worker: void worker(ptr ctx).
    worker = ir.Function(module, ir.FunctionType(ir.VoidType(), [PTR]), module.get_unique_name(f"{E.fn.name}.omp"))
    worker.linkage = "internal"
    W = E.child(worker)
    wb = W.b
    wctx = worker.args[0]
    tid = wb.zext(wb.call(_declare(module, "omp_get_thread_num", I32, []), []), I64)
    nth = wb.zext(wb.call(_declare(module, "omp_get_num_threads", I32, []), []), I64)
    wdims = [pk.load(wb, wctx, k, I64) for k in k_dims]
    arrays = []
    for a, (kp, ks) in zip(inputs + [out], k_arrays):
        arrays.append(Array(pk.load(wb, wctx, kp, PTR), a.dtype, [pk.load(wb, wctx, k, I64) for k in ks],
                            inner_bcast=a.inner_bcast))
    w_in, w_out = arrays[:-1], arrays[-1]
    with wb.if_then(wb.icmp_signed("==", tid, i64(0))):
        wb.store(wb.trunc(nth, I32), pk.load(wb, wctx, k_team, PTR))
    mode_outer = wb.icmp_signed("!=", pk.load(wb, wctx, k_mode, I64), i64(0))
    with wb.if_else(mode_outer) as (o, inn):
        with o:
            total = i64(1)
            for d in wdims[:-1]:
                total = wb.mul(total, d)
            lo = wb.udiv(wb.mul(total, tid), nth)
            hi = wb.udiv(wb.mul(total, wb.add(tid, i64(1))), nth)
            nest(W, wdims, w_in, w_out, outer=(lo, hi), inner=None)
        with inn:
            n = wdims[-1]
            per = wb.udiv(wb.add(n, wb.sub(nth, i64(1))), nth)
            per = wb.mul(wb.udiv(wb.add(per, i64(lanes - 1)), i64(lanes)), i64(lanes))
            lo = _umin(wb, wb.mul(per, tid), n)
            hi = _umin(wb, wb.add(lo, per), n)
            tgt_out = w_out
            if partials is not None:
                pbase = pk.load(wb, wctx, k_partials, PTR)
                tgt_out = Array(wb.gep(pbase, [tid], source_etype=et), out_dtype, [i64(0)] * rank,
                                inner_bcast=True)
            nest(W, wdims, w_in, tgt_out, outer=None, inner=(lo, hi))
    sbase = pk.load(wb, wctx, k_status, PTR)
    wb.store(wb.load(W.status, typ=I32), wb.gep(sbase, [tid], source_etype=I32))
    wb.ret_void()

    gomp = _declare(module, "GOMP_parallel", ir.VoidType(), [PTR, PTR, I32, I32])
    b.call(gomp, [worker, ctx, nthr, ir.Constant(I32, 0)])
    # Join: the first error in thread order, partials combined in thread order.
    n_team = b.zext(b.load(team, typ=I32), I64)
    with for_range(b, 0, n_team, name="join") as t:
        st = b.load(b.gep(status, [t], source_etype=I32), typ=I32)
        cur = b.load(E.status, typ=I32)
        b.store(b.select(b.icmp_signed("==", cur, ir.Constant(I32, 0)), st, cur), E.status)
        if partials is not None:
            part = E.load(b.gep(partials, [t], source_etype=et), out_dtype, i64(0))
            acc = E.load(out.ptr, out_dtype, i64(0))
            E.store(combine(E, reduce, out_dtype, acc, part), out.ptr, out_dtype, i64(0))


def emit_parallel_for(E, n: ir.Value, work: ir.Value, live_ins: list, body: Callable) -> None:
    """``for i in range(n)`` split into one contiguous chunk per thread when ``work`` (elements
    touched in all) reaches :data:`MIN_PARALLEL_ELEMENTS`, else on the calling thread.

    Args:
        E: the op's emitter.
        n: trip count (i64); iterations must write disjoint outputs.
        work: elements touched by the whole loop (i64), for the threshold.
        live_ins: LLVM values (i64 or pointers) the body uses from the op function.
        body: ``body(E2, lo, hi, values)`` emits iterations [lo, hi) with emitter ``E2`` and
            ``values``, the live-ins as seen in the function being emitted.
    """
    b, module = E.b, E.b.module
    nthr = b.load(_num_threads_global(module), typ=I32)
    par = b.and_(b.and_(b.icmp_signed(">=", work, i64(MIN_PARALLEL_ELEMENTS)),
                        b.icmp_signed(">", b.zext(nthr, I64), i64(1))), b.icmp_signed(">", n, i64(1)))
    with b.if_else(par) as (then, otherwise):
        with then:
            pk = _Packer()
            k_n = pk.add(n)
            keys = [pk.add(v) for v in live_ins]
            status = b.alloca(I32, size=i64(MAX_THREADS), name="thread_status")
            k_status = pk.add(status)
            team = b.alloca(I32, name="team")
            k_team = pk.add(team)
            with for_range(b, 0, MAX_THREADS, name="init") as t:
                b.store(ir.Constant(I32, 0), b.gep(status, [t], source_etype=I32))
            ctx = b.alloca(I64, size=i64(len(pk.values)), name="ctx")
            pk.store(b, ctx)
            worker = ir.Function(module, ir.FunctionType(ir.VoidType(), [PTR]),
                                 module.get_unique_name(f"{E.fn.name}.omp"))
            worker.linkage = "internal"
            W = E.child(worker)
            wb, wctx = W.b, worker.args[0]
            tid = wb.zext(wb.call(_declare(module, "omp_get_thread_num", I32, []), []), I64)
            nth = wb.zext(wb.call(_declare(module, "omp_get_num_threads", I32, []), []), I64)
            with wb.if_then(wb.icmp_signed("==", tid, i64(0))):
                wb.store(wb.trunc(nth, I32), pk.load(wb, wctx, k_team, PTR))
            wn = pk.load(wb, wctx, k_n, I64)
            lo = wb.udiv(wb.mul(wn, tid), nth)
            hi = wb.udiv(wb.mul(wn, wb.add(tid, i64(1))), nth)
            body(W, lo, hi, [pk.load(wb, wctx, k, v.type) for k, v in zip(keys, live_ins)])
            sbase = pk.load(wb, wctx, k_status, PTR)
            wb.store(wb.load(W.status, typ=I32), wb.gep(sbase, [tid], source_etype=I32))
            wb.ret_void()
            b.call(_declare(module, "GOMP_parallel", ir.VoidType(), [PTR, PTR, I32, I32]),
                   [worker, ctx, nthr, ir.Constant(I32, 0)])
            with for_range(b, 0, b.zext(b.load(team, typ=I32), I64), name="join") as t:
                st = b.load(b.gep(status, [t], source_etype=I32), typ=I32)
                cur = b.load(E.status, typ=I32)
                b.store(b.select(b.icmp_signed("==", cur, ir.Constant(I32, 0)), st, cur), E.status)
        with otherwise:
            body(E, i64(0), n, list(live_ins))


def _umin(b: ir.IRBuilder, x: ir.Value, y: ir.Value) -> ir.Value:
    return b.select(b.icmp_unsigned("<", x, y), x, y)
