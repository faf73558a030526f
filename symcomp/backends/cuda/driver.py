"""Compiling and launching kernels: Numba CUDA for code generation, cuda.core for the driver.

Numba CUDA (the ``numba-cuda`` package, installed from the checkout by ``pip install -e '.[cuda]'``)
compiles the Python kernel source that :mod:`symcomp.backends.cuda.render` writes
to PTX with :func:`numba.cuda.compile_ptx` (NVVM runs on the CPU, no GPU needed).
On a GPU the same PTX, compiled for the device's architecture, is loaded with
``cuda.core`` (NVIDIA's Python CUDA API, which numba-cuda itself uses) and
launched with the driver's ``cuLaunchKernel`` from ``cuda.bindings``, with an
argument array prepared once per plan (a call only writes buffer addresses into
it); the PTX that ``f.dump("ptx")`` shows is the code that runs.  With
``NUMBA_ENABLE_CUDASIM=1`` set before Numba is imported, Numba's CUDA simulator
runs the same kernel source in Python threads instead.

Kernel parameters are plain values: every array operand is passed as a typed
pointer (``CPointer``) to the start of its buffer plus an element offset and
element strides (``int64``), so one compiled kernel serves every shape and
layout, and the PTX signature is known before any call.  bool is stored as one
byte (``uint8``).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import subprocess
import sys
import threading
from functools import lru_cache
from typing import Callable, Optional

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
        raise ImportError("device='cuda' needs Numba CUDA with NVVM: pip install 'numba-cuda[cu13]' (from "
                          f"symcomp's checkout: pip install -e '.[cuda]'); importing it failed: {exc}") from exc
    return cuda


@lru_cache(maxsize=1)
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


# -- kernel source -----------------------------------------------------------------------
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


def ptx(name: str, source: str, signature: tuple, cc: tuple = COMPUTE_CAPABILITY) -> str:
    """PTX of one kernel for compute capability ``cc``, compiled by NVVM on the CPU (no GPU needed)
    and cached on disk (:mod:`.ptx_cache`).

    Raises:
        RuntimeError: under the simulator, which cannot produce PTX in this process (see :func:`ptx_many`).
    """
    from symcomp.backends.cuda import ptx_cache

    cuda = _numba_cuda()
    if simulator():
        raise RuntimeError("PTX cannot be produced while Numba's CUDA simulator is on (NUMBA_ENABLE_CUDASIM=1)")

    def compile_ptx() -> str:
        with _lock:
            text, _ = cuda.compile_ptx(make_function(name, source), signature, cc=cc)
        return text

    return ptx_cache.ptx((name, source, str(signature), f"sm_{cc[0]}{cc[1]}"), compile_ptx)


PTX_CHILD_TIMEOUT_S = 900
"""The longest the child process compiling PTX for a simulator process may run."""


def ptx_many(specs, cc: tuple = COMPUTE_CAPABILITY) -> list[str]:
    """The PTX of several kernels (``render.KernelSpec``), in order.

    Under Numba's CUDA simulator this process has no compiler (the simulator
    replaces ``numba.cuda.compiler``), so one child process, with the simulator
    off, compiles them all: ``f.dump("ptx")`` works with and without it.

    Raises:
        RuntimeError: if the child process fails (its error output is in the message).
    """
    specs = list(specs)
    if not specs:
        return []
    if not simulator():
        return [ptx(s.name, s.source, s.signature(), cc) for s in specs]
    request = json.dumps({"cc": list(cc), "kernels": [
        {"name": s.name, "source": s.source, "params": [[p.kind, p.dtype] for p in s.params]} for s in specs]})
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    proc = subprocess.run([sys.executable, "-m", "symcomp.backends.cuda.driver", "--ptx"], input=request,
                          capture_output=True, text=True, env=env, timeout=PTX_CHILD_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError("compiling PTX in a child process (this one runs Numba's CUDA simulator, which "
                           f"cannot) failed with exit status {proc.returncode}:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


def _ptx_child() -> None:
    """``python -m symcomp.backends.cuda.driver --ptx``: kernels as JSON on stdin, their PTX on stdout."""
    request = json.load(sys.stdin)
    cc = tuple(request["cc"])
    texts = [ptx(k["name"], k["source"], tuple(numba_type(kind, dt) for kind, dt in k["params"]), cc)
             for k in request["kernels"]]
    json.dump(texts, sys.stdout)


_ENTRY = re.compile(r"\.visible \.entry (\S+)\(")
_CTYPES = {"bool": ctypes.c_uint8, "int8": ctypes.c_int8, "int16": ctypes.c_int16, "int32": ctypes.c_int32,
           "int64": ctypes.c_int64, "uint8": ctypes.c_uint8, "uint16": ctypes.c_uint16,
           "uint32": ctypes.c_uint32, "uint64": ctypes.c_uint64, "float32": ctypes.c_float,
           "float64": ctypes.c_double}


class Kernel:
    """A compiled kernel: ``bind`` prepares one launch of it (once per plan).

    Args:
        name: the kernel's name; ``params``: its parameters (render.Param).
        binary: the ``cuda.core`` kernel, or under the simulator Numba's simulated kernel.
    """

    def __init__(self, name: str, params: tuple, binary):
        self.name = name
        self.params = params
        self.binary = binary

    def bind(self, grid: tuple, block: tuple, args: list, sizes: dict) -> Callable:
        """A launch ``f(handles)``: ``args`` are values and placeholders (objects with a ``root``),
        which ``handles[root]`` resolves per call; ``sizes[root]`` is (elements, itemsize) of a root
        passed as a 1-D array parameter."""
        if simulator():
            return _SimLaunch(self.binary, grid, block, args)
        values, patches = [], []
        for p, a in zip(self.params, args):
            if p.kind in ("ptr", "array") and hasattr(a, "root"):
                if p.kind == "array":  # Numba's array struct: meminfo, parent, nitems, itemsize, data, shape, stride
                    n, item = sizes[a.root]
                    values += [ctypes.c_uint64(0), ctypes.c_uint64(0), ctypes.c_int64(n), ctypes.c_int64(item)]
                patches.append((len(values), a.root))
                values.append(ctypes.c_uint64(0))
                if p.kind == "array":
                    values += [ctypes.c_int64(n), ctypes.c_int64(item)]
            elif p.kind == "i64":
                values.append(ctypes.c_int64(int(a)))
            elif p.kind == "scalar":
                values.append(_CTYPES[p.dtype](a.item() if hasattr(a, "item") else a))
            else:
                values.append(ctypes.c_uint64(int(a)))
        return _DeviceLaunch(self.binary, grid, block, values, patches)


class _DeviceLaunch:
    """One prepared launch: ``cuLaunchKernel`` with an argument array built once; a call only
    writes the buffer addresses into it (the driver copies argument values at launch)."""

    __slots__ = ("func", "dims", "stream", "values", "params", "patches")

    def __init__(self, kernel, grid, block, values, patches):
        from cuda.bindings.driver import CUstream

        self.func = kernel.handle
        self.stream = CUstream(0)  # the legacy default stream, as CuPy's cuBLAS calls and copies
        grid, block = tuple(grid) + (1,) * (3 - len(grid)), tuple(block) + (1,) * (3 - len(block))
        self.dims = grid + block
        self.values = values
        self.params = (ctypes.c_void_p * max(1, len(values)))(*[ctypes.addressof(v) for v in values])
        self.patches = [(values[i], root) for i, root in patches]

    def __call__(self, handles: dict) -> None:
        for v, root in self.patches:
            v.value = handles[root]
        (err,) = _cu_launch(self.func, *self.dims, 0, self.stream, ctypes.addressof(self.params), 0)
        if err:
            raise RuntimeError(f"cuLaunchKernel failed: {err!r}")


class _SimLaunch:
    __slots__ = ("kernel", "grid", "block", "args")

    def __init__(self, kernel, grid, block, args):
        self.kernel, self.grid, self.block, self.args = kernel, grid, block, args

    def __call__(self, handles: dict) -> None:
        args = [handles[a.root] if hasattr(a, "root") else a for a in self.args]
        self.kernel[self.grid, self.block](*args)


def _cu_launch(*args):
    """``cuda.bindings.driver.cuLaunchKernel`` (bound on first use)."""
    from cuda.bindings.driver import cuLaunchKernel

    globals()["_cu_launch"] = cuLaunchKernel
    return cuLaunchKernel(*args)


def load(name: str, source: str, params: tuple, signature: tuple) -> Kernel:
    """Compile one kernel for the current device (or wrap it for the simulator)."""
    cuda = _numba_cuda()
    if simulator():
        return Kernel(name, params, cuda.jit(make_function(name, source)))
    from cuda.core import ObjectCode

    dev = current_device()
    text = ptx(name, source, signature, dev.compute_capability)
    entry = _ENTRY.search(text).group(1)
    with _lock:
        binary = ObjectCode.from_ptx(text.encode(), name=name).get_kernel(entry)  # bytes: a str is a path
    return Kernel(name, params, binary)


_DEVICE = []


def current_device():
    """The ``cuda.core`` Device Numba uses (its primary context made current on this thread)."""
    from cuda.core import Device

    if not _DEVICE:
        _DEVICE.append(Device(_numba_cuda().get_current_device().id))
    _DEVICE[0].set_current()
    return _DEVICE[0]


def device_count_sms() -> int:
    """Streaming multiprocessors of the current device (2 under the simulator)."""
    if simulator():
        return 2
    return int(_numba_cuda().get_current_device().MULTIPROCESSOR_COUNT)


if __name__ == "__main__" and sys.argv[1:] == ["--ptx"]:
    _ptx_child()
