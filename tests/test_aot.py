"""Ahead-of-time kernels: symcomp-opt --emit=obj and embed.emit_object, linked into C programs with gcc."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symcomp
from symcomp import embed
from symcomp import tensor as T
from symcomp.cli.opt import main as opt_main

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to link the object files")

KERNEL_SC = """\
module {
  func.func @softplus_rows(%a: tensor<f32>, %x: tensor<?x?xf32>) -> (tensor<?x?xf32>, tensor<?xf32>) {
    %0 = sc.expand_dims %a {axes = [0, 1]} : tensor<1x1xf32>
    %1 = sc.mul %0, %x : tensor<?x?xf32>
    %2 = sc.softplus %1 : tensor<?x?xf32>
    %3 = sc.max %2 {axes = [1]} : tensor<?xf32>
    func.return %2, %3
  }
}
"""

MAIN_C = """\
#include <stdio.h>
#include "softplus.h"

int main(void) {
  static float x[SOFTPLUS_ROWS_X_SIZE], out0[SOFTPLUS_ROWS_OUT0_SIZE], out1[SOFTPLUS_ROWS_OUT1_SIZE];
  static unsigned char ws[SOFTPLUS_ROWS_WORKSPACE_BYTES + 1];
  float a = 1.5f;
  for (unsigned i = 0; i < SOFTPLUS_ROWS_X_SIZE; i++) x[i] = (float)((int)(i * 37 % 101) - 50) * 0.25f;
  int32_t status = softplus_rows(&a, x, out0, out1, NULL);
  int32_t again = softplus_rows(&a, x, out0, out1, ws);  /* caller-owned workspace */
  if (status != SYMCOMP_OK || again != SYMCOMP_OK) { printf("status %d %d\\n", status, again); return 1; }
  for (unsigned i = 0; i < SOFTPLUS_ROWS_OUT0_SIZE; i++) printf("%.9g\\n", out0[i]);
  for (unsigned i = 0; i < SOFTPLUS_ROWS_OUT1_SIZE; i++) printf("%.9g\\n", out1[i]);
  return 0;
}
"""


def _gcc(tmp: Path, sources, libs, out="prog"):
    cmd = ["gcc", "-std=c99", "-Wall", "-Werror", "-o", str(tmp / out), *map(str, sources), *libs]
    subprocess.run(cmd, check=True, cwd=tmp, capture_output=True, text=True)
    return subprocess.run([str(tmp / out)], check=True, capture_output=True, text=True).stdout


def test_symcomp_opt_emit_obj_links_into_a_c_program(tmp_path, capsys):
    (tmp_path / "k.sc").write_text(KERNEL_SC)
    rc = opt_main([str(tmp_path / "k.sc"), "--emit=obj", "-o", str(tmp_path / "softplus.o"),
                   "--header", str(tmp_path / "softplus.h"), "--shape", "x=6x17", "--cse"])
    assert rc == 0, capsys.readouterr().err
    header = (tmp_path / "softplus.h").read_text()
    assert "int32_t softplus_rows(const float *a, const float *x, float *out0, float *out1, void *workspace);" \
        in header
    assert "Link with:" in header and "-lm" in header
    (tmp_path / "main.c").write_text(MAIN_C)
    libs = header.split("Link with:")[1].split("\n")[0].split()
    assert libs[-1] == "-lm"
    stdout = _gcc(tmp_path, ["main.c", "softplus.o"], libs)
    got = np.array(stdout.split(), dtype=np.float32)
    i = np.arange(6 * 17)
    x = (((i * 37 % 101) - 50) * 0.25).astype(np.float32).reshape(6, 17)
    ref = np.logaddexp(np.float32(0), np.float32(1.5) * x)  # softplus, in float32
    np.testing.assert_allclose(got[:102].reshape(6, 17), ref, rtol=4e-7, atol=1e-30)
    np.testing.assert_allclose(got[102:], ref.max(axis=1), rtol=4e-7)


BLAS_MAIN_C = """\
#include <stdio.h>
#include "layer.h"
#include "scale.h"

