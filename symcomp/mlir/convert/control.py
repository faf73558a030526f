"""Loops and branches: ``sc.scan`` to ``scf.for``, ``sc.if`` to ``scf.if``.

The loop carries tensors (value semantics, upstream's ``iter_args``): each state's history, or
its last value for a state that keeps only its final value, and each per-step output, which the
body writes one row at a time with ``tensor.insert_slice``; the body reads its slices with
``tensor.extract_slice`` (rank-reducing).  A per-step output whose row has a dynamic size gets
its buffer from the sizes of step 0's row, computed once before the loop (an ``scf.if`` on
``n > 0``: with no step the dynamic sizes are 0, as the reference gives).  With ``until`` the loop
also carries a flag and the count of steps run, and the iterations after the one whose condition
held do nothing (an ``scf.if`` on the flag; ``scf.while``'s two regions do not bufferize in
place).  Bufferization (``one-shot-bufferize``) then updates the carried tensors in place.
"""

from __future__ import annotations

from symcomp.ir import types as T
from symcomp.ir.core import Operation, Value
from symcomp.mlir.convert import ExportContext, MLIRExportError, converts, lookup
from symcomp.mlir.writer import FuncWriter, Ix, elem_type, tensor_type


def _fmt(vs) -> str:
    return "[" + ", ".join(str(v) if isinstance(v, int) else v for v in vs) + "]"


def _row(w: FuncWriter, x: str, xt: T.TensorType, i: Ix, rt: T.TensorType) -> str:
    """Row ``i`` of ``x`` (rank-reduced), of type ``rt``."""
    if xt.ndim == 1:
        e = w.op(f"tensor.extract {x}[{w.ix(i)}] : {tensor_type(xt)}")
        return w.op(f"tensor.from_elements {e} : {tensor_type(rt)}")
    sizes = [1] + [w.dim(x, xt, a) for a in range(1, xt.ndim)]
    offs = [w.ix(i) if not isinstance(i, int) else i] + [0] * (xt.ndim - 1)
    got = T.TensorType(xt.dtype, xt.shape[1:])
    s = w.op(f"tensor.extract_slice {x}{_fmt(offs)} {_fmt(sizes)} {_fmt([1] * xt.ndim)} : "
             f"{tensor_type(xt)} to {tensor_type(got)}")
    return w.cast(s, got, rt)


def _put_row(w: FuncWriter, y: str, yt: T.TensorType, into: str, it: T.TensorType, i: Ix) -> str:
    """``into`` with row ``i`` replaced by ``y``."""
    if it.ndim == 1:
        e = w.op(f"tensor.extract {y}[] : {tensor_type(yt)}")
        return w.op(f"tensor.insert {e} into {into}[{w.ix(i)}] : {tensor_type(it)}")
    want = T.TensorType(it.dtype, it.shape[1:])
    y = w.cast(y, yt, want)
    sizes = [1] + [w.dim(into, it, a) for a in range(1, it.ndim)]
    offs = [w.ix(i) if not isinstance(i, int) else i] + [0] * (it.ndim - 1)
    return w.op(f"tensor.insert_slice {y} into {into}{_fmt(offs)} {_fmt(sizes)} {_fmt([1] * it.ndim)} : "
                f"{tensor_type(want)} into {tensor_type(it)}")


def _body(ctx: ExportContext, block, args: list[str]) -> list[str]:
    """Emit ``block``'s ops with its arguments bound to ``args``; returns the yielded SSA names.

    Raises:
        MLIRExportError: for an op with a data-dependent check (integer-array indexing) inside the
            region: the function's status is computed after the body, where region values are gone.
    """
    for a, name in zip(block.args, args):
        ctx.w.env[a] = name
    flags = len(ctx.flags)
    for o in block.ops:
        if o.name == "sc.yield":
            return [ctx.value(v) for v in o.operands]
        lookup(o)(ctx, o)
        if len(ctx.flags) != flags:
            raise MLIRExportError(f"{o.name} inside a loop or branch checks its indices at run time; such checks "
                                  "are not exported from regions yet (use the CPU backend)")
    raise ValueError("a region without sc.yield")


def _truth(ctx: ExportContext, v: Value, name: str) -> str:
    """An ``i1``: the rank-0 ``v`` is nonzero."""
    w = ctx.w
    s = w.extract_scalar(name, v.type)
    dt = v.type.dtype
    if dt.is_bool:
        return s
    if dt.is_float:
        return w.op(f"arith.cmpf une, {s}, {w.const(0, dt)} : {elem_type(dt)}")
    return w.op(f"arith.cmpi ne, {s}, {w.const(0, dt)} : {elem_type(dt)}")


