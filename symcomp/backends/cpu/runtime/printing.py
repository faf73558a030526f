"""The callback that ``sc.print``'s machine code calls to print a value (Theano's ``Print``).

``symcomp_print_value(message, attrs, dtype, data, ndim, dims)`` (C strings; ``attrs`` is the
attribute names joined by commas; ``data`` a C-contiguous copy of the value with ``ndim`` sizes
at ``dims``) is a ctypes function of this process, registered for MCJIT like the BLAS routines
(:func:`symbols`) and resolved by the shared objects' loader
(:mod:`symcomp.backends.cpu.cache.sharedlib`).  ctypes takes the GIL for the call, so it is safe
from code that runs without it.
"""

from __future__ import annotations

import ctypes

import numpy as np

SYMBOL = "symcomp_print_value"

_PROTO = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int64,
                          ctypes.POINTER(ctypes.c_int64))


def _print(message, attrs, dtype, data, ndim, dims):
    from symcomp.ir.ops.printing import print_value

    dt = np.dtype(dtype.decode())
    shape = tuple(int(dims[i]) for i in range(ndim))
    size = int(np.prod(shape, dtype=np.int64))
    if size == 0 or not data:
        arr = np.empty(shape, dt)
    else:
        buf = (ctypes.c_char * (size * dt.itemsize)).from_address(data)
        arr = np.frombuffer(buf, dtype=dt).reshape(shape).copy()
    names = [n for n in attrs.decode().split(",") if n]
    print_value(message.decode("utf-8", "replace"), names, arr)


_CALLBACK = _PROTO(_print)


def symbols() -> dict:
    """``{SYMBOL: address}`` of the callback."""
    return {SYMBOL: ctypes.cast(_CALLBACK, ctypes.c_void_p).value}
