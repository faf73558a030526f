"""The front-end vocabulary that the IR's own rules are written in, installed from above.

Two parts of the IR build new operations: a value's Python operators and methods (``x + y``,
``x.sum()``, :mod:`symcomp.ir.operators`) and each op's VJP rule (``Op.vjp``).  Both are written
with the front-end's functions (``symcomp.tensor``: ``add``, ``unbroadcast``, ``zeros_like``...),
which apply NumPy's dtype promotion and Theano's broadcasting rule, as JAX's rules are written
with ``lax`` and PyTensor's with ``pytensor.tensor``.

The IR is the lowest layer and imports nothing above it (docs/architecture.md).  Instead the
front-end installs itself here when it is imported (``symcomp.tensor`` calls :func:`install`),
and so does the compile layer's ``function`` (for ``Value.eval``).  Importing any part of
symcomp runs ``symcomp/__init__.py`` first, which imports both, so the hooks are in place before
any value exists.
"""

from __future__ import annotations

from types import ModuleType
from typing import Callable, Optional

_tensor: Optional[ModuleType] = None
_function: Optional[Callable] = None
_backprop: Optional[Callable] = None


def install(tensor: Optional[ModuleType] = None, function: Optional[Callable] = None,
            backprop: Optional[Callable] = None) -> None:
    """Install the front-end namespace (``symcomp.tensor``), the compiler entry point
    (``symcomp.function``) and/or reverse-mode autodiff (``backprop(seeds, wrt, constants) ->
    {value: cotangent}``, which the VJPs of ops with regions run on their bodies)."""
    global _tensor, _function, _backprop
    if tensor is not None:
        _tensor = tensor
    if function is not None:
        _function = function
    if backprop is not None:
        _backprop = backprop


def backprop() -> Callable:
    """Reverse-mode autodiff over a graph (:func:`symcomp.autodiff._backprop`), for VJP rules of
    ops whose bodies are graphs (``sc.scan``, ``sc.if``).

    Raises:
        RuntimeError: if it has not been installed (only while symcomp is half-imported).
    """
    if _backprop is None:
        raise RuntimeError("symcomp.ir: no autodiff is installed (import symcomp first)")
    return _backprop


def tensor() -> ModuleType:
    """The front-end namespace (``symcomp.tensor``).

    Raises:
        RuntimeError: if no front-end has been installed (only possible while symcomp itself
            is half-imported).
    """
    if _tensor is None:
        raise RuntimeError("symcomp.ir: no front-end is installed (import symcomp first)")
    return _tensor


def function() -> Callable:
    """The compiler entry point (``symcomp.function``) that ``Value.eval`` uses.

    Raises:
        RuntimeError: if it has not been installed (only possible while symcomp itself is
            half-imported).
    """
    if _function is None:
        raise RuntimeError("symcomp.ir: no compiler is installed (import symcomp first)")
    return _function
