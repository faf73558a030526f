"""Theano's ``theano.compile.nanguardmode``: :class:`NanGuardMode` (symcomp's ``mode="nanguard"``,
:mod:`symcomp.compile.nanguard`)."""

from symcomp.compile.nanguard import NanGuardError  # noqa: F401
from symcomp.compile.theano_modes import NanGuardMode  # noqa: F401

__all__ = ["NanGuardMode", "NanGuardError"]
