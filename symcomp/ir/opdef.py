"""Declaring operations: the ``@op`` decorator, operand/attribute fields, traits, the registry.

One op, one declaration (MLIR ODS, xDSL IRDL, JAX primitives): the class body
lists operands and attributes; the class supplies its type rule (``infer``),
reference semantics (``ref``), gradient (``vjp``) and extra checks
(``verify_extra``).  Backends register lowerings in their own tables keyed by
op class.  Example::

    @op("sc.sum", traits=(Pure, Reduction))
    class Sum(Operation):
        x = operand()
        axes = attr(Ints)
        ...
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Location, Operation, Region, Value
from symcomp.ir.errors import VerifyError

OPS: dict[str, type[Operation]] = {}
"""Registry: op name (``"sc.add"``) -> op class."""


# -- traits ----------------------------------------------------------------------------
class Trait:
    """Marker traits; rewrite patterns and backends test ``op.has_trait(...)``."""


class Pure(Trait):
    """No side effects: removable when unused, mergeable by CSE."""


class Elementwise(Trait):
    """Applies a scalar function to each (broadcast) element of equal-rank operands."""


class Positional(Trait):
    """An elementwise op whose value at a point is a function of the point's position (its flat
    C-order index in the result), not of operand values alone (``sc.flat_index``).  Inside an
    ``sc.fused`` body the position is the loop point's.  Rewrites that treat elementwise ops as
    pointwise functions (moving them across a broadcast, splitting their loop into blocks) must
    leave these alone."""


class Commutative(Trait):
    """Binary op whose operands may be swapped."""


class View(Trait):
    """The result aliases operand 0's memory (no data is computed)."""


class Reduction(Trait):
    """Reduces operand 0 over ``axes``."""


class SideEffect(Trait):
    """Has effects beyond its results (shared-variable updates): never removed."""


class Terminator(Trait):
    """Must be the last op of its block."""


# -- attribute kinds -----------------------------------------------------------------
class AttrKind:
    """How one attribute's value is checked and normalized."""

    name = "attribute"

    def coerce(self, value):
        """Return the normalized value or raise TypeError with what was expected."""
        raise NotImplementedError


class _Int(AttrKind):
    name = "integer"

    def coerce(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"expected an integer, got {value!r}")
        return int(value)


class _Float(AttrKind):
    name = "float"

    def coerce(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"expected a float, got {value!r}")
        return float(value)


class _Bool(AttrKind):
    name = "bool"

    def coerce(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"expected true or false, got {value!r}")
        return bool(value)


class _Str(AttrKind):
    name = "string"

    def coerce(self, value):
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {value!r}")
        return value


class _Ints(AttrKind):
    """A list of integers; ``?`` (None) entries allowed when ``dynamic``."""

    def __init__(self, dynamic: bool = False):
        self.dynamic = dynamic
        self.name = "list of integers" + (" or ?" if dynamic else "")

    def coerce(self, value):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"expected a {self.name}, got {value!r}")
        out = []
        for v in value:
            if v is None and self.dynamic:
                out.append(None)
            elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
                out.append(int(v))
            else:
                raise TypeError(f"expected a {self.name}, got entry {v!r}")
        return tuple(out)


class _Strs(AttrKind):
    name = "list of strings"

    def coerce(self, value):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"expected a list of strings, got {value!r}")
        return tuple(value)


class _DTypeKind(AttrKind):
    name = "element type"

    def coerce(self, value):
        try:
            return T.dtype(value)
        except TypeError as exc:
            raise TypeError(f"expected an element type (f64, i32, ...), got {value!r}") from exc


class _Dense(AttrKind):
    name = "dense elements"

    def coerce(self, value):
        if isinstance(value, (list, tuple, int, float, bool, np.ndarray, np.generic)):
            return np.asarray(value)
        raise TypeError(f"expected dense<...> elements, got {value!r}")


Int, Float, Bool, Str, Ints, DynInts, Strs, DTypeAttr, Dense = (
    _Int(), _Float(), _Bool(), _Str(), _Ints(), _Ints(dynamic=True), _Strs(), _DTypeKind(), _Dense(),
)

_NO_DEFAULT = object()


# -- fields ------------------------------------------------------------------------------
class operand:
    """Class-body field declaring an operand; ``variadic=True`` takes all remaining ones."""

    def __init__(self, variadic: bool = False):
        self.variadic = variadic
        self.index = 0
        self.name = ""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, op, owner=None):
        if op is None:
            return self
        if self.variadic:
            return op.operands[self.index:]
        return op.operands[self.index]


class attr:
    """Class-body field declaring an attribute of a given :class:`AttrKind`."""

    def __init__(self, kind: AttrKind, default: Any = _NO_DEFAULT):
        self.kind = kind
        self.default = default
        self.name = ""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, op, owner=None):
        if op is None:
            return self
        v = op.attributes.get(self.name, _NO_DEFAULT)
        if v is _NO_DEFAULT:
            return None if self.default is _NO_DEFAULT else self.default
        return v


