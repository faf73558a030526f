"""symcomp.ir.Builder: programmatic IR, verified, compiled by symcomp.embed.compile."""

import functools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from symcomp import embed, ir
from symcomp.ir.errors import VerifyError
from symcomp.ir.types import float64, int64
from tests.helpers import assert_matches


def _axpy_module():
    b = ir.Builder()
    with b.function("axpy", [("a", "tensor<f64>"), ("x", "tensor<?xf64>"), ("y", "tensor<?xf64>")]) as f:
        a, x, y = f.args
        ax = f.op("sc.mul", f.op("sc.expand_dims", a, axes=[0]), x)
        f.ret(f.op("sc.add", ax, y), f.op("sc.sum", ax, axes=[0]))
    return b.finish()


def test_builder_prints_inferred_types_and_round_trips():
    m = _axpy_module()
    assert str(m) == (
        "module {\n"
        "  func.func @axpy(%a: tensor<f64>, %x: tensor<?xf64>, %y: tensor<?xf64>) -> (tensor<?xf64>, tensor<f64>) {\n"
        "    %0 = sc.expand_dims %a {axes = [0]} : tensor<1xf64>\n"
        "    %1 = sc.mul %0, %x : tensor<?xf64>\n"
        "    %2 = sc.add %1, %y : tensor<?xf64>\n"
        "    %3 = sc.sum %1 {axes = [0]} : tensor<f64>\n"
        "    func.return %2, %3\n"
        "  }\n"
        "}\n")
    assert str(ir.parse(str(m))) == str(m)


@given(hnp.arrays(np.float64, st.integers(0, 40), elements=st.floats(-1e6, 1e6)),
       st.floats(-100, 100))
def test_compiled_builder_function_matches_numpy(x, a):
    f = _compiled_axpy()
    y = np.linspace(-1, 1, x.size)
    out, total = f(a, x, y)
    assert_matches(out, a * x + y)
    np.testing.assert_allclose(total, np.sum(a * x), rtol=1e-12, atol=1e-6)


@functools.cache
def _compiled_axpy():
    return embed.compile(_axpy_module())


def test_builder_modules_compile_in_every_mode():
    x = np.arange(6.0).reshape(2, 3)
    b = ir.Builder()
    with b.function("rowmax", [("x", ir.TensorType(float64, (None, 3)))]) as f:
        f.ret(f.op("sc.max", f.op("sc.exp", f.arg("x")), axes=[1]))
    m = b.finish()
    for mode in ("reference", "fast_compile", "fast"):
        assert_matches(embed.compile(m, mode=mode)(x), np.exp(x).max(axis=1))
    assert str(m).count("func.func") == 1  # compiling copies the function; the module is unchanged


def test_constants_casts_and_keyword_calls():
    b = ir.Builder()
    with b.function("scale", [("x", "tensor<?x2xi32>")]) as f:
        xf = f.op("sc.cast", f.args[0], dtype="f32")
        c = f.constant([[0.5, 2.0]], dtype="f32", name="c")
        f.ret(f.op("sc.mul", xf, c))
    fn = embed.compile(b.finish())
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    assert_matches(fn(x=x), (x * np.array([[0.5, 2.0]])).astype(np.float32))
    assert fn.signature.inputs[0].name == "x"


def test_several_functions_in_one_module():
    b = ir.Builder()
    with b.function("neg", [("x", "tensor<?xf64>")]) as f:
        f.ret(f.op("sc.neg", f.args[0]))
    with b.function("sq", [("x", "tensor<?xf64>")]) as f:
        f.ret(f.op("sc.mul", f.args[0], f.args[0]))
    m = b.finish()
    x = np.array([1.5, -2.0])
    assert_matches(embed.compile(m, "sq")(x), x * x)
    assert_matches(embed.compile(m, "neg")(x), -x)
    with pytest.raises(ValueError, match="holds 2 functions"):
        embed.compile(m)
    with pytest.raises(KeyError, match="@cube"):
        embed.compile(m, "cube")