int main(void) {
  static double x[LAYER_X_SIZE], w[LAYER_W_SIZE], y[LAYER_OUT0_SIZE], z[SCALE_OUT0_SIZE];
  for (unsigned i = 0; i < LAYER_X_SIZE; i++) x[i] = (double)(i % 7) - 3.0;
  for (unsigned i = 0; i < LAYER_W_SIZE; i++) w[i] = 0.01 * (double)(i % 11);
  if (layer(x, w, y, NULL) != SYMCOMP_OK) return 1;
  if (scale(y, z, NULL) != SYMCOMP_OK) return 2;
  for (unsigned i = 0; i < SCALE_OUT0_SIZE; i++) printf("%.17g\\n", z[i]);
  return 0;
}
"""


def _scipy_openblas():
    import scipy

    libs = sorted((Path(scipy.__file__).parent.parent / "scipy.libs").glob("libscipy_openblas*.so"))
    return libs[0] if libs else None


def test_blas_kernels_link_against_scipys_openblas(tmp_path):
    lib = _scipy_openblas()
    if lib is None:
        pytest.skip("this SciPy build has no bundled OpenBLAS (scipy.libs/libscipy_openblas*.so)")
    x, w = T.dmatrix("x"), T.dmatrix("w")
    layer = embed.emit_object(symcomp.function([x, w], T.tanh(T.dot(x, w)), name="layer"),
                              [(9, 8), (8, 5)], blas_prefix="scipy_")
    assert layer.abi.blas == ("scipy_dgemm_",)
    y = T.dmatrix("y")
    scale = embed.emit_object(symcomp.function([y], y * 2.0 - T.mean(y, axis=0), name="scale"), [(9, 5)])
    assert scale.abi.blas == ()  # no matrix product, no BLAS
    layer.write(tmp_path / "layer.o", tmp_path / "layer.h")
    scale.write(tmp_path / "scale.o", tmp_path / "scale.h")
    (tmp_path / "main.c").write_text(BLAS_MAIN_C)
    libs = []
    for h in ("layer.h", "scale.h"):  # the libraries each header says to link (-lgomp when threaded, ...)
        line = (tmp_path / h).read_text().split("Link with:")[1].split("\n")[0]
        libs += [t for t in line.split() if t.startswith("-l") and t not in libs]
    assert "-lm" in libs
    stdout = _gcc(tmp_path, ["main.c", "layer.o", "scale.o"],
                  [f"-L{lib.parent}", f"-l:{lib.name}", f"-Wl,-rpath,{lib.parent}"] + libs)
    xv = (np.arange(72) % 7 - 3.0).reshape(9, 8)
    wv = (0.01 * (np.arange(40) % 11)).reshape(8, 5)
    yv = np.tanh(xv @ wv)
    np.testing.assert_allclose(np.array(stdout.split(), float).reshape(9, 5), yv * 2.0 - yv.mean(axis=0),
                               rtol=1e-13, atol=1e-14)


STEP_MAIN_C = """\
#include <stdio.h>
#include "step.h"

int main(void) {
  static double x[MAIN_KERNEL_X_SIZE], W[MAIN_KERNEL_W_SIZE], new_W[MAIN_KERNEL_NEW_W_SIZE], loss;
  static int64_t y[MAIN_KERNEL_Y_SIZE];
  for (unsigned i = 0; i < MAIN_KERNEL_X_SIZE; i++) x[i] = (double)((int)(i * 7 % 11) - 5) / 4.0;
  for (unsigned i = 0; i < MAIN_KERNEL_W_SIZE; i++) W[i] = (double)((int)(i * 5 % 7) - 3) / 8.0;
  for (unsigned i = 0; i < MAIN_KERNEL_Y_SIZE; i++) y[i] = i % 3;
  int32_t status = main_kernel(x, y, W, &loss, new_W, NULL);
  if (status != SYMCOMP_OK) { printf("status %d\\n", status); return 1; }
  printf("%.17g\\n", loss);
  for (unsigned i = 0; i < MAIN_KERNEL_NEW_W_SIZE; i++) printf("%.17g\\n", new_W[i]);
  return 0;
}
"""


def test_symcomp_opt_emit_obj_takes_a_dumped_training_step(tmp_path, capsys):
    """A function with shared variables (any dumped training step) used to be refused by the CLI
    although embed.emit_object handles it: each shared variable is a parameter (its current value
    read through a pointer, its new value written through another)."""
    lib = _scipy_openblas()
    if lib is None:
        pytest.skip("this SciPy build has no bundled OpenBLAS (scipy.libs/libscipy_openblas*.so)")
    x, y = T.dmatrix("x"), T.lvector("y")
    W = symcomp.shared(np.zeros((4, 3)), name="W")
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(x, W)), y))
    step = symcomp.function([x, y], loss, updates=[(W, W - 0.5 * T.grad(loss, W))])
    path = tmp_path / "step.sc"
    path.write_text(step.dump("traced"))
    args = [str(path), "--emit=obj", "-o", str(tmp_path / "step.o"), "--header", str(tmp_path / "step.h"),
            "--shape", "x=5x4", "--shape", "y=5", "--blas-prefix=scipy_"]
    assert opt_main(args) == 1  # W's shape missing: where, and which flag to give
    assert capsys.readouterr().err.startswith(
        f"{path}:2:3: error: cannot make an object file: @main: shared parameter %W has type tensor<?x?xf64> "
        "with dynamic sizes; give its shape (--shape W=...)")
    assert opt_main(args + ["--shape", "W=4x3"]) == 0, capsys.readouterr().err
    header = (tmp_path / "step.h").read_text()
    assert "int32_t main_kernel(const double *x, const int64_t *y, const double *W, double *out0, " \
           "double *new_W, void *workspace);" in header
    (tmp_path / "main.c").write_text(STEP_MAIN_C)
    libs = [t for t in header.split("Link with:")[1].split("\n")[0].split() if t.startswith("-l")]
    stdout = _gcc(tmp_path, ["main.c", "step.o"], [str(lib), f"-Wl,-rpath,{lib.parent}"] + libs)
    got = np.array(stdout.split(), float)
    i = np.arange(20)
    xv, wv, yv = ((i * 7 % 11 - 5) / 4.0).reshape(5, 4), ((np.arange(12) * 5 % 7 - 3) / 8.0).reshape(4, 3), \
        np.arange(5) % 3
    z = xv @ wv
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[yv]
    np.testing.assert_allclose(got[0], -np.mean(np.log(p[np.arange(5), yv])), rtol=1e-13)
    np.testing.assert_allclose(got[1:].reshape(4, 3), wv - 0.5 * xv.T @ (p - onehot) / 5, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("prefix, names, wrong", [
    ("", ["dgemm_", "-lopenblas or -lblas"], "scipy.libs"),
    ("scipy_", ["scipy_dgemm_", "SciPy's bundled OpenBLAS", "scipy.libs/libscipy_openblas"], "-lopenblas"),
    ("my_", ["my_dgemm_", "symbol prefix 'my_'"], "-lopenblas"),
])
def test_header_names_the_blas_that_provides_the_prefixed_symbols(prefix, names, wrong):
    """-lopenblas cannot provide scipy_dgemm_: the header's link line must name the library that can."""
    x, w = T.dmatrix("x"), T.dmatrix("w")
    layer = embed.emit_object(symcomp.function([x, w], T.dot(x, w), name="layer"), [(4, 3), (3, 2)],
                              blas_prefix=prefix)
    line = layer.header.split("Link with:")[1].split("\n")[0]
    assert all(n in line for n in names), line
    assert wrong not in line and line.rstrip().endswith("-lm"), line


