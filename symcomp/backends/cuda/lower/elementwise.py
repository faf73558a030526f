"""Elementwise ops and fused elementwise bodies: one grid-stride loop kernel each.

The kernel walks the (coalesced) loop shape in C order with a flat index;
each thread splits its index into per-axis indices and reads each operand
through its element strides (0 along broadcast axes), so one kernel handles
broadcasting and any layout.  When every operand and the result walk the loop
as one axis (the common contiguous case), the planner renders the rank-1
variant, which does no index arithmetic beyond one multiply-add per operand.
Host-known scalars (``x * 0.5``, ``x / n``) are passed by value.
"""

from __future__ import annotations

from typing import Callable

from symcomp.backends.cuda.lower import Lowering, lowering
from symcomp.backends.layout import contiguous_strides
from symcomp.backends.cuda.planner import Desc, Host, Ptr, aligned_strides, coalesce_loop, operand_strides
from symcomp.backends.cuda.render import (
    ErrorSink, KernelSpec, Param, Source, Var, const, load, render_scalar, scalar_param, store,
)
from symcomp.ir import types as T
from symcomp.ir.opdef import OPS, Elementwise, Positional

Body = Callable[[Source, list, ErrorSink], Var]


def op_body(op) -> Body:
    """The scalar code of one elementwise op."""
    return lambda S, args, err: render_scalar(S, op, args, err)


class LoopIndex:
    """The operand standing for the loop point's flat index (kind "x"): no memory; its "offset"
    over the loop's C-contiguous strides is the index (for positional ops, ``sc.flat_index``)."""


LOOP_INDEX = LoopIndex()


def positional(op) -> bool:
    """Whether ``op`` (or, for ``sc.fused``, an op of its body) needs the loop point's flat index."""
    ops = op.body.ops if op.name == "sc.fused" else [op]
    return any(Positional in o.traits for o in ops)


def with_index(body: Body) -> Body:
    """A body whose last argument is the loop's flat index, made available to positional ops."""

    def wrapped(S, args, err):
        S.index = args[-1]
        return body(S, args[:-1], err)

    return wrapped


def fused_body(op) -> Body:
    """The scalar code of an ``sc.fused`` body (its ops in order, up to ``sc.yield``)."""
    block = op.body

    def body(S, args, err):
        env = dict(zip(block.args, args))
        for o in block.ops:
            if o.name == "sc.yield":
                return env[o.operands[0]]
            if o.name == "sc.constant":
                dt = o.result.type.dtype
                env[o.result] = S.let(const(dt, o.attributes["value"].reshape(-1)[0]), dt)
            else:
                env[o.result] = render_scalar(S, o, [env[v] for v in o.operands], err)
        raise ValueError("sc.fused: body has no sc.yield")

    return body


def identity_body(S, args, err):
    return args[0]


def index_split(S: Source, flat: str, dims: list, names: list) -> None:
    """Emit ``names[a] = `` the index along axis ``a`` of flat C-order index ``flat`` over ``dims``.

    ``dims[a]`` are parameter names (``dims[0]`` is never needed).
    """
    r = len(names)
    if r == 1:
        S.line(f"{names[0]} = {flat}")
        return
    q = S.fresh("q")
    S.line(f"{q} = {flat}")
    for a in range(r - 1, 0, -1):
        S.line(f"{names[a]} = {q} % {dims[a]}")
        if a > 1:
            S.line(f"{q} = {q} // {dims[a]}")
        else:
            S.line(f"{names[0]} = {q} // {dims[a]}")


def offset(base: str, idx: list, strides: list) -> str:
    """``base + idx[0]*strides[0] + ...``."""
    return " + ".join([base] + [f"{i} * {s}" for i, s in zip(idx, strides)])


def array_params(name: str, dt: T.DType, rank: int) -> list:
    """Parameters of an array operand: pointer, element offset, one stride per loop axis."""
    return [Param(f"p{name}", "ptr", dt.name), Param(f"o{name}", "i64")] + \
        [Param(f"s{name}_{a}", "i64") for a in range(rank)]


