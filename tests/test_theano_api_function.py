"""The function interface (issue 22, part 6): ``In``/``Param``, ``Out``, ``f[name]``, ``f.value``,
``f.container``, ``f.copy()``, ``ProfileStats``.

References (Theano 1.0): ``doc/library/compile/io.txt`` (the ``inc`` example, the ``fn['s']``
example, the keyword-argument example, the ``Out`` example), ``doc/tutorial/examples.txt``
("Copying functions": ``new_accumulator(100)`` prints ``[array(0)]``),
``theano/compile/io.py`` (``In``, ``Out``), ``theano/compile/pfunc.py`` (``Param``;
``_pfunc_param_to_in`` accepts variables and ``In`` only), ``theano/compile/function_module.py``
(``Function.__call__``, ``copy``, ``get_info_on_inputs``), ``theano/compile/profiling.py``.
"""

import copy
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import symcomp
from symcomp import In, Out, Param, tensor as T


def test_io_doc_inc_example():
    """io.txt, "Value: initial and default values"."""
    u, x, s = T.scalars("u", "x", "s")
    inc = symcomp.function([u, In(x, value=3), In(s, update=(s + x * u), value=10.0)], [])
    assert inc(5) == []  # update s with 10+3*5
    assert str(inc[s]) == "25.0"
    assert inc(3, 4) == []  # update s with 25 + 3*4
    assert str(inc[s]) == "37.0"
    assert str(inc[x]) == "3.0"  # the override value of 4 was only temporary
    assert inc(3, 4, 7) == []  # update s with 7 + 3*4
    assert str(inc[s]) == "19.0"
    inc[s] = 10
    assert repr(inc[s]) == "array(10.)"  # Theano's NumPy printed array(10.0)


def test_io_doc_value_and_container_example():
    """io.txt, "Access to function values and containers"."""
    a, b, c = T.scalars("xys")  # set the internal names of graph nodes; the name of c is 's'
    fn = symcomp.function([a, b, In(c, update=c + a + b, value=10.0)], [])
    assert fn["s"] is fn.value[c]
    assert fn["s"] is fn.container[c].value
    assert fn["s"] == 10.0
    assert fn(1, 2) == []
    assert fn["s"] == 13.0
    fn["s"] = 99.0
    fn(1, 0)
    assert fn["s"] == 100.0
    fn.value[c] = 99.0
    fn(1, 0)
    assert fn["s"] == 100.0
    assert fn["s"] == fn.value[c] and fn["s"] == fn.container[c].value
    assert fn.value[2] == 100.0 and "s" in fn and c in fn.value and "t" not in fn


def test_io_doc_keyword_example():
    """io.txt, "Input Shortcuts": the same inputs written with In (Theano 1.0's function accepts
    variables and In objects only, see test_tuple_inputs_are_refused)."""
    x = T.scalar()
    y = T.scalar("y")
    z = T.scalar("z")
    w = T.scalar("w")
    fn = symcomp.function(inputs=[x, y, In(z, value=42), In(w, value=0, update=w + x)], outputs=x + y + z)
    with pytest.raises(TypeError, match="^Missing required input: y$"):
        fn(1)
    assert fn(1, 2) == 45.0 and fn["w"] == 1.0  # z is 42, w goes 0 -> 1
    assert fn(1, y=2) == 45.0 and fn["w"] == 2.0
    with pytest.raises(TypeError) as e:
        fn(x=1, y=2)  # illegal because x was not named
    assert str(e.value) == ("Unknown input or state: x. The function has 3 named inputs (y, z, w), and 1 unnamed "
                            "input which thus cannot be accessed through keyword argument (use 'name=...' in a "
                            "variable's constructor to give it a name).")
    assert fn(1, 2, 3) == 6.0 and fn["w"] == 3.0  # z is 3, w goes 2 -> 3
    assert fn(1, z=3, y=2) == 6.0 and fn["w"] == 4.0
    assert fn(1, 2, w=400) == 45.0 and fn["w"] == 401.0  # z is 42 again, w goes 400 -> 401
    assert fn(1, 2) == 45.0 and fn["w"] == 402.0
    with pytest.raises(TypeError, match="Multiple values for input: y"):
        fn(1, 2, y=3)
    with pytest.raises(TypeError, match="Too many parameters"):
        fn(1, 2, 3, 4, 5)


