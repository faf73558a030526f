"""Modules and functions: ``builtin.module`` holding ``func.func`` ops ending in ``func.return``.

A function's parameters are the block arguments of its body.  A parameter
carrying the attribute ``sc.shared = "name"`` is a shared variable: read as an
input, and written by ``sc.assign`` ops (applied after the outputs are
computed).
"""

from __future__ import annotations

from typing import Optional, Sequence

from symcomp.ir.core import Block, Operation, Region
from symcomp.ir.opdef import Pure, Str, Terminator, attr, op, operand
from symcomp.ir.types import TensorType


@op("builtin.module", regions=1, results=0)
class ModuleOp(Operation):
    """The top-level container of functions."""

    @classmethod
    def infer(cls, types, attrs, values):
        return []

    @property
    def funcs(self) -> list["FuncOp"]:
        return [o for o in self.body.ops if isinstance(o, FuncOp)]

    def func(self, name: Optional[str] = None) -> "FuncOp":
        """The function called ``name`` (or the only/first one).

        Raises:
            KeyError: if there is no such function.
        """
        funcs = self.funcs
        if name is None:
            if not funcs:
                raise KeyError("module has no function")
            return funcs[0]
        for f in funcs:
            if f.sym_name == name:
                return f
        raise KeyError(f"module has no function @{name}")

    def __str__(self) -> str:
        from symcomp.ir.printer import print_module

        return print_module(self)


@op("func.func", regions=1, results=0)
class FuncOp(Operation):
    """A function: parameters are its body's block arguments; ``func.return`` gives the results."""
    sym_name = attr(Str)

    @classmethod
    def infer(cls, types, attrs, values):
        return []

    @property
    def args(self):
        return self.body.args

    @property
    def return_op(self) -> Operation:
        return self.body.last

    @property
    def result_types(self) -> list[TensorType]:
        ret = self.return_op
        return [] if ret is None else [v.type for v in ret.operands]


@op("func.return", traits=(Pure, Terminator), results=0)
class ReturnOp(Operation):
    """Ends a function, giving its outputs."""
    values = operand(variadic=True)

    @classmethod
    def infer(cls, types, attrs, values):
        return []


def new_module(funcs: Sequence[FuncOp] = ()) -> ModuleOp:
    """An empty module (or one holding ``funcs``)."""
    m = ModuleOp([], [], {}, [Region([Block()])])
    for f in funcs:
        m.body.append(f)
    return m


def new_func(name: str, arg_types: Sequence[TensorType], arg_names: Sequence[Optional[str]] = ()) -> FuncOp:
    """A function with an empty body (no terminator yet)."""
    return FuncOp([], [], {"sym_name": name}, [Region([Block(arg_types, arg_names)])])
