"""Lowering ``sc.scan`` and ``sc.if`` to native loops and branches (no Python between steps).

The ops of a region are ordinary ops: each has its own function and block of ``ints`` slots,
planned once per call signature (a loop's steps all have the same shapes).  What changes from
step to step, or branch to branch, is *where* some values live: a loop's sequence slices and
state taps, and the values a region yields, which are computed straight into the parent's
results (no copy per step).  Each such value has an *indirect root* in ``ptrs``
(:class:`symcomp.backends.prepare.Compiled`): the parent's function stores the value's address
there before it calls the region's ops, which read their operands through ``ptrs`` as usual.

A loop state with its whole history (``state_keep = 0``) lives in its result, rows ``m + t``;
the initial rows are copied in before the first step.  A state keeping only its final value
(``state_keep = 1``) alternates between the result and one workspace buffer of one row, the
pair chosen from the step count's parity so that the last step writes the result (with no
steps, the initial value copied in before the loop is the result).
"""

from __future__ import annotations

from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.layout import contiguous_strides
from symcomp.ir.ops.control import If, Scan


def _bytes(shape, dtype) -> int:
    n = dtype.itemsize
    for d in shape:
        n *= d
    return n


@lowering("sc.scan")
class ScanLowering(Lowering):
    def plan(self, op: Scan, P, shapes) -> None:
        from symcomp.backends.cpu.runtime.planner import check_size, plan_op
        from symcomp.ir import types as T

        c = P.c
        me = P.op_index
        n = int(P.values[op.operands[0]])
        op.check_shapes([P.shape[v] for v in op.operands], n)
        seqs, states, nonseqs = op.arg_groups()
        for src, args in zip(op.seqs, seqs):
            for a in args:
                P.shape[a], P.strides[a] = P.shape[src][1:], P.strides[src][1:]
                P.root[a], P.off[a] = c.indirect[a], 0
        rows = []
        for init, args in zip(op.inits, states):
            row = P.shape[init][1:]
            rows.append(row)
            for a in args:
                P.shape[a], P.strides[a] = row, contiguous_strides(row)
                P.root[a], P.off[a] = c.indirect[a], 0
        for a, src in zip(nonseqs, op.nonseqs):
            P.view(a, src, P.shape[src], P.strides[src])
            if src in P.values:
                P.values[a] = P.values[src]
        for o in op.body.ops:
            if o.name != "sc.yield":
                plan_op(P, c.index[o], o)
        P.op_index = me
        ys = list(op.body.last.operands)
        nst = op.n_states
        for j, (y, row) in enumerate(zip(ys, rows)):
            if P.shape[y] != row:
                raise ValueError(f"scan: state {j}: a step gives a value of shape {P.shape[y]}, but the state "
                                 f"(its initial value) has shape {row}; a loop state keeps one shape")
        for j, (r, row, keep) in enumerate(zip(op.results, rows, op.state_keep)):
            shape = row if keep else (op.depth(j) + n,) + row
            check_size(T.TensorType(r.type.dtype, shape))
            P.alloc(r, shape)
            if keep:
                P.set_param(f"scr{j}", P.scratch(_bytes(row, r.type.dtype)))
        for k in range(op.n_nitsot):
            r, y = op.results[nst + k], ys[nst + k]
            shape = (n,) + tuple(P.shape[y])
            check_size(T.TensorType(r.type.dtype, shape))
            P.alloc(r, shape)
        if op.until:
            P.alloc(op.results[-1], ())
            P.set_param("cr", P.root[ys[-1]])
            P.set_param("co", P.off[ys[-1]])
        P.set_param("n", n)

    def emit(self, op: Scan, E) -> None:
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I32, I64, PTR, i64, op_status
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy, interrupt_pending
        from symcomp.backends.cpu.codegen.scalar import ERR_INTERRUPT, llvm_type

        b = E.b
        c = E.mod.compiled
        my_base = len(E.mod.slots.keys)  # this op's block of slots comes after its regions' ops
        n = E.param("n")
        nst = op.n_states
        seqs, states, _ = op.arg_groups()
        ys = list(op.body.last.operands)

        def set_root(root: int, ptr) -> None:
            b.store(ptr, b.gep(E.ptrs, [i64(root)], source_etype=PTR))

        def row_bytes(desc):
            return b.mul(desc.strides[0], i64(desc.dtype.itemsize))

        # Pointers that move by a fixed number of bytes per step: (root, base, first row, bytes per row).
        stepped = []
        for src, args, taps in zip(op.seqs, seqs, op.taps_of("seq")):
            d = E.desc(src)
            for a, tap in zip(args, taps):
                stepped.append((c.indirect[a], d.ptr, tap - taps[0], row_bytes(d)))
        pingpong = []  # (tap root, yield root, init pointer, result pointer, scratch pointer, row dims)
        ws = None
        for j, (args, taps, keep) in enumerate(zip(states, op.taps_of("state"), op.state_keep)):
            r = op.results[j]
            d = E.desc(r)
            m = op.depth(j)
            if keep:
                if ws is None:
                    ws = b.load(b.gep(E.ptrs, [E.load_slot(("wsroot", 0))], source_etype=PTR), typ=PTR)
                scr = b.gep(ws, [E.param(f"scr{j}")], source_etype=ir.IntType(8))
                pingpong.append((c.indirect[args[0]], c.indirect[ys[j]], E.desc(op.inits[j]), d, scr))
                continue
            init = E.desc(op.inits[j])
            emit_copy(E, [i64(m)] + d.dims[1:], Array(init.ptr, init.dtype, init.strides),
                      Array(d.ptr, d.dtype, d.strides))
            rb = row_bytes(d)
            for a, tap in zip(args, taps):
                stepped.append((c.indirect[a], d.ptr, m + tap, rb))
            stepped.append((c.indirect[ys[j]], d.ptr, m, rb))
        for k in range(op.n_nitsot):
            d = E.desc(op.results[nst + k])
            stepped.append((c.indirect[ys[nst + k]], d.ptr, 0, row_bytes(d)))
        # The ping-pong pair: the buffer written at even steps is the result when n - 1 is even; the
        # initial value is copied (contiguous) into the other one, which step 0 reads as step -1's.
        n_odd = b.trunc(b.and_(b.sub(n, i64(1)), i64(1)), ir.IntType(1))
        pairs = []
        for tap_root, y_root, init, res, scr in pingpong:
            even = b.select(n_odd, scr, res.ptr)
            odd = b.select(n_odd, res.ptr, scr)
            emit_copy(E, res.dims, Array(init.ptr, init.dtype, init.strides[1:]),
                      Array(odd, res.dtype, res.strides))
            pairs.append((tap_root, y_root, even, odd))

        body = [o for o in op.body.ops if o.name != "sc.yield" and c.index[o] in E.mod.op_funcs]
        cond_ptr = None
        if op.until:
            croot = E.param("cr")
            cbase = b.load(b.gep(E.ptrs, [croot], source_etype=PTR), typ=PTR)
            cond_ptr = b.gep(cbase, [E.param("co")], source_etype=ir.IntType(8))
        count = E.entry_alloca(I64, name="count")
        b.store(n, count)

        pre = b.block
        head = b.append_basic_block("step.head")
        step = b.append_basic_block("step.body")
        done = b.append_basic_block("step.done")
        b.branch(head)
        b.position_at_end(head)
        t = b.phi(I64, name="t")
        t.add_incoming(i64(0), pre)
        b.cbranch(b.icmp_signed("<", t, n), step, done)
        b.position_at_end(step)
        with b.if_then(interrupt_pending(b), likely=False):
            b.ret(ir.Constant(I32, ERR_INTERRUPT))
        for root, base, first, rb in stepped:
            set_root(root, b.gep(base, [b.mul(b.add(t, i64(first)), rb)], source_etype=ir.IntType(8)))
        if pairs:
            t_odd = b.trunc(b.and_(t, i64(1)), ir.IntType(1))
            for tap_root, y_root, even, odd in pairs:
                set_root(y_root, b.select(t_odd, odd, even))
                set_root(tap_root, b.select(t_odd, even, odd))
        for o in body:
            fn, base = E.mod.op_funcs[c.index[o]]
            st = b.call(fn, [E.ptrs, b.gep(E.ints, [i64(base - my_base)], source_etype=I64)])
            with b.if_then(b.icmp_signed("!=", st, ir.Constant(I32, 0)), likely=False):
                b.ret(op_status(b, st, c.index[o]))
        nxt = b.add(t, i64(1))
        if cond_ptr is not None:
            cd = ys[-1].type.dtype
            v = b.load(cond_ptr, typ=llvm_type(cd, in_memory=True))
            stop = b.fcmp_unordered("!=", v, ir.Constant(v.type, 0.0)) if cd.is_float else \
                b.icmp_unsigned("!=", v, ir.Constant(v.type, 0))
            cont = b.append_basic_block("step.next")
            stopped = b.append_basic_block("step.stop")
            b.cbranch(stop, stopped, cont)
            b.position_at_end(stopped)
            b.store(nxt, count)
            b.branch(done)
            b.position_at_end(cont)
        t.add_incoming(nxt, b.block)
        b.branch(head)
        b.position_at_end(done)
        if op.until:
            d = E.desc(op.results[-1])
            ran = b.load(count, typ=I64)
            b.store(ran, d.ptr)
            # Stopped early: the last step may have written the other buffer of a final-value state.
            last_odd = b.trunc(b.and_(b.sub(ran, i64(1)), i64(1)), ir.IntType(1))
            for (_, _, even, odd), (_, _, _, res, _) in zip(pairs, pingpong):
                src = b.select(last_odd, odd, even)
                with b.if_then(b.icmp_unsigned("!=", b.ptrtoint(src, I64), b.ptrtoint(res.ptr, I64))):
                    emit_copy(E, res.dims, Array(src, res.dtype, res.strides), Array(res.ptr, res.dtype, res.strides))


