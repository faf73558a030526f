"""Reductions (sum, prod, max, min, argmax, argmin) and fused elementwise-then-reduce kernels.

The planner moves the kept axes first and the reduced axes last, coalesces
each group, and sees the reduction as ``nout`` outputs of ``nred`` elements
each.  Two parallel schemes (the classic ones, e.g. M. Harris, *Optimizing
Parallel Reduction in CUDA*, NVIDIA 2007):

* block: a thread block per output; its threads stride along the reduced
  elements (coalesced when they are contiguous), then combine their partial
  results by a tree reduction in shared memory;
* thread: a thread per output, looping over the reduced elements (coalesced
  when the *kept* axes are the contiguous ones, e.g. a column sum).

When there are too few outputs to fill the device, the reduced range is split
into chunks (grid axis y): a first stage writes ``nout x chunks`` partial
results, a second stage reduces them.  argmax/argmin carry (value, index)
pairs through both stages: the first maximum (minimum) wins, and the first
NaN, as in NumPy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symcomp.backends.cuda.lower import Lowering, lowering
from symcomp.backends.layout import contiguous_strides
from symcomp.backends.cuda.lower.elementwise import (
    LOOP_INDEX, Body, FusedLoop, copy_into, fused_body, identity_body, index_split, offset, positional,
    with_index,
)
from symcomp.backends.cuda.planner import Desc, Host, Ptr, aligned_strides, coalesce_loop, operand_strides
from symcomp.backends.cuda.render import (
    ErrorSink, Param, Source, Var, arg_better, combine, const, identity, load, scalar_param, store,
)
from symcomp.ir import types as T

SHARED_SLOTS = 256
"""Shared-memory slots of a block reduction: the largest block size the planner uses."""

_KINDS = {"sc.sum": "add", "sc.prod": "mul", "sc.max": "max", "sc.min": "min",
          "sc.argmax": "argmax", "sc.argmin": "argmin"}
_BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Form:
    """The static form of one reduction kernel."""

    scheme: str  # "block" or "thread"
    kind: str  # add, mul, max, min, argmax, argmin
    keep_rank: int
    red_rank: int
    kinds: tuple  # per operand: "a" array or "s" scalar
    dtypes: tuple  # per operand
    value_dtype: T.DType  # dtype of the reduced values (the body's result)
    out_dtype: T.DType  # dtype written (int64 for arg reductions)
    indexed_input: bool = False  # arg stage 2: operand 1 holds the candidates' indices
    write_value: bool = False  # arg stage 1 with chunks: also write the partial values


def render_reduce(family: str, f: Form, body: Body):
    """Render a reduction kernel of form ``f`` (see :class:`Form`)."""
    arg = f.kind in ("argmax", "argmin")
    K, R = f.keep_rank, f.red_rank
    params = [Param("nout", "i64"), Param("nred", "i64"), Param("chunk", "i64")]
    params += [Param(f"dk{a}", "i64") for a in range(1, K)] + [Param(f"dr{a}", "i64") for a in range(1, R)]
    for k, (kind, dt) in enumerate(zip(f.kinds, f.dtypes)):
        if kind in "ax":  # "x": the loop point's flat index (an offset and strides, no pointer)
            params += [Param(f"p{k}", "ptr", dt.name)] if kind == "a" else []
            params += [Param(f"o{k}", "i64")]
            params += [Param(f"sk{k}_{a}", "i64") for a in range(K)] + [Param(f"sr{k}_{a}", "i64") for a in range(R)]
        else:
            params.append(Param(f"c{k}", "scalar", dt.name))
    outs = [("z", f.out_dtype)]
    if f.write_value:
        outs = [("z", T.int64), ("v", f.value_dtype)]
    for name, dt in outs:
        params += [Param(f"p{name}", "ptr", dt.name), Param(f"o{name}", "i64")]
    params += [Param(f"szk_{a}", "i64") for a in range(K)] + [Param("szc", "i64")]
    S = Source(f"{family}_{f.scheme}", params)
    vdt = f.value_dtype
    err = ErrorSink(S)
    keep = [f"k{a}" for a in range(K)]
    red = [f"r{a}" for a in range(R)]
    block = f.scheme == "block"
    if block:
        S.line(f"sv = cuda.shared.array({SHARED_SLOTS}, {_storage(vdt)})")
        if arg:
            S.line(f"si = cuda.shared.array({SHARED_SLOTS}, int64)")
        S.line("t = cuda.threadIdx.x")
        S.line("nt = cuda.blockDim.x")
        S.line("o = cuda.blockIdx.x")
        S.line("ostep = cuda.gridDim.x")
    else:
        S.line("o = cuda.grid(1)")
        S.line("ostep = cuda.gridDim.x * cuda.blockDim.x")
    S.line("lo = cuda.blockIdx.y * chunk")
    S.line("hi = min(lo + chunk, nred)")
    with S.block("while o < nout"):
        index_split(S, "o", [f"dk{a}" for a in range(K)], keep)
        for k, kind in enumerate(f.kinds):
            if kind in "ax":
                S.line(f"b{k} = {offset(f'o{k}', keep, [f'sk{k}_{a}' for a in range(K)])}")
        S.line(f"acc = {const(vdt, identity(_plain(f.kind), vdt))}")
        if arg:
            S.line(f"acci = int64({_BIG})")
        S.line("j = lo + t" if block else "j = lo")
        with S.block("while j < hi"):
            index_split(S, "j", [f"dr{a}" for a in range(R)], red)
            args = []
            for k, (kind, dt) in enumerate(zip(f.kinds, f.dtypes)):
                if kind == "a":
                    at = offset(f"b{k}", red, [f"sr{k}_{a}" for a in range(R)])
                    args.append(S.let(load(f"p{k}", at, dt), dt, "a"))
                elif kind == "x":
                    args.append(S.let(f"int64({offset(f'b{k}', red, [f'sr{k}_{a}' for a in range(R)])})", dt, "a"))
                else:
                    args.append(Var(scalar_param(f"c{k}", dt), dt))
            if arg:
                v = args[0] if f.indexed_input else body(S, args, err)
                idx = args[1].name if f.indexed_input else "j"
                with S.block(f"if {arg_better(f.kind, v.name, idx, 'acc', 'acci', vdt)}"):
                    S.line(f"acc = {v.name}")
                    S.line(f"acci = {idx}")
            else:
                v = body(S, args, err)
                S.line(f"acc = {combine(f.kind, 'acc', v.name, vdt)}")
            S.line("j += nt" if block else "j += 1")
        at = " + ".join([f"{i} * szk_{a}" for a, i in enumerate(keep)] + ["cuda.blockIdx.y * szc"])
        if block:
            _tree(S, f, vdt, arg)
            with S.block("if t == 0"):
                _write(S, f, arg, at, load("sv", "0", vdt), "si[0]")
            S.line("cuda.syncthreads()")
        else:
            _write(S, f, arg, at, "acc", "acci")
        S.line("o += ostep")
    S.params += err.params()
    return S.finish()


def _write(S, f: Form, arg: bool, at: str, value: str, index: str) -> None:
    """Store the result of one output (arg reductions: its index, and in stage 1 its value)."""
    if arg:
        S.line(store("pz", f"oz + {at}", index, T.int64))
        if f.write_value:
            S.line(store("pv", f"ov + {at}", value, f.value_dtype))
    else:
        S.line(store("pz", f"oz + {at}", value, f.out_dtype))


def _tree(S, f: Form, vdt: T.DType, arg: bool) -> None:
    """Tree reduction of the block's partial results in shared memory (block size a power of two)."""
    S.line(store("sv", "t", "acc", vdt))
    if arg:
        S.line("si[t] = acci")
    S.line("cuda.syncthreads()")
    S.line("h = nt // 2")
    with S.block("while h > 0"):
        with S.block("if t < h"):
            S.line(f"x = {load('sv', 't', vdt)}")
            S.line(f"y = {load('sv', 't + h', vdt)}")
            if arg:
                with S.block(f"if {arg_better(f.kind, 'y', 'si[t + h]', 'x', 'si[t]', vdt)}"):
                    S.line(store("sv", "t", "y", vdt))
                    S.line("si[t] = si[t + h]")
            else:
                S.line(store("sv", "t", combine(f.kind, "x", "y", vdt), vdt))
        S.line("cuda.syncthreads()")
        S.line("h = h // 2")


