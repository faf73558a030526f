"""Shape operations, indexing, concatenation, dot and nnet ops against NumPy on both backends."""

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given, strategies as st

from symcomp import tensor as T
from tests.helpers import assert_matches, compile_modes, run_all

_FNS: dict = {}


def _fns(key, build):
    if key not in _FNS:
        _FNS[key] = build()
    return _FNS[key]


def _check(fns, args, expected, **tol):
    for mode, got in run_all(fns, *args).items():
        got = got if isinstance(got, list) else [got]
        for g, e in zip(got, expected):
            assert_matches(g, e, **tol)


@given(shape=st.tuples(st.integers(1, 5), st.integers(0, 6), st.integers(1, 4)), seed=st.integers(0, 99))
def test_views_and_reshapes(shape, seed):
    x = T.dtensor3("x")
    outs = [x.T, x.dimshuffle(2, 0, 1), x.dimshuffle(0, "x", 1, 2), x.transpose(1, 0, 2).flatten(),
            x.reshape((-1, x.shape[2])), x.reshape((x.shape[0], -1)).T, x[:, ::-1].reshape((-1,)),
            T.flatten(x, 2), x.transpose(2, 1, 0)]
    fns = _fns("views", lambda: compile_modes([x], outs))
    a = np.random.default_rng(seed).standard_normal(shape)
    exp = [a.T, a.transpose(2, 0, 1), a[:, None], a.transpose(1, 0, 2).reshape(-1),
           a.reshape(-1, shape[2]), a.reshape(shape[0], -1).T, a[:, ::-1].reshape(-1),
           a.reshape(shape[0], -1), a.T]
    _check(fns, [a], exp)


def test_non_contiguous_fortran_and_unaligned_inputs():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    fns = compile_modes([x, y], [T.exp(x) + y, T.dot(x, y.T), x.sum(axis=0)])
    rng = np.random.default_rng(0)
    base = rng.standard_normal((8, 10))
    xs = [base[::2, 1::3], np.asfortranarray(base[:4, :4]), base[::-1, ::-2][:4, :4]]
    raw = np.zeros(4 * 4 * 8 + 1, dtype=np.uint8)[1:].view(np.float64)  # unaligned float64 data
    unaligned = np.lib.stride_tricks.as_strided(raw, (4, 4), (32, 8))
    unaligned[...] = rng.standard_normal((4, 4))
    assert not unaligned.flags.aligned
    xs.append(unaligned)
    for a in xs:
        b = rng.standard_normal(a.shape)
        _check(fns, [a, b], [np.exp(a) + b, a @ b.T, a.sum(axis=0)])


@given(n=st.integers(1, 9), m=st.integers(1, 9), seed=st.integers(0, 99))
def test_basic_indexing(n, m, seed):
    x, i, j = T.dmatrix("x"), T.lscalar("i"), T.lscalar("j")
    outs = [x[0], x[-1], x[:, 0], x[1:], x[::2, ::-1], x[i], x[i:j], x[:, i:j:2], x[-i:], x[None, 0, :],
            x[..., 0], x[i, j]]
    fns = _fns("basic", lambda: compile_modes([x, i, j], outs))
    a = np.random.default_rng(seed).standard_normal((n, m))
    iv, jv = seed % n, (seed % m)
    exp = [a[0], a[-1], a[:, 0], a[1:], a[::2, ::-1], a[iv], a[iv:jv], a[:, iv:jv:2], a[-iv:], a[None, 0, :],
           a[..., 0], a[iv, jv]]
    _check(fns, [a, iv, jv], exp)


def test_index_errors():
    x, i = T.dvector("x"), T.lscalar("i")
    for f in compile_modes([x, i], x[i]).values():
        with pytest.raises(IndexError):
            f(np.zeros(3), 5)
    with pytest.raises(IndexError):
        T.tensor("float64", shape=(3,))[3]


@given(n=st.integers(1, 8), k=st.integers(0, 12), seed=st.integers(0, 99))
def test_advanced_indexing(n, k, seed):
    x, idx, cols = T.dmatrix("x"), T.lvector("idx"), T.lvector("cols")
    outs = [x[idx], x[:, cols], x[idx, cols], x[idx, 1:], x[T.arange(x.shape[0]), cols[0]]]
    fns = _fns("adv", lambda: compile_modes([x, idx, cols], outs))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, 5))
    iv = rng.integers(-n, n, k)
    cv = rng.integers(-5, 5, k)
    if k == 0:
        return  # cols[0] would be out of range
    _check(fns, [a, iv, cv], [a[iv], a[:, cv], a[iv, cv], a[iv, 1:], a[np.arange(n), cv[0]]])


def test_advanced_index_out_of_bounds_raises():
    x, idx = T.dvector("x"), T.lvector("idx")
    for f in compile_modes([x, idx], [x[idx], T.inc_subtensor(x[idx], 1.0)]).values():
        with pytest.raises(IndexError):
            f(np.zeros(3), np.array([0, 3]))
        with pytest.raises(IndexError):
            f(np.zeros(3), np.array([-4]))
        np.testing.assert_array_equal(f(np.zeros(3), np.array([-1]))[0], [0.0])  # still usable


