"""Elementwise ops, fused kernels and reductions: one coalesced loop nest each.

``sc.fused`` (made by the ``fuse`` pass) runs its scalar body at every point
of the broadcast operand shape, then reduces if it has a reduction: one loop
nest, no intermediate arrays.  Its result may be planned in place over an
operand's buffer (``sc.inplace``, honoured by the planner's ``alloc``): the
loop reads each element before it writes the same position, so that is safe.
"""

from __future__ import annotations

from symcomp.backends.cpu.lower import Lowering, lowering
from symcomp.backends.layout import coalesce, contiguous_strides
from symcomp.ir.opdef import OPS, Elementwise, Positional

_REGISTER_HEAVY = ("sc.philox", "sc.random_bits", "sc.random_poisson", "sc.random_binomial")
"""Ops whose code keeps many vectors live (Philox's four counter words, key and products): one copy
per main-loop iteration (:meth:`_LoopNest.unroll`).  Two ran no faster (1e7 uniform or normal
draws, one thread) and doubled the loop's code."""
_REDUCE_KIND = {"sc.sum": "add", "sc.prod": "mul", "sc.max": "max", "sc.min": "min"}


def _operand_loop_strides(P, v, loop_shape):
    """Strides of ``v`` over ``loop_shape`` (0 along its statically size-1 axes)."""
    st = P.strides[v]
    return [0 if d == 1 else s for d, s in zip(v.type.shape, st)]


def plan_loop(P, operands, out, loop_shape, out_strides, index: bool = False):
    """Coalesce the loop and record dims d<a> and strides s<k>_<a> (operands, then the output,
    then, with ``index``, the loop's C strides, which give each point's flat index)."""
    strides = [_operand_loop_strides(P, v, loop_shape) for v in operands] + [list(out_strides)]
    if index:
        strides.append(list(contiguous_strides(loop_shape)))
    dims, strides = coalesce(list(loop_shape), strides)
    P.set_params("d", dims)
    for k, st in enumerate(strides):
        P.set_params(f"s{k}_", st)


def loop_arrays(E, operands, out_desc, out_dtype, rank, out_inner_bcast=False, unused=(), index=False):
    """Arrays for emit_kernel from the planned strides: the operands (those at positions in
    ``unused`` are never loaded), then, with ``index``, the loop's flat index."""
    from llvmlite import ir

    from symcomp.backends.cpu.codegen.context import PTR
    from symcomp.backends.cpu.codegen.loops import Array
    from symcomp.ir import types as T

    arrays = []
    for k, v in enumerate(operands):
        d = E.desc(v)
        arrays.append(Array(d.ptr, v.type.dtype, [E.param(f"s{k}_{a}") for a in range(rank)],
                            inner_bcast=bool(rank) and v.type.shape[-1] == 1,
                            role="unused" if k in unused else "data"))
    out = Array(out_desc.ptr, out_dtype, [E.param(f"s{len(operands)}_{a}") for a in range(rank)],
                inner_bcast=out_inner_bcast)
    if index:
        arrays.append(Array(ir.Constant(PTR, None), T.int64, [E.param(f"s{len(operands) + 1}_{a}") for a in range(rank)],
                            role="index"))
    dims = [E.param(f"d{a}") for a in range(rank)]
    return dims, arrays, out


def _op_body(op):
    from symcomp.backends.cpu.codegen.scalar import EMITTERS

    emitter = EMITTERS[op.name]
    return lambda cx, vals: emitter(cx, op, vals)


def _fused_body(op):
    from symcomp.backends.cpu.codegen.scalar import EMITTERS

    block = op.body

    def body(cx, vals):
        env = dict(zip(block.args, vals))
        cx.memo = {}  # shared by this copy of the body only (its values dominate nothing else)
        for o in block.ops:
            if o.name == "sc.yield":
                return env[o.operands[0]]
            if o.name == "sc.constant":
                env[o.result] = cx.const(o.result.type.dtype, o.attributes["value"].item())
            else:
                env[o.result] = EMITTERS[o.name](cx, o, [env[v] for v in o.operands])
        raise AssertionError("fused body without sc.yield")

    return body


