"""symcomp.function and shared variables: Theano's API contracts and safety behaviours."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

MODES = ["fast", "reference"]


@pytest.mark.parametrize("mode", MODES)
def test_updates_see_values_from_before_the_call(mode):
    a = symcomp.shared(np.array([1.0, 2.0]), name="a")
    b = symcomp.shared(np.array([10.0, 20.0]), name="b")
    f = symcomp.function([], [a + b], updates=[(a, b), (b, a)], mode=mode)
    out = f()
    np.testing.assert_array_equal(out[0], [11.0, 22.0])
    np.testing.assert_array_equal(a.get_value(), [10.0, 20.0])
    np.testing.assert_array_equal(b.get_value(), [1.0, 2.0])


@pytest.mark.parametrize("mode", MODES)
def test_shared_borrow_contract(mode):
    v = np.zeros(3)
    s = symcomp.shared(v, name="s")
    v[0] = 5.0
    assert s.get_value()[0] == 0.0  # copied at creation
    got = s.get_value()
    got[1] = 7.0
    assert s.get_value()[1] == 0.0  # get_value() copies
    step = symcomp.function([], s.sum(), updates={s: s + 1}, mode=mode)
    assert step() == 0.0
    np.testing.assert_array_equal(s.get_value(), [1.0, 1.0, 1.0])
    s.set_value(np.array([1, 2, 3]))  # lossless upcast int -> float64
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        s.set_value(np.array(["a"]))
    with pytest.raises(ValueError, match="shape"):
        s.set_value(np.zeros((2, 2)))


def test_givens_minibatch():
    data = symcomp.shared(np.arange(20.0).reshape(10, 2), name="data")
    i = T.lscalar("i")
    x = T.dmatrix("x")
    f = symcomp.function([i], x.sum(axis=0), givens={x: data[i * 3:(i + 1) * 3]})
    np.testing.assert_array_equal(f(1), np.arange(20.0).reshape(10, 2)[3:6].sum(axis=0))
    np.testing.assert_array_equal(f(3), np.arange(20.0).reshape(10, 2)[9:12].sum(axis=0))


@pytest.mark.parametrize("mode", MODES)
def test_input_dtype_rules(mode):
    x = T.fvector("x")
    f = symcomp.function([x], x * 2, mode=mode)
    with pytest.raises(TypeError, match=r"input 0 \(x\).*float64.*downcast"):
        f(np.ones(3))
    assert f(np.ones(3, dtype=np.int8)).dtype == np.float32  # lossless upcast
    np.testing.assert_array_equal(f([1.0, 2.5]), [2.0, 5.0])  # Python floats that fit exactly
    with pytest.raises(TypeError):
        f([0.1])  # 0.1 is not exact in float32
    g = symcomp.function([x], x * 2, mode=mode, allow_input_downcast=True)
    np.testing.assert_allclose(g([0.1]), [np.float32(0.1) * 2])
    for bad in (None, np.array(["a", "b"]), np.array([object()]), np.array([1 + 2j])):
        with pytest.raises(TypeError, match="input 0"):
            f(bad)


@pytest.mark.parametrize("mode", MODES)
def test_shape_errors_name_the_input(mode):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = symcomp.function([x, y], x + y, mode=mode)
    with pytest.raises(ValueError, match=r"input 0 \(x\).*rank 2"):
        f(np.ones(3), np.ones((3, 3)))
    with pytest.raises(ValueError, match="sc.add"):
        f(np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="only axes declared with size 1 broadcast"):
        f(np.ones((1, 3)), np.ones((3, 3)))  # a dynamic axis of size 1 does not broadcast (Theano)
    s = T.tensor("float64", shape=(None, 3), name="s")
    g = symcomp.function([s], s * 2, mode=mode)
    with pytest.raises(ValueError, match="axis 1 must have size 3"):
        g(np.ones((2, 4)))
    np.testing.assert_array_equal(f(np.ones((2, 3)), np.ones((2, 3))), np.full((2, 3), 2.0))  # still usable


def test_symbolic_truth_value_raises():
    x = T.dscalar("x")
    with pytest.raises(TypeError, match="truth value"):
        if x > 0:
            pass
    with pytest.raises(TypeError):
        len(T.dvector())


@pytest.mark.parametrize("mode", MODES)
def test_outputs_never_alias_inputs_and_inputs_are_untouched(mode):
    x = T.dmatrix("x")
    f = symcomp.function([x], [x, x.T, x[0], x, x * 1.0], mode=mode)
    a = np.arange(6.0).reshape(2, 3)
    keep = a.copy()
    outs = f(a)
    for o in outs:
        assert not np.shares_memory(o, a)
    assert not np.shares_memory(outs[0], outs[3])
    outs[0][0, 0] = 99.0
    np.testing.assert_array_equal(a, keep)


@pytest.mark.parametrize("mode", MODES)
def test_scalars_keywords_and_multiple_outputs(mode):
    x, y = T.dscalar("x"), T.dscalar("y")
    f = symcomp.function([x, y], [x + y, x * y], mode=mode)
    s, p = f(y=3.0, x=2.0)
    assert isinstance(s, np.ndarray) and s.shape == () and s == 5.0 and p == 6.0
    with pytest.raises(TypeError, match="unexpected keyword"):
        f(2.0, z=1.0)
    with pytest.raises(TypeError, match="takes 2 arguments"):
        f(1.0)


def test_missing_and_unused_inputs():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(symcomp.MissingInputError, match="y"):
        symcomp.function([x], x + y)
    with pytest.raises(symcomp.UnusedInputError, match="y"):
        symcomp.function([x, y], x * 2)
    with pytest.raises(TypeError, match="shared"):
        symcomp.function([symcomp.shared(np.ones(2))], x)


def test_dimshuffle_rules():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="repeated"):
        x.dimshuffle(0, 0)
    with pytest.raises(ValueError, match="not broadcastable"):
        x.dimshuffle(0)
    r = T.drow("r")
    assert r.dimshuffle(1).type.shape == (None,)


def test_dump_stages():
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x) + 1)
    assert "sc.exp" in f.dump("traced")
    assert "define" in f.dump("llvm")
    assert "ret" in f.dump("asm")
    with pytest.raises(KeyError, match="known stages"):
        f.dump("nope")


def test_eval_and_constants():
    x = T.dvector("x")
    np.testing.assert_array_equal((x * 2).eval({x: np.array([1.0, 2.0])}), [2.0, 4.0])
    c = T.constant(np.arange(3.0))
    np.testing.assert_array_equal(symcomp.function([], c * 2)(), [0.0, 2.0, 4.0])


def test_integer_and_bool_inputs():
    i, b = T.ivector("i"), T.tensor("bool", shape=(None,), name="b")
    f = symcomp.function([i, b], [T.switch(b, i, -i), (i > 0) & b])
    out = f(np.array([1, -2, 3], np.int32), np.array([True, False, True]))
    np.testing.assert_array_equal(out[0], [1, 2, 3])
    np.testing.assert_array_equal(out[1], [True, False, True])


def test_jit_traces_once_per_signature():
    calls = []

    @symcomp.jit
    def f(x, y):
        calls.append(1)
        return T.exp(x) * y + 1

    a = np.linspace(0, 1, 5)
    np.testing.assert_allclose(f(a, a), np.exp(a) * a + 1)
    np.testing.assert_allclose(f(a[:3], a[:3]), np.exp(a[:3]) * a[:3] + 1)  # same signature: no retrace
    assert len(calls) == 1
    f(a.astype(np.float32), a.astype(np.float32))
    assert len(calls) == 2
