"""Shared cases of the CUDA tests (no tests here): one small instance of every op, and graph builders.

A case is a builder (a module-level function, so the simulator's worker
process can run it by name) with picklable arguments, plus input specs from
which both sides draw the same inputs.  Builders return
``(inputs, outputs, updates, shared)`` for :func:`symcomp.function`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

import symcomp
from symcomp import tensor as T
from symcomp.ir.opdef import OPS, build
from symcomp.ir.ops.fused import Fused
from symcomp.tensor.variables import tensor

F64, F32 = "float64", "float32"
INTS = ["int8", "int16", "int32", "int64", "uint8", "uint32", "uint64"]
STRUCTURAL = {"builtin.module", "func.func", "func.return", "sc.yield"}



@dataclass
class In:
    """One input: dtype, concrete shape, static shape (None entries dynamic) and value kind."""

    dtype: str
    shape: tuple
    static: tuple = None
    kind: str = "normal"

    def type_shape(self) -> tuple:
        return self.static if self.static is not None else (None,) * len(self.shape)


@dataclass
class Case:
    """A named case: ``builder(*args)`` builds the graph; ``inputs`` describe the arguments."""

    id: str
    builder: str
    args: tuple
    inputs: list = field(default_factory=list)
    op: str = ""


# -- inputs -------------------------------------------------------------------------------------
_SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, 2.5, -2.5, 1.0, -1.0]


def make_input(spec: In, rng: np.random.Generator) -> np.ndarray:
    """Draw one input array of ``spec`` (deterministic for a seeded ``rng``)."""
    dt = np.dtype(spec.dtype)
    shape, kind = spec.shape, spec.kind
    n = math.prod(shape)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if kind.startswith("index:"):  # valid indices (negative ones too) for an axis of this size
        size = int(kind.split(":")[1])
        lo = 0 if dt.kind == "u" else -size
        return rng.integers(lo, size, shape).astype(dt)
    if kind.startswith("range:"):
        lo, hi = (float(v) for v in kind.split(":")[1:])
        v = rng.uniform(lo, hi, shape)
        return (np.floor(v) if dt.kind in "iu" else v).astype(dt)
    if dt.kind == "f" and kind == "small":
        return rng.integers(-3, 4, shape).astype(dt)
    if dt.kind == "f":
        v = rng.normal(0, 2, shape)
        if kind == "specials" and n:
            flat = v.reshape(-1)
            for i, s in enumerate(_SPECIALS[: max(1, n // 3)]):
                flat[(i * 7) % n] = s
        if kind == "positive":
            v = np.abs(v) + 0.1
        if kind == "unit":
            v = rng.uniform(-1, 1, shape)
        return v.astype(dt)
    info = np.iinfo(dt)
    if kind == "wide":  # the whole range, to exercise wrapping
        return rng.integers(info.min, info.max, shape, dtype=dt, endpoint=True)
    if kind == "small":
        return rng.integers(0 if dt.kind == "u" else -3, 4, shape).astype(dt)
    lo = 0 if dt.kind == "u" else max(info.min, -100)
    return rng.integers(lo, min(info.max, 100), shape, endpoint=True).astype(dt)


def make_inputs(case: Case, seed: int = 7) -> list:
    rng = np.random.default_rng(seed)
    return [make_input(s, rng) for s in case.inputs]


# -- builders -------------------------------------------------------------------------------------
def _placeholders(specs) -> list:
    return [tensor(s.dtype, shape=s.type_shape(), name=f"in{i}") for i, s in enumerate(specs)]


def b_op(name: str, specs: list, attrs: dict):
    """One op of the registry applied to fresh inputs (its results are the outputs)."""
    from symcomp.ir.parser import load_ops

    load_ops()  # every op module (the pooling ops' is imported only by symcomp.tensor.signal.pool)
    ins = _placeholders(specs)
    out = build(OPS[name], ins, **attrs)
    return ins, out if isinstance(out, list) else [out], [], []


def b_expr(expr: str, specs: list):
    """A front-end expression of inputs ``a, b, c...`` (``T`` and ``np`` in scope)."""
    ins = _placeholders(specs)
    env = {"T": T, "np": np, **{chr(ord("a") + i): v for i, v in enumerate(ins)}}
    out = eval(expr, env)  # noqa: S307 - test expressions written in this file
    return ins, list(out) if isinstance(out, (list, tuple)) else [out], [], []


def fused_value(inputs: list, body: str, reduce: str = "", axes=()):
    """An ``sc.fused`` op over ``inputs`` whose scalar body is the expression ``body`` of ``a, b, ...``."""
    def scalar(*args):
        env = {"T": T, "np": np, **{chr(ord("a") + i): a for i, a in enumerate(args)}}
        return eval(body, env)  # noqa: S307

    return Fused.from_body(inputs, scalar, reduce, axes).result


_REDUCE_OPS = {"add": "sc.sum", "mul": "sc.prod", "max": "sc.max", "min": "sc.min"}


def b_fused(specs: list, body: str, reduce: str = "", axes=(), unfused: bool = False):
    """An ``sc.fused`` op; with ``unfused``, the same computation as separate ops (the test oracle)."""
    ins = _placeholders(specs)
    if not unfused:
        return ins, [fused_value(ins, body, reduce, axes)], [], []
    env = {"T": T, "np": np, **{chr(ord("a") + i): v for i, v in enumerate(ins)}}
    out = eval(body, env)  # noqa: S307
    if reduce:
        out = build(OPS[_REDUCE_OPS[reduce]], [out], axes=list(axes))
    return ins, [out], [], []


def oracle(case: Case) -> Case:
    """The case the reference backend runs: fused ops are given unfused."""
    if case.builder != "b_fused":
        return case
    specs, body, *rest = case.args
    reduce, axes = (list(rest) + ["", ()])[:2]
    return Case(case.id, "b_fused", (specs, body, reduce, tuple(axes), True), case.inputs, case.op)


def b_mlp(n_in: int, n_hidden: int, n_out: int, lr: float, seed: int = 0):
    """The digits MLP's training step (as examples/mlp_digits.py), with its weights as shared outputs."""
    rng = np.random.default_rng(seed)
    x, y = T.dmatrix("x"), T.lvector("y")
    W1 = symcomp.shared(rng.uniform(-0.5, 0.5, (n_in, n_hidden)), name="W1")
    b1 = symcomp.shared(np.zeros(n_hidden), name="b1")
    W2 = symcomp.shared(rng.uniform(-0.5, 0.5, (n_hidden, n_out)), name="W2")
    b2 = symcomp.shared(np.zeros(n_out), name="b2")
    probs = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1) + b1), W2) + b2)
    loss = T.mean(T.nnet.categorical_crossentropy(probs, y))
    params = [W1, b1, W2, b2]
    grads = T.grad(loss, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads)]
    return [x, y], [loss, T.argmax(probs, axis=1)], updates, params