def test_set_and_inc_subtensor():
    x, y, idx = T.dmatrix("x"), T.dvector("y"), T.lvector("idx")
    outs = [T.set_subtensor(x[1], y), T.inc_subtensor(x[:, 1:3], 2.0), T.set_subtensor(x[::2, 0], -1.0),
            T.inc_subtensor(x[idx], y), T.set_subtensor(x[idx, 1:], 7.0), T.inc_subtensor(x[1:, idx], 1.0)]
    fns = compile_modes([x, y, idx], outs)
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal(5)
    iv = np.array([0, 2, 0, -1])
    e = [a.copy() for _ in range(6)]
    e[0][1] = b
    e[1][:, 1:3] += 2.0
    e[2][::2, 0] = -1.0
    np.add.at(e[3], iv, b)
    e[4][iv, 1:] = 7.0
    sub = e[5][1:]
    np.add.at(sub, (slice(None), iv), 1.0)
    _check(fns, [a, b, iv], e)
    assert np.array_equal(a, rng.__class__(np.random.PCG64(2)).standard_normal((4, 5)))  # input untouched


@given(n=st.integers(1, 6), seed=st.integers(0, 99))
def test_concatenate_stack_arange(n, seed):
    x, y, k = T.dmatrix("x"), T.dvector("y"), T.lscalar("k")
    outs = [T.concatenate([x, x * 2], axis=0), T.concatenate([x, x[:, :1]], axis=1), T.stack([y, y + 1], axis=1),
            T.arange(k), T.arange(1, k, 2), T.arange(x.shape[0], dtype="float64"), T.zeros((k, 2)), T.ones_like(x)]
    fns = _fns("concat", lambda: compile_modes([x, y, k], outs))
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((n, 3)), rng.standard_normal(4)
    exp = [np.concatenate([a, a * 2]), np.concatenate([a, a[:, :1]], axis=1), np.stack([b, b + 1], axis=1),
           np.arange(seed % 7), np.arange(1, seed % 7, 2), np.arange(n, dtype=np.float64),
           np.zeros((seed % 7, 2)), np.ones_like(a)]
    _check(fns, [a, b, seed % 7], exp)


DOT_SHAPES = [((5, 4), (4, 3)), ((5, 4), (4,)), ((4,), (4, 3)), ((4,), (4,)), ((1, 4), (4, 1)), ((0, 4), (4, 3)),
              ((5, 0), (0, 3)), ((3, 7, 4), (4, 2))]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("sa,sb", DOT_SHAPES, ids=str)
def test_dot(sa, sb, dtype):
    a = T.tensor(dtype, shape=(None,) * len(sa), name="a")
    b = T.tensor(dtype, shape=(None,) * len(sb), name="b")
    fns = compile_modes([a, b], [T.dot(a, b), a @ b])
    rng = np.random.default_rng(0)
    av = (rng.standard_normal(sa) * 3).astype(dtype)
    bv = (rng.standard_normal(sb) * 3).astype(dtype)
    tol = 1e-4 if dtype == "float32" else 1e-12
    _check(fns, [av, bv], [np.dot(av, bv)] * 2, rtol=tol)


def test_dot_of_strided_and_transposed_operands():
    """Transposed, sliced, reversed and broadcast operands: BLAS layouts or a copy, always the right answer."""
    a, b = T.dmatrix("a"), T.dmatrix("b")
    outs = [T.dot(a.T, b), T.dot(a[::2, ::3], b[::2, ::3].T), T.dot(a[0], b.T), T.dot(a[:, 0], b),
            T.dot(a[::-1], b.T), T.dot(T.broadcast_to(a[0], (3, a.shape[1])), b.T)]
    fns = compile_modes([a, b], outs)
    rng = np.random.default_rng(1)
    av, bv = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    _check(fns, [av, bv], [av.T @ bv, av[::2, ::3] @ bv[::2, ::3].T, av[0] @ bv.T, av[:, 0] @ bv,
                           av[::-1] @ bv.T, np.broadcast_to(av[0], (3, 5)) @ bv.T])


@pytest.mark.parametrize("axis", [-1, 0])
@given(n=st.integers(1, 5), m=st.integers(1, 40), seed=st.integers(0, 99))
def test_softmax_log_softmax(axis, n, m, seed):
    x = T.dmatrix("x")
    fns = _fns(("sm", axis), lambda: compile_modes([x], [T.nnet.softmax(x, axis), T.nnet.log_softmax(x, axis)]))
    a = np.random.default_rng(seed).standard_normal((n, m)) * 30
    _check(fns, [a], [sps.softmax(a, axis=axis), sps.log_softmax(a, axis=axis)], rtol=1e-11)


def test_losses():
    p, y, t = T.dmatrix("p"), T.lvector("y"), T.dmatrix("t")
    fns = compile_modes([p, y, t], [T.nnet.categorical_crossentropy(p, y), T.nnet.categorical_crossentropy(p, t),
                                    T.nnet.binary_crossentropy(p, t), T.nnet.relu(p - 0.5)])
    rng = np.random.default_rng(0)
    pv = sps.softmax(rng.standard_normal((6, 4)), axis=1)
    yv = rng.integers(0, 4, 6)
    tv = np.eye(4)[yv]
    _check(fns, [pv, yv, tv], [-np.log(pv[np.arange(6), yv]), -np.sum(tv * np.log(pv), axis=1),
                               -(tv * np.log(pv) + (1 - tv) * np.log(1 - pv)), np.maximum(pv - 0.5, 0)])


def test_unsigned_arange_with_stop_below_start_is_empty():
    a, b = T.tensor("uint32", shape=()), T.tensor("uint32", shape=())
    for f in compile_modes([a, b], T.arange(a, b)).values():
        assert f(np.uint32(5), np.uint32(2)).shape == (0,)
        np.testing.assert_array_equal(f(np.uint32(2), np.uint32(5)), np.arange(2, 5, dtype=np.uint32))
