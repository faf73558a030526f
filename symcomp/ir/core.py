"""SSA values, operations, blocks and regions: the mutable core of the IR.

The model follows MLIR (and xDSL): an :class:`Operation` has operands (SSA
values), results, an attribute dictionary and regions; a :class:`Region` holds
:class:`Block` s; a block holds a doubly linked list of operations and has
:class:`BlockArgument` s.

Operations may also live *detached* (``op.parent is None``).  The symbolic
front-end builds such detached graphs (a Theano-style expression graph is just
a set of detached ops); :func:`symcomp.function` clones them into a block.  Use
lists are kept only for attached operations, so building expressions never
makes user variables hold on to every expression built from them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

from symcomp.ir.operators import TensorOperators
from symcomp.ir.types import TensorType

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Location:
    """Where an operation came from.

    Attributes:
        file: the Python file (user code) or IR file name.
        line: 1-based line number.
        col: 1-based column for IR text, 0 for Python code.
        source: the text of that line, when known (used for carets in errors).
    """

    file: str
    line: int
    col: int = 0
    source: Optional[str] = None

    @staticmethod
    def capture() -> Optional["Location"]:
        """The first Python frame outside the symcomp package (the user's line).

        Cheap: a frame walk with no source lookup (the line text is read only
        when an error is reported).
        """
        f = sys._getframe(1)
        while f is not None and f.f_code.co_filename.startswith(_PKG_DIR):
            f = f.f_back
        if f is None:
            return None
        return Location(f.f_code.co_filename, f.f_lineno)

    def __str__(self) -> str:
        if self.col:
            return f"{self.file}:{self.line}:{self.col}"
        return f"{self.file}:{self.line}"


class Value(TensorOperators):
    """An SSA value: defined once, typed by a :class:`TensorType`.

    Attributes:
        type: the value's tensor type.
        name: an optional name hint (the user's variable name, printed as ``%name``).
    """

    __slots__ = ("type", "name", "_uses", "__weakref__")

    def __init__(self, type: TensorType, name: Optional[str] = None):
        if not isinstance(type, TensorType):
            raise TypeError(f"a value's type must be a TensorType, got {type!r}")
        self.type = type
        self.name = name
        self._uses: list[tuple["Operation", int]] = []

    @property
    def owner(self) -> Optional["Operation"]:
        """The defining operation, or None for arguments and placeholders."""
        return None

    @property
    def uses(self) -> list[tuple["Operation", int]]:
        """(operation, operand index) pairs of the attached operations using this value."""
        return self._uses

    def users(self) -> list["Operation"]:
        seen: dict[int, Operation] = {}
        for op, _ in self._uses:
            seen.setdefault(id(op), op)
        return list(seen.values())

    def replace_all_uses_with(self, new: "Value") -> None:
        """Make every attached user of this value use ``new`` instead.

        Raises:
            TypeError: if ``new`` has a different type.
        """
        if new is self:
            return
        if new.type != self.type:
            raise TypeError(f"cannot replace a value of type {self.type} with one of type {new.type}")
        for op, i in list(self._uses):
            op.set_operand(i, new)

    def __repr__(self) -> str:
        label = self.name or hex(id(self))
        return f"<{type(self).__name__} {label}: {self.type}>"


class OpResult(Value):
    """A result of an operation."""

    __slots__ = ("_owner", "index")

    def __init__(self, type: TensorType, owner: "Operation", index: int, name: Optional[str] = None):
        super().__init__(type, name)
        self._owner = owner
        self.index = index

    @property
    def owner(self) -> "Operation":
        return self._owner


class BlockArgument(Value):
    """An argument of a block (a function parameter, or a fused op's scalar input)."""

    __slots__ = ("block", "index", "attributes")

    def __init__(self, type: TensorType, block: "Block", index: int, name: Optional[str] = None):
        super().__init__(type, name)
        self.block = block
        self.index = index
        self.attributes: dict[str, Any] = {}


class Placeholder(Value):
    """A free symbolic input built by the front-end (``T.matrix('x')``).

    It becomes a function parameter when a graph is compiled.
    """

    __slots__ = ("loc",)

    def __init__(self, type: TensorType, name: Optional[str] = None):
        super().__init__(type, name)
        self.loc = Location.capture()


class Block:
    """A list of operations with arguments, in a region.

    Operations form a doubly linked list (O(1) insertion and erasure).
    """

    __slots__ = ("args", "first", "last", "parent", "__weakref__")

    def __init__(self, arg_types: Sequence[TensorType] = (), arg_names: Sequence[Optional[str]] = ()):
        names = list(arg_names) + [None] * (len(arg_types) - len(arg_names))
        self.args: list[BlockArgument] = [BlockArgument(t, self, i, n) for i, (t, n) in enumerate(zip(arg_types, names))]
        self.first: Optional[Operation] = None
        self.last: Optional[Operation] = None
        self.parent: Optional[Region] = None

    def add_arg(self, type: TensorType, name: Optional[str] = None) -> BlockArgument:
        a = BlockArgument(type, self, len(self.args), name)
        self.args.append(a)
        return a

    @property
    def ops(self) -> Iterator["Operation"]:
        """Iterate the operations (safe against erasing the current one)."""
        op = self.first
        while op is not None:
            nxt = op.next
            yield op
            op = nxt

    def __len__(self) -> int:
        return sum(1 for _ in self.ops)

    @property
    def terminator(self) -> Optional["Operation"]:
        return self.last

    def append(self, op: "Operation") -> "Operation":
        return self.insert_before(op, None)

    def insert_before(self, op: "Operation", before: Optional["Operation"]) -> "Operation":
        """Attach a detached ``op`` before ``before`` (or at the end if None).

        Raises:
            ValueError: if ``op`` is already in a block.
        """
        if op.parent is not None:
            raise ValueError(f"operation {op.name} is already in a block")
        if before is None:
            op.prev, op.next = self.last, None
            if self.last is not None:
                self.last.next = op
            else:
                self.first = op
            self.last = op
        else:
            if before.parent is not self:
                raise ValueError("insertion point is not in this block")
            op.prev, op.next = before.prev, before
            if before.prev is not None:
                before.prev.next = op
            else:
                self.first = op
            before.prev = op
        op.parent = self
        op._register_uses()
        return op

    def index_of(self) -> dict["Operation", int]:
        """Position of every operation (for dominance checks)."""
        return {op: i for i, op in enumerate(self.ops)}


class Region:
    """A list of blocks owned by an operation (symcomp uses single-block regions)."""

    __slots__ = ("blocks", "parent")

    def __init__(self, blocks: Sequence[Block] = ()):
        self.blocks: list[Block] = []
        self.parent: Optional[Operation] = None
        for b in blocks:
            self.add_block(b)

    def add_block(self, block: Block) -> Block:
        block.parent = self
        self.blocks.append(block)
        return block

    @property
    def block(self) -> Block:
        """The only block of a single-block region."""
        return self.blocks[0]


class Operation:
    """Base class of every operation.

    Subclasses are declared with :func:`symcomp.ir.opdef.op`, which fills the
    class-level schema (``name``, ``traits``, operand names, attribute kinds).

    Attributes:
        operands: the SSA values used, in order.
        results: the values defined.
        attributes: name -> Python value (int, float, bool, str, tuple, DType, ndarray).
        regions: nested regions (the body of a fused op, of a function).
        parent: the block holding the op, or None while detached.
        loc: where the op was created (user's Python line or IR text position).
    """

    # Filled by the @op decorator.
    name: str = "builtin.unknown"
    traits: frozenset = frozenset()
    operand_names: tuple[str, ...] = ()
    variadic: bool = False
    attr_kinds: dict = {}
    attr_defaults: dict = {}
    n_results: int = 1
    n_regions: int = 0

    __slots__ = ("operands", "results", "attributes", "regions", "parent", "prev", "next", "loc", "__weakref__")

    def __init__(self, operands: Sequence[Value], result_types: Sequence[TensorType],
                 attributes: Optional[dict] = None, regions: Sequence[Region] = (),
                 loc: Optional[Location] = None, result_names: Sequence[Optional[str]] = ()):
        for i, v in enumerate(operands):
            if not isinstance(v, Value):
                raise TypeError(f"{self.name}: operand #{i} must be an SSA value, got {type(v).__name__}")
        self.operands: list[Value] = list(operands)
        names = list(result_names) + [None] * (len(result_types) - len(result_names))
        self.results: list[OpResult] = [OpResult(t, self, i, n) for i, (t, n) in enumerate(zip(result_types, names))]
        self.attributes: dict[str, Any] = dict(attributes or {})
        self.regions: list[Region] = []
        for r in regions:
            r.parent = self
            self.regions.append(r)
        self.parent: Optional[Block] = None
        self.prev: Optional[Operation] = None
        self.next: Optional[Operation] = None
        self.loc = loc

    # -- structure ---------------------------------------------------------------
    @property
    def result(self) -> OpResult:
        """The single result.

        Raises:
            ValueError: if the op has no result or several.
        """
        if len(self.results) != 1:
            raise ValueError(f"{self.name} has {len(self.results)} results, not one")
        return self.results[0]

    def has_trait(self, trait) -> bool:
        return trait in self.traits

    @property
    def body(self) -> Block:
        """The single block of the op's first region."""
        return self.regions[0].block

    def _register_uses(self) -> None:
        for i, v in enumerate(self.operands):
            v._uses.append((self, i))

    def _unregister_uses(self) -> None:
        for i, v in enumerate(self.operands):
            try:
                v._uses.remove((self, i))
            except ValueError:
                pass

    def set_operand(self, index: int, value: Value) -> None:
        """Replace operand ``index`` (keeps use lists right for attached ops)."""
        old = self.operands[index]
        if self.parent is not None:
            try:
                old._uses.remove((self, index))
            except ValueError:
                pass
            value._uses.append((self, index))
        self.operands[index] = value

    def detach(self) -> "Operation":
        """Unlink the op from its block (its results may still be used)."""
        blk = self.parent
        if blk is None:
            return self
        if self.prev is not None:
            self.prev.next = self.next
        else:
            blk.first = self.next
        if self.next is not None:
            self.next.prev = self.prev
        else:
            blk.last = self.prev
        self.prev = self.next = None
        self.parent = None
        self._unregister_uses()
        return self

    def erase(self) -> None:
        """Remove the op; its results must be unused.

        Raises:
            ValueError: if a result still has uses.
        """
        for r in self.results:
            if r._uses:
                users = ", ".join(sorted({u.name for u, _ in r._uses}))
                raise ValueError(f"cannot erase {self.name}: its result is still used by {users}")
        for reg in self.regions:
            for b in reg.blocks:
                for o in list(b.ops):
                    o.detach()
        self.detach()

    def walk(self) -> Iterator["Operation"]:
        """This op and every op nested in its regions, in pre-order."""
        yield self
        for reg in self.regions:
            for b in reg.blocks:
                for o in b.ops:
                    yield from o.walk()

    @property
    def parent_op(self) -> Optional["Operation"]:
        if self.parent is None or self.parent.parent is None:
            return None
        return self.parent.parent.parent

    def clone(self, mapping: dict[Value, Value]) -> "Operation":
        """A detached copy whose operands are looked up in ``mapping``.

        Results of the copy are added to ``mapping``; regions are cloned
        recursively.
        """
        regions = []
        for reg in self.regions:
            new_reg = Region()
            for b in reg.blocks:
                nb = Block([a.type for a in b.args], [a.name for a in b.args])
                for a, na in zip(b.args, nb.args):
                    na.attributes = dict(a.attributes)
                    mapping[a] = na
                for o in b.ops:
                    nb.append(o.clone(mapping))
                new_reg.add_block(nb)
            regions.append(new_reg)
        new = type(self)(
            [mapping.get(v, v) for v in self.operands],
            [r.type for r in self.results],
            dict(self.attributes),
            regions,
            self.loc,
            [r.name for r in self.results],
        )
        for r, nr in zip(self.results, new.results):
            mapping[r] = nr
        return new

    def __repr__(self) -> str:
        return f"<{self.name} at {hex(id(self))}>"

    def infer_concrete(self, arrays) -> list[TensorType]:
        """Result types for concrete operand arrays (every shape and value known)."""
        import numpy as np

        arrays = [np.asarray(a) for a in arrays]
        types = [v.type.with_shape(a.shape) for v, a in zip(self.operands, arrays)]
        out = self.infer_for(types, arrays)
        self.check_broadcast([a.shape for a in arrays], arrays, [t.shape for t in out])
        return out

    def check_broadcast(self, shapes: list, values: list, result_shapes: list) -> None:
        """Check concrete operand shapes against the static broadcasting rule (ops that broadcast override).

        Only axes whose *static* size is 1 may stretch; a dynamic axis that
        happens to be 1 at run time must match (Theano's rule).

        Raises:
            ValueError: where an axis not statically of size 1 would have to stretch.
        """

    def infer_for(self, types: list[TensorType], values: list) -> list[TensorType]:
        """Result types of this op for other operand types (ops with regions override)."""
        return type(self).infer(types, self.attributes, values)

    # -- rules overridden by op definitions -----------------------------------------
    @classmethod
    def infer(cls, types: list[TensorType], attrs: dict, values: list) -> list[TensorType]:
        """Result types from operand types, attributes and known operand values.

        ``values[i]`` is the NumPy value of operand ``i`` when known (a
        constant at trace time, the actual value when planning a call), else
        None.  Called by the front-end, the verifier and the backends' shape
        planning: one type rule, used everywhere.
        """
        raise NotImplementedError(f"{cls.name} has no type inference rule")

    def verify_extra(self) -> None:
        """Op-specific checks beyond the type rule (raise VerifyError)."""

    def ref(self, *args):
        """NumPy reference semantics: operand arrays in, result array(s) out."""
        raise NotImplementedError(f"{self.name} has no reference implementation")

    def vjp(self, grads: list):
        """Vector-Jacobian product: cotangents of results -> cotangents of operands.

        Written with the front-end API so gradients are themselves graphs.
        Returns one entry per operand (None where the operand gets no gradient).
        """
        raise NotImplementedError(f"{self.name} is not differentiable")


def walk_graph(outputs: Sequence[Value], stop: Optional[set] = None) -> list[Operation]:
    """Detached or attached ops reachable backwards from ``outputs``, in topological order.

    Args:
        outputs: the values to start from.
        stop: values not to walk through (treated as leaves).
    """
    order: list[Operation] = []
    seen: set[int] = set()
    stop_ids = {id(v) for v in (stop or ())}
    stack: list[tuple[Operation, bool]] = []
    for v in reversed(list(outputs)):
        if id(v) not in stop_ids and v.owner is not None:
            stack.append((v.owner, False))
    while stack:
        op, expanded = stack.pop()
        if expanded:
            if id(op) not in seen:
                seen.add(id(op))
                order.append(op)
            continue
        if id(op) in seen:
            continue
        stack.append((op, True))
        for v in reversed(_graph_inputs(op)):
            o = v.owner
            if o is not None and id(o) not in seen and id(v) not in stop_ids:
                stack.append((o, False))
    return order


def _graph_inputs(op: Operation) -> list[Value]:
    """Operands of ``op`` plus values its regions capture from outside."""
    vals = list(op.operands)
    if op.regions:
        inner = set()
        for o in op.walk():
            if o is not op:
                inner.update(id(r) for r in o.results)
        for reg in op.regions:
            for b in reg.blocks:
                inner.update(id(a) for a in b.args)
        for o in op.walk():
            if o is not op:
                vals.extend(v for v in o.operands if id(v) not in inner)
    return vals
