"""Compilation modes: which pass pipeline runs and which backend compiles.

* ``fast`` (Theano's ``FAST_RUN``, the default): the full optimizing pipeline, native code.
* ``fast_compile`` (``FAST_COMPILE``): only the cheap passes (cleanups and stability rewrites), native code.
* ``reference``: no optimization, the NumPy interpreter (the test oracle).

Further modes (``debug``, ``nanguard``, ``mlir``) register themselves with
:func:`register_mode`; plugin packages add modes through the entry point group
``symcomp.backends`` (:mod:`symcomp.plugins`).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Callable

from symcomp.passes.manager import PassManager, parse_pipeline, replay_stages, stage_names

FAST_PIPELINE = "canonicalize,constant-fold,stabilize,canonicalize,cse,cpu-gemm-fold,fuse,inplace,dce"
"""Theano's FAST_RUN: simplify, fold, stabilize, simplify what stabilization exposed, merge,
fold products with their scalings and addends into BLAS gemms (before fusion takes the addends),
fuse elementwise loops, then mark in-place updates (last: later rewrites could invalidate them).
Backends without a gemm lowering decompose sc.gemm again (the ``decompose`` pass)."""
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
    """A pipeline and a backend factory ``backend(device) -> (module, sig, timings) -> executable``.

    Attributes:
        verify_each: run the IR verifier after every pass.
    """

    name: str
    pipeline: str
    backend: Callable
    verify_each: bool = True

    def optimize(self, module, stages: dict, timings: dict) -> None:
        """Run the pipeline on ``module`` in place.

        Fills ``stages`` with a lazy IR dump per stage ('traced', each pass,
        'optimized'; see :func:`~symcomp.passes.manager.replay_stages`): the
        only compile-time cost is one clone of the traced module.
        """
        t0 = time.perf_counter()
        traced_text = str(module) if self.pipeline.strip() and _cache().enabled() else None
        key = f"passes:{self.pipeline}\n{traced_text}" if traced_text is not None else None
        if key is not None:
            names = _load_optimized(module, key)
            if names is not None:
                stages.update(_lazy_stages(traced_text, self.pipeline, names))
                timings["passes (disk cache)"] = time.perf_counter() - t0
                return
        passes = parse_pipeline(self.pipeline)
        stages.update(replay_stages(module, passes))
        if not passes:
            return
        t0 = time.perf_counter()
        traced_locs = _loc_indices(module) if key is not None else None
        pm = PassManager(passes, verify_each=self.verify_each)
        pm.run(module)
        timings["passes"] = time.perf_counter() - t0
        for name, t in pm.timings:
            timings[f"pass:{name}"] = t
        if key is not None:
            cache = _cache()
            locs = [traced_locs.get(id(op.loc)) for op in module.walk()]
            meta = {"locs": locs, "stages": stage_names(passes)}
            cache.store(cache.key_for(key), cache.Entry(str(module).encode(), meta), cache.OPTIMIZED_IR)


def _lazy_stages(traced_text: str, pipeline: str, names: list) -> dict:
    """The stage dumps of a function whose optimized IR came from the disk cache: on first request,
    the traced IR is parsed again and the pipeline replayed (:func:`replay_stages`), so a cache hit
    imports no pass."""

    @functools.cache
    def replayed() -> dict:
        from symcomp.ir import parse

        return replay_stages(parse(traced_text, filename="<traced>"), parse_pipeline(pipeline))

    return {n: (lambda n=n: replayed()[n]()) for n in ["traced", *names, "optimized"]}


def _cache():
    from symcomp.backends.cpu import cache

    return cache


def _loc_indices(module) -> dict:
    """{id(location): index of the first op of ``module`` (pre-order) carrying it}.

    The IR text has no locations, and two programs tracing to the same text share a cache entry,
    so the entry records, per optimized op, the index of the traced op whose location it carries
    (passes give a rewrite's ops the location of the op they replace); a hit takes the locations
    from the current traced module, so errors point at this program's lines.
    """
    out: dict = {}
    for i, op in enumerate(module.walk()):
        if op.loc is not None:
            out.setdefault(id(op.loc), i)
    return out


def _load_optimized(module, key: str):
    """Replace ``module``'s functions by the cached optimized ones and return the pipeline's stage
    names; None (``module`` unchanged) if there are none.

    The key holds the pipeline and the traced IR text: the optimizer's output is a pure function of
    them and of symcomp's sources (part of the cache fingerprint), so a process compiling a function
    another process compiled before skips the passes and parses the stored IR text instead.
    """
    cache = _cache()
    entry = cache.load(cache.key_for(key), cache.OPTIMIZED_IR)
    names = entry.meta.get("stages") if entry is not None else None
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        return None
    from symcomp.ir import parse

    try:
        optimized = parse(entry.obj.decode(), filename="<symcomp pass cache>")
    except Exception:  # an unreadable entry (cache.load already checked its checksum): optimize again
        return None
    traced = [op.loc for op in module.walk()]
    locs = entry.meta.get("locs")
    ops = list(optimized.walk())
    if not isinstance(locs, list) or len(locs) != len(ops):
        return None
    for op, i in zip(ops, locs):
        op.loc = traced[i] if isinstance(i, int) and 0 <= i < len(traced) else None
    for f in list(module.body.ops):
        f.detach()
    for f in list(optimized.body.ops):
        module.body.append(f.detach())
    return names


MODES: dict[str, Mode] = {}


def register_mode(mode: Mode, *aliases: str) -> None:
    for n in (mode.name,) + aliases:
        MODES[n] = mode


register_mode(Mode("fast", FAST_PIPELINE, _cpu), "FAST_RUN")
register_mode(Mode("fast_compile", FAST_COMPILE_PIPELINE, _cpu), "FAST_COMPILE")
register_mode(Mode("reference", "", _reference))


# Modes defined in other modules, imported on first use (the module calls register_mode).
LAZY_MODES = {
    "debug": "symcomp.compile.debug",
    "nanguard": "symcomp.compile.nanguard",
    "mlir": "symcomp.mlir",
}


def get_mode(name: str) -> Mode:
    """The mode called ``name``.

    Raises:
        ValueError: for an unknown mode, listing the known ones.
    """
    if name not in MODES and name in LAZY_MODES:
        import importlib

        try:
            importlib.import_module(LAZY_MODES[name])
        except ImportError as exc:
            raise ValueError(f"mode {name!r} is not available: {exc}") from None
    if name not in MODES:
        from symcomp import plugins

        try:
            plugins.load_mode(name)  # a mode from a plugin package (entry point group symcomp.backends)
        except plugins.PluginError as exc:
            raise ValueError(f"mode {name!r} is not available: {exc}") from None
    try:
        return MODES[name]
    except KeyError:
        from symcomp.plugins import mode_names

        known = sorted(set(MODES) | set(LAZY_MODES) | set(mode_names()))
        raise ValueError(f"unknown mode {name!r} (known: {', '.join(known)})") from None