def test_type_errors_name_the_op_at_build_time():
    b = ir.Builder()
    f = b.function("bad", [("x", "tensor<?xf64>"), ("y", "tensor<?xf32>")])
    with pytest.raises(TypeError, match="sc.add: operands must share one dtype"):
        f.op("sc.add", *f.args)
    with pytest.raises(ValueError, match="sc.sum: axes \\[1\\] out of range"):
        f.op("sc.sum", f.args[0], axes=[1])
    with pytest.raises(VerifyError, match="unknown attribute 'axis'"):
        f.op("sc.sum", f.args[0], axis=[0])
    with pytest.raises(VerifyError, match="missing required attribute 'axes'"):
        f.op("sc.sum", f.args[0])
    with pytest.raises(TypeError, match="takes 2 operands, got 1"):
        f.op("sc.add", f.args[0])


def test_unknown_ops_and_ops_the_builder_makes_itself():
    b = ir.Builder()
    f = b.function("g", [("x", "tensor<?xf64>")])
    with pytest.raises(ValueError, match="unknown operation 'sc.expp'.*did you mean sc.exp"):
        f.op("sc.expp", f.args[0])
    with pytest.raises(ValueError, match="use FunctionBuilder.ret"):
        f.op("func.return", f.args[0])
    with pytest.raises(ValueError, match="fuse"):
        f.op("sc.fused", f.args[0])
    with pytest.raises(TypeError, match="operand #1 must be an SSA value.*FunctionBuilder.constant"):
        f.op("sc.add", f.args[0], 1.0)


def test_values_stay_in_their_function():
    b = ir.Builder()
    f = b.function("f", [("x", "tensor<?xf64>")])
    g = b.function("g", [("x", "tensor<?xf64>")])
    with pytest.raises(ValueError, match="not a value of function @g"):
        g.op("sc.neg", f.args[0])
    from symcomp import tensor as T

    with pytest.raises(ValueError, match="not a value of function @f"):
        f.op("sc.neg", T.dvector("z"))


def test_return_rules():
    b = ir.Builder()
    with pytest.raises(VerifyError, match="left without a return"):
        with b.function("f", [("x", "tensor<?xf64>")]):
            pass
    b = ir.Builder()
    f = b.function("f", [("x", "tensor<?xf64>")])
    with pytest.raises(VerifyError, match="@f has no return"):
        b.finish()
    f.ret(f.args[0])
    with pytest.raises(VerifyError, match="already returned"):
        f.op("sc.neg", f.args[0])
    with pytest.raises(VerifyError, match="already returned"):
        f.ret(f.args[0])
    assert "func.return %x" in str(b.finish())


def test_function_and_parameter_checks():
    b = ir.Builder()
    b.function("f", []).ret()
    with pytest.raises(ValueError, match="already defined"):
        b.function("f", [])
    with pytest.raises(ValueError, match="non-empty name"):
        b.function("", [])
    with pytest.raises(TypeError, match="parameter #0 must be"):
        b.function("g", ["x"])
    with pytest.raises(TypeError, match="expected a type such as"):
        b.function("g", [("x", "tensor<3,f64>")])
    with pytest.raises(TypeError, match="unknown element type 'f16'"):
        b.function("g", [("x", "tensor<3xf16>")])
    with pytest.raises(KeyError, match="no parameter 'y'"):
        b.function("h", [("x", "tensor<f64>")]).arg("y")
    assert ir.parse_type("tensor<?x3xi64>") == ir.TensorType(int64, (None, 3))


def test_shared_parameters_verify_but_need_symcomp_function():
    b = ir.Builder()
    with b.function("step", [("x", "tensor<?xf64>"), ("w", "tensor<?xf64>", {"sc.shared": "w"})]) as f:
        x, w = f.args
        assert f.op("sc.assign", w, f.op("sc.add", w, x)) is None
        f.ret(f.op("sc.mul", w, x))
    m = b.finish()
    assert "sc.assign %w" in str(m)
    with pytest.raises(ValueError, match="sc.shared.*symcomp.function"):
        embed.compile(m)
