"""mode="mlir": the digits MLP training step, fused kernels, errors, the memory contract, broadcasting.

Results are checked against the NumPy reference interpreter and the native
CPU backend.  Without the MLIR tools the tests skip, except in CI (``CI``
set), where they fail.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu import compile_cpu
from symcomp.backends.cpu.toolchain import machine
from symcomp.compile.trace import Signature
from symcomp.ir import types as Ty
from symcomp.ir.module import ReturnOp, new_func, new_module
from symcomp.ir.opdef import build
from symcomp.ir.ops import elementwise as E
from symcomp.ir.ops.fused import Fused
from symcomp.ir.verifier import verify
from symcomp.mlir import tools
from symcomp.mlir.backend import MLIRExecutable

from helpers import example, require_mlir_tools


@pytest.fixture(autouse=True, scope="module")
def _mlir_tools():
    require_mlir_tools()


# -- the digits MLP training step (examples/mlp_digits.py) -------------------------------------------
def _mlp(mode: str, n_hidden: int = 32):
    """The training step and predictor of examples/mlp_digits.py (64 -> n_hidden -> 10) compiled in ``mode``."""
    return example("mlp_digits").build(64, n_hidden, 10, 0.5, "tanh", "cpu", mode=mode)


def test_mlp_training_step_agrees_across_backends():
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data[:300] / 16.0, digits.target[:300].astype(np.int64)
    runs = {}
    for mode in ("mlir", "fast", "reference"):
        step, predict, params = _mlp(mode)
        losses = [float(step(X, y)) for _ in range(4)]
        runs[mode] = (losses, [p.get_value() for p in params], predict(X))
    losses, params, labels = runs["mlir"]
    assert losses[-1] < losses[0]  # it learns
    for other in ("fast", "reference"):
        np.testing.assert_allclose(losses, runs[other][0], rtol=1e-12)
        for p, q in zip(params, runs[other][1]):
            np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-13)
        np.testing.assert_array_equal(labels, runs[other][2])


# -- fused kernels (built by hand: the fuse pass makes them) --------------------------------------
def _fused_module(arg_types, body, reduce: str = "", axes=()):
    """A module with one function returning one ``sc.fused`` of its arguments."""
    f = new_func("fused", arg_types, [f"a{i}" for i in range(len(arg_types))])
    op = Fused.from_body(list(f.args), body, reduce, axes)
    f.body.append(op)
    f.body.append(ReturnOp([op.result], [], {}))
    module = new_module([f])
    verify(module)
    return module


def _run(cls, module, args):
    return cls(module, Signature(n_outputs=1), {}).run([np.asarray(a) for a in args])[0][0]


def _axpy_exp(a, b, c):
    prod = build(E.Mul, [build(E.Exp, [a]) if a.type.dtype.is_float else a, b])
    return build(E.Add, [prod, c])


_NP_REDUCE = {"": None, "add": np.sum, "max": np.max, "min": np.min, "mul": np.prod}


@pytest.mark.parametrize("dtype", ["float64", "int32"])
@pytest.mark.parametrize("reduce,axes", [("", ()), ("add", (1,)), ("max", (0, 1)), ("min", (0,)), ("mul", (1,))])
def test_fused_elementwise_and_reduction(dtype, reduce, axes):
    types = [Ty.TensorType(dtype, (None, None)), Ty.TensorType(dtype, (1, None)), Ty.TensorType(dtype, (None, 1))]
    rng = np.random.default_rng(7)
    if dtype == "float64":
        args = [rng.standard_normal((4, 5)), rng.standard_normal((1, 5)), rng.standard_normal((4, 1))]
    else:
        args = [rng.integers(-4, 5, s).astype(dtype) for s in ((4, 5), (1, 5), (4, 1))]
    got = _run(MLIRExecutable, _fused_module(types, _axpy_exp, reduce, axes), args)
    cpu = _run(compile_cpu, _fused_module(types, _axpy_exp, reduce, axes), args)
    a, b, c = args
    want = (np.exp(a) if dtype == "float64" else a) * b + c
    if reduce:
        want = _NP_REDUCE[reduce](want, axis=axes).astype(dtype)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    np.testing.assert_allclose(got, cpu, rtol=1e-14)


def test_fused_signed_power_with_negative_exponent_raises():
    types = [Ty.TensorType("int64", (None,)), Ty.TensorType("int64", (None,))]
    module = _fused_module(types, lambda a, b: build(E.Pow, [a, b]))
    exe = MLIRExecutable(module, Signature(n_outputs=1), {})
    np.testing.assert_array_equal(exe.run([np.array([2, 3]), np.array([3, 0])])[0][0], [8, 1])
    with pytest.raises(ValueError, match="negative integer powers.*sc.fused"):
        exe.run([np.array([2, 3]), np.array([1, -1])])


# -- errors -------------------------------------------------------------------------------------------
def test_out_of_bounds_integer_array_index_raises_index_error():
    x, idx = T.dmatrix("x"), T.lvector("idx")
    f = symcomp.function([x, idx], [x[idx], T.inc_subtensor(x[idx], 1.0)], mode="mlir")
    X = np.arange(6.0).reshape(3, 2)
    got, inc = f(X, np.array([2, -3, 2]))
    np.testing.assert_array_equal(got, X[[2, -3, 2]])
    want = X.copy()
    np.add.at(want, [2, -3, 2], 1.0)
    np.testing.assert_array_equal(inc, want)
    for bad, index in (([3], 3), ([-4], -4), ([0, 7], 7)):
        with pytest.raises(IndexError, match=rf"sc.advanced_subtensor: index {index} is out of bounds for axis 0 "
                                             r"with size 3 \(in sc.advanced_subtensor created at"):
            f(X, np.array(bad))


def test_negative_integer_power_raises_value_error():
    x, y = T.lvector("x"), T.lvector("y")
    f = symcomp.function([x, y], x ** y, mode="mlir")
    np.testing.assert_array_equal(f([2, 3], [10, 0]), [1024, 1])
    with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
        f([2, 3], [1, -2])


def test_mismatched_dynamic_shapes_are_refused_before_the_call():
    x, y = T.dvector("x"), T.dvector("y")
    f = symcomp.function([x, y], x + y, mode="mlir")
    with pytest.raises(ValueError, match="sc.add"):
        f(np.ones(3), np.ones(4))
    m = T.dmatrix("m")
    g = symcomp.function([m, x], T.dot(m, x), mode="mlir")
    with pytest.raises(ValueError, match="sc.dot"):
        g(np.ones((2, 3)), np.ones(4))
    i = T.lscalar("i")
    h = symcomp.function([x, i], x[i], mode="mlir")
    assert h(np.arange(3.0), -1) == 2.0
    with pytest.raises(IndexError, match="out of bounds"):
        h(np.arange(3.0), 3)


def test_mlir_mode_is_cpu_only():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="CPU only"):
        symcomp.function([x], x + 1, mode="mlir", device="cuda")


def test_missing_tools_raise_with_install_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMCOMP_MLIR_BIN", str(tmp_path))
    x = T.dvector("x")
    with pytest.raises(tools.MLIRToolError, match="apt-get install mlir-22-tools"):
        symcomp.function([x], x + 1, mode="mlir")


# -- memory contract and layouts ------------------------------------------------------------------
def test_outputs_are_fresh_and_inputs_untouched():
    x = T.dmatrix("x")
    f = symcomp.function([x], [x, x, x.T, T.set_subtensor(x[0], 5.0)], mode="mlir")
    X = np.arange(6.0).reshape(2, 3)
    a, b, c, d = f(X)
    np.testing.assert_array_equal(X, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(c, X.T)
    np.testing.assert_array_equal(d[0], 5.0)
    for o in (a, b, c, d):
        assert not np.shares_memory(o, X)
    assert not np.shares_memory(a, b)


def test_strided_and_byte_swapped_inputs():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = symcomp.function([x, y], T.exp(x) * y, mode="mlir")
    base = np.random.default_rng(3).standard_normal((6, 8))
    xs = base[::2, 1::3]
    ys = base.T[:3, :3].astype(">f8")
    np.testing.assert_allclose(f(xs, ys), np.exp(xs) * ys, rtol=1e-15)


def test_shared_variable_updates_and_zero_size_arrays():
    w = symcomp.shared(np.ones(3), name="w")
    x = T.dvector("x")
    f = symcomp.function([x], T.sum(x), updates=[(w, w * 2 + T.sum(x))], mode="mlir")
    assert f(np.zeros(0)) == 0.0
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0, 2.0])
    f(np.ones(2))
    np.testing.assert_array_equal(w.get_value(), [6.0, 6.0, 6.0])
    g = symcomp.function([x], T.max(x), mode="mlir")
    with pytest.raises(ValueError, match="empty axis"):
        g(np.zeros(0))


def test_dump_stages():
    x = T.dmatrix("x")
    f = symcomp.function([x], T.sum(T.exp(x), axis=1), mode="mlir")
    assert "linalg.generic" in f.dump("mlir") and '"reduction"' in f.dump("mlir")
    assert "bufferization.materialize_in_destination" in f.dump("mlir-dps")
    assert "llvm.func" in f.dump("mlir-llvm")
    assert "_mlir_ciface_symcomp_entry" in f.dump("llvm")
    g = symcomp.function([x], T.sum(T.exp(x), axis=1))  # the native backend's IR exports too
    assert g.dump("mlir") == f.dump("mlir")


# -- broadcasting (hypothesis) ----------------------------------------------------------------------
_BINARY = {"add": T.add, "mul": T.mul, "maximum": T.maximum, "floor_div": T.floor_div, "mod": T.mod, "lt": T.lt}


@functools.lru_cache(maxsize=None)
def _binary_fn(op: str, dtype: str, pattern_x: tuple, pattern_y: tuple):
    x = T.tensor(dtype, broadcastable=pattern_x, name="x")
    y = T.tensor(dtype, broadcastable=pattern_y, name="y")
    out = _BINARY[op](x, y)
    return symcomp.function([x, y], out, mode="mlir"), symcomp.function([x, y], out, mode="reference")


@st.composite
def _broadcast_case(draw):
    rank = draw(st.integers(1, 3))
    shape = draw(st.lists(st.integers(0, 4), min_size=rank, max_size=rank))
    px = tuple(draw(st.lists(st.booleans(), min_size=rank, max_size=rank)))
    py = tuple(draw(st.lists(st.booleans(), min_size=rank, max_size=rank)))
    dtype = draw(st.sampled_from(["float64", "float32", "int32", "uint8"]))
    op = draw(st.sampled_from(sorted(_BINARY)))
    elements = hnp.from_dtype(np.dtype(dtype), allow_nan=True, allow_infinity=True) if dtype[0] == "f" else None
    xs = tuple(1 if b else d for b, d in zip(px, shape))
    ys = tuple(1 if b else d for b, d in zip(py, shape))
    x = draw(hnp.arrays(dtype, xs, elements=elements))
    y = draw(hnp.arrays(dtype, ys, elements=elements))
    return op, dtype, px, py, x, y


@settings(max_examples=20)
@given(_broadcast_case())
def test_broadcasting_binary_ops_match_reference(case):
    op, dtype, px, py, x, y = case
    f, ref = _binary_fn(op, dtype, px, py)
    np.testing.assert_array_equal(f(x, y), ref(x, y))


# -- float corner cases ------------------------------------------------------------------------------
_SPECIAL = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1.5, -1.5, 5e-324, 1e308]


def _special_grid(dtype):
    with np.errstate(over="ignore"):  # 1e308 is inf in float32
        values = np.array(_SPECIAL).astype(dtype)
    x, y = np.meshgrid(values, values)
    return x.ravel(), y.ravel()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_float_mod_and_floor_div_of_special_values(dtype):
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    f = symcomp.function([x, y], [T.mod(x, y), T.floor_div(x, y)], mode="mlir")
    a, b = _special_grid(dtype)
    mod, div = f(a, b)
    with np.errstate(all="ignore"):
        want_mod, want_div = np.mod(a, b), np.floor_divide(a, b)
    for got, want in ((mod, want_mod), (div, want_div)):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # signed zeros too


def _saturated(values: np.ndarray, target: str) -> np.ndarray:
    """Float -> integer conversion that truncates toward zero and saturates, NaN -> 0 (LLVM's fptosi.sat)."""
    info = np.iinfo(target)
    out = []
    for v in values.astype(np.float64):
        if np.isnan(v):
            out.append(0)
        elif v >= info.max + 1.0 or v == np.inf:
            out.append(info.max)
        elif v <= info.min - 1.0 or v == -np.inf:
            out.append(info.min)
        else:
            out.append(max(info.min, min(info.max, int(v))))
    return np.array(out, dtype=target)


@pytest.mark.parametrize("src", ["float64", "float32"])
def test_float_to_int_casts_saturate(src):
    targets = ["int8", "uint8", "int32", "uint32", "int64", "uint64"]
    x = T.vector("x", dtype=src)
    f = symcomp.function([x], [T.cast(x, t) for t in targets], mode="mlir")
    with np.errstate(over="ignore"):
        values = np.array([np.nan, np.inf, -np.inf, -0.9, 0.9, -1.0, 127.9, 128.0, -128.9, -129.0, 255.9, 256.0,
                           2.0 ** 31, -(2.0 ** 31) - 1, 2.0 ** 32, 2.0 ** 63, -(2.0 ** 63), 2.0 ** 64, 1e30, -1e30],
                          dtype=src)
    for t, got in zip(targets, f(values)):
        np.testing.assert_array_equal(got, _saturated(values, t), err_msg=f"{src} -> {t}")


@pytest.mark.parametrize("dtype", ["uint8", "uint64"])
def test_unsigned_power_wraps_like_numpy(dtype):
    """Exponents with the top bit set (negative to math.ipowi) still give x**y modulo 2**n."""
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    f = symcomp.function([x, y], x ** y, mode="mlir")
    top = np.iinfo(dtype).max
    X = np.array([0, 1, 2, 3, 5, 7, top], dtype)
    for e in (0, 1, 7, top // 2, top // 2 + 1, top // 2 + 6, top):
        Y = np.full(X.shape, e, dtype)
        np.testing.assert_array_equal(f(X, Y), np.power(X, Y), err_msg=f"exponent {e}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_math_functions_keep_relative_accuracy_near_zero(dtype):
    """log1p(x) must not become log(1 + x), nor expm1(x) exp(x) - 1 (MLIR's math-to-llvm expansions)."""
    import scipy.special as sps

    pairs = [(T.log1p, np.log1p), (T.expm1, np.expm1), (T.sin, np.sin), (T.tan, np.tan), (T.arcsin, np.arcsin),
             (T.arctan, np.arctan), (T.sinh, np.sinh), (T.tanh, np.tanh), (T.erf, sps.erf), (T.sqrt, np.sqrt)]
    x = T.vector("x", dtype=dtype)
    f = symcomp.function([x], [ours(x) for ours, _ in pairs], mode="mlir")
    tiny = np.finfo(dtype).tiny
    values = np.array([tiny, 1e-30, 3e-17, 1e-10, 1e-6], dtype)
    eps = np.finfo(dtype).eps
    for got, (_, ref) in zip(f(values), pairs):
        np.testing.assert_allclose(got, ref(values).astype(dtype), rtol=4 * eps, atol=0, err_msg=ref.__name__)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vectorized_math_on_long_arrays(dtype):
    """Long rows take the vectorized loops (libmvec calls): still within a few ULP of NumPy, specials exact."""
    names = ["exp", "exp2", "log", "log2", "log10", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
             "cosh", "tanh", "sigmoid"]
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    f = symcomp.function([x, y], [getattr(T, n)(x) for n in names] + [x ** y, T.arctan2(x, y)], mode="mlir")
    ref = symcomp.function([x, y], [getattr(T, n)(x) for n in names] + [x ** y, T.arctan2(x, y)], mode="reference")
    rng = np.random.default_rng(11)
    a = rng.uniform(-4, 4, 1000).astype(dtype)
    a[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0]
    b = rng.uniform(-3, 3, 1000).astype(dtype)
    eps = np.finfo(dtype).eps
    for name, got, want in zip(names + ["pow", "arctan2"], f(a, b), ref(a, b)):
        np.testing.assert_allclose(got, want, rtol=16 * eps, atol=0, equal_nan=True, err_msg=name)
    assert "_ZGV" in f.dump("llvm-optimized") or not machine.target().has_libmvec
