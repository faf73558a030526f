"""Facts about the host that compiled code depends on, found without loading LLVM.

A warm compile (machine code read back from the disk cache) must not import
``llvmlite.binding`` (mapping LLVM costs 20-70 ms), yet its cache key must
capture everything the machine code depends on.  This module answers those
questions with ``/proc`` and ctypes only:

* the CPU: vendor, family, model and feature flags from ``/proc/cpuinfo``
  (LLVM derives its host CPU name and feature string from the same CPUID bits);
* whether glibc's libmvec can be loaded;
* the BLAS the generated code calls and the width of its integers: a private
  single-threaded copy of NumPy's own OpenBLAS when NumPy has the ILP64 build
  (``scipy_dgemm_64_``...; :mod:`symcomp.backends.cpu.runtime.teamblas`), else NumPy's
  OpenBLAS itself, else SciPy's ``scipy.linalg.cython_blas`` (32-bit integers).
"""

from __future__ import annotations

import ctypes
import hashlib
import platform
import sys
import threading

BLAS_ROUTINES = ("dgemm", "sgemm", "dgemv", "sgemv", "ddot", "sdot")
LAPACK_ROUTINES = tuple(p + r for r in ("getrf", "getri", "potrf", "gesv", "posv", "trtrs", "syevd", "geev", "gesdd",
                                        "geqrf", "orgqr") for p in "ds")
"""The LAPACK routines generated code calls (``symcomp_<routine>``), always SciPy's
``scipy.linalg.cython_lapack`` (32-bit integers): the linear-algebra ops of
:mod:`symcomp.ir.ops.lapack`."""
_CPUINFO_KEYS = ("vendor_id", "cpu family", "model", "model name", "flags", "CPU implementer", "CPU architecture",
                 "CPU variant", "CPU part", "Features")
_lock = threading.RLock()  # reentrant: one fact's computation may ask for another
_memo: dict = {}


def once(name: str, fn):
    """``fn()``, computed the first time ``name`` is asked for in this process (thread-safe) and
    remembered: facts about the host and the libraries loaded for generated code."""
    if name not in _memo:
        with _lock:
            if name not in _memo:
                _memo[name] = fn()
    return _memo[name]


def is_known(name: str) -> bool:
    """Whether :func:`once` has computed ``name`` in this process."""
    return name in _memo


