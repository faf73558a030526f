"""On-disk cache of kernel PTX, so a kernel is compiled by Numba and NVVM once per machine.

Compiling one kernel (Numba typing, LLVM, NVVM) takes 0.1-0.3 s, and a training
step has a few dozen kernels.  The PTX of each kernel is stored under
``platformdirs.user_cache_dir("symcomp")/cuda-ptx``, keyed by a SHA-256 of
everything that determines it: the kernel source and signature, the target
architecture and the versions of numba-cuda and NVVM.  Entries are written to a
temporary file and renamed into place, so concurrent processes never read a
partial entry.  ``symcomp.config.cache = False`` turns the cache off.  The directory is
private like the CPU cache's (0700, files 0600; refused if others own or can write it), and
each file names its own key.  (Loading
PTX on a GPU is then cached by the CUDA driver's own JIT cache.)
"""

from __future__ import annotations

import hashlib
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Callable

from symcomp.backends.private_files import make_private_dir, untrusted_reason, write_private
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


_KEY_LINE = "// symcomp-ptx-key "
_refused: dict = {}


def _usable(root: str) -> bool:
    """Whether the PTX cache directory ``root`` may be used: created private (0700), owned by this
    user and writable by no one else (:mod:`symcomp.backends.private_files`; the driver runs
    what it holds).  A refusal is warned once per directory."""
    if root not in _refused:
        try:
            make_private_dir(Path(root))
            reason = untrusted_reason(Path(root))
        except OSError as exc:
            reason = f"{root} cannot be created ({exc.strerror or exc})"
        _refused[root] = reason
        if reason is not None:
            warnings.warn(f"symcomp: not using the PTX cache: {reason}; compiling without it",
                          RuntimeWarning, stacklevel=3)
    return _refused[root] is None


def ptx(key: tuple, compile_ptx: Callable[[], str]) -> str:
    """The cached PTX for ``key`` (a tuple of strings), compiling and storing it on a miss.

    Each file starts with a comment naming its digest; a file whose first line names another
    (another kernel's PTX put in its place) is compiled again.  Cache I/O errors (a read-only
    home directory...) fall back to compiling.
    """
    if not config.cache or not _usable(cache_dir()):
        return compile_ptx()
    digest = hashlib.sha256("\0".join((_toolchain(),) + tuple(key)).encode()).hexdigest()
    path = os.path.join(cache_dir(), digest[:2], digest + ".ptx")
    head = f"{_KEY_LINE}{digest}\n"
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.startswith(head):
            return text[len(head):]
    except (OSError, UnicodeDecodeError):
        pass
    text = compile_ptx()
    try:
        make_private_dir(Path(path).parent)
        write_private(Path(path), (head + text).encode())
    except OSError:
        pass
    return text