@converts("sc.if")
def _if(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    cond = _truth(ctx, op.operands[0], ctx.value(op.operands[0]))
    inputs = [ctx.value(v) for v in op.operands[1:]]
    types = [r.type for r in op.results]

    def branch(region):
        def emit():
            ys = _body(ctx, region.block, inputs)
            return [w.cast(y, v.type, t) for y, v, t in zip(ys, region.block.last.operands, types)]
        return emit

    names = w.scf_if(cond, [tensor_type(t) for t in types], branch(op.regions[0]), branch(op.regions[1]))
    for r, name in zip(op.results, names):
        ctx.bind(r, name)


@converts("sc.scan")
def _scan(ctx: ExportContext, op: Operation) -> None:
    w = ctx.w
    n = ctx.index_operand(op.operands[0])
    nst, nn = op.n_states, op.n_nitsot
    seqs, states, nonseqs = op.arg_groups()
    ys = list(op.body.last.operands)
    res_types = [r.type for r in op.results]

    # The carried tensors: histories (initial rows in place), final values, per-step outputs.
    carried, carried_t = [], []
    for j, init in enumerate(op.inits):
        it, rt = init.type, res_types[j]
        m = op.depth(j)
        if op.state_keep[j]:
            carried.append(_row(w, ctx.value(init), it, 0, rt))
        else:
            sizes = [w.add(m, n)] + [ctx.dim(init, a) for a in range(1, it.ndim)]
            empty = w.empty(rt, sizes)
            carried.append(_insert_rows(w, ctx.value(init), it, empty, rt))
        carried_t.append(rt)
    row_dims = _nitsot_row_dims(ctx, op, n)
    for k in range(nn):
        rt = res_types[nst + k]
        carried.append(w.empty(rt, [n] + row_dims[k]))
        carried_t.append(rt)
    types = ", ".join(tensor_type(t) for t in carried_t)

    def step_body(t: str, cur: list[str]) -> tuple[list[str], list[str]]:
        """The body at step ``t`` on the carried values ``cur``: (new carried values, yielded names)."""
        args = []
        for src, group, taps in zip(op.seqs, seqs, op.taps_of("seq")):
            for a, tap in zip(group, taps):
                args.append(_row(w, ctx.value(src), src.type, w.add(t, tap - taps[0]), a.type))
        for j, (group, taps) in enumerate(zip(states, op.taps_of("state"))):
            for a, tap in zip(group, taps):
                if op.state_keep[j]:
                    args.append(w.cast(cur[j], carried_t[j], a.type))
                else:
                    args.append(_row(w, cur[j], carried_t[j], w.add(t, op.depth(j) + tap), a.type))
        args += [ctx.value(v) for v in op.nonseqs]
        out = _body(ctx, op.body, args)
        new = []
        for j in range(nst):
            if op.state_keep[j]:  # written into the carried tensor, which bufferizes in place
                new.append(_overwrite(w, out[j], ys[j].type, cur[j], carried_t[j]))
            else:
                new.append(_put_row(w, out[j], ys[j].type, cur[j], carried_t[j], w.add(t, op.depth(j))))
        for k in range(nn):
            new.append(_put_row(w, out[nst + k], ys[nst + k].type, cur[nst + k], carried_t[nst + k], t))
        return new, out

    names = [w.fresh() for _ in carried]
    t = w.fresh("t")
    cur = [w.fresh("c") for _ in carried]
    if not op.until:
        iters = ", ".join(f"{c} = {v}" for c, v in zip(cur, carried))
        lhs = (", ".join(names) + " = ") if names else ""
        w.line(f"{lhs}scf.for {t} = {w.ix(0)} to {w.ix(n)} step {w.ix(1)} iter_args({iters}) -> ({types}) {{")
        w.depth += 1
        new, _ = step_body(t, cur)
        w.line(f"scf.yield {', '.join(new)} : {types}" if new else "scf.yield")
        w.depth -= 1
        w.line("}")
        for r, name in zip(op.results, names):
            ctx.bind(r, name)
        return
    # until: an scf.for that also carries a flag and the count; once the condition held, the
    # remaining iterations do nothing (scf.while's before/after regions do not bufferize in place).
    go, cnt = w.fresh("go"), w.fresh("count")
    go_end, cnt_end = w.fresh("go_end"), w.fresh("count_end")
    true = w.const(True, T.dtype("bool"))
    iters = ", ".join(f"{a} = {b}" for a, b in zip([go, cnt] + cur, [true, w.ix(0)] + carried))
    all_t = f"i1, index{', ' if types else ''}{types}"
    w.line(f"{', '.join([go_end, cnt_end] + names)} = scf.for {t} = {w.ix(0)} to {w.ix(n)} step {w.ix(1)} "
           f"iter_args({iters}) -> ({all_t}) {{")
    w.depth += 1
    all_types = ["i1", "index"] + [tensor_type(x) for x in carried_t]

    def step():
        new, out = step_body(t, cur)
        stop = _truth(ctx, ys[-1], out[-1])
        still = w.op(f"arith.xori {stop}, {true} : i1")
        return [still, w.op(f"arith.addi {t}, {w.ix(1)} : index")] + new

    outs = w.scf_if(go, all_types, step, lambda: [go, cnt] + cur)
    w.line(f"scf.yield {', '.join(outs)} : {all_t}")
    w.depth -= 1
    w.line("}")
    for r, name in zip(op.results, names):
        ctx.bind(r, name)
    c64 = w.op(f"arith.index_cast {cnt_end} : index to i64")
    ctx.bind(op.results[-1], w.op(f"tensor.from_elements {c64} : tensor<i64>"))


def _overwrite(w: FuncWriter, y: str, yt: T.TensorType, into: str, it: T.TensorType) -> str:
    """``into`` with every element replaced by ``y``'s (the same shape)."""
    if it.ndim == 0:
        e = w.op(f"tensor.extract {y}[] : {tensor_type(yt)}")
        return w.op(f"tensor.insert {e} into {into}[] : {tensor_type(it)}")
    y = w.cast(y, yt, it)
    sizes = [w.dim(into, it, a) for a in range(it.ndim)]
    return w.op(f"tensor.insert_slice {y} into {into}{_fmt([0] * it.ndim)} {_fmt(sizes)} {_fmt([1] * it.ndim)} : "
                f"{tensor_type(it)} into {tensor_type(it)}")


def _insert_rows(w: FuncWriter, init: str, it: T.TensorType, into: str, rt: T.TensorType) -> str:
    """``into`` with its first rows replaced by all of ``init``."""
    sizes = [w.dim(init, it, a) for a in range(it.ndim)]
    want = T.TensorType(it.dtype, tuple(s if isinstance(s, int) else None for s in sizes))
    src = w.cast(init, it, want)
    return w.op(f"tensor.insert_slice {src} into {into}{_fmt([0] * it.ndim)} {_fmt(sizes)} {_fmt([1] * it.ndim)} : "
                f"{tensor_type(want)} into {tensor_type(rt)}")


def _nitsot_row_dims(ctx: ExportContext, op, n) -> list[list[Ix]]:
    """The row sizes of each per-step output: static ones as they are, dynamic ones from step 0's
    row, computed before the loop when there is a step (else 0)."""
    nst = op.n_states
    ys = list(op.body.last.operands)[nst:nst + op.n_nitsot]
    out = [[d for d in y.type.shape] for y in ys]
    dyn = [(k, a) for k, y in enumerate(ys) for a, d in enumerate(y.type.shape) if d is None]
    if not dyn:
        return out
    w = ctx.w
    some = w.op(f"arith.cmpi sgt, {w.ix(n)}, {w.ix(0)} : index")

    def first_step():
        args = []
        seqs, states, _ = op.arg_groups()
        for src, group, taps in zip(op.seqs, seqs, op.taps_of("seq")):
            for a, tap in zip(group, taps):
                args.append(_row(w, ctx.value(src), src.type, tap - taps[0], a.type))
        for j, (group, taps) in enumerate(zip(states, op.taps_of("state"))):
            init = op.inits[j]
            for a, tap in zip(group, taps):
                args.append(_row(w, ctx.value(init), init.type, op.depth(j) + tap, a.type))
        args += [ctx.value(v) for v in op.nonseqs]
        got = _body(ctx, op.body, args)
        return [w.ix(w.dim(got[nst + k], ys[k].type, a)) for k, a in dyn]

    names = w.scf_if(some, ["index"] * len(dyn), first_step, lambda: [w.ix(0)] * len(dyn), hint="d")
    for (k, a), name in zip(dyn, names):
        out[k][a] = name
    return out
