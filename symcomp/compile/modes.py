"""Compilation modes: which pass pipeline runs and which backend compiles.

* ``fast`` (Theano's ``FAST_RUN``, the default): the full optimizing pipeline, native code.
* ``fast_compile`` (``FAST_COMPILE``): only the cheap passes (cleanups and stability rewrites), native code.
* ``reference``: no optimization, the NumPy interpreter (the test oracle).

* ``mlir``: the ``fast`` pipeline without BLAS folding, lowered by the real ``mlir-opt`` (:mod:`symcomp.mlir`).

Further modes (``debug``, ``nanguard``, also known by Theano's names ``DebugMode``,
``DEBUG_MODE`` and ``NanGuardMode``) register themselves with :func:`register_mode` when first
asked for; plugin packages add modes through the entry point group ``symcomp.backends``
(:mod:`symcomp.plugins`).

Theano's ``Mode(linker=..., optimizer=...)`` is :class:`TheanoMode` (``symcomp.Mode``), and
every mode has Theano's ``including(*tags)`` / ``excluding(*tags)``, which map Theano's
optimizer names and tags onto symcomp's passes (:data:`OPTIMIZERS`, :data:`TAGS`).
"""

from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass
from typing import Callable, Optional

from symcomp import plugins
from symcomp.compile.pass_cache import PassCache
from symcomp.passes.manager import PassManager, format_pipeline, parse_pipeline, replay_stages

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

    # -- Theano's Mode.including / excluding --------------------------------------------------------
    def including(self, *tags: str) -> "Mode":
        """This mode with the passes of Theano's optimizer ``tags`` added (Theano's ``Mode.including``).

        Each tag is a Theano tag or optimizer name (``'fusion'``, ``'inplace'``, ``'fast_run'``,
        ``'unsafe'``... see :data:`TAGS`) or a symcomp pass name (``'fuse'``); a pass already in
        the pipeline is not added again, a new one goes where the ``fast`` pipeline runs it.

        Raises:
            ValueError: for an unknown tag, listing the known ones.
        """
        passes = parse_pipeline(self.pipeline)
        for tag in tags:
            if tag == "unsafe":
                passes = [dataclasses.replace(p, fast_math=True) if p.name == "canonicalize" else p for p in passes]
                continue
            for name in _tag_passes(tag):
                if not any(p.name == name for p in passes):
                    passes = _insert(passes, parse_pipeline(name)[0])
        return self._derived("+".join(tags), passes)

    def excluding(self, *tags: str) -> "Mode":
        """This mode without the passes of Theano's optimizer ``tags`` (Theano's ``Mode.excluding``).

        Raises:
            ValueError: for an unknown tag, listing the known ones.
        """
        drop: set = set()
        passes = parse_pipeline(self.pipeline)
        for tag in tags:
            if tag == "unsafe":
                passes = [dataclasses.replace(p, fast_math=False) if p.name == "canonicalize" else p for p in passes]
                continue
            drop.update(_tag_passes(tag))
        return self._derived("-".join(("",) + tags), [p for p in passes if p.name not in drop])

    def _derived(self, suffix: str, passes: list) -> "Mode":
        new = copy.copy(self)
        new.name = f"{self.name}{'+' if suffix and not suffix.startswith('-') else ''}{suffix}"
        new.pipeline = format_pipeline(passes)
        if dataclasses.is_dataclass(new.backend) and hasattr(new.backend, "pipeline"):
            new.backend = dataclasses.replace(new.backend, pipeline=new.pipeline)  # the debug mode replays it
        return new


FAST_ORDER = FAST_PIPELINE.split(",")
"""Where a pass added by ``including`` goes: its place in the ``fast`` pipeline."""

OPTIMIZERS = {
    "fast_run": FAST_PIPELINE, "o4": FAST_PIPELINE, "fast_run_stable": FAST_PIPELINE,
    "fast_compile": FAST_COMPILE_PIPELINE, "o1": FAST_COMPILE_PIPELINE,
    "o2": "canonicalize,constant-fold,stabilize,cse,fuse,dce",
    "o3": ",".join(p for p in FAST_ORDER if p != "inplace"),
    "unsafe": ",".join("canonicalize{fast-math=true}" if p == "canonicalize" else p
                       for p in FAST_ORDER if p != "inplace"),
    "stabilize": "canonicalize,constant-fold,cse,stabilize,dce",
    "merge": "cse,dce",
    "None": "",
}
"""Theano's predefined optimizers (``theano/compile/mode.py: predefined_optimizers``) as pipelines:
``fast_run`` (``o4``) is the ``fast`` pipeline, ``fast_compile`` (``o1``) the ``fast_compile`` one,
``o2`` is fast_compile with fusion, ``o3`` fast_run without in-place, ``unsafe`` o3 with the
fast-math rules, ``stabilize`` the passes up to the stability rewrites, ``merge`` only merging
(CSE), ``None`` (or None) no pass."""

