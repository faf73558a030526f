"""The parser of symcomp's IR text: hand-written recursive descent over :mod:`symcomp.ir.lexer`.

It reads exactly what :mod:`symcomp.ir.printer` writes (docs/ir.md has the
grammar), so ``str(parse(str(m))) == str(m)``.  Every parsed operation gets
``op.loc``, its position in the text, so verifier errors point at the line and
column.  Operand types are not written in the text: they are the types of the
operands' definitions, which precede their uses.

Errors are :class:`~symcomp.ir.errors.ParseError` (malformed text) or
:class:`~symcomp.ir.errors.VerifyError` (well-formed text that breaks a rule
of the IR); each carries ``file:line:col`` and the offending line with a caret.
"""

from __future__ import annotations

import difflib
import importlib
import json
import math
import pkgutil
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from symcomp.ir import verifier
from symcomp.ir.core import Block, Location, Operation, Region, Value
from symcomp.ir.errors import ParseError, VerifyError
from symcomp.ir.gcpause import gc_paused
from symcomp.ir.lexer import Lexer, Token
from symcomp.ir.module import ModuleOp, new_func, new_module
from symcomp.ir.opdef import OPS, Dense, DTypeAttr, normalize_attrs
from symcomp.ir.types import ALL_DTYPES, DType, TensorType, from_ir_name

MAX_NESTING = 32
"""Deepest nesting of attribute lists and regions the parser accepts."""

MAX_DENSE_ELEMENTS = 1 << 26
"""Largest constant (in elements) a ``dense<...>`` attribute may describe."""

MAX_FUSED_BODY_OPS = 128
"""Most operations an ``sc.fused`` body may hold in IR text (twice the ``fuse`` pass's default
``max-ops``, which it may not exceed either): compile time grows with the body, and 3,000 ops
took minutes."""

MAX_CONSTANT_BYTES = 1 << 30
"""Default budget of one parsed module's ``dense<...>`` constants, in bytes of array data (1 GiB).

A splat such as ``dense<1.0> : tensor<67108864xf64>`` is 40 bytes of text for 512 MiB of data:
the parser keeps it as a broadcast view of one element, but a backend that compiles it
materializes it.  ``parse(..., max_constant_bytes=N)`` and ``symcomp-opt
--max-constant-bytes=N`` change the budget."""

_DTYPE_NAMES = ", ".join(d.ir for d in ALL_DTYPES)


