"""Compiling graphs: ``symcomp.compile`` holds Theano's ``theano.compile`` names.

``function``, ``Mode`` (Theano's ``Mode(linker, optimizer)``,
:class:`~symcomp.compile.modes.TheanoMode`), ``get_mode``; the modules: ``function`` (tracing
and :class:`~symcomp.compile.function.Function`), ``modes``, ``pickling``, ``debug``,
``nanguard``.

``Mode`` and ``get_mode`` are loaded on first use (the pass manager they bring is not needed
to import symcomp).
"""

from symcomp.compile.function import Function, function

__all__ = ["function", "Function", "Mode", "get_mode"]


def __getattr__(name):
    if name == "Mode":
        from symcomp.compile.modes import TheanoMode

        return TheanoMode
    if name == "get_mode":
        from symcomp.compile.modes import get_mode

        return get_mode
    raise AttributeError(f"module 'symcomp.compile' has no attribute {name!r}")
