"""The CUDA backend: kernels rendered as Python for Numba CUDA, compiled to PTX by NVVM.

Each fused elementwise op (and, before fusion, each elementwise op) becomes
one grid-stride loop kernel; reductions are parallel block/thread reductions
with a second stage when the outputs are few; softmax and log_softmax get
row kernels; ``sc.dot`` calls cuBLAS through CuPy when it is installed and a
tiled shared-memory kernel otherwise.  Shapes are planned per input signature
in Python (:mod:`.planner`), as on the CPU.

* ``symcomp.function(..., device="cuda")`` compiles with :func:`compile_cuda`.
* ``f.dump("ptx")`` and :func:`emit_ptx` give the PTX of every kernel; no GPU
  is needed for that (NVVM runs on the CPU).
* Without a GPU, calling a CUDA function raises RuntimeError, unless Numba's
  CUDA simulator is on (``NUMBA_ENABLE_CUDASIM=1`` before Numba is imported).
* Shared variables stay on the device between calls (:mod:`.residency`).
* Outputs are NumPy arrays; set ``f.executable.return_device_arrays = True``
  to get device arrays (``__cuda_array_interface__``) instead.  Inputs may be
  NumPy arrays (copied to the device) or device arrays (used in place).

Needs the ``cuda`` extra: ``pip install -e '.[cuda]'`` from the checkout (numba-cuda with NVVM).
See docs/cuda.md.
"""

from __future__ import annotations


def compile_cuda(module, sig, timings):
    """Compile an optimized module for an NVIDIA GPU; returns a :class:`CUDAExecutable`.

    Raises:
        NotImplementedError: naming an op the CUDA backend cannot compile.
        ImportError: when Numba CUDA is not installed.
    """
    from symcomp.backends.cuda.executable import CUDAExecutable

    return CUDAExecutable(module, sig, timings)


def emit_ptx(module) -> str:
    """The PTX of every kernel of every function of ``module`` (see :func:`.compiler.emit_ptx`)."""
    from symcomp.backends.cuda.build import emit_ptx as _emit

    return _emit(module)


__all__ = ["compile_cuda", "emit_ptx"]
