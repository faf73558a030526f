"""``mode="debug"``: run the optimized native code and the reference interpreter side by side (Theano's DebugMode).

Every call of a function compiled in debug mode:

1. snapshots its arguments (the user's inputs and the shared variables' values);
2. evaluates the *unoptimized* program, as traced, with the reference backend
   (NumPy) on copies of them;
3. runs the function compiled as in the ``fast`` mode (its pipeline, the CPU
   or CUDA backend) on the arguments themselves;
4. checks the memory contract (docs/memory.md): no input was modified, no
   shared variable changed except by its declared update (and none at all if
   the call failed), and no output or update shares memory with an argument,
   another output or another update;
5. compares every output and every update with the reference: same dtype,
   same shape, and values equal within a dtype-aware tolerance, NaN and
   infinities at the same places (see :func:`compare`).

On a mismatch it finds the first operation whose value diverges: it compiles
(once, lazily) a variant of the optimized function that returns every
intermediate value (:func:`symcomp.compile.probe.instrument`), and scans its
operations in program order, checking each value (a) against the op's
reference semantics applied to the same compiled operand values -- a failure
there is a backend bug -- and (b) against the value the same op has in the
unoptimized program when the pipeline kept the op, and against the
unoptimized outputs -- a failure there is an optimizer bug, and the passes are
then replayed one by one with the reference interpreter to name the first
pass after which the outputs change.  The error names the op, its line in
``f.dump('optimized')`` and the user's line that created it.

Errors are :class:`DebugModeError` subclasses: :class:`BadOutput`,
:class:`BadDestroy`, :class:`BadAlias`.  A call whose arguments are invalid
raises the same exception as in the ``fast`` mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from symcomp.ir.interpreter import run_op
from symcomp.ir.locations import describe
from symcomp.compile.modes import MODES, register_mode
from symcomp.compile.probe import (
    CheckingMode, Instrumented, instrument, reference_results, reference_values, traced_program,
)
from symcomp.ir.gcpause import gc_paused

RTOL = {np.dtype("float64"): 1e-7, np.dtype("float32"): 1e-4}
"""Relative tolerance per float dtype (see :func:`compare`)."""


class DebugModeError(RuntimeError):
    """A self-check of debug mode failed: the compiled function broke a contract.

    Attributes:
        op: the operation found responsible, or None.
    """

    def __init__(self, message: str, op=None):
        super().__init__(message)
        self.op = op


class BadOutput(DebugModeError):
    """An output or update differs from the reference (Theano's BadThunkOutput / BadOptimization).

    Attributes:
        cause: 'backend' (an op's compiled code disagrees with its reference
            semantics), 'optimizer' (a value changed under the pass pipeline),
            'memory' (every intermediate value agrees: buffer reuse broke the
            result), 'error' (one side raised, the other did not), or '' (the
            instrumented variant could not run, so no op was blamed).
        pass_name: the first pass after which the outputs differ ('optimizer' cause), or None.
    """

    def __init__(self, message: str, op=None, cause: str = "", pass_name: Optional[str] = None):
        super().__init__(message, op)
        self.cause = cause
        self.pass_name = pass_name


class BadDestroy(DebugModeError):
    """The call modified an input, or a shared variable it does not update (Theano's BadDestroyMap)."""


class BadAlias(DebugModeError):
    """An output or update shares memory with an argument or with another result (Theano's BadViewMap)."""


def compare(got, expected, accept_finite: bool = False) -> Optional[str]:
    """Why ``got`` does not match ``expected``, or None when it does.

    Integers and booleans must be equal.  Floats match where both are NaN,
    both the same infinity, or both finite with ``|got - expected| <= rtol *
    scale``, where ``rtol`` is :data:`RTOL` for the dtype and ``scale`` the
    largest finite magnitude in ``expected`` (at least 1): a norm-wise
    criterion, as reordered sums and BLAS products need.

    Args:
        got, expected: arrays (dtype and shape must agree too).
        accept_finite: also accept a finite value where ``expected`` is NaN or
            infinite (a stabilizing rewrite computes ``log(sigmoid(x))`` where
            the naive formula overflows; Theano's ``values_eq_approx_remove_inf_nan``).
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.dtype != expected.dtype:
        return f"dtype {got.dtype}, expected {expected.dtype}"
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected {expected.shape}"
    tol = ""
    if got.dtype.kind == "f":
        rtol = RTOL.get(got.dtype, 1e-4)
        fin_g, fin_e = np.isfinite(got), np.isfinite(expected)
        scale = max(1.0, float(np.max(np.abs(expected[fin_e]), initial=0.0)))
        with np.errstate(all="ignore"):
            close = np.abs(got - expected) <= rtol * scale
        same_special = (np.isnan(got) & np.isnan(expected)) | (~fin_g & ~np.isnan(got) & (got == expected))
        ok = (fin_g & fin_e & close) | same_special
        if accept_finite:
            ok |= fin_g & ~fin_e
        bad = ~ok
        tol = f" (tolerance {rtol:g} x {scale:.3g})"
    else:
        bad = got != expected
    n = int(np.count_nonzero(bad))
    if not n:
        return None
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))
    return (f"{n} of {bad.size} elements differ; first at index {idx}: got {got[idx]}, "
            f"expected {expected[idx]}{tol}")


def _step_of(op, r, got, want) -> str:
    """For a result of a loop (``sc.scan``) holding one row per step: the first step whose row
    differs, as text; else ''."""
    if op.name != "sc.scan" or r.index >= op.n_states + op.n_nitsot or np.ndim(got) == 0:
        return ""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or (r.index < op.n_states and op.state_keep[r.index]):
        return ""
    lead = op.depth(r.index) if r.index < op.n_states else 0  # the initial rows of a state's history
    for row in range(got.shape[0]):
        if compare(got[row], want[row]) is not None:
            return f"; the first step whose value differs is step {row - lead}"
    return ""


def _name(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _copy(a: np.ndarray) -> np.ndarray:
    return np.array(a, copy=True)


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _shares(a, b) -> bool:
    return np.may_share_memory(a, b) and np.shares_memory(a, b)


class DebugExecutable:
    """The executable of a function compiled in debug mode (see the module docstring).

    Args:
        module: the optimized module (compiled with ``inner``).
        sig: its signature.
        timings: compile-stage timings (filled by the inner backend).
        inner: the backend compiling the optimized module (``(module, sig, timings) -> executable``).
        pipeline: the mode's pass pipeline (replayed to find a faulty pass).
    """

    def __init__(self, module, sig, timings: dict, inner: Callable, pipeline: str):
        self.sig = sig
        self.traced = traced_program(module)
        self.pipeline = pipeline
        self.probe: Instrumented = instrument(module, sig, keep_updates=False)
        self._inner = inner
        self._probe_exe = None
        self.compiled = inner(module, sig, timings)
        self.stages = getattr(self.compiled, "stages", {})
        self._n_inputs = len(sig.inputs)
        self._updated = {idx for _, idx in sig.updates}

    # -- calling -------------------------------------------------------------------------------------
    def run(self, arrays: Sequence[np.ndarray]):
        """Run the compiled function and check it against the reference; returns (outputs, updates).

        Raises:
            BadOutput, BadDestroy, BadAlias: when a check fails.
            Whatever the compiled function raises for invalid arguments.
        """
        snap = [_copy(a) for a in arrays]
        func = self.traced.module.func()
        ref_error = env = None
        try:
            env = reference_values(func, [_copy(a) for a in snap])
        except Exception as exc:  # the same call may fail in the compiled code: compared below
            ref_error = exc
        try:
            outs, ups = self.compiled.run(arrays)
        except Exception as exc:
            self._check_destroy(arrays, snap, failed=True)
            if ref_error is not None:
                # An invalid call: raise what the fast mode raises.  With several problems in one call the
                # two may report different ones (the CPU backend checks every shape before running any code).
                raise
            other = "the reference returned" if ref_error is None else f"the reference raised {_name(ref_error)}"
            raise BadOutput(self._headline(f"the compiled function raised {_name(exc)}, but {other}"),
                            cause="error") from exc
        self._check_destroy(arrays, snap, failed=False)
        self._check_alias(arrays, outs, ups)
        if ref_error is not None:
            raise BadOutput(self._headline(f"the reference raised {_name(ref_error)}, but the compiled function "
                                           "returned"), cause="error") from ref_error
        want_outs, want_ups = reference_results(func, env)
        results = [(f"output {j}", g, w) for j, (g, w) in enumerate(zip(outs, want_outs))]
        results += [(f"the update of shared variable {var.name!r}", g, w)
                    for (var, _), g, w in zip(self.sig.updates, ups, want_ups)]
        optimized = None
        for k, (label, got, want) in enumerate(results):
            if compare(got, want) is None:
                continue
            diff = compare(got, want, accept_finite=True)
            if diff is None:
                # Finite where the unoptimized program overflows: fine if the optimized program's
                # own reference agrees (a stabilizing rewrite), not if only the backend made it finite.
                optimized = optimized or self._optimized_reference(snap)
                if (d := compare(got, optimized[k])) is None:
                    continue
                diff = f"finite where the reference is not, and unlike the optimized program's reference: {d}"
            raise self._diagnose(snap, env, f"{label} differs from the reference: {diff}")
        return outs, ups

    def _optimized_reference(self, snap) -> list:
        """Outputs then updates of the optimized program, by the reference interpreter."""
        p = self.probe
        env = reference_values(p.module.func(), [_copy(a) for a in snap])
        return [env[p.twin[v]] for v in p.results + p.updates]

    def _headline(self, what: str) -> str:
        return f"debug mode: function {self.traced.module.func().sym_name!r}: {what}"

    # -- memory contract -----------------------------------------------------------------------------
    def _label(self, k: int) -> str:
        if k < self._n_inputs:
            v = self.sig.inputs[k]
            return f"input {k}" + (f" ({v.name})" if v.name else "")
        return f"shared variable {self.sig.shared[k - self._n_inputs].name!r}"

    def _check_destroy(self, arrays, snap, failed: bool) -> None:
        for k, (a, s) in enumerate(zip(arrays, snap)):
            shared = k >= self._n_inputs
            if shared and k in self._updated and not failed:
                continue  # its storage may be overwritten by its own update
            if not _same_bytes(a, s):
                why = ("the call failed, and a failed call changes no shared variable" if failed and shared else
                       "it is not updated by this function" if shared else "inputs are never modified")
                raise BadDestroy(self._headline(f"{self._label(k)} was modified by the call ({why}): "
                                                f"{compare(a, s) or 'its bytes changed'}"))

    def _check_alias(self, arrays, outs, ups) -> None:
        """No result shares memory with an argument (an update may use its own variable's storage)
        or with another result."""
        results = [(f"output {j}", o, None) for j, o in enumerate(outs)]
        results += [(f"the update of {var.name!r}", arr, idx) for (var, idx), arr in zip(self.sig.updates, ups)]
        for i, (label, r, own) in enumerate(results):
            for k, a in enumerate(arrays):
                if k != own and _shares(r, a):
                    raise BadAlias(self._headline(f"{label} shares memory with {self._label(k)}"))
            for other, r2, _ in results[:i]:
                if _shares(r, r2):
                    raise BadAlias(self._headline(f"{label} shares memory with {other}"))

    # -- diagnosis -----------------------------------------------------------------------------------
    def _probe_executable(self):
        if self._probe_exe is None:
            self._probe_exe = self._inner(self.probe.module, self.probe.sig, {})
        return self._probe_exe

    def _diagnose(self, snap, env, what: str) -> BadOutput:
        """The BadOutput for a mismatch, naming the first diverging op (see the module docstring)."""
        headline = self._headline(what)
        p = self.probe
        try:
            outs, _ = self._probe_executable().run([_copy(a) for a in snap])
        except Exception as exc:  # no diagnosis, but the mismatch itself is still reported
            return BadOutput(f"{headline}\n(the instrumented variant that locates the diverging op failed: "
                             f"{_name(exc)})", cause="")
        got = dict(zip(p.args, snap))
        got.update(p.values(outs))
        expected = {v: env[t] for v in p.tracked if (t := self.traced.twin.get(v)) is not None and t in env}
        tfunc = self.traced.module.func()
        for v, t in zip(p.results, tfunc.return_op.operands):
            expected.setdefault(v, env[t])
        for v, t in zip(p.updates, [o.operands[1] for o in tfunc.body.ops if o.name == "sc.assign"]):
            expected.setdefault(v, env[t])
        for op in p.ops:
            try:
                with np.errstate(all="ignore"):
                    want = run_op(op, [got[v] for v in op.operands])
            except Exception as exc:
                return self._report(headline, op, "backend", f"its reference raised {type(exc).__name__}: {exc} "
                                    "on the compiled operand values")
            for r, w in zip(op.results, want):
                diff = compare(got[r], w)
                if diff is not None:
                    return self._report(headline, op, "backend",
                                        f"its compiled value disagrees with {op.name}'s reference semantics on the "
                                        f"same operand values: {diff}{_step_of(op, r, got[r], w)} (a bug in the "
                                        f"backend's code for {op.name})")
                if r in expected and (diff := compare(got[r], expected[r], accept_finite=True)) is not None:
                    pass_name = self._bisect(snap, env)
                    after = f"; the outputs first change after pass {pass_name!r}" if pass_name else ""
                    return self._report(headline, op, "optimizer",
                                        f"its value differs from the unoptimized program's: {diff} (the optimizer "
                                        f"changed what it computes{after})", pass_name)
        return BadOutput(headline + "\nevery intermediate value of the instrumented program agrees with the "
                         "reference, so the difference comes from how the compiled function reuses memory "
                         "(in-place results or workspace placement)", cause="memory")

    def _report(self, headline: str, op, cause: str, detail: str, pass_name: Optional[str] = None) -> BadOutput:
        n = self.probe.lines.number(op)
        where = f" (line {n} of f.dump('optimized'))" if n else ""
        text = (f"{headline}\nfirst operation whose value diverges{where}:\n"
                f"{describe(op, self.probe.lines.line(op))}\n  {detail}")
        return BadOutput(text, op, cause, pass_name)

    def _bisect(self, snap, env) -> Optional[str]:
        """The first pass after which the reference interpreter's results change, or None."""
        from symcomp.passes.manager import parse_pipeline

        tfunc = self.traced.module.func()
        want = reference_results(tfunc, env)
        with gc_paused():
            m = self.traced.module.clone({})
        for p in parse_pipeline(self.pipeline):
            p.apply(m)
            try:
                now = reference_results(m.func(), reference_values(m.func(), [_copy(a) for a in snap]))
            except Exception:
                return p.pipeline_text()
            for g, w in zip(now[0] + now[1], want[0] + want[1]):
                if compare(g, w, accept_finite=True) is not None:
                    return p.pipeline_text()
        return None


@dataclass
class _Backend:
    """``backend(device)`` of a debug mode: wraps the device's backend in a :class:`DebugExecutable`."""

    pipeline: str
    inner: Callable[[str], Callable]

    def __call__(self, device: str):
        inner = self.inner(device)
        return lambda module, sig, timings: DebugExecutable(module, sig, timings, inner, self.pipeline)


def debug_mode(name: str = "debug", pipeline: Optional[str] = None,
               inner: Optional[Callable[[str], Callable]] = None) -> CheckingMode:
    """A debug mode (register it with :func:`symcomp.compile.modes.register_mode` to use it by name).

    Args:
        name: the mode's name.
        pipeline: the passes to check (default: the ``fast`` mode's pipeline).
        inner: ``inner(device)`` gives the backend that compiles the optimized
            module (default: the ``fast`` mode's: CPU, or CUDA for ``device='cuda'``).
    """
    pipeline = MODES["fast"].pipeline if pipeline is None else pipeline
    return CheckingMode(name, pipeline, _Backend(pipeline, MODES["fast"].backend if inner is None else inner))


register_mode(debug_mode(), "DebugMode", "DEBUG_MODE")
