"""Smaller pieces of Theano's API (issue 22, part 4): softmax of a vector, ``T.xlogx``, ``config.warn``.

References (Theano 1.0): ``theano/tensor/nnet/nnet.py`` (``Softmax.make_node``: a vector is
padded with ``shape_padleft`` to a (1, n) row, with a DEPRECATION warning; ``LogSoftmax`` too);
``theano/tensor/xlogx.py`` (``XlogX``: ``0 if x == 0 else x * log(x)``, grad ``gz * (1 + log(x))``;
``XlogY0``: ``0 if x == 0 else x * log(y)``, grads ``gz * log(y)``, ``gz * x / y``;
``upgrade_to_float``); ``theano/configdefaults.py`` (the ``warn.*`` flags and ``warn_default``).
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import symcomp
from symcomp import tensor as T
from symcomp.compile.nanguard import NanGuardError

# -- softmax ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn,numpy", [
    (T.nnet.softmax, lambda a: np.exp(a - a.max()) / np.exp(a - a.max()).sum()),
    (T.nnet.logsoftmax, lambda a: a - a.max() - np.log(np.exp(a - a.max()).sum())),
])
def test_softmax_of_a_vector_is_a_row(fn, numpy):
    v = T.dvector("v")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn(v)
    assert any("DEPRECATION: If x is a vector" in str(m.message) for m in w)
    assert out.ndim == 2 and out.broadcastable == (True, False) and out.type == T.drow
    a = np.array([1.0, 2.0, -3.0])
    got = symcomp.function([v], out)(a)
    assert got.shape == (1, 3)
    np.testing.assert_allclose(got[0], numpy(a), rtol=1e-13)


def test_softmax_of_a_matrix_and_with_an_axis_keep_the_shape():
    m, v = T.dmatrix("m"), T.dvector("v")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert T.nnet.softmax(m).type == T.dmatrix
        assert T.nnet.softmax(v, axis=-1).type == T.dvector  # symcomp's axis argument: no padding
        assert T.nnet.log_softmax(v, axis=0).type == T.dvector
    a = np.array([[1.0, 2.0], [0.0, -1.0]])
    np.testing.assert_allclose(symcomp.function([m], T.nnet.softmax(m))(a).sum(axis=1), [1.0, 1.0])


# -- xlogx ------------------------------------------------------------------------------------------
def _xlogx(a):
    with np.errstate(all="ignore"):
        return np.where(a == 0, 0.0, a * np.log(np.where(a == 0, 1.0, a)))


@given(hnp.arrays(np.float64, st.integers(1, 8), elements=st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.25, 1e-300])))
def test_xlogx_values(a):
    x = T.dvector("x")
    np.testing.assert_allclose(symcomp.function([x], T.xlogx.xlogx(x))(a), _xlogx(a), rtol=1e-14)


def test_xlogx_at_zero_dtypes_and_gradient():
    x = T.dvector("x")
    f = symcomp.function([x], [T.xlogx.xlogx(x), T.grad(T.sum(T.xlogx.xlogx(x)), x)])
    value, g = f(np.array([0.0, 1.0, np.e]))
    np.testing.assert_allclose(value, [0.0, 0.0, np.e], rtol=1e-15)
    assert g[0] == -np.inf  # Theano's gz * (1 + log(x)) at 0
    np.testing.assert_allclose(g[1:], [1.0, 2.0], rtol=1e-15)
    assert T.xlogx.xlogx(T.fvector()).dtype == "float32"
    assert T.xlogx.xlogx(T.ivector()).dtype == "float64"  # upgrade_to_float
    assert T.xlogx.xlogx(T.bvector()).dtype == "float32"


def test_xlogy0_values_broadcasting_and_gradients():
    x, y = T.dmatrix("x"), T.drow("y")
    out = T.xlogx.xlogy0(x, y)
    gx, gy = T.grad(T.sum(out), [x, y])
    f = symcomp.function([x, y], [out, gx, gy])
    a = np.array([[0.0, 2.0, 0.0], [1.5, 0.0, 3.0]])
    b = np.array([[0.0, 4.0, 2.0]])
    value, ga, gb = f(a, b)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(value, np.where(a == 0, 0.0, a * np.log(b)), rtol=1e-15)
        np.testing.assert_allclose(ga, np.broadcast_to(np.log(b), a.shape), rtol=1e-15)
        np.testing.assert_allclose(gb, (a / b).sum(axis=0, keepdims=True), rtol=1e-15)
    assert gb.shape == (1, 3)


def test_xlogx_makes_no_nan_for_nanguard():
    x = T.dvector("x")
    f = symcomp.function([x], T.xlogx.xlogx(x) + T.xlogx.xlogy0(x, x), mode="NanGuardMode")
    np.testing.assert_array_equal(f(np.zeros(3)), np.zeros(3))
    with pytest.raises(NanGuardError):
        symcomp.function([x], x * T.log(x), mode="NanGuardMode")(np.zeros(3))


# -- config.warn ------------------------------------------------------------------------------------
THEANO_WARN_DEFAULTS = {  # with Theano 1.0's default warn.ignore_bug_before = '0.8'
    "ignore_bug_before": "0.8", "argmax_pushdown_bug": False, "gpusum_01_011_0111_bug": False, "sum_sum_bug": False,
    "sum_div_dimshuffle_bug": False, "subtensor_merge_bug": False, "gpu_set_subtensor1": False, "vm_gc_bug": False,
    "signal_conv2d_interface": False, "reduce_join": False, "inc_set_subtensor1": False, "round": True,
    "inc_subtensor1_opt": True, "identify_1pexp_bug": False,
}


def test_warn_flags_default_as_theano():
    from symcomp.config import WarnFlags

    fresh = WarnFlags()
    assert {k: getattr(fresh, k) for k in THEANO_WARN_DEFAULTS} == THEANO_WARN_DEFAULTS
    assert all(getattr(WarnFlags("None"), k) for k in THEANO_WARN_DEFAULTS if k not in ("ignore_bug_before",
                                                                                         "vm_gc_bug"))
    assert not any(getattr(WarnFlags("all"), k) for k in THEANO_WARN_DEFAULTS if k != "ignore_bug_before")


def test_warn_flags_are_set_and_read_as_theano_programs_do():
    c = symcomp.config
    saved = {k: getattr(c.warn, k) for k in THEANO_WARN_DEFAULTS}
    try:
        c.warn.sum_div_dimshuffle_bug = False
        c.warn.round = False
        c.warn.ignore_bug_before = "all"
        assert c.warn.round is False and c.warn.ignore_bug_before == "all"
        with pytest.raises(AttributeError, match="no flag 'nope'"):
            c.warn.nope = True
        with pytest.raises(AttributeError):
            c.warn.nope  # noqa: B018
        with pytest.raises(ValueError):
            c.warn.round = "yes"
        with pytest.raises(ValueError):
            c.warn.ignore_bug_before = "0.11"
        with pytest.raises(AttributeError):
            c.warn = None
    finally:
        for k, v in saved.items():
            setattr(c.warn, k, v)


def test_warn_flags_from_the_environment():
    env = dict(os.environ, SYMCOMP_FLAGS="warn.ignore_bug_before=None,warn.round=False")
    code = "import symcomp; w = symcomp.config.warn; print(w.ignore_bug_before, w.sum_sum_bug, w.round)"
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert res.stdout.split() == ["None", "True", "False"], res.stderr
