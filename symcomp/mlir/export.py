"""Export symcomp modules to upstream MLIR (func, arith, math, tensor, linalg, scf).

Each ``func.func`` becomes an upstream ``func.func`` with value semantics
(tensors in, tensors out).  Its results are, in order:

1. the symcomp function's outputs;
2. one result per shared-variable update (``sc.assign``), the variable's new
   value, marked ``{symcomp.update = "<name>"}``; the parameter it updates is
   marked ``{symcomp.shared = "<name>"}``;
3. only when the function contains data-dependent checks (integer-array
   indices, signed integer powers): a ``tensor<i32>`` status marked
   ``{symcomp.status}``, 0 on success, else ``(op position << 4) | kind``
   (kind 1: index out of bounds, 2: negative integer power).  The other
   results are unspecified when it is not 0.

Shapes are the caller's responsibility, as for every symcomp backend: the
operands must satisfy the type rules (dynamic dimensions that must agree do
agree, basic indices are in range); :func:`symcomp.function` checks them
before every call.

With ``destination_passing=True`` (the form :mod:`symcomp.mlir.backend`
compiles), the function instead takes one ``memref`` argument per result,
after its inputs, and writes each result into it with
``bufferization.materialize_in_destination``; it returns nothing and carries
``llvm.emit_c_interface``; inputs are marked ``bufferization.writable =
false`` so bufferization never writes into them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from symcomp.ir import types as T
from symcomp.ir.core import Operation, Value
from symcomp.mlir.convert import ExportContext, MLIRExportError, lookup
from symcomp.mlir.writer import FuncWriter, memref_type, tensor_type

_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_$.]*$")


@dataclass
class ExportedFunc:
    """The MLIR text of one function and the layout of its results.

    Attributes:
        name: the MLIR symbol name.
        text: the ``func.func`` text.
        n_outputs: number of symcomp outputs (the first results).
        n_updates: number of shared-variable updates (the next results).
        has_status: whether a status result follows them.
        ops: the symcomp ops of the body, in order (status codes index into it).
    """

    name: str
    text: str
    n_outputs: int
    n_updates: int
    has_status: bool
    ops: list = field(default_factory=list)


def _symbol(name: str) -> str:
    return "@" + (name if _SYMBOL.match(name) else json.dumps(name))


def export_func(func: Operation, destination_passing: bool = False, symbol: str | None = None) -> ExportedFunc:
    """Translate one symcomp ``func.func``.

    Args:
        func: a verified symcomp function (after symcomp's passes).
        destination_passing: write results into memref arguments (see the module docstring).
        symbol: the MLIR symbol name (default: the function's own).

    Raises:
        MLIRExportError: naming the first op that cannot be exported.
    """
    w = FuncWriter(indent=2)
    ctx = ExportContext(w)
    name = symbol or func.sym_name
    args = []
    for a in func.args:
        ssa = w.fresh(a.name or "arg")
        w.env[a] = ssa
        attrs = []
        if "sc.shared" in a.attributes:
            attrs.append(f"symcomp.shared = {json.dumps(a.attributes['sc.shared'])}")
        if destination_passing:
            attrs.append("bufferization.writable = false")
        args.append(f"{ssa}: {tensor_type(a.type)}" + (" {" + ", ".join(attrs) + "}" if attrs else ""))
    ops = list(func.body.ops)
    outputs: list[Value] = []
    updates: list[tuple[Value, Value]] = []
    for i, op in enumerate(ops):
        if op.name == "func.return":
            outputs = list(op.operands)
        elif op.name == "sc.assign":
            updates.append((op.operands[0], op.operands[1]))
        else:
            ctx.op_index = i
            lookup(op)(ctx, op)
    results = [(w.env[v], v.type, "") for v in outputs]
    for target, value in updates:
        attr = f" {{symcomp.update = {json.dumps(target.attributes['sc.shared'])}}}"
        results.append((w.env[value], value.type, attr))
    status = _status(ctx)
    if status is not None:
        results.append((status, T.scalar_type(T.int32), " {symcomp.status}"))
    if destination_passing:
        outs = []
        for k, (value, ty, _) in enumerate(results):
            buf = w.fresh(f"out{k}")
            outs.append(f"{buf}: {memref_type(ty)}")
            w.line(f"bufferization.materialize_in_destination {value} in restrict writable {buf} : "
                   f"({tensor_type(ty)}, {memref_type(ty)}) -> ()")
        w.line("return")
        head = f"func.func {_symbol(name)}({', '.join(args + outs)}) attributes {{llvm.emit_c_interface}} {{"
    else:
        if results:
            types = ", ".join(tensor_type(t) for _, t, _ in results)
            w.line(f"return {', '.join(v for v, _, _ in results)} : {types}")
        else:
            w.line("return")
        res_sig = ", ".join(tensor_type(t) + a for _, t, a in results)
        head = f"func.func {_symbol(name)}({', '.join(args)}) -> ({res_sig}) {{"
    text = "\n".join([f"  {head}", *w.text(), "  }"])
    return ExportedFunc(name, text, len(outputs), len(updates), status is not None, ops)


def _status(ctx: ExportContext):
    """A ``tensor<i32>``: the code of the first failed check in program order, or 0."""
    if not ctx.flags:
        return None
    w = ctx.w
    status = w.const_typed("0", "i32")
    for flag, code in reversed(ctx.flags):
        status = w.op(f"arith.select {flag}, {w.const_typed(str(code), 'i32')}, {status} : i32")
    return w.op(f"tensor.from_elements {status} : tensor<i32>")


def export_module(module: Operation) -> str:
    """Translate a symcomp module to MLIR text in upstream dialects (value semantics).

    Args:
        module: a ``builtin.module`` of symcomp functions, typically after
            symcomp's own passes (``f.module`` of a compiled function).

    Returns:
        The text of a ``module { ... }`` that ``mlir-opt`` parses and verifies.

    Raises:
        MLIRExportError: naming the first operation that has no upstream translation
            (docs/mlir.md lists the supported operations).
        TypeError: if ``module`` is not a ``builtin.module``.
    """
    if getattr(module, "name", None) != "builtin.module":
        raise TypeError(f"export_module expects a builtin.module, got {type(module).__name__}")
    if any(o.name == "sc.gemm" for o in module.walk()):  # CPU-oriented: back to core ops, on a copy
        from symcomp.passes.decompose import Decompose

        module = module.clone({})
        Decompose().apply(module)
    funcs = [export_func(f).text for f in module.funcs]
    return "module {\n" + "\n".join(funcs) + ("\n" if funcs else "") + "}\n"


__all__ = ["ExportedFunc", "MLIRExportError", "export_func", "export_module"]
