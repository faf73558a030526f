"""Compilation modes: which pass pipeline runs and which backend compiles.

* ``fast`` (Theano's ``FAST_RUN``, the default): the full optimizing pipeline, native code.
* ``fast_compile`` (``FAST_COMPILE``): only the cheap passes (cleanups and stability rewrites), native code.
* ``reference``: no optimization, the NumPy interpreter (the test oracle).

* ``mlir``: the ``fast`` pipeline without BLAS folding, lowered by the real ``mlir-opt`` (:mod:`symcomp.mlir`).

Further modes (``debug``, ``nanguard``) register themselves with
:func:`register_mode`; plugin packages add modes through the entry point group
``symcomp.backends`` (:mod:`symcomp.plugins`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

from symcomp import plugins
from symcomp.compile.pass_cache import PassCache
from symcomp.passes.manager import PassManager, parse_pipeline, replay_stages

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


def _cpu_warm_up(module, device: str, cold: bool) -> None:
    if device == "cpu":
        from symcomp.backends.cpu import warm_up

        warm_up(module, cold)


def _mlir(device: str):
    from symcomp.mlir.backend import backend

    return backend(device)


def _reference(device: str):
    from symcomp.backends.reference import ReferenceExecutable

    return ReferenceExecutable


@dataclass
class Mode:
    """A pipeline and a backend factory ``backend(device) -> (module, sig, timings) -> executable``.

    Attributes:
        verify_each: run the IR verifier after every pass.
        warm_up: None, or ``warm_up(module, device, cold)``, called by :meth:`optimize` with the
            traced module once the pass cache was read, before the pipeline runs.  A backend
            starts there, in the background, work its compile will need: the CPU backend copies
            the BLAS library it loads and, when ``cold`` (the optimized IR was not cached, so
            the machine code is unlikely to be), loads LLVM's library.
    """

    name: str
    pipeline: str
    backend: Callable
    verify_each: bool = True
    warm_up: Optional[Callable] = None

    def optimize(self, module, stages: dict, timings: dict, device: Optional[str] = None) -> None:
        """Run the pipeline on ``module`` in place (compiling for ``device``: see ``warm_up``).

        Fills ``stages`` with a lazy IR dump per stage ('traced', each pass,
        'optimized'; see :func:`~symcomp.passes.manager.replay_stages`): the
        only compile-time cost is one clone of the traced module.
        """
        t0 = time.perf_counter()
        entry = PassCache(module, self.pipeline)
        cached_stages = entry.load(module)
        if self.warm_up is not None and device is not None:
            self.warm_up(module, device, cached_stages is None)
        if cached_stages is not None:
            stages.update(cached_stages)
            timings["passes (disk cache)"] = time.perf_counter() - t0
            return
        passes = parse_pipeline(self.pipeline)
        stages.update(replay_stages(module, passes))
        if not passes:
            return
        t0 = time.perf_counter()
        pm = PassManager(passes, verify_each=self.verify_each)
        pm.run(module)
        timings["passes"] = time.perf_counter() - t0
        for name, t in pm.timings:
            timings[f"pass:{name}"] = t
        entry.store(module, passes)


MODES: dict[str, Mode] = {}


def register_mode(mode: Mode, *aliases: str) -> None:
    for n in (mode.name,) + aliases:
        MODES[n] = mode


register_mode(Mode("fast", FAST_PIPELINE, _cpu, warm_up=_cpu_warm_up), "FAST_RUN")
register_mode(Mode("fast_compile", FAST_COMPILE_PIPELINE, _cpu, warm_up=_cpu_warm_up), "FAST_COMPILE")
register_mode(Mode("reference", "", _reference))
# MLIR has its own matmul lowering: no BLAS gemm folding.  The backend needs Debian's mlir-22-tools.
MLIR_PIPELINE = ",".join(p for p in FAST_PIPELINE.split(",") if p != "cpu-gemm-fold")
register_mode(Mode("mlir", MLIR_PIPELINE, _mlir))


# Modes defined in other modules, imported on first use (the module calls register_mode).
LAZY_MODES = {
    "debug": "symcomp.compile.debug",
    "nanguard": "symcomp.compile.nanguard",
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
        try:
            _load_plugin_mode(name)  # a mode from a plugin package (entry point group symcomp.backends)
        except plugins.PluginError as exc:
            raise ValueError(f"mode {name!r} is not available: {exc}") from None
    try:
        return MODES[name]
    except KeyError:
        plugin_modes = {ep.name for ep in plugins.entry_points(plugins.BACKEND_GROUP)}
        known = sorted(set(MODES) | set(LAZY_MODES) | plugin_modes)
        raise ValueError(f"unknown mode {name!r} (known: {', '.join(known)})") from None


def _load_plugin_mode(name: str) -> None:
    """Load and register the mode a plugin provides under ``name``, if one does.

    Raises:
        PluginError: if the plugin fails to load or does not give a ``Mode`` named ``name``.
    """
    ep = plugins.find(plugins.BACKEND_GROUP, name)
    if ep is None:
        return

    def check(obj) -> Optional[str]:
        if not isinstance(obj, Mode):
            return f"gives {obj!r:.60}, not a symcomp.compile.modes.Mode"
        if obj.name != name:
            return f"gives mode {obj.name!r}; the entry point's name must be the mode's name"
        return None

    register_mode(plugins.load(ep, "a backend", check))
