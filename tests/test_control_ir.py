"""``sc.scan`` and ``sc.if`` in the IR: exact print/parse round trips of random nested programs
(hypothesis), the verifier's checks of regions, and errors with line:col."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.compile.trace import trace
from symcomp.ifelse import ifelse
from symcomp.ir.errors import VerifyError
from symcomp.ir.parser import parse


@st.composite
def nested_program(draw):
    """A random program of loops and branches nested up to three deep, on a vector and a scalar."""
    x, c = T.dvector("x"), T.dscalar("c")
    depth = draw(st.integers(1, 3))

    def build(v, level):
        kinds = ["scan", "if", "map", "leaf"] if v.type.ndim else ["scan", "if", "leaf"]
        kind = draw(st.sampled_from(kinds)) if level < depth else "leaf"
        if kind == "leaf":
            return T.tanh(v) * c if draw(st.booleans()) else v + 1.0
        if kind == "if":
            return ifelse(T.gt(c, draw(st.floats(-1, 1))), build(v, level + 1), build(v * 2.0, level + 1))
        if kind == "map":
            out, _ = symcomp.map(lambda e: build(e, level + 1) * 1.0, sequences=v)
            return out
        taps = draw(st.sampled_from([[-1], [-2, -1]]))
        init = T.zeros_like(v) if taps == [-1] else T.stack([v, v])
        out, _ = symcomp.scan(lambda *a: build(a[-1], level + 1), outputs_info=dict(initial=init, taps=taps),
                              n_steps=draw(st.integers(0, 3)))
        return out.sum(axis=0)  # the history (n, *v.shape) summed: v's shape again
    return x, c, build(x, 0)


@settings(max_examples=30, deadline=None)
@given(nested_program())
def test_round_trip_and_run(prog):
    x, c, out = prog
    m, _ = trace([x, c], [out], on_unused_input="ignore")
    text = str(m)
    again = parse(text, "<roundtrip>")
    assert str(again) == text
    f_ref = symcomp.function([x, c], out, mode="reference", on_unused_input="ignore")
    f_cpu = symcomp.function([x, c], out, on_unused_input="ignore")
    xv = np.array([0.5, -1.0, 2.0])
    for cv in (-0.5, 0.7):
        np.testing.assert_allclose(f_cpu(xv, cv), f_ref(xv, cv), rtol=1e-12, atol=1e-12)


GOOD = """module {
  func.func @f(%n: tensor<i64>, %h0: tensor<1xf64>) -> (tensor<?xf64>) {
    %0 = sc.scan %n, %h0 {state_taps = [-1], state_ntaps = [1], state_keep = [0]} : tensor<?xf64> ({
    ^bb0(%h: tensor<f64>):
      %1 = sc.exp %h : tensor<f64>
      sc.yield %1
    })
    func.return %0
  }
}
"""


def test_verifier_checks_yield_types_and_isolation():
    parse(GOOD)
    bad_yield = GOOD.replace("%1 = sc.exp %h : tensor<f64>", "%1 = sc.cast %h {dtype = f32} : tensor<f32>")
    with pytest.raises(VerifyError, match=r"state 0.*yields tensor<f32>"):
        parse(bad_yield)
    captured = GOOD.replace("%1 = sc.exp %h : tensor<f64>", "%1 = sc.exp %n : tensor<i64>")
    with pytest.raises(VerifyError) as e:
        parse(captured)
    assert ":6:" in str(e.value) or "line 6" in str(e.value) or "defined outside" in str(e.value)
    no_yield_count = GOOD.replace("state_keep = [0]}", "state_keep = [0], n_nitsot = 1}")
    with pytest.raises(VerifyError, match="must yield 2 values"):
        parse(no_yield_count)


def test_scan_errors_at_call_and_trace_time():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="n_steps must be >= 0"):
        symcomp.scan(lambda h: h * 2, outputs_info=x, n_steps=-1)
    with pytest.raises(ValueError, match="n_steps must be an integer"):
        symcomp.scan(lambda h: h * 2, outputs_info=x, n_steps=1.5)
    with pytest.raises(ValueError, match="no sequences and no n_steps"):
        symcomp.scan(lambda h: h * 2, outputs_info=x)
    with pytest.raises(ValueError, match="dtype float64.*float32|float32.*float64"):
        symcomp.scan(lambda h: T.cast(h, "float32"), outputs_info=x, n_steps=2)
    with pytest.raises(ValueError, match="dimension"):
        symcomp.scan(lambda h: h.sum(), outputs_info=x, n_steps=2)
    k = T.lscalar("k")
    out, _ = symcomp.scan(lambda h: h * 2, outputs_info=x, n_steps=k)
    f = symcomp.function([x, k], out)
    with pytest.raises(ValueError, match=">= 0"):
        f(np.ones(2), -3)
    assert f(np.ones(2), 0).shape == (0, 2)
    seq = T.dvector("s")
    out, _ = symcomp.scan(lambda v: v * 2, sequences=seq, n_steps=k)
    g = symcomp.function([seq, k], out)
    with pytest.raises(ValueError, match="sequence 0 has 2 entries"):
        g(np.ones(2), 3)


def test_state_shape_change_is_refused_at_call_time():
    x = T.dvector("x")
    out, _ = symcomp.scan(lambda h: T.concatenate([h, h])[:T.shape(h)[0] + 1], outputs_info=x, n_steps=2)
    for mode in ("reference", "fast"):
        f = symcomp.function([x], out, mode=mode)
        with pytest.raises(ValueError):
            f(np.ones(2))
