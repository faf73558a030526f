"""Compilation modes: which pass pipeline runs and which backend compiles.

* ``fast`` (Theano's ``FAST_RUN``, the default): the full optimizing pipeline, native code.
* ``fast_compile`` (``FAST_COMPILE``): only the cheap passes (cleanups and stability rewrites), native code.
* ``reference``: no optimization, the NumPy interpreter (the test oracle).

Further modes (``debug``, ``nanguard``, ``mlir``) register themselves with
:func:`register_mode`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from symcomp.passes.manager import PassManager, parse_pipeline

FAST_PIPELINE = "canonicalize,constant-fold,stabilize,canonicalize,cse,fuse,inplace,dce"
"""Theano's FAST_RUN: simplify, fold, stabilize, simplify what stabilization exposed, merge,
fuse elementwise loops, then mark in-place updates (last: later rewrites could invalidate them)."""
FAST_COMPILE_PIPELINE = "canonicalize,constant-fold,stabilize,cse,dce"
"""Theano's FAST_COMPILE: the cheap passes: cleanups and the stability rewrites (which users rely on
for correct gradients), no fusion or in-place."""


def _cpu(device: str):
    if device == "cuda":
        from symcomp.backends.cuda import compile_cuda

        return compile_cuda
    if device != "cpu":
        raise ValueError(f"unknown device {device!r} (expected 'cpu' or 'cuda')")
    from symcomp.backends.cpu import compile_cpu

    return compile_cpu


def _reference(device: str):
    from symcomp.backends.reference import ReferenceExecutable

    return ReferenceExecutable


@dataclass
class Mode:
    """A pipeline and a backend factory ``backend(device) -> (module, sig, timings) -> executable``."""

    name: str
    pipeline: str
    backend: Callable

    def optimize(self, module, stages: dict, timings: dict) -> None:
        """Run the pipeline on ``module``, recording the IR after each pass in ``stages``."""
        if not self.pipeline:
            return
        pm = PassManager(parse_pipeline(self.pipeline), verify_each=False,
                         snapshot=lambda name, m: stages.__setitem__(name, str(m)))
        t0 = time.perf_counter()
        pm.run(module)
        timings["passes"] = time.perf_counter() - t0
        for name, t in pm.timings:
            timings[f"pass:{name}"] = t


MODES: dict[str, Mode] = {}


def register_mode(mode: Mode, *aliases: str) -> None:
    for n in (mode.name,) + aliases:
        MODES[n] = mode


register_mode(Mode("fast", FAST_PIPELINE, _cpu), "FAST_RUN")
register_mode(Mode("fast_compile", FAST_COMPILE_PIPELINE, _cpu), "FAST_COMPILE")
register_mode(Mode("reference", "", _reference))


def get_mode(name: str) -> Mode:
    """The mode called ``name``.

    Raises:
        ValueError: for an unknown mode, listing the known ones.
    """
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"unknown mode {name!r} (known: {', '.join(sorted(MODES))})") from None
