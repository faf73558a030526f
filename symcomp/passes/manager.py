"""Passes, their registry, pipelines and the pass manager.

A pass is a frozen dataclass whose fields are its options (xDSL's
``ModulePass``, MLIR's pass options); it is registered once by name with a
one-line description::

    @register_pass
    @dataclass(frozen=True)
    class Fuse(ModulePass):
        name = "fuse"
        description = "Merge elementwise operations into sc.fused loop nests"
        max_ops: int = field(default=64, metadata={"help": "largest fused body"})

A pipeline is a list of passes (or names) or a string in MLIR's textual
syntax: ``"canonicalize,cse,fuse{max-ops=64}"`` (option names are the field
names with ``-`` for ``_``; ``builtin.module(...)`` around the list is
accepted).

The :class:`PassManager` runs a pipeline with MLIR's instrumentation:
verification after each pass (on by default), IR dumps before/after all or
named passes (``// -----// IR Dump After cse //----- //``), and per-pass wall
times collected in a :class:`Timing` report (``-mlir-timing``'s table).
"""

from __future__ import annotations

import dataclasses
import re
import time
import typing
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Callable, ClassVar, Optional, Sequence, Union

from symcomp import plugins
from symcomp.ir.core import Operation
from symcomp.ir.gcpause import gc_paused

PASSES: dict[str, type["ModulePass"]] = {}
"""Registry: pass name -> pass class."""

_OPTION_TYPES = (bool, int, float, str)


class PipelineError(ValueError):
    """A malformed pipeline string, an unknown pass or a bad option."""


@dataclass(frozen=True)
class PassOption:
    """One option of a pass, as written in a pipeline (``max-ops=64``).

    Attributes:
        name: the option's pipeline name (field name with ``-`` for ``_``).
        field: the dataclass field name.
        type: bool, int, float or str.
        default: the default value.
        help: a one-line description (the field's ``metadata["help"]``, or '').
    """

    name: str
    field: str
    type: type
    default: object
    help: str


@dataclass(frozen=True)
class ModulePass:
    """Base of passes: subclasses set ``name`` and ``description`` and implement ``apply``.

    Options are dataclass fields with defaults, of type bool, int, float or str.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def apply(self, module: Operation) -> None:
        """Transform ``module`` (a ``builtin.module``) in place."""
        raise NotImplementedError(f"pass {self.name} does not implement apply()")

    @classmethod
    def options(cls) -> list[PassOption]:
        """The pass's options, in declaration order."""
        try:
            hints = typing.get_type_hints(cls)
        except (NameError, TypeError):  # unresolvable annotations: fall back to the defaults' types
            hints = {}
        out = []
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            out.append(PassOption(f.name.replace("_", "-"), f.name, hints.get(f.name, type(default)), default,
                                  f.metadata.get("help", "")))
        return out

    def pipeline_text(self) -> str:
        """This pass with its non-default options, as a pipeline element (``fuse{max-ops=32}``)."""
        opts = []
        for o in self.options():
            v = getattr(self, o.field)
            if v != o.default:
                opts.append(f"{o.name}={_format_option(v)}")
        return self.name + ("{" + " ".join(opts) + "}" if opts else "")


def register_pass(cls: type[ModulePass]) -> type[ModulePass]:
    """Class decorator adding a pass to :data:`PASSES`.

    Raises:
        ValueError: if the name or description is missing, the name is taken or
            not a valid pipeline name, or an option has no default.
    """
    if not cls.name or not cls.description:
        raise ValueError(f"pass {cls.__name__} needs a name and a one-line description")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.\-]*", cls.name):
        raise ValueError(f"pass name {cls.name!r} must be letters, digits, '_', '.' and '-'")
    if cls.name in PASSES and PASSES[cls.name] is not cls:
        raise ValueError(f"pass {cls.name} is registered twice")
    for f in dataclasses.fields(cls):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"pass {cls.name}: option {f.name} needs a default")
    PASSES[cls.name] = cls
    return cls


