"""Theano's tensor types: ``T.TensorType(dtype, broadcastable)``, and the typed constructors
``T.dscalar``, ``T.fmatrix``... that are instances of it (``theano/tensor/type.py``, Theano 1.0).

A :class:`TensorType` is a subclass of the IR's :class:`symcomp.ir.types.TensorType` (a dtype
and one entry per axis: a static size or None), so an input variable can carry it as its
type::

    x = T.dmatrix("x")
    x.type is T.dmatrix            # True
    repr(T.dmatrix)                # 'TensorType(float64, matrix)' (str(): 'tensor<?x?xf64>')
    x.type.filter([[1, 2]])        # array([[1., 2.]]): Theano's filter
    y = x.type("y")                # a new variable of the same type

The IR never sees this class: operation results, traced functions and the printed IR use the
IR's own type (:meth:`~symcomp.ir.types.TensorType.plain`).  So ``(x + 1).type`` is an IR type;
it compares equal to ``T.dmatrix`` because equality here is Theano's, by dtype and broadcastable
pattern (a type with static sizes, ``shape=(None, 3)``, is a symcomp extension and compares
equal to the Theano type of its pattern).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from symcomp.ir import types as ir_types
from symcomp.ir.core import Placeholder, Value

_NAMED_PATTERNS = {(): "scalar", (False,): "vector", (False, True): "col", (True, False): "row",
                   (False, False): "matrix"}


def upcast(dtype, *dtypes) -> str:
    """The dtype name of a sum of zero-dimensional arrays of these dtypes (``theano.scalar.upcast``
    under Theano's default ``cast_policy='custom'``): ``upcast('int8', 'float32') == 'float32'``,
    ``upcast('int32', 'float32') == 'float64'``.

    Args:
        dtype, dtypes: dtype names, NumPy dtypes or symcomp DTypes.

    Raises:
        TypeError: for something that names no dtype.
    """
    z = np.zeros((), dtype=_np_dtype(dtype))
    for dt in dtypes:
        z = z + np.zeros((), dtype=_np_dtype(dt))
    return str(z.dtype)


def _np_dtype(dt) -> np.dtype:
    if isinstance(dt, ir_types.DType):
        return dt.np
    try:
        return np.dtype(dt)
    except TypeError as exc:
        raise TypeError(f"upcast: {dt!r} is not a dtype") from exc


class TensorType(ir_types.TensorType):
    """A Theano tensor type: a dtype and a broadcastable pattern (``theano.tensor.TensorType``).

    ``TensorType(dtype, broadcastable)``: ``broadcastable`` has one bool per axis, True for an
    axis whose size must be 1 (it then broadcasts).  ``dtype`` is a NumPy dtype name (or
    ``'floatX'`` for ``config.floatX``).  ``shape=(None, 3)`` instead of ``broadcastable``
    gives static sizes (a symcomp extension).

    Calling a type makes a symbolic input variable of that type (``T.dmatrix('x')``).

    Attributes:
        dtype: the element dtype; it compares equal to its NumPy name (``t.dtype == 'float64'``).
        broadcastable: the pattern, a tuple of bools.
        ndim: the number of axes.
        name: an optional name (printed instead of the type when set).
        numpy_dtype: the NumPy dtype.

    Raises:
        TypeError: for a dtype symcomp does not support (complex, float16, object).
        ValueError: if neither or both of ``broadcastable`` and ``shape`` are given.
    """

    def __init__(self, dtype, broadcastable: Optional[Sequence] = None, name: Optional[str] = None,
                 sparse_grad: bool = False, *, shape: Optional[Sequence] = None):
        if (broadcastable is None) == (shape is None):
            raise ValueError("TensorType: give exactly one of broadcastable=(...) or shape=(...)")
        if isinstance(dtype, str) and dtype == "floatX":
            from symcomp.config import config

            dtype = config.floatX
        if sparse_grad:
            raise NotImplementedError("TensorType(sparse_grad=True): sparse gradients are not supported")
        if shape is None:
            shape = tuple(1 if b else None for b in broadcastable)
        super().__init__(ir_types.dtype(dtype), tuple(shape))
        object.__setattr__(self, "name", name)

    # -- Theano's attributes -------------------------------------------------------------------------
    @property
    def numpy_dtype(self) -> np.dtype:
        return self.dtype.np

    def clone(self, dtype=None, broadcastable=None) -> "TensorType":
        """A copy with a new dtype and/or broadcastable pattern."""
        return TensorType(self.dtype if dtype is None else dtype,
                          self.broadcastable if broadcastable is None else broadcastable, name=self.name)

    # -- variables ------------------------------------------------------------------------------------
    def __call__(self, name: Optional[str] = None, dtype=None, shape: Optional[Sequence] = None) -> Placeholder:
        """A new symbolic input variable of this type (``T.dmatrix('x')``).

        Args:
            name: the variable's name.
            dtype: must be this type's dtype if given (kept for ``T.dmatrix('x', dtype='float64')``).
            shape: static sizes for the variable (a symcomp extension: ``T.dmatrix('x', shape=(None, 3))``);
                the variable then has a type of its own.

        Raises:
            TypeError: for a different ``dtype``.
            ValueError: for a ``shape`` of another rank.
        """
        if dtype is not None and ir_types.dtype(dtype) != self.dtype:
            raise TypeError(f"{self} has dtype {self.dtype.name}; got dtype={dtype!r}")
        if shape is None:
            return Placeholder(self, name)
        if len(shape) != self.ndim:
            raise ValueError(f"{self}: shape must have {self.ndim} entries, got {tuple(shape)!r}")
        return Placeholder(TensorType(self.dtype, shape=shape), name)

    def make_variable(self, name: Optional[str] = None) -> Placeholder:
        """A new symbolic input variable of this type (Theano's ``Type.make_variable``)."""
        return self(name)

    # -- values ---------------------------------------------------------------------------------------
    def filter(self, data, strict: bool = False, allow_downcast: Optional[bool] = None) -> np.ndarray:
        """``data`` as an ndarray of this type, with Theano's rules (``TensorType.filter``).

        * an ndarray (or memmap) of exactly this dtype is returned as it is;
        * ``strict=True`` accepts nothing else;
        * ``allow_downcast=True`` converts anything to this dtype;
        * otherwise an ndarray is converted when ``upcast(self.dtype, data.dtype)`` is this dtype
          (no precision can be lost), a Python float when this dtype is ``config.floatX`` and
          ``allow_downcast`` is None, and any other value (Python numbers, lists) when the
          conversion keeps every value exactly.

        Then the rank must match and axes of size 1 in the pattern (and static sizes) must fit.

        Raises:
            TypeError: for a symbolic variable, a conversion that could lose precision, a wrong
                rank or size.
        """
        if isinstance(data, Value):
            raise TypeError("Expected an array-like object, but found a Variable: maybe you are trying to call a "
                            "function on a (possibly shared) variable instead of a numeric array?")
        want = self.dtype.np
        if type(data) in (np.ndarray, np.memmap) and data.dtype == want:
            pass
        elif strict:
            if type(data) is not np.ndarray:
                raise TypeError(f"{self} expected a ndarray object (got {type(data).__name__}).")
            raise TypeError(f"{self} expected a ndarray object with dtype = {want} (got {data.dtype}).")
        elif allow_downcast:
            data = _asarray(data, want)
        elif isinstance(data, np.ndarray):
            if upcast(self.dtype, data.dtype) != self.dtype.name:
                raise TypeError(f"{self} cannot store a value of dtype {data.dtype} without risking loss of "
                                f"precision. If you do not mind this loss, you can: 1) explicitly cast your data "
                                f"to {self.dtype.name}, or 2) set \"allow_input_downcast=True\" when calling "
                                f"\"function\". Value: \"{data!r}\"")
            data = np.asarray(data, dtype=want)
        elif allow_downcast is None and type(data) is float and self.dtype.name == _floatX():
            data = np.asarray(data, dtype=want)
        else:
            text = str(data)
            text = text if len(text) <= 80 else text[:75] + "(...)"
            advice = (f"If you do not mind this precision loss, you can: 1) explicitly convert your data to a numpy "
                      f"array of dtype {self.dtype.name}, or 2) set \"allow_input_downcast=True\" when calling "
                      f"\"function\".")
            try:
                with np.errstate(all="ignore"):
                    converted = np.asarray(data, dtype=want)
            except OverflowError:
                raise TypeError(f"{self} cannot store accurately value {text}, it is out of the range of "
                                f"{self.dtype.name}. {advice}") from None
            if not TensorType.values_eq(np.asarray(data), converted, force_same_dtype=False):
                raise TypeError(f"{self} cannot store accurately value {text}, it would be represented as "
                                f"{converted}. {advice}")
            data = converted
        if data.ndim != self.ndim:
            raise TypeError(f"Wrong number of dimensions: expected {self.ndim}, got {data.ndim} with shape "
                            f"{data.shape}.")
        for axis, (d, s) in enumerate(zip(self.shape, data.shape)):
            if d == 1 and s != 1:
                raise TypeError(f"Non-unit value on shape on a broadcastable dimension: shape {data.shape}, "
                                f"broadcastable {self.broadcastable}.")
            if d is not None and d != s:
                raise TypeError(f"{self}: axis {axis} must have size {d}, got shape {data.shape}.")
        return data

    def is_valid_value(self, a) -> bool:
        """True if ``a`` is an ndarray of exactly this type (``filter(a, strict=True)`` accepts it)."""
        try:
            self.filter(a, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def value_zeros(self, shape) -> np.ndarray:
        """An ndarray of zeros of this dtype."""
        return np.zeros(shape, dtype=self.dtype.np)

    @staticmethod
    def values_eq(a, b, force_same_dtype: bool = True) -> bool:
        """Same shape (and dtype) and equal values, NaNs in the same places."""
        if a.shape != b.shape or (force_same_dtype and a.dtype != b.dtype):
            return False
        with np.errstate(invalid="ignore"):
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))

    @staticmethod
    def values_eq_approx(a, b, allow_remove_inf: bool = False, allow_remove_nan: bool = False,
                         rtol: Optional[float] = None, atol: Optional[float] = None) -> bool:
        """Same shape and dtype, and values close (NaN with NaN, infinities of the same sign; with
        ``allow_remove_inf``/``allow_remove_nan`` an inf/NaN in ``a`` accepts anything in ``b``)."""
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind not in "fc":
            return bool(np.all(a == b))
        low = a.dtype.itemsize <= 4
        rtol = (1e-3 if low else 1e-5) if rtol is None else rtol
        atol = (1e-5 if low else 1e-8) if atol is None else atol
        with np.errstate(invalid="ignore", over="ignore"):
            ok = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if allow_remove_inf:
            ok |= np.isinf(a)
        if allow_remove_nan:
            ok |= np.isnan(a)
        return bool(ok.all())

    @staticmethod
    def may_share_memory(a, b) -> bool:
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and bool(np.may_share_memory(a, b))

    # -- equality and printing (Theano's) -------------------------------------------------------------------------
    def __eq__(self, other) -> bool:
        """Equal to any tensor type (this class or the IR's) of the same dtype and broadcastable pattern."""
        if isinstance(other, ir_types.TensorType):
            return self.dtype == other.dtype and self.broadcastable == other.broadcastable
        return NotImplemented

    def __ne__(self, other) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = ir_types.TensorType.__hash__

    def __repr__(self) -> str:
        """Theano's text: ``TensorType(float64, matrix)``, ``TensorType(float32, 3D)``,
        ``TensorType(float64, (True, False, True))``, or the type's name when it has one.
        (``str()`` gives the IR's spelling, ``tensor<?x?xf64>``, as in every symcomp message.)"""
        if self.name:
            return self.name
        b = self.broadcastable
        if any(d not in (None, 1) for d in self.shape):
            pattern = f"shape={self.shape}"
        elif b in _NAMED_PATTERNS:
            pattern = _NAMED_PATTERNS[b]
        else:
            pattern = str(b) if any(b) else f"{len(b)}D"
        return f"TensorType({self.dtype.name}, {pattern})"

    def __reduce__(self):
        return (_rebuild, (self.dtype.name, self.shape, self.name))


def _rebuild(dtype: str, shape: tuple, name: Optional[str]) -> TensorType:
    return TensorType(dtype, shape=shape, name=name)


def _floatX() -> str:
    from symcomp.config import config

    return config.floatX


def _asarray(data, want: np.dtype) -> np.ndarray:
    """``np.asarray(data, want)``, with out-of-range Python integers as TypeError."""
    try:
        with np.errstate(all="ignore"):
            return np.asarray(data, dtype=want)
    except OverflowError as exc:
        raise TypeError(f"cannot store {data!r:.60} as {want}: {exc}") from None


def as_theano_type(t: ir_types.TensorType) -> TensorType:
    """The Theano-style type equal to the IR type ``t`` (same dtype and shape)."""
    return t if isinstance(t, TensorType) else TensorType(t.dtype, shape=t.shape)
