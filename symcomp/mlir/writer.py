"""Writing MLIR text: SSA names, types, literals, index arithmetic and ``linalg.generic``.

:class:`FuncWriter` accumulates the body of one ``func.func`` in MLIR's custom
syntax.  Constants go to a prologue at the top of the function, so a constant
first needed inside a region (a ``linalg.generic`` body, an ``scf.for``) still
dominates every later use.  Index arithmetic folds when its operands are known
Python integers, so static shapes produce static IR.

Types follow the upstream builtin types: symcomp's ``tensor<?x3xf64>`` prints
the same, and unsigned integers become signless (``ui8`` -> ``i8``): MLIR's
arith dialect carries signedness in the operation (``arith.divui`` vs
``arith.divsi``), which the exporter picks from symcomp's dtype.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence, Union

import numpy as np

from symcomp.ir import types as T

Ix = Union[int, str]
"""An index value: a known Python int, or the name of an SSA value of type ``index``."""

_DENSE_LIST_LIMIT = 64


# -- types -----------------------------------------------------------------------------
def elem_type(dt: T.DType) -> str:
    """The MLIR element type of a symcomp dtype (signless integers: ``uint8`` -> ``i8``)."""
    if dt.is_float:
        return dt.ir
    return f"i{dt.bits}"


def _dims(shape) -> str:
    return "".join(("?" if d is None else str(d)) + "x" for d in shape)


def tensor_type(t: T.TensorType) -> str:
    """``tensor<?x3xf64>`` for a symcomp tensor type."""
    return f"tensor<{_dims(t.shape)}{elem_type(t.dtype)}>"


def memref_type(t: T.TensorType) -> str:
    """``memref<?x3xf64>`` (identity layout) for a symcomp tensor type."""
    return f"memref<{_dims(t.shape)}{elem_type(t.dtype)}>"


# -- literals ----------------------------------------------------------------------------
def scalar_literal(value, dt: T.DType) -> str:
    """An MLIR literal for one element: ``true``, ``-3``, ``2.5``, or raw bits for inf/NaN."""
    if dt.is_bool:
        return "true" if value else "false"
    if dt.is_int:
        return str(int(value))
    v = np.asarray(value, dtype=dt.np)
    if not np.isfinite(v):
        bits = v.view(np.uint64 if dt.bits == 64 else np.uint32)
        return f"0x{int(bits):0{dt.bits // 4}X}"
    text = repr(float(v))
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:  # MLIR's float literals need a decimal point: 1e-05 -> 1.0e-05
        mantissa += ".0"
    return mantissa + ("e" + exponent if exponent else "")


def dense_literal(arr: np.ndarray, dt: T.DType) -> str:
    """``dense<...>``: a splat, a nested list (small or bool arrays) or little-endian hex bytes."""
    arr = np.asarray(arr, dtype=dt.np)
    flat = arr.reshape(-1)
    if not flat.size:
        return "dense<>"  # MLIR's spelling of an empty elements attribute, for any zero-size shape
    raw = np.ascontiguousarray(flat).view(np.uint8).reshape(flat.size, -1)
    if (raw == raw[0]).all():  # bit-identical elements: a splat
        return f"dense<{scalar_literal(flat[0], dt)}>"
    if flat.size <= _DENSE_LIST_LIMIT or dt.is_bool:

        def nest(a):
            if a.ndim == 0:
                return scalar_literal(a.item(), dt)
            return "[" + ", ".join(nest(x) for x in a) + "]"

        return f"dense<{nest(arr)}>"
    data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    return f'dense<"0x{data.hex().upper()}">'


def affine_map(rank: int, exprs: Sequence[str]) -> str:
    """``affine_map<(d0, d1) -> (0, d1)>``."""
    dims = ", ".join(f"d{i}" for i in range(rank))
    return f"affine_map<({dims}) -> ({', '.join(exprs)})>"


def identity_map(rank: int) -> str:
    return affine_map(rank, [f"d{i}" for i in range(rank)])


# -- the writer ------------------------------------------------------------------------
class FuncWriter:
    """Accumulates the text of one function body.

    Attributes:
        env: symcomp value -> name of the MLIR SSA value holding it.
        lines: body lines (indented), after the prologue.
    """

    def __init__(self, indent: int = 2):
        self.env: dict = {}
        self.lines: list[str] = []
        self.prologue: list[str] = []
        self._consts: dict[tuple, str] = {}
        self._dims: dict[tuple, Ix] = {}
        self._used: set[str] = set()
        self._counter = 0
        self.base_indent = indent
        self.depth = 0

    # -- names and lines ---------------------------------------------------------------
    def fresh(self, hint: Optional[str] = None) -> str:
        """A new, function-unique SSA name (``%x``, ``%x_1``, ``%12``)."""
        if hint:
            base = "".join(c if (c.isascii() and c.isalnum()) or c in "_$." else "_" for c in hint)
            if not (base[0].isalpha() or base[0] == "_"):
                base = "v" + base
            name, k = base, 1
            while name in self._used:
                name, k = f"{base}_{k}", k + 1
        else:
            while str(self._counter) in self._used:
                self._counter += 1
            name = str(self._counter)
        self._used.add(name)
        return "%" + name

    def line(self, text: str) -> None:
        self.lines.append("  " * (self.base_indent + self.depth) + text)

    def op(self, rhs: str, hint: Optional[str] = None) -> str:
        """Emit ``%new = rhs`` and return ``%new``."""
        name = self.fresh(hint)
        self.line(f"{name} = {rhs}")
        return name

    @contextmanager
    def region(self, opening: str, closing: str = "}") -> Iterator[None]:
        """Lines of a nested region between ``opening`` and ``closing``."""
        self.line(opening)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
            self.line(closing)

    def scf_if(self, cond: str, types: Sequence[str], then: Callable[[], Sequence[str]],
               otherwise: Callable[[], Sequence[str]], hint: Optional[str] = None) -> list[str]:
        """``scf.if cond -> (types)``: ``then()`` and ``otherwise()`` emit their region's ops and return
        the values it yields (one per type); returns the results' names."""
        names = [self.fresh(hint) for _ in types]
        ty = ", ".join(types)
        self.line(f"{', '.join(names)} = scf.if {cond} -> ({ty}) {{")
        for k, branch in enumerate((then, otherwise)):
            self.depth += 1
            self.line(f"scf.yield {', '.join(branch())} : {ty}")
            self.depth -= 1
            self.line("} else {" if k == 0 else "}")
        return names

    # -- constants (hoisted to the prologue) ---------------------------------------------------
    def const(self, value, dt: T.DType) -> str:
        """A scalar ``arith.constant`` of dtype ``dt``."""
        lit = scalar_literal(value, dt)
        key = ("s", lit, elem_type(dt))
        if key not in self._consts:
            name = self.fresh("c" if not dt.is_float else "cst")
            self._consts[key] = name
            typed = "" if dt.is_bool else f" : {elem_type(dt)}"  # MLIR spells i1 constants `true`/`false`
            self.prologue.append(f"{name} = arith.constant {lit}{typed}")
        return self._consts[key]

    def const_typed(self, lit: str, mlir_type: str) -> str:
        """An ``arith.constant`` from a literal and a type (``0``, ``i32``)."""
        key = ("t", lit, mlir_type)
        if key not in self._consts:
            name = self.fresh("c")
            self._consts[key] = name
            self.prologue.append(f"{name} = arith.constant {lit} : {mlir_type}")
        return self._consts[key]

    def dense(self, arr: np.ndarray, t: T.TensorType) -> str:
        """A tensor ``arith.constant`` holding ``arr``."""
        name = self.fresh("cst")
        self.prologue.append(f"{name} = arith.constant {dense_literal(arr, t.dtype)} : {tensor_type(t)}")
        return name

    # -- index arithmetic (folds known ints) -----------------------------------------------
    def ix(self, v: Ix) -> str:
        """The SSA name of an index value (materializing a constant for an int)."""
        return self.const_typed(str(int(v)), "index") if isinstance(v, int) else v

    def _ix_op(self, name: str, fold: Callable[[int, int], int], a: Ix, b: Ix) -> Ix:
        if isinstance(a, int) and isinstance(b, int):
            return fold(a, b)
        return self.op(f"arith.{name} {self.ix(a)}, {self.ix(b)} : index")

    def add(self, a: Ix, b: Ix) -> Ix:
        if b == 0:
            return a
        if a == 0:
            return b
        return self._ix_op("addi", lambda x, y: x + y, a, b)

    def sub(self, a: Ix, b: Ix) -> Ix:
        if b == 0:
            return a
        return self._ix_op("subi", lambda x, y: x - y, a, b)

    def mul(self, a: Ix, b: Ix) -> Ix:
        if a == 1:
            return b
        if b == 1:
            return a
        return self._ix_op("muli", lambda x, y: x * y, a, b)

    def max(self, a: Ix, b: Ix) -> Ix:
        return self._ix_op("maxsi", max, a, b)

    def min(self, a: Ix, b: Ix) -> Ix:
        return self._ix_op("minsi", min, a, b)

    def safe_ceildiv(self, a: Ix, b: Ix) -> Ix:
        """ceil(a / b) (signed); a zero divisor gives 0 instead of trapping."""
        if isinstance(a, int) and isinstance(b, int):
            return 0 if b == 0 else -(-a // b)
        is0 = self.cmp("eq", b, 0)
        safe = self.select(is0, 1, b)
        q = self._ix_op("ceildivsi", lambda x, y: -(-x // y), a, safe)
        return self.select(is0, 0, q)

    def safe_divui(self, a: Ix, b: Ix) -> Ix:
        """a // b for non-negative index values; a zero divisor gives 0 instead of trapping."""
        if isinstance(a, int) and isinstance(b, int):
            return 0 if b == 0 else a // b
        is0 = self.cmp("eq", b, 0)
        safe = self.select(is0, 1, b)
        q = self._ix_op("divui", lambda x, y: x // y, a, safe)
        return self.select(is0, 0, q)

    def cmp(self, pred: str, a: Ix, b: Ix) -> Union[bool, str]:
        """``arith.cmpi`` on index values (``slt``, ``sge``, ``eq``...); folds to a bool."""
        if isinstance(a, int) and isinstance(b, int):
            return {"eq": a == b, "ne": a != b, "slt": a < b, "sle": a <= b, "sgt": a > b, "sge": a >= b}[pred]
        return self.op(f"arith.cmpi {pred}, {self.ix(a)}, {self.ix(b)} : index")

    def select(self, cond: Union[bool, str], a: Ix, b: Ix) -> Ix:
        if isinstance(cond, bool):
            return a if cond else b
        if a == b:
            return a
        return self.op(f"arith.select {cond}, {self.ix(a)}, {self.ix(b)} : index")

    def to_index(self, scalar: str, dt: T.DType) -> str:
        """An integer scalar SSA value as ``index`` (zero-extended for unsigned dtypes)."""
        cast = "arith.index_castui" if dt.kind in "ub" else "arith.index_cast"
        return self.op(f"{cast} {scalar} : {elem_type(dt)} to index")

    def extract_scalar(self, tensor: str, t: T.TensorType) -> str:
        """The element of a rank-0 tensor."""
        return self.op(f"tensor.extract {tensor}[] : {tensor_type(t)}")

    # -- shapes -----------------------------------------------------------------------------
    def dim(self, tensor: str, t: T.TensorType, axis: int) -> Ix:
        """Size of ``axis`` of a tensor: the static size, or a (cached) ``tensor.dim``."""
        d = t.shape[axis]
        if d is not None:
            return d
        key = (tensor, axis)
        if key in self._dims and self.depth == 0:
            return self._dims[key]
        name = self.op(f"tensor.dim {tensor}, {self.ix(axis)} : {tensor_type(t)}")
        if self.depth == 0:
            self._dims[key] = name
        return name

    def record_dims(self, tensor: str, sizes: Sequence[Ix]) -> None:
        """Remember the sizes a top-level tensor was created with (later ``dim`` queries reuse them)."""
        if self.depth == 0:
            for axis, s in enumerate(sizes):
                self._dims[(tensor, axis)] = s

    def empty(self, t: T.TensorType, sizes: Sequence[Ix]) -> str:
        """``tensor.empty`` of type ``t``; ``sizes`` gives every dimension (static ones are checked)."""
        dyn = []
        for d, s in zip(t.shape, sizes):
            if d is None:
                dyn.append(self.ix(s))
            elif isinstance(s, int) and s != d:
                raise AssertionError(f"tensor.empty: size {s} for static dimension {d}")
        name = self.op(f"tensor.empty({', '.join(dyn)}) : {tensor_type(t)}")
        self.record_dims(name, sizes)
        return name

    def filled(self, t: T.TensorType, sizes: Sequence[Ix], value) -> str:
        """A tensor of type ``t`` filled with the scalar ``value`` (``linalg.fill``)."""
        e = self.empty(t, sizes)
        c = self.const(value, t.dtype)
        name = self.op(f"linalg.fill ins({c} : {elem_type(t.dtype)}) outs({e} : {tensor_type(t)}) -> {tensor_type(t)}")
        self.same_dims(name, e, t.ndim)
        return name

    def same_dims(self, dst: str, src: str, rank: int) -> None:
        """``dst`` has the sizes of ``src`` (a destination-style op's result and its init)."""
        if self.depth == 0 and all((src, a) in self._dims for a in range(rank)):
            self.record_dims(dst, [self._dims[(src, a)] for a in range(rank)])

    def cast(self, tensor: str, src: T.TensorType, dst: T.TensorType) -> str:
        """``tensor.cast`` between types of the same rank (no-op when they are equal)."""
        if src == dst:
            return tensor
        return self.op(f"tensor.cast {tensor} : {tensor_type(src)} to {tensor_type(dst)}")

    # -- linalg.generic ----------------------------------------------------------------------
    def generic(self, inputs: Sequence[tuple[str, T.TensorType, str]],
                outputs: Sequence[tuple[str, T.TensorType, str]], iterators: Sequence[str],
                body: Callable[[list[str], list[str]], list[str]]) -> list[str]:
        """Emit a ``linalg.generic``; returns its result names.

        Args:
            inputs: (value, type, indexing map) per input.
            outputs: (init value, type, indexing map) per output.
            iterators: ``"parallel"`` or ``"reduction"`` per loop.
            body: called with the names of the block's input and output
                arguments (scalars); emits the body and returns the yielded values.
        """
        maps = ", ".join(m for _, _, m in list(inputs) + list(outputs))
        its = ", ".join(f'"{i}"' for i in iterators)
        head = f"linalg.generic {{indexing_maps = [{maps}], iterator_types = [{its}]}}"
        ins = ""
        if inputs:
            ins = (" ins(" + ", ".join(v for v, _, _ in inputs) + " : "
                   + ", ".join(tensor_type(t) for _, t, _ in inputs) + ")")
        outs = (" outs(" + ", ".join(v for v, _, _ in outputs) + " : "
                + ", ".join(tensor_type(t) for _, t, _ in outputs) + ")")
        res_types = ", ".join(tensor_type(t) for _, t, _ in outputs)
        if len(outputs) > 1:
            res_types = f"({res_types})"
        name = self.fresh()
        lhs = name if len(outputs) == 1 else f"{name}:{len(outputs)}"
        results = [name] if len(outputs) == 1 else [f"{name}#{i}" for i in range(len(outputs))]
        with self.region(f"{lhs} = {head}{ins}{outs} {{", f"}} -> {res_types}"):
            in_args = [self.fresh("in") for _ in inputs]
            out_args = [self.fresh("out") for _ in outputs]
            args = [f"{a}: {elem_type(t.dtype)}" for a, (_, t, _) in zip(in_args + out_args, list(inputs) + list(outputs))]
            self.lines.append("  " * (self.base_indent + self.depth - 1) + f"^bb0({', '.join(args)}):")
            yielded = body(in_args, out_args)
            types = ", ".join(elem_type(t.dtype) for _, t, _ in outputs)
            self.line(f"linalg.yield {', '.join(yielded)} : {types}")
        for r, (init, t, _) in zip(results, outputs):
            self.same_dims(r, init, t.ndim)
        return results

    def loop_index(self, dim: int) -> str:
        """``linalg.index`` of loop ``dim`` (inside a generic body)."""
        return self.op(f"linalg.index {dim} : index")

    def text(self) -> list[str]:
        """Prologue then body lines."""
        pad = "  " * self.base_indent
        return [pad + p for p in self.prologue] + self.lines


def broadcast_map(operand_shape, loop_shape, lead: int = 0) -> str:
    """Indexing map of an operand over a loop nest (operand aligned right, ``lead`` loops before it).

    An operand axis that is statically 1 where the loop is not reads element
    0 (Theano's rule: only statically size-1 axes broadcast).
    """
    exprs = []
    for i, d in enumerate(operand_shape):
        loop_d = loop_shape[lead + i]
        exprs.append("0" if d == 1 and loop_d != 1 else f"d{lead + i}")
    return affine_map(len(loop_shape), exprs)


def prod(values: Sequence[Ix], w: FuncWriter) -> Ix:
    """Product of index values."""
    out: Ix = 1
    for v in values:
        out = w.mul(out, v)
    return out

