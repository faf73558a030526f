"""The inplace pass (sc.inplace hints) and how the CPU backend honours them (docs/memory.md)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T

from pass_helpers import optimized


def hinted_names(module) -> list:
    return [o.name for o in module.func().body.ops if "sc.inplace" in o.attributes]


def test_dead_temporary_is_overwritten_but_never_a_user_input():
    x = T.dvector("x")
    m = optimized([x], [T.tanh(T.exp(x))], "inplace")
    ops = list(m.func().body.ops)
    assert "sc.inplace" not in ops[0].attributes  # exp(x): x is the user's array
    assert ops[1].attributes["sc.inplace"] == 0  # tanh overwrites exp's dead result


def test_operand_read_later_is_not_overwritten():
    x = T.dvector("x")
    e = T.exp(x)
    assert hinted_names(optimized([x], [T.tanh(e), e], "inplace")) == []  # e is returned
    assert hinted_names(optimized([x], [T.tanh(e) + T.cos(e)], "inplace")) == ["sc.cos", "sc.add"]


def test_operand_read_later_through_a_view_is_not_overwritten():
    x = T.dmatrix("x")
    e = T.exp(x)
    m = optimized([x], [T.tanh(e) + e.T], "inplace")
    tanh = next(o for o in m.func().body.ops if o.name == "sc.tanh")
    assert "sc.inplace" not in tanh.attributes


def test_other_operand_viewing_the_same_buffer_blocks_it():
    x = T.dmatrix("x")
    e = T.exp(x)
    m = optimized([x], [e * e.T], "inplace")
    assert hinted_names(m) == []
    a = np.arange(9.0).reshape(3, 3) / 10
    np.testing.assert_allclose(symcomp.function([x], e * e.T)(a), np.exp(a) * np.exp(a).T)


def test_broadcast_operand_is_not_overwritten():
    mat, row = T.dmatrix("mat"), T.drow("row")
    m = optimized([mat, row], [T.exp(row) + mat], "inplace")
    assert hinted_names(m) == []


def test_shared_update_target_is_preferred():
    w = symcomp.shared(np.ones(4), name="w")
    x = T.dvector("x")
    m = optimized([x], [], "fuse,inplace", updates=[(w, w - 0.5 * T.exp(x))])
    (op,) = [o for o in m.func().body.ops if "sc.inplace" in o.attributes]
    assert op.operands[op.attributes["sc.inplace"]] is m.func().args[1]  # w, not the dead exp(x)


def test_shared_variable_read_after_the_write_is_not_updated_in_place():
    w, v = symcomp.shared(np.ones(3), name="w"), symcomp.shared(np.ones(3), name="v")
    m = optimized([], [], "inplace", updates=[(w, w * 2.0), (v, w + v)])
    ops = list(m.func().body.ops)
    mul = next(o for o in ops if o.name == "sc.mul")
    add = next(o for o in ops if o.name == "sc.add")
    assert "sc.inplace" not in mul.attributes  # the add reads the old w afterwards
    assert add.operands[add.attributes["sc.inplace"]] is m.func().args[1]  # v
    f = symcomp.function([], [], updates=[(w, w * 2.0), (v, w + v)])
    f()
    np.testing.assert_array_equal(w.get_value(), [2.0] * 3)
    np.testing.assert_array_equal(v.get_value(), [2.0] * 3)  # saw the old w


def test_no_in_place_update_before_an_op_that_may_fail():
    """An index error after an in-place write would leave w half-updated: updates must stay atomic."""
    w = symcomp.shared(np.ones(3), name="w")
    v = symcomp.shared(np.arange(3.0), name="v")
    i = T.lvector("i")
    updates = [(w, w * 2.0), (v, T.inc_subtensor(v[i], 1.0))]
    m = optimized([i], [], "inplace", updates=updates)
    assert hinted_names(m) == []
    f = symcomp.function([i], [], updates=updates)
    with pytest.raises(IndexError):
        f(np.array([5]))
    np.testing.assert_array_equal(w.get_value(), [1.0] * 3)
    np.testing.assert_array_equal(v.get_value(), [0.0, 1.0, 2.0])
    f(np.array([0, 0]))
    np.testing.assert_array_equal(w.get_value(), [2.0] * 3)
    np.testing.assert_array_equal(v.get_value(), [2.0, 1.0, 2.0])


def test_shared_update_writes_into_the_stored_array():
    w = symcomp.shared(np.arange(6.0).reshape(2, 3), name="w")
    x = T.dmatrix("x")
    f = symcomp.function([x], (w * x).sum(), updates=[(w, w - 0.5 * x)])
    storage = w.get_value(borrow=True)
    f(np.ones((2, 3)))
    assert w.get_value(borrow=True) is storage
    np.testing.assert_array_equal(storage, np.arange(6.0).reshape(2, 3) - 0.5)
    (plan,) = f.executable._plans.values()
    assert plan.inplace_updates == [(0, 1)]


@pytest.mark.parametrize("how", ["strided", "readonly", "aliased-input"])
def test_shared_arrays_that_cannot_be_written_fall_back_to_a_fresh_update(how):
    base = np.arange(12.0).reshape(3, 4)
    w = symcomp.shared(np.zeros((3, 4)), name="w")
    x = T.dmatrix("x")
    f = symcomp.function([x], x.sum(), updates=[(w, w + x)])
    if how == "strided":
        stored = np.asfortranarray(base)
        w.set_value(stored, borrow=True)
        arg = np.ones((3, 4))
    elif how == "readonly":
        stored = base.copy()
        stored.flags.writeable = False
        w.set_value(stored, borrow=True)
        arg = np.ones((3, 4))
    else:
        stored = base.copy()
        w.set_value(stored, borrow=True)
        arg = w.get_value(borrow=True)  # the input is the shared storage itself
    before = stored.copy()
    f(arg)
    np.testing.assert_array_equal(stored, before)  # not written: it is read-only, or the user's input
    np.testing.assert_array_equal(w.get_value(), before + arg if how != "aliased-input" else 2 * before)
    assert w.get_value(borrow=True) is not stored


def test_swapping_updates_see_values_from_before_the_call():
    a, b = symcomp.shared(np.array([1.0, 2.0]), name="a"), symcomp.shared(np.array([3.0, 4.0]), name="b")
    f = symcomp.function([], [], updates=[(a, b * 1.0), (b, a * 1.0)])
    f()
    np.testing.assert_array_equal(a.get_value(), [3.0, 4.0])
    np.testing.assert_array_equal(b.get_value(), [1.0, 2.0])


def test_outputs_never_alias_inputs_or_shared_storage():
    w = symcomp.shared(np.ones(5), name="w")
    x = T.dvector("x")
    f = symcomp.function([x], [x, w, x * 1.0, w + x], updates=[(w, w + x)])
    arg = np.arange(5.0)
    outs = f(arg)
    for o in outs:
        assert not np.shares_memory(o, arg) and not np.shares_memory(o, w.get_value(borrow=True))
    for i, o in enumerate(outs):
        for p in outs[i + 1:]:
            assert not np.shares_memory(o, p)


@given(data=st.data())
def test_user_inputs_are_never_modified(data):
    n = data.draw(st.integers(1, 40))
    x, y = T.dvectors("x", "y")
    v = x
    for _ in range(data.draw(st.integers(1, 6))):
        v = data.draw(st.sampled_from([T.exp, T.tanh, lambda t: t * y, lambda t: t - x, lambda t: y / (1 + t * t)]))(v)
    f = symcomp.function([x, y], [v, v * 2.0], on_unused_input="ignore")
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal(n), rng.standard_normal(n)
    a0, b0 = a.copy(), b.copy()
    out, out2 = f(a, b)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    ref = symcomp.function([x, y], v, mode="reference", on_unused_input="ignore")(a, b)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(out2, 2 * ref, rtol=1e-12, atol=1e-300)


def test_gemm_never_overwrites_an_addend_it_also_multiplies():
    """dot(a, b) + 2 * a with a fresh ``a``: the gemm's addend is its left factor, so writing
    ``beta * c`` into c's buffer first would change the factor (a wrong result before the fix)."""
    import numpy as np

    import symcomp
    from symcomp import tensor as T

    x, b = T.dmatrix("x"), T.dmatrix("b")
    a = T.exp(x)
    f = symcomp.function([x, b], [T.dot(a, b) + 2 * a, T.dot(b, a) - a])
    xv, bv = np.full((2, 2), 0.1), np.arange(4.0).reshape(2, 2)
    got = f(xv, bv)
    np.testing.assert_allclose(got[0], np.exp(xv) @ bv + 2 * np.exp(xv))
    np.testing.assert_allclose(got[1], bv @ np.exp(xv) - np.exp(xv))
    assert "sc.inplace = 2" not in f.dump("optimized").split("sc.gemm %0, %b, %0")[-1].split("\n")[0]
