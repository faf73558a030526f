"""Truth values as in Theano 1.0 (issue 22, part 3).

Reference: Theano 1.0 ``theano/tensor/var.py``, ``_tensor_py_operators``: ``_is_nonzero = True``;
``__lt__``, ``__le__``, ``__gt__``, ``__ge__`` set ``rval._is_nonzero = False``; ``__bool__``
returns True when ``_is_nonzero`` else raises ``TypeError("Variables do not support boolean
operations.")``.  The RBM and SdA tutorials test ``if not W:`` for a parameter left as None.
"""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

COMPARE = [lambda a, b: a < b, lambda a, b: a <= b, lambda a, b: a > b, lambda a, b: a >= b]


def test_variables_are_true():
    x, y = T.dvectors("x", "y")
    w = symcomp.shared(np.zeros(3), name="W")
    for v in (x, w, x + y, T.exp(x), x[0], T.constant(0.0), T.zeros_like(x), x.sum(), w.T):
        assert bool(v) is True
    # only the Python comparison operators mark their result; the functions and logical ops do not
    for v in (T.lt(x, y), T.eq(x, y), T.neq(x, y), T.and_(x > 0, y > 0), (x > 0) & (y > 0), ~(x > 0),
              T.switch(x > 0, x, y)):
        assert bool(v) is True


@pytest.mark.parametrize("cmp", COMPARE)
def test_comparison_results_have_no_truth_value(cmp):
    x = T.dscalar("x")
    for r in (cmp(x, 0), cmp(0, x), cmp(x, x + 1), cmp(np.float64(1.0), x)):
        with pytest.raises(TypeError, match="Variables do not support boolean operations"):
            bool(r)


def test_chained_comparison_raises():
    a, b, c = T.dscalars("abc")
    with pytest.raises(TypeError, match="truth value"):
        a < b < c  # noqa: B015 -- Python evaluates (a < b) and (b < c)
    with pytest.raises(TypeError):
        if a > 0:
            pass


def test_rbm_style_none_checks():
    """RBM.__init__ in the Deep Learning Tutorials: ``if not W: W = shared(...)``."""
    def make(W=None, hbias=None):
        if not W:
            W = symcomp.shared(np.ones((2, 2)), name="W")
        if not hbias:
            hbias = symcomp.shared(np.zeros(2), name="hbias")
        return W, hbias

    given = symcomp.shared(np.full((2, 2), 7.0), name="given")
    W, hbias = make(W=given)
    assert W is given and hbias.name == "hbias"
    W, _ = make()
    assert W.name == "W"
    v = T.dmatrix("v")
    assert (v or None) is v and (v and 3) == 3
