"""symcomp as a ``torch.compile`` backend: ``torch.compile(model, backend="symcomp")``.

TorchDynamo captures the model's Python into FX graphs; AOTAutograd turns
them into ATen graphs (a forward and a backward graph when gradients are
needed, an inference graph under ``torch.no_grad()``) and hands each to this
backend, which compiles the parts symcomp supports (matrix products,
elementwise arithmetic and activations, reductions, softmax and their
gradients: :mod:`symcomp.torch_backend.fx_nodes`) into symcomp functions and
leaves the rest to PyTorch (:mod:`symcomp.torch_backend.partition`).
Tensors cross into symcomp through DLPack without copies; symcomp's outputs
become tensors with ``torch.from_numpy``.

The name ``"symcomp"`` is registered through the ``torch_dynamo_backends``
entry point of symcomp's package metadata, so ``torch.compile`` finds it
without an import.  :class:`SymcompBackend` instances take options and keep
a report of what each graph became::

    backend = SymcompBackend(mode="fast")
    model = torch.compile(model, backend=backend)
    ...
    backend.reports[-1].compiled   # ATen ops symcomp computed

Sizes are static: a graph is compiled for the shapes it was traced with
(PyTorch recompiles for new shapes; graphs with symbolic sizes run in PyTorch).
Tensors must be on the CPU.
"""

from __future__ import annotations

from collections import deque
from typing import Optional

__all__ = ["SymcompBackend", "symcomp_backend", "register"]


class SymcompBackend:
    """A ``torch.compile`` backend compiling ATen graphs with symcomp.

    Args:
        mode: symcomp's compilation mode (default ``symcomp.config.mode``).
        warn: warn when part of a graph cannot be converted and runs in PyTorch.

    Attributes:
        reports: a :class:`~symcomp.torch_backend.partition.GraphReport` per graph
            compiled (the latest 256).
    """

    def __init__(self, mode: Optional[str] = None, warn: bool = True):
        self.mode = mode
        self.warn = warn
        self.reports: deque = deque(maxlen=256)

    def _compiler(self, kind: str):
        def compile_graph(gm, example_inputs):
            from functorch.compile import make_boxed_func

            from symcomp.torch_backend.partition import partition_and_compile

            fused, report = partition_and_compile(gm, kind, self.mode, self.warn)
            self.reports.append(report)
            return make_boxed_func(fused)

        return compile_graph

    def __call__(self, gm, example_inputs, **kwargs):
        """Compile a Dynamo FX graph (the backend protocol); returns a callable."""
        from torch._dynamo.backends.common import aot_autograd

        return aot_autograd(fw_compiler=self._compiler("forward"), bw_compiler=self._compiler("backward"),
                            inference_compiler=self._compiler("inference"))(gm, example_inputs)


symcomp_backend = SymcompBackend()
"""The backend ``torch.compile(..., backend="symcomp")`` uses."""


def register(name: str = "symcomp") -> None:
    """Register :data:`symcomp_backend` under ``name`` when the entry point is not installed
    (symcomp imported from a source tree); a no-op if ``name`` is already known to PyTorch."""
    from torch._dynamo import list_backends
    from torch._dynamo.backends.registry import register_backend

    if name not in list_backends(exclude_tags=()):
        register_backend(symcomp_backend, name=name)
