"""symcomp as a PyTensor backend: ``pytensor.function(..., mode="SYMCOMP")``.

Importing this package registers the mode ``"SYMCOMP"`` with PyTensor (PyTensor has no plugin
entry point for modes: the import is the one line a user adds)::

    import symcomp.pytensor
    f = pytensor.function([x], y, mode="SYMCOMP")
    symcomp.pytensor.report(f)            # what symcomp compiled, what PyTensor runs and why

and PyMC's samplers take it as any PyTensor mode::

    pm.sample(compile_kwargs={"mode": "SYMCOMP"})

The mode is :data:`SYMCOMP`: PyTensor's ``fast_run`` rewrites and the :class:`SymcompLinker`.
Needs ``pip install -e '.[pytensor]'`` (the pytensor and pymc versions it is tested with).
"""

from __future__ import annotations

from pytensor.compile.mode import Mode, predefined_modes, register_mode
from pytensor.graph.rewriting.db import RewriteDatabaseQuery

from symcomp.pytensor.dispatch import ConversionError, symcomp_convert
from symcomp.pytensor.linker import SymcompLinker
from symcomp.pytensor.partition import Report, SymcompProgram

__all__ = ["SYMCOMP", "SymcompLinker", "ConversionError", "Report", "report", "symcomp_convert", "make_mode"]


def make_mode(mode=None, warn: bool = False) -> Mode:
    """A PyTensor ``Mode`` compiling with symcomp's mode ``mode`` (e.g. ``"fast"``, ``"fast_compile"``).

    Args:
        mode: symcomp's compilation mode (default ``symcomp.config.mode``).
        warn: warn when part of a graph runs on PyTensor's default linker.
    """
    return Mode(SymcompLinker(mode=mode, warn=warn), RewriteDatabaseQuery(include=["fast_run"]))


SYMCOMP = make_mode()
"""The mode registered under the name ``"SYMCOMP"``."""

if "SYMCOMP" not in predefined_modes:
    register_mode("SYMCOMP", SYMCOMP)


def report(f) -> Report:
    """What symcomp made of a compiled PyTensor function ``f`` (a ``pytensor.compile.function.types.Function``).

    Returns:
        A :class:`Report`: the nodes symcomp compiled, and each node that runs on PyTensor's
        default linker with the reason (``print(report(f))`` lists them).

    Raises:
        TypeError: if ``f`` was not compiled with a :class:`SymcompLinker` mode.
    """
    program = getattr(getattr(f, "vm", None), "jit_fn", None)
    if not isinstance(program, SymcompProgram):
        raise TypeError(f"report: {f!r} was not compiled with mode='SYMCOMP' (a SymcompLinker mode)")
    return program.report