def render_loop(family: str, rank: int, kinds: list, dtypes: list, out_dtype: T.DType, body: Body) -> KernelSpec:
    """Render an elementwise loop kernel.

    Args:
        family: kernel name prefix.
        rank: loop rank (>= 1).
        kinds: per operand, "a" (array in device memory), "s" (scalar passed by value) or "x"
            (the loop point's flat index: an offset and strides, no pointer).
        dtypes: per operand, its dtype.
        out_dtype: the result dtype.
        body: scalar code from operand variables to the result variable.
    """
    params = [Param("n", "i64")] + [Param(f"d{a}", "i64") for a in range(1, rank)]
    for k, (kind, dt) in enumerate(zip(kinds, dtypes)):
        if kind == "x":
            params += array_params(str(k), dt, rank)[1:]
        else:
            params += array_params(str(k), dt, rank) if kind == "a" else [Param(f"c{k}", "scalar", dt.name)]
    params += array_params("z", out_dtype, rank)
    S = Source(family, params)
    idx = [f"i{a}" for a in range(rank)]
    dims = [f"d{a}" for a in range(rank)]
    S.line("i = cuda.grid(1)")
    S.line("step = cuda.gridsize(1)")
    err = ErrorSink(S)
    with S.block("while i < n"):
        index_split(S, "i", dims, idx)
        args = []
        for k, (kind, dt) in enumerate(zip(kinds, dtypes)):
            if kind == "a":
                at = offset(f"o{k}", idx, [f"s{k}_{a}" for a in range(rank)])
                args.append(S.let(load(f"p{k}", at, dt), dt, "a"))
            elif kind == "x":
                args.append(S.let(f"int64({offset(f'o{k}', idx, [f's{k}_{a}' for a in range(rank)])})", dt, "a"))
            else:
                args.append(Var(scalar_param(f"c{k}", dt), dt))
        res = body(S, args, err)
        S.line(store("pz", offset("oz", idx, [f"sz_{a}" for a in range(rank)]), res.name, out_dtype))
        S.line("i += step")
    S.params += err.params()
    return S.finish()


def launch_loop(P, family: str, body: Body, operands: list, strides: list, out: Desc, out_strides,
                shape, out_dtype: T.DType) -> None:
    """Plan one elementwise loop over ``shape``.

    Args:
        operands: Desc or Host per operand (host values that are not one broadcast
            element are uploaded).
        strides: per operand, element strides over ``shape`` (ignored for uniform hosts).
        out: the result tensor and ``out_strides`` its strides over ``shape``.
    """
    n = 1
    for d in shape:
        n *= d
    if n == 0:
        return
    kinds, dtypes, arrays, array_strides, scalars = [], [], [], [], []
    for d, st in zip(operands, strides):
        if d is LOOP_INDEX:
            kinds.append("x")
            arrays.append(d)
            array_strides.append(list(contiguous_strides(shape)))
            dtypes.append(T.int64)
            continue
        if isinstance(d, Host) and d.uniform():
            kinds.append("s")
            scalars.append(d.scalar())
        else:
            if isinstance(d, Host):
                d = P.materialize(d)
                st = aligned_strides(d, shape)
            kinds.append("a")
            arrays.append(d)
            array_strides.append(list(st))
        dtypes.append(operands_dtype(d))
    dims, co = coalesce_loop(shape, array_strides + [list(out_strides)])
    rank = len(dims)
    spec = render_loop(family, rank, kinds, dtypes, out_dtype, body)
    args = [n] + dims[1:]
    ai = si = 0
    for kind in kinds:
        if kind == "x":
            args += [0] + co[ai]
            ai += 1
        elif kind == "a":
            d = arrays[ai]
            args += [Ptr(d.root), d.off] + co[ai]
            ai += 1
        else:
            args.append(scalars[si])
            si += 1
    args += [Ptr(out.root), out.off] + co[-1]
    args += P.error_args(spec)
    P.launch(spec, P.grid_1d(n), P.tuning.block, args)


def operands_dtype(d) -> T.DType:
    return T.dtype(d.value.dtype) if isinstance(d, Host) else d.dtype


def copy_into(P, src, src_strides, dst: Desc, dst_strides, shape) -> None:
    """Copy (or fill, for a uniform host value) ``src`` into ``dst`` over ``shape``."""
    launch_loop(P, "copy", identity_body, [src], [src_strides], dst, dst_strides, shape, dst.dtype)


class _Loop(Lowering):
    """One loop kernel over the broadcast operand shape."""

    family = "ew"

    def body(self, op) -> Body:
        return op_body(op)

    def family_of(self, op) -> str:
        return "ew_" + op.name.split(".")[-1]

    def kernels(self, op):
        rank = max(1, op.results[0].type.ndim)
        dts = [v.type.dtype for v in op.operands]
        kinds = ["a"] * len(dts)
        body = self.body(op)
        if positional(op):
            kinds, dts, body = kinds + ["x"], dts + [T.int64], with_index(body)
        return [render_loop(self.family_of(op), rank, kinds, dts, op.results[0].type.dtype, body)]

    def plan(self, op, P, shapes):
        out = P.alloc(op.results[0], shapes[0])
        rank = len(shapes[0])
        operands = [P.get(v) for v in op.operands]
        strides = [operand_strides(v, d, rank) for v, d in zip(op.operands, operands)]
        body = self.body(op)
        if positional(op):
            operands, strides, body = operands + [LOOP_INDEX], strides + [None], with_index(body)
        launch_loop(P, self.family_of(op), body, operands, strides, out, out.strides, shapes[0],
                    op.results[0].type.dtype)


@lowering(*[name for name, cls in OPS.items() if Elementwise in cls.traits])
class ElementwiseLowering(_Loop):
    """Any elementwise op: its scalar template inside a loop kernel."""


class FusedLoop(_Loop):
    """``sc.fused`` without a reduction: its whole body in one loop kernel."""

    def body(self, op):
        return fused_body(op)

    def family_of(self, op):
        return "fused"
