"""Theano's module paths (issue 22, part 1): every path imports, aliases are the real objects,
and what is not built yet raises NotImplementedError naming the feature.

Reference: Theano 1.0's package layout (``theano/tensor/nnet/__init__.py``, ``nnet/bn.py``,
``nnet/neighbours.py``, ``tensor/signal/pool.py``, ``tensor/nlinalg.py``, ``tensor/slinalg.py``,
``tensor/extra_ops.py``, ``theano/ifelse.py``, ``theano/scan_module/``, ``theano/gradient.py``,
``theano/printing.py``, ``theano/compile/__init__.py``).
"""

import importlib
import subprocess
import sys

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

PATHS = ["symcomp.tensor.nnet", "symcomp.tensor.nnet.bn", "symcomp.tensor.nnet.neighbours",
         "symcomp.tensor.signal.pool", "symcomp.tensor.nlinalg", "symcomp.tensor.slinalg",
         "symcomp.tensor.extra_ops", "symcomp.tensor.xlogx", "symcomp.ifelse", "symcomp.scan_module",
         "symcomp.gradient", "symcomp.printing", "symcomp.compile", "symcomp.config", "symcomp.scalar"]


def test_every_path_imports_in_a_fresh_process():
    """``import theano.tensor.signal.pool`` and friends work before anything else is imported."""
    code = "import importlib\n" + "".join(f"importlib.import_module({p!r})\n" for p in PATHS) + "print('ok')"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


@pytest.mark.parametrize("path", PATHS)
def test_each_path_is_a_module_with_a_docstring(path):
    mod = importlib.import_module(path)
    assert mod.__doc__, f"{path} has no docstring"


def test_aliases_are_the_existing_objects():
    """Where symcomp has the name already, Theano's path gives that very object."""
    import symcomp.compile as C
    import symcomp.gradient as G
    from symcomp.config import config
    from symcomp.tensor import extra_ops, nnet

    assert G.grad is symcomp.grad and G.verify_grad is symcomp.verify_grad
    assert G.DisconnectedInputError is symcomp.DisconnectedInputError
    assert C.function is symcomp.function and C.In is symcomp.In and C.Out is symcomp.Out
    assert C.Mode is symcomp.Mode and C.ProfileStats is symcomp.ProfileStats
    assert symcomp.config is config
    assert nnet.softmax is T.nnet.softmax and nnet.relu is T.nnet.relu
    assert extra_ops.squeeze is T.squeeze
    assert T.xlogx is importlib.import_module("symcomp.tensor.xlogx")
    assert T.nlinalg is importlib.import_module("symcomp.tensor.nlinalg")
    from symcomp.tensor.type import upcast

    assert symcomp.gradient is G and symcomp.scalar.upcast is upcast


PENDING = [
    ("symcomp.tensor.nnet", "conv3d", "convolution"),
    ("symcomp.tensor.nnet", "separable_conv2d", "convolution"),
    ("symcomp.tensor.nnet.bn", "AbstractBatchNormTrain", "convolution"),
    ("symcomp.tensor.nnet.neighbours", "images2neibs", "convolution"),
    ("symcomp.tensor.signal.pool", "pool_3d", "pooling"),
    ("symcomp.tensor.nlinalg", "lstsq", "linear-algebra"),
    ("symcomp.tensor.extra_ops", "unique", "not built yet"),
    ("symcomp.gradient", "subgraph_grad", "not built yet"),
]


@pytest.mark.parametrize("path,name,feature", PENDING)
def test_what_is_not_built_raises_naming_it(path, name, feature):
    fn = getattr(importlib.import_module(path), name)
    with pytest.raises(NotImplementedError, match=rf"{path}(\.\w+)?\.{name} is not yet supported by symcomp \(.*{feature}"):
        fn(T.dmatrix("x"))


def test_matrix_dot_is_the_chain_of_dots(rng):
    """``theano.tensor.nlinalg.matrix_dot``: ``dot(dot(a, b), c)``."""
    from symcomp.tensor.nlinalg import matrix_dot

    a, b, c = T.dmatrices("abc")
    f = symcomp.function([a, b, c], matrix_dot(a, b, c))
    A, B, C = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(f(A, B, C), A @ B @ C, rtol=1e-12)
    with pytest.raises(TypeError):
        matrix_dot()


def test_to_one_hot_matches_theano():
    """``theano.tensor.extra_ops.to_one_hot(y, nb_class, dtype=None)``: one row per label, floatX."""
    from symcomp.tensor.extra_ops import to_one_hot

    y = T.lvector("y")
    out = to_one_hot(y, 4)
    assert out.dtype == symcomp.config.floatX and out.ndim == 2
    got = symcomp.function([y], out)(np.array([0, 3, 1]))
    np.testing.assert_array_equal(got, np.eye(4)[[0, 3, 1]])
    assert to_one_hot(y, 3, dtype="int32").dtype == "int32"
    with pytest.raises(TypeError, match="vector of integers"):
        to_one_hot(T.dvector(), 3)


def test_debugprint_shows_the_program():
    """``theano.printing.debugprint(obj, file='str')`` returns the text; symcomp prints its IR."""
    from symcomp.printing import debugprint

    x = T.dvector("x")
    text = debugprint(T.exp(x) * 2, file="str")
    assert "func.func @graph(%x: tensor<?xf64>)" in text and "sc.exp" in text and "sc.mul" in text
    f = symcomp.function([x], T.exp(x) * 2)
    assert debugprint(f, file="str") == f.dump("optimized")
    import io

    buf = io.StringIO()
    assert debugprint([x + 1, x * 3], file=buf) is buf
    assert buf.getvalue().count("func.return") == 1 and "sc.add" in buf.getvalue()
    with pytest.raises(TypeError):
        debugprint(42)


def test_the_theano_api_doc_lists_every_path():
    """docs/theano_api.md is the one place the paths are listed."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "theano_api.md").read_text()
    for path in PATHS:
        assert f"`{path}`" in text, path