class _LoopNest(Lowering):
    """Shared plan/emit for ops that are one loop nest over the broadcast operand shape."""

    def reduce_info(self, op):
        """(reduction kind or None, reduced axes)."""
        return None, ()

    def positional(self, op) -> bool:
        """Whether the body needs the loop point's flat index (it has a positional op)."""
        return any(Positional in o.traits for o in self.body_ops(op))

    def unused(self, op) -> set:
        """Positions of the operands whose values the body never reads."""
        return set(range(len(op.operands))) if Positional in op.traits else set()

    def loop_shape(self, op, P, shapes):
        return shapes[0]

    def plan(self, op, P, shapes):
        kind, axes = self.reduce_info(op)
        P.alloc(op.result, shapes[0])
        operands = list(op.operands)
        index = self.positional(op)
        if kind is None:
            plan_loop(P, operands, op.result, shapes[0], P.strides[op.result], index)
            return
        full = [P.shape[v] for v in operands]
        loop = [max(ds) if 0 not in ds else 0 for ds in zip(*full)] if full else []
        out_st = iter(P.strides[op.result])
        out_strides = [0 if a in axes else next(out_st) for a in range(len(loop))]
        plan_loop(P, operands, op.result, loop, out_strides, index)
        P.set_param("n_out", _count(shapes[0]))

    def body(self, op):
        return _op_body(op)

    def lanes(self, op, E):
        """SIMD lanes for the loop (None: from the operand and result dtypes)."""
        return None

    def body_ops(self, op) -> list:
        """The ops the loop body computes (for a plain elementwise op, the op itself)."""
        return [op]

    def unroll(self, op, E) -> int:
        """Vectors per main-loop iteration: 1 where the body uses a math function whose inline code
        holds coefficient tables in registers (:func:`symcomp.backends.cpu.vecmath.libcalls.table_driven`),
        else 0 (the default, :data:`symcomp.backends.cpu.codegen.loops.UNROLL`)."""
        from llvmlite import ir

        from symcomp.backends.cpu.vecmath import libcalls
        from symcomp.backends.cpu.codegen.scalar import llvm_type
        from symcomp.ir.ops.elementwise import MATH_FUNCTIONS

        lanes = self.lanes(op, E) or E.lanes_for([v.type.dtype for v in op.operands] + [op.result.type.dtype])
        if any(o.name in _REGISTER_HEAVY for o in self.body_ops(op)):
            return 1
        for o in self.body_ops(op):
            name = MATH_FUNCTIONS.get(o.name)
            if name and o.result.type.dtype.is_float and libcalls.table_driven(
                    name, ir.VectorType(llvm_type(o.result.type.dtype), lanes)):
                return 1
        return 0

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.loops import emit_fill, emit_kernel, identity

        kind, axes = self.reduce_info(op)
        operands = list(op.operands)
        rank = operands[0].type.ndim if operands else 0
        out_dtype = op.result.type.dtype
        od = E.desc(op.result)
        inner_reduced = bool(kind) and rank > 0 and (rank - 1) in axes
        index = self.positional(op)
        dims, arrays, out = loop_arrays(E, operands, od, out_dtype, rank, inner_reduced, self.unused(op), index)
        if kind:
            emit_fill(E, od.ptr, out_dtype, E.param("n_out"), identity(kind, out_dtype))
        body = self.body(op)
        if index:
            inner = body

            def body(cx, vals):
                cx.index = vals[-1]
                return inner(cx, vals[:-1])

        emit_kernel(E, dims, arrays, out, body, out_dtype, reduce=kind, lanes=self.lanes(op, E),
                    parallel=True, unroll=self.unroll(op, E))


