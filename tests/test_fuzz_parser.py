"""Fuzzing the IR parser with mutations of real modules: it returns a module that prints back to the same
text, or raises the documented ParseError/VerifyError -- never another exception, never a hang.

Iteration counts (docs/robustness.md records them) are fixed here, independent of the hypothesis
profile: tests/test_ir_parser.py fuzzes arbitrary text and mutated .sc test inputs; this file adds
mutations (character- and token-level) of an MLP training step, fused loop nests, constants of every
kind and random front-end graphs.
"""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symcomp import ir
from symcomp.ir.errors import ParseError, VerifyError

from fuzz_seeds import module_seeds, mutated, seed_texts, time_limit
from ir_graphs import modules

MUTATED_EXAMPLES = 1000
GRAPH_EXAMPLES = 200
SECONDS_PER_INPUT = 10.0


def fuzz(examples: int) -> settings:
    """Fixed iteration counts and seeds (reproducible), no time limit per example."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=True, database=None)


def parse_or_diagnose(text: str) -> bool:
    """True if ``text`` parsed (and then round-trips); False for a ParseError/VerifyError that formats."""
    try:
        with time_limit(SECONDS_PER_INPUT):
            m = ir.parse(text, "fuzz.sc")
    except (ParseError, VerifyError) as exc:
        assert exc.loc is None or exc.loc.file == "fuzz.sc"
        assert str(exc)
        return False
    printed = str(m)
    assert str(ir.parse(printed)) == printed
    return True


def test_the_seeds_are_valid_and_cover_the_promised_kinds():
    assert all(parse_or_diagnose(t) for t in module_seeds())
    joined = "\n".join(seed_texts())
    for needle in ("sc.fused", 'reduce = "max"', "sc.assign", 'dense<"0x', "nan, inf, -inf, -0.0", "train_step", "ui8"):
        assert needle in joined, needle


@fuzz(MUTATED_EXAMPLES)
@given(mutated())
def test_mutated_real_modules(text):
    parse_or_diagnose(text)


@fuzz(GRAPH_EXAMPLES)
@given(modules(max_steps=6), st.data())
def test_mutated_random_graphs(module, data):
    text = str(module)
    assert parse_or_diagnose(text)
    parse_or_diagnose(data.draw(mutated(seeds=[text])))


def test_pathological_inputs_are_diagnosed_quickly():
    """Inputs built to be slow or deep: long lines, deep nesting, many ops, huge numbers."""
    many = "\n".join(f"    %v{i} = sc.neg %x : tensor<?xf64>" for i in range(5000))
    cases = [
        "module {" * 10000,
        "(" * 100000,
        "[" * 100000,
        "%" + "a" * 1_000_000,
        '"' + "\\" * 100001,
        "module {\n  func.func @f(%x: tensor<?xf64>) -> () {\n" + many + "\n    func.return\n  }\n}\n",
        "module {\n  func.func @f(%x: tensor<" + "?x" * 10000 + "f64>) -> () {\n    func.return\n  }\n}\n",
        "module {\n  func.func @f() -> () {\n    %0 = sc.constant {value = dense<1" + "0" * 5000 + ">} : tensor<f64>\n"
        "    func.return\n  }\n}\n",
        "\x00\ufeff\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    ]
    for text in cases:
        parse_or_diagnose(text)
    assert parse_or_diagnose(many.join(["module {\n  func.func @f(%x: tensor<?xf64>) -> () {\n",
                                        "\n    func.return\n  }\n}\n"]))


def test_random_bytes_decoded_as_text():
    rng = np.random.default_rng(7)
    for _ in range(200):
        parse_or_diagnose(rng.integers(0, 256, size=int(rng.integers(1, 400)), dtype=np.uint8).tobytes()
                          .decode("latin-1"))


def test_discardable_attributes_round_trip_and_are_checked():
    """Passes attach hints as dialect-prefixed attributes (``sc.inplace = 0``): the optimized IR must parse."""
    text = ("module {\n  func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>) {\n"
            '    %0 = sc.exp %x {sc.inplace = 0, sc.note = ["a", 1.5, f32]} : tensor<?xf64>\n'
            "    func.return %0\n  }\n}\n")
    assert parse_or_diagnose(text)
    assert ir.parse(text).func().body.first.attributes == {"sc.inplace": 0, "sc.note": ("a", 1.5, ir.DType(
        "float32", "f32", "f", 32))}
    for bad, message in [("{sc.bad = dense<1>}", "discardable attribute 'sc.bad' cannot be dense<...>"),
                         ("{bad = 1}", "unknown attribute 'bad'")]:
        with pytest.raises(VerifyError, match=re.escape(message)):
            ir.parse(text.replace('{sc.inplace = 0, sc.note = ["a", 1.5, f32]}', bad))