def test_io_doc_out_example():
    """io.txt, "Outputs": a list of Variables/Out gives a list, a single one its value."""
    x, y, s = T.matrices("xys")
    fn1 = symcomp.function([x], [x + x, Out((x + x).T, borrow=True)])
    a = np.asarray([[1, 0], [0, 1]])
    r1 = fn1(a)
    assert isinstance(r1, list) and len(r1) == 2
    np.testing.assert_array_equal(r1[0], [[2.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(r1[1], [[2.0, 0.0], [0.0, 2.0]])
    fn2 = symcomp.function([x], [x + x])
    assert isinstance(fn2(a), list) and len(fn2(a)) == 1
    fn3 = symcomp.function([x], outputs=x + x)
    assert isinstance(fn3(a), np.ndarray)
    fn4 = symcomp.function([x], Out(x * 3))
    np.testing.assert_array_equal(fn4(a), 3 * a)
    assert repr(Out(x, borrow=True)).startswith("Out(") and Out(x).borrow is False


def test_examples_doc_copying_functions():
    """examples.txt, "Copying functions": the printed values."""
    state = symcomp.shared(0)
    inc = T.iscalar("inc")
    accumulator = symcomp.function([inc], state, updates=[(state, state + inc)])
    assert repr(accumulator(10)) == "array(0)"
    assert str(state.get_value()) == "10"
    new_state = symcomp.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    assert repr(new_accumulator(100)) == "[array(0)]"
    assert str(new_state.get_value()) == "100"
    assert str(state.get_value()) == "10"  # the state of the first function is left untouched
    null_accumulator = accumulator.copy(delete_updates=True)
    assert repr(null_accumulator(9000)) == "[array(10)]"
    assert str(state.get_value()) == "10"


def test_copy_options_and_errors():
    w = symcomp.shared(np.ones(2), name="w")
    x = T.dvector("x")
    f = symcomp.function([x], x * w, updates=[(w, w + 1)], name="step")
    g = f.copy(share_memory=True)
    assert g.name == "step copy" and f.copy(name="other").name == "other"
    np.testing.assert_array_equal(g(np.ones(2))[0], [1.0, 1.0])
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0])  # not swapped: the same shared variable
    with pytest.raises(ValueError, match="SharedVariable: nowhere not found"):
        f.copy(swap={symcomp.shared(np.ones(2), name="nowhere"): symcomp.shared(np.ones(2))})
    with pytest.raises(TypeError, match="has type"):
        f.copy(swap={w: symcomp.shared(np.ones((2, 2)))})
    with pytest.raises(TypeError, match="has type"):
        f.copy(swap={w: symcomp.shared(np.ones(2, dtype=np.float32))})
    h = copy.copy(f)
    assert isinstance(h(np.ones(2)), list)
    again = g.copy(swap={w: symcomp.shared(np.zeros(2), name="w2")})
    np.testing.assert_array_equal(again(np.ones(2))[0], [0.0, 0.0])


def test_copy_keeps_the_interface_and_restarts_states():
    u, s = T.dscalars("u", "s")
    f = symcomp.function([u, In(s, value=1.0, update=s * u)], s)
    f(2.0)
    f(3.0)
    assert f["s"] == 6.0
    g = f.copy()
    assert g["s"] == 1.0  # Theano copies the In, whose value is the initial one
    assert g(5.0) == [1.0] and g["s"] == 5.0 and f["s"] == 6.0
    assert g(u=2.0, s=10.0) == [10.0] and g["s"] == 20.0


def test_copy_of_an_unpickled_function():
    x = T.dvector("x")
    w = symcomp.shared(np.zeros(2), name="w")
    f = pickle.loads(pickle.dumps(symcomp.function([x], x, updates=[(w, w + x)])))
    np.testing.assert_array_equal(f.copy()(np.ones(2))[0], [1.0, 1.0])
    with pytest.raises(NotImplementedError, match="pickle"):
        f.copy(delete_updates=True)


def test_param_is_a_deprecated_in():
    """pfunc.py: Param(variable, default=None, ...) warns and is In(value=default)."""
    x, y = T.dscalars("x", "y")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        p = Param(y, default=5.0)
    assert any("Param class is deprecated" in str(m.message) for m in w)
    assert isinstance(p, In) and p.value == 5.0
    f = symcomp.function([x, p], x + y)
    assert f(1.0) == 6.0 and f(1.0, 2.0) == 3.0


def test_in_options():
    x, y = T.dscalars("x", "y")
    f = symcomp.function([In(x, name="first"), In(y, value=1.0, name="second")], x * y)
    assert f(first=2.0) == 2.0 and f(first=2.0, second=3.0) == 6.0
    assert f["second"] == 1.0 and f[1] == 1.0 and f[y] == 1.0
    v = T.dvector("v")
    strict = symcomp.function([In(v, strict=True)], v * 2)
    np.testing.assert_array_equal(strict(np.ones(2)), [2.0, 2.0])
    with pytest.raises(TypeError, match="strict"):
        strict([1.0, 1.0])
    fv = T.fvector("fv")
    down = symcomp.function([In(fv, allow_downcast=True)], fv * 2)
    assert down(np.ones(2)).dtype == np.float32
    with pytest.raises(TypeError, match="downcast"):
        symcomp.function([fv], fv * 2)(np.ones(2))
    imp = symcomp.function([x, In(y, value=2.0, implicit=True)], x * y)
    assert imp(3.0) == 6.0
    with pytest.raises(TypeError, match="Tried to provide value for implicit input"):
        imp(3.0, 4.0)
    with pytest.raises(TypeError, match="Tried to provide value for implicit input"):
        imp(3.0, y=4.0)
    with pytest.raises(TypeError, match="implicit input must be given a default value"):
        In(y, implicit=True)
    with pytest.raises(TypeError, match="The type of the update should be the same"):
        In(x, update=T.dvector())
    with pytest.raises(AssertionError, match="mutable=True, borrow=False"):
        In(x, mutable=True, borrow=False)
    assert In(x, update=x + 1).mutable is True and In(x).mutable is False
    with pytest.raises(TypeError, match="name must be a string"):
        In(x, name=3)


def test_tuple_inputs_are_refused():
    """Theano 1.0's pfunc: 'Unknown parameter type' for anything but a variable or In."""
    x, w = T.dscalars("x", "w")
    with pytest.raises(TypeError, match="expected a symbolic variable or symcomp.In"):
        symcomp.function([x, ((w, w + x), 0.0)], x)


def test_shared_variables_are_reachable_by_name_and_implicit():
    w = symcomp.shared(np.array([1.0, 2.0]), name="W")
    x = T.dvector("x")
    f = symcomp.function([x], x * w)
    assert f["W"] is w.get_value(borrow=True) and f.container[w].implicit
    f["W"] = [3.0, 4.0]
    np.testing.assert_array_equal(w.get_value(), [3.0, 4.0])
    with pytest.raises(TypeError, match="implicit"):
        f(np.ones(2), W=np.ones(2))
    assert f["x"] is None  # a required input holds nothing between calls (Theano)


def test_plain_functions_keep_their_messages_and_native_entry():
    x, y = T.dvectors("x", "y")
    f = symcomp.function([x, y], x + y)
    assert type(f).__call__ is not symcomp.Function.__call__  # the native entry is installed
    with pytest.raises(TypeError, match=r"main\(\) takes 2 arguments \(1 given\)"):
        f(np.ones(2))
    np.testing.assert_array_equal(f(np.ones(2), y=np.ones(2)), [2.0, 2.0])
    g = symcomp.function([x, In(y, value=np.zeros(2))], x + y)
    assert type(g).__call__ is symcomp.Function.__call__  # defaults are handled in Python
    np.testing.assert_array_equal(g(np.ones(2)), [1.0, 1.0])


def test_functions_with_states_pickle():
    u, s = T.dscalars("u", "s")
    k = T.dscalar("k")
    f = symcomp.function([u, In(s, value=1.0, update=s + u), In(k, value=2.0)], s * k)
    assert f(3.0) == 2.0
    g = pickle.loads(pickle.dumps(f))
    assert g["s"] == 4.0 and g["k"] == 2.0
    assert g(1.0) == 8.0 and g["s"] == 5.0 and f["s"] == 4.0
    assert g(1.0, k=3.0) == 15.0 and g["k"] == 2.0
    with pytest.raises(TypeError, match="Missing required input: u"):
        g()


def test_profile():
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x).sum(), profile=True, name="prof")
    assert isinstance(f.profile, symcomp.ProfileStats) and f.profile.message == "prof"
    for _ in range(3):
        f(np.ones(4))
    p = f.profile
    assert p.fct_callcount == 3 and p.fct_call_time > 0 and 0 < p.vm_call_time <= p.fct_call_time
    assert p.compile_time > 0 and p.optimizer_time > 0 and p.linker_time > 0 and p.nb_nodes >= 1
    out = io.StringIO()
    p.summary(file=out)
    assert out.getvalue().startswith("Function profiling\n==================\n  Message: prof\n  Time in 3 calls")
    first = symcomp.ProfileStats(message="m", ignore_first_call=True)
    g = symcomp.function([x, In(T.dscalar("k"), value=1.0)], x, profile=first, on_unused_input="ignore")
    g(np.ones(1))
    g(np.ones(1))
    assert first.fct_callcount == 1
    assert symcomp.function([x], x, profile="label").profile.message == "label"
    with pytest.raises(TypeError):
        symcomp.function([x], x, profile=3)


CUDA_STATES = textwrap.dedent("""
    import numpy as np, symcomp
    from symcomp import In, tensor as T
    u, s = T.dscalars("u", "s")
    f = symcomp.function([u, In(s, value=1.0, update=s * u)], s * 10, device="cuda")
    out = [float(f(2.0)), float(f["s"]), float(f(3.0)), float(f["s"])]
    f["s"] = 5.0
    out += [float(f(2.0)), float(f["s"])]
    W = symcomp.shared(np.ones(2), name="W")
    x = T.dvector("x")
    g = symcomp.function([x], x * W, updates=[(W, W + 1)], device="cuda")
    g(np.ones(2))
    out += g["W"].tolist()
    print(out)
""")


@pytest.mark.skipif(importlib.util.find_spec("numba_cuda") is None, reason="the CUDA backend needs numba-cuda")
def test_states_and_shared_values_follow_the_device_copy():
    """The CUDA backend keeps shared variables (and so states) on the device: f['s'] reads the
    latest value and f['s'] = v replaces the device copy (run in Numba's CUDA simulator)."""
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    res = subprocess.run([sys.executable, "-c", CUDA_STATES], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[10.0, 2.0, 20.0, 6.0, 50.0, 10.0, 2.0, 2.0]"