def parse(text: str, filename: str = "<string>", *, first_line: int = 1, verify: bool = True,
          max_constant_bytes: Optional[int] = None) -> ModuleOp:
    """Parse IR text into a ``builtin.module`` and verify it.

    Args:
        text: the IR, as printed by ``str(module)`` (a ``module { ... }``, or
            bare ``func.func`` operations, which are wrapped in a module).
        filename: the name used in locations and error messages.
        first_line: the line number of the first line of ``text`` (when it is a
            chunk of a larger file).
        verify: run the verifier on the result (the default).
        max_constant_bytes: the most bytes of array data all ``dense<...>`` constants of the
            module may describe together (default :data:`MAX_CONSTANT_BYTES`, 1 GiB).  Splats
            count in full: ``dense<1.0> : tensor<1024xf64>`` is 8 KiB.

    Returns:
        The module; each operation's ``loc`` is its position in ``text``.

    Raises:
        ParseError: for malformed text, or constants over ``max_constant_bytes`` (the error
            points at the constant that crosses it and names the budget).
        VerifyError: for text that parses but breaks a rule of the IR (a type
            that disagrees with the op's type rule, a bad attribute, a value used
            before its definition...).
        TypeError: if ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() expects IR text as a str, got {type(text).__name__}")
    load_ops()
    budget = MAX_CONSTANT_BYTES if max_constant_bytes is None else max_constant_bytes
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < 0:
        raise ValueError(f"max_constant_bytes must be an int >= 0, got {max_constant_bytes!r}")
    with gc_paused():
        parser = _Parser(Lexer(text, filename, first_line), budget)
        module = parser.module()
    if verify:
        verifier.verify(module)
    parser.check_signatures()
    return module


def load_ops() -> None:
    """Import every module of :mod:`symcomp.ir.ops` so that every op is in ``OPS``."""
    import symcomp.ir.ops as ops

    for info in pkgutil.iter_modules(ops.__path__):
        importlib.import_module(f"symcomp.ir.ops.{info.name}")


@dataclass(frozen=True)
class _DenseLiteral:
    """A ``dense<...>`` attribute before its type is known: leaves are tokens, or a hex string."""

    body: Any  # a Token, a nested list of Tokens, or the decoded "0x..." string
    pos: int

    def __repr__(self) -> str:
        return "dense<...>"


@dataclass(frozen=True)
class _RawAttr:
    value: Any
    key_pos: int
    value_pos: int


class _Parser:
    def __init__(self, lexer: Lexer, constant_budget: int = MAX_CONSTANT_BYTES):
        self.lex = lexer
        self.constant_budget = constant_budget
        self.constant_bytes = 0
        self.tok = lexer.next()
        self.scopes: list[dict[str, tuple[Value, int]]] = []
        self.depth = 0
        self.signatures: list[tuple[Operation, list[TensorType]]] = []
        self.types: dict[tuple, TensorType] = {}  # types are immutable: one object per distinct type

    # -- token helpers --------------------------------------------------------------------
    def error(self, message: str, pos: Optional[int] = None) -> ParseError:
        return self.lex.error(message, self.tok.pos if pos is None else pos)

    def loc(self, pos: int) -> Location:
        return self.lex.location(pos)

    def advance(self) -> Token:
        tok = self.tok
        self.tok = self.lex.next()
        return tok

    def at(self, text: str) -> bool:
        return self.tok.kind in ("punct", "ident") and self.tok.text == text

    def accept(self, text: str) -> Optional[Token]:
        return self.advance() if self.at(text) else None

    def expect(self, text: str, context: str = "") -> Token:
        if not self.at(text):
            raise self.error(f"expected '{text}'{context}, got {self.tok.describe()}")
        return self.advance()

    def expect_kind(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"expected {what}, got {self.tok.describe()}")
        return self.advance()

    def nest(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"nesting deeper than {MAX_NESTING} levels", pos)

    # -- SSA names ------------------------------------------------------------------------------
    def define(self, tok: Token, value: Value) -> None:
        name = tok.text[1:]
        for scope in self.scopes:
            if name in scope:
                first = self.loc(scope[name][1])
                raise self.error(f"redefinition of value %{name} (first defined at {first.line}:{first.col})",
                                 tok.pos)
        self.scopes[-1][name] = (value, tok.pos)

    def lookup(self, tok: Token) -> Value:
        name = tok.text[1:]
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name][0]
        raise self.error(f"use of undefined value %{name}", tok.pos)

    @staticmethod
    def hint(tok: Token) -> Optional[str]:
        """The name hint a printed name stands for (numbers are the printer's own)."""
        name = tok.text[1:]
        return None if name.isdigit() else name

    # -- module and functions ---------------------------------------------------------------
    def module(self) -> ModuleOp:
        module = new_module()
        module.loc = self.loc(self.tok.pos)
        if self.at("module"):
            self.advance()
            opened = self.expect("{", " after 'module'")
            while not self.at("}"):
                if self.tok.kind == "eof":
                    raise self.error(f"unexpected end of file: the module opened at {self._at(opened)} "
                                     "is not closed with '}'")
                if not self.at("func.func"):
                    raise self.error(f"expected 'func.func' or '}}' in the module body, got {self.tok.describe()}")
                module.body.append(self.func())
            self.advance()
        elif self.at("func.func"):
            while self.at("func.func"):
                module.body.append(self.func())
        else:
            raise self.error(f"expected 'module' or 'func.func', got {self.tok.describe()}")
        if self.tok.kind != "eof":
            raise self.error(f"expected end of file after the module, got {self.tok.describe()}")
        return module

    def _at(self, tok: Token) -> str:
        loc = self.loc(tok.pos)
        return f"{loc.line}:{loc.col}"

    def func(self) -> Operation:
        head = self.advance()
        sym = self.expect_kind("symbol", "a function name such as @main")
        name = sym.text[1:]
        if name.startswith('"'):
            name = self.string_value(Token("string", name, sym.pos + 1))
        self.expect("(", " to open the parameter list")
        self.scopes.append({})
        params: list[tuple[Token, TensorType, dict]] = []
        if not self.at(")"):
            while True:
                vt = self.expect_kind("value", "a parameter such as %x")
                self.expect(":", " and the parameter's type")
                ty, _ = self.type()
                attrs = self.arg_attrs() if self.at("{") else {}
                params.append((vt, ty, attrs))
                if not self.accept(","):
                    break
        self.expect(")", " to close the parameter list")
        declared: list[tuple[TensorType, int]] = []
        if self.accept("->"):
            self.expect("(", " to open the result types")
            if not self.at(")"):
                declared = self.type_list()
            self.expect(")", " to close the result types")
        func = new_func(name, [t for _, t, _ in params], [self.hint(v) for v, _, _ in params])
        func.loc = self.loc(head.pos)
        for (vt, _, attrs), arg in zip(params, func.args):
            self.define(vt, arg)
            arg.attributes = attrs
        opened = self.expect("{", " to open the function body")
        self.block_ops(func.body, f"the body of @{name} opened at {self._at(opened)}")
        self.advance()
        self.scopes.pop()
        self.signatures.append((func, [t for t, _ in declared]))
        return func

    def check_signatures(self) -> None:
        """Each function's declared result types must be the types its ``func.return`` returns."""
        for func, want in self.signatures:
            ret = func.body.last
            if ret is None or ret.name != "func.return":
                continue  # the verifier reports the missing terminator
            got = [v.type for v in ret.operands]
            if got != want:
                raise VerifyError(f"func.return: returns ({', '.join(map(str, got))}) but @{func.sym_name} "
                                  f"declares results ({', '.join(map(str, want))})", ret.loc)

    def arg_attrs(self) -> dict:
        out = {}
        for key, raw in self.attr_dict().items():
            kind = verifier.ARG_ATTRS.get(key)
            if kind is None:
                known = ", ".join(verifier.ARG_ATTRS)
                raise VerifyError(f"unknown parameter attribute '{key}' (known: {known})", self.loc(raw.key_pos))
            out[key] = self.coerce(kind, raw, f"parameter attribute '{key}'")
        return out

    # -- operations -------------------------------------------------------------------------------
    def block_ops(self, block: Block, what: str) -> None:
        while not self.at("}"):
            if self.tok.kind == "eof":
                raise self.error(f"unexpected end of file: {what} is not closed with '}}'")
            if self.tok.kind == "block":
                raise self.error("a region holds a single block: unexpected block label")
            block.append(self.operation())

    def operation(self) -> Operation:
        results: list[Token] = []
        if self.tok.kind == "value":
            while True:
                results.append(self.expect_kind("value", "a result name such as %0"))
                if not self.accept(","):
                    break
            self.expect("=", " after the result names")
        name_tok = self.tok
        if name_tok.kind != "ident":
            raise self.error(f"expected an operation name such as sc.add, got {name_tok.describe()}")
        cls = OPS.get(name_tok.text)
        if cls is None:
            close = difflib.get_close_matches(name_tok.text, OPS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise self.error(f"unknown operation '{name_tok.text}'{hint}")
        if cls.name in ("builtin.module", "func.func"):
            raise self.error(f"'{cls.name}' may only appear at the top level")
        self.advance()
        loc = self.loc(name_tok.pos)
        operands = []
        if self.tok.kind == "value" and self.lex.line_of(self.tok.pos) == self.lex.line_of(name_tok.pos):
            while True:
                operands.append(self.lookup(self.expect_kind("value", "an operand such as %0")))
                if not self.accept(","):
                    break
        raw = self.attr_dict() if self.at("{") else {}
        types: list[tuple[TensorType, int]] = []
        colon = self.accept(":")
        if colon is not None:
            types = self.type_list()
        regions = self.regions() if self.at("(") else []
        if len(types) != len(results):
            if not results:
                raise self.error(f"'{cls.name}' has no result names, so it takes no result types", colon.pos)
            if colon is None:
                raise self.error(f"expected ':' and {len(results)} result type(s) after '{cls.name}'", name_tok.pos)
            raise self.error(f"{len(results)} result name(s) but {len(types)} result type(s)", colon.pos)
        n_body = sum(1 for _ in regions[0].blocks[0].ops) - 1 if cls.name == "sc.fused" and regions else 0
        if n_body > MAX_FUSED_BODY_OPS:  # (less its sc.yield)
            raise self.error(f"sc.fused body of {n_body} operations exceeds the "
                             f"parser's limit of {MAX_FUSED_BODY_OPS} (the fuse pass makes bodies of at most "
                             "max-ops, 64 by default): split it into several sc.fused ops", name_tok.pos)
        attrs = self.op_attrs(cls, raw, [t for t, _ in types], loc)
        op = cls(operands, [t for t, _ in types], attrs, regions, loc, [self.hint(t) for t in results])
        for tok, r in zip(results, op.results):
            self.define(tok, r)
        return op

    def regions(self) -> list[Region]:
        self.expect("(")
        regions = [self.region()]
        while self.accept(","):
            regions.append(self.region())
        self.expect(")", " to close the region list")
        return regions

    def region(self) -> Region:
        opened = self.expect("{", " to open a region")
        self.nest(opened.pos)
        self.scopes.append({})
        self.expect_kind("block", "a block label such as ^bb0")
        self.expect("(", " to open the block arguments")
        args: list[tuple[Token, TensorType]] = []
        if not self.at(")"):
            while True:
                vt = self.expect_kind("value", "a block argument such as %a")
                self.expect(":", " and the argument's type")
                args.append((vt, self.type()[0]))
                if not self.accept(","):
                    break
        self.expect(")", " to close the block arguments")
        self.expect(":", " after the block label")
        block = Block([t for _, t in args], [self.hint(v) for v, _ in args])
        for (vt, _), a in zip(args, block.args):
            self.define(vt, a)
        self.block_ops(block, f"the region opened at {self._at(opened)}")
        self.advance()
        self.scopes.pop()
        self.depth -= 1
        return Region([block])

    # -- types ---------------------------------------------------------------------------------------
    def type(self) -> tuple[TensorType, int]:
        head = self.tok
        if not self.at("tensor"):
            raise self.error(f"expected a type such as tensor<?x3xf64>, got {head.describe()}")
        self.advance()
        if not self.at("<"):
            raise self.error(f"expected '<' after 'tensor', got {self.tok.describe()}")
        dims, dt_text, offsets = self.lex.tensor_body()
        key = (tuple(dims), dt_text)
        ty = self.types.get(key)
        if ty is None:
            dt = from_ir_name(dt_text)
            if dt is None:
                raise self.error(f"unknown element type '{dt_text}' (expected one of {_DTYPE_NAMES})", offsets[-1])
            ty = self.types[key] = TensorType(dt, key[0])
        self.tok = self.lex.next()
        self.expect(">", " to close the tensor type")
        return ty, head.pos

    def type_list(self) -> list[tuple[TensorType, int]]:
        types = [self.type()]
        while self.accept(","):
            types.append(self.type())
        return types

    # -- attributes ----------------------------------------------------------------------------------
    def attr_dict(self) -> dict[str, _RawAttr]:
        self.expect("{")
        out: dict[str, _RawAttr] = {}
        if not self.at("}"):
            while True:
                key = self.expect_kind("ident", "an attribute name")
                if key.text in out:
                    raise self.error(f"attribute '{key.text}' is given twice", key.pos)
                self.expect("=", f" after the attribute name '{key.text}'")
                pos = self.tok.pos
                out[key.text] = _RawAttr(self.attr_value(), key.pos, pos)
                if not self.accept(","):
                    break
        self.expect("}", " to close the attribute dictionary")
        return out

    def attr_value(self) -> Any:
        tok = self.tok
        if tok.kind == "int":
            self.advance()
            return int(tok.text)
        if tok.kind == "float":
            self.advance()
            return float(tok.text)
        if tok.kind == "string":
            self.advance()
            return self.string_value(tok)
        if tok.kind == "punct" and tok.text == "?":
            self.advance()
            return None
        if tok.kind == "punct" and tok.text == "[":
            self.advance()
            self.nest(tok.pos)
            items = []
            if not self.at("]"):
                while True:
                    items.append(self.attr_value())
                    if not self.accept(","):
                        break
            self.expect("]", " to close the list")
            self.depth -= 1
            return tuple(items)
        if tok.kind == "ident":
            if tok.text in ("true", "false"):
                self.advance()
                return tok.text == "true"
            if tok.text in ("inf", "nan"):
                self.advance()
                return float(tok.text)
            if tok.text == "dense":
                return self.dense()
            if tok.text == "tensor":
                return self.type()[0]
            dt = from_ir_name(tok.text)
            if dt is not None:
                self.advance()
                return dt
        raise self.error(f"expected an attribute value, got {tok.describe()}")

    def string_value(self, tok: Token) -> str:
        try:
            return json.loads(tok.text)
        except ValueError:
            raise self.error("invalid escape sequence in string literal", tok.pos) from None

    def coerce(self, kind, raw: _RawAttr, what: str):
        if isinstance(raw.value, _DenseLiteral):
            raise VerifyError(f"{what}: expected a {kind.name}, got dense<...>", self.loc(raw.value_pos))
        try:
            return kind.coerce(raw.value)
        except TypeError as exc:
            raise VerifyError(f"{what}: {exc}", self.loc(raw.value_pos)) from None

    def op_attrs(self, cls, raw: dict[str, _RawAttr], types: list[TensorType], loc: Location) -> dict:
        out = {}
        for key, r in raw.items():
            kind = cls.attr_kinds.get(key)
            if kind is None and "." in key:  # discardable (see normalize_attrs): kept as written
                if isinstance(r.value, _DenseLiteral):
                    raise VerifyError(f"{cls.name}: discardable attribute '{key}' cannot be dense<...>",
                                      self.loc(r.value_pos))
                out[key] = r.value
                continue
            if kind is None:
                known = ", ".join(cls.attr_kinds) or "none"
                raise VerifyError(f"{cls.name}: unknown attribute '{key}' (known: {known})", self.loc(r.key_pos))
            if kind is Dense:
                if not isinstance(r.value, _DenseLiteral):
                    raise VerifyError(f"{cls.name}: attribute '{key}' must be written dense<...>",
                                      self.loc(r.value_pos))
                if len(types) != 1:
                    raise self.error(f"dense<...> takes its type from the single result of '{cls.name}'",
                                     r.value_pos)
                out[key] = self.dense_value(r.value, types[0])
            elif kind is DTypeAttr and not isinstance(r.value, DType):
                raise VerifyError(f"{cls.name}: attribute '{key}': expected an element type ({_DTYPE_NAMES}), "
                                  f"got {r.value!r}", self.loc(r.value_pos))
            else:
                out[key] = self.coerce(kind, r, f"{cls.name}: attribute '{key}'")
        return normalize_attrs(cls, out, loc)

    # -- dense<...> ----------------------------------------------------------------------------------
    def dense(self) -> _DenseLiteral:
        head = self.advance()
        self.expect("<", " after 'dense'")
        if self.tok.kind == "string":
            body = self.string_value(self.tok)
            self.advance()
        else:
            body = self.dense_elements()
        if not self.at(">"):
            raise self.error(f"expected '>' to close dense<...>, got {self.tok.describe()}")
        self.advance()
        return _DenseLiteral(body, head.pos)

    def dense_elements(self):
        tok = self.tok
        if tok.kind == "punct" and tok.text == "[":
            self.advance()
            self.nest(tok.pos)
            items = []
            if not self.at("]"):
                while True:
                    items.append(self.dense_elements())
                    if not self.accept(","):
                        break
            self.expect("]", " to close the list")
            self.depth -= 1
            return items
        if tok.kind in ("int", "float") or (tok.kind == "ident" and tok.text in ("true", "false", "inf", "nan")):
            return self.advance()
        raise self.error(f"expected a number, true, false or '[' in dense<...>, got {tok.describe()}")

    def dense_value(self, lit: _DenseLiteral, ty: TensorType) -> np.ndarray:
        """The array a dense literal denotes for result type ``ty``."""
        if not ty.is_static:
            raise self.error(f"dense<...> needs a result type with a static shape, got {ty}", lit.pos)
        n = math.prod(ty.shape)
        if n > MAX_DENSE_ELEMENTS:
            raise self.error(f"dense<...> of {n} elements exceeds the parser's limit of {MAX_DENSE_ELEMENTS}",
                             lit.pos)
        dt = ty.dtype
        if math.prod(d for d in ty.shape if d) * dt.itemsize >= 1 << 63:
            raise self.error(f"dense<...> of type {ty}: its dimensions describe more than 2^63 bytes, "
                             "which no array can hold", lit.pos)
        nbytes = n * dt.itemsize
        self.constant_bytes += nbytes
        if self.constant_bytes > self.constant_budget:
            raise self.error(f"dense<...> of type {ty} ({nbytes} bytes) brings the module's constants to "
                             f"{self.constant_bytes} bytes, over the budget of {self.constant_budget} bytes "
                             "(raise it with parse(..., max_constant_bytes=N) or symcomp-opt "
                             "--max-constant-bytes=N)", lit.pos)
        if isinstance(lit.body, str):
            return self._dense_hex(lit, ty, n)
        if isinstance(lit.body, Token):
            # A splat stays one element, broadcast (read-only, strides 0): 40 bytes of text must not
            # become 512 MiB while parsing.  Whoever needs the data materializes it.
            return np.broadcast_to(np.array(self.scalar(lit.body, dt), dtype=dt.np), ty.shape)
        shape, leaves = self._nested_shape(lit.body, lit.pos)
        if shape != ty.shape and not (n == 0 and not leaves):
            raise self.error(f"dense<...> has shape {shape} but the result type is {ty}", lit.pos)
        values = [self.scalar(t, dt) for t in leaves]
        return np.array(values, dtype=dt.np).reshape(ty.shape)

    def _nested_shape(self, items, pos: int) -> tuple[tuple, list[Token]]:
        if isinstance(items, Token):
            return (), [items]
        if not items:
            return (0,), []
        parts = [self._nested_shape(x, pos) for x in items]
        shapes = {s for s, _ in parts}
        if len(shapes) != 1:
            raise self.error("dense<...> lists must be rectangular (every sub-list of one length)", pos)
        return (len(items),) + shapes.pop(), [t for _, leaves in parts for t in leaves]

    def scalar(self, tok: Token, dt: DType):
        text = tok.text
        if dt.is_bool:
            if text not in ("true", "false"):
                raise self.error(f"expected true or false for an element of type {dt.ir}, got {tok.describe()}",
                                 tok.pos)
            return text == "true"
        if dt.is_int:
            if tok.kind != "int":
                raise self.error(f"expected an integer for an element of type {dt.ir}, got {tok.describe()}",
                                 tok.pos)
            v, info = int(text), np.iinfo(dt.np)
            if not info.min <= v <= info.max:
                raise self.error(f"integer {v} does not fit in {dt.ir}", tok.pos)
            return v
        if tok.kind == "ident" and text in ("true", "false"):
            raise self.error(f"expected a number for an element of type {dt.ir}, got {tok.describe()}", tok.pos)
        v = float(text)
        with np.errstate(over="ignore"):
            rounded = dt.np.type(v)
        if math.isfinite(v) and not np.isfinite(rounded):
            raise self.error(f"{text} is out of range for {dt.ir}", tok.pos)
        return rounded

    def _dense_hex(self, lit: _DenseLiteral, ty: TensorType, n: int) -> np.ndarray:
        text = lit.body
        if not text.startswith("0x"):
            raise self.error('expected elements or a hex string "0x..." in dense<...>', lit.pos)
        try:
            data = bytes.fromhex(text[2:])
        except ValueError:
            raise self.error("dense<\"0x...\"> holds a character that is not a hex digit", lit.pos) from None
        dt = ty.dtype
        if len(data) != n * dt.itemsize:
            raise self.error(f"dense<\"0x...\"> holds {len(data)} bytes but {ty} needs {n * dt.itemsize}",
                             lit.pos)
        raw = np.frombuffer(data, dtype=dt.np.newbyteorder("<"))
        if dt.is_bool and np.frombuffer(data, dtype=np.uint8).max(initial=0) > 1:
            raise self.error("dense<\"0x...\"> of booleans may only hold bytes 00 and 01", lit.pos)
        return raw.astype(dt.np).reshape(ty.shape)