def b_counter(dtype: str):
    """A shared accumulator: returns the old value, adds the input."""
    s = symcomp.shared(np.zeros(3, dtype), name="acc")
    x = T.vector("x", dtype=dtype)
    return [x], [s * 1], [(s, s + x)], [s]


BUILDERS = {f.__name__: f for f in (b_op, b_expr, b_fused, b_mlp, b_counter)}


def graph(case: Case):
    """Build the case's graph (in whichever process runs it)."""
    return BUILDERS[case.builder](*case.args)


# -- the table of op instances ----------------------------------------------------------------------
def _unary(name, dtypes, kind="normal", shape=(3, 37)):
    return [Case(f"{name}-{d}", "b_op", (name, [In(d, shape, kind=kind)], {}), [In(d, shape, kind=kind)], name)
            for d in dtypes]


def _binary(name, dtypes, kx="normal", ky="normal", shapes=((5, 13), (1, 13)), statics=((None, None), (1, None))):
    out = []
    for d in dtypes:
        ins = [In(d, shapes[0], statics[0], kx), In(d, shapes[1], statics[1], ky)]
        out.append(Case(f"{name}-{d}", "b_op", (name, ins, {}), ins, name))
    return out


FLOAT_UNARY = ["sc.exp", "sc.exp2", "sc.expm1", "sc.log", "sc.log2", "sc.log10", "sc.log1p", "sc.sqrt", "sc.sin",
               "sc.cos", "sc.tan", "sc.arcsin", "sc.arccos", "sc.arctan", "sc.sinh", "sc.cosh", "sc.tanh",
               "sc.erf", "sc.erfc", "sc.sigmoid", "sc.softplus", "sc.floor", "sc.ceil", "sc.round", "sc.trunc",
               "sc.isnan", "sc.isinf"]


