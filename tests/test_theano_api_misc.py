"""Smaller pieces of Theano's API (issue 22, part 4): softmax of a vector, ``T.xlogx``, ``config.warn``.

References (Theano 1.0): ``theano/tensor/nnet/nnet.py`` (``Softmax.make_node``: a vector is
padded with ``shape_padleft`` to a (1, n) row, with a DEPRECATION warning; ``LogSoftmax`` too);
``theano/tensor/xlogx.py`` (``XlogX``: ``0 if x == 0 else x * log(x)``, grad ``gz * (1 + log(x))``;
``XlogY0``: ``0 if x == 0 else x * log(y)``, grads ``gz * log(y)``, ``gz * x / y``;
``upgrade_to_float``); ``theano/configdefaults.py`` (the ``warn.*`` flags and ``warn_default``).
"""

import warnings

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

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
