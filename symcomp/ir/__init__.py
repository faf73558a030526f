"""symcomp's IR: a typed SSA IR in MLIR's style, printable and parseable.

    from symcomp import ir

    module = ir.parse(text, "step.sc")     # ParseError / VerifyError on bad input
    ir.verify(module)                      # VerifyError
    text = ir.print_module(module)         # == str(module); parse(text) prints the same

The text form, every type and every op are documented in docs/ir.md.  The
names below are loaded on first use, so importing a submodule (``symcomp.ir.types``)
stays cheap and free of import cycles.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "parse": "symcomp.ir.parser",
    "verify": "symcomp.ir.verifier",
    "print_module": "symcomp.ir.printer",
    "ModuleOp": "symcomp.ir.module",
    "FuncOp": "symcomp.ir.module",
    "new_module": "symcomp.ir.module",
    "new_func": "symcomp.ir.module",
    "Operation": "symcomp.ir.core",
    "Value": "symcomp.ir.core",
    "Block": "symcomp.ir.core",
    "Region": "symcomp.ir.core",
    "Location": "symcomp.ir.core",
    "TensorType": "symcomp.ir.types",
    "DType": "symcomp.ir.types",
    "OPS": "symcomp.ir.opdef",
    "IRError": "symcomp.ir.errors",
    "ParseError": "symcomp.ir.errors",
    "VerifyError": "symcomp.ir.errors",
    "Builder": "symcomp.ir.builder",
    "FunctionBuilder": "symcomp.ir.builder",
    "parse_type": "symcomp.ir.builder",
}

__all__ = sorted(_EXPORTS) + ["Module"]


def __getattr__(name: str):
    if name == "Module":
        name = "ModuleOp"
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'symcomp.ir' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)