def op_cases() -> list:
    """Every op of the registry, with a few dtypes each (structural ops excepted)."""
    cases = []
    for name in FLOAT_UNARY:
        cases += _unary(name, [F64, F32], "specials")
    for name in ("sc.neg", "sc.abs", "sc.sign"):
        cases += _unary(name, [F64, F32, "int8", "int32", "int64", "uint8", "uint64"])
    cases += _unary("sc.not", ["bool", "int8", "uint16", "int64"], "wide")
    cases += _unary("sc.copy", ["bool", F32, "int16", "uint32"])
    for src, dst, kind in [(F64, "int32", "normal"), (F32, "uint8", "range:0:255"), ("int64", F32, "wide"),
                           ("bool", F64, "normal"), (F64, "bool", "specials"), ("int8", "uint64", "wide"),
                           ("uint64", "int8", "wide"), ("int32", "int16", "wide"), (F64, F32, "specials"),
                           (F32, F64, "specials"), ("uint8", "int64", "wide")]:
        ins = [In(src, (4, 21), kind=kind)]
        cases.append(Case(f"sc.cast-{src}-{dst}", "b_op", ("sc.cast", ins, {"dtype": dst}), ins, "sc.cast"))
    for name in ("sc.add", "sc.sub", "sc.mul"):
        cases += _binary(name, [F64, F32] + INTS, "wide", "wide")
    cases += _binary("sc.div", [F64, F32], "normal", "small")
    for name in ("sc.floordiv", "sc.mod"):
        cases += _binary(name, [F64, F32, "int8", "int32", "int64", "uint8", "uint64"], "normal", "small")
    cases += _binary("sc.pow", [F64, F32], "normal", "normal")
    cases += _binary("sc.pow", ["int32", "int64", "uint8"], "small", "range:0:4")
    for name in ("sc.maximum", "sc.minimum"):
        cases += _binary(name, [F64, F32, "int16", "uint32", "bool"], "specials", "specials")
    cases += _binary("sc.arctan2", [F64, F32], "specials", "specials")
    for name in ("sc.eq", "sc.ne", "sc.lt", "sc.le", "sc.gt", "sc.ge"):
        cases += _binary(name, [F64, "int32", "uint8", "bool"], "specials", "small")
    for name in ("sc.and", "sc.or", "sc.xor"):
        cases += _binary(name, ["bool", "int32", "uint8", "int64"], "wide", "wide")
    for d in (F64, "int32", "bool"):
        ins = [In("bool", (4, 9)), In(d, (4, 9)), In(d, (1, 9), (1, None))]
        cases.append(Case(f"sc.select-{d}", "b_op", ("sc.select", ins, {}), ins, "sc.select"))
    cases += _reductions() + _rows() + _dots() + _shapes() + _indexing() + _fused() + _random() + _convs()
    return cases


_POOL = "__import__('symcomp.tensor.signal.pool', fromlist=['pool_2d']).pool_2d"


