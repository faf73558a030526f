"""Coverage-guided fuzzing of the IR parser and verifier with atheris (libFuzzer for Python).

Run by tests/test_fuzz_atheris.py in a subprocess (atheris owns the process)::

    python tests/atheris_parse.py CORPUS_DIR -runs=20000 -max_len=8192

Each input is decoded as UTF-8 (invalid bytes replaced) and parsed; a module
that parses must print to text that parses back to the same text.  Any
exception other than ParseError/VerifyError is a crash: libFuzzer reports it
and the process exits with a nonzero status.
"""

import sys

import atheris

with atheris.instrument_imports(include=["symcomp"]):
    from symcomp import ir
    from symcomp.ir.errors import ParseError, VerifyError
    from symcomp.ir.parser import load_ops

load_ops()


def test_one_input(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    try:
        module = ir.parse(text, "atheris.sc")
    except (ParseError, VerifyError):
        return
    printed = str(module)
    if str(ir.parse(printed)) != printed:
        raise AssertionError("printed IR does not round-trip")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
