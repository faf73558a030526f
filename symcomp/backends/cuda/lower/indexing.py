"""Indexing on the GPU: basic increments/sets and integer-array gathers/scatters.

* ``sc.inc_subtensor``: copy x, then one elementwise kernel over the selected
  (strided) region of the copy.
* ``sc.advanced_subtensor``: a gather kernel over the selection space.
* ``sc.advanced_inc_subtensor``: copy x, then a scatter.  Increments of
  float32/float64/(u)int32/(u)int64 use atomic adds, so repeated indices
  accumulate as in ``np.add.at`` (the summation order, and so the last bits of
  float sums, may vary).  Sets, and increments of other dtypes, walk the index
  positions in order within each thread (threads split only the non-indexed
  axes), so the last write wins, as in NumPy.

Every index is checked: negative indices wrap once, and an index still out of
range sets the plan's error word; the call then raises IndexError naming the
op.  No out-of-bounds access is made.
"""

from __future__ import annotations

from symcomp.backends.cuda.lower import Lowering, lowering
from symcomp.backends.cuda.lower.elementwise import (
    copy_into, identity_body, index_split, launch_loop, render_loop,
)
from symcomp.backends.cuda.planner import Arr, Desc, Host, Ptr, aligned_strides
from symcomp.backends.cuda.render import (
    ERR_INDEX, ErrorSink, KernelSpec, Param, Source, Var, combine, load, store,
)
from symcomp.ir import types as T
from symcomp.ir.ops.indexing import parse_index, resolve_index

_ATOMIC = {"float32", "float64", "int32", "uint32", "int64", "uint64"}


def render_select(mode: str, rank: int, axis: int, nb: int, idx_dtypes: list, dt: T.DType,
                  xrank: int) -> KernelSpec:
    """Gather (``mode="gather"``) or scatter (``"atomic"``, ``"add"``, ``"set"``) over a selection space.

    The selection space has ``rank`` axes: x's axes before ``axis``, the ``nb``
    broadcast index axes, then x's axes after the indexed ones.  ``"add"`` and
    ``"set"`` walk the index axes sequentially inside each thread.
    """
    k = len(idx_dtypes)
    seq = list(range(axis, axis + nb)) if mode in ("add", "set") else []
    par = [a for a in range(rank) if a not in seq]
    params = [Param("npar", "i64"), Param("nseq", "i64")] + [Param(f"d{a}", "i64") for a in range(rank)]
    target = "x" if mode == "gather" else "z"
    params += ([Param("az", "array", dt.name)] if mode == "atomic" else [Param(f"p{target}", "ptr", dt.name)])
    params += [Param(f"o{target}", "i64")] + [Param(f"s{target}{a}", "i64") for a in range(xrank)]
    params += [Param(f"n{j}", "i64") for j in range(k)]
    for j, idt in enumerate(idx_dtypes):
        params += [Param(f"pi{j}", "ptr", idt.name), Param(f"oi{j}", "i64")]
        params += [Param(f"si{j}_{a}", "i64") for a in range(nb)]
    other = "z" if mode == "gather" else "y"
    params += [Param(f"p{other}", "ptr", dt.name), Param(f"o{other}", "i64")]
    params += [Param(f"s{other}_{a}", "i64") for a in range(rank)]
    S = Source(f"{mode}_{'gather' if mode == 'gather' else 'scatter'}", params)
    err = ErrorSink(S)
    g = [f"g{a}" for a in range(rank)]
    S.line("t = cuda.grid(1)")
    S.line("step = cuda.gridsize(1)")
    with S.block("while t < npar"):
        if par:
            index_split(S, "t", [f"d{a}" for a in par], [g[a] for a in par])
        S.line("q = 0")
        with S.block("while q < nseq"):
            if seq:
                index_split(S, "q", [f"d{a}" for a in seq], [g[a] for a in seq])
            xs = [f"s{target}{a}" for a in range(xrank)]
            terms = [f"o{target}"] + [f"{g[a]} * {xs[a]}" for a in range(axis)]
            terms += [f"{g[axis + nb + i]} * {xs[axis + k + i]}" for i in range(rank - axis - nb)]
            S.line(f"off = {' + '.join(terms)}")
            S.line("ok = True")
            for j, idt in enumerate(idx_dtypes):
                at = " + ".join([f"oi{j}"] + [f"{g[axis + a]} * si{j}_{a}" for a in range(nb)])
                _index(S, j, f"pi{j}[{at}]", idt, f"n{j}", xs[axis + j])
            err.flag("not ok", ERR_INDEX)
            pos = " + ".join([f"o{other}"] + [f"{g[a]} * s{other}_{a}" for a in range(rank)])
            with S.block("if ok"):
                if mode == "gather":
                    S.line(store("pz", pos, load("px", "off", dt), dt))
                elif mode == "atomic":
                    S.line(f"cuda.atomic.add(az, off, py[{pos}])")
                elif mode == "set":
                    S.line(store("pz", "off", load("py", pos, dt), dt))
                else:
                    y = Var(load("py", pos, dt), dt)
                    S.line(store("pz", "off", combine("add", load("pz", "off", dt), y.name, dt), dt))
            S.line("q += 1")
        S.line("t += step")
    S.params += err.params()
    return S.finish()


