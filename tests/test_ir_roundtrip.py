"""Round trips of the IR text: ``str(parse(str(m))) == str(m)`` for every module the front-end makes."""

import numpy as np
import pytest
from hypothesis import given
from ir_graphs import modules

import symcomp
from symcomp import ir
from symcomp import tensor as T
from symcomp.compile.modes import FAST_PIPELINE
from symcomp.compile.trace import trace
from symcomp.passes.manager import PassManager, parse_pipeline, replay_stages


def roundtrip(module) -> str:
    text = str(module)
    again = ir.parse(text, "m.sc")
    assert str(again) == text
    return text


@given(modules())
def test_traced_modules_round_trip(module):
    ir.verify(module)
    roundtrip(module)


@given(modules())
def test_optimized_modules_round_trip(module):
    """The fast pipeline's output (whatever passes are registered in it) round-trips and verifies."""
    PassManager(parse_pipeline(FAST_PIPELINE), verify_each=True).run(module)
    roundtrip(module)


@given(modules())
def test_pipeline_is_deterministic(module):
    """f.dump(stage) re-runs passes on a copy of the traced module: they must give the same IR again."""
    passes = parse_pipeline(FAST_PIPELINE)
    stages = replay_stages(module, passes)
    PassManager(passes, verify_each=False).run(module)
    assert stages["optimized"]() == str(module)


def test_parsed_ops_carry_their_positions():
    text = "module {\n  func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>) {\n    %0 = sc.exp %x : tensor<?xf64>\n" \
           "    func.return %0\n  }\n}\n"
    m = ir.parse(text, "pos.sc")
    ops = list(m.func().body.ops)
    assert [(o.loc.file, o.loc.line, o.loc.col) for o in ops] == [("pos.sc", 3, 10), ("pos.sc", 4, 5)]
    assert ops[0].loc.source == "    %0 = sc.exp %x : tensor<?xf64>"
    assert (m.func().loc.line, m.func().loc.col) == (2, 3)


def test_mlp_training_step_round_trips():
    x, y = T.dmatrix("x"), T.lvector("y")
    W = symcomp.shared(np.zeros((4, 3)), name="W")
    b = symcomp.shared(np.zeros(3), name="b")
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(x, W) + b), y))
    gW, gb = T.grad(loss, [W, b])
    module, _ = trace([x, y], [loss], [(W, W - 0.1 * gW), (b, b - 0.1 * gb)])
    text = roundtrip(module)
    assert '{sc.shared = "W"}' in text and "sc.assign %W" in text


def test_names_are_kept_made_unique_and_sanitized():
    a, b, c = T.dvector("x"), T.dvector("x"), T.dvector("a b")
    d = T.dvector("0")
    module, _ = trace([a, b, c, d], [a + b + c + d], name="my func")
    text = roundtrip(module)
    assert 'func.func @"my func"(%x: tensor<?xf64>, %x_1: tensor<?xf64>, %a_b: tensor<?xf64>, %v_0: ' in text


def _const_module(arr: np.ndarray) -> str:
    t = ir.TensorType(symcomp.ir.types.dtype(arr.dtype), arr.shape)
    v = T.constant(arr)
    module, _ = trace([], [v])
    assert module.func().body.first.result.type == t
    return module


DENSE_CASES = {
    "f64 specials": np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324, 1.7976931348623157e308, 0.1]),
    "f32 specials": np.array([np.nan, np.inf, -0.0, 1e-45, 3.4028235e38, 0.1, 1 / 3], dtype=np.float32),
    "NaN payloads": np.array([np.nan, -np.nan, np.frombuffer(b"\x01\x00\x00\x00\x00\x00\xf8\x7f")[0]]),
    "zero signs": np.array([0.0, -0.0]),
    "f64 splat": np.full((2, 3), 2.5),
    "i8 extremes": np.array([-128, 127], dtype=np.int8),
    "u64 max": np.array([0, 2**64 - 1], dtype=np.uint64),
    "i64 extremes": np.array([-(2**63), 2**63 - 1]),
    "bool": np.array([[True, False], [False, False]]),
    "bool splat": np.ones((3,), dtype=bool),
    "rank 0": np.array(7, dtype=np.int16),
    "empty": np.zeros((0,)),
    "empty rows": np.zeros((0, 3), dtype=np.float32),
    "empty cols": np.zeros((2, 0), dtype=np.int32),
    "hex f64": np.arange(100, dtype=np.float64) / 7,
    "hex bool": np.arange(90) % 3 == 0,
    "hex u16": np.arange(65, dtype=np.uint16) * 1000,
    "hex with NaNs": np.where(np.arange(80) % 2, np.nan, np.arange(80.0)),
}


@pytest.mark.parametrize("name", DENSE_CASES)
def test_dense_constants_round_trip_exactly(name):
    arr = DENSE_CASES[name]
    module = _const_module(arr)
    text = roundtrip(module)
    value = ir.parse(text).func().body.first.attributes["value"]
    assert value.dtype == arr.dtype and value.shape == arr.shape
    np.testing.assert_array_equal(value, arr)  # NaN == NaN here; -0.0 checked through the text below
    if name == "zero signs":
        assert np.signbit(value).tolist() == [False, True]


def test_dense_text_forms():
    assert "dense<2.5>" in str(_const_module(np.full((2, 3), 2.5)))
    assert "dense<[0.0, -0.0]>" in str(_const_module(np.array([0.0, -0.0])))
    assert "dense<nan>" in str(_const_module(np.array([np.nan, -np.nan])))
    assert 'dense<"0x' in str(_const_module(np.arange(65, dtype=np.uint16)))
