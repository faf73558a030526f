"""The IR parser: accepted syntax, error positions and messages, and robustness against any text."""

import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symcomp import ir
from symcomp.ir.errors import ParseError, VerifyError
from symcomp.ir.parser import MAX_DENSE_ELEMENTS, MAX_NESTING

OPT_TESTS = pathlib.Path(__file__).parent / "opt"

FUNC = """module {{
  func.func @f(%x: tensor<?xf64>, %i: tensor<i64>) -> ({ret}) {{
    {body}
  }}
}}
"""


def parse_body(body: str, ret: str = "tensor<?xf64>"):
    return ir.parse(FUNC.format(body=body, ret=ret), "t.sc")


def error_of(text: str) -> ir.IRError:
    with pytest.raises((ParseError, VerifyError)) as info:
        ir.parse(text, "t.sc")
    return info.value


def test_parse_returns_a_verified_module_with_the_printed_text():
    m = parse_body("%0 = sc.exp %x : tensor<?xf64>\n    func.return %0")
    assert isinstance(m, ir.ModuleOp)
    assert [o.name for o in m.func().body.ops] == ["sc.exp", "func.return"]
    assert m.func().body.first.results[0].type == ir.TensorType(ir.DType("float64", "f64", "f", 64), (None,))


def test_bare_functions_are_wrapped_in_a_module():
    m = ir.parse("func.func @a() -> () {\n  func.return\n}\nfunc.func @b() -> () {\n  func.return\n}\n")
    assert [f.sym_name for f in m.funcs] == ["a", "b"]
    assert str(m).startswith("module {\n  func.func @a() -> () {")


def test_result_arrow_may_be_omitted_and_comments_are_skipped():
    m = ir.parse("// header\nmodule { // open\n func.func @g() { // body\n  func.return // end\n }\n}")
    assert str(m) == "module {\n  func.func @g() -> () {\n    func.return\n  }\n}\n"


def test_numeric_names_are_renumbered_and_name_hints_kept():
    m = parse_body("%7 = sc.exp %x : tensor<?xf64>\n    %y = sc.neg %7 : tensor<?xf64>\n    func.return %y")
    body = str(m)
    assert "%0 = sc.exp %x" in body and "%y = sc.neg %0" in body


def test_attribute_values():
    m = parse_body('%0 = sc.subtensor %x, %i {index = ["?:-1"]} : tensor<?xf64>\n'
                   '    %1 = sc.cast %0 {dtype = f32} : tensor<?xf32>\n'
                   '    %2 = sc.reshape %1, %i {shape = [?, -1]} : tensor<?x?xf32>\n'
                   '    %3 = sc.inc_subtensor %2, %2 {index = [":"], set = true} : tensor<?x?xf32>\n'
                   '    %4 = sc.cast %3 {dtype = f64} : tensor<?x?xf64>\n'
                   '    %5 = sc.reshape %4 {shape = [-1]} : tensor<?xf64>\n    func.return %5')
    ops = list(m.func().body.ops)
    assert ops[0].attributes["index"] == ("?:-1",)
    assert ops[1].attributes["dtype"].ir == "f32"
    assert ops[2].attributes["shape"] == (None, -1)
    assert ops[3].attributes["set"] is True


def test_dense_hex_with_lowercase_digits_is_accepted():
    m = parse_body('%0 = sc.constant {value = dense<"0x0100000000000000ff00000000000000">} : tensor<2xi64>\n'
                   '    func.return %0', ret="tensor<2xi64>")
    np.testing.assert_array_equal(m.func().body.first.attributes["value"], [1, 255])