def _index(S: Source, j: int, value: str, idt: T.DType, size: str, stride: str) -> None:
    """Read index ``j``, wrap a negative one once, check it is in range, add it to ``off``."""
    if idt.kind == "u" and idt.bits == 64:
        S.line(f"u{j} = {value}")
        S.line(f"ok{j} = u{j} < uint64({size})")
        S.line(f"ix{j} = int64(u{j}) if ok{j} else int64(0)")
    else:
        S.line(f"ix{j} = int64({value})")
        S.line(f"ix{j} = ix{j} + {size} if ix{j} < 0 else ix{j}")
        S.line(f"ok{j} = ix{j} >= 0 and ix{j} < {size}")
    S.line(f"ok = ok and ok{j}")
    S.line(f"off = off + ix{j} * {stride} if ok{j} else off")


def _plan_select(P, op, mode: str, target: Desc, indices: list, sel_shape, other: Desc, other_strides,
                 dt: T.DType) -> None:
    """Launch a gather/scatter over ``sel_shape`` (see :func:`render_select`)."""
    axis, k = op.axis, len(indices)
    rank = len(sel_shape)
    nb = rank - (len(target.shape) - k)
    bshape = sel_shape[axis: axis + nb]
    idx = [P.materialize(P.get(v)) for v in indices]
    spec = render_select(mode, rank, axis, nb, [d.dtype for d in idx], dt, len(target.shape))
    seq = list(range(axis, axis + nb)) if mode in ("add", "set") else []
    npar = nseq = 1
    for a, d in enumerate(sel_shape):
        if a in seq:
            nseq *= d
        else:
            npar *= d
    if npar * nseq == 0:
        return
    args = [npar, nseq] + list(sel_shape)
    args += [Arr(target.root) if mode == "atomic" else Ptr(target.root), target.off] + list(target.strides)
    args += [target.shape[axis + j] for j in range(k)]
    for d in idx:
        args += [Ptr(d.root), d.off] + aligned_strides(d, bshape)
    args += [Ptr(other.root), other.off] + list(other_strides)
    args += P.error_args(spec)
    P.launch(spec, P.grid_1d(npar), P.tuning.block, args)


def _copy_x(P, op, shape) -> Desc:
    """The result: a fresh copy of operand x."""
    out = P.alloc(op.result, shape)
    d = P.get(op.operands[0])
    if isinstance(d, Host) and not d.uniform():
        d = P.materialize(d)
    copy_into(P, d, aligned_strides(d, shape), out, out.strides, shape)
    return out


