"""Native entry points: a symcomp kernel called through its address from ctypes, Numba and cffi."""

import ctypes
import functools

import numpy as np
import pytest

import symcomp
from symcomp import embed, ir
from symcomp import tensor as T
from tests.helpers import assert_matches


@functools.cache
def _mlp_entry():
    """tanh(x @ w + b) summed over rows: BLAS, broadcasting, a reduction."""
    x, w, b = T.dmatrix("x"), T.dmatrix("w"), T.dvector("b")
    f = symcomp.function([x, w, b], T.tanh(T.dot(x, w) + b).sum(axis=0), name="layer")
    return embed.entry_point(f, {"x": (5, 4), "w": (4, 3), "b": (3,)})


def _layer_reference(x, w, b):
    return np.tanh(x @ w + b).sum(axis=0)


def _layer_inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)


def test_signature_header_and_python_call():
    e = _mlp_entry()
    assert e.c_signature == ("int32_t layer(const double *x, const double *w, const double *b, double *out0, "
                             "void *workspace)")
    assert [a.shape for a in e.abi.args] == [(5, 4), (4, 3), (3,), (3,)]
    assert "#define LAYER_OUT0_SIZE 3u" in e.c_header()
    x, w, b = _layer_inputs()
    assert_matches(e(x, w, b), _layer_reference(x, w, b))
    ws = np.empty(e.abi.workspace_bytes, np.uint8)
    assert_matches(e(x, w, b, workspace=ws), _layer_reference(x, w, b))


def test_ctypes_call_through_the_address():
    e = _mlp_entry()
    proto = ctypes.CFUNCTYPE(ctypes.c_int32, *([ctypes.c_void_p] * 5))
    fn = proto(e.address)
    x, w, b = _layer_inputs(1)
    out = np.full(3, np.nan)
    before = [a.copy() for a in (x, w, b)]
    status = fn(x.ctypes.data, w.ctypes.data, b.ctypes.data, out.ctypes.data, None)
    assert status == 0
    assert_matches(out, _layer_reference(x, w, b))
    for a, a0 in zip((x, w, b), before):
        np.testing.assert_array_equal(a, a0)  # inputs are only read


def test_numba_njit_calls_the_kernel():
    numba = pytest.importorskip("numba")
    e = _mlp_entry()
    kernel = e.cfunc

    @numba.njit
    def batched(xs, w, b, out):
        status = 0
        for i in range(xs.shape[0]):
            status |= kernel(xs[i].ctypes, w.ctypes, b.ctypes, out[i].ctypes, 0)
        return status

    rng = np.random.default_rng(2)
    xs = rng.standard_normal((7, 5, 4))
    _, w, b = _layer_inputs(2)
    out = np.empty((7, 3))
    assert batched(xs, w, b, out) == 0
    for i in range(7):
        assert_matches(out[i], _layer_reference(xs[i], w, b))


def test_cffi_calls_the_kernel_from_its_c_signature():
    cffi = pytest.importorskip("cffi")
    e = _mlp_entry()
    ffi = cffi.FFI()
    ffi.cdef(e.c_signature + ";")  # the documented prototype is valid C for cffi's parser
    fn = ffi.cast("int32_t (*)(const double *, const double *, const double *, double *, void *)", e.address)
    x, w, b = _layer_inputs(3)
    out = np.empty(3)
    buf = [ffi.from_buffer("double[]", a) for a in (x, w, b)]
    assert fn(*buf, ffi.from_buffer("double[]", out), ffi.NULL) == 0
    assert_matches(out, _layer_reference(x, w, b))


