"""Device memory for the CUDA backend: allocation, transfers, and reading device arrays.

Buffers are flat 1-D device arrays in the storage dtype (bool as uint8).  When
CuPy is installed they are CuPy arrays, allocated from CuPy's memory pool
(allocation per call is then a pool lookup, not a ``cudaMalloc``); otherwise
Numba device arrays.  Under Numba's CUDA simulator they are the simulator's
host-backed arrays.  Device arrays given by users are read through
``__cuda_array_interface__`` (pointer, shape, strides, dtype), zero copy;
they must be ready on the legacy default stream, where symcomp launches.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from symcomp.backends.cuda import driver


@lru_cache(maxsize=1)
def cupy():
    """The CuPy module when it can serve this process's GPU (not under the simulator), else None."""
    if driver.simulator():
        return None
    try:
        import cupy as cp

        cp.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - not installed, or built for another CUDA: use Numba's allocator
        return None
    return cp


def empty(n: int, dtype: np.dtype):
    """A fresh flat device buffer of ``n`` elements (at least one) of ``dtype``."""
    cp = cupy()
    if cp is not None:
        return cp.empty(max(int(n), 1), dtype)
    return driver._numba_cuda().device_array(max(int(n), 1), dtype)


def upload(arr: np.ndarray):
    """A flat device copy of a host array (C order, native byte order, bool stored as uint8,
    at least one element)."""
    arr = np.asarray(arr)
    host = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("=")).reshape(-1)
    if host.dtype == np.bool_:
        host = host.view(np.uint8)
    if host.size == 0:
        return empty(1, host.dtype)
    cp = cupy()
    if cp is not None:
        return cp.asarray(host)
    return driver._numba_cuda().to_device(host)


def to_device(arr: np.ndarray):
    """A device copy of a host array with its shape (dtype as stored: bool as uint8)."""
    buf = upload(arr)
    return shaped(buf, arr.shape, buf.dtype)


def zero(buf) -> None:
    """Set every element of a device buffer to 0."""
    cp = cupy()
    if cp is not None and isinstance(buf, cp.ndarray):
        buf.fill(0)
    else:
        buf.copy_to_device(np.zeros(buf.shape, buf.dtype))


def is_device_array(obj) -> bool:
    """True for objects exposing ``__cuda_array_interface__`` (CuPy, PyTorch, Numba device arrays)."""
    return hasattr(obj, "__cuda_array_interface__") or type(obj).__name__ == "FakeCUDAArray"


def describe(obj) -> tuple:
    """(dtype, shape, element strides or None when not whole elements) of a device array."""
    if type(obj).__name__ == "FakeCUDAArray":
        return np.dtype(obj.dtype), tuple(obj.shape), None
    cai = obj.__cuda_array_interface__
    dtype = np.dtype(cai["typestr"])
    shape = tuple(cai["shape"])
    strides = cai.get("strides")
    if strides is None:
        acc, st = 1, []
        for d in reversed(shape):
            st.append(acc)
            acc *= max(d, 1)
        return dtype, shape, tuple(reversed(st))
    if any(s % dtype.itemsize for s in strides):
        return dtype, shape, None
    return dtype, shape, tuple(s // dtype.itemsize for s in strides)


def handle(obj):
    """What a kernel's pointer parameter receives for a device array: the address of its first
    element (under the simulator, the array itself, which must then be flat and contiguous)."""
    if driver.simulator():
        return obj
    return int(obj.__cuda_array_interface__["data"][0])


def to_host(obj) -> np.ndarray:
    """A host copy of a device array (waits for the work that produces it)."""
    if hasattr(obj, "copy_to_host"):
        return np.asarray(obj.copy_to_host())
    cp = cupy()
    if cp is not None:
        return cp.asnumpy(obj)
    return np.asarray(driver._numba_cuda().as_cuda_array(obj).copy_to_host())


def shaped(buf, shape: tuple, dtype: np.dtype):
    """The first ``prod(shape)`` elements of a flat device buffer, as ``shape`` and ``dtype``."""
    n = int(np.prod(shape)) if shape else 1
    arr = buf[:n].reshape(shape)
    return arr.view(dtype) if np.dtype(dtype) != np.dtype(arr.dtype) else arr
