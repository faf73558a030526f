"""mode="nanguard": the first NaN or infinity produced raises, naming the op and the user's line."""

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import ir
from symcomp import tensor as T
from symcomp.compile.debug import compare
from symcomp.compile.modes import MODES
from symcomp.compile.nanguard import NanGuardError, NanGuardExecutable, nanguard_mode
from symcomp.compile.trace import Signature
from symcomp.backends.cpu import compile_cpu

from ir_graphs import graphs
from robust_helpers import concrete


def _line() -> int:
    return inspect.currentframe().f_back.f_lineno


def test_nan_names_the_op_and_the_line_that_created_it():
    x = T.dvector("x")
    y = T.log(x)
    line = _line() - 1
    f = symcomp.function([x], (y * 2.0).sum(), mode="nanguard")
    assert f(np.array([1.0, np.e])) == pytest.approx(2.0)
    with pytest.raises(NanGuardError) as info:
        f(np.array([1.0, -1.0, 2.0]))
    err = info.value
    assert err.kind == "NaN"
    assert err.culprit.name == "sc.log" and err.culprit.loc.line == line
    text = str(err)
    assert "sc.log produced NaN (1 of 3 elements, first at index (1,))" in text
    assert f"test_nanguard.py:{line}" in text and "y = T.log(x)" in text
    assert np.isclose(f(np.array([1.0, 1.0])), 0.0)  # still usable


def test_infinity_from_a_division_by_zero():
    x = T.dvector("x")
    f = symcomp.function([x], 1.0 / x, mode="nanguard")
    with pytest.raises(NanGuardError, match=r"produced Inf \(1 of 2 elements, first at index \(0,\)\)") as info:
        f(np.array([0.0, 2.0]))
    assert info.value.kind == "Inf" and info.value.culprit.name == "sc.div"


def test_bad_arguments_are_named():
    x = T.dvector("x")
    W = symcomp.shared(np.array([1.0, np.inf]), name="W")
    f = symcomp.function([x], x * 2.0, mode="nanguard")
    with pytest.raises(NanGuardError, match=r"input 0 \(x\) holds NaN \(1 of 2 elements, first at index \(1,\)\)"):
        f(np.array([0.0, np.nan]))
    g = symcomp.function([x], x * W, mode="nanguard")
    with pytest.raises(NanGuardError, match="shared variable 'W' holds Inf") as info:
        g(np.ones(2))
    assert info.value.op is None


def test_a_value_discarded_later_still_raises():
    """Like Theano's NanGuardMode: every value is checked, even one a switch throws away."""
    x = T.dvector("x")
    f = symcomp.function([x], T.switch(x > 0, T.sqrt(x), 0.0), mode="nanguard")
    with pytest.raises(NanGuardError, match="sc.sqrt"):
        f(np.array([-1.0, 4.0]))


def test_clean_calls_match_the_fast_mode_and_a_failed_check_updates_nothing():
    x = T.dvector("x")
    W = symcomp.shared(np.array([1.0, 2.0]), name="W")
    g = symcomp.function([x], [T.exp(x) * W, T.sum(x)], updates={W: W / x}, mode="nanguard")
    xv = np.array([0.5, 2.0])
    out, s = g(xv)
    np.testing.assert_allclose(out, np.exp(xv) * [1.0, 2.0], rtol=1e-15)
    assert s == 2.5
    np.testing.assert_array_equal(W.get_value(), [2.0, 1.0])
    with pytest.raises(NanGuardError, match="sc.div"):
        g(np.array([0.0, 1.0]))
    np.testing.assert_array_equal(W.get_value(), [2.0, 1.0])  # the update was not applied


def test_options_nan_only(monkeypatch):
    monkeypatch.setitem(MODES, "nanguard_nan_only", nanguard_mode("nanguard_nan_only", inf_is_error=False))
    x = T.dvector("x")
    f = symcomp.function([x], T.log(x), mode="nanguard_nan_only")
    np.testing.assert_array_equal(f(np.array([0.0])), [-np.inf])
    with pytest.raises(NanGuardError, match="NaN"):
        f(np.array([-1.0]))


FUSED = """module {
  func.func @main(%x: tensor<?xf64>, %y: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.fused %x, %y : tensor<?xf64> ({
    ^bb0(%a: tensor<f64>, %b: tensor<f64>):
      %1 = sc.mul %a, %b : tensor<f64>
      %2 = sc.sqrt %1 : tensor<f64>
      %3 = sc.add %2, %a : tensor<f64>
      sc.yield %3
    })
    func.return %0
  }
}
"""


def test_inside_a_fused_loop_the_scalar_op_is_named():
    module = ir.parse(FUSED, "fused.sc")
    sig = Signature(inputs=[T.dvector("x"), T.dvector("y")], n_outputs=1)
    exe = NanGuardExecutable(module, sig, {}, compile_cpu, nan_is_error=True, inf_is_error=True)
    (out,), _ = exe.run([np.array([1.0, 4.0]), np.array([4.0, 1.0])])
    np.testing.assert_array_equal(out, [3.0, 6.0])
    with pytest.raises(NanGuardError) as info:
        exe.run([np.array([1.0, 4.0]), np.array([4.0, -1.0])])
    err = info.value
    assert err.op.name == "sc.fused" and err.culprit.name == "sc.sqrt"
    assert (err.culprit.loc.line, err.culprit.loc.col) == (6, 12)
    assert "inside the fused loop, the first NaN comes from sc.sqrt created at fused.sc:6:12" in str(err)


@given(graphs(), st.integers(0, 2**32 - 1))
def test_random_programs_raise_only_documented_errors(graph, seed):
    """Finite data through random graphs: either the fast mode's result, all finite, or a NanGuardError
    blaming an op (never an argument: they are finite)."""
    ins, outs = graph
    f = symcomp.function(ins, outs, mode="nanguard", on_unused_input="ignore")
    fast = symcomp.function(ins, outs, on_unused_input="ignore")
    args = [concrete(v.type, np.random.default_rng(seed), 2, specials=False) for v in ins]
    try:
        want = fast(*args)
    except (ValueError, IndexError):
        with pytest.raises((ValueError, IndexError)):  # several problems in one call: either may be reported
            f(*args)
        return
    try:
        got = f(*args)
    except NanGuardError as err:
        assert err.op is not None  # the arguments are finite
        return
    for g, w in zip(got, want):
        assert compare(g, w) is None  # fused (fast) and unfused (nanguard) loops may round differently
        assert g.dtype.kind != "f" or np.isfinite(g).all()
