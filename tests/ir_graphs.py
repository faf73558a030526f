"""Hypothesis strategies building random symbolic graphs through the front-end (for IR tests).

A graph is a few typed inputs (random dtypes, ranks, static/dynamic/size-1
dimensions and awkward names) and a chain of front-end calls, each picked
from a menu that covers every op family (elementwise, reductions, shape ops,
indexing, products, nnet, casts, constants with NaN/inf/-0.0, gradients).  A
call the front-end rejects for its operands' types is skipped, as a user's
type error would be.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.compile.trace import trace

DTYPES = ["float64", "float32", "int64", "int32", "uint8", "bool"]
NAMES = [None, "x", "x", "x_1", "y.z", "0", "a b", "$w", "W1"]
_REJECTED = (TypeError, ValueError, IndexError, NotImplementedError)


def _floats(v):
    return v if v.type.dtype.is_float else T.cast(v, "float64")


def _axis(draw, v):
    return draw(st.sampled_from([None] + list(range(v.type.ndim)) + [-1]))


_UNARY = [T.exp, T.exp2, T.expm1, T.log, T.log2, T.log10, T.log1p, T.sqrt, T.sin, T.cos, T.tan, T.arcsin,
          T.arccos, T.arctan, T.sinh, T.cosh, T.tanh, T.erf, T.erfc, T.floor, T.ceil, T.trunc, T.round,
          T.nnet.sigmoid, T.softplus, T.neg, T.abs, T.sgn, T.isnan, T.isinf, T.invert, T.copy]
_BINARY = [T.add, T.sub, T.mul, T.true_div, T.floor_div, T.mod, T.pow, T.maximum, T.minimum, T.arctan2,
           T.eq, T.neq, T.lt, T.le, T.gt, T.ge, T.and_, T.or_, T.xor]
_REDUCE = [T.sum, T.prod, T.max, T.min, T.argmax, T.argmin, T.mean, T.any, T.all, T.var]


def _unary(draw, pool, ctx):
    return draw(st.sampled_from(_UNARY))(draw(st.sampled_from(pool)))


def _binary(draw, pool, ctx):
    f = draw(st.sampled_from(_BINARY))
    a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool + [2, 0.5, True]))
    return f(a, b) if draw(st.booleans()) else f(b, a)


def _switch(draw, pool, ctx):
    a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
    return T.switch(T.gt(a, b), a, b)


def _reduce(draw, pool, ctx):
    v = draw(st.sampled_from(pool))
    f = draw(st.sampled_from(_REDUCE))
    return f(v, axis=_axis(draw, v), keepdims=draw(st.booleans()))


def _shape(draw, pool, ctx):
    v = draw(st.sampled_from(pool))
    n = v.type.ndim
    kind = draw(st.sampled_from(["T", "flatten", "reshape", "expand", "squeeze", "dimshuffle", "broadcast", "arange"]))
    if kind == "T":
        return v.T
    if kind == "flatten":
        return T.flatten(v)
    if kind == "reshape":
        return T.reshape(v, (-1, 1) if draw(st.booleans()) else (T.shape(v)[0] if n else 1, -1))
    if kind == "expand":
        return T.expand_dims(v, draw(st.integers(0, n)))
    if kind == "squeeze":
        return T.squeeze(v)
    if kind == "dimshuffle":
        return T.dimshuffle(v, *(["x"] + list(reversed(range(n)))))
    if kind == "arange":
        return T.arange(T.shape(v)[0]) if n else T.arange(0.5, 3.0, 0.5)
    return T.broadcast_to(v, (3,) + tuple(3 if d in (None, 1) else d for d in v.type.shape))


def _index(draw, pool, ctx):
    v = draw(st.sampled_from(pool))
    kind = draw(st.sampled_from(["slice", "int", "step", "advanced", "set", "inc", "advanced_inc"]))
    if kind == "slice":
        return v[1:]
    if kind == "int":
        return v[draw(st.sampled_from([0, -1, ctx.free("i", T.lscalar)]))]
    if kind == "step":
        return v[::-2]
    if kind == "advanced":
        return v[ctx.free("idx", T.lvector)]
    y = draw(st.sampled_from(pool))
    if kind == "inc":
        return T.inc_subtensor(v[1:], y)
    if kind == "advanced_inc":
        return T.inc_subtensor(v[ctx.free("idx", T.lvector)], y)
    return T.set_subtensor(v[:1], y)


def _products(draw, pool, ctx):
    a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
    return T.dot(a, b) if draw(st.booleans()) else T.outer(a, b)


def _nnet(draw, pool, ctx):
    v = _floats(draw(st.sampled_from(pool)))
    rows = [lambda v: T.nnet.softmax(v, axis=-1), lambda v: T.nnet.log_softmax(v, axis=-1)]  # keep the rank
    return draw(st.sampled_from(rows + [T.nnet.relu, T.nnet.softplus]))(v)


def _cast(draw, pool, ctx):
    return T.cast(draw(st.sampled_from(pool)), draw(st.sampled_from(DTYPES)))


def _constant(draw, pool, ctx):
    v = draw(st.sampled_from(pool))
    dt = draw(st.sampled_from(DTYPES))
    shape = draw(st.sampled_from([(), (2,), (2, 3), (70,)]))
    special = [np.nan, np.inf, -np.inf, -0.0, 1e-300, 3.4e38, 0.1] if dt.startswith("float") else [0, 1, 7]
    values = draw(st.lists(st.sampled_from(special), min_size=1, max_size=4))
    with np.errstate(all="ignore"):
        arr = np.resize(np.array(values, dtype=dt), shape)
    if draw(st.booleans()):
        arr = np.full(shape, arr.flat[0])  # a splat
    return T.add(v, T.constant(arr)) if dt != "bool" else T.and_(T.cast(v, "bool"), T.constant(arr))


def _concat(draw, pool, ctx):
    v = draw(st.sampled_from(pool))
    return T.concatenate([v, v], axis=0) if draw(st.booleans()) else T.stack([v, v], axis=0)


def _grad(draw, pool, ctx):
    v = _floats(draw(st.sampled_from(pool)))
    wrt = [x for x in ctx.inputs if x.type.dtype.is_float]
    if not wrt:
        raise ValueError("no float input to differentiate")
    return T.grad(T.sum(v * v), draw(st.sampled_from(wrt)), disconnected_inputs="ignore")


_MENU = [_unary, _binary, _switch, _reduce, _shape, _index, _products, _nnet, _cast, _constant, _concat, _grad]


class _Context:
    """The graph's inputs, including the index variables steps create on the way."""

    def __init__(self, inputs):
        self.inputs = list(inputs)

    def free(self, name, ctor):
        v = ctor(name)
        self.inputs.append(v)
        return v


