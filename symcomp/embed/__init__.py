"""Embedding symcomp: compile IR built by other programs, and call compiled code from C, Numba or a linker.

* :func:`compile`: an IR module (from :class:`symcomp.ir.Builder` or
  :func:`symcomp.ir.parse`) becomes a Python callable (:class:`symcomp.Function`).
* :func:`entry_point`: a compiled function specialized to fixed input shapes
  becomes a native C function in this process (address, C signature, ctypes
  function): see :mod:`symcomp.embed.abi` for the calling convention.
* :func:`emit_object`: the same kernel as an ELF object file
  and a C header, for programs linked ahead of time (``symcomp-opt --emit=obj``).

docs/embedding.md has the whole story (memory ownership, error codes, thread safety, linking).
"""

from symcomp.embed.abi import ERR_INDEX, ERR_NEGATIVE_POWER, ERR_NOMEM, KernelABI
from symcomp.embed.aot import AOTObject, emit_object
from symcomp.embed.entry import NativeEntry, entry_point
from symcomp.embed.functions import compile

__all__ = ["compile", "entry_point", "NativeEntry", "emit_object", "AOTObject", "KernelABI",
           "ERR_INDEX", "ERR_NEGATIVE_POWER", "ERR_NOMEM"]