def _convs() -> list:
    """Convolutions (every border kind, strides, dilation, groups, flip) and pooling (every mode)."""
    c = []
    x, w = In(F64, (2, 4, 5, 6)), In(F64, (6, 2, 3, 2))
    gy, like = In(F64, (2, 6, 3, 7)), In(F64, (1, 1, 5, 6))
    half = {"border": "half", "subsample": [2, 1], "groups": 2}
    c.append(Case("sc.conv2d-half-groups", "b_op", ("sc.conv2d", [x, w], half), [x, w], "sc.conv2d"))
    xf, wf = In(F32, (2, 3, 6, 7)), In(F32, (2, 3, 2, 3))
    odd = {"border": "pad", "pad": [1, 0], "dilation": [2, 1], "flip": False}
    c.append(Case("sc.conv2d-f32-pad-dilated", "b_op", ("sc.conv2d", [xf, wf], odd), [xf, wf], "sc.conv2d"))
    c.append(Case("sc.conv2d-full-strided", "b_op", ("sc.conv2d", [x, In(F64, (3, 4, 2, 3))],
                                                      {"border": "full", "subsample": [1, 3]}),
                  [x, In(F64, (3, 4, 2, 3))], "sc.conv2d"))
    c.append(Case("sc.conv2d_grad_input", "b_op", ("sc.conv2d_grad_input", [gy, w, like], half), [gy, w, like],
                  "sc.conv2d_grad_input"))
    c.append(Case("sc.conv2d_grad_filters", "b_op", ("sc.conv2d_grad_filters", [x, gy, In(F64, (1, 1, 3, 2))], half),
                  [x, gy, In(F64, (1, 1, 3, 2))], "sc.conv2d_grad_filters"))
    for mode in ("max", "sum", "average_inc_pad", "average_exc_pad"):
        ins = [In(F64, (2, 3, 7, 6))]
        attrs = {"ws": [3, 2], "stride": [2, 1], "pad": [1, 1], "ignore_border": True, "mode": mode}
        c.append(Case(f"sc.pool2d-{mode}-pad", "b_op", ("sc.pool2d", ins, attrs), ins, "sc.pool2d"))
        ins = [In(F64, (2, 3, 5, 6)), In(F64, (2, 3, 2, 3))]
        expr = f"T.grad(({_POOL}(a, (3, 2), ignore_border=False, stride=(2, 2), mode='{mode}') * b).sum(), a)"
        c.append(Case(f"sc.pool2d_grad-{mode}", "b_expr", (expr, ins), ins, "sc.pool2d_grad"))
    ins = [In(F32, (3, 5, 7))]
    attrs = {"ws": [2, 2], "stride": [2, 2], "ignore_border": False, "mode": "max"}
    c.append(Case("sc.pool2d-f32-rank3-partial", "b_op", ("sc.pool2d", ins, attrs), ins, "sc.pool2d"))
    ties = [In(F64, (2, 4, 4), kind="small"), In(F64, (2, 2, 2))]
    expr = f"T.grad(({_POOL}(a, (2, 2), ignore_border=True) * b).sum(), a)"
    c.append(Case("sc.pool2d_grad-max-ties", "b_expr", (expr, ties), ties, "sc.pool2d_grad"))
    return c


def _random() -> list:
    """The random ops (their results must equal the reference's bit for bit: integer outputs, and
    floats from exactly rounded operations)."""
    u64 = [In("uint64", (4, 9), kind="wide"), In("uint64", (1, 9), (1, None), kind="wide"),
           In("uint64", (4, 1), (None, 1), kind="wide")]
    c = [Case("sc.flat_index", "b_op", ("sc.flat_index", [In(F64, (4, 9))], {}), [In(F64, (4, 9))], "sc.flat_index")]
    for w in range(4):
        c.append(Case(f"sc.philox-{w}", "b_op", ("sc.philox", u64, {"word": w}), u64, "sc.philox"))
    one = [In("uint64", (1, 1), (1, 1), kind="wide")] * 3  # offset, salt, key: one stream
    for width in (32, 64):
        ins = [In("int64", (4, 9), kind="range:0:100000")] + one
        c.append(Case(f"sc.random_bits-{width}", "b_op", ("sc.random_bits", ins, {"width": width}), ins,
                      "sc.random_bits"))
    w32, w64 = [In("uint32", (5, 7), kind="wide")], [In("uint64", (5, 7), kind="wide")]
    c.append(Case("sc.unit_float-f32", "b_op", ("sc.unit_float", w32, {"dtype": F32}), w32, "sc.unit_float"))
    c.append(Case("sc.unit_float-f64", "b_op", ("sc.unit_float", w64, {"dtype": F64}), w64, "sc.unit_float"))
    c.append(Case("sc.unit_float-f64-32", "b_op", ("sc.unit_float", w32, {"dtype": F64}), w32, "sc.unit_float"))
    for d in (F64, F32):
        ins = [In(d, (6, 11), kind="range:-0.05:1.05")]
        c.append(Case(f"sc.ndtri-{d}", "b_op", ("sc.ndtri", ins, {}), ins, "sc.ndtri"))
        ins = [In(d, (6, 11), kind="range:0.001:1")]
        c.append(Case(f"sc.exponential-{d}", "b_op", ("sc.exponential", ins, {}), ins, "sc.exponential"))
    ins = [In(F64, (3, 7), kind="range:-1:40")] + [In("uint64", (3, 7), kind="wide")] * 3
    c.append(Case("sc.random_poisson", "b_op", ("sc.random_poisson", ins, {}), ins, "sc.random_poisson"))
    ins = [In("int64", (3, 7), kind="range:-1:300"), In(F64, (3, 7), kind="range:-0.05:1.05")] + \
        [In("uint64", (3, 7), kind="wide")] * 3
    c.append(Case("sc.random_binomial", "b_op", ("sc.random_binomial", ins, {}), ins, "sc.random_binomial"))
    ins = [In("uint64", (), kind="wide"), In("uint64", (), kind="wide")]
    c.append(Case("sc.random_permutation", "b_permutation", (ins, 3, 17), ins, "sc.random_permutation"))
    for d, axis in ((F64, 1), (F32, 0), ("int32", 1)):
        ins = [In(d, (5, 9))]
        c.append(Case(f"sc.cumsum-{d}-{axis}", "b_op", ("sc.cumsum", ins, {"axis": axis}), ins, "sc.cumsum"))
    return c


