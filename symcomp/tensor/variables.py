"""Symbolic input variables: ``T.matrix('x')``, ``T.dvector()``, ``T.tensor('float32', shape=(None, 1))``.

As in Theano 1.0 (``theano/tensor/basic.py``):

* the typed constructors ``T.dscalar``, ``T.fmatrix``, ``T.lvector``... are
  :class:`~symcomp.tensor.type.TensorType` instances; calling one makes a variable whose
  ``type`` is that very object (``T.dscalar('x').type is T.dscalar``).  The letters fix the
  dtype: b=int8, w=int16, i=int32, l=int64, f=float32, d=float64;
* ``T.scalar``, ``T.matrix``... are functions taking ``name`` and ``dtype`` (default
  ``config.floatX``), and (a symcomp extension) ``shape`` for static sizes;
* ``row`` and ``col`` are matrices whose first or second axis is broadcastable (size 1);
* the plural forms take several names (``T.dscalars('x', 'y')``), one string of which each
  character names one variable (``T.scalars('xyz')``), or a count (``T.dmatrices(3)``, unnamed
  variables); a single name gives a single variable (Theano's ``_multi``).
"""

from __future__ import annotations

from typing import Optional, Sequence

from symcomp.ir import types as T
from symcomp.ir.core import Placeholder
from symcomp.tensor.type import TensorType

_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64"}
_KINDS = {
    "scalar": (), "vector": (False,), "matrix": (False, False), "row": (True, False), "col": (False, True),
    "tensor3": (False,) * 3, "tensor4": (False,) * 4, "tensor5": (False,) * 5, "tensor6": (False,) * 6,
    "tensor7": (False,) * 7,
}


def tensor(dtype=None, shape: Optional[Sequence] = None, name: Optional[str] = None, broadcastable=None) -> Placeholder:
    """A symbolic input of any rank.

    Args:
        dtype: element dtype (default ``config.floatX``).
        shape: one entry per axis, an int (static size) or None (dynamic).  A tuple of bools
            here is Theano's positional ``broadcastable`` (``T.tensor('float64', (False, True))``).
        name: the variable's name (used in error messages and printed IR).
        broadcastable: Theano's alternative to ``shape``: True marks a size-1 axis.

    Raises:
        ValueError: if neither or both of ``shape`` and ``broadcastable`` are given.
        TypeError: for an unsupported dtype.
    """
    from symcomp.config import config

    if isinstance(shape, str) and name is None:  # tensor(dtype, name) positional use
        shape, name = None, shape
    if shape is not None and broadcastable is None and len(shape) and all(isinstance(b, bool) for b in shape):
        shape, broadcastable = None, shape
    if (shape is None) == (broadcastable is None):
        raise ValueError("tensor: give exactly one of shape=(...) or broadcastable=(...)")
    dt = T.dtype(dtype or config.floatX)
    if broadcastable is not None:
        return TensorType(dt, broadcastable)(name)
    return TensorType(dt, shape=tuple(shape))(name)


def _make(kind: str):
    pattern = _KINDS[kind]

    def ctor(name: Optional[str] = None, dtype=None, shape: Optional[Sequence] = None) -> Placeholder:
        from symcomp.config import config

        if shape is not None and len(shape) != len(pattern):
            raise ValueError(f"{kind}: shape must have {len(pattern)} entries, got {shape!r}")
        return TensorType(T.dtype(dtype or config.floatX), pattern)(name, shape=shape)

    ctor.__name__ = ctor.__qualname__ = kind
    ctor.__doc__ = (f"A symbolic {kind} variable (broadcastable {pattern}).\n\n"
                    f"Args:\n    name: the variable's name.\n    dtype: its dtype (default ``config.floatX``).\n"
                    f"    shape: static sizes, one per axis (None: dynamic), a symcomp extension.\n")
    return ctor


def _plural(single, label: str):
    """Theano's ``_multi``: names, one string of one-character names, or a count."""

    def ctor(*names, dtype=None):
        def one(name=None):
            return single(name) if dtype is None else single(name, dtype=dtype)

        if names and isinstance(names[0], int) and not isinstance(names[0], bool):
            return [one() for _ in range(names[0])]
        if len(names) == 1:
            names = names[0]
        if len(names) == 1:
            return one(names[0] if isinstance(names, (list, tuple)) else names)
        return [one(n) for n in names]

    ctor.__name__ = ctor.__qualname__ = label
    ctor.__doc__ = (f"Several variables made by ``{single.__name__ if hasattr(single, '__name__') else single}``: "
                    f"``{label}('x', 'y')``, ``{label}('xy')`` (one per character) or ``{label}(2)`` (unnamed).\n"
                    "A single name gives a single variable.")
    return ctor


CONSTRUCTORS: dict = {}
for _kind, _pattern in _KINDS.items():
    _plural_suffix = "matrices" if _kind == "matrix" else _kind + "s"
    _f = _make(_kind)
    CONSTRUCTORS[_kind] = _f
    CONSTRUCTORS[_plural_suffix] = _plural(_f, _plural_suffix)
    for _prefix, _dt in _PREFIXES.items():
        _t = TensorType(_dt, _pattern)
        CONSTRUCTORS[_prefix + _kind] = _t
        CONSTRUCTORS[_prefix + _plural_suffix] = _plural(_t, _prefix + _plural_suffix)