def _storage(dt: T.DType) -> str:
    return "uint8" if dt.is_bool else dt.name


def _plain(kind: str) -> str:
    return {"argmax": "max", "argmin": "min"}.get(kind, kind)


# -- planning -----------------------------------------------------------------------------------
def plan_reduction(P, family: str, body: Body, kind: str, operands: list, strides: list, loop_shape,
                   axes, value_dtype: T.DType, out: Desc) -> None:
    """Plan the launches reducing ``body(operands)`` over ``axes`` of ``loop_shape`` into ``out``.

    Args:
        operands: Desc or Host per operand; ``strides`` their element strides over ``loop_shape``.
        out: a C-contiguous result of the kept axes.
    """
    keep_axes = [a for a in range(len(loop_shape)) if a not in axes]
    red_axes = [a for a in range(len(loop_shape)) if a in axes]
    arrays, kinds, dtypes, scalars = [], [], [], []
    for d, st in zip(operands, strides):
        if d is LOOP_INDEX:
            kinds.append("x")
            dtypes.append(T.int64)
            arrays.append((d, list(contiguous_strides(loop_shape))))
            continue
        if isinstance(d, Host) and d.uniform():
            kinds.append("s")
            scalars.append(d.scalar())
            dtypes.append(T.dtype(d.value.dtype))
            continue
        if isinstance(d, Host):
            d = P.materialize(d)
            st = aligned_strides(d, loop_shape)
        kinds.append("a")
        dtypes.append(d.dtype)
        arrays.append((d, list(st)))
    kdims, kst = coalesce_loop([loop_shape[a] for a in keep_axes],
                               [[s[a] for a in keep_axes] for _, s in arrays] + [list(out.strides)])
    rdims, rst = coalesce_loop([loop_shape[a] for a in red_axes], [[s[a] for a in red_axes] for _, s in arrays])
    nout, nred = math.prod(kdims), math.prod(rdims)
    if nout == 0:
        return
    arg = kind in ("argmax", "argmin")
    if nred == 0:  # sum/prod over an empty axis (max/min/arg raise in the type rule)
        copy_into(P, Host(np.asarray(identity(kind, out.dtype), out.dtype.np)), [], out, out.strides, out.shape)
        return
    t = P.tuning
    inner = [abs(s[-1]) for s in rst if s[-1] != 0]
    scheme = "block" if inner and inner[0] == 1 and nred > 1 else "thread"
    if scheme == "block":
        chunks = min(-(-t.target_blocks // nout), -(-nred // max(t.min_chunk, t.reduce_block)))
    else:
        chunks = min(-(-t.target_threads // nout), -(-nred // t.min_chunk))
    chunks = max(1, min(chunks, 65535))
    chunk = -(-nred // chunks)
    chunks = -(-nred // chunk)
    form = Form(scheme, kind, len(kdims), len(rdims), tuple(kinds), tuple(dtypes), value_dtype,
                  T.int64 if arg else value_dtype, write_value=arg and chunks > 1)
    spec = render_reduce(family, form, body)
    args = [nout, nred, chunk] + kdims[1:] + rdims[1:]
    ai = si = 0
    for k in kinds:
        if k == "x":
            args += [0] + kst[ai] + rst[ai]
            ai += 1
        elif k == "a":
            d = arrays[ai][0]
            args += [Ptr(d.root), d.off] + kst[ai] + rst[ai]
            ai += 1
        else:
            args.append(scalars[si])
            si += 1
    if chunks == 1:
        args += [Ptr(out.root), out.off] + kst[-1] + [0]
        args += P.error_args(spec)
        P.launch(spec, _grid(P, scheme, nout, 1), _block(P, scheme), args)
        return
    # Stage 1 into partial results laid out (nout, chunks), then stage 2 over the chunks.
    part_z = P.scratch(T.int64 if arg else value_dtype, nout * chunks)
    part_strides = [s * chunks for s in _contiguous(kdims)]
    args += [Ptr(part_z), 0]
    part_v = None
    if arg:
        part_v = P.scratch(value_dtype, nout * chunks)
        args += [Ptr(part_v), 0]
    args += part_strides + [1]
    args += P.error_args(spec)
    P.launch(spec, _grid(P, scheme, nout, chunks), _block(P, scheme), args)
    pz = Desc(part_z, 0, (nout, chunks), (chunks, 1), T.int64 if arg else value_dtype)
    if arg:
        pv = Desc(part_v, 0, (nout, chunks), (chunks, 1), value_dtype)
        _stage2_arg(P, family, kind, pv, pz, out, nout, chunks, value_dtype)
    else:
        plan_reduction(P, family, identity_body, kind, [pz], [[chunks, 1]], (nout, chunks), (1,),
                       value_dtype, Desc(out.root, out.off, (nout,), (1,), out.dtype))


def _stage2_arg(P, family, kind, pv: Desc, pi: Desc, out: Desc, nout: int, chunks: int, vdt: T.DType) -> None:
    form = Form("block", kind, 1, 1, ("a", "a"), (vdt, T.int64), vdt, T.int64, indexed_input=True)
    spec = render_reduce(family, form, identity_body)
    args = [nout, chunks, chunks]
    for d in (pv, pi):
        args += [Ptr(d.root), 0, chunks, 1]
    args += [Ptr(out.root), out.off, 1, 0]
    P.launch(spec, _grid(P, "block", nout, 1), _block(P, "block"), args)


def _contiguous(dims) -> list:
    out, acc = [], 1
    for d in reversed(dims):
        out.append(acc)
        acc *= d
    return list(reversed(out))


def _grid(P, scheme: str, nout: int, chunks: int) -> tuple:
    if scheme == "block":
        return (max(1, min(nout, P.tuning.max_row_blocks)), chunks)
    return (P.grid_1d(nout), chunks)


def _block(P, scheme: str) -> int:
    return P.tuning.reduce_block if scheme == "block" else P.tuning.block


def general_kernels(family, kind, dtypes, value_dtype, keep_rank, red_rank, body, index=False) -> list:
    """Both schemes of the general case, for PTX listings (``index``: the last operand is the
    loop point's flat index)."""
    arg = kind in ("argmax", "argmin")
    out = T.int64 if arg else value_dtype
    kinds = ("a",) * (len(dtypes) - index) + ("x",) * index
    return [render_reduce(family, Form(s, kind, max(1, keep_rank), max(1, red_rank), kinds,
                                        tuple(dtypes), value_dtype, out), body)
            for s in ("block", "thread")]


# -- lowerings ----------------------------------------------------------------------------------
@lowering(*_KINDS)
class ReduceLowering(Lowering):
    """sum/prod/max/min/argmax/argmin over ``axes``."""

    def kernels(self, op):
        x = op.operands[0]
        n = x.type.ndim
        return general_kernels("reduce_" + _KINDS[op.name], _KINDS[op.name], [x.type.dtype], x.type.dtype,
                               n - len(op.axes), len(op.axes), identity_body)

    def plan(self, op, P, shapes):
        x = op.operands[0]
        out = P.alloc(op.result, shapes[0])
        d = P.get(x)
        loop = P.shape(x)
        plan_reduction(P, "reduce_" + _KINDS[op.name], identity_body, _KINDS[op.name], [d],
                       [operand_strides(x, d, len(loop))], loop, set(op.axes), x.type.dtype, out)


@lowering("sc.fused")
class FusedLowering(Lowering):
    """``sc.fused``: a loop kernel, or a reduction kernel computing the body on the fly."""

    loop = FusedLoop()

    def kernels(self, op):
        if not op.reduce:
            return self.loop.kernels(op)
        n = op.results[0].type.ndim + len(op.axes)
        dtypes, body = [v.type.dtype for v in op.operands], fused_body(op)
        if positional(op):
            dtypes, body = dtypes + [T.int64], with_index(body)
        return general_kernels("fused_" + op.reduce, op.reduce, dtypes, op.results[0].type.dtype,
                               n - len(op.axes), len(op.axes), body, index=positional(op))

    def plan(self, op, P, shapes):
        if not op.reduce:
            return self.loop.plan(op, P, shapes)
        out = P.alloc(op.result, shapes[0])
        operands = [P.get(v) for v in op.operands]
        full = [P.shape(v) for v in op.operands]
        loop = tuple(max(ds) if 0 not in ds else 0 for ds in zip(*full)) if full else ()
        strides = [operand_strides(v, d, len(loop)) for v, d in zip(op.operands, operands)]
        body = fused_body(op)
        if positional(op):
            operands, strides, body = operands + [LOOP_INDEX], strides + [None], with_index(body)
        plan_reduction(P, "fused_" + op.reduce, body, op.reduce, operands, strides, loop,
                       set(op.axes), op.results[0].type.dtype, out)