def cpu_identity() -> str:
    """A digest of the host CPU's identity and features (64 hex digits), or "" where
    ``/proc/cpuinfo`` cannot be read (the caller then asks LLVM)."""

    def read():
        try:
            with open("/proc/cpuinfo") as f:
                first = f.read().split("\n\n", 1)[0]
        except OSError:
            return ""
        fields = dict(line.split(":", 1) for line in first.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        facts = [f"{k}={fields[k]}" for k in _CPUINFO_KEYS if k in fields]
        if not facts:
            return ""
        facts.append(f"machine={platform.machine()}/{sys.platform}")
        return hashlib.sha256("\n".join(facts).encode()).hexdigest()

    return once("cpu", read)


DEFAULT_LLC_BYTES = 32 << 20
"""The last-level cache size assumed where sysfs does not tell (one Zen 4/5 CCD's L3)."""


def last_level_cache_bytes() -> int:
    """Bytes of CPU 0's last-level cache as sysfs reports it (the size of the highest-numbered
    ``/sys/devices/system/cpu/cpu0/cache/index*``, the outermost level), or
    :data:`DEFAULT_LLC_BYTES` where it cannot be read.  Outputs at least this large are written
    with non-temporal stores (:mod:`symcomp.backends.cpu.codegen.loops`)."""

    def read():
        import os

        base = "/sys/devices/system/cpu/cpu0/cache"
        try:
            names = [n for n in os.listdir(base) if n.startswith("index") and n[5:].isdigit()]
        except OSError:
            return DEFAULT_LLC_BYTES
        for name in sorted(names, key=lambda n: int(n[5:]), reverse=True):
            try:
                with open(f"{base}/{name}/size") as f:
                    text = f.read().strip().upper()
            except OSError:
                continue
            digits = text.rstrip("KMG")
            if digits.isdigit():
                return int(digits) * {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        return DEFAULT_LLC_BYTES

    return once("llc", read)


def page_bytes() -> int:
    """The virtual memory page size (``os.sysconf("SC_PAGE_SIZE")``; 4096 where it cannot be read)."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4096


def has_libmvec() -> bool:
    """Whether glibc's vector math library (``libmvec.so.1``) can be loaded."""

    def probe():
        try:
            ctypes.CDLL("libmvec.so.1")
            return True
        except OSError:
            return False

    return once("libmvec", probe)


def capsule_pointer(capsule) -> int:
    """The pointer a ``PyCapsule`` holds (whatever its name)."""
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype, get_ptr.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return get_ptr(capsule, get_name(capsule))


def numpy_ilp64_library():
    """``(path, ctypes.CDLL)`` of the OpenBLAS NumPy has loaded, when it is the ILP64 build; else None.

    NumPy's wheels bundle OpenBLAS as ``numpy.libs/libscipy_openblas64_*.so`` (next to the
    ``numpy`` package) with symbols ``scipy_<routine>_64_``.  Only a library NumPy has already
    loaded is used (``RTLD_NOLOAD``): the one NumPy's own matrix products call.
    """

    def find():
        import os
        from pathlib import Path

        import numpy

        libs = Path(numpy.__file__).resolve().parent.parent / "numpy.libs"
        for path in sorted(libs.glob("libscipy_openblas64_*.so")):
            try:
                lib = ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD)
                ilp64_routines(lib)
                return path, lib
            except (OSError, AttributeError):
                continue
        return None

    return once("ilp64", find)


def ilp64_routines(lib) -> dict:
    """``{routine: address}`` of :data:`BLAS_ROUTINES` in an ILP64 OpenBLAS built like NumPy's
    (symbols ``scipy_<routine>_64_``); AttributeError if one is missing."""
    return {n: ctypes.cast(getattr(lib, f"scipy_{n}_64_"), ctypes.c_void_p).value for n in BLAS_ROUTINES}


def numpy_ilp64_blas() -> dict:
    """Addresses of NumPy's own OpenBLAS routines (ILP64) by routine name, or {} if this NumPy has none."""
    found = numpy_ilp64_library()
    return ilp64_routines(found[1]) if found else {}


def blas_int_bits() -> int:
    """Width of BLAS integer arguments in generated code: 64 (NumPy's ILP64 OpenBLAS) or 32 (SciPy's)."""
    return 64 if numpy_ilp64_blas() else 32


def blas_symbols() -> dict:
    """``{"symcomp_<routine>": address}`` for every routine of :data:`BLAS_ROUTINES`.

    Importing ``scipy.linalg`` (the 32-bit fallback) costs 0.1-0.2 s: call this only for code
    that calls BLAS.
    """

    def find():
        from symcomp.backends.cpu.runtime import teamblas

        ilp64 = teamblas.addresses() or numpy_ilp64_blas()
        if ilp64:
            return {f"symcomp_{n}": a for n, a in ilp64.items()}
        from scipy.linalg import cython_blas

        return {f"symcomp_{n}": capsule_pointer(cython_blas.__pyx_capi__[n]) for n in BLAS_ROUTINES}

    return once("blas", find)


def lapack_symbols() -> dict:
    """``{"symcomp_<routine>": address}`` for every routine of :data:`LAPACK_ROUTINES`, from
    SciPy's ``scipy.linalg.cython_lapack`` (the function pointers its Cython API exports, as
    for BLAS above); imports ``scipy.linalg`` (0.1-0.2 s) on first use."""

    def find():
        from scipy.linalg import cython_lapack

        return {f"symcomp_{n}": capsule_pointer(cython_lapack.__pyx_capi__[n]) for n in LAPACK_ROUTINES}

    return once("lapack", find)
