"""Theano's mode classes over symcomp's checking modes: ``DebugMode`` (``mode="debug"``,
:mod:`symcomp.compile.debug`) and ``NanGuardMode`` (``mode="nanguard"``,
:mod:`symcomp.compile.nanguard`), constructed with Theano's arguments.  Theano's module paths
``theano.compile.debugmode`` and ``theano.compile.nanguardmode`` are
:mod:`symcomp.compile.debugmode` and :mod:`symcomp.compile.nanguardmode`, which re-export them.
"""

from __future__ import annotations

from typing import Optional

from symcomp.compile.modes import LINKERS, OPTIMIZERS, Mode
from symcomp.compile.probe import CheckingMode
from symcomp.passes.manager import format_pipeline, parse_pipeline


def pipeline_of(optimizer) -> str:
    """The pass pipeline of a Theano optimizer name (:data:`symcomp.compile.modes.OPTIMIZERS`;
    ``'default'`` is ``'fast_run'``, None no pass) or of a symcomp pipeline string.

    Raises:
        ValueError: for an unknown optimizer, listing the known ones.
    """
    optimizer = "fast_run" if optimizer == "default" else optimizer
    if optimizer is None or optimizer in OPTIMIZERS:
        return OPTIMIZERS["None" if optimizer is None else optimizer]
    try:
        return format_pipeline(parse_pipeline(optimizer))
    except Exception:
        raise ValueError(f"unknown optimizer {optimizer!r} (known: {', '.join(sorted(OPTIMIZERS))}, or a symcomp "
                         "pass pipeline such as 'canonicalize,cse,dce')") from None


def _linker(linker: Optional[str]):
    if linker is None:
        return None
    if linker not in LINKERS:
        raise ValueError(f"unknown linker {linker!r} (known: {', '.join(sorted(LINKERS))})")
    return LINKERS[linker]


class DebugMode(CheckingMode):
    """Theano's ``DebugMode(optimizer='fast_run', stability_patience=None, check_c_code=None,
    check_py_code=None, check_isfinite=None, check_preallocated_output=None,
    require_matching_strides=None, linker=None)``: symcomp's ``mode="debug"`` with the optimizer's
    pipeline.

    Each call runs the compiled code and the NumPy reference interpreter on the traced program,
    compares every output and update, checks that no input was modified and no output aliases
    another, and on a mismatch raises :class:`symcomp.compile.debug.BadOutput` naming the op (and
    the pass that broke it).  Theano's check options are accepted; symcomp's checks do not depend
    on them.

    Raises:
        ValueError: for an unknown optimizer or linker.
    """

    def __init__(self, optimizer="fast_run", stability_patience=None, check_c_code=None, check_py_code=None,
                 check_isfinite=None, check_preallocated_output=None, require_matching_strides=None, linker=None):
        from symcomp.compile.debug import debug_mode

        base = debug_mode(f"DebugMode(optimizer={optimizer})", pipeline_of(optimizer), inner=_linker(linker))
        super().__init__(base.name, base.pipeline, base.backend)
        self.optimizer = self.provided_optimizer = optimizer
        self.linker = self.provided_linker = linker or "cvm"
        self.check_isfinite = True if check_isfinite is None else bool(check_isfinite)
        self.stability_patience = stability_patience
        self.check_c_code, self.check_py_code = check_c_code, check_py_code
        self.check_preallocated_output = check_preallocated_output
        self.require_matching_strides = require_matching_strides


class NanGuardMode(Mode):
    """Theano's ``NanGuardMode(nan_is_error=None, inf_is_error=None, big_is_error=None,
    optimizer='default', linker=None, db_name=None)``: symcomp's ``mode="nanguard"``, raising
    :class:`symcomp.compile.nanguard.NanGuardError` (an AssertionError, as Theano's) at the first
    operation whose value holds a NaN, an infinity or (``big_is_error``) a value above 1e10 in
    magnitude.  Each flag left None is True (Theano's ``config.NanGuardMode`` defaults).  The
    optimizer's pipeline runs without fusion, so that every op keeps a value to check.

    Raises:
        ValueError: for an unknown optimizer or linker.
    """

    def __init__(self, nan_is_error: Optional[bool] = None, inf_is_error: Optional[bool] = None,
                 big_is_error: Optional[bool] = None, optimizer="default", linker=None, db_name=None):
        from symcomp.compile.nanguard import nanguard_mode, unfused

        flags = [True if f is None else bool(f) for f in (nan_is_error, inf_is_error, big_is_error)]
        base = nanguard_mode(f"NanGuardMode(nan={flags[0]}, inf={flags[1]}, big={flags[2]})", flags[0], flags[1],
                             pipeline=unfused(pipeline_of(optimizer)), inner=_linker(linker), big_is_error=flags[2])
        super().__init__(base.name, base.pipeline, base.backend)
        self.nan_is_error, self.inf_is_error, self.big_is_error = flags
        self.optimizer = self.provided_optimizer = optimizer
        self.linker = self.provided_linker = linker or "cvm"