def b_permutation(specs: list, rows: int, n: int):
    """``rows`` permutations of ``n`` for a counter and key given as inputs."""
    from symcomp.ir.ops.random import RandomPermutation

    ins = _placeholders(specs)
    out = build(RandomPermutation, ins + [T.constant(np.int64(rows)), T.constant(np.int64(n))])
    return ins, [out], [], []


def _reductions() -> list:
    cases = []
    for name in ("sc.sum", "sc.prod", "sc.max", "sc.min", "sc.argmax", "sc.argmin"):
        dts = [F64, F32, "int64"] + (["uint8"] if name in ("sc.max", "sc.min", "sc.argmax") else [])
        for d in dts:
            for shape, axes in [((6, 45), [1]), ((45, 6), [0]), ((5, 9, 4), [0, 2]), ((5, 9, 4), [1, 2]),
                                ((130,), [0]), ((3, 4, 5), [0, 1, 2])]:
                kind = "range:0.9:1.1" if name == "sc.prod" and d in (F64, F32) else \
                    "small" if name == "sc.prod" else "specials" if d == F64 and name in ("sc.max", "sc.argmax") \
                    else "normal"
                ins = [In(d, shape, kind=kind)]
                cases.append(Case(f"{name}-{d}-{shape}-{axes}", "b_op", (name, ins, {"axes": axes}), ins, name))
    for name in ("sc.max", "sc.min"):
        ins = [In("bool", (7, 33))]
        cases.append(Case(f"{name}-bool", "b_op", (name, ins, {"axes": [1]}), ins, name))
    ins = [In(F64, (3, 0))]
    cases.append(Case("sc.sum-empty", "b_op", ("sc.sum", ins, {"axes": [1]}), ins, "sc.sum"))
    return cases


def _rows() -> list:
    cases = []
    for name in ("sc.softmax", "sc.log_softmax"):
        for d, shape, axis in [(F64, (13, 10), 1), (F32, (7, 100), 1), (F64, (9, 6), 0), (F64, (3, 4, 35), 2),
                               (F64, (5, 1), 1), (F32, (4, 300), 1)]:
            ins = [In(d, shape)]
            cases.append(Case(f"{name}-{d}-{shape}-{axis}", "b_op", (name, ins, {"axis": axis}), ins, name))
    return cases


def _dots() -> list:
    cases = []
    for d in (F64, F32, "int32", "int64"):
        for sa, sb in [((5, 7), (7, 3)), ((17, 33), (33, 9)), ((5, 7), (7,)), ((7,), (7, 3)), ((7,), (7,)),
                       ((4, 0), (0, 3))]:
            ins = [In(d, sa, kind="small" if d.startswith("int") else "normal"),
                   In(d, sb, kind="small" if d.startswith("int") else "normal")]
            cases.append(Case(f"sc.dot-{d}-{sa}-{sb}", "b_op", ("sc.dot", ins, {}), ins, "sc.dot"))
    ins = [In(F64, (7, 5)), In(F64, (3, 7))]
    cases.append(Case("sc.dot-transposed", "b_expr", ("T.dot(a.T, b.T)", ins), ins, "sc.dot"))
    ins = [In(F64, (12, 9)), In(F64, (9, 4))]
    cases.append(Case("sc.dot-strided", "b_expr", ("T.dot(a[::2, ::-1], b[::-1, 1:])", ins), ins, "sc.dot"))
    for d in (F64, F32):  # made by the CPU's cpu-gemm-fold; the CUDA backend decomposes it
        ins = [In(d, (5, 7)), In(d, (7, 3)), In(d, (1, 3), (1, None))]
        cases.append(Case(f"sc.gemm-{d}", "b_op", ("sc.gemm", ins, {"alpha": 0.5, "beta": -2.0}), ins, "sc.gemm"))
    return cases