@pytest.mark.parametrize("body, line, col, message", [
    ("%0 = sc.constant {value = dense<[1.0]>} : tensor<?xf64>", 3, 31,
     "dense<...> needs a result type with a static shape, got tensor<?xf64>"),
    ("%0 = sc.constant {value = dense<[[1.0], [2.0, 3.0]]>} : tensor<2x2xf64>", 3, 31,
     "dense<...> lists must be rectangular"),
    ('%0 = sc.constant {value = dense<"0x0102">} : tensor<2xi64>', 3, 31,
     'dense<"0x..."> holds 2 bytes but tensor<2xi64> needs 16'),
    ('%0 = sc.constant {value = dense<"0x0g">} : tensor<1xi8>', 3, 31, "not a hex digit"),
    ('%0 = sc.constant {value = dense<"0x02">} : tensor<1xi1>', 3, 31, "bytes 00 and 01"),
    ('%0 = sc.constant {value = dense<"zz">} : tensor<1xi1>', 3, 31, 'a hex string "0x..."'),
    ("%0 = sc.constant {value = dense<1e39>} : tensor<f32>", 3, 37, "1e39 is out of range for f32"),
    ("%0 = sc.constant {value = dense<1.5>} : tensor<i64>", 3, 37, "expected an integer for an element of type i64"),
    ("%0 = sc.constant {value = dense<1>} : tensor<i1>", 3, 37, "expected true or false"),
    ("%0 = sc.constant {value = dense<true>} : tensor<f64>", 3, 37, "expected a number"),
    ("%0 = sc.constant {value = 1.0} : tensor<f64>", 3, 31, "attribute 'value' must be written dense<...>"),
    ("%0 = sc.sum %x {axes = dense<1>} : tensor<f64>", 3, 28, "expected a list of integers, got dense<...>"),
    ("%0 = sc.sum %x {axes = [0], axes = [0]} : tensor<f64>", 3, 33, "attribute 'axes' is given twice"),
    ("%0 = sc.sum %x {axes = [?]} : tensor<f64>", 3, 28, "expected a list of integers, got entry None"),
    ("%0 = sc.cast %x {dtype = f16} : tensor<?xf64>", 3, 30, "expected an attribute value, got 'f16'"),
    ('%0 = sc.cast %x {dtype = "f64"} : tensor<?xf64>', 3, 30, "expected an element type (i1, i8"),
    ("%0 = sc.exp %x : tensor<?xf64>, tensor<?xf64>", 3, 20, "1 result name(s) but 2 result type(s)"),
    ("sc.assign %x, %x : tensor<?xf64>", 3, 22, "takes no result types"),
    ("%0, %1 = sc.exp %x : tensor<?xf64>, tensor<?xf64>", 3, 14, "sc.exp: expected 1 results, got 2"),
    ("%0 = sc.exp %x : tensor<?xf64> ({\n    ^bb0():\n      sc.yield\n    })", 3, 10,
     "sc.exp: expected 0 regions, got 1"),
    ('%0 = sc.exp %x : tensor<?xf64>\n    func.return %0 "x"', 4, 20, "expected an operation name"),
    ("%0 = sc.exp %x : tensor<?x>", 3, 29, "expected tensor dimensions and an element type"),
    ("%0 = sc.exp %x : vector<4xf64>", 3, 22, "expected a type such as tensor<?x3xf64>, got 'vector'"),
    ("%0 = 3", 3, 10, "expected an operation name such as sc.add, got '3'"),
    ("% = sc.exp %x : tensor<?xf64>", 3, 5, "expected a name after '%'"),
])
def test_error_positions_and_messages(body, line, col, message):
    err = error_of(FUNC.format(body=body, ret="tensor<?xf64>"))
    assert (err.loc.file, err.loc.line, err.loc.col) == ("t.sc", line, col), str(err)
    assert message in err.message
    text = str(err)
    assert text.startswith(f"t.sc:{line}:{col}: error: ")
    src, caret = text.split("\n")[1:3]
    assert caret.index("^") == col - 1 + 4  # under the column, in the indented excerpt
    assert src == "    " + FUNC.format(body=body, ret="tensor<?xf64>").split("\n")[line - 1]


def test_empty_and_comment_only_input():
    for text in ["", "   \n", "// nothing\n"]:
        err = error_of(text)
        assert err.message == "expected 'module' or 'func.func', got end of file"
        assert err.loc.line == 1


def test_first_line_offsets_positions():
    with pytest.raises(ParseError) as info:
        ir.parse("module {\n  bogus\n}", "big.sc", first_line=40)
    assert (info.value.loc.line, info.value.loc.col) == (41, 3)


def test_nesting_limit():
    deep = "[" * (MAX_NESTING + 5) + "]" * (MAX_NESTING + 5)
    err = error_of(FUNC.format(body=f"%0 = sc.sum %x {{axes = {deep}}} : tensor<f64>", ret="tensor<f64>"))
    assert f"nesting deeper than {MAX_NESTING} levels" in err.message


def test_dense_size_limit():
    n = MAX_DENSE_ELEMENTS + 1
    err = error_of(FUNC.format(body=f"%0 = sc.constant {{value = dense<0.0>}} : tensor<{n}xf64>", ret="tensor<f64>"))
    assert "exceeds the parser's limit" in err.message


def test_non_text_input_is_a_type_error():
    with pytest.raises(TypeError, match="expects IR text as a str"):
        ir.parse(b"module {}")


# -- robustness: any text gives a module, a ParseError or a VerifyError ---------------------------------
def _seeds() -> list[str]:
    texts = []
    for path in sorted(OPT_TESTS.glob("*.sc")):
        texts.extend(chunk for chunk in path.read_text().split("// -----\n") if "module" in chunk)
    return texts


SEEDS = _seeds()
_ALPHABET = "%@^{}()[]<>,:=?x-.\"\\ \n\t0123456789abcdefimnstuy_"


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 12)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + draw(st.text(_ALPHABET, min_size=1, max_size=6)) + text[i:]
        elif kind == "replace":
            text = text[:i] + draw(st.text(_ALPHABET, max_size=6)) + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i]
    return text


def _parse_or_diagnose(text: str) -> None:
    try:
        m = ir.parse(text, "fuzz.sc")
    except (ParseError, VerifyError) as exc:
        assert exc.loc is None or exc.loc.file == "fuzz.sc"
        str(exc)  # formats without error
        return
    printed = str(m)
    assert str(ir.parse(printed)) == printed  # what parses prints to text that round-trips


@given(mutated())
def test_mutated_ir_only_raises_ir_errors(text):
    _parse_or_diagnose(text)


@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_ir_errors(text):
    _parse_or_diagnose(text)


@given(st.text(_ALPHABET, max_size=200).map(lambda t: "module {\n  func.func @f(%a: tensor<f64>) -> () {\n" + t))
def test_arbitrary_bodies_only_raise_ir_errors(text):
    _parse_or_diagnose(text)