def _y_operand(P, v, sel_shape):
    """Operand y as a device tensor with its strides over the selection."""
    d = P.materialize(P.get(v))
    return d, aligned_strides(d, sel_shape)


@lowering("sc.advanced_subtensor")
class AdvancedSubtensorLowering(Lowering):
    def kernels(self, op):
        x = op.operands[0]
        return [render_select("gather", op.result.type.ndim, op.axis, op.indices[0].type.ndim,
                              [v.type.dtype for v in op.indices], x.type.dtype, x.type.ndim)]

    def plan(self, op, P, shapes):
        out = P.alloc(op.result, shapes[0])
        x = P.materialize(P.get(op.operands[0]))
        _plan_select(P, op, "gather", x, list(op.indices), shapes[0], out, out.strides, x.dtype)


@lowering("sc.advanced_inc_subtensor")
class AdvancedIncSubtensorLowering(Lowering):
    def mode(self, op) -> str:
        if op.set:
            return "set"
        return "atomic" if op.result.type.dtype.name in _ATOMIC else "add"

    def kernels(self, op):
        x = op.operands[0]
        nb = op.indices[0].type.ndim
        rank = x.type.ndim - len(op.indices) + nb
        dt = x.type.dtype
        return [render_loop("copy", max(1, x.type.ndim), ["a"], [dt], dt, identity_body), render_select(self.mode(op), rank, op.axis, nb, [v.type.dtype for v in op.indices],
                              x.type.dtype, x.type.ndim)]

    def plan(self, op, P, shapes):
        out = _copy_x(P, op, shapes[0])
        k = len(op.indices)
        bshape = _broadcast([P.shape(v) for v in op.indices])
        sel = shapes[0][: op.axis] + bshape + shapes[0][op.axis + k:]
        y, ys = _y_operand(P, op.operands[1], sel)
        _plan_select(P, op, self.mode(op), out, list(op.indices), sel, y, ys, out.dtype)


@lowering("sc.inc_subtensor")
class IncSubtensorLowering(Lowering):
    """A copy of x, then ``sel += y`` (or ``sel = y``) over the selected strided region."""

    def kernels(self, op):
        x, y = op.operands[0], op.operands[1]
        dt = x.type.dtype
        rank = x.type.ndim - sum(1 for e in parse_index(op.index) if e.is_int)
        kinds = ["a", "a"]
        return [render_loop("copy", max(1, x.type.ndim), ["a"], [dt], dt, identity_body),
                render_loop("copy", max(1, rank), ["a"], [dt], dt, identity_body) if op.set else
                render_loop("inc", max(1, rank), kinds, [dt, y.type.dtype], dt, _add(dt))]

    def plan(self, op, P, shapes):
        out = _copy_x(P, op, shapes[0])
        dyn = [P.get(v).value for v in op.dyn]
        r = resolve_index(op.name, parse_index(op.index), shapes[0], dyn)
        offset, strides = r.view(out.strides)
        sel = Desc(out.root, out.off + offset, r.shape, tuple(strides), out.dtype)
        y = P.get(op.operands[1])
        if isinstance(y, Host) and not y.uniform():
            y = P.materialize(y)
        ys = aligned_strides(y, r.shape)
        dt = out.dtype
        if op.set:
            copy_into(P, y, ys, sel, sel.strides, r.shape)
            return
        launch_loop(P, "inc", _add(dt), [sel, y], [sel.strides, ys], sel, sel.strides, r.shape, dt)


def _add(dt: T.DType):
    """The body ``a + b`` (or for bool)."""
    return lambda S, args, err: S.let(combine("add", args[0].name, args[1].name, dt), dt)


def _broadcast(shapes) -> tuple:
    out = []
    for ds in zip(*shapes):
        non1 = [d for d in ds if d != 1]
        out.append(non1[0] if non1 else 1)
    return tuple(out)
