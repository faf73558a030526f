"""Types of symcomp's IR: element dtypes and ranked tensor types.

Every SSA value has a :class:`TensorType`: an element :class:`DType` and a
static rank whose dimensions are each a known size (``int``) or dynamic
(``None``, printed ``?``).  Scalars are rank-0 tensors.  A dimension that is
statically 1 is *broadcastable* (Theano's broadcastable pattern): only such
dimensions broadcast against others; two dynamic dimensions must agree at run
time.

Text syntax follows MLIR: ``tensor<?x3xf64>``, ``tensor<f32>``, ``tensor<i1>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np

Dim = Optional[int]
Shape = tuple[Dim, ...]


@dataclass(frozen=True)
class DType:
    """An element type: a NumPy dtype with its IR spelling.

    Attributes:
        name: the NumPy name (``"float64"``).
        ir: the IR spelling (``"f64"``, ``"i1"`` for bool, ``"ui8"``).
        kind: ``"f"`` float, ``"i"`` signed int, ``"u"`` unsigned int, ``"b"`` bool.
        bits: width in bits (1 for bool).
    """

    name: str
    ir: str
    kind: str
    bits: int

    @property
    def np(self) -> np.dtype:
        """The NumPy dtype object."""
        return np.dtype(self.name)

    @property
    def itemsize(self) -> int:
        """Bytes per element in memory (bool is stored as one byte)."""
        return max(1, self.bits // 8)

    @property
    def is_float(self) -> bool:
        return self.kind == "f"

    @property
    def is_int(self) -> bool:
        """Signed or unsigned integer (bool excluded)."""
        return self.kind in "iu"

    @property
    def is_bool(self) -> bool:
        return self.kind == "b"

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype: NumPy reads this attribute, so ``np.zeros(3, dtype=t.dtype)`` works."""
        return np.dtype(self.name)

    def __eq__(self, other) -> bool:
        """Equal to the same DType and to its NumPy name (``t.dtype == "float64"``, as in Theano,
        where a type's dtype is that string)."""
        if isinstance(other, DType):
            return self.name == other.name and self.ir == other.ir
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)  # equal to its name: the same hash

    def __str__(self) -> str:
        return self.ir

    def __repr__(self) -> str:
        return f"DType({self.name})"


bool_ = DType("bool", "i1", "b", 1)
int8 = DType("int8", "i8", "i", 8)
int16 = DType("int16", "i16", "i", 16)
int32 = DType("int32", "i32", "i", 32)
int64 = DType("int64", "i64", "i", 64)
uint8 = DType("uint8", "ui8", "u", 8)
uint16 = DType("uint16", "ui16", "u", 16)
uint32 = DType("uint32", "ui32", "u", 32)
uint64 = DType("uint64", "ui64", "u", 64)
float32 = DType("float32", "f32", "f", 32)
float64 = DType("float64", "f64", "f", 64)

ALL_DTYPES: tuple[DType, ...] = (
    bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64,
)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_IR = {d.ir: d for d in ALL_DTYPES}
FLOAT_DTYPES = (float32, float64)


def dtype(spec) -> DType:
    """Return the :class:`DType` for a name, IR spelling, NumPy dtype or DType.

    Raises:
        TypeError: if ``spec`` names no dtype symcomp supports (float16,
            complex and object dtypes are not supported).
    """
    if isinstance(spec, DType):
        return spec
    if isinstance(spec, str) and spec in _BY_IR:
        return _BY_IR[spec]
    try:
        name = np.dtype(spec).name
    except TypeError as exc:
        raise TypeError(f"unknown dtype {spec!r}") from exc
    if name not in _BY_NAME:
        supported = ", ".join(d.name for d in ALL_DTYPES)
        raise TypeError(f"dtype {name!r} is not supported by symcomp (supported: {supported})")
    return _BY_NAME[name]


def from_ir_name(text: str) -> Optional[DType]:
    """The DType spelled ``text`` in the IR (``"f64"``), or None."""
    return _BY_IR.get(text)


def promote(*dtypes: DType) -> DType:
    """NumPy 2 (NEP 50) promotion of array dtypes.

    Raises:
        TypeError: if the promoted dtype is not supported (e.g. float16 never
            arises from supported inputs, but uint64 with int64 gives float64).
    """
    return dtype(np.result_type(*[d.np for d in dtypes]))


def float_of(d: DType) -> DType:
    """The float dtype a transcendental op computes in for input dtype ``d``.

    Floats keep their dtype; bool, int8, uint8, int16 and uint16 go to float32
    and wider integers to float64 (Theano's ``upcast_to_float`` rule; NumPy
    would give float16 for the narrow ones, which symcomp does not support).
    """
    if d.is_float:
        return d
    return float32 if d.bits <= 16 else float64