@lowering("sc.if")
class IfLowering(Lowering):
    def plan(self, op: If, P, shapes) -> None:
        from symcomp.backends.cpu.runtime.planner import check_size, plan_op
        from symcomp.ir import types as T

        c = P.c
        me = P.op_index
        got = []
        for k, region in enumerate(op.regions):
            blk = region.block
            for a, src in zip(blk.args, op.operands[1:]):
                P.view(a, src, P.shape[src], P.strides[src])
                if src in P.values:
                    P.values[a] = P.values[src]
            try:
                for o in blk.ops:
                    if o.name != "sc.yield":
                        plan_op(P, c.index[o], o)
                got.append([tuple(P.shape[y]) for y in blk.last.operands])
            except (ValueError, IndexError) as exc:  # raised only if this branch runs (ifelse is lazy)
                P.deferred[(me, k)] = exc
                P.unplanned.update(v for o in blk.ops for inner in o.walk() for v in inner.results)
                P.unplanned_ops.update(c.index[inner] for o in blk.ops for inner in o.walk() if inner in c.index)
                got.append(None)
            P.op_index = me
            P.set_param(f"bad{k}", int(got[-1] is None))
        if got[0] is None and got[1] is None:
            got = [[(0,) * r.type.ndim for r in op.results]] * 2  # whichever runs raises
        got = [g if g is not None else got[1 - k] for k, g in enumerate(got)]
        for k, (a, b_) in enumerate(zip(*got)):
            if a != b_:
                raise NotImplementedError(
                    f"ifelse: output {k} has shape {a} in the then branch and {b_} in the else branch; the CPU "
                    "backend needs both branches to give the same shapes (use mode='reference' for branches of "
                    "different shapes)")
        for r, s in zip(op.results, got[0]):
            check_size(T.TensorType(r.type.dtype, s))
            P.alloc(r, s)

    def emit(self, op: If, E) -> None:
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I32, I64, PTR, i64, op_status
        from symcomp.backends.cpu.codegen.scalar import ERR_BRANCH

        b = E.b
        c = E.mod.compiled
        my_base = len(E.mod.slots.keys)
        cd = E.desc(op.operands[0])
        v = E.load(cd.ptr, cd.dtype, i64(0))
        if cd.dtype.is_float:
            taken = b.fcmp_unordered("!=", v, ir.Constant(v.type, 0.0))
        elif cd.dtype.is_bool:
            taken = v
        else:
            taken = b.icmp_unsigned("!=", v, ir.Constant(v.type, 0))
        results = [E.desc(r).ptr for r in op.results]
        with b.if_else(taken) as (then, otherwise):
            for k, (branch, region) in enumerate(zip((then, otherwise), op.regions)):
                with branch:
                    with b.if_then(b.icmp_signed("!=", E.param(f"bad{k}"), i64(0)), likely=False):
                        b.ret(ir.Constant(I32, ERR_BRANCH + k))
                    blk = region.block
                    for y, ptr in zip(blk.last.operands, results):
                        b.store(ptr, b.gep(E.ptrs, [i64(c.indirect[y])], source_etype=PTR))
                    for o in blk.ops:
                        if o.name == "sc.yield" or c.index[o] not in E.mod.op_funcs:
                            continue
                        fn, base = E.mod.op_funcs[c.index[o]]
                        st = b.call(fn, [E.ptrs, b.gep(E.ints, [i64(base - my_base)], source_etype=I64)])
                        with b.if_then(b.icmp_signed("!=", st, ir.Constant(I32, 0)), likely=False):
                            b.ret(op_status(b, st, c.index[o]))