@pytest.mark.parametrize("argv, message", [
    (["--emit=obj"], "give its path with -o"),
    (["--header", "k.h"], "--header only apply to --emit=obj"),
    (["--emit=obj", "-o", "k.o", "--shape", "x=4by3"], "expected NAME=SIZExSIZE"),
    (["--emit=obj", "-o", "k.o", "--split-input-file"], "takes one module"),
])
def test_emit_obj_usage_errors(tmp_path, capsys, argv, message):
    (tmp_path / "k.sc").write_text(KERNEL_SC)
    assert opt_main([str(tmp_path / "k.sc"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_emit_obj_reports_missing_shapes_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "k.sc").write_text(KERNEL_SC)
    out = tmp_path / "k.o"
    assert opt_main([str(tmp_path / "k.sc"), "--emit=obj", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "input 1 (x) has type tensor<?x?xf32> with dynamic sizes" in err
    assert not out.exists()
    assert opt_main([str(tmp_path / "k.sc"), "--emit=obj", "-o", str(out), "--shape", "z=3"]) == 1
    assert "no parameter named 'z'" in capsys.readouterr().err


def test_emit_obj_from_the_command_line(tmp_path):
    (tmp_path / "k.sc").write_text(KERNEL_SC)
    cmd = [sys.executable, "-m", "symcomp.cli.opt", str(tmp_path / "k.sc"), "--emit=obj", "-o",
           str(tmp_path / "k.o"), "--shape", "1=2x3"]
    subprocess.run(cmd, check=True, capture_output=True)
    assert (tmp_path / "k.o").read_bytes()[:4] == b"\x7fELF"


def test_emit_obj_needs_func_for_modules_with_several_functions(tmp_path, capsys):
    other = KERNEL_SC.split("\n", 1)[1].rsplit("}", 1)[0].replace("@softplus_rows", "@other")
    (tmp_path / "k.sc").write_text(KERNEL_SC.rsplit("}", 1)[0] + other + "}\n")
    assert opt_main([str(tmp_path / "k.sc"), "--emit=obj", "-o", str(tmp_path / "k.o")]) == 1
    assert "the module holds 2: choose one with --func NAME" in capsys.readouterr().err
    assert opt_main([str(tmp_path / "k.sc"), "--emit=obj", "-o", str(tmp_path / "k.o"), "--func", "other",
                     "--shape", "x=2x2"]) == 0
    assert (tmp_path / "k.o").read_bytes()[:4] == b"\x7fELF"