@dataclass(frozen=True)
class TensorType:
    """A ranked tensor type.

    Attributes:
        dtype: the element type.
        shape: one entry per dimension, an ``int >= 0`` or ``None`` (dynamic).

    Raises:
        TypeError: on a shape entry that is not a non-negative int or None.
    """

    dtype: DType
    shape: Shape

    def __post_init__(self):
        if not isinstance(self.dtype, DType):
            object.__setattr__(self, "dtype", dtype(self.dtype))
        shape = tuple(self.shape)
        for d in shape:
            if d is not None and (not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 0):
                raise TypeError(f"tensor dimension must be a non-negative int or None, got {d!r}")
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in shape))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        """Theano's broadcastable pattern: True where the dimension is statically 1."""
        return tuple(d == 1 for d in self.shape)

    @property
    def is_static(self) -> bool:
        """True when every dimension is known."""
        return all(d is not None for d in self.shape)

    def with_shape(self, shape: Iterable[Dim]) -> "TensorType":
        return TensorType(self.dtype, tuple(shape))

    def with_dtype(self, dt) -> "TensorType":
        return TensorType(dtype(dt), self.shape)

    def accepts_shape(self, shape: Sequence[int]) -> bool:
        """True if a concrete shape fits this type (same rank, known dims equal)."""
        return len(shape) == len(self.shape) and all(
            d is None or d == s for d, s in zip(self.shape, shape)
        )

    def __hash__(self) -> int:
        # By dtype and broadcastable pattern only: the front-end's Theano-style types
        # (symcomp.tensor.type) compare equal to every IR type of their dtype and pattern.
        return hash((self.dtype, self.broadcastable))

    def plain(self) -> "TensorType":
        """This type as the IR's own class (the front-end's Theano-style types are a subclass)."""
        return self if type(self) is TensorType else TensorType(self.dtype, self.shape)

    def __str__(self) -> str:
        dims = "".join(("?" if d is None else str(d)) + "x" for d in self.shape)
        return f"tensor<{dims}{self.dtype.ir}>"

    def __repr__(self) -> str:
        return f"TensorType({self})"


def scalar_type(dt) -> TensorType:
    """The rank-0 tensor type of dtype ``dt``."""
    return TensorType(dtype(dt), ())


def broadcast_dims(dims: Sequence[Dim], what: str = "operands") -> Dim:
    """Static broadcast of one dimension across equal-rank operands.

    Dimensions equal to 1 broadcast; every other dimension must agree.  A
    dynamic dimension (None) wins over 1 and stays dynamic unless another
    operand knows the size.

    Raises:
        ValueError: if two known sizes other than 1 differ.
    """
    known = {d for d in dims if d is not None and d != 1}
    if len(known) > 1:
        raise ValueError(f"{what} have incompatible dimensions {sorted(known)} (only dimensions of size 1 broadcast)")
    if known:
        return known.pop()
    if any(d is None for d in dims):
        return None
    return 1


def broadcast_shapes(shapes: Sequence[Shape], what: str = "operands") -> Shape:
    """Static broadcast of equal-rank shapes (see :func:`broadcast_dims`).

    Raises:
        ValueError: if the ranks differ or known sizes disagree.
    """
    ranks = {len(s) for s in shapes}
    if len(ranks) != 1:
        raise ValueError(f"{what} must have equal rank, got ranks {sorted(ranks)}")
    return tuple(broadcast_dims(ds, what) for ds in zip(*shapes))


def check_runtime_broadcast(what: str, static_shapes: Sequence[Shape], shapes: Sequence[Sequence[int]]) -> tuple:
    """Broadcast concrete shapes where only *statically* size-1 axes may stretch.

    Shapes are aligned to the right (shorter ones are padded with static 1s).
    Returns the broadcast concrete shape.

    Raises:
        ValueError: if an axis that is not statically 1 differs from the others
            (e.g. a ``?`` axis that is 1 at run time against one of size 5).
    """
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for ax in range(ndim):
        size = None
        for st, sh in zip(static_shapes, shapes):
            k = ax - (ndim - len(sh))
            if k < 0 or st[k] == 1:
                continue
            if size is None:
                size = sh[k]
            elif sh[k] != size:
                raise ValueError(
                    f"{what}: shapes {[tuple(s) for s in shapes]} do not match on axis {ax} "
                    f"({sh[k]} vs {size}); only axes declared with size 1 broadcast "
                    f"(declare them with shape=(1, ...) or use dimshuffle/T.addbroadcast)")
        out.append(1 if size is None else size)
    return tuple(out)
