"""Loops and branches through MLIR: ``sc.scan`` as ``scf.for``, ``sc.if`` as ``scf.if``, verified by the
real ``mlir-opt`` and run by ``mode="mlir"`` against the reference interpreter."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.trace import trace
from symcomp.ifelse import ifelse
from symcomp.mlir import export_module, tools

from helpers import require_mlir_tools


@pytest.fixture(autouse=True, scope="module")
def _tools():
    require_mlir_tools()


def _rows():
    X, W, b = T.dmatrix("X"), T.dmatrix("W"), T.dvector("b")
    r, _ = symcomp.scan(lambda v: T.tanh(T.dot(v, W) + b), sequences=X)
    return [X, W, b], r, [np.eye(2), np.ones((2, 3)), np.arange(3.0)]


def _fibonacci():
    x0, n = T.dvector("x0"), T.iscalar("n")
    fib, _ = symcomp.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]), n_steps=n)
    return [x0, n], fib, [np.array([0.0, 1.0]), 7]


def _power():
    A, k = T.dvector("A"), T.iscalar("k")
    res, _ = symcomp.scan(lambda p, A: p * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    return [A, k], res[-1], [np.arange(4.0), 3]


def _branch():
    c, v = T.dscalar("c"), T.dvector("v")
    return [c, v], ifelse(T.gt(c, 0), T.exp(v).sum(), v.max()), [1.0, np.arange(3.0)]


def _zero_steps():
    X, W, b = T.dmatrix("X"), T.dmatrix("W"), T.dvector("b")
    r, _ = symcomp.scan(lambda v: T.tanh(T.dot(v, W) + b), sequences=X)
    return [X, W, b], r, [np.zeros((0, 2)), np.ones((2, 3)), np.arange(3.0)]


@pytest.mark.parametrize("case", [_rows, _fibonacci, _power, _branch, _zero_steps])
def test_mlir_mode_runs_loops_and_branches(case):
    ins, out, args = case()
    want = symcomp.function(ins, out, mode="reference")(*args)
    got = symcomp.function(ins, out, mode="mlir")(*args)
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_until_exports_and_verifies():
    mv = T.dscalar("mv")
    vals, _ = symcomp.scan(lambda p, mv: (p * 2, symcomp.scan_module.until(p * 2 > mv)),
                           outputs_info=T.constant(1.0), non_sequences=mv, n_steps=100)
    m, _ = trace([mv], [vals])
    text = export_module(m)
    assert "scf.for" in text and "scf.if" in text
    tools.run_tool("mlir-opt", ["--verify-each"], text)
    with pytest.raises(NotImplementedError, match="loop or branch"):
        symcomp.function([mv], vals[::-1], mode="mlir")