def registered_passes() -> dict[str, type[ModulePass]]:
    """Every registered pass (the built-in ones and the plugins' are loaded first), sorted by name.

    A plugin that fails to load is skipped with a RuntimeWarning naming its entry point."""
    _load_builtin_passes()
    for ep in plugins.entry_points(plugins.PASS_GROUP):
        if ep.name in PASSES:
            continue
        try:
            _register_plugin_pass(ep)
        except plugins.PluginError as exc:
            warnings.warn(str(exc), RuntimeWarning, stacklevel=2)
    return dict(sorted(PASSES.items()))


def _register_plugin_pass(ep) -> type[ModulePass]:
    """Load the pass class of entry point ``ep`` (group ``symcomp.passes``) and register it.

    Raises:
        PluginError: if it fails to load, is not a ModulePass subclass, or its name is not the
            entry point's.
    """
    def check(obj) -> Optional[str]:
        if not (isinstance(obj, type) and issubclass(obj, ModulePass)):
            return f"gives {obj!r:.60}, not a ModulePass subclass"
        if obj.name != ep.name:
            return f"gives pass {obj.name!r}; the entry point's name must be the pass's name"
        return None

    cls = plugins.load(ep, "a pass", check)
    if PASSES.get(ep.name) is not cls:
        try:
            register_pass(cls)
        except ValueError as exc:
            raise plugins.PluginError(f"{plugins.describe(ep)}: {exc}") from None
    return cls


