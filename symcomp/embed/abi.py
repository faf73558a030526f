"""The C interface of a shape-specialized kernel: argument list, C and ctypes types, error codes, header.

A kernel made by :func:`symcomp.embed.entry_point` (in memory) or
:func:`symcomp.embed.emit_object` (an object file) has the C signature::

    int32_t NAME(const T0 *in0, ..., T *out0, ..., T *new_w, ..., void *workspace);

* one pointer per parameter of the function, in order (inputs, then the
  current values of shared variables), each to a C-contiguous array of
  exactly the shape the kernel was specialized for; the kernel only reads them;
* one pointer per output, then one per shared-variable update (the new
  value), each to caller-owned memory of the output's shape, C-contiguous,
  overlapping no other argument; the kernel writes every element;
* ``workspace``: NULL (the kernel allocates its scratch memory with
  ``malloc`` and frees it before returning) or caller-owned memory of at
  least ``NAME_WORKSPACE_BYTES`` bytes, used by one call at a time;
* the result: 0 on success, :data:`ERR_NOMEM` if ``malloc`` failed, or
  ``(op << 4) | kind`` where ``kind`` is :data:`ERR_INDEX` or
  :data:`ERR_NEGATIVE_POWER` and ``op`` the index of the failing operation.

Element types: ``double`` (f64), ``float`` (f32), ``intN_t`` / ``uintN_t``
(iN / uiN), and ``uint8_t`` holding 0 or 1 for bool (i1).
"""

from __future__ import annotations

import ctypes
import keyword
import math
import re
from dataclasses import dataclass
from typing import Optional

from symcomp.backends.cpu.codegen.scalar import ERR_INDEX, ERR_NEGATIVE_POWER
from symcomp.ir.types import DType

ERR_NOMEM = -1
"""Status when the kernel could not allocate its workspace (``malloc`` returned NULL)."""

__all__ = ["ERR_INDEX", "ERR_NEGATIVE_POWER", "ERR_NOMEM", "Arg", "KernelABI", "c_type", "ctypes_type"]

_C_TYPES = {
    "f64": ("double", ctypes.c_double), "f32": ("float", ctypes.c_float),
    "i64": ("int64_t", ctypes.c_int64), "i32": ("int32_t", ctypes.c_int32),
    "i16": ("int16_t", ctypes.c_int16), "i8": ("int8_t", ctypes.c_int8),
    "ui64": ("uint64_t", ctypes.c_uint64), "ui32": ("uint32_t", ctypes.c_uint32),
    "ui16": ("uint16_t", ctypes.c_uint16), "ui8": ("uint8_t", ctypes.c_uint8),
    "i1": ("uint8_t", ctypes.c_uint8),
}
_C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
    "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "bool",
    "workspace",
}


def c_type(dt: DType) -> str:
    """The C element type of ``dt`` (``"double"``, ``"int64_t"``, ``"uint8_t"`` for bool)."""
    return _C_TYPES[dt.ir][0]


def ctypes_type(dt: DType):
    """The ctypes element type of ``dt``."""
    return _C_TYPES[dt.ir][1]


