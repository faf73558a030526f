"""The on-disk cache of a pass pipeline's output.

The optimizer's output is a pure function of the traced IR text, the pipeline and symcomp's
sources (part of the cache fingerprint, :func:`symcomp.backends.cpu.cache.objects.fingerprint`), so a
process compiling a function another process compiled before parses the stored optimized IR
instead of running the passes.  Entries live in the CPU backend's cache directory (suffix
``.scp``), with its atomic writes and damage detection.

Two things the IR text does not carry are stored beside it:

* **locations**: two programs tracing to the same text share an entry, so the entry records, per
  optimized op (pre-order), the index of the traced op whose location it carries (passes give a
  rewrite's ops the location of the op they replace); a hit takes the locations from the current
  traced module, so errors point at this program's lines;
* **stage names**: ``f.dump(stage)`` on a hit parses the traced text again and replays the
  pipeline on request, so a hit imports and runs no pass.
"""

from __future__ import annotations

import functools
from typing import Optional

from symcomp.ir.errors import ParseError, VerifyError
from symcomp.passes.manager import parse_pipeline, replay_stages, stage_names


def _cache():
    from symcomp.backends.cpu.cache import objects

    return objects


class PassCache:
    """The cache entry of one pipeline run on one traced module.

    Captures the traced module's text (the key) and locations on creation, before any pass
    changes the module; does nothing with the cache off or an empty pipeline.

    Args:
        module: the traced module.
        pipeline: the pipeline text.
    """

    def __init__(self, module, pipeline: str):
        self.pipeline = pipeline
        self.traced_text = str(module) if bool(pipeline.strip()) and _cache().enabled() else None
        self.traced_locs: list = []
        self.loc_index: dict = {}  # {id(location): index of the first traced op carrying it}
        if self.traced_text is not None:
            for i, op in enumerate(module.walk()):
                self.traced_locs.append(op.loc)
                if op.loc is not None:
                    self.loc_index.setdefault(id(op.loc), i)

    def _key(self) -> str:
        return _cache().key_for(f"passes:{self.pipeline}\n{self.traced_text}")

    def load(self, module) -> Optional[dict]:
        """Replace ``module``'s functions by the cached pipeline output.

        Returns:
            The lazy stage dumps ({stage: callable returning IR text}, as
            :func:`~symcomp.passes.manager.replay_stages` gives) on a hit; None (``module``
            unchanged) with no entry, or an entry that does not fit.
        """
        if self.traced_text is None:
            return None
        objects = _cache()
        entry = objects.load(self._key(), objects.OPTIMIZED_IR)
        names = entry.meta.get("stages") if entry is not None else None
        locs = entry.meta.get("locs") if entry is not None else None
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names) and isinstance(locs, list)):
            return None
        from symcomp.ir import parse

        try:
            optimized = parse(entry.obj.decode(), filename="<symcomp pass cache>")
        except (UnicodeDecodeError, ParseError, VerifyError):  # not this symcomp's IR: optimize again
            return None
        ops = list(optimized.walk())
        if len(locs) != len(ops):
            return None
        n = len(self.traced_locs)
        for op, i in zip(ops, locs):
            op.loc = self.traced_locs[i] if isinstance(i, int) and 0 <= i < n else None
        for f in list(module.body.ops):
            f.detach()
        for f in list(optimized.body.ops):
            module.body.append(f.detach())
        return _lazy_stages(self.traced_text, self.pipeline, names)

    def store(self, module, passes) -> None:
        """Write ``module``, the output of ``passes``, as the entry (a failure to write only warns)."""
        if self.traced_text is None:
            return
        objects = _cache()
        meta = {"locs": [self.loc_index.get(id(op.loc)) for op in module.walk()], "stages": stage_names(passes)}
        objects.store(self._key(), objects.Entry(str(module).encode(), meta), objects.OPTIMIZED_IR)


def _lazy_stages(traced_text: str, pipeline: str, names: list) -> dict:
    """Stage dumps of a cache hit: on the first request the traced text is parsed again and the
    pipeline replayed (:func:`~symcomp.passes.manager.replay_stages`)."""

    @functools.cache
    def replayed() -> dict:
        from symcomp.ir import parse

        return replay_stages(parse(traced_text, filename="<traced>"), parse_pipeline(pipeline))

    return {n: (lambda n=n: replayed()[n]()) for n in ["traced", *names, "optimized"]}