def _format_option(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _parse_option(cls: type[ModulePass], key: str, text: str):
    opts = {o.name: o for o in cls.options()}
    opt = opts.get(key)
    if opt is None:
        known = ", ".join(opts) or "none"
        raise PipelineError(f"pass {cls.name} has no option {key!r} (options: {known})")
    if opt.type not in _OPTION_TYPES:
        raise PipelineError(f"pass {cls.name}: option {key} of type {opt.type} cannot be set in a pipeline")
    try:
        if opt.type is bool:
            if text not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return opt.field, text in ("true", "1")
        return opt.field, opt.type(text)
    except ValueError:
        raise PipelineError(f"pass {cls.name}: option {key}={text!r} is not a valid {opt.type.__name__}") from None


_TOKEN = re.compile(r"\s*(?:([A-Za-z0-9_.\-]+)|(\{[^{}]*\})|(,))")


def parse_pipeline(spec: Union[str, Sequence]) -> list[ModulePass]:
    """Passes from a pipeline string, or a list of pass names, pipeline strings and pass instances.

    Raises:
        PipelineError: for unknown passes or options, bad option values, or
            malformed text (the message shows the text with a caret).
    """
    if not isinstance(spec, str):
        out = []
        for item in spec:
            if isinstance(item, str):
                out.extend(parse_pipeline(item))
            elif isinstance(item, ModulePass):
                out.append(item)
            else:
                raise PipelineError(f"a pipeline holds pass names or ModulePass instances, got {item!r:.60}")
        return out
    _load_builtin_passes()
    text = spec.strip()
    m = re.match(r"builtin\.module\s*\(", text)
    if m:
        if not text.endswith(")"):
            raise _pipeline_error(text, len(text), f"the '(' at column {m.end()} is never closed (expected ')')")
        text = text[m.end():-1]
    passes: list[ModulePass] = []
    pos, expect_name = 0, True
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            if expect_name and passes:
                raise _pipeline_error(text, pos, "expected a pass name after ','")
            return passes
        m = _TOKEN.match(text, pos)
        name = m.group(1) if m else None
        if m is None:
            _check_brackets(text, pos)
        if expect_name:
            if name is None:
                raise _pipeline_error(text, pos, "expected a pass name")
            cls = PASSES.get(name) or _plugin_pass(name)
            if cls is None:
                raise _pipeline_error(text, pos, f"unknown pass {name!r} (known: {', '.join(sorted(PASSES))})")
            pos = m.end()
            kwargs = {}
            m2 = _TOKEN.match(text, pos)
            if m2 and m2.group(2):
                for item in m2.group(2)[1:-1].replace(",", " ").split():
                    key, eq, val = item.partition("=")
                    if not eq:
                        raise PipelineError(f"pass {name}: option {item!r} must be written key=value")
                    field, value = _parse_option(cls, key, val)
                    kwargs[field] = value
                pos = m2.end()
            passes.append(cls(**kwargs))
            expect_name = False
        else:
            if not (m and m.group(3)):
                raise _pipeline_error(text, pos, "expected ',' between passes")
            pos = m.end()
            expect_name = True


def _plugin_pass(name: str):
    """The pass a plugin provides under ``name`` (entry point group ``symcomp.passes``), or None."""
    ep = plugins.find(plugins.PASS_GROUP, name)
    try:
        return None if ep is None else _register_plugin_pass(ep)
    except plugins.PluginError as exc:
        raise PipelineError(str(exc)) from exc


def _check_brackets(text: str, pos: int) -> None:
    """Name a bracket that does not belong at ``pos`` (the tokens of a pipeline end there).

    Raises:
        PipelineError: for an unclosed '{', a '}' without its '{', or a '(' or ')' (only
            ``builtin.module(...)`` may wrap a pipeline).
    """
    ch = text[pos]
    if ch == "{":
        raise _pipeline_error(text, pos, "'{' is never closed (options are written NAME{key=value ...})")
    if ch == "}":
        raise _pipeline_error(text, pos, "'}' closes no '{'")
    if ch in "()":
        raise _pipeline_error(text, pos, f"unexpected {ch!r} (only builtin.module(...) may wrap a pipeline)")


def _pipeline_error(text: str, pos: int, message: str) -> PipelineError:
    return PipelineError(f"{message} at column {pos + 1} of the pipeline:\n    {text}\n    {' ' * pos}^")


def format_pipeline(passes: Sequence[ModulePass]) -> str:
    """The pipeline string of ``passes`` (``parse_pipeline`` reads it back)."""
    return ",".join(p.pipeline_text() for p in passes)


def stage_names(passes: Sequence[ModulePass], with_options: bool = False) -> list[str]:
    """A stage name per pass: its name (or pipeline text), with ``#2``, ``#3``... for later runs of it."""
    seen: dict[str, int] = {}
    out = []
    for p in passes:
        base = p.pipeline_text() if with_options else p.name
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return out


def _load_builtin_passes() -> None:
    from symcomp.passes import (  # noqa: F401  (registration)
        canonicalize, constant_fold, cse, dce, decompose, fusion, gemm_fold, inplace, loops, sink, stabilize,
    )


class Timing:
    """Wall times of named steps, reported as a table in the style of ``mlir-opt -mlir-timing``.

    Steps with the same name are added together (the verifier runs after each
    pass, and is one row ``Verifier``); rows keep the order in which their names
    first appear.
    """

    def __init__(self):
        self.rows: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        self.rows[name] = self.rows.get(name, 0.0) + seconds

    def report(self) -> str:
        """The table: total, then seconds and share of the total per row."""
        total = sum(self.rows.values())
        share = (lambda t: 100.0 * t / total) if total > 0 else (lambda t: 0.0)
        bar = "===" + "-" * 73 + "==="
        lines = [bar, " " * 25 + "... Execution time report ...", bar,
                 f"  Total Execution Time: {total:.4f} seconds", "", "  ----Wall Time----  ----Name----"]
        for name, t in self.rows.items():
            lines.append(f"  {t:8.4f} ({share(t):5.1f}%)  {name}")
        lines.append(f"  {total:8.4f} (100.0%)  Total")
        return "\n".join(lines) + "\n"


def _banner(when: str, p: ModulePass) -> str:
    return f"// -----// IR Dump {when} {p.pipeline_text()} //----- //\n"


@dataclass
class PassManager:
    """Runs passes in order, with instrumentation.

    Attributes:
        passes: the pipeline (as accepted by :func:`parse_pipeline`).
        verify_each: run the verifier after every pass.
        print_before / print_after: pass names (or ``"all"``) whose IR is
            printed before / after they run, through ``printer``.
        printer: receives each IR dump (banner line and module text).
        timing: a :class:`Timing` collecting each pass's wall time and the
            verifier's (row ``Verifier``); a fresh one by default.
    """

    passes: list
    verify_each: bool = True
    print_before: tuple = ()
    print_after: tuple = ()
    printer: Callable[[str], None] = print
    timing: Timing = dataclasses.field(default_factory=Timing)
    failed: Optional[ModulePass] = dataclasses.field(default=None, init=False)

    def __post_init__(self):
        if not isinstance(self.timing, Timing):
            raise TypeError(f"PassManager(timing=...) takes a Timing (times are always collected), "
                            f"got {self.timing!r}")
        self.passes = parse_pipeline(self.passes)
        names = (*self.print_before, *self.print_after)
        known = set(registered_passes()) | {"all"} if names else set()  # listing loads every plugin: only if needed
        for name in names:
            if name not in known:
                raise PipelineError(f"cannot print IR around unknown pass {name!r}")

    @property
    def timings(self) -> list[tuple[str, float]]:
        """(pass, seconds) per pass row of :attr:`timing`."""
        return [(k, v) for k, v in self.timing.rows.items() if k != "Verifier"]

    def _wants(self, names, p) -> bool:
        return "all" in names or p.name in names

    def run(self, module: Operation) -> Operation:
        """Apply every pass to ``module`` in place and return it.

        Raises:
            VerifyError: if verification fails after a pass (the message names the pass).
            Exception: whatever a pass raises, with a note naming the pass;
                :attr:`failed` is set to that pass.
        """
        from symcomp.ir.errors import VerifyError
        from symcomp.ir.verifier import verify

        self.failed = None
        for p, row in zip(self.passes, stage_names(self.passes, with_options=True)):
            if self._wants(self.print_before, p):
                self.printer(_banner("Before", p) + str(module))
            t0 = time.perf_counter()
            try:
                p.apply(module)
            except Exception as exc:
                self.failed = p
                exc.add_note(f"while running pass {p.pipeline_text()}")
                raise
            self.timing.add(row, time.perf_counter() - t0)
            if self.verify_each:
                t0 = time.perf_counter()
                try:
                    verify(module)
                except VerifyError as exc:
                    self.failed = p
                    raise VerifyError(f"after pass {p.pipeline_text()}: {exc.message}", exc.loc, exc.op) from None
                self.timing.add("Verifier", time.perf_counter() - t0)
            if self._wants(self.print_after, p):
                self.printer(_banner("After", p) + str(module))
        return module

    def timing_report(self) -> str:
        """The :class:`Timing` table of this manager's runs."""
        return self.timing.report()


def replay_stages(traced: Operation, passes: Sequence[ModulePass]) -> dict[str, Callable[[], str]]:
    """Lazy IR dumps of each stage of a pipeline, printed on demand.

    Compiling then costs one clone of the traced module instead of printing
    the IR after every pass: asking for a stage clones ``traced`` again and
    re-runs the passes up to that stage (passes are deterministic).

    Args:
        traced: the module before any pass; it is cloned, never changed.
        passes: the pipeline that was run.

    Returns:
        {stage: callable returning the IR text}, stages being ``"traced"``, one
        per pass (see :func:`stage_names`) and ``"optimized"``.
    """
    with gc_paused():
        pristine = traced.clone({})

    def after(k: int) -> Callable[[], str]:
        @cache
        def text() -> str:
            with gc_paused():
                m = pristine.clone({})
            for p in passes[:k]:
                p.apply(m)
            return str(m)

        return text

    stages = {"traced": after(0)}
    for k, name in enumerate(stage_names(passes), start=1):
        stages[name] = after(k)
    stages["optimized"] = stages[stage_names(passes)[-1]] if passes else stages["traced"]
    return stages