def _shapes() -> list:
    c = []
    x = [In(F64, (4, 6))]
    c.append(Case("sc.transpose", "b_op", ("sc.transpose", x, {"perm": [1, 0]}), x, "sc.transpose"))
    c.append(Case("sc.expand_dims", "b_op", ("sc.expand_dims", x, {"axes": [0, 2]}), x, "sc.expand_dims"))
    sq = [In(F32, (3, 1, 5), (None, 1, None))]
    c.append(Case("sc.squeeze", "b_op", ("sc.squeeze", sq, {"axes": [1]}), sq, "sc.squeeze"))
    bt = [In("int32", (1, 5), (1, None))]
    c.append(Case("sc.broadcast_to", "b_op", ("sc.broadcast_to", bt, {"shape": [3, 4, 5]}), bt, "sc.broadcast_to"))
    c.append(Case("sc.reshape-view", "b_op", ("sc.reshape", x, {"shape": [3, -1]}), x, "sc.reshape"))
    c.append(Case("sc.reshape-copy", "b_expr", ("T.reshape(a.T, (3, 8))", x), x, "sc.reshape"))
    dyn = [In(F64, (4, 6)), In("int64", (), kind="range:2:3")]
    c.append(Case("sc.reshape-dyn", "b_op", ("sc.reshape", dyn, {"shape": [None, -1]}), dyn, "sc.reshape"))
    cat = [In(F64, (2, 5)), In(F64, (3, 5)), In(F64, (1, 5))]
    c.append(Case("sc.concatenate", "b_op", ("sc.concatenate", cat, {"axis": 0}), cat, "sc.concatenate"))
    cat1 = [In("bool", (3, 2)), In("bool", (3, 4))]
    c.append(Case("sc.concatenate-1", "b_op", ("sc.concatenate", cat1, {"axis": 1}), cat1, "sc.concatenate"))
    c.append(Case("sc.dim", "b_op", ("sc.dim", x, {"axis": 1}), x, "sc.dim"))
    for d, (lo, hi, st) in (("int64", ("range:-5:-4", "range:40:41", "range:3:4")),
                            (F64, ("range:0.5:0.6", "range:7:8", "range:0.25:0.3"))):
        ar = [In(d, (), kind=lo), In(d, (), kind=hi), In(d, (), kind=st)]
        c.append(Case(f"sc.arange-{d}", "b_op", ("sc.arange", ar, {}), ar, "sc.arange"))
    c.append(Case("sc.constant", "b_expr", ("[a + T.constant(np.arange(6.0).reshape(1, 6)), T.constant(3.5)]", x),
                  x, "sc.constant"))
    sub = [In(F64, (7, 9)), In("int64", (), kind="range:-3:-2")]
    c.append(Case("sc.subtensor", "b_op", ("sc.subtensor", sub, {"index": ["?", "::-2"]}), sub, "sc.subtensor"))
    c.append(Case("sc.subtensor-views", "b_expr", ("[a[1:, ::3] * 2, a[::-1, 2] + 1, a.T[3:0:-1]]", sub[:1]),
                  sub[:1], "sc.subtensor"))
    return c