def _random_lanes(ops, vector_bits: int) -> int:
    """Lanes for a body drawing random bits (``sc.random_bits``): enough for a full vector of
    Philox blocks (a block per 64-bit lane, serving 4 or 2 consecutive elements, see
    :mod:`symcomp.backends.cpu.codegen.random`), unless the body calls a math function (which
    has no vector version that wide); else 0."""
    from symcomp.ir import rngalg
    from symcomp.ir.ops.elementwise import MATH_FUNCTIONS

    per = [rngalg.elements_per_block(o.width) for o in ops if o.name == "sc.random_bits"]
    if not per or any(o.name in MATH_FUNCTIONS for o in ops):
        return 0
    return max(2, vector_bits // 64) * max(per)


def _count(shape):
    n = 1
    for d in shape:
        n *= d
    return n


@lowering(*[name for name, cls in OPS.items() if Elementwise in cls.traits])
class ElementwiseLowering(_LoopNest):
    """Any elementwise op: its scalar emitter inside a loop nest."""


@lowering("sc.fused")
class FusedLowering(_LoopNest):
    """A fused body (and optional reduction) in one loop nest."""

    def reduce_info(self, op):
        return (op.reduce or None), tuple(op.axes)

    def body(self, op):
        return _fused_body(op)

    def body_ops(self, op) -> list:
        return list(op.body.ops)

    def unused(self, op) -> set:
        """Operands whose block argument only positional ops use (a shape, no value)."""
        out = set()
        for k, arg in enumerate(op.body.args):
            if all(Positional in u.traits for u, _ in arg.uses):
                out.add(k)
        return out

    def lanes(self, op, E):
        """Lanes for the widest dtype anywhere in the body (a float32 loop computing in float64
        must not use float32's lane count: the vector math calls would not exist at that width)."""
        dtypes = [v.type.dtype for v in op.operands] + [op.result.type.dtype]
        dtypes += [r.type.dtype for o in op.body.ops for r in o.results]
        return max(E.lanes_for(dtypes), _random_lanes(op.body.ops, E.mod.vector_bits))


@lowering(*_REDUCE_KIND)
class ReduceLowering(_LoopNest):
    """sum/prod/max/min: accumulate into the identity-filled output."""

    def reduce_info(self, op):
        return _REDUCE_KIND[op.name], tuple(op.axes)

    def body(self, op):
        return lambda cx, vals: vals[0]


@lowering("sc.argmax", "sc.argmin")
class ArgLowering(Lowering):
    """Index of the first extremum over the reduced axes (C order); the first NaN wins."""

    def plan(self, op, P, shapes):
        P.alloc(op.result, shapes[0])
        x = op.operands[0]
        keep = [a for a in range(x.type.ndim) if a not in op.axes]
        order = keep + list(op.axes)
        P.set_params("d", [P.shape[x][a] for a in order])
        P.set_params("s", [P.strides[x][a] for a in order])
        P.set_params("o", list(P.strides[op.result]) + [0] * len(op.axes))

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import identity
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.loops import for_range
        from symcomp.backends.cpu.codegen.scalar import llvm_type

        x = op.operands[0]
        b, dt = E.b, x.type.dtype
        rank, nkeep = x.type.ndim, x.type.ndim - len(op.axes)
        dims = [E.param(f"d{a}") for a in range(rank)]
        xs = [E.param(f"s{a}") for a in range(rank)]
        os_ = [E.param(f"o{a}") for a in range(rank)]
        xd, od = E.desc(x), E.desc(op.result)
        best = b.alloca(llvm_type(dt))
        best_i = b.alloca(ir.IntType(64))
        count = b.alloca(ir.IntType(64))
        cx = E.scalar_context(None)
        is_max = op.name == "sc.argmax"

        def nest(level, xoff, ooff):
            if level == nkeep:
                b.store(cx.const(dt, identity("max" if is_max else "min", dt)), best)
                b.store(i64(0), best_i)
                b.store(i64(0), count)
            if level == rank:
                v = E.load(xd.ptr, dt, xoff)
                cur = b.load(best)
                if dt.is_float:
                    better = b.fcmp_ordered(">" if is_max else "<", v, cur)
                    nan_first = b.and_(b.fcmp_unordered("uno", v, v), b.fcmp_ordered("ord", cur, cur))
                    better = b.or_(better, nan_first)
                elif dt.kind == "i":
                    better = b.icmp_signed(">" if is_max else "<", v, cur)
                else:
                    better = b.icmp_unsigned(">" if is_max else "<", v, cur)
                n = b.load(count)
                b.store(b.select(better, v, cur), best)
                b.store(b.select(better, n, b.load(best_i)), best_i)
                b.store(b.add(n, i64(1)), count)
                return
            with for_range(b, 0, dims[level], name=f"a{level}") as i:
                nest(level + 1, b.add(xoff, b.mul(i, xs[level])), b.add(ooff, b.mul(i, os_[level])))

        def outer(level, xoff, ooff):
            if level == nkeep:
                nest(level, xoff, ooff)
                E.store(b.load(best_i), od.ptr, op.result.type.dtype, ooff)
                return
            with for_range(b, 0, dims[level], name=f"k{level}") as i:
                outer(level + 1, b.add(xoff, b.mul(i, xs[level])), b.add(ooff, b.mul(i, os_[level])))

        outer(0, i64(0), i64(0))
        del nest, outer  # recursive closures are reference cycles (see loops.emit_kernel)