def op(name: str, traits=(), results: int = 1, regions: int = 0):
    """Class decorator registering an operation under ``name`` (``dialect.mnemonic``).

    Collects the ``operand``/``attr`` fields of the class and its bases (in
    declaration order), merges traits with the bases', and adds the class to
    :data:`OPS`.

    Raises:
        ValueError: if the name is registered twice or a variadic operand is not last.
    """

    def deco(cls):
        if name in OPS:
            raise ValueError(f"operation {name} is registered twice")
        operands: list[operand] = []
        attrs: dict[str, attr] = {}
        for klass in reversed(cls.__mro__):
            for key, val in vars(klass).items():
                if isinstance(val, operand):
                    operands = [o for o in operands if o.name != key] + [val]
                elif isinstance(val, attr):
                    attrs.pop(key, None)
                    attrs[key] = val
        for i, o in enumerate(operands):
            if o.variadic and i != len(operands) - 1:
                raise ValueError(f"{name}: variadic operand {o.name} must be last")
        # Re-bind copies with the right indices (bases may be shared by several ops).
        for i, o in enumerate(operands):
            new = operand(o.variadic)
            new.name, new.index = o.name, i
            setattr(cls, o.name, new)
        inherited = frozenset().union(*(getattr(b, "traits", frozenset()) for b in cls.__mro__[1:]))
        cls.name = name
        cls.traits = frozenset(traits) | inherited
        cls.operand_names = tuple(o.name for o in operands)
        cls.variadic = bool(operands) and operands[-1].variadic
        cls.attr_kinds = {k: a.kind for k, a in attrs.items()}
        cls.attr_defaults = {k: a.default for k, a in attrs.items() if a.default is not _NO_DEFAULT}
        cls.n_results = results
        cls.n_regions = regions
        OPS[name] = cls
        return cls

    return deco


def normalize_attrs(cls: type[Operation], attrs: dict, loc: Optional[Location] = None) -> dict:
    """Check attribute names and kinds of ``cls``; fill defaults.

    Names containing a dot are *discardable* attributes (MLIR's term): hints
    that passes attach to any op (``sc.inplace``), kept as given.

    Raises:
        VerifyError: on an unknown attribute, a missing required one or a wrong kind.
    """
    out = {}
    for key, value in attrs.items():
        kind = cls.attr_kinds.get(key)
        if kind is None and "." in key:
            out[key] = value  # a discardable attribute (dialect-prefixed, e.g. sc.inplace), as in MLIR
            continue
        if kind is None:
            known = ", ".join(cls.attr_kinds) or "none"
            raise VerifyError(f"{cls.name}: unknown attribute '{key}' (known: {known})", loc)
        try:
            out[key] = kind.coerce(value)
        except TypeError as exc:
            raise VerifyError(f"{cls.name}: attribute '{key}': {exc}", loc) from None
    for key in cls.attr_kinds:
        if key not in out:
            if key in cls.attr_defaults:
                out[key] = cls.attr_defaults[key]
            else:
                raise VerifyError(f"{cls.name}: missing required attribute '{key}'", loc)
    return out


def known_values(operands) -> list:
    """NumPy values of operands defined by ``sc.constant`` (None for others)."""
    vals = []
    for v in operands:
        o = v.owner
        vals.append(o.attributes["value"] if o is not None and o.name == "sc.constant" else None)
    return vals


def build(cls: type[Operation], operands, regions=(), **attrs):
    """Create a detached op of class ``cls``, inferring its result types.

    Returns the single result, or the list of results for multi-result ops.

    Raises:
        TypeError / ValueError: from the op's type rule, naming the op.
    """
    loc = Location.capture()
    operands = list(operands)
    if cls.variadic:
        if len(operands) < len(cls.operand_names) - 1:
            raise TypeError(f"{cls.name} takes at least {len(cls.operand_names) - 1} operands, got {len(operands)}")
    elif len(operands) != len(cls.operand_names):
        raise TypeError(f"{cls.name} takes {len(cls.operand_names)} operands, got {len(operands)}")
    for i, v in enumerate(operands):
        if not isinstance(v, Value):
            raise TypeError(f"{cls.name}: operand #{i} must be a symbolic value, got {type(v).__name__}")
    attrs = normalize_attrs(cls, attrs, loc)
    # Rules see, and results get, the IR's own type class: the front-end's Theano-style types
    # (a subclass carried by input variables) never reach an op's result or a module.
    types = cls.infer([v.type.plain() for v in operands], attrs, known_values(operands))
    new = cls(operands, [t.plain() for t in types], attrs, list(regions), loc)
    return new.results[0] if cls.n_results == 1 else list(new.results)


def region_with_block(block) -> Region:
    return Region([block])
