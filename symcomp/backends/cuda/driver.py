"""Everything symcomp asks of Numba CUDA: compiling kernel source, device memory, launches.

Numba CUDA (the ``numba-cuda`` package, installed by ``pip install 'symcomp[cuda]'``)
compiles the Python kernel source that :mod:`symcomp.backends.cuda.render` writes:
to PTX with :func:`numba.cuda.compile_ptx` (NVVM runs on the CPU, no GPU needed)
and to loaded kernels with :func:`numba.cuda.jit` when a GPU is present.  It also
owns the CUDA driver, memory and launches.  With ``NUMBA_ENABLE_CUDASIM=1`` set
before Numba is imported, Numba's CUDA simulator runs the same kernel source
in Python threads; buffers are then host arrays wrapped by the simulator.

Kernel parameters are plain values: every array operand is passed as a typed
pointer (``CPointer``) to the start of its buffer plus an element offset and
element strides (``int64``), so one compiled kernel serves every shape and
layout, and the PTX signature is known before any call.  bool is stored as one
byte (``uint8``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from symcomp.ir import types as T

COMPUTE_CAPABILITY = (9, 0)
"""The architecture PTX is produced for by :func:`ptx` (Hopper, sm_90); kernels run on
a real device are compiled for that device instead."""

_lock = threading.Lock()


def _numba_cuda():
    """Import ``numba.cuda``.

    Raises:
        ImportError: naming the extra to install when numba-cuda is missing.
    """
    try:
        from numba import cuda  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("device='cuda' needs Numba CUDA: pip install 'symcomp[cuda]' "
                          f"(numba-cuda with NVVM); importing it failed: {exc}") from exc
    return cuda


def simulator() -> bool:
    """True when Numba's CUDA simulator is on (``NUMBA_ENABLE_CUDASIM=1`` before Numba's import)."""
    _numba_cuda()
    from numba.cuda.core import config

    return bool(config.ENABLE_CUDASIM)


def require_device() -> None:
    """Check that kernels can run here: a GPU, or the simulator.

    Raises:
        RuntimeError: when there is no usable CUDA GPU and the simulator is off.
    """
    cuda = _numba_cuda()
    if simulator():
        return
    if not cuda.is_available():
        raise RuntimeError(
            "no CUDA GPU was found (numba.cuda.is_available() is False): this function was compiled "
            "with device='cuda'; its PTX is available with f.dump('ptx'), but running it needs an "
            "NVIDIA GPU and driver, or Numba's CUDA simulator (set NUMBA_ENABLE_CUDASIM=1 before "
            "importing symcomp)")


# -- types ------------------------------------------------------------------------------
def storage_dtype(dt: T.DType) -> np.dtype:
    """The NumPy dtype a value of ``dt`` is stored as in device memory (bool as uint8)."""
    return np.dtype(np.uint8) if dt.is_bool else dt.np


def _scalar_type(name: str):
    from numba import types

    return getattr(types, name)


def numba_type(kind: str, dtype: Optional[str] = None):
    """The Numba type of one kernel parameter.

    Args:
        kind: ``"ptr"`` (pointer to elements of ``dtype``), ``"array"`` (1-D C array of
            ``dtype``, for atomics), ``"i64"`` or ``"scalar"`` (a value of ``dtype``).
        dtype: a NumPy dtype name (bool is passed as uint8).
    """
    from numba import types

    if kind == "i64":
        return types.int64
    base = _scalar_type("uint8" if dtype == "bool" else dtype)
    if kind == "ptr":
        return types.CPointer(base)
    if kind == "array":
        return types.Array(base, 1, "C")
    if kind == "scalar":
        return base
    raise ValueError(f"unknown kernel parameter kind {kind!r}")


# -- kernels ------------------------------------------------------------------------------
@dataclass
class KernelBinary:
    """A kernel ready to launch: the simulator's callable or Numba's compiled kernel."""

    name: str
    launch: Callable  # launch(grid, block, args)


def _namespace() -> dict:
    """Globals of generated kernel source: ``cuda``, ``lib`` (libdevice or its NumPy twin) and types."""
    from numba import types

    cuda = _numba_cuda()
    if simulator():
        from symcomp.backends.cuda import simlib as lib
    else:
        from numba.cuda import libdevice as lib
    ns = {"cuda": cuda, "lib": lib, "INF": np.float64(np.inf), "NAN": np.float64(np.nan)}
    for d in T.ALL_DTYPES:
        if not d.is_bool:
            ns[d.name] = getattr(types, d.name)
    return ns


def make_function(name: str, source: str) -> Callable:
    """Execute generated kernel source and return the Python function ``name``.

    The source is registered with :mod:`linecache` so Numba's and Python's
    error messages quote the generated lines.
    """
    import linecache

    filename = f"<symcomp-cuda {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    ns = _namespace()
    exec(compile(source, filename, "exec"), ns)  # noqa: S102 - our own generated code
    return ns[name]


def ptx(name: str, source: str, signature: tuple) -> str:
    """PTX of one kernel, compiled by NVVM on the CPU (no GPU needed).

    Raises:
        RuntimeError: under the simulator, which cannot produce PTX.
    """
    cuda = _numba_cuda()
    if simulator():
        raise RuntimeError("PTX cannot be produced while Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1)")
    with _lock:
        text, _ = cuda.compile_ptx(make_function(name, source), signature, cc=COMPUTE_CAPABILITY)
    return text


def load(name: str, source: str, signature: tuple) -> KernelBinary:
    """Compile one kernel for the current device (or wrap it for the simulator)."""
    cuda = _numba_cuda()
    fn = make_function(name, source)
    if simulator():
        kern = cuda.jit(fn)

        def launch_sim(grid, block, args):
            kern[grid, block](*args)

        return KernelBinary(name, launch_sim)
    from cuda.core import Stream

    with _lock:
        kernel = cuda.jit(signature)(fn).compile(signature)
    stream = Stream.from_handle(0)  # the legacy default stream, which CuPy's cuBLAS calls also use

    def launch_device(grid, block, args):
        kernel.launch(args, grid, block, stream, 0)

    return KernelBinary(name, launch_device)


# -- memory ---------------------------------------------------------------------------------
def device_count_sms() -> int:
    """Streaming multiprocessors of the current device (2 under the simulator)."""
    if simulator():
        return 2
    return int(_numba_cuda().get_current_device().MULTIPROCESSOR_COUNT)


def empty_typed(n: int, dtype: np.dtype):
    """A fresh flat device buffer of ``n`` elements (at least one) of ``dtype``."""
    return _numba_cuda().device_array(max(int(n), 1), dtype)


def upload(arr: np.ndarray):
    """A flat device copy of a host array (C order, bool stored as uint8, at least one element)."""
    host = np.ascontiguousarray(arr).reshape(-1)
    if host.dtype == np.bool_:
        host = host.view(np.uint8)
    if host.size == 0:
        return empty_typed(1, host.dtype)
    return _numba_cuda().to_device(host)


def is_device_array(obj) -> bool:
    """True for objects exposing ``__cuda_array_interface__`` (CuPy, PyTorch, Numba device arrays)."""
    return hasattr(obj, "__cuda_array_interface__") or type(obj).__name__ == "FakeCUDAArray"


def as_device(obj):
    """A Numba device array viewing ``obj``'s memory (zero copy)."""
    if type(obj).__name__ == "FakeCUDAArray":
        return obj
    return _numba_cuda().as_cuda_array(obj)


def pointer(dev):
    """What a kernel's pointer parameter receives for a device array: the address of its first
    element (under the simulator, the array itself)."""
    if simulator():
        return dev
    return dev.device_ctypes_pointer.value or 0


def shaped(buf, shape: tuple, dtype: np.dtype):
    """The first ``prod(shape)`` elements of a flat device buffer as an array of ``shape`` and ``dtype``."""
    n = int(np.prod(shape)) if shape else 1
    arr = buf[:n].reshape(shape)
    return arr.view(dtype) if np.dtype(dtype) != np.dtype(arr.dtype) else arr


def to_host(dev) -> np.ndarray:
    """A host copy of a device array (waits for the work that produces it)."""
    return np.asarray(dev.copy_to_host())
