"""Compiling IR that was not traced: a module from :class:`symcomp.ir.Builder` (or parsed text)
becomes a :class:`symcomp.Function`, callable from Python like one made by :func:`symcomp.function`."""

from __future__ import annotations

from typing import Optional, Union

import numpy as np

from symcomp.compile.function import Function, compile_module
from symcomp.compile.trace import Signature
from symcomp.embed.kernel import shapes_by_position
from symcomp.ir.core import Placeholder
from symcomp.ir.module import ModuleOp, new_module
from symcomp.shared import shared as make_shared


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
            device: Optional[str] = None, allow_input_downcast: Optional[bool] = None,
            optimize: bool = True) -> Function:
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
        allow_input_downcast: as for :func:`symcomp.function` (True: accept arguments whose dtype
            must be downcast; None, the default: also Python floats for ``config.floatX`` inputs).
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
                         "variables; compile graphs with shared variables with symcomp.function (a native "
                         "kernel of them, which takes their values as pointers, with embed.emit_object)")
    sig = Signature(inputs=[Placeholder(a.type, a.name) for a in f.args], n_outputs=len(f.result_types))
    return compile_module(single, sig, mode=mode, device=device, allow_input_downcast=allow_input_downcast,
                          single_output=len(f.result_types) == 1, optimize=optimize)


def compile_for_kernel(module: ModuleOp, shapes: Union[None, list, tuple, dict], func: Optional[str] = None, *,
                       mode: Optional[str] = None, optimize: bool = True) -> tuple[Function, list]:
    """Compile one function of a module for a shape-specialized kernel, shared variables included.

    A kernel reads each shared variable's current value through a pointer and writes its new value
    through another (docs/embedding.md), so the values themselves are never needed: each
    ``sc.shared`` parameter gets a stand-in shared variable, zeros of the shape given for it.  This
    is how a training step dumped with ``f.dump("traced")`` becomes an object file.

    Args:
        module: a ``builtin.module``.
        shapes: one shape per parameter of the function, shared ones included (a list, or a dict by
            parameter name); None (or a missing entry) takes the parameter's static type.
        func: the function's name (needed when the module holds several).
        mode: the mode compiling it (a CPU one; default ``config.mode``).
        optimize: run the mode's passes first.

    Returns:
        (the compiled :class:`symcomp.Function`, the shapes of its inputs, the parameters that are not shared).

    Raises:
        ValueError: for shapes of unknown parameters, a missing shape of a shared parameter whose
            type has dynamic sizes, or a shared parameter before an input (shared ones come last,
            as ``f.dump("traced")`` writes them).
    """
    from symcomp.ir.verifier import verify

    verify(module)
    single = single_function_module(module, func)
    fn = single.func()
    params = list(fn.args)
    names = [a.name for a in params]
    given = shapes_by_position(shapes, names, f"@{fn.sym_name}", "parameters")
    is_shared = ["sc.shared" in a.attributes for a in params]
    n_inputs = is_shared.index(True) if True in is_shared else len(params)
    if any(is_shared[n_inputs:]) and not all(is_shared[n_inputs:]):
        late = names[is_shared.index(False, n_inputs)]
        raise ValueError(f"@{fn.sym_name}: input %{late} follows a shared parameter; shared parameters "
                         "come after the inputs (as f.dump('traced') writes them)")
    stand_ins = []
    for a, shape in zip(params[n_inputs:], given[n_inputs:]):
        if shape is None:
            if not a.type.is_static:
                raise ValueError(f"@{fn.sym_name}: shared parameter %{a.name} has type {a.type} with dynamic "
                                 f"sizes; give its shape (--shape {a.name}=...)")
            shape = a.type.shape
        shape = tuple(int(d) for d in shape)
        if not a.type.accepts_shape(shape):
            raise ValueError(f"@{fn.sym_name}: shape {shape} for shared parameter %{a.name} does not fit its "
                             f"type {a.type}")
        stand_ins.append(make_shared(np.zeros(shape, a.type.dtype.np), name=a.attributes["sc.shared"],
                                     shape=a.type.shape))
    updates = [(stand_ins[op.operands[0].index - n_inputs], op.operands[0].index)
               for op in fn.body.ops if op.name == "sc.assign"]
    sig = Signature(inputs=[Placeholder(a.type, a.name) for a in params[:n_inputs]], shared=stand_ins,
                    n_outputs=len(fn.result_types), updates=updates)
    compiled = compile_module(single, sig, mode=mode, device="cpu", single_output=len(fn.result_types) == 1,
                              optimize=optimize)
    return compiled, given[:n_inputs]
