"""The IR text form (MLIR-like custom syntax); :mod:`symcomp.ir.parser` reads it back.

docs/ir.md has the grammar and every rule the printer follows.  In short::

    module {
      func.func @name(%x: tensor<?x3xf64>, %w: tensor<3xf64> {sc.shared = "w"}) -> (tensor<?xf64>) {
        %0 = sc.dot %x, %w : tensor<?xf64>
        %1 = sc.fused %0 {reduce = "add", axes = [0]} : tensor<f64> ({
        ^bb0(%a: tensor<f64>):
          ...
          sc.yield %2
        })
        sc.assign %w, %w
        func.return %0
      }
    }

Values print as ``%name`` when they carry a name hint (made unique and
sanitized) and ``%0``, ``%1``... otherwise; function names that are not
identifiers print as ``@"..."``; attributes equal to their default are
omitted; dense constants print as a splat, a nested list (up to 64 elements)
or little-endian hex bytes.  The output is deterministic, and
``str(parse(str(m))) == str(m)`` holds for every module.
"""

from __future__ import annotations

import json
import re
from typing import Optional

import numpy as np

from symcomp.ir.core import Block, Operation, Value
from symcomp.ir.types import DType, TensorType

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$.]*$")
_DENSE_LIST_LIMIT = 64


def format_scalar(v, dt: np.dtype) -> str:
    """One element of a dense constant, shortest exact form for its dtype."""
    if dt.kind == "b":
        return "true" if v else "false"
    if dt.kind in "iu":
        return str(int(v))
    if dt == np.float32:
        s = str(np.float32(v))
    else:
        s = repr(float(v))
    return s


def format_dense(arr: np.ndarray) -> str:
    """``dense<...>``: a splat, a nested list (small arrays) or raw little-endian hex bytes."""
    arr = np.asarray(arr)
    if arr.size and all(st == 0 for st in arr.strides):  # a broadcast element (the parser's splats)
        return f"dense<{format_scalar(arr[(0,) * arr.ndim], arr.dtype)}>"
    flat = np.ascontiguousarray(arr).reshape(-1)
    if flat.size:
        raw = flat.view(np.uint8).reshape(flat.size, -1)
        # A splat: bit-identical elements, or only NaNs (whose payloads the text does not keep).
        if (raw == raw[0]).all() or (arr.dtype.kind == "f" and np.isnan(flat).all()):
            return f"dense<{format_scalar(flat[0], arr.dtype)}>"
    if flat.size <= _DENSE_LIST_LIMIT:

        def nest(a):
            if a.ndim == 0:
                return format_scalar(a.item(), arr.dtype)
            return "[" + ", ".join(nest(x) for x in a) + "]"

        return f"dense<{nest(arr) if arr.ndim else format_scalar(arr.item(), arr.dtype)}>"
    data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    return f'dense<"0x{data.hex().upper()}">'


def format_attr(v) -> str:
    """The text of one attribute value."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, DType):
        return v.ir
    if isinstance(v, TensorType):
        return str(v)
    if isinstance(v, np.ndarray):
        return format_dense(v)
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join("?" if x is None else format_attr(x) for x in v) + "]"
    raise TypeError(f"cannot print attribute value {v!r}")


def format_symbol(name: str) -> str:
    """``@name``, or ``@"name"`` (a JSON string) when the name is not an identifier."""
    return "@" + (name if _IDENT.match(name) else json.dumps(name))


def format_attr_dict(attrs: dict, defaults: dict, kinds: Optional[dict] = None) -> str:
    items = []
    keys = list(kinds) if kinds else []
    keys += [k for k in attrs if k not in keys]
    for k in keys:
        if k not in attrs:
            continue
        v = attrs[k]
        if k in defaults and _same(v, defaults[k]):
            continue
        items.append(f"{k} = {format_attr(v)}")
    return " {" + ", ".join(items) + "}" if items else ""


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    return type(a) is type(b) and a == b


class Namer:
    """Assigns printed names to values: name hints where unique, numbers otherwise."""

    def __init__(self):
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.counter = 0

    def __call__(self, v: Value) -> str:
        key = id(v)
        if key not in self.names:
            self.names[key] = self._fresh(v.name)
        return "%" + self.names[key]

    def _fresh(self, hint: Optional[str]) -> str:
        if hint:
            base = re.sub(r"[^A-Za-z0-9_$.]", "_", hint)
            if not _IDENT.match(base):
                base = "v_" + base
            name, k = base, 1
            while name in self.used:
                name = f"{base}_{k}"
                k += 1
        else:
            while str(self.counter) in self.used:
                self.counter += 1
            name = str(self.counter)
            self.counter += 1
        self.used.add(name)
        return name


class Printer:
    """Prints modules, functions and single ops."""

    def __init__(self, indent: str = "  "):
        self.indent = indent
        self.lines: list[str] = []
        self.namer = Namer()

    def print_module(self, module: Operation) -> str:
        self.lines = ["module {"]
        for f in module.body.ops:
            self.namer = Namer()
            self._func(f, 1)
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"

    def _func(self, f: Operation, depth: int) -> None:
        pad = self.indent * depth
        args = ", ".join(self._arg(a) for a in f.body.args)
        results = ", ".join(str(t) for t in f.result_types)
        self.lines.append(f"{pad}func.func {format_symbol(f.sym_name)}({args}) -> ({results}) {{")
        for o in f.body.ops:
            self._op(o, depth + 1)
        self.lines.append(f"{pad}}}")

    def _arg(self, a) -> str:
        attrs = format_attr_dict(a.attributes, {})
        return f"{self.namer(a)}: {a.type}{attrs}"

    def op_text(self, o: Operation) -> str:
        """One op on one line (regions elided), for diagnostics."""
        saved = self.lines
        self.lines = []
        self._op(o, 0, with_regions=False)
        text, self.lines = self.lines[0], saved
        return text

    def _op(self, o: Operation, depth: int, with_regions: bool = True) -> None:
        pad = self.indent * depth
        head = ""
        if o.results:
            head = ", ".join(self.namer(r) for r in o.results) + " = "
        operands = ", ".join(self.namer(v) for v in o.operands)
        text = f"{pad}{head}{o.name}"
        if operands:
            text += " " + operands
        text += format_attr_dict(o.attributes, o.attr_defaults, o.attr_kinds)
        if o.results:
            text += " : " + ", ".join(str(r.type) for r in o.results)
        if o.regions and with_regions:
            self.lines.append(text + " ({")
            for k, reg in enumerate(o.regions):
                if k:  # MLIR's generic form: regions separated by "}, {"
                    self.lines.append(f"{pad}}}, {{")
                for b in reg.blocks:
                    self._block(b, depth)
            self.lines.append(f"{pad}}})")
        else:
            self.lines.append(text)

    def _block(self, b: Block, depth: int) -> None:
        pad = self.indent * depth
        args = ", ".join(f"{self.namer(a)}: {a.type}" for a in b.args)
        self.lines.append(f"{pad}^bb0({args}):")
        for o in b.ops:
            self._op(o, depth + 1)


def print_module(module: Operation) -> str:
    """The text form of a module."""
    return Printer().print_module(module)
