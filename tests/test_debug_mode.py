"""mode="debug": compiled results checked against the reference interpreter, the memory contract checked,
and a mismatch traced to the first diverging op, its IR line and the user's line that created it."""

import inspect
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.codegen import scalar
from symcomp.compile.debug import BadAlias, BadDestroy, BadOutput, DebugModeError, compare, debug_mode
from symcomp.compile.modes import MODES
from symcomp.ir.ops.elementwise import Expm1, Neg, Softplus
from symcomp.passes.manager import PASSES, ModulePass

from ir_graphs import graphs
from robust_helpers import concrete, tampering_backend


def _line() -> int:
    """The caller's line number."""
    return inspect.currentframe().f_back.f_lineno


@pytest.fixture
def setting():
    """Change ``symcomp.config`` settings for one test only."""
    saved = {}

    def set_(key, value):
        saved.setdefault(key, getattr(symcomp.config, key))
        setattr(symcomp.config, key, value)

    yield set_
    for key, value in saved.items():
        setattr(symcomp.config, key, value)


@pytest.fixture
def register(monkeypatch):
    """Register a mode (or a pass) for one test only."""

    def mode(m):
        monkeypatch.setitem(MODES, m.name, m)
        return m.name

    def pass_(cls):
        monkeypatch.setitem(PASSES, cls.name, cls)

    return mode, pass_


# -- agreement on correct programs -----------------------------------------------------------------------
@given(graphs(), st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 3]))
def test_random_programs_pass_every_check(graph, seed, n):
    """Random graphs over every op family, with NaN/inf/-0.0 data: debug mode finds nothing to report,
    and returns what the reference mode returns."""
    ins, outs = graph
    f = symcomp.function(ins, outs, mode="debug", on_unused_input="ignore")
    ref = symcomp.function(ins, outs, mode="reference", on_unused_input="ignore")
    rng = np.random.default_rng(seed)
    args = [concrete(v.type, rng, n) for v in ins]
    try:
        want = ref(*[a.copy() for a in args])
    except (ValueError, IndexError):  # a bad call: debug mode rejects it too
        with pytest.raises((ValueError, IndexError)):  # several problems in one call: either may be reported
            f(*args)
        return
    got = f(*args)
    for g, w in zip(got, want):
        assert compare(g, w) is None


def test_outputs_and_updates_follow_the_reference():
    x = T.dvector("x")
    W = symcomp.shared(np.ones(3), name="W")
    f = symcomp.function([x], [T.exp(x) + W, (x * x).sum()], updates={W: W - 0.5 * x}, mode="debug")
    xv = np.array([0.0, 1.0, 2.0])
    out, s = f(xv)
    np.testing.assert_allclose(out, np.exp(xv) + 1.0, rtol=1e-15)
    assert s == 5.0
    np.testing.assert_array_equal(W.get_value(), [1.0, 0.5, 0.0])
    assert f.mode == "debug" and "sc.exp" in f.dump("optimized")