@st.composite
def inputs(draw):
    """One to three symbolic inputs of random dtypes, shapes and names."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        shape = tuple(draw(st.lists(st.sampled_from([None, 1, 2, 3]), max_size=3)))
        out.append(T.tensor(draw(st.sampled_from(DTYPES)), shape=shape, name=draw(st.sampled_from(NAMES))))
    return out


@st.composite
def graphs(draw, max_steps: int = 8):
    """(inputs, outputs) of a random graph built with the front-end."""
    ctx = _Context(draw(inputs()))
    n_user = len(ctx.inputs)
    pool = list(ctx.inputs)
    for _ in range(draw(st.integers(1, max_steps))):
        step = draw(st.sampled_from(_MENU))
        try:
            pool.append(T.as_value(step(draw, pool, ctx)))
        except _REJECTED:
            continue
    return ctx.inputs, pool[n_user:] or pool[:1]


@st.composite
def modules(draw, max_steps: int = 8):
    """A traced ``builtin.module`` of a random graph, sometimes with a shared-variable update."""
    ins, outs = draw(graphs(max_steps))
    updates = []
    if draw(st.booleans()):
        w = symcomp.shared(np.zeros(3), name=draw(st.sampled_from(["w", "x", "a b", "W1"])))
        updates.append((w, w + T.cast(T.sum(outs[-1]), "float64")))
    module, _ = trace(ins, outs, updates, on_unused_input="ignore")
    return module
