"""Building IR programmatically: the stable embedding API for front-ends that are not symcomp's own.

A :class:`Builder` makes one ``builtin.module``; each :meth:`Builder.function`
gives a :class:`FunctionBuilder` that appends operations, named as in the IR
text (``"sc.add"``), with attributes as keyword arguments.  Result types are
never given: every op is created through its declaration's ``build`` (its
type rule, the same one the front-end, the verifier and the backends run), so
a type error is reported at the line that builds the op.  ``finish()`` runs
the verifier and returns the module::

    from symcomp import ir

    b = ir.Builder()
    with b.function("axpy", [("a", "tensor<f64>"), ("x", "tensor<?xf64>"), ("y", "tensor<?xf64>")]) as f:
        a, x, y = f.args
        ax = f.op("sc.mul", f.op("sc.expand_dims", a, axes=[0]), x)
        f.ret(f.op("sc.add", ax, y))
    module = b.finish()

The module prints as IR text (``str(module)``) and compiles with
:func:`symcomp.embed.compile` (a Python callable) or
:func:`symcomp.embed.entry_point` (a native function with a C signature).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Optional, Sequence, Union

from symcomp.ir.core import BlockArgument, Location, Operation, Value
from symcomp.ir.errors import VerifyError
from symcomp.ir.module import FuncOp, ModuleOp, ReturnOp, new_func, new_module
from symcomp.ir.opdef import OPS, build, normalize_attrs
from symcomp.ir.types import TensorType, from_ir_name

TypeSpec = Union[TensorType, str]
"""A parameter type: a :class:`TensorType` or its text (``"tensor<?x3xf64>"``)."""

_TYPE_TEXT = re.compile(r"^\s*tensor<((?:(?:\d+|\?)x)*)([a-z0-9]+)>\s*$")
# Ops the builder makes itself, or that only passes make.
_NOT_BY_NAME = {
    "builtin.module": "use Builder() for modules",
    "func.func": "use Builder.function()",
    "func.return": "use FunctionBuilder.ret()",
    "sc.fused": "sc.fused is made by the 'fuse' pass; build the elementwise operations instead",
    "sc.yield": "sc.yield only ends an sc.fused body, which the 'fuse' pass makes",
}


def parse_type(spec: TypeSpec) -> TensorType:
    """A :class:`TensorType` from a TensorType or its IR text (``"tensor<?x3xf64>"``, ``"tensor<f32>"``).

    Raises:
        TypeError: if ``spec`` is neither, or names an unknown element type.
    """
    if isinstance(spec, TensorType):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"expected a TensorType or type text such as 'tensor<?x3xf64>', got {spec!r:.60}")
    m = _TYPE_TEXT.match(spec)
    if m is None:
        raise TypeError(f"expected a type such as 'tensor<?x3xf64>' or 'tensor<f32>', got {spec!r:.60}")
    dims_text, dt_text = m.groups()
    dt = from_ir_name(dt_text)
    if dt is None:
        raise TypeError(f"unknown element type {dt_text!r} in {spec!r}")
    dims = [None if d == "?" else int(d) for d in dims_text.split("x")[:-1]]
    return TensorType(dt, tuple(dims))


def _op_class(name: str) -> type[Operation]:
    from symcomp.ir.parser import load_ops

    load_ops()
    if name in _NOT_BY_NAME:
        raise ValueError(f"{name} cannot be built with op(): {_NOT_BY_NAME[name]}")
    cls = OPS.get(name)
    if cls is None:
        close = difflib.get_close_matches(name, [n for n in OPS if n not in _NOT_BY_NAME], n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(f"unknown operation {name!r}{hint}")
    return cls


class FunctionBuilder:
    """Appends operations to one function; made by :meth:`Builder.function`.

    Attributes:
        func: the ``func.func`` being built.
        args: its parameters (SSA values), in order.
    """

    def __init__(self, func: FuncOp):
        self.func = func
        self.args: list[BlockArgument] = list(func.args)
        self._returned = False

    def __enter__(self) -> "FunctionBuilder":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and not self._returned:
            raise VerifyError(f"function @{self.func.sym_name} was left without a return "
                              "(call FunctionBuilder.ret(...))", op=self.func)

    def arg(self, key: Union[int, str]) -> BlockArgument:
        """A parameter by position or by name.

        Raises:
            KeyError: if there is no such parameter.
        """
        if isinstance(key, int):
            return self.args[key]
        for a in self.args:
            if a.name == key:
                return a
        raise KeyError(f"function @{self.func.sym_name} has no parameter {key!r} "
                       f"(parameters: {', '.join(str(a.name) for a in self.args)})")

    def op(self, name: str, *operands: Value, **attrs: Any):
        """Append the operation ``name`` applied to ``operands``, with attributes ``attrs``.

        Args:
            name: the op's IR name (``"sc.add"``, ``"sc.sum"``...); docs/ir.md lists every op.
            operands: SSA values of this function (parameters or earlier results).
            attrs: the op's attributes (``axes=[0]``, ``dtype="f32"``...), checked
                and normalized by the op's declaration; defaults are filled in.

        Returns:
            The result value (a list of them for a multi-result op, None for an op without results).

        Raises:
            ValueError: for an unknown op name (with close matches).
            TypeError, ValueError: from the op's type rule (wrong operand count,
                dtype, rank or shape), naming the op.
            VerifyError: for an unknown or ill-typed attribute, or after ``ret``.
        """
        self._check_open()
        cls = _op_class(name)
        for i, v in enumerate(operands):
            if not isinstance(v, Value):
                raise TypeError(f"{name}: operand #{i} must be an SSA value of this function, got "
                                f"{type(v).__name__} {v!r:.40} (make constants with FunctionBuilder.constant)")
            self._check_scope(name, i, v)
        result = build(cls, list(operands), **attrs)  # the op's type rule: checks and infers
        if cls.n_results == 0:  # build returns the (empty) results: make the checked op again
            op = cls(list(operands), [], normalize_attrs(cls, attrs), [], Location.capture())
        else:
            op = (result[0] if isinstance(result, list) else result).owner
        self.func.body.append(op)
        return None if cls.n_results == 0 else result

    def constant(self, value, dtype=None, name: Optional[str] = None) -> Value:
        """Append an ``sc.constant`` holding ``value`` (array-like; ``dtype`` as NumPy or IR name).

        Raises:
            TypeError: for an unsupported dtype (float16, complex, object...).
        """
        from symcomp.ir.ops.basic import constant_array

        arr = constant_array(value, None if dtype is None else parse_dtype(dtype))
        v = self.op("sc.constant", value=arr)
        v.name = name
        return v

    def ret(self, *values: Value) -> None:
        """End the function with ``func.return values``.

        Raises:
            VerifyError: if the function already returned.
            TypeError: if a value is not an SSA value of this function.
        """
        self._check_open()
        for i, v in enumerate(values):
            if not isinstance(v, Value):
                raise TypeError(f"func.return: value #{i} must be an SSA value, got {type(v).__name__}")
            self._check_scope("func.return", i, v)
        self.func.body.append(ReturnOp(list(values), [], {}, loc=Location.capture()))
        self._returned = True

    def _check_open(self) -> None:
        if self._returned:
            raise VerifyError(f"function @{self.func.sym_name} already returned; no operation may follow",
                              op=self.func)

    def _check_scope(self, name: str, i: int, v: Value) -> None:
        owner = v.owner
        ok = (v.block is self.func.body) if isinstance(v, BlockArgument) else (
            owner is not None and owner.parent is self.func.body)
        if not ok:
            raise ValueError(f"{name}: operand #{i} is not a value of function @{self.func.sym_name} "
                             "(values cannot be shared between functions or taken from symbolic graphs)")


def parse_dtype(spec):
    """A DType from an IR name (``"f32"``), a NumPy name or dtype.

    Raises:
        TypeError: for an unsupported dtype.
    """
    from symcomp.ir.types import dtype

    return dtype(spec)


class Builder:
    """Builds a ``builtin.module`` function by function.

    Attributes:
        module: the module being built.
    """

    def __init__(self):
        self.module: ModuleOp = new_module()
        self._open: list[FunctionBuilder] = []

    def function(self, name: str, params: Sequence[tuple]) -> FunctionBuilder:
        """Start a function (usable as a context manager, which checks that it returned).

        Args:
            name: the function's symbol name (unique in the module).
            params: ``(name, type)`` or ``(name, type, attributes)`` per parameter;
                a type is a :class:`TensorType` or its text (``"tensor<?x3xf64>"``);
                attributes are parameter attributes (``{"sc.shared": "w"}``).

        Raises:
            ValueError: for an empty or duplicate function name.
            TypeError: for a malformed parameter entry or type.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"a function needs a non-empty name, got {name!r}")
        if any(f.sym_name == name for f in self.module.funcs):
            raise ValueError(f"function @{name} is already defined in this module")
        names, types, attrs = [], [], []
        for i, p in enumerate(params):
            if not isinstance(p, (tuple, list)) or len(p) not in (2, 3):
                raise TypeError(f"@{name}: parameter #{i} must be (name, type) or (name, type, attributes), "
                                f"got {p!r:.60}")
            names.append(p[0])
            types.append(parse_type(p[1]))
            attrs.append(dict(p[2]) if len(p) == 3 else {})
        func = new_func(name, types, names)
        func.loc = Location.capture()
        for a, at in zip(func.args, attrs):
            a.attributes.update(at)
        self.module.body.append(func)
        fb = FunctionBuilder(func)
        self._open.append(fb)
        return fb

    def finish(self) -> ModuleOp:
        """Verify and return the module.

        Raises:
            VerifyError: if a function has no return, or the module breaks a rule of the IR.
        """
        for fb in self._open:
            if not fb._returned:
                raise VerifyError(f"function @{fb.func.sym_name} has no return (call FunctionBuilder.ret(...))",
                                  op=fb.func)
        from symcomp.ir.verifier import verify

        verify(self.module)
        return self.module
