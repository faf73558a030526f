"""T.extra_ops, T.sort/T.argsort and the diagonal helpers against NumPy on the reference and CPU
backends (hypothesis shapes and dtypes), their gradients against finite differences, and the
errors for what symcomp cannot compile."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import symcomp
from symcomp import tensor as T

MODES = ["reference", "fast"]
SETTINGS = settings(max_examples=8, deadline=None)


def _fn(inputs, outputs, mode):
    return symcomp.function(inputs, outputs, mode=mode, on_unused_input="ignore")


def _var(a):
    return T.tensor(a.dtype.name, shape=(None,) * a.ndim, name="a")


arrays = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int32, np.int64, np.uint8]),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5),
    elements=st.integers(0, 40),
)


def _cast(a):
    return a if a.dtype.kind == "u" else (a - 20).astype(a.dtype)


@pytest.mark.parametrize("mode", MODES)
@SETTINGS
@given(a=arrays, data=st.data())
def test_sort_argsort_cumprod_diff(mode, a, data):
    a = _cast(a)
    axis = data.draw(st.integers(-a.ndim, a.ndim - 1))
    x = _var(a)
    outs = [T.sort(x, axis), T.argsort(x, axis), T.sort(x, None), T.argsort(x, axis=None), T.diff(x, 1, axis),
            T.diff(x, 2, axis)]
    want = [np.sort(a, axis), np.argsort(a, axis, kind="stable"), np.sort(a, None),
            np.argsort(a, axis=None, kind="stable"), np.diff(a, 1, axis), np.diff(a, 2, axis)]
    if a.dtype.kind == "f":
        small = np.clip(a, -2, 2)
        outs.append(T.cumprod(x, axis))
        want.append(np.cumprod(small, axis))
        got = _fn([x], outs, mode)(a)
        got[-1] = _fn([x], outs[-1], mode)(small)
    else:
        got = _fn([x], outs, mode)(a)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-6)
        if np.issubdtype(w.dtype, np.integer):
            assert g.dtype == np.int64 or g.dtype == w.dtype


@pytest.mark.parametrize("mode", MODES)
def test_sort_nan_last_and_ties_stable(mode):
    a = np.array([[2.0, np.nan, 1.0, 2.0, -np.inf, np.nan, 1.0]])
    x = T.dmatrix("x")
    s, i = _fn([x], [T.sort(x), T.argsort(x)], mode)(a)
    np.testing.assert_array_equal(s, np.sort(a))
    np.testing.assert_array_equal(i, np.argsort(a, kind="stable"))
    with pytest.raises(ValueError):
        T.sort(x, kind="bogo")
    with pytest.raises(ValueError):
        T.sort(T.dscalar("s"))


@pytest.mark.parametrize("mode", MODES)
@SETTINGS
@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-5, 5)),
       r=st.integers(0, 3), data=st.data())
def test_repeat_tile_ptp(mode, a, r, data):
    axis = data.draw(st.integers(0, a.ndim - 1))
    reps = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    counts = data.draw(st.lists(st.integers(0, 3), min_size=a.shape[axis], max_size=a.shape[axis]))
    x = _var(a)
    n = T.lscalar("n")
    outs = [T.repeat(x, r), T.repeat(x, r, axis), T.repeat(x, n, axis), T.repeat(x, counts, axis),
            T.tile(x, reps), T.ptp(x), T.ptp(x, axis)]
    got = _fn([x, n], outs, mode)(a, r)
    want = [np.repeat(a, r), np.repeat(a, r, axis), np.repeat(a, r, axis), np.repeat(a, counts, axis),
            np.tile(a, reps), np.ptp(a), np.ptp(a, axis)]
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w)


@pytest.mark.parametrize("mode", MODES)
@SETTINGS
@given(x=hnp.arrays(np.int64, st.integers(0, 12), elements=st.integers(0, 6)),
       w=st.floats(-3, 3), side=st.sampled_from(["left", "right"]))
def test_bincount_searchsorted(mode, x, w, side):
    xs = T.lvector("x")
    weights = np.full(x.shape, w) + np.arange(x.size)
    ws = T.dvector("w")
    grid = np.array([0.0, 1.5, 1.5, 3.0, 6.0, np.nan])
    v = T.dvector("v")
    f = _fn([xs, ws, v], [T.bincount(xs, minlength=7), T.bincount(xs, ws, minlength=8),
                          T.extra_ops.searchsorted(grid, v, side=side),
                          T.searchsorted(grid[::-1].copy(), v, side=side, sorter=np.argsort(grid[::-1]))], mode)
    vals = np.concatenate([x.astype(float), [1.5, np.nan, -1.0]])
    got = f(x, weights, vals)
    np.testing.assert_array_equal(got[0], np.bincount(x, minlength=7))
    np.testing.assert_allclose(got[1], np.bincount(x, weights, minlength=8))
    np.testing.assert_array_equal(got[2], np.searchsorted(grid, vals, side=side))
    np.testing.assert_array_equal(got[3], np.searchsorted(grid[::-1], vals, side=side, sorter=np.argsort(grid[::-1])))


@pytest.mark.parametrize("mode", MODES)
def test_bincount_and_index_errors(mode):
    x = T.lvector("x")
    f = _fn([x], T.bincount(x, minlength=3), mode)
    with pytest.raises(IndexError):
        f(np.array([0, 3]))
    with pytest.raises(IndexError):
        f(np.array([-1]))
    with pytest.raises(NotImplementedError, match="minlength"):
        T.bincount(x)
    g = _fn([x], T.unravel_index(x, (2, 3))[0], mode)
    with pytest.raises(IndexError):
        g(np.array([6]))
    h = _fn([x], T.ravel_multi_index([x, x], (3, 4)), mode)
    with pytest.raises(IndexError):
        h(np.array([3]))
    with pytest.raises(NotImplementedError, match="repeats"):
        T.repeat(T.dvector("v"), x)
    with pytest.raises(NotImplementedError, match="condition"):
        T.extra_ops.compress(T.bvector("c"), T.dvector("v"))


@pytest.mark.parametrize("mode", MODES)
@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), order=st.sampled_from(["C", "F"]),
       mode_=st.sampled_from(["raise", "wrap", "clip"]), seed=st.integers(0, 1000))
def test_unravel_ravel(mode, shape, order, mode_, seed):
    rng = np.random.default_rng(seed)
    flat = rng.integers(0, int(np.prod(shape)), 6)
    x = T.lvector("x")
    coords = T.unravel_index(x, shape, order)
    f = _fn([x], list(coords) + [T.ravel_multi_index(coords, shape, order=order)], mode)
    got = f(flat)
    want = list(np.unravel_index(flat, shape, order))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    np.testing.assert_array_equal(got[-1], flat)
    big = [rng.integers(-3, d + 3, 5) for d in shape] if mode_ != "raise" else [rng.integers(0, d, 5) for d in shape]
    cs = [T.lvector(f"c{k}") for k in range(len(shape))]
    g = _fn(cs, T.ravel_multi_index(cs, shape, mode=mode_, order=order), mode)
    np.testing.assert_array_equal(g(*big), np.ravel_multi_index(big, shape, mode=mode_, order=order))


@pytest.mark.parametrize("mode", MODES)
def test_compress_fill_diagonal_eye_tri(mode):
    a = np.arange(12.0).reshape(3, 4)
    c3 = np.arange(27.0).reshape(3, 3, 3)
    x, t = T.dmatrix("x"), T.dtensor3("t")
    n = T.lscalar("n")
    outs = [T.extra_ops.compress([True, False, True], x, axis=0), T.extra_ops.compress([1, 0, 1, 1], x, axis=1),
            T.extra_ops.compress([True, False, True, True], x), T.fill_diagonal(x, 5), T.fill_diagonal(t, -1.0),
            T.fill_diagonal_offset(x, 2.0, -1), T.fill_diagonal_offset(x, 2.0, 3), T.eye(n), T.eye(3, 4, 1),
            T.identity_like(x), T.tri(3, 4, -1), T.tril(x), T.triu(x, 1), T.tril(t, -1)]
    got = _fn([x, t, n], outs, mode)(a, c3, 4)
    fd = a.copy()
    np.fill_diagonal(fd, 5)
    fd3 = c3.copy()
    np.fill_diagonal(fd3, -1)
    fo = a.copy()
    fo[[1, 2], [0, 1]] = 2
    fo2 = a.copy()
    fo2[0, 3] = 2
    want = [np.compress([True, False, True], a, 0), np.compress([1, 0, 1, 1], a, 1),
            np.compress([True, False, True, True], a), fd, fd3, fo, fo2, np.eye(4), np.eye(3, 4, 1), np.eye(3, 4),
            np.tri(3, 4, -1), np.tril(a), np.triu(a, 1), np.tril(c3, -1)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_theano_names():
    for name in ("cumsum", "cumprod", "diff", "repeat", "bincount", "squeeze", "compress", "searchsorted",
                 "fill_diagonal", "fill_diagonal_offset", "to_one_hot", "unravel_index", "ravel_multi_index"):
        assert callable(getattr(T.extra_ops, name)), name
    for name in ("sort", "argsort", "ptp", "tile", "cumprod", "eye", "tril", "triu", "diag", "trace"):
        assert callable(getattr(T, name)), name


R = np.random.default_rng(5)
GRADS = {
    "sort": (lambda x: T.sort(x, 0), [R.permutation(12).reshape(3, 4) / 3.0]),
    "sort_flat": (lambda x: T.sort(x, None), [R.permutation(12).reshape(4, 3) / 3.0]),
    "cumprod": (lambda x: T.cumprod(x, 1), [R.uniform(0.5, 2, (3, 4))]),
    "cumprod_flat": (T.cumprod, [R.uniform(0.5, 2, (2, 3))]),
    "diff": (lambda x: T.diff(x, 2, 0), [R.normal(size=(4, 3))]),
    "repeat": (lambda x: T.repeat(x, [2, 0, 1], axis=1) * 1.5, [R.normal(size=(2, 3))]),
    "tile": (lambda x: T.tile(x, (2, 1, 3)), [R.normal(size=(2, 3))]),
    "ptp": (lambda x: T.ptp(x, 0), [R.permutation(6).reshape(2, 3) * 1.0]),
    "bincount_weights": (lambda w: T.bincount(np.array([0, 2, 2, 1]), w, minlength=4), [R.normal(size=4)]),
    "fill_diagonal": (lambda x, v: T.fill_diagonal(x, v), [R.normal(size=(3, 4)), np.array(1.5)]),
    "take_along_axis": (lambda x: T.take_along_axis(x, np.array([[0, 0], [2, 1]]), 1), [R.normal(size=(2, 3))]),
    "extract_and_alloc_diag": (lambda x: T.alloc_diag(T.diagonal(x, 1)) + T.trace(x), [R.normal(size=(3, 3))]),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradient_by_finite_differences(name, mode):
    fn, pt = GRADS[name]
    symcomp.verify_grad(fn, pt, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_bartlett_cpu_contiguous_and_op_classes(mode):
    E = T.extra_ops
    m, x = T.lscalar("m"), T.dmatrix("x")
    X = np.array([[1.0, 2.0, 7.0], [3.0, 4.0, 0.5]])
    f = _fn([m, x], [E.bartlett(m), E.cpu_contiguous(x.T), E.CumOp(1, "mul")(x), E.CumOp(axis=0)(x),
                     E.DiffOp(1, 0)(x), E.RepeatOp(axis=0)(x, 2), E.FillDiagonal()(x, 3.0),
                     E.FillDiagonalOffset()(x, 3.0, 1), E.SearchsortedOp("right")(T.sort(T.flatten(x)), T.flatten(x)),
                     E.Bartlett()(m)], mode)
    for M in (0, 1, 2, 7):
        got = f(M, X)
        np.testing.assert_allclose(got[0], np.bartlett(M))
        np.testing.assert_allclose(got[-1], np.bartlett(M))
    fd, fo = X.copy(), X.copy()
    np.fill_diagonal(fd, 3.0)
    fo[0, 1] = fo[1, 2] = 3.0
    want = [X.T, np.cumprod(X, 1), np.cumsum(X, 0), np.diff(X, 1, 0), np.repeat(X, 2, 0), fd, fo,
            np.searchsorted(np.sort(X.ravel()), X.ravel(), "right")]
    for g, w in zip(got[1:-1], want):
        np.testing.assert_allclose(g, w)
    with pytest.raises(NotImplementedError):
        E.unique(x)