def _indexing() -> list:
    c = []
    for d, setmode in ((F64, False), ("int16", False), (F64, True)):
        ins = [In(d, (6, 8)), In(d, (3, 1), (None, 1))]
        c.append(Case(f"sc.inc_subtensor-{d}-{setmode}", "b_op",
                      ("sc.inc_subtensor", ins, {"index": ["1::2", "2:"], "set": setmode}), ins, "sc.inc_subtensor"))
    for d, idt in ((F64, "int64"), (F32, "int32"), ("int8", "uint8")):
        ins = [In(d, (9, 40)), In(idt, (5, 3), kind="index:9")]
        c.append(Case(f"sc.advanced_subtensor-{d}-{idt}", "b_op", ("sc.advanced_subtensor", ins, {"axis": 0}),
                      ins, "sc.advanced_subtensor"))
    ins = [In(F64, (4, 9, 5)), In("int64", (6,), kind="index:9"), In("int64", (6,), kind="index:5")]
    c.append(Case("sc.advanced_subtensor-2idx", "b_op", ("sc.advanced_subtensor", ins, {"axis": 1}), ins,
                  "sc.advanced_subtensor"))
    for d, setmode in ((F64, False), (F32, False), ("int16", False), ("int64", False), (F64, True)):
        ins = [In(d, (7, 4)), In(d, (30, 4)), In("int64", (30,), kind="index:7")]
        c.append(Case(f"sc.advanced_inc_subtensor-{d}-{setmode}", "b_op",
                      ("sc.advanced_inc_subtensor", ins, {"axis": 0, "set": setmode}), ins,
                      "sc.advanced_inc_subtensor"))
    ins = [In(F64, (3, 8)), In(F64, (), ()), In("int64", (2, 5), kind="index:8")]
    c.append(Case("sc.advanced_inc_subtensor-axis1", "b_op",
                  ("sc.advanced_inc_subtensor", ins, {"axis": 1, "set": False}), ins, "sc.advanced_inc_subtensor"))
    return c


def _fused() -> list:
    c = []
    three = [In(F64, (5, 33)), In(F64, (1, 33), (1, None)), In(F64, (5, 1), (None, 1))]
    c.append(Case("sc.fused-elementwise", "b_fused", (three, "T.exp(a) * b + T.tanh(c) / 2.0"), three, "sc.fused"))
    c.append(Case("sc.fused-compare", "b_fused", (three, "T.switch(a > b, a, c * 3.0)"), three, "sc.fused"))
    c.append(Case("sc.fused-sum", "b_fused", (three, "a * b - c", "add", (1,)), three, "sc.fused"))
    c.append(Case("sc.fused-max", "b_fused", (three, "a + c", "max", (0,)), three, "sc.fused"))
    c.append(Case("sc.fused-prod-all", "b_fused", (three[:1], "a * 0.01 + 1.0", "mul", (0, 1)), three[:1],
                  "sc.fused"))
    f32 = [In(F32, (9, 70)), In(F32, (9, 70))]
    c.append(Case("sc.fused-f32-min", "b_fused", (f32, "T.sqrt(a * a + b * b)", "min", (1,)), f32, "sc.fused"))
    ints = [In("int32", (4, 50), kind="wide"), In("int32", (4, 50), kind="small")]
    c.append(Case("sc.fused-int", "b_fused", (ints, "a // (b + 7) + (a % 5)"), ints, "sc.fused"))
    c.append(Case("sc.fused-int-sum", "b_fused", (ints, "a * b", "add", (0, 1)), ints, "sc.fused"))
    return c


def assign_cases() -> list:
    """sc.assign (shared-variable updates)."""
    return [Case(f"sc.assign-{d}", "b_counter", (d,), [In(d, (3,))], "sc.assign") for d in (F64, "int32")]


CPU_ONLY = {"sc.matrix_inverse", "sc.det", "sc.eigh", "sc.eig", "sc.svd", "sc.svdvals", "sc.qr", "sc.cholesky",
            "sc.solve", "sc.solve_triangular", "sc.cumprod", "sc.sort", "sc.argsort", "sc.print"}
"""The LAPACK ops (symcomp/ir/ops/lapack.py) and sc.cumprod, sc.sort, sc.argsort
(symcomp/ir/ops/extra.py), sc.print: the CUDA backend has no lowering for them yet (cuSOLVER would be the
library of the first); compiling one for CUDA raises NotImplementedError naming it."""


def every_op_covered(cases) -> set:
    """The registered ops (structural and CPU-only ones excepted) that no case exercises."""
    return set(OPS) - STRUCTURAL - CPU_ONLY - {c.op for c in cases}


BUILDERS["b_permutation"] = b_permutation
