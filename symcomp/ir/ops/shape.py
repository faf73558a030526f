"""Shape operations: transpose, expand_dims, squeeze, reshape, broadcast_to, concatenate,
dim, arange.

transpose, expand_dims, squeeze and broadcast_to are views (no data moves);
reshape is a view of contiguous data and a copy otherwise.  Shape entries
written ``?`` in an attribute are taken, in order, from the op's trailing
rank-0 integer operands (``sc.reshape %x, %n {shape = [?, 3]}``).
"""

from __future__ import annotations

import math

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import DynInts, Int, Ints, Pure, View, attr, op, operand
from symcomp.ir.frontend import tensor as _t


def _scalar_int(name: str, t: T.TensorType, what: str) -> None:
    if t.ndim != 0 or not t.dtype.is_int:
        raise TypeError(f"{name}: {what} must be a rank-0 integer, got {t}")


def resolve_dyn(name: str, spec, dyn_types, dyn_values) -> list:
    """Replace the ``?`` entries of a shape attribute by operand values (None if unknown).

    Raises:
        TypeError: if the number of ``?`` entries and dynamic operands differ.
    """
    n_dyn = sum(1 for s in spec if s is None)
    if n_dyn != len(dyn_types):
        raise TypeError(f"{name}: shape has {n_dyn} '?' entries but {len(dyn_types)} dynamic operands")
    vals = iter(dyn_values)
    types = iter(dyn_types)
    out = []
    for s in spec:
        if s is None:
            _scalar_int(name, next(types), "a dynamic size")
            v = next(vals)
            if v is not None and int(v) < 0:
                raise ValueError(f"{name}: negative dynamic size {int(v)}")
            out.append(None if v is None else int(v))
        else:
            out.append(s)
    return out


@op("sc.transpose", traits=(Pure, View))
class Transpose(Operation):
    """Permute axes: result axis i is operand axis ``perm[i]``."""
    x = operand()
    perm = attr(Ints)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,), perm = types, attrs["perm"]
        if sorted(perm) != list(range(t.ndim)):
            raise ValueError(f"sc.transpose: perm {list(perm)} is not a permutation of the {t.ndim} axes")
        return [t.with_shape(t.shape[p] for p in perm)]

    def ref(self, x):
        return np.transpose(x, self.perm)

    def vjp(self, grads):
        inv = [0] * len(self.perm)
        for i, p in enumerate(self.perm):
            inv[p] = i
        return [_t().transpose(grads[0], inv)]


@op("sc.expand_dims", traits=(Pure, View))
class ExpandDims(Operation):
    """Insert size-1 (broadcastable) axes at positions ``axes`` of the result."""
    x = operand()
    axes = attr(Ints)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,), axes = types, attrs["axes"]
        n = t.ndim + len(axes)
        if list(axes) != sorted(set(axes)) or any(a < 0 or a >= n for a in axes):
            raise ValueError(f"sc.expand_dims: axes {list(axes)} must be sorted, distinct and in [0, {n})")
        it = iter(t.shape)
        return [t.with_shape(1 if i in axes else next(it) for i in range(n))]

    def ref(self, x):
        return np.expand_dims(x, tuple(self.axes)) if self.axes else x

    def vjp(self, grads):
        return [_t().squeeze(grads[0], self.axes)]


@op("sc.squeeze", traits=(Pure, View))
class Squeeze(Operation):
    """Remove axes of size 1 (a ``?`` axis is checked to be 1 at call time)."""
    x = operand()
    axes = attr(Ints)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,), axes = types, attrs["axes"]
        if list(axes) != sorted(set(axes)) or any(a < 0 or a >= t.ndim for a in axes):
            raise ValueError(f"sc.squeeze: axes {list(axes)} must be sorted, distinct and in [0, {t.ndim})")
        for a in axes:
            if t.shape[a] not in (1, None):
                raise ValueError(f"sc.squeeze: axis {a} has size {t.shape[a]}, not 1")
        return [t.with_shape(d for i, d in enumerate(t.shape) if i not in axes)]

    def ref(self, x):
        return np.squeeze(x, tuple(self.axes)) if self.axes else x

    def vjp(self, grads):
        return [_t().expand_dims(grads[0], self.axes)]


