"""Compiling IR that was not traced: a module from :class:`symcomp.ir.Builder` (or parsed text)
becomes a :class:`symcomp.Function`, callable from Python like one made by :func:`symcomp.function`."""

from __future__ import annotations

from typing import Optional

from symcomp.compile.function import Function, compile_module
from symcomp.compile.trace import Signature
from symcomp.ir.core import Placeholder
from symcomp.ir.module import ModuleOp, new_module


def single_function_module(module: ModuleOp, func: Optional[str] = None) -> ModuleOp:
    """A module holding a copy of one function of ``module`` (the only one, or the one named ``func``).

    Raises:
        TypeError: if ``module`` is not a ``builtin.module``.
        KeyError: if there is no such function.
        ValueError: if ``func`` is None and the module holds several functions.
    """
    if not isinstance(module, ModuleOp):
        raise TypeError(f"expected a builtin.module (symcomp.ir.Builder().finish() or symcomp.ir.parse), "
                        f"got {type(module).__name__}")
    funcs = module.funcs
    if func is None and len(funcs) > 1:
        raise ValueError(f"the module holds {len(funcs)} functions "
                         f"({', '.join('@' + f.sym_name for f in funcs)}); say which one with func=")
    return new_module([module.func(func).clone({})])


def compile(module: ModuleOp, func: Optional[str] = None, *, mode: Optional[str] = None,
            device: Optional[str] = None, allow_input_downcast: bool = False, optimize: bool = True) -> Function:
    """Compile one function of an IR module into a Python callable.

    The module is verified, copied (never changed) and compiled as
    :func:`symcomp.function` compiles a traced graph: the mode's passes, then the
    backend.  The callable takes one array per parameter (NumPy arrays, or any
    object with ``__array_interface__``, ``__array__`` or ``__dlpack__``) and
    returns one array per returned value (the array itself when there is one).

    Args:
        module: a ``builtin.module``.
        func: the function's name (needed when the module holds several).
        mode, device: as for :func:`symcomp.function`.
        allow_input_downcast: accept arguments whose dtype must be downcast.
        optimize: run the mode's passes (False for IR that was optimized already).

    Raises:
        VerifyError: if the module is not valid IR.
        ValueError: if a parameter is a shared variable (``sc.shared``): its value
            lives in a :class:`symcomp.SharedVariable`, which only
            :func:`symcomp.function` provides.
        NotImplementedError: for an operation the backend cannot lower.
    """
    from symcomp.ir.verifier import verify

    verify(module)
    single = single_function_module(module, func)
    f = single.func()
    shared = [a.attributes["sc.shared"] for a in f.args if "sc.shared" in a.attributes]
    if shared:
        raise ValueError(f"@{f.sym_name}: parameters marked sc.shared ({', '.join(shared)}) need shared "
                         "variables; compile graphs with shared variables with symcomp.function")
    sig = Signature(inputs=[Placeholder(a.type, a.name) for a in f.args], n_outputs=len(f.result_types))
    return compile_module(single, sig, mode=mode, device=device, allow_input_downcast=allow_input_downcast,
                          single_output=len(f.result_types) == 1, optimize=optimize)
