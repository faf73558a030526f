"""Views (transpose, expand_dims, squeeze, broadcast_to, subtensor), reshape, constants,
sc.dim, concatenate and arange.

Views launch nothing: the planner gives the result new sizes, strides and an
offset into the operand's buffer.  Constants and ``sc.dim`` are host values
known at plan time.
"""

from __future__ import annotations

from symcomp.backends.layout import contiguous_strides, is_c_contiguous
from symcomp.backends.cuda.lower import Lowering, lowering
from symcomp.backends.cuda.lower.elementwise import copy_into, identity_body, render_loop
from symcomp.backends.cuda.planner import Desc, Host, Ptr
from symcomp.backends.cuda.render import KernelSpec, Param, Source, cast_expr, scalar_param, store
from symcomp.ir.ops.indexing import parse_index, resolve_index


def copy_kernel(v) -> KernelSpec:
    """The general copy kernel for values like ``v``."""
    dt = v.type.dtype
    return render_loop("copy", max(1, v.type.ndim), ["a"], [dt], dt, identity_body)


class _View(Lowering):
    """A view of a device tensor (views of host values are folded on the host by the planner)."""

    def plan(self, op, P, shapes):
        self.view(op, P, P.materialize(P.get(op.operands[0])), shapes[0])


@lowering("sc.transpose")
class TransposeLowering(_View):
    def view(self, op, P, x, shape):
        P.view(op.result, x, shape, [x.strides[p] for p in op.perm])


@lowering("sc.expand_dims")
class ExpandDimsLowering(_View):
    def view(self, op, P, x, shape):
        it = iter(x.strides)
        P.view(op.result, x, shape, [0 if a in op.axes else next(it) for a in range(len(shape))])


@lowering("sc.squeeze")
class SqueezeLowering(_View):
    def view(self, op, P, x, shape):
        P.view(op.result, x, shape, [s for a, s in enumerate(x.strides) if a not in op.axes])


@lowering("sc.broadcast_to")
class BroadcastToLowering(_View):
    def view(self, op, P, x, shape):
        lead = len(shape) - op.x.type.ndim
        st = [0] * lead + [0 if d == 1 else s for d, s in zip(op.x.type.shape, x.strides)]
        P.view(op.result, x, shape, st)


@lowering("sc.subtensor")
class SubtensorLowering(_View):
    def view(self, op, P, x, shape):
        dyn = [P.get(v).value for v in op.dyn]
        r = resolve_index(op.name, parse_index(op.index), x.shape, dyn)
        offset, strides = r.view(x.strides)
        P.view(op.result, x, shape, strides, offset)


@lowering("sc.constant")
class ConstantLowering(Lowering):
    def plan(self, op, P, shapes):
        P.host(op.result, op.attributes["value"])


@lowering("sc.dim")
class DimLowering(Lowering):
    def plan(self, op, P, shapes):
        P.host(op.result, P.shape(op.operands[0])[op.axis])


@lowering("sc.reshape")
class ReshapeLowering(Lowering):
    """A view of C-contiguous data; otherwise a copy (in C order) into a fresh buffer."""

    def kernels(self, op):
        return [copy_kernel(op.operands[0])]

    def plan(self, op, P, shapes):
        x = P.materialize(P.get(op.operands[0]))
        if is_c_contiguous(x.shape, x.strides):
            P.view(op.result, x, shapes[0], contiguous_strides(shapes[0]))
            return
        out = P.alloc(op.result, shapes[0])
        copy_into(P, x, x.strides, out, contiguous_strides(x.shape), x.shape)


@lowering("sc.concatenate")
class ConcatenateLowering(Lowering):
    """One copy kernel per operand, into its slice of the result."""

    def kernels(self, op):
        return [copy_kernel(op.operands[0])]

    def plan(self, op, P, shapes):
        out = P.alloc(op.result, shapes[0])
        step = out.strides[op.axis]
        start = 0
        for v in op.operands:
            d, shape = P.get(v), P.shape(v)
            if isinstance(d, Host) and not d.uniform():
                d = P.materialize(d)
            strides = d.strides if isinstance(d, Desc) else [0] * len(shape)
            dst = Desc(out.root, out.off + start * step, shape, out.strides, out.dtype)
            copy_into(P, d, strides, dst, out.strides, shape)
            start += shape[op.axis]


def render_arange(dt) -> KernelSpec:
    """``out[i] = start + i * step``."""
    params = [Param("n", "i64"), Param("c0", "scalar", dt.name), Param("c1", "scalar", dt.name),
              Param("pz", "ptr", dt.name), Param("oz", "i64"), Param("sz0", "i64")]
    S = Source("arange", params)
    S.line("i = cuda.grid(1)")
    S.line("step = cuda.gridsize(1)")
    with S.block("while i < n"):
        value = f"{scalar_param('c0', dt)} + {dt.name}(i) * {scalar_param('c1', dt)}"
        S.line(store("pz", "oz + i * sz0", cast_expr(dt, value), dt))
        S.line("i += step")
    return S.finish()


@lowering("sc.arange")
class ArangeLowering(Lowering):
    def kernels(self, op):
        return [render_arange(op.result.type.dtype)]

    def plan(self, op, P, shapes):
        out = P.alloc(op.result, shapes[0])
        n = shapes[0][0]
        if n == 0:
            return
        start, _, step = (P.get(v).value.item() for v in op.operands)
        P.launch(render_arange(op.result.type.dtype), P.grid_1d(n), P.tuning.block,
                 [n, start, step, Ptr(out.root), out.off, out.strides[0]])