@op("sc.reshape", traits=(Pure,))
class Reshape(Operation):
    """Reshape to ``shape`` (C order); one entry may be -1 (inferred), ``?`` entries come from operands."""
    x = operand()
    dims = operand(variadic=True)
    shape = attr(DynInts)

    @classmethod
    def infer(cls, types, attrs, values):
        t = types[0]
        spec = resolve_dyn(cls.name, attrs["shape"], types[1:], values[1:])
        if sum(1 for s in spec if s == -1) > 1:
            raise ValueError("sc.reshape: at most one -1 entry is allowed")
        if any(s is not None and s < -1 for s in spec):
            raise ValueError(f"sc.reshape: invalid size in shape {list(attrs['shape'])}")
        total = math.prod(t.shape) if t.is_static else None
        known = [s for s in spec if s is not None and s != -1]
        if -1 in spec:
            rest = math.prod(known)
            if total is not None and None not in spec:
                if rest == 0 or total % rest:
                    raise ValueError(f"sc.reshape: cannot reshape {total} elements into shape {spec}")
                spec = [total // rest if s == -1 else s for s in spec]
            else:
                spec = [None if s == -1 else s for s in spec]
        elif total is not None and None not in spec and math.prod(spec) != total:
            raise ValueError(f"sc.reshape: cannot reshape {total} elements of shape {t.shape} into shape {tuple(spec)}")
        return [t.with_shape(spec)]

    def ref(self, x, *dims):
        return np.reshape(x, self.infer_concrete([x, *dims])[0].shape)

    def vjp(self, grads):
        return [_t().reshape(grads[0], self.x.shape)] + [None] * len(self.dims)


@op("sc.broadcast_to", traits=(Pure, View))
class BroadcastTo(Operation):
    """Broadcast x (rank <= len(shape), aligned right; its size-1 axes stretch) to ``shape``."""
    x = operand()
    dims = operand(variadic=True)
    shape = attr(DynInts)

    @classmethod
    def infer(cls, types, attrs, values):
        t = types[0]
        spec = resolve_dyn(cls.name, attrs["shape"], types[1:], values[1:])
        if any(s is not None and s < 0 for s in spec):
            raise ValueError(f"sc.broadcast_to: invalid size in shape {list(attrs['shape'])}")
        if t.ndim > len(spec):
            raise ValueError(f"sc.broadcast_to: cannot broadcast rank {t.ndim} to rank {len(spec)}")
        lead = len(spec) - t.ndim
        out = list(spec)
        for i, d in enumerate(t.shape):
            s = spec[lead + i]
            if d == 1:
                continue
            if d is not None and s is not None and d != s:
                raise ValueError(f"sc.broadcast_to: operand dimension {i} has size {d}, target has {s}")
            if s is None:
                out[lead + i] = d
        return [t.with_shape(out)]

    def check_broadcast(self, shapes, values, result_shapes):
        out = result_shapes[0]
        T.check_runtime_broadcast(self.name, [self.x.type.shape, (None,) * len(out)], [shapes[0], out])

    def ref(self, x, *dims):
        return np.broadcast_to(x, self.infer_concrete([x, *dims])[0].shape)

    def vjp(self, grads):
        return [_t().unbroadcast(grads[0], self.x)] + [None] * len(self.dims)


@op("sc.concatenate", traits=(Pure,))
class Concatenate(Operation):
    """Join equal-rank operands along ``axis`` (other dimensions must agree)."""
    xs = operand(variadic=True)
    axis = attr(Int)

    @classmethod
    def infer(cls, types, attrs, values):
        if not types:
            raise TypeError("sc.concatenate needs at least one operand")
        axis, t0 = attrs["axis"], types[0]
        if any(t.ndim != t0.ndim for t in types) or not 0 <= axis < t0.ndim:
            raise ValueError(f"sc.concatenate: operands must share a rank > axis {axis}")
        if any(t.dtype != t0.dtype for t in types):
            raise TypeError("sc.concatenate: operands must share one dtype")
        shape = []
        for i in range(t0.ndim):
            ds = [t.shape[i] for t in types]
            if i == axis:
                shape.append(None if None in ds else sum(ds))
            else:
                known = {d for d in ds if d is not None}
                if len(known) > 1:
                    raise ValueError(f"sc.concatenate: dimension {i} differs between operands: {sorted(known)}")
                shape.append(known.pop() if known else None)
        return [t0.with_shape(shape)]

    def ref(self, *xs):
        return np.concatenate(xs, axis=self.axis)

    def vjp(self, grads):
        g, out, start = grads[0], [], 0
        for x in self.xs:
            stop = start + x.shape[self.axis]
            idx = [slice(None)] * self.axis + [slice(start, stop)]
            out.append(g[tuple(idx)] if x.type.dtype.is_float else None)
            start = stop
        return out


@op("sc.dim", traits=(Pure,))
class Dim(Operation):
    """The size of axis ``axis`` of x, as a rank-0 int64."""
    x = operand()
    axis = attr(Int)

    @classmethod
    def infer(cls, types, attrs, values):
        if not 0 <= attrs["axis"] < types[0].ndim:
            raise ValueError(f"sc.dim: axis {attrs['axis']} out of range for {types[0]}")
        return [T.scalar_type(T.int64)]

    def ref(self, x):
        return np.asarray(x.shape[self.axis], dtype=np.int64)

    def vjp(self, grads):
        return [None]


@op("sc.arange", traits=(Pure,))
class Arange(Operation):
    """[start, start+step, ...) below stop (``np.arange``); the length depends on the values."""
    start = operand()
    stop = operand()
    step = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        for t, what in zip(types, ("start", "stop", "step")):
            if t.ndim != 0 or t.dtype.is_bool:
                raise TypeError(f"sc.arange: {what} must be a rank-0 number, got {t}")
        if len({t.dtype for t in types}) != 1:
            raise TypeError("sc.arange: start, stop and step must share one dtype")
        n = None
        if all(v is not None for v in values):
            start, stop, step = (v.item() for v in values)
            if step == 0:
                raise ValueError("sc.arange: step is zero")
            n = max(0, math.ceil((stop - start) / step))
        return [T.TensorType(types[0].dtype, (n,))]

    def ref(self, start, stop, step):
        if step == 0:
            raise ValueError("sc.arange: step is zero")
        # Python ints: NumPy arithmetic on unsigned scalars would wrap when stop < start.
        return np.arange(start.item(), stop.item(), step.item(), dtype=start.dtype)

    def vjp(self, grads):
        return [None, None, None]
