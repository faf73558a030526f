"""2-d convolutions (T.nnet.conv2d and its gradients) against a direct reference built from
scipy.signal.correlate / convolve per channel, on the reference and CPU backends; finite-difference
gradients; shape errors; Theano's other entry points (conv2d_transpose, conv1d, T.nnet.conv)."""

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings, strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.tensor.nnet import abstract_conv

MODES = ["reference", "fast"]


def _dilate(k, d):
    """A filter with d - 1 zeros between its taps along each axis."""
    kh, kw = k.shape
    out = np.zeros(((kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1), dtype=k.dtype)
    out[::d[0], ::d[1]] = k
    return out


def _pads(border, kh, kw, d):
    dk = ((kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1)
    if border == "valid":
        return 0, 0
    if border == "full":
        return dk[0] - 1, dk[1] - 1
    if border == "half":
        return dk[0] // 2, dk[1] // 2
    if isinstance(border, int):
        return border, border
    return tuple(border)


def scipy_conv2d(x, w, border="valid", subsample=(1, 1), flip=True, dilation=(1, 1), groups=1):
    """Theano's conv2d computed per (image, output channel, input channel) with SciPy: a true
    convolution (scipy.signal.convolve) when ``flip``, else a cross-correlation, of the zero-padded
    image with the dilated filter, keeping every ``subsample``-th output."""
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    ph, pw = _pads(border, kh, kw, dilation)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    fg = f // groups
    rows = []
    for i in range(n):
        chans = []
        for o in range(f):
            gi = o // fg
            acc = 0
            for k in range(cg):
                kern = _dilate(w[o, k], dilation)
                img = xp[i, gi * cg + k]
                fn = scipy.signal.convolve if flip else scipy.signal.correlate
                acc = acc + fn(img, kern, mode="valid", method="direct")
            chans.append(acc[::subsample[0], ::subsample[1]])
        rows.append(chans)
    oh = (h + 2 * ph - (kh - 1) * dilation[0] - 1) // subsample[0] + 1
    ow = (wd + 2 * pw - (kw - 1) * dilation[1] - 1) // subsample[1] + 1
    return np.array(rows, dtype=x.dtype).reshape(n, f, oh, ow)


def _run(mode, fn, *arrays):
    syms = [T.tensor(a.dtype, shape=(None,) * a.ndim) for a in arrays]
    return symcomp.function(syms, fn(*syms), mode=mode)(*arrays)


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg = draw(st.integers(1, 3))
    fg = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    border = draw(st.sampled_from(["valid", "full", "half", 1, (2, 0), (0, 1)]))
    ph, pw = _pads(border, kh, kw, d)
    dk = ((kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1)
    h = draw(st.integers(max(1, dk[0] - 2 * ph), dk[0] - 2 * ph + 6))
    w = draw(st.integers(max(1, dk[1] - 2 * pw), dk[1] - 2 * pw + 6))
    n = draw(st.integers(1, 3))
    flip = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, cg * groups, h, w))
    f = r.normal(size=(fg * groups, cg, kh, kw))
    return x, f, dict(border_mode=border, subsample=s, filter_flip=flip, filter_dilation=d, num_groups=groups)


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=30)
@given(case=conv_case())
def test_conv2d_matches_scipy(mode, case):
    x, w, kw = case
    want = scipy_conv2d(x, w, kw["border_mode"], kw["subsample"], kw["filter_flip"], kw["filter_dilation"],
                        kw["num_groups"])
    got = _run(mode, lambda a, b: T.nnet.conv2d(a, b, **kw), x, w)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=20)