def c_identifier(text: str, fallback: str) -> str:
    """``text`` made a valid C identifier (``fallback`` if nothing is left)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text or "")
    if not name or name[0].isdigit():
        name = fallback if not name else f"{fallback}_{name}"
    if name in _C_KEYWORDS or keyword.iskeyword(name):
        name += "_"
    return name


@dataclass(frozen=True)
class Arg:
    """One pointer argument of a kernel.

    Attributes:
        name: its C name.
        role: ``"in"`` (read), ``"out"`` (an output) or ``"update"`` (a shared variable's new value).
        dtype: the element type.
        shape: the exact shape (C order, contiguous).
        label: what it is, for documentation (``"input x"``, ``"output 0"``...).
    """

    name: str
    role: str
    dtype: DType
    shape: tuple
    label: str

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    def c_decl(self) -> str:
        const = "const " if self.role == "in" else ""
        return f"{const}{c_type(self.dtype)} *{self.name}"


@dataclass(frozen=True)
class KernelABI:
    """The C-level description of one kernel.

    Attributes:
        symbol: the C function name.
        args: the pointer arguments, in order (inputs, outputs, updates); ``workspace`` follows them.
        workspace_bytes: the scratch memory one call needs.
        ops: one line per operation (index, name, source location) for decoding error codes.
        libraries: link flags a program using the object file needs (``-lmvec``, ``-lm``...).
        blas: the BLAS symbols the object file calls (``dgemm_``...); a BLAS library must provide them.
        blas_prefix: the prefix of those symbols (``""``, or ``"scipy_"`` for SciPy's bundled OpenBLAS).
    """

    symbol: str
    args: tuple
    workspace_bytes: int
    ops: tuple
    libraries: tuple = ()
    blas: tuple = ()
    blas_prefix: str = ""

    @property
    def inputs(self) -> list[Arg]:
        return [a for a in self.args if a.role == "in"]

    @property
    def outputs(self) -> list[Arg]:
        return [a for a in self.args if a.role == "out"]

    @property
    def updates(self) -> list[Arg]:
        return [a for a in self.args if a.role == "update"]

    def c_signature(self) -> str:
        """The C prototype (``int32_t NAME(const double *x, double *out0, void *workspace)``)."""
        params = ", ".join([a.c_decl() for a in self.args] + ["void *workspace"])
        return f"int32_t {self.symbol}({params})"

    def ctypes_prototype(self):
        """A ``ctypes.CFUNCTYPE`` of the C signature (typed element pointers, ``c_void_p`` workspace)."""
        argtypes = [ctypes.POINTER(ctypes_type(a.dtype)) for a in self.args] + [ctypes.c_void_p]
        return ctypes.CFUNCTYPE(ctypes.c_int32, *argtypes)

    def blas_library(self) -> str:
        """Which BLAS library provides :attr:`blas` (for the header's "Link with" line)."""
        symbols = ", ".join(self.blas)
        if self.blas_prefix == "":
            return f"a BLAS providing {symbols} (-lopenblas or -lblas)"
        if self.blas_prefix == "scipy_":
            return (f"SciPy's bundled OpenBLAS, which provides {symbols} "
                    "(site-packages/scipy.libs/libscipy_openblas*.so)")
        return f"a BLAS built with the symbol prefix {self.blas_prefix!r}, providing {symbols}"

    def describe_error(self, status: int) -> str:
        """A message for a non-zero status returned by the kernel."""
        if status == ERR_NOMEM:
            return f"{self.symbol}: could not allocate {self.workspace_bytes} bytes of workspace"
        op, kind = status >> 4, status & 15
        where = self.ops[op] if 0 <= op < len(self.ops) else f"operation {op}"
        what = {ERR_INDEX: "index out of bounds",
                ERR_NEGATIVE_POWER: "integer to a negative integer power"}.get(kind, f"error kind {kind}")
        return f"{self.symbol}: {what} in {where}"

    def header(self, guard: Optional[str] = None) -> str:
        """A C header declaring the kernel, its sizes and the error codes (C99 and C++)."""
        up = self.symbol.upper()
        guard = guard or f"SYMCOMP_{up}_H"
        lines = [f"/* {self.symbol}: generated by symcomp; do not edit.", " *",
                 f" *   {self.c_signature()};", " *",
                 " * Every array is C-contiguous with exactly the shape below; inputs are only read,",
                 " * outputs and updates are written in full and must not overlap any other argument.",
                 f" * workspace: NULL (the kernel mallocs and frees it) or at least {up}_WORKSPACE_BYTES",
                 " * bytes owned by the caller, used by one call at a time.  Calls with distinct outputs",
                 " * and workspaces may run concurrently (the kernel keeps no state).",
                 " *"]
        for a in self.args:
            dims = "".join(f"[{d}]" for d in a.shape) or " (one element)"
            lines.append(f" *   {a.name}: {a.label}, {c_type(a.dtype)}{dims}")
        lines += [" *", " * Returns SYMCOMP_OK, SYMCOMP_ERR_NOMEM, or (op << 4) | kind with kind",
                  " * SYMCOMP_ERR_INDEX or SYMCOMP_ERR_NEGATIVE_POWER; op numbers the operations:"]
        lines += [f" *   {i}: {desc}" for i, desc in enumerate(self.ops)]
        if self.libraries or self.blas:
            blas = [self.blas_library() + ","] if self.blas else []
            lines += [" *", f" * Link with: {' '.join(blas + list(self.libraries))}"]
        lines += [" */", f"#ifndef {guard}", f"#define {guard}", "", "#include <stdint.h>", "",
                  "#ifndef SYMCOMP_OK", "#define SYMCOMP_OK 0", f"#define SYMCOMP_ERR_NOMEM ({ERR_NOMEM})",
                  f"#define SYMCOMP_ERR_INDEX {ERR_INDEX}", f"#define SYMCOMP_ERR_NEGATIVE_POWER {ERR_NEGATIVE_POWER}",
                  "#define SYMCOMP_ERROR_KIND(status) ((status) & 15)",
                  "#define SYMCOMP_ERROR_OP(status) ((status) >> 4)", "#endif", "",
                  f"#define {up}_WORKSPACE_BYTES {self.workspace_bytes}u"]
        for a in self.args:
            lines.append(f"#define {up}_{a.name.upper()}_SIZE {a.size}u")
        lines += ["", "#ifdef __cplusplus", 'extern "C" {', "#endif", "", self.c_signature() + ";", "",
                  "#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""]
        return "\n".join(lines)
