"""docs/theano_api.md runs as written: each ```python block prints the ```text block after it."""

import contextlib
import io
import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "theano_api.md"
BLOCKS = re.findall(r"```python\n(.*?)```\n\n(?:<!-- skip: next [^\n]*-->\n)?```text\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_examples():
    assert len(BLOCKS) >= 6


@pytest.fixture
def restore_config():
    """The examples set config flags: put them back."""
    import symcomp

    warn = dict(symcomp.config.warn._values)
    yield
    for k, v in warn.items():
        setattr(symcomp.config.warn, k, v)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_prints_what_the_page_shows(index, restore_config):
    code, expected = BLOCKS[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"docs/theano_api.md example {index + 1}", "exec"), {"__name__": "__doc_example__"})
    assert out.getvalue() == expected
