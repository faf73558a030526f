"""Errors a new user meets in the first hour say what was attempted, with the values involved."""

import inspect

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

NATIVE_AND_REFERENCE = ["fast", "fast_compile", "reference"]


def _line() -> int:
    return inspect.currentframe().f_back.f_lineno


@pytest.mark.parametrize("convert", [float, int, complex])
def test_converting_a_symbolic_value_to_a_number_says_so(convert):
    """float(x) used to say "cannot be used as a Python index" (Python falls back to __index__)."""
    loss = T.sum(T.dvector("x") ** 2)
    with pytest.raises(TypeError) as info:
        convert(loss)
    message = str(info.value)
    assert message.startswith(f"{convert.__name__}() of a symbolic variable (tensor<f64>): its value is not "
                              "computed yet")
    assert "index" not in message
    with pytest.raises(TypeError, match=r"float\(\) of symbolic variable 'lr' \(tensor<f32>\)"):
        float(T.fscalar("lr"))
    with pytest.raises(TypeError, match="cannot be used as a Python index"):  # indexing keeps its own message
        [1, 2, 3][T.lscalar("i")]


@pytest.mark.parametrize("mode", NATIVE_AND_REFERENCE)
def test_an_out_of_range_index_names_the_index_and_the_axis_size(mode):
    """Compiled code said only "index out of bounds in sc.advanced_subtensor"."""
    x, i = T.dvector("x"), T.lvector("i")
    y = x[i]; line = _line()  # noqa: E702
    f = symcomp.function([x, i], y * 2, mode=mode)
    with pytest.raises(IndexError, match=rf"index 3 is out of bounds for axis 0 with size 3 "
                                         rf"\(in sc.advanced_subtensor created at .*test_user_errors.py:{line}\)"):
        f(np.ones(3), np.array([0, 3]))
    with pytest.raises(IndexError, match="index -4 is out of bounds for axis 0 with size 3"):
        f(np.ones(3), np.array([-4]))
    assert list(f(np.arange(3.0), np.array([2, -3]))) == [4.0, 0.0]  # and the function still works


@pytest.mark.parametrize("mode", NATIVE_AND_REFERENCE)
def test_the_index_and_the_data_may_be_computed_in_the_function(mode):
    """The failing op's operands are intermediate values (a softmax, an arange) of the compiled code."""
    x, y = T.dmatrix("x"), T.lvector("y")
    p = T.nnet.softmax(x * 2)
    picked = p[T.arange(y.shape[0]), y + 1]
    f = symcomp.function([x, y], T.mean(T.log(picked)), mode=mode)
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        f(np.ones((2, 4)), np.array([0, 3]))


@pytest.mark.parametrize("mode", NATIVE_AND_REFERENCE)
def test_a_scatter_names_the_index(mode):
    x, i = T.dvector("x"), T.lvector("i")
    f = symcomp.function([x, i], T.inc_subtensor(x[i], 1.0), mode=mode)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 0 with size 4"):
        f(np.zeros(4), np.array([1, 5, 2]))
