"""The representative set of the MLIR interop: every exported op, in several dtypes.

Each case is a small symbolic function.  For every case:

* all its dtype variants, exported together as one module, pass the real
  ``mlir-opt-22 --verify-each --verify-diagnostics`` and round-trip through
  mlir-opt's printer and parser (custom and generic forms);
* each variant compiled with ``mode="mlir"`` agrees with the native CPU
  backend and with the NumPy reference interpreter.

Where the MLIR tools are absent the tests skip, except in CI (``CI`` set),
where they fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.modes import get_mode
from symcomp.compile.trace import trace
from symcomp.mlir import tools
from symcomp.mlir.export import export_func

from helpers import require_mlir_tools


@pytest.fixture(autouse=True, scope="module")
def _mlir_tools():
    require_mlir_tools()


F = ["float64", "float32"]
I = ["int64", "int32", "int8", "uint8", "uint64"]


@dataclass
class Case:
    """A symbolic function per dtype, and data for it.

    Attributes:
        build: dtype -> (inputs, outputs).
        data: (dtype, rng) -> argument arrays.
        dtypes: the dtypes exercised.
        rtol: tolerance of float outputs, in units of the dtype's machine
            epsilon (relative, and absolute near zero): libm and NumPy's own
            math may differ by a few ULP.  0 asks for exact equality.
    """

    build: Callable
    data: Callable
    dtypes: list
    rtol: float = 0.0


def _floats(dt, rng, shape=(3, 5)):
    x = rng.standard_normal(shape) * 3
    x.flat[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, 700.0, -745.0]
    return x.astype(dt)


def _ints(dt, rng, shape=(3, 5), lo=None, hi=None):
    info = np.iinfo(dt)
    lo = max(info.min, -100) if lo is None else lo
    hi = min(info.max, 100) if hi is None else hi
    x = rng.integers(lo, hi, size=shape, endpoint=True).astype(dt)
    x.flat[:3] = [info.min, info.max, 0]
    return x


def _data(dt, rng, shape=(3, 5)):
    dt = np.dtype(dt)
    if dt.kind == "f":
        return _floats(dt, rng, shape)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    return _ints(dt, rng, shape)


FLOAT_UNARY = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "sin", "cos", "tan", "arcsin",
               "arccos", "arctan", "sinh", "cosh", "tanh", "erf", "erfc", "floor", "ceil", "round", "trunc",
               "sigmoid", "softplus", "isnan", "isinf", "neg", "abs", "sgn"]


def _float_unary(dt):
    x = T.matrix("x", dtype=dt)
    return [x], [getattr(T, name)(x) for name in FLOAT_UNARY]


def _int_unary(dt):
    x = T.matrix("x", dtype=dt)
    return [x], [T.neg(x), T.abs(x), T.sgn(x), T.invert(x), T.sqr(x)]


def _arith(dt):
    x, y = T.matrix("x", dtype=dt), T.row("y", dtype=dt)
    outs = [x + y, x - y, x * y, T.floor_div(x, y), T.mod(x, y), T.maximum(x, y), T.minimum(x, y), x / y]
    if np.dtype(dt).kind == "f":
        outs += [T.pow(x, y), T.arctan2(x, y)]
    else:
        outs += [T.pow(x, T.abs(y) % 5)]
    return [x, y], outs


def _arith_data(dt, rng):
    x = _data(dt, rng)
    y = _data(dt, rng, (1, 5))
    if np.dtype(dt).kind in "iu":
        info = np.iinfo(dt)
        y[0, :3] = [0, 1, 3]
        if info.min < 0:
            x[0, 3], y[0, 3] = info.min, -1  # INT_MIN // -1 wraps
            y[0, 4] = -7
    else:
        y[0, :3] = [0.0, -0.0, np.inf]
        x[0, 2] = 2.5  # (+-inf) % inf: test_mlir_backend.py tests it against NumPy
    return [x, y]


def _compare_logical(dt):
    x, y = T.matrix("x", dtype=dt), T.matrix("y", dtype=dt)
    outs = [T.eq(x, y), T.neq(x, y), T.lt(x, y), T.le(x, y), T.gt(x, y), T.ge(x, y), T.switch(T.lt(x, y), x, y)]
    if np.dtype(dt).kind in "iub":
        outs += [T.and_(x, y), T.or_(x, y), T.xor(x, y), T.invert(x)]
    if np.dtype(dt).kind == "b":
        outs += [T.maximum(x, y), T.minimum(x, y)]
    return [x, y], outs


def _compare_data(dt, rng):
    x, y = _data(dt, rng), _data(dt, rng)
    y[0] = x[0]  # equal entries, NaN against NaN included
    return [x, y]


CAST_TARGETS = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32",
                "float64"]


def _cast(dt):
    x = T.matrix("x", dtype=dt)
    return [x], [T.cast(x, t) for t in CAST_TARGETS]


def _cast_data(dt, rng):
    dt = np.dtype(dt)
    if dt.kind == "f":  # in range of every target: NumPy leaves out-of-range float->int casts undefined
        return [np.array([[0.0, -0.0, 0.5, 0.99, 1.9, 7.5, 100.7, 3.0]], dt)]
    return [_data(dt, rng)]


def _reduce(dt):
    x = T.tensor3("x", dtype=dt)
    outs = [T.sum(x), T.sum(x, axis=1), T.prod(x, axis=(0, 2)), T.max(x, axis=2), T.min(x, axis=(0, 1)),
            T.argmax(x, axis=1), T.argmin(x), T.max(x, axis=0, keepdims=True)]
    return [x], outs


def _reduce_data(dt, rng):
    x = _data(dt, rng, (2, 3, 4))
    if np.dtype(dt).kind == "f":
        x = rng.standard_normal((2, 3, 4)).astype(dt)
        x[1, 1, 2] = np.nan
        x[0, :, 1] = x[0, 0, 1]  # ties: the first position wins
    elif np.dtype(dt).kind in "iu":
        x = (x % 7).astype(dt)
    return [x]


def _dot(dt):
    a, b, v, u = T.matrix("a", dtype=dt), T.matrix("b", dtype=dt), T.vector("v", dtype=dt), T.vector("u", dtype=dt)
    return [a, b, v, u], [T.dot(a, b), T.dot(a, v), T.dot(u, a), T.dot(v, v)]


def _dot_data(dt, rng):
    def arr(shape):
        x = rng.standard_normal(shape) if np.dtype(dt).kind == "f" else rng.integers(-9, 9, shape)
        return x.astype(dt)

    return [arr((4, 3)), arr((3, 5)), arr((3,)), arr((4,))]


def _shape(dt):
    x, y, v = T.tensor3("x", dtype=dt), T.matrix("y", dtype=dt), T.vector("v", dtype=dt)
    n = x.shape[0]
    outs = [x.transpose(2, 0, 1), x.dimshuffle(1, "x", 0, 2), T.reshape(x, (-1, 4)), T.flatten(x),
            T.reshape(x, (n, -1)), T.reshape(v, (2, 3)), T.reshape(x[0, 0, 0], (1, 1)),
            T.reshape(v, (6,))[None, :].squeeze(0), T.broadcast_to(v[:3, None], (2, x.shape[1], 3)),
            T.concatenate([x[0], y], axis=0), T.stack([y, y]), T.expand_dims(v, (0, 2)), T.ones_like(y) * v[0],
            T.reshape(x.transpose(1, 0, 2), (3, -1))]
    return [x, y, v], outs


def _shape_data(dt, rng):
    return [_data(dt, rng, (2, 3, 4)), _data(dt, rng, (5, 4)), _data(dt, rng, (6,))]


def _index_basic(dt):
    x, i, j = T.matrix("x", dtype=dt), T.lscalar("i"), T.iscalar("j")
    y = T.vector("y", dtype=dt)
    outs = [x[1], x[-1, 2:], x[::2, ::-1], x[i], x[1:i, j], x[:, i:j:2], x[::-2, -3::-1], x[i:, ::j],
            x[10:20], x[-1:-4:-1, 1], T.set_subtensor(x[1:3, ::2], y[:3]), T.inc_subtensor(x[i, 1:], y[0]),
            T.inc_subtensor(x[:, j], y[:4])]
    return [x, i, j, y], outs


def _index_basic_data(dt, rng):
    return [_data(dt, rng, (4, 5)), np.int64(2), np.int32(-1), _data(dt, rng, (6,))]


def _index_advanced(dt):
    x, idx, k = T.matrix("x", dtype=dt), T.lvector("idx"), T.bmatrix("k")
    y = T.matrix("y", dtype=dt)
    outs = [x[idx], x[:, idx], x[idx, idx[::-1]], x[k], x[1:, k[0]], T.inc_subtensor(x[idx], y[0]),
            T.set_subtensor(x[idx, 1], y[0, :3]), T.inc_subtensor(x[:, k[0, :2]], y[:, :2]), x[2, idx]]
    return [x, idx, k, y], outs


def _index_advanced_data(dt, rng):
    return [_data(dt, rng, (4, 5)), np.array([0, -1, 2]), np.array([[1, 1], [0, -4], [3, 2]], np.int8),
            _data(dt, rng, (4, 5))]


def _nnet(dt):
    x = T.matrix("x", dtype=dt)
    return [x], [T.nnet.softmax(x), T.nnet.log_softmax(x), T.nnet.softmax(x, axis=0), T.nnet.log_softmax(x, axis=0)]


def _nnet_data(dt, rng):
    x = (rng.standard_normal((3, 5)) * 4).astype(dt)
    x[2] = [1000.0, -1000.0, 0.0, 3.0, 5.0]
    return [x]


def _arange(dt):
    start, stop, step = (T.scalar(n, dtype=dt) for n in ("start", "stop", "step"))
    outs = [T.arange(start, stop, step), T.arange(start, start, step)]
    if np.dtype(dt).kind != "u":  # the reference's np.arange wraps around for unsigned stop < start
        outs.append(T.arange(stop, start, step))
    return [start, stop, step], outs


def _arange_data(dt, rng):
    kind = np.dtype(dt).kind
    if kind == "f":
        return [np.asarray(v, dt) for v in (0.5, 7.25, 0.75)]
    return [np.asarray(v, dt) for v in (2, 29, 3)]


CASES = {
    "float_unary": Case(_float_unary, lambda dt, rng: [_floats(dt, rng)], F, rtol=16),
    "int_unary": Case(_int_unary, lambda dt, rng: [_data(dt, rng)], I),
    "arith": Case(_arith, _arith_data, F + I, rtol=4),
    "compare_logical": Case(_compare_logical, _compare_data, F + I + ["bool"]),
    "cast": Case(_cast, _cast_data, F + I + ["bool", "int16", "uint16", "uint32"]),
    "reduce": Case(_reduce, _reduce_data, F + ["int32", "uint8"], rtol=8),
    "dot": Case(_dot, _dot_data, F + ["int64", "int32"], rtol=8),
    "shape": Case(_shape, _shape_data, ["float64", "int32", "bool"]),
    "index_basic": Case(_index_basic, _index_basic_data, ["float64", "int64", "uint8"]),
    "index_advanced": Case(_index_advanced, _index_advanced_data, ["float64", "int32", "float32"]),
    "nnet": Case(_nnet, _nnet_data, F, rtol=16),
    "arange": Case(_arange, _arange_data, ["float64", "float32", "int64", "int16", "uint32"]),
}


def _traced(case: Case, dt: str, name: str):
    inputs, outputs = case.build(dt)
    module, sig = trace(inputs, outputs, name=name, on_unused_input="ignore")
    get_mode("fast").optimize(module, {}, {})
    return module


@pytest.mark.parametrize("name", sorted(CASES))
def test_export_verifies_and_round_trips(name):
    case = CASES[name]
    funcs = [export_func(_traced(case, dt, f"{name}_{dt}").func()).text for dt in case.dtypes]
    text = "module {\n" + "\n".join(funcs) + "\n}\n"
    printed = tools.run_tool("mlir-opt", ["--verify-each", "--verify-diagnostics"], text)
    assert printed.count("func.func @") == len(case.dtypes)
    assert tools.run_tool("mlir-opt", [], printed) == printed
    generic = tools.run_tool("mlir-opt", ["--mlir-print-op-generic"], printed)
    assert '"linalg.generic"' in generic or '"tensor.' in generic
    assert tools.run_tool("mlir-opt", [], generic) == printed


def _check_close(got, want, eps_units, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, f"{what}: {got.dtype}{got.shape} vs {want.dtype}{want.shape}"
    if got.dtype.kind == "f" and eps_units:
        tol = eps_units * np.finfo(got.dtype).eps
        # atol: one subnormal step (libraries differ on whether tiny results flush to 0, e.g. scipy's expit)
        tiny = np.finfo(got.dtype).smallest_subnormal
        np.testing.assert_allclose(got, want, rtol=tol, atol=tiny, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


@pytest.mark.parametrize("name,dt", [(n, dt) for n in sorted(CASES) for dt in CASES[n].dtypes])
def test_mlir_backend_agrees_with_cpu_and_reference(name, dt):
    case = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name + dt)))
    args = case.data(dt, rng)
    results = {}
    for mode in ("mlir", "fast", "reference"):
        inputs, outputs = case.build(dt)
        f = symcomp.function(inputs, outputs, mode=mode, on_unused_input="ignore")
        before = [np.copy(a) for a in args]
        results[mode] = f(*args)
        for a, b in zip(args, before):
            np.testing.assert_array_equal(a, b)  # inputs are never modified
    for k, (m, c, r) in enumerate(zip(results["mlir"], results["fast"], results["reference"])):
        _check_close(m, r, case.rtol, f"{name}[{dt}] output {k}: mlir vs reference")
        _check_close(m, c, case.rtol, f"{name}[{dt}] output {k}: mlir vs cpu")

