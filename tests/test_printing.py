"""symcomp.printing: Print (reference and CPU backends, cache reloads), pp/pprint formulas, pydotprint."""

import subprocess
import sys

import numpy as np
import pytest

import symcomp
from symcomp import printing, tensor as T

MODES = ["reference", "fast"]


@pytest.mark.parametrize("mode", MODES)
def test_print_prints_each_call_and_returns_its_input(mode, capfd):
    x = T.dvector("x")
    p = printing.Print("this is x")(x)
    f = symcomp.function([x], p * 2, mode=mode)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    np.testing.assert_array_equal(f(np.array([3.0])), [6.0])
    out = capfd.readouterr().out
    assert out == "this is x __str__ = [1. 2.]\nthis is x __str__ = [3.]\n"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "uint8"])
def test_print_attrs_dtypes_and_layouts(mode, dtype, capfd):
    x = T.matrix("x", dtype=dtype)
    p = printing.Print("m", attrs=("shape", "dtype", "__str__"))(x.T[::-1])
    f = symcomp.function([x], p, mode=mode)
    a = (np.arange(6).reshape(2, 3) % 2).astype(dtype)
    got = f(a)
    want = a.T[::-1]
    np.testing.assert_array_equal(got, want)
    assert capfd.readouterr().out == f"m shape = {want.shape}\nm dtype = {want.dtype}\nm __str__ = {want}\n"


def test_print_gradient_passes_through_and_is_kept_by_the_optimizer(capfd):
    x = T.dvector("x")
    y = printing.Print("y")(x * 1.0 + 0.0)
    g = T.grad(T.sum(y ** 2), x)
    f = symcomp.function([x], [y, g])
    _, grad = f(np.array([1.0, -2.0]))
    np.testing.assert_array_equal(grad, [2.0, -4.0])
    assert capfd.readouterr().out.count("y __str__ = [ 1. -2.]") == 1
    with pytest.raises(NotImplementedError):
        printing.Print("z", global_fn=print)


def test_print_from_a_cached_shared_object(tmp_path):
    code = ("import numpy as np, symcomp\nfrom symcomp import tensor as T, printing\n"
            "x = T.dvector('x')\nf = symcomp.function([x], printing.Print('v')(x) + 1)\n"
            "print(f(np.array([1.0, 2.0])), type(f.executable.jit).__name__)\n"
            "import time; time.sleep(2)\n")
    env = {"SYMCOMP_CACHE_DIR": str(tmp_path)}
    import os

    env = {**os.environ, **env}
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
            for _ in range(2)]
    for r in outs:
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("v __str__ = [1. 2.]\n[2. 3.]")


def test_pp_formulas():
    x, y = T.dscalar("x"), T.dscalar("y")
    m = T.dmatrix("m")
    assert printing.pp((x ** 2) * 2) == "((x ** 2) * 2)"
    assert printing.pprint(x * y - x / y) == "((x * y) - (x / y))"
    assert printing.pp(T.exp(-m).sum(axis=0)) == "sum(exp((-m)), axes=[0])"
    assert printing.pp(m.T) == "m.T"
    assert symcomp.pp(x + 1) == "(x + 1)"
    assert printing.pp(x + 1, y) == "(x + 1)\ny"
    f = symcomp.function([x], (x ** 2) * 2)
    assert printing.pp(f) == "((x * x) * 2)"
    with pytest.raises(TypeError):
        printing.pp(3)


def test_pydotprint(tmp_path):
    x = T.dmatrix("x")
    f = symcomp.function([x], T.exp(x).sum())
    try:
        import pydot  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pydot"):
            printing.pydotprint(f, outfile=str(tmp_path / "g.png"))
        return
    out = tmp_path / "g.dot"
    printing.pydotprint(f, outfile=str(out), format="dot", print_output_file=False)
    text = out.read_text()
    assert "sc." in text and "output 0" in text
