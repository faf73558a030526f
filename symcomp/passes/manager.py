"""Passes, their registry, pipelines and the pass manager.

A pass is a frozen dataclass whose fields are its options (xDSL's
``ModulePass``, MLIR's pass options); it is registered once by name with a
one-line description.  A pipeline is a list of passes or a string in MLIR's
syntax: ``"canonicalize,cse,fuse{max-ops=64}"``.

The :class:`PassManager` runs a pipeline with instrumentation: verification
after each pass (on by default), IR printing before/after chosen passes, and
per-pass timing.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from typing import Callable, ClassVar, Optional, Sequence, Union

from symcomp.ir.core import Operation

PASSES: dict[str, type["ModulePass"]] = {}
"""Registry: pass name -> pass class."""


class PipelineError(ValueError):
    """A malformed pipeline string, an unknown pass or a bad option."""


@dataclass(frozen=True)
class ModulePass:
    """Base of passes: subclasses set ``name`` and ``description`` and implement ``apply``."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def apply(self, module: Operation) -> None:
        raise NotImplementedError(f"pass {self.name} does not implement apply()")

    def pipeline_text(self) -> str:
        """This pass with its non-default options, as a pipeline element."""
        opts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v != f.default:
                opts.append(f"{f.name.replace('_', '-')}={_format_option(v)}")
        return self.name + ("{" + " ".join(opts) + "}" if opts else "")


def register_pass(cls: type[ModulePass]) -> type[ModulePass]:
    """Class decorator adding a pass to :data:`PASSES`.

    Raises:
        ValueError: if the name is missing or taken.
    """
    if not cls.name or not cls.description:
        raise ValueError(f"pass {cls.__name__} needs a name and a one-line description")
    if cls.name in PASSES and PASSES[cls.name] is not cls:
        raise ValueError(f"pass {cls.name} is registered twice")
    PASSES[cls.name] = cls
    return cls


def _format_option(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _parse_option(cls: type[ModulePass], key: str, text: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    fname = key.replace("-", "_")
    if fname not in fields:
        known = ", ".join(k.replace("_", "-") for k in fields) or "none"
        raise PipelineError(f"pass {cls.name} has no option {key!r} (options: {known})")
    default = fields[fname].default
    try:
        if isinstance(default, bool):
            if text not in ("true", "false", "1", "0"):
                raise ValueError(text)
            return fname, text in ("true", "1")
        if isinstance(default, int):
            return fname, int(text)
        if isinstance(default, float):
            return fname, float(text)
        return fname, text
    except ValueError:
        raise PipelineError(f"pass {cls.name}: option {key}={text!r} is not a valid "
                            f"{type(default).__name__}") from None


_ELEMENT = re.compile(r"\s*([A-Za-z0-9_\-]+)\s*(\{([^{}]*)\})?\s*(,|$)")


def parse_pipeline(spec: Union[str, Sequence]) -> list[ModulePass]:
    """Passes from a pipeline string or a list of names / pass instances.

    Raises:
        PipelineError: for unknown passes, options or malformed text.
    """
    if not isinstance(spec, str):
        out = []
        for item in spec:
            out.extend(parse_pipeline(item) if isinstance(item, str) else [item])
        return out
    _load_builtin_passes()
    passes, pos = [], 0
    text = spec.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module("):-1]
    while pos < len(text):
        m = _ELEMENT.match(text, pos)
        if not m or m.end() == pos:
            raise PipelineError(f"malformed pipeline at column {pos + 1}: {text[pos:pos + 30]!r}")
        name, opts = m.group(1), m.group(3)
        cls = PASSES.get(name)
        if cls is None:
            raise PipelineError(f"unknown pass {name!r} (known: {', '.join(sorted(PASSES))})")
        kwargs = {}
        for item in (opts or "").replace(",", " ").split():
            key, eq, val = item.partition("=")
            if not eq:
                raise PipelineError(f"pass {name}: option {item!r} must be written key=value")
            k, v = _parse_option(cls, key, val)
            kwargs[k] = v
        passes.append(cls(**kwargs))
        pos = m.end()
    return passes


def _load_builtin_passes() -> None:
    import symcomp.passes  # noqa: F401  (registers the built-in passes)


@dataclass
class PassManager:
    """Runs passes in order, with instrumentation.

    Attributes:
        passes: the pipeline.
        verify_each: run the verifier after every pass.
        print_before / print_after: pass names (or 'all') whose IR is printed to ``printer``.
        timing: collect per-pass seconds in ``timings``.
        snapshot: called as ``snapshot(pass_name, module)`` after each pass (for ``f.dump(stage)``).
    """

    passes: list
    verify_each: bool = True
    print_before: tuple = ()
    print_after: tuple = ()
    timing: bool = False
    printer: Callable[[str], None] = print
    snapshot: Optional[Callable[[str, Operation], None]] = None
    timings: list = dataclasses.field(default_factory=list)

    def _wants(self, names, p) -> bool:
        return "all" in names or p.name in names

    def run(self, module: Operation) -> Operation:
        """Apply every pass to ``module`` in place and return it.

        Raises:
            VerifyError: if verification fails after a pass (the message names the pass).
        """
        from symcomp.ir.errors import VerifyError
        from symcomp.ir.verifier import verify

        for p in self.passes:
            if self._wants(self.print_before, p):
                self.printer(f"// -----// IR Dump Before {p.pipeline_text()} //----- //\n{module}")
            t0 = time.perf_counter()
            p.apply(module)
            dt = time.perf_counter() - t0
            self.timings.append((p.pipeline_text(), dt))
            if self.verify_each:
                try:
                    verify(module)
                except VerifyError as exc:
                    raise VerifyError(f"after pass {p.pipeline_text()}: {exc.message}", exc.loc, exc.op) from None
            if self._wants(self.print_after, p):
                self.printer(f"// -----// IR Dump After {p.pipeline_text()} //----- //\n{module}")
            if self.snapshot is not None:
                self.snapshot(p.name, module)
        return module

    def timing_report(self) -> str:
        """A table of seconds per pass, like ``mlir-opt -mlir-timing``."""
        total = sum(t for _, t in self.timings) or 1e-12
        lines = ["===" + "-" * 60 + "===", "  ... Pass execution timing report ...", "===" + "-" * 60 + "===",
                 f"  Total Execution Time: {total:.4f} seconds", "",
                 "  ----Wall Time----  ----Name----"]
        for name, t in self.timings:
            lines.append(f"  {t:.4f} ({100 * t / total:5.1f}%)  {name}")
        lines.append(f"  {total:.4f} (100.0%)  Total")
        return "\n".join(lines)
