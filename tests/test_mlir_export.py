"""The text of exported MLIR (FileCheck), literals, and export errors.

FileCheck tests need no MLIR tools; the tests that feed the text to the real
mlir-opt take the ``mlir_tools`` fixture (skip without the tools, fail in CI).
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.compile.modes import get_mode
from symcomp.compile.trace import trace
from symcomp.ir import types as Ty
from symcomp.ir.module import new_module
from symcomp.mlir import MLIRExportError, export_module, tools
from symcomp.mlir.convert import CONVERTERS, load_all
from symcomp.mlir.writer import dense_literal, scalar_literal

from helpers import require_mlir_tools

FILECHECK = os.path.join(os.path.dirname(sys.executable), "filecheck")


@pytest.fixture
def mlir_tools():
    require_mlir_tools()


def _export(inputs, outputs, updates=(), name="main"):
    module, _ = trace(inputs, outputs, list(updates), name=name, on_unused_input="ignore")
    get_mode("fast").optimize(module, {}, {})
    return export_module(module)


def filecheck(text: str, checks: str, tmp_path) -> None:
    """Run FileCheck's ``CHECK`` lines in ``checks`` against ``text``."""
    check_file = tmp_path / "checks.txt"
    check_file.write_text(checks)
    proc = subprocess.run([FILECHECK, str(check_file)], input=text, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + "\n" + text


def test_signedness_selects_the_arith_op(tmp_path):
    x, y = T.bvector("x"), T.bvector("y")
    u, v = T.vector("u", dtype="uint8"), T.vector("v", dtype="uint8")
    text = _export([x, y, u, v], [T.floor_div(x, y), T.floor_div(u, v), x < y, u < v,
                                  T.cast(x, "float64"), T.cast(u, "float64"), T.cast(x, "int32"), T.cast(u, "int32")])
    filecheck(text, """
CHECK: func.func @main(%x: tensor<?xi8>, %y: tensor<?xi8>, %u: tensor<?xi8>, %v: tensor<?xi8>)
CHECK: arith.divsi
CHECK: arith.remsi
CHECK: arith.divui
CHECK: arith.cmpi slt
CHECK: arith.cmpi ult
CHECK: arith.sitofp {{.*}} : i8 to f64
CHECK: arith.uitofp {{.*}} : i8 to f64
CHECK: arith.extsi {{.*}} : i8 to i32
CHECK: arith.extui {{.*}} : i8 to i32
""", tmp_path)


def test_broadcasting_uses_affine_maps_and_dynamic_dims(tmp_path):
    x, r = T.dmatrix("x"), T.drow("r")
    text = _export([x, r], [x * r, T.sum(x, axis=0)])
    filecheck(text, """
CHECK: func.func @main(%x: tensor<?x?xf64>, %r: tensor<1x?xf64>) -> (tensor<?x?xf64>, tensor<?xf64>)
CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
CHECK: arith.mulf
CHECK: linalg.fill
CHECK: iterator_types = ["reduction", "parallel"]
CHECK: arith.addf
""", tmp_path)


def test_dot_uses_named_linalg_ops(tmp_path):
    a, b, v = T.dmatrix("a"), T.dmatrix("b"), T.dvector("v")
    text = _export([a, b, v], [T.dot(a, b), T.dot(a, v), T.dot(v, b), T.dot(v, v)])
    filecheck(text, """
CHECK: linalg.matmul ins(%a, %b : tensor<?x?xf64>, tensor<?x?xf64>)
CHECK: linalg.matvec ins(%a, %v
CHECK: linalg.vecmat ins(%v, %b
CHECK: linalg.dot ins(%v, %v : tensor<?xf64>, tensor<?xf64>) outs({{.*}} : tensor<f64>)
""", tmp_path)


def test_shape_ops_use_tensor_dialect(tmp_path):
    x, i = T.dtensor3("x"), T.lscalar("i")
    text = _export([x, i], [T.reshape(x, (-1, 4)), x.dimshuffle(2, "x", 0, 1), T.concatenate([x, x], axis=1),
                            x[1:, i, ::-1], T.inc_subtensor(x[0], 1.0), T.reshape(x, (i, -1))])
    filecheck(text, """
CHECK: tensor.collapse_shape %x {{\\[\\[}}0, 1, 2]] : tensor<?x?x?xf64> into tensor<?xf64>
CHECK: tensor.expand_shape {{.*}} output_shape [{{.*}}, 4] : tensor<?xf64> into tensor<?x4xf64>
CHECK: linalg.transpose ins(%x : tensor<?x?x?xf64>) outs({{.*}}) permutation = [2, 0, 1]
CHECK: tensor.expand_shape {{.*}} into tensor<?x1x?x?xf64>
CHECK: tensor.concat dim(1) %x, %x
CHECK: tensor.extract_slice %x[{{.*}}] : tensor<?x?x?xf64> to tensor<?x?xf64>
CHECK: tensor.insert_slice
CHECK: tensor.reshape
""", tmp_path)


def test_shared_updates_are_extra_results(tmp_path):
    w = symcomp.shared(np.zeros(3), name="w")
    x = T.dvector("x")
    text = _export([x], [T.sum(x)], [(w, w + x)], name="step")
    filecheck(text, """
CHECK: func.func @step(%x: tensor<?xf64>, %w: tensor<?xf64> {symcomp.shared = "w"}) -> (tensor<f64>, tensor<?xf64> {symcomp.update = "w"})
CHECK: return {{%[0-9]+}}, {{%[0-9]+}} : tensor<f64>, tensor<?xf64>
""", tmp_path)


def test_data_dependent_checks_give_a_status_result(tmp_path):
    x, idx, n = T.dmatrix("x"), T.lvector("idx"), T.lvector("n")
    text = _export([x, idx, n], [x[idx], n ** n])
    filecheck(text, """
CHECK: -> (tensor<?x?xf64>, tensor<?xi64>, tensor<i32> {symcomp.status})
CHECK: scf.if
CHECK: tensor.extract %x
CHECK: math.ipowi
CHECK: arith.cmpi slt
CHECK: tensor.from_elements {{.*}} : tensor<i32>
""", tmp_path)
    assert "symcomp.status" not in _export([x], [x + 1])


def test_unsupported_op_is_named(monkeypatch):
    load_all()  # converters register on import: delete after, not before, or lookup puts it back
    monkeypatch.delitem(CONVERTERS, "sc.softmax")
    x = T.dmatrix("x")
    with pytest.raises(MLIRExportError, match=r"sc\.softmax \(created at .*test_mlir_export.py:\d+\) cannot be exported"):
        _export([x], [T.nnet.softmax(x)])


def test_export_module_rejects_other_objects():
    with pytest.raises(TypeError, match="builtin.module"):
        export_module("module {}")


def test_literals():
    assert scalar_literal(1e-05, Ty.float64) == "1.0e-05"
    assert scalar_literal(2.5, Ty.float64) == "2.5"
    assert scalar_literal(-np.inf, Ty.float64) == "0xFFF0000000000000"
    assert scalar_literal(np.inf, Ty.float32) == "0x7F800000"
    assert scalar_literal(255, Ty.uint8) == "255"
    assert scalar_literal(True, Ty.bool_) == "true"
    assert dense_literal(np.full((2, 2), 3.0), Ty.float64) == "dense<3.0>"
    assert dense_literal(np.array([1, -2], np.int8), Ty.int8) == "dense<[1, -2]>"
    assert dense_literal(np.arange(100, dtype=np.int16), Ty.int16).startswith('dense<"0x00000100')
    assert dense_literal(np.zeros((2, 0)), Ty.float64) == "dense<>"


def test_several_functions_and_quoted_names_verify(mlir_tools):
    x = T.dvector("x")
    m1, _ = trace([x], [x + 1], name="first step")
    m2, _ = trace([x], [T.exp(x)], name="second")
    module = new_module([m1.func().detach(), m2.func().detach()])
    text = export_module(module)
    assert '@"first step"' in text
    printed = tools.run_tool("mlir-opt", ["--verify-each"], text)
    assert printed.count("func.func") == 2


_DTYPES = ["float64", "float32", "int64", "int8", "uint64", "uint16", "bool"]


@settings(max_examples=15)
@given(st.sampled_from(_DTYPES).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=9))))
def test_constants_survive_export_and_lowering(arr):
    """Every element value (NaN, infinities, subnormals, extreme integers) reaches native code exactly."""
    require_mlir_tools()
    c = T.constant(arr)
    got = symcomp.function([], [T.maximum(c, c)], mode="mlir")()[0]  # through a linalg.generic
    assert got.dtype == arr.dtype and got.shape == arr.shape
    np.testing.assert_array_equal(got, arr)
    if arr.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got), np.signbit(arr))
