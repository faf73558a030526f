"""Compiling graphs: ``symcomp.compile`` holds Theano's ``theano.compile`` names.

``function``, ``In``, ``Out``, ``Param``, ``Mode`` (Theano's ``Mode(linker, optimizer)``,
:class:`~symcomp.compile.modes.TheanoMode`), ``ProfileStats``, ``get_mode``; the modules:
``function`` (tracing and :class:`~symcomp.compile.function.Function`), ``modes``, ``io``,
``interface``, ``profiling``, ``pickling``, ``debug``, ``nanguard``.

``Mode``, ``get_mode`` and ``ProfileStats`` are loaded on first use (the pass manager they
bring is not needed to import symcomp).
"""

from symcomp.compile.function import Function, function
from symcomp.compile.io import In, Out, Param, SymbolicInput, SymbolicOutput

__all__ = ["function", "Function", "In", "Out", "Param", "SymbolicInput", "SymbolicOutput", "Mode",
           "ProfileStats", "get_mode", "DebugMode", "NanGuardMode"]


def __getattr__(name):
    if name == "Mode":
        from symcomp.compile.modes import TheanoMode

        return TheanoMode
    if name == "get_mode":
        from symcomp.compile.modes import get_mode

        return get_mode
    if name in ("DebugMode", "NanGuardMode"):
        from symcomp.compile import theano_modes

        return getattr(theano_modes, name)
    if name == "ProfileStats":
        from symcomp.compile.profiling import ProfileStats

        return ProfileStats
    raise AttributeError(f"module 'symcomp.compile' has no attribute {name!r}")
