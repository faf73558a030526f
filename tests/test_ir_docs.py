"""docs/ir.md matches the implementation: every example round-trips, every op is documented."""

import pathlib
import re

import pytest

from symcomp import ir
from symcomp.ir.opdef import OPS
from symcomp.ir.parser import load_ops

DOC = pathlib.Path(__file__).parent.parent / "docs" / "ir.md"
TEXT = DOC.read_text()
# Blocks whose first line names a file (``// file: bad.sc``) are inputs of the commands on the page,
# invalid on purpose; tests/test_docs.py runs those commands.
EXAMPLES = [b for b in re.findall(r"```mlir\n(.*?)```", TEXT, re.S) if not b.startswith("// file:")]


def test_the_reference_has_examples():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_example_parses_verifies_and_round_trips_exactly(index):
    text = EXAMPLES[index]
    module = ir.parse(text, f"docs/ir.md example {index + 1}")
    ir.verify(module)
    assert str(module) == text


def test_every_operation_is_documented_and_used_in_an_example():
    load_ops()
    reference = TEXT[TEXT.index("## Operation reference"):]
    used = {m for ex in EXAMPLES for m in re.findall(r"(?:=\s|^\s*)([a-z_]+\.[a-z_0-9]+)", ex, re.M)}
    for name in OPS:
        if name.startswith("test."):
            continue
        assert f"`{name}`" in reference, f"{name} has no entry in the operation reference"
        assert name in used or name == "builtin.module" and "module {" in EXAMPLES[0] \
            or name == "func.func" and "func.func @" in EXAMPLES[0], f"{name} appears in no example"


def test_every_element_type_is_documented():
    from symcomp.ir.types import ALL_DTYPES

    for d in ALL_DTYPES:
        assert f"| `{d.ir}` | {d.name} |" in TEXT
