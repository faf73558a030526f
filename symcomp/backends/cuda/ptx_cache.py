"""On-disk cache of kernel PTX, so a kernel is compiled by Numba and NVVM once per machine.

Compiling one kernel (Numba typing, LLVM, NVVM) takes 0.1-0.3 s, and a training
step has a few dozen kernels.  The PTX of each kernel is stored under
``platformdirs.user_cache_dir("symcomp")/cuda-ptx``, keyed by a SHA-256 of
everything that determines it: the kernel source and signature, the target
architecture and the versions of numba-cuda and NVVM.  Entries are written to a
temporary file and renamed into place, so concurrent processes never read a
partial entry.  ``symcomp.config.cache = False`` turns the cache off.  (Loading
PTX on a GPU is then cached by the CUDA driver's own JIT cache.)
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from typing import Callable

from symcomp.config import config


def cache_dir() -> str:
    """The directory of cached PTX files."""
    import platformdirs

    return os.path.join(platformdirs.user_cache_dir("symcomp"), "cuda-ptx")


@lru_cache(maxsize=1)
def _toolchain() -> str:
    """numba-cuda's and NVVM's versions (PTX differs between them)."""
    import numba_cuda
    from numba.cuda.cudadrv import nvvm

    return f"numba-cuda {numba_cuda.__version__}, NVVM {nvvm.NVVM().get_version()}"


def ptx(key: tuple, compile_ptx: Callable[[], str]) -> str:
    """The cached PTX for ``key`` (a tuple of strings), compiling and storing it on a miss.

    Cache I/O errors (a read-only home directory...) fall back to compiling.
    """
    if not config.cache:
        return compile_ptx()
    digest = hashlib.sha256("\0".join((_toolchain(),) + tuple(key)).encode()).hexdigest()
    path = os.path.join(cache_dir(), digest[:2], digest + ".ptx")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        pass
    text = compile_ptx()
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
    return text
