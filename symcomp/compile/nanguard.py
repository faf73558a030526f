"""``mode="nanguard"``: raise on the first NaN or infinity a call produces (Theano's NanGuardMode).

A function compiled in this mode runs the ``fast`` pipeline without fusion
(:func:`unfused`: every operation keeps a value of its own), in a variant that
also returns the value of every operation (:func:`symcomp.compile.probe.instrument`).
After each call the arguments (the user's inputs and the shared variables'
values) and then every float value are checked in program order; the first
one holding a NaN or an infinity raises :class:`NanGuardError` naming the
operation, its line in ``f.dump('optimized')`` and the user's line that
created it.  When that op is a fused loop nest, the body is re-evaluated with
the reference semantics on the same operands to name the scalar op (and its
creation line) that produced the first bad value.

Every operation's value is checked, including values that a later
``switch``/``where`` discards (as Theano's NanGuardMode does): a guarded
program must not compute a NaN at all.  (A pipeline that does fuse, or IR
holding ``sc.fused`` ops, checks the fused loop's result only.)  Shared
variables are left unchanged when a check fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from symcomp.ir.locations import describe, source_text, where
from symcomp.compile.modes import MODES, Mode, register_mode
from symcomp.compile.probe import fused_body_values, instrument
from symcomp.passes.manager import format_pipeline, parse_pipeline


FUSION_PASSES = ("fuse",)
"""Passes the default nanguard pipeline leaves out: inside a fused loop nest, values are never stored."""


class NanGuardError(FloatingPointError, AssertionError):
    """A NaN or an infinity (or, when asked, a value above 1e10 in magnitude) was produced (or
    passed in).  It is an AssertionError too, which Theano's NanGuardMode raises.

    Attributes:
        op: the top-level operation that produced it (None for an argument).
        step: for a loop (``sc.scan``), the step whose body produced the first bad value.
        culprit: the operation to blame: ``op``, or the op of a fused loop's body
            that produced the first bad value.
        kind: 'NaN', 'Inf' or 'Big'.
    """

    def __init__(self, message: str, op=None, kind: str = "NaN", culprit=None):
        super().__init__(message)
        self.op = op
        self.kind = kind
        self.culprit = culprit if culprit is not None else op
        self.step = None


BIG = 1e10
"""The magnitude above which a value is "big" (Theano's NanGuardMode's threshold)."""


def _bad(a: np.ndarray, nan: bool, inf: bool, big: bool = False) -> Optional[tuple[str, np.ndarray]]:
    """('NaN', 'Inf' or 'Big', mask) for the first kind of bad value ``a`` holds, or None."""
    if a.dtype.kind != "f" or not a.size:
        return None
    if nan:
        m = np.isnan(a)
        if m.any():
            return "NaN", m
    if inf:
        m = np.isinf(a)
        if m.any():
            return "Inf", m
    if big:
        with np.errstate(invalid="ignore"):
            m = np.abs(a) > BIG
        if m.any():
            return "Big", m
    return None


def _position(mask: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))
    return f"{int(np.count_nonzero(mask))} of {mask.size} elements, first at index {idx}"


class NanGuardExecutable:
    """The executable of a function compiled in nanguard mode (see the module docstring).

    Args:
        module: the optimized module.
        sig: its signature.
        timings: compile-stage timings (filled by the inner backend).
        inner: the backend compiling the instrumented variant.
        nan_is_error, inf_is_error, big_is_error: which values raise.
    """

    def __init__(self, module, sig, timings: dict, inner: Callable, nan_is_error: bool, inf_is_error: bool,
                 big_is_error: bool = False):
        self.sig = sig
        self.nan, self.inf, self.big = nan_is_error, inf_is_error, big_is_error
        self.probe = instrument(module, sig, keep_updates=True)
        self.compiled = inner(self.probe.module, self.probe.sig, timings)
        self.stages = getattr(self.compiled, "stages", {})
        self._labels = [f"input {i}" + (f" ({v.name})" if v.name else "") for i, v in enumerate(sig.inputs)]
        self._labels += [f"shared variable {v.name!r}" for v in sig.shared]

    def run(self, arrays: Sequence[np.ndarray]):
        """Run and check; returns (outputs, updates).

        Raises:
            NanGuardError: for the first argument or op value holding a NaN or an infinity.
        """
        for label, a in zip(self._labels, arrays):
            if (bad := _bad(np.asarray(a), self.nan, self.inf, self.big)) is not None:
                raise NanGuardError(f"nanguard: {label} holds {bad[0]} ({_position(bad[1])})", None, bad[0])
        outs, ups = self.compiled.run(arrays)
        p = self.probe
        values = dict(zip(p.args, arrays))
        values.update(p.values(outs))
        for op in p.ops:
            for r in op.results:
                if (bad := _bad(values[r], self.nan, self.inf, self.big)) is not None:
                    raise self._error(op, bad, [values[v] for v in op.operands])
        return outs[:p.n_outputs], ups

    def _error(self, op, bad, operands) -> NanGuardError:
        kind, mask = bad
        n = self.probe.lines.number(op)
        line = f" (line {n} of f.dump('optimized'))" if n else ""
        text = (f"nanguard: {op.name} produced {kind} ({_position(mask)}){line}:\n"
                f"{describe(op, self.probe.lines.line(op))}")
        inner = self._inner_culprit(op, operands) if op.name == "sc.fused" else None
        if op.name == "sc.scan":
            found = self._step_culprit(op, operands)
            if found is not None:
                step, inner = found
                text += f"\n  inside the loop, at step {step}, the first {kind} comes from {where(inner)}"
                src = source_text(inner.loc)
                text += f"\n    {src}" if src else ""
                err = NanGuardError(text, op, kind, inner)
                err.step = step
                return err
        if inner is not None:
            text += f"\n  inside the fused loop, the first {kind} comes from {where(inner)}"
            src = source_text(inner.loc)
            text += f"\n    {src}" if src else ""
        return NanGuardError(text, op, kind, inner)

    def _step_culprit(self, op, operands):
        """(step, body op) of the first bad value a loop computes, re-run with the reference
        semantics on the same operands (nested loops and branches included), or None."""
        found = []

        class _Found(Exception):
            pass

        def observe(step, inner, outs):
            for v in outs:
                if _bad(np.asarray(v), self.nan, self.inf) is not None:
                    found.append((step, inner))
                    raise _Found
        try:
            op.run_steps(*operands, observe=observe)
        except _Found:
            return found[0]
        except (ValueError, TypeError, ArithmeticError, IndexError):
            return None
        return None

    def _inner_culprit(self, op, operands):
        """The first op of a fused body whose reference value is bad, or None."""
        try:
            inner_values = fused_body_values(op, operands)
        except (ValueError, TypeError, ArithmeticError):
            return None
        for inner, v in inner_values:
            if _bad(v, self.nan, self.inf, self.big) is not None:
                return inner
        return None


@dataclass
class _Backend:
    """``backend(device)`` of a nanguard mode."""

    nan_is_error: bool
    inf_is_error: bool
    inner: Callable[[str], Callable]
    big_is_error: bool = False

    def __call__(self, device: str):
        inner = self.inner(device)
        return lambda module, sig, timings: NanGuardExecutable(module, sig, timings, inner, self.nan_is_error,
                                                               self.inf_is_error, self.big_is_error)


def nanguard_mode(name: str = "nanguard", nan_is_error: bool = True, inf_is_error: bool = True,
                  pipeline: Optional[str] = None, inner: Optional[Callable[[str], Callable]] = None,
                  big_is_error: bool = False) -> Mode:
    """A nanguard mode (register it with :func:`symcomp.compile.modes.register_mode` to use it by name).

    Args:
        name: the mode's name.
        nan_is_error: raise on NaN.
        inf_is_error: raise on +-inf.
        big_is_error: raise on a value above :data:`BIG` in magnitude.
        pipeline: the passes (default: the ``fast`` mode's pipeline without fusion, see :func:`unfused`).
        inner: ``inner(device)`` gives the backend (default: the ``fast`` mode's: CPU, or CUDA for
            ``device='cuda'``).
    """
    pipeline = unfused(MODES["fast"].pipeline) if pipeline is None else pipeline
    return Mode(name, pipeline, _Backend(nan_is_error, inf_is_error, MODES["fast"].backend if inner is None else inner,
                                         big_is_error))


def unfused(pipeline: str) -> str:
    """``pipeline`` without its fusion passes: every op then keeps a value of its own to check."""
    return format_pipeline([p for p in parse_pipeline(pipeline) if p.name not in FUSION_PASSES])


register_mode(nanguard_mode(), "NanGuardMode")
