"""Native entry points in memory: a kernel's C function loaded in this process, with its address.

Other JIT systems call it like any C function: Numba (``@njit`` code calling
the ctypes function :attr:`NativeEntry.cfunc`, or the address), cffi, or C
code given the address.  The wrapper is compiled on its own (a few
instructions) and calls the function's already compiled entry point, so
making an entry point costs one plan and a tiny compile.
"""

from __future__ import annotations

import itertools
import threading
from typing import Optional

import numpy as np

from symcomp.embed.abi import ERR_INDEX, KernelABI
from symcomp.embed.kernel import Kernel, ShapesSpec, specialize, wrapper_ir

_ids = itertools.count()
_lock = threading.Lock()


class NativeEntry:
    """A shape-specialized kernel loaded in this process.

    Attributes:
        abi: its C-level description (:class:`~symcomp.embed.abi.KernelABI`).
        address: the address of its C function (an int), valid while this object
            (or its ``cfunc``) lives: keep one of them referenced while C code may call it.
        cfunc: a ctypes function for that address (argument types: typed element
            pointers, then ``c_void_p`` for the workspace); callable from Python
            and from Numba ``@njit`` code; it keeps the compiled code alive.
    """

    def __init__(self, kernel: Kernel):
        from symcomp.backends.cpu.toolchain import machine

        self.kernel = kernel
        self.abi: KernelABI = kernel.abi
        st = machine.ensure_initialized()
        llvm = st["llvm"]
        entry_name = f"symcomp_embed_entry_{next(_ids)}"
        exe = kernel.function.executable
        with _lock:
            llvm.add_symbol(entry_name, exe.jit.address(kernel.entry_symbol))
        ref = machine.parse(wrapper_ir(kernel, entry_name, constants="address"))
        machine.optimize(ref)
        tgt = st["target"]
        tm = llvm.Target.from_default_triple().create_target_machine(
            cpu=tgt.cpu, features=tgt.features, opt=2, codemodel="jitdefault")
        with _lock:
            self._engine = llvm.create_mcjit_compiler(ref, tm)
            self._engine.finalize_object()
        self.address: int = self._engine.get_function_address(self.abi.symbol)
        self.cfunc = self.abi.ctypes_prototype()(self.address)
        self.cfunc.entry = self  # the code lives while the ctypes function (or Numba code using it) does

    @property
    def c_signature(self) -> str:
        """The C prototype, e.g. ``int32_t axpy(const double *x, double *out0, void *workspace)``."""
        return self.abi.c_signature()

    def c_header(self) -> str:
        """A C header declaring the function (for C code that is given :attr:`address`)."""
        return self.abi.header()

    def __call__(self, *inputs, workspace: Optional[np.ndarray] = None):
        """Call the kernel from Python on arrays of exactly its dtypes and shapes.

        Args:
            inputs: one array per input (and per shared variable's current value), C-contiguous.
            workspace: optional scratch buffer (uint8, at least ``abi.workspace_bytes``).

        Returns:
            The outputs, then the updates' new values (freshly allocated arrays);
            the array itself when there is exactly one.

        Raises:
            TypeError: for a wrong number of arguments or a wrong dtype.
            ValueError: for a wrong shape or a non-contiguous array.
            IndexError, ArithmeticError, MemoryError: as reported by the kernel.
        """
        spec = self.abi.inputs
        if len(inputs) != len(spec):
            raise TypeError(f"{self.abi.symbol}() takes {len(spec)} arrays ({len(inputs)} given)")
        ptrs = []
        for a, x in zip(spec, inputs):
            if not isinstance(x, np.ndarray) or x.dtype != a.dtype.np:
                raise TypeError(f"{self.abi.symbol}: {a.name} must be an ndarray of dtype {a.dtype.name}, got "
                                f"{getattr(x, 'dtype', type(x).__name__)}")
            if x.shape != a.shape or not x.flags.c_contiguous:
                raise ValueError(f"{self.abi.symbol}: {a.name} must be C-contiguous of shape {a.shape}, "
                                 f"got shape {x.shape}" + ("" if x.flags.c_contiguous else " (not contiguous)"))
            ptrs.append(x)
        results = [np.empty(a.shape, a.dtype.np) for a in self.abi.args if a.role != "in"]
        ws = None
        if workspace is not None:
            if not isinstance(workspace, np.ndarray) or workspace.nbytes < self.abi.workspace_bytes \
                    or not workspace.flags.c_contiguous or not workspace.flags.writeable:
                raise ValueError(f"{self.abi.symbol}: workspace must be a writeable contiguous ndarray of at "
                                 f"least {self.abi.workspace_bytes} bytes")
            ws = workspace.ctypes.data
        args = [x.ctypes.data_as(t) for x, t in zip(ptrs + results, self.cfunc.argtypes)]
        status = self.cfunc(*args, ws)
        if status:
            message = self.abi.describe_error(status)
            if status < 0:
                raise MemoryError(message)
            raise (IndexError if status & 15 == ERR_INDEX else ArithmeticError)(message)
        return results[0] if len(results) == 1 else results

    def __repr__(self) -> str:
        return f"<symcomp NativeEntry {self.c_signature} at {self.address:#x}>"


def entry_point(f, shapes: ShapesSpec = None, *, name: Optional[str] = None, func: Optional[str] = None,
                mode: Optional[str] = None) -> NativeEntry:
    """A native, C-callable kernel for ``f`` specialized to one set of input shapes.

    Args:
        f: a :class:`symcomp.Function` compiled for the CPU, or an IR module
            (compiled first with :func:`symcomp.embed.compile`).
        shapes: one shape per input, as a list or a dict by input name; None
            entries (or None) take the static shapes of the input types.
        name: the C function's name (default: the function's).
        func: which function of a module (when it holds several).
        mode: the mode compiling a module (default ``symcomp.config.mode``; must use the CPU backend).

    Returns:
        A :class:`NativeEntry`: ``.address``, ``.c_signature``, ``.cfunc`` (ctypes), ``.abi``.

    Raises:
        ValueError, NotImplementedError: see :func:`symcomp.embed.kernel.specialize`.
    """
    from symcomp.ir.module import ModuleOp

    if isinstance(f, ModuleOp):
        from symcomp.embed.functions import compile

        f = compile(f, func, mode=mode, device="cpu")
    return NativeEntry(specialize(f, shapes, name))