@given(case=conv_case())
def test_gradients_are_the_adjoints(mode, case):
    """<conv(x, w), g> = <x, grad_wrt_inputs(g, w)> = <w, grad_wrt_weights(x, g)> (both sides from SciPy's conv)."""
    x, w, kw = case
    y = scipy_conv2d(x, w, kw["border_mode"], kw["subsample"], kw["filter_flip"], kw["filter_dilation"],
                     kw["num_groups"])
    g = np.random.default_rng(3).normal(size=y.shape)
    gx = _run(mode, lambda a, b: T.nnet.conv2d_grad_wrt_inputs(a, b, x.shape, **kw), g, w)
    gw = _run(mode, lambda a, b: T.nnet.conv2d_grad_wrt_weights(a, b, w.shape, **kw), x, g)
    assert gx.shape == x.shape and gw.shape == w.shape
    lhs = np.sum(y * g)
    assert np.isclose(np.sum(x * gx), lhs, rtol=1e-9, atol=1e-9)
    assert np.isclose(np.sum(w * gw), lhs, rtol=1e-9, atol=1e-9)
    # and each entry: the gradient of one output entry's weighted sum, by linearity
    basis = np.zeros_like(x)
    idx = tuple(np.random.default_rng(4).integers(0, s) for s in x.shape)
    basis[idx] = 1.0
    y1 = scipy_conv2d(basis, w, kw["border_mode"], kw["subsample"], kw["filter_flip"], kw["filter_dilation"],
                      kw["num_groups"])
    assert np.isclose(gx[idx], np.sum(y1 * g), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cpu_matches_reference_in_both_dtypes(dtype):
    r = np.random.default_rng(0)
    x = r.normal(size=(5, 4, 9, 8)).astype(dtype)
    w = r.normal(size=(6, 2, 3, 3)).astype(dtype)
    fn = lambda a, b: T.nnet.conv2d(a, b, border_mode="half", subsample=(2, 1), num_groups=2)  # noqa: E731
    got, want = _run("fast", fn, x, w), _run("reference", fn, x, w)
    assert got.dtype == dtype
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("kw", [
    dict(border_mode="valid"),
    dict(border_mode="half", subsample=(2, 2)),
    dict(border_mode="full", filter_flip=False, filter_dilation=(2, 1)),
    dict(border_mode=(1, 2), num_groups=2, subsample=(1, 2)),
])
def test_finite_difference_gradients(kw):
    r = np.random.default_rng(1)
    x, w = r.normal(size=(2, 4, 6, 5)), r.normal(size=(4, 4 // kw.get("num_groups", 1), 3, 2))
    symcomp.verify_grad(lambda a, b: T.nnet.conv2d(a, b, **kw) ** 2, [x, w])
    symcomp.verify_grad(lambda a, b: T.nnet.conv2d(a, b, **kw) ** 2, [x, w], mode="reference")


def test_second_order_gradient_through_the_gradient_ops():
    r = np.random.default_rng(2)
    g0 = r.normal(size=(2, 3, 2, 4))
    symcomp.verify_grad(lambda g, w: T.nnet.conv2d_grad_wrt_inputs(g, w, (2, 2, 5, 5), subsample=(2, 1)) ** 2,
                        [g0, r.normal(size=(3, 2, 2, 2))])
    symcomp.verify_grad(lambda x, g: T.nnet.conv2d_grad_wrt_weights(x, g, (3, 2, 2, 2), subsample=(2, 1)) ** 2,
                        [r.normal(size=(2, 2, 5, 5)), g0])


def test_noncontiguous_operands_on_cpu():
    r = np.random.default_rng(5)
    x = r.normal(size=(7, 8, 3, 2)).transpose(2, 3, 0, 1)  # (3, 2, 7, 8), no axis contiguous
    w = r.normal(size=(3, 3, 2, 4))[:, :, ::-1, :].transpose(3, 2, 0, 1)  # (4, 2, 3, 3) reversed strides
    fn = lambda a, b: T.nnet.conv2d(a, b, border_mode="half")  # noqa: E731
    np.testing.assert_allclose(_run("fast", fn, x, w), scipy_conv2d(x, np.ascontiguousarray(w), "half"), rtol=1e-12)
    g = r.normal(size=(3, 4, 7, 8)).transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)
    got = _run("fast", lambda a, b: T.nnet.conv2d_grad_wrt_inputs(a, b, x.shape, border_mode="half"), g, w)
    want = _run("reference", lambda a, b: T.nnet.conv2d_grad_wrt_inputs(a, b, x.shape, border_mode="half"), g, w)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_empty_batch_and_one_by_one_filters():
    r = np.random.default_rng(6)
    for x, w in [(np.zeros((0, 2, 4, 4)), r.normal(size=(3, 2, 2, 2))), (r.normal(size=(2, 3, 4, 5)),
                                                                        r.normal(size=(4, 3, 1, 1)))]:
        fn = lambda a, b: T.nnet.conv2d(a, b)  # noqa: E731
        np.testing.assert_allclose(_run("fast", fn, x, w), scipy_conv2d(x, w), rtol=1e-12)


def test_many_images_use_every_run():
    """More images than runs of the team (CHUNKS): each run takes several, and the filter
    gradient sums the runs' partial sums."""
    r = np.random.default_rng(7)
    x, w = r.normal(size=(37, 2, 5, 5)), r.normal(size=(3, 2, 2, 2))
    g = r.normal(size=(37, 3, 4, 4))
    for fn, args in [(lambda a, b: T.nnet.conv2d(a, b), (x, w)),
                     (lambda a, b: T.nnet.conv2d_grad_wrt_weights(a, b, w.shape), (x, g)),
                     (lambda a, b: T.nnet.conv2d_grad_wrt_inputs(a, b, x.shape), (g, w))]:
        np.testing.assert_allclose(_run("fast", fn, *args), _run("reference", fn, *args), rtol=1e-11, atol=1e-11)


def test_threads_agree(nthreads):
    r = np.random.default_rng(8)
    x, w = r.normal(size=(64, 3, 16, 16)), r.normal(size=(8, 3, 3, 3))
    xs, ws = T.dtensor4("x"), T.dtensor4("w")
    y = T.nnet.conv2d(xs, ws, border_mode="half")
    f = symcomp.function([xs, ws], [y] + T.grad((y ** 2).sum(), [xs, ws]))
    got = f(x, w)
    want = symcomp.function([xs, ws], [y] + T.grad((y ** 2).sum(), [xs, ws]), mode="reference")(x, w)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


# -- Theano's other entry points -------------------------------------------------------------------
def test_conv2d_transpose_is_the_input_gradient():
    r = np.random.default_rng(9)
    x, w = r.normal(size=(2, 3, 4, 4)), r.normal(size=(3, 5, 3, 3))
    out = _run("fast", lambda a, b: T.nnet.conv2d_transpose(a, b, (2, 5, 9, 9), input_dilation=(2, 2)), x, w)
    # conv2d of the result's adjoint: <conv2d_transpose(x, w), z> = <x, conv2d(z, w, subsample=2)>
    z = r.normal(size=out.shape)
    assert out.shape == (2, 5, 9, 9)
    assert np.isclose(np.sum(out * z), np.sum(x * scipy_conv2d(z, w, subsample=(2, 2))))


def test_conv1d_matches_numpy_convolve():
    r = np.random.default_rng(10)
    x, w = r.normal(size=(2, 3, 11)), r.normal(size=(4, 3, 3))
    got = _run("fast", lambda a, b: abstract_conv.conv1d(a, b, border_mode="full"), x, w)
    want = np.array([[sum(np.convolve(x[n, c], w[o, c], mode="full") for c in range(3)) for o in range(4)]
                     for n in range(2)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_old_conv_module_and_output_shape_helper():
    r = np.random.default_rng(11)
    x, w = r.normal(size=(1, 2, 6, 6)), r.normal(size=(3, 2, 3, 3))
    got = _run("fast", lambda a, b: T.nnet.conv.conv2d(a, b, image_shape=(1, 2, 6, 6), border_mode="full"), x, w)
    np.testing.assert_allclose(got, scipy_conv2d(x, w, "full"), rtol=1e-12)
    assert abstract_conv.get_conv_output_shape((5, 2, 32, 31), (7, 2, 3, 4), "half", (2, 2)) == (5, 7, 16, 16)
    assert abstract_conv.get_conv_output_shape((None, 2, 8, 8), (7, 2, 3, 3), "valid", (1, 1), (2, 2)) == \
        (None, 7, 4, 4)
    import symcomp.tensor.nnet.abstract_conv  # noqa: F401  (Theano's module path imports)


def test_float32_and_int_promotion():
    x = T.tensor("float32", shape=(None, 1, 5, 5))
    w = T.tensor("int32", shape=(2, 1, 3, 3))
    assert T.nnet.conv2d(x, w).type.dtype.name == "float64"  # NumPy's promotion of float32 and int32
    assert T.nnet.conv2d(x, T.tensor("float32", shape=(2, 1, 3, 3))).type.dtype.name == "float32"


# -- shape errors ------------------------------------------------------------------------------------
def test_channel_mismatch_at_trace_time_names_both_shapes():
    x = T.tensor("float64", shape=(None, 3, 8, 8))
    w = T.tensor("float64", shape=(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"3 channels.*\(4, 2, 3, 3\)"):
        T.nnet.conv2d(x, w)


def test_channel_mismatch_at_call_time_names_both_shapes():
    x, w = T.dtensor4("x"), T.dtensor4("w")
    f = symcomp.function([x, w], T.nnet.conv2d(x, w))
    with pytest.raises(ValueError, match=r"3 channels.*\(4, 2, 3, 3\)"):
        f(np.zeros((1, 3, 8, 8)), np.zeros((4, 2, 3, 3)))


def test_filter_larger_than_input():
    x = T.tensor("float64", shape=(None, 1, 4, 4))
    with pytest.raises(ValueError, match="larger than the input"):
        T.nnet.conv2d(x, T.tensor("float64", shape=(1, 1, 5, 2)))
    f = symcomp.function([a := T.dtensor4(), b := T.dtensor4()], T.nnet.conv2d(a, b, filter_dilation=(2, 2)))
    with pytest.raises(ValueError, match="larger than the input"):
        f(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)))


def test_groups_and_hints_are_checked():
    x, w = T.tensor("float64", shape=(None, 4, 8, 8)), T.tensor("float64", shape=(3, 2, 3, 3))
    with pytest.raises(ValueError, match="groups"):
        T.nnet.conv2d(x, w, num_groups=2)
    with pytest.raises(ValueError, match="input_shape"):
        T.nnet.conv2d(x, T.tensor("float64", shape=(4, 4, 3, 3)), input_shape=(None, 4, 9, 8))
    with pytest.raises(ValueError, match="4-d"):
        T.nnet.conv2d(T.dmatrix(), w)
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(x, T.tensor("float64", shape=(4, 4, 3, 3)), border_mode="same")
    with pytest.raises(ValueError, match="convolves to"):
        T.nnet.conv2d_grad_wrt_inputs(T.tensor("float64", shape=(None, 4, 3, 3)),
                                      T.tensor("float64", shape=(4, 4, 3, 3)), (2, 4, 8, 8))


@pytest.mark.parametrize("kw,xshape,wshape", [
    (dict(border_mode="half", subsample=(2, 1)), (None, 3, None, None), (4, 3, 3, 2)),
    (dict(border_mode="valid", filter_flip=False, filter_dilation=(2, 1)), (2, 3, 9, 8), (4, 3, 2, 2)),
    (dict(border_mode=(1, 2)), (None,) * 4, (None,) * 4),
    (dict(border_mode="full", subsample=(1, 3)), (None,) * 4, (None,) * 4),
])
def test_mlir_export_to_linalg_conv(kw, xshape, wshape):
    """sc.conv2d exports to linalg.conv_2d_nchw_fchw, which mlir-opt-22 verifies and round-trips,
    and mode="mlir" (compiled by mlir-opt) computes SciPy's result."""
    from helpers import require_mlir_tools

    from symcomp.compile.trace import trace
    from symcomp.mlir import tools
    from symcomp.mlir.export import export_func

    require_mlir_tools()
    x, w = T.tensor("float64", shape=xshape), T.tensor("float64", shape=wshape)
    y = T.nnet.conv2d(x, w, **kw)
    module, _ = trace([x, w], [y], name="conv")
    text = "module {\n" + export_func(module.func()).text + "\n}\n"
    assert "linalg.conv_2d_nchw_fchw" in text
    printed = tools.run_tool("mlir-opt", ["--verify-each", "--verify-diagnostics"], text)
    assert tools.run_tool("mlir-opt", [], printed) == printed
    r = np.random.default_rng(12)
    X = r.normal(size=(2, 3, 9, 8))
    W = r.normal(size=wshape if wshape[0] is not None else (4, 3, 3, 2))
    got = symcomp.function([x, w], y, mode="mlir")(X, W)
    want = scipy_conv2d(X, W, kw["border_mode"], kw.get("subsample", (1, 1)), kw.get("filter_flip", True),
                        kw.get("filter_dilation", (1, 1)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_mlir_export_refuses_what_it_cannot_express():
    from symcomp.mlir.convert import MLIRExportError
    from symcomp.tensor.signal.pool import pool_2d

    x = T.dtensor4()
    for y in [T.nnet.conv2d(x, T.dtensor4(), num_groups=2), pool_2d(x, (2, 2), ignore_border=True)]:
        ins = [x] + ([] if y.owner.name == "sc.pool2d" else [y.owner.operands[1]])
        args = [np.zeros((1, 4, 4, 4))] + ([] if y.owner.name == "sc.pool2d" else [np.zeros((2, 2, 1, 1))])
        with pytest.raises(MLIRExportError, match=y.owner.name):
            symcomp.function(ins, y, mode="mlir")(*args)