def test_invalid_arguments_raise_as_in_fast_mode():
    x, y = T.dvector("x"), T.dvector("y")
    z = x + y
    line = _line() - 1
    f = symcomp.function([x, y], z, mode="debug")
    with pytest.raises(ValueError, match=rf"sc.add created at .*test_debug_mode.py:{line}"):
        f(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        f(np.ones(3, dtype=np.complex128), np.ones(3))
    i = T.lvector("i")
    g = symcomp.function([x, i], x[i], mode="debug")
    with pytest.raises(IndexError, match="sc.advanced_subtensor"):
        g(np.ones(3), np.array([7]))
    np.testing.assert_array_equal(f(np.ones(2), np.ones(2)), [2.0, 2.0])  # still usable


def test_selected_through_config(setting):
    setting("mode", "debug")
    x = T.dvector("x")
    f = symcomp.function([x], x * 2)
    assert f.mode == "debug"
    assert type(f.executable).__name__ == "DebugExecutable"


# -- a wrong answer is traced to its op -------------------------------------------------------------------
def test_backend_bug_names_the_op_its_ir_line_and_the_user_line(monkeypatch, setting):
    """Code generation for sc.mul made wrong on purpose: the report blames sc.mul, created on this file's line."""
    setting("cache", False)  # never store (or reuse) code made with the bug
    add = scalar.EMITTERS["sc.add"]
    monkeypatch.setitem(scalar.EMITTERS, "sc.mul", add)
    x = T.dvector("x")
    e = T.exp(x)
    y = e * 3.0
    line = _line() - 1
    f = symcomp.function([x], T.log1p(y).sum(), mode="debug")
    with pytest.raises(BadOutput) as info:
        f(np.array([0.5, 1.0, 2.0]))
    err = info.value
    assert err.cause == "backend"
    text = str(err)
    assert "output 0 differs from the reference" in text
    if err.op.name == "sc.fused":  # the fuse pass put the mul in a loop nest: its lines are listed
        assert f"sc.mul created at {__file__}:{line}" in text
    else:
        assert err.op.name == "sc.mul" and err.op.loc.line == line
        assert "y = e * 3.0" in text
    ir_line = next(ln.strip() for ln in f.dump("optimized").splitlines() if err.op.name in ln)
    assert ir_line.removesuffix(" ({") in text
    assert f"a bug in the backend's code for {err.op.name}" in text


@dataclass(frozen=True)
class _ExpAsExpm1(ModulePass):
    """A wrong rewrite on purpose: exp(x) -> expm1(x)."""

    name = "test-exp-as-expm1"
    description = "wrong on purpose"

    def apply(self, module):
        for f in module.funcs:
            for op in list(f.body.ops):
                if op.name == "sc.exp":
                    new = Expm1([op.operands[0]], [op.result.type], {}, loc=op.loc)
                    f.body.insert_before(new, op)
                    op.result.replace_all_uses_with(new.result)
                    op.erase()


def test_optimizer_bug_names_the_pass_and_the_op(register):
    mode, pass_ = register
    pass_(_ExpAsExpm1)
    name = mode(debug_mode("debug_wrong_pass", "cse,test-exp-as-expm1,dce"))
    x = T.dvector("x")
    s = T.exp(x) + x
    line = _line() - 1
    f = symcomp.function([x], [s * 2.0], mode=name)
    with pytest.raises(BadOutput) as info:
        f(np.array([0.0, 1.0]))
    err = info.value
    assert err.cause == "optimizer"
    assert err.pass_name == "test-exp-as-expm1"
    assert err.op.name == "sc.add" and err.op.loc.line == line  # the first kept op reading the rewritten value
    assert "the outputs first change after pass 'test-exp-as-expm1'" in str(err)


@dataclass(frozen=True)
class _StableLogSigmoid(ModulePass):
    """A correct stabilizing rewrite: log(sigmoid(x)) -> -softplus(-x)."""

    name = "test-stable-log-sigmoid"
    description = "stabilize on purpose"

    def apply(self, module):
        for f in module.funcs:
            for op in list(f.body.ops):
                src = op.operands[0].owner if op.operands else None
                if op.name == "sc.log" and src is not None and src.name == "sc.sigmoid":
                    t = op.result.type
                    neg = Neg([src.operands[0]], [t], {}, loc=op.loc)
                    sp = Softplus([neg.result], [t], {}, loc=op.loc)
                    out = Neg([sp.result], [t], {}, loc=op.loc)
                    for new in (neg, sp, out):
                        f.body.insert_before(new, op)
                    op.result.replace_all_uses_with(out.result)
                    op.erase()


def test_a_stabilized_finite_value_is_accepted_where_the_naive_program_overflows(register):
    mode, pass_ = register
    pass_(_StableLogSigmoid)
    name = mode(debug_mode("debug_stable", "test-stable-log-sigmoid,dce"))
    x = T.dvector("x")
    f = symcomp.function([x], T.log(T.nnet.sigmoid(x)), mode=name)
    np.testing.assert_allclose(f(np.array([-800.0, 0.0])), [-800.0, -np.log(2.0)], rtol=1e-15)


def test_a_backend_that_makes_a_nan_finite_is_caught(register):
    mode, _ = register

    def nan_to_zero(arrays, outs, ups):
        return [np.nan_to_num(o) for o in outs], ups

    name = mode(debug_mode("debug_nan_to_num", inner=tampering_backend(nan_to_zero)))
    x = T.dvector("x")
    f = symcomp.function([x], T.sqrt(x), mode=name)
    np.testing.assert_array_equal(f(np.array([4.0])), [2.0])
    with pytest.raises(BadOutput, match="NaN|nan"):
        f(np.array([-1.0]))


def test_a_difference_only_memory_reuse_explains_is_reported_as_such(register):
    """The function itself is wrong but its instrumented variant is right: the cause is memory reuse."""
    mode, _ = register

    def off_by_one(arrays, outs, ups):
        return [o + 1 for o in outs], ups

    name = mode(debug_mode("debug_memory", inner=tampering_backend(off_by_one, compilations={0})))
    x = T.dvector("x")
    f = symcomp.function([x], x * 2.0, mode=name)
    with pytest.raises(BadOutput, match="reuses memory") as info:
        f(np.ones(2))
    assert info.value.cause == "memory"


def test_one_side_raising_is_a_mismatch(register):
    mode, _ = register

    def fail(arrays, outs, ups):
        raise IndexError("made up")

    name = mode(debug_mode("debug_raises", inner=tampering_backend(fail)))
    x = T.dvector("x")
    f = symcomp.function([x], x + 1.0, mode=name)
    with pytest.raises(BadOutput, match="raised IndexError: made up, but the reference returned") as info:
        f(np.ones(2))
    assert info.value.cause == "error"


# -- the memory contract -----------------------------------------------------------------------------------
def test_a_modified_input_is_reported(register):
    mode, _ = register

    def scribble(arrays, outs, ups):
        arrays[0][0] = 42.0
        return outs, ups

    name = mode(debug_mode("debug_scribble", inner=tampering_backend(scribble)))
    x = T.dvector("x")
    f = symcomp.function([x], x * 2.0, mode=name)
    with pytest.raises(BadDestroy, match=r"input 0 \(x\) was modified by the call \(inputs are never modified\)"):
        f(np.ones(3))


def test_a_shared_variable_changed_without_an_update_is_reported(register):
    mode, _ = register

    def scribble(arrays, outs, ups):
        arrays[-1][...] = 0.0
        return outs, ups

    name = mode(debug_mode("debug_scribble_shared", inner=tampering_backend(scribble)))
    W = symcomp.shared(np.ones(2), name="W")
    x = T.dvector("x")
    f = symcomp.function([x], x * W, mode=name)
    with pytest.raises(BadDestroy, match="shared variable 'W' was modified by the call .it is not updated"):
        f(np.ones(2))


def test_an_update_may_overwrite_its_own_storage_but_a_failed_call_may_not(register):
    mode, _ = register

    def in_place(arrays, outs, ups):
        arrays[-1][...] = ups[0]
        return outs, [arrays[-1]]

    name = mode(debug_mode("debug_in_place", inner=tampering_backend(in_place)))
    W = symcomp.shared(np.ones(2), name="W")
    step = symcomp.function([], [], updates={W: W * 3.0}, mode=name)
    step()
    np.testing.assert_array_equal(W.get_value(), [3.0, 3.0])

    def write_then_fail(arrays, outs, ups):
        arrays[-1][...] = ups[0]
        raise ValueError("late failure")

    name = mode(debug_mode("debug_half_update", inner=tampering_backend(write_then_fail)))
    step = symcomp.function([], [], updates={W: W * 3.0}, mode=name)
    with pytest.raises(BadDestroy, match="a failed call changes no shared variable"):
        step()


def test_an_output_aliasing_an_input_or_another_output_is_reported(register):
    mode, _ = register
    name = mode(debug_mode("debug_alias_in", inner=tampering_backend(lambda a, o, u: ([a[0]], u))))
    x = T.dvector("x")
    f = symcomp.function([x], x + 0.0, mode=name)
    with pytest.raises(BadAlias, match=r"output 0 shares memory with input 0 \(x\)"):
        f(np.ones(2))
    name = mode(debug_mode("debug_alias_out", inner=tampering_backend(lambda a, o, u: ([o[0], o[0][::-1]], u))))
    f = symcomp.function([x], [x + 0.0, x + 0.0], mode=name)
    with pytest.raises(BadAlias, match="output 1 shares memory with output 0"):
        f(np.ones(2))


def test_errors_are_debug_mode_errors():
    assert issubclass(BadOutput, DebugModeError) and issubclass(BadDestroy, DebugModeError)
    assert issubclass(BadAlias, DebugModeError) and issubclass(DebugModeError, RuntimeError)


# -- comparison rules --------------------------------------------------------------------------------------
def test_compare_rules():
    a = np.array([1.0, np.nan, np.inf, -np.inf])
    assert compare(a, a.copy()) is None
    assert "index (1,)" in compare(np.array([1.0, 0.0, np.inf, -np.inf]), a)
    assert "index (2,)" in compare(np.array([1.0, np.nan, -np.inf, -np.inf]), a)
    assert compare(np.array([1.0 + 1e-9]), np.array([1.0])) is None
    assert compare(np.array([1.0 + 1e-6]), np.array([1.0])) is not None
    assert compare(np.array([1.0 + 1e-5], np.float32), np.array([1.0], np.float32)) is None
    assert compare(np.array([1.0]), np.array([1.0], np.float32)) == "dtype float64, expected float32"
    assert compare(np.ones(2), np.ones(3)) == "shape (2,), expected (3,)"
    assert compare(np.array([3], np.int64), np.array([2], np.int64)).startswith("1 of 1 elements differ")
    assert compare(np.array([True]), np.array([True])) is None
    assert compare(np.array([2.0]), np.array([np.inf])) is not None
    assert compare(np.array([2.0]), np.array([np.inf]), accept_finite=True) is None
    assert compare(np.array([np.inf]), np.array([2.0]), accept_finite=True) is not None
    # Norm-wise: tolerance scales with the largest magnitude of the expected array.
    assert compare(np.array([1e6, 1e-3]), np.array([1e6, 0.0])) is None
