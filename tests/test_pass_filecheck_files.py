"""The FileCheck inputs of the passes (tests/opt/passes/*.sc), checked from Python.

Each ``.sc`` file holds IR text and ``// CHECK`` lines, with a ``// RUN:`` line
for ``symcomp-opt`` (run by lit once the IR parser exists).  Until then this
test rebuilds each file's IR with the front-end and checks that (1) the IR in
the file is exactly what the printer gives for it, so the parser will read the
same program, and (2) the file's CHECK lines hold for the output of the
pipeline named in its RUN line.
"""

import pathlib
import re

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.trace import trace
from symcomp.ir.module import new_module
from symcomp.passes.rewrite import materialize

from pass_helpers import filecheck, run

SC_DIR = pathlib.Path(__file__).parent / "opt" / "passes"


def module(*funcs):
    """One module holding a traced function per (name, inputs, outputs[, updates])."""
    out = []
    for name, inputs, outputs, *updates in funcs:
        m, _ = trace(inputs, outputs, updates[0] if updates else (), name=name, on_unused_input="ignore")
        f = m.func()
        f.detach()
        out.append(f)
    return new_module(out)


def _canonicalize():
    x, y = T.dvector("x"), T.dvector("y")
    m3 = T.dtensor3("m")
    return module(
        ("mul_one", [x], [x * 1.0]),
        ("signed_zero", [x], [x + 0.0, x + (-0.0)]),
        ("div_pow2", [x], [x / 4.0, x / 3.0]),
        ("pow", [x], [x ** 2.0, x ** 0.5]),
        ("neg_neg", [x, y], [-(-x) + (-y)]),
        ("transposes", [m3], [m3.transpose(1, 2, 0).transpose(2, 0, 1)]),
    )


def _canonicalize_fast_math():
    x = T.dvector("x")
    return module(("fast", [x], [x * 0.0, x / 3.0, x ** 0.5, (x + 1.0) + 2.0]))


def _constant_fold():
    x = T.dvector("x")
    big = T.constant(np.arange(64.0))
    return module(
        ("chain", [x], [x + T.exp(T.constant(np.array([0.0, 1.0]))) * 2.0]),
        ("limit", [x], [x + T.exp(big)]),
    )


def _constant_fold_limit():
    return _constant_fold()


def _stabilize():
    x, m = T.dvector("x"), T.dmatrix("m")
    y = T.lvector("y")
    return module(
        ("log1p", [x], [T.log(1 + x)]),
        ("softplus", [x], [T.log(1 + T.exp(x))]),
        ("log_sigmoid", [x], [T.log(T.nnet.sigmoid(x))]),
        ("crossentropy", [m, y], [T.nnet.categorical_crossentropy(T.nnet.softmax(m), y)]),
        ("logsumexp", [m], [T.log(T.sum(T.exp(m), axis=1))]),
    )


def _cse():
    x = T.dvector("x")
    return module(("merge", [x], [T.exp(x) * T.exp(x)]))


def _dce():
    """Tracing keeps only what the outputs need, so the dead chain is appended by hand."""
    x = T.dvector("x")
    w = symcomp.shared(np.zeros(2), name="w")
    m = module(("dead", [x], [x * 2.0], [(w, w + x)]))
    f = m.func()
    arg = f.args[0]
    dead = T.tanh(T.exp(arg))
    materialize([dead], f.body.first.next.next)
    return m


def _fuse():
    x, y, z = T.dvectors("x", "y", "z")
    m = T.dmatrix("m")
    e = T.exp(x)
    return module(
        ("chain", [x, y, z], [T.exp(-x * x / 2) * T.sin(y) + T.log1p(z)]),
        ("sum_exp", [m], [T.sum(T.exp(m), axis=1)]),
        ("producer_used_inside", [x], [T.sin(e) + e]),
        ("producer_used_outside", [x], [T.sin(e) * 2.0, e]),
    )


def _inplace():
    x = T.dvector("x")
    w = symcomp.shared(np.zeros(2), name="w")
    e = T.exp(x)
    return module(
        ("temporaries", [x], [T.tanh(T.exp(x))]),
        ("read_later", [x], [T.tanh(e), e]),
        ("update", [x], [], [(w, w - 0.5 * x)]),
    )


BUILDERS = {
    "canonicalize.sc": _canonicalize,
    "canonicalize-fast-math.sc": _canonicalize_fast_math,
    "constant-fold.sc": _constant_fold,
    "constant-fold-limit.sc": _constant_fold_limit,
    "stabilize.sc": _stabilize,
    "cse.sc": _cse,
    "dce.sc": _dce,
    "fuse.sc": _fuse,
    "inplace.sc": _inplace,
}

_RUN = re.compile(r"^// RUN: symcomp-opt %s --pass-pipeline='([^']*)' \| filecheck %s$", re.M)


def split(text: str) -> tuple[str, str]:
    """(the pipeline of the RUN line, the IR: every line that is not a // comment)."""
    m = _RUN.search(text)
    assert m, "missing or malformed // RUN: line"
    ir = "\n".join(line for line in text.splitlines() if not line.startswith("//")).strip() + "\n"
    return m.group(1), ir


def test_every_pass_file_has_a_builder():
    assert sorted(p.name for p in SC_DIR.glob("*.sc")) == sorted(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_pass_file(name, tmp_path):
    text = (SC_DIR / name).read_text()
    pipeline, ir = split(text)
    m = BUILDERS[name]()
    assert str(m) == ir, f"{name}: the IR in the file is not what the printer gives:\n{m}"
    filecheck(str(run(m, pipeline)), text, tmp_path)