def test_updates_of_shared_variables_are_outputs():
    w = symcomp.shared(np.array([1.0, 2.0, 3.0]), name="w")
    x = T.dvector("x")
    f = symcomp.function([x], (x * w).sum(), updates={w: w * 0.5 + x})
    e = embed.entry_point(f, [(3,)])
    assert [(a.role, a.name) for a in e.abi.args] == [("in", "x"), ("in", "w"), ("out", "out0"),
                                                      ("update", "new_w")]
    xv = np.array([0.5, -1.0, 4.0])
    total, new_w = e(xv, w.get_value())
    assert_matches(total, np.float64((xv * [1.0, 2.0, 3.0]).sum()))
    assert_matches(new_w, np.array([1.0, 2.0, 3.0]) * 0.5 + xv)
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0, 3.0])  # the kernel never touches the variable


def test_error_codes_name_the_failing_op():
    x, i = T.dvector("x"), T.lvector("i")
    f = symcomp.function([x, i], x[i] * 2.0, name="gather")
    e = embed.entry_point(f, [(4,), (2,)])
    xv = np.arange(4.0)
    assert_matches(e(xv, np.array([3, -4])), np.array([6.0, 0.0]))
    out = np.empty(2)
    status = e.cfunc(xv.ctypes.data_as(e.cfunc.argtypes[0]), np.array([1, 9]).ctypes.data_as(e.cfunc.argtypes[1]),
                     out.ctypes.data_as(e.cfunc.argtypes[2]), None)
    assert status & 15 == embed.ERR_INDEX
    assert e.abi.ops[status >> 4].startswith("sc.advanced_subtensor")
    with pytest.raises(IndexError, match="index out of bounds in sc.advanced_subtensor"):
        e(xv, np.array([1, 9]))


def test_static_shapes_need_no_argument_and_wrong_shapes_are_refused():
    b = ir.Builder()
    with b.function("mix", [("x", "tensor<2x3xf32>"), ("y", "tensor<?x3xf32>")]) as fb:
        fb.ret(fb.op("sc.sub", *fb.args))
    m = b.finish()
    with pytest.raises(ValueError, match="input 1 \\(y\\) has type tensor<\\?x3xf32> with dynamic sizes"):
        embed.entry_point(m)
    with pytest.raises(ValueError, match="shape \\(3, 3\\) for input 0 \\(x\\) does not fit"):
        embed.entry_point(m, [(3, 3), (2, 3)])
    with pytest.raises(ValueError, match="sc.sub operands have incompatible dimensions"):
        embed.entry_point(m, {"y": (4, 3)})
    e = embed.entry_point(m, {"y": (2, 3)}, name="mix2")
    x = np.ones((2, 3), np.float32)
    y = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert_matches(e(x, y), x - y)
    with pytest.raises(TypeError, match="dtype float32"):
        e(x.astype(np.float64), y)
    with pytest.raises(ValueError, match="C-contiguous of shape \\(2, 3\\)"):
        e(x, np.ones((2, 6), np.float32)[:, ::2])


def test_kernels_come_only_from_the_cpu_backend_and_fixed_plans():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="mode='reference'"):
        embed.entry_point(symcomp.function([x], x + 1.0, mode="reference"), [(3,)])
    n = T.lscalar("n")
    f = symcomp.function([n], T.arange(n) * 2)
    with pytest.raises(NotImplementedError, match="values of scalar arguments \\['n'\\]"):
        embed.entry_point(f, [()])
    with pytest.raises(ValueError, match="kernel name 'main' is reserved"):
        embed.entry_point(symcomp.function([x], x + 1.0), [(3,)], name="main")
    assert embed.entry_point(symcomp.function([x], x + 1.0), [(3,)]).abi.symbol == "main_kernel"


def test_the_ctypes_function_keeps_the_code_alive():
    import gc

    x = T.dvector("x")
    cfunc = embed.entry_point(symcomp.function([x], x * x + 1.0), [(4,)]).cfunc  # the NativeEntry is dropped
    gc.collect()
    xv, out = np.arange(4.0), np.empty(4)
    assert cfunc(xv.ctypes.data_as(cfunc.argtypes[0]), out.ctypes.data_as(cfunc.argtypes[1]), None) == 0
    assert_matches(out, xv * xv + 1.0)