TAGS = {
    "fusion": ("fuse",), "local_elemwise_fusion": ("fuse",), "elemwise_fusion": ("fuse",),
    "composite_elemwise_fusion": ("fuse",), "FusionOptimizer": ("fuse",),
    "inplace": ("inplace",), "inplace_opt": ("inplace",), "inplace_elemwise_optimizer": ("inplace",),
    "insert_inplace_optimizer": ("inplace",),
    "canonicalize": ("canonicalize",), "stabilize": ("stabilize",),
    "merge": ("cse",), "MergeOptimizer": ("cse",),
    "constant_folding": ("constant-fold",), "topo_constant_folding": ("constant-fold",),
    "BlasOpt": ("cpu-gemm-fold",), "blas": ("cpu-gemm-fold",), "gemm": ("cpu-gemm-fold",),
    "local_gemm_to_gemv": ("cpu-gemm-fold",),
    "fast_run": tuple(dict.fromkeys(FAST_ORDER)), "fast_compile": tuple(FAST_COMPILE_PIPELINE.split(",")),
}
"""Theano's optimizer tags (``Mode.including``/``excluding``) and the symcomp passes they name;
``'unsafe'`` switches canonicalize's fast-math rules on or off; a symcomp pass name is a tag too."""


def _tag_passes(tag: str) -> tuple:
    if tag in TAGS:
        return TAGS[tag]
    from symcomp.passes.manager import registered_passes

    if tag in registered_passes():
        return (tag,)
    known = sorted(set(TAGS) | {"unsafe"} | set(registered_passes()))
    raise ValueError(f"unknown optimizer tag {tag!r} (known: {', '.join(known)})")


def _insert(passes: list, new) -> list:
    """``passes`` with ``new`` inserted before the first pass the ``fast`` pipeline runs after it."""
    rank = {name: i for i, name in reversed(list(enumerate(FAST_ORDER)))}
    mine = rank.get(new.name, len(FAST_ORDER))
    for i, p in enumerate(passes):
        if rank.get(p.name, -1) > mine:
            return passes[:i] + [new] + passes[i:]
    return passes + [new]


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
    "DebugMode": "symcomp.compile.debug",
    "DEBUG_MODE": "symcomp.compile.debug",
    "nanguard": "symcomp.compile.nanguard",
    "NanGuardMode": "symcomp.compile.nanguard",
}

LINKERS = {
    "cvm": _cpu, "vm": _cpu, "c": _cpu, "c|py": _cpu, "cvm_nogc": _cpu, "vm_nogc": _cpu, "c|py_nogc": _cpu,
    "cpu": _cpu, "py": _reference, "reference": _reference, "mlir": _mlir,
}
"""Theano's linkers (``predefined_linkers``) as symcomp backends: the C and VM linkers are the
native backend (CPU, or CUDA with ``device='cuda'``), ``py`` (Python implementations) the NumPy
reference interpreter; symcomp's own names ``cpu``, ``reference``, ``mlir`` work too."""


class TheanoMode(Mode):
    """Theano's ``Mode(linker=None, optimizer='default')`` (``symcomp.Mode``, ``symcomp.compile.Mode``).

    Args:
        linker: a Theano linker name (:data:`LINKERS`; default ``'cvm'``, native code).
        optimizer: a Theano optimizer name (:data:`OPTIMIZERS`; ``'default'`` is ``'fast_run'``,
            None is ``'None'``: no pass) or a symcomp pipeline string (``'canonicalize,cse'``).

    Pass it as ``symcomp.function(..., mode=Mode(...))``; ``including``/``excluding`` give new
    modes.

    Attributes:
        linker, optimizer: the names given (``provided_linker``, ``provided_optimizer`` too).
        pipeline: the symcomp pass pipeline it runs.

    Raises:
        ValueError: for an unknown linker or optimizer, listing the known ones.
    """

    def __init__(self, linker: Optional[str] = None, optimizer: Optional[str] = "default"):
        linker = "cvm" if linker is None else linker
        optimizer = "fast_run" if optimizer == "default" else optimizer
        if linker not in LINKERS:
            raise ValueError(f"unknown linker {linker!r} (known: {', '.join(sorted(LINKERS))})")
        if optimizer is None or optimizer in OPTIMIZERS:
            pipeline = OPTIMIZERS["None" if optimizer is None else optimizer]
        else:
            try:
                pipeline = format_pipeline(parse_pipeline(optimizer))
            except Exception:
                raise ValueError(f"unknown optimizer {optimizer!r} (known: {', '.join(sorted(OPTIMIZERS))}, "
                                 "or a symcomp pass pipeline such as 'canonicalize,cse,dce')") from None
        native = LINKERS[linker] is _cpu
        super().__init__(f"Mode(linker={linker}, optimizer={optimizer})", pipeline, LINKERS[linker],
                         warm_up=_cpu_warm_up if native else None)
        self.linker = self.provided_linker = linker
        self.optimizer = self.provided_optimizer = optimizer

    def __str__(self) -> str:
        return f"{self.name} [pipeline: {self.pipeline or '(none)'}]"


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
