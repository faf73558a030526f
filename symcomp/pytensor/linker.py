"""``SymcompLinker``: PyTensor's linker interface (``pytensor.link.basic.JITLinker``) over symcomp."""

from __future__ import annotations

from typing import Optional

from pytensor.link.basic import JITLinker


class SymcompLinker(JITLinker):
    """A PyTensor linker that compiles the ``FunctionGraph`` with symcomp.

    PyTensor's rewrites run first (``fast_run`` without its C-only, BLAS and fusion rewrites:
    symcomp fuses, folds GEMMs and decides in-place updates itself); the rewritten graph is
    converted Op by Op (:mod:`symcomp.pytensor.dispatch`) into symcomp functions, and the
    nodes symcomp cannot convert run on PyTensor's default implementation
    (:mod:`symcomp.pytensor.partition`).

    Args:
        mode: symcomp's compilation mode (default ``symcomp.config.mode``: ``"fast"``).
        warn: warn when part of a graph runs on PyTensor.
        allow_gc, schedule: as for every PyTensor linker.
    """

    required_rewrites = ("minimum_compile",)
    incompatible_rewrites = (
        "cxx_only",
        "BlasOpt",
        "local_careduce_fusion",
        "fusion",
        "inplace",
        "scan_save_mem_prealloc",
    )

    def __init__(self, allow_gc: Optional[bool] = None, schedule=None, mode: Optional[str] = None,
                 warn: bool = False):
        super().__init__(allow_gc=allow_gc, schedule=schedule)
        self.symcomp_mode = mode
        self.warn = warn

    def accept(self, fgraph, no_recycling=None, profile=None):
        if self.fgraph is not None and self.fgraph is not fgraph:
            return type(self)(allow_gc=self.allow_gc, schedule=self.schedule, mode=self.symcomp_mode,
                              warn=self.warn).accept(fgraph, no_recycling, profile)
        return super().accept(fgraph, no_recycling, profile)

    def fgraph_convert(self, fgraph, order, input_storage, output_storage, storage_map, **kwargs):
        from symcomp.pytensor.partition import SymcompProgram

        return SymcompProgram(fgraph, mode=self.symcomp_mode, warn=self.warn)

    def jit_compile(self, fn):
        return fn

    def create_thunk_inputs(self, storage_map):
        return [storage_map[v] for v in self.fgraph.inputs]

    def __repr__(self) -> str:
        return f"SymcompLinker(mode={self.symcomp_mode!r})"
