"""symcomp: an optimizing compiler for array expressions, with Theano's API.

    import symcomp
    from symcomp import tensor as T

    x = T.dmatrix("x")
    f = symcomp.function([x], T.exp(x).sum())

Symbolic expressions are traced into a typed SSA IR (:mod:`symcomp.ir`),
optimized by passes (:mod:`symcomp.passes`) and compiled to native code
through LLVM (:mod:`symcomp.backends.cpu`) or PTX (:mod:`symcomp.backends.cuda`).
"""

from symcomp import tensor
from symcomp.autodiff import DisconnectedInputError, grad
from symcomp.compile.function import Function, function
from symcomp.compile.io import In, Out, Param
from symcomp.compile.jit import jit
from symcomp.compile.trace import MissingInputError, UnusedInputError
from symcomp.config import config
from symcomp.gradcheck import GradientError, verify_grad
from symcomp.ir import frontend as _frontend
from symcomp.shared import SharedVariable, shared
from symcomp.tensor.randomstreams import RandomStreams
from symcomp.tensor.graph import clone_replace as clone
from symcomp.tensor.scan import foldl, foldr, map, reduce, scan
from symcomp.version import __version__

_frontend.install(function=function)  # for Value.eval (symcomp.ir.frontend)

__all__ = [
    "function", "Function", "jit", "shared", "SharedVariable", "grad", "verify_grad", "config", "RandomStreams",
    "DisconnectedInputError", "MissingInputError", "UnusedInputError", "GradientError", "__version__",
    "In", "Out", "Param", "Mode", "ProfileStats", "scan", "map", "reduce", "foldl", "foldr", "clone",
]


def __getattr__(name):
    """Theano's ``theano.Mode`` and ``theano.ProfileStats``, loaded on first use; Theano's
    submodules (``symcomp.gradient``, ``symcomp.printing``...) on first attribute access."""
    import importlib

    if name in ("Mode", "ProfileStats"):
        from symcomp import compile as _compile

        return getattr(_compile, name)
    if name in ("gradient", "printing", "ifelse", "scan_module", "scalar"):
        return importlib.import_module(f"symcomp.{name}")
    if name in ("pp", "dprint"):  # theano.pp, theano.dprint
        printing = importlib.import_module("symcomp.printing")
        return printing.pp if name == "pp" else printing.debugprint
    raise AttributeError(f"module 'symcomp' has no attribute {name!r}")
