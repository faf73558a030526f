"""Theano's ``theano.compile.debugmode``: :class:`DebugMode` and its errors (symcomp's
``mode="debug"``, :mod:`symcomp.compile.debug`)."""

from symcomp.compile.debug import BadDestroy, BadOutput, DebugModeError  # noqa: F401 (Theano's names)
from symcomp.compile.theano_modes import DebugMode  # noqa: F401

__all__ = ["DebugMode", "DebugModeError", "BadOutput", "BadDestroy"]
