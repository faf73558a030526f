"""Symbolic input variables: ``T.matrix('x')``, ``T.dvector()``, ``T.tensor('float32', shape=(None, 1))``.

Every constructor takes ``name`` and ``dtype`` (default ``symcomp.config.floatX``);
the prefixed forms fix the dtype: b=int8, w=int16, i=int32, l=int64,
f=float32, d=float64 (Theano's letters).  ``row`` and ``col`` are matrices
with a broadcastable (size-1) first or second axis.
"""

from __future__ import annotations

from typing import Optional, Sequence

from symcomp.ir import types as T
from symcomp.ir.core import Placeholder

_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64"}
_KINDS = {
    "scalar": (), "vector": (None,), "matrix": (None, None), "row": (1, None), "col": (None, 1),
    "tensor3": (None,) * 3, "tensor4": (None,) * 4, "tensor5": (None,) * 5,
}


def tensor(dtype=None, shape: Optional[Sequence] = None, name: Optional[str] = None, broadcastable=None) -> Placeholder:
    """A symbolic input of any rank.

    Args:
        dtype: element dtype (default ``config.floatX``).
        shape: one entry per axis, an int (static size) or None (dynamic).
        name: the variable's name (used in error messages and printed IR).
        broadcastable: Theano's alternative to ``shape``: True marks a size-1 axis.

    Raises:
        ValueError: if neither or both of ``shape`` and ``broadcastable`` are given.
        TypeError: for an unsupported dtype.
    """
    from symcomp.config import config

    if isinstance(shape, str) and name is None:  # tensor(dtype, name) positional use
        shape, name = None, shape
    if (shape is None) == (broadcastable is None):
        raise ValueError("tensor: give exactly one of shape=(...) or broadcastable=(...)")
    if broadcastable is not None:
        shape = tuple(1 if b else None for b in broadcastable)
    return Placeholder(T.TensorType(T.dtype(dtype or config.floatX), tuple(shape)), name)


def _make(kind: str, fixed_dtype: Optional[str]):
    shp = _KINDS[kind]

    def ctor(name: Optional[str] = None, dtype=None, shape: Optional[Sequence] = None) -> Placeholder:
        if fixed_dtype is not None and dtype is not None and T.dtype(dtype).name != fixed_dtype:
            raise TypeError(f"{ctor.__name__} has dtype {fixed_dtype}; got dtype={dtype!r}")
        if shape is not None and len(shape) != len(shp):
            raise ValueError(f"{ctor.__name__}: shape must have {len(shp)} entries, got {shape!r}")
        return tensor(fixed_dtype or dtype, shape=shp if shape is None else shape, name=name)

    ctor.__name__ = (fixed_dtype and next(k for k, v in _PREFIXES.items() if v == fixed_dtype) or "") + kind
    ctor.__doc__ = f"A symbolic {kind} ({'dtype ' + fixed_dtype if fixed_dtype else 'dtype config.floatX by default'})."
    return ctor


def _plural(single):
    def ctor(*names, dtype=None):
        return [single(n, dtype=dtype) for n in names]

    ctor.__name__ = single.__name__ + "s"
    ctor.__doc__ = f"Several {single.__name__} variables, one per name."
    return ctor


CONSTRUCTORS: dict = {}
for _kind in _KINDS:
    for _prefix, _dt in [("", None)] + list(_PREFIXES.items()):
        _f = _make(_kind, _dt)
        CONSTRUCTORS[_prefix + _kind] = _f
        _plural_name = _prefix + ("matrices" if _kind == "matrix" else _kind + "s")
        CONSTRUCTORS[_plural_name] = _plural(_f)
