"""Theano's ``theano.tensor.extra_ops`` functions: ``cumsum``."""

from __future__ import annotations

from symcomp.ir.opdef import build
from symcomp.ir.ops.random import Cumsum
from symcomp.tensor.convert import as_value, cast
from symcomp.tensor.shape import _normalize_axis, flatten


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (None: of the flattened tensor), added strictly in order
    (``np.cumsum``; bool and narrow integers sum in int64, as NumPy)."""
    x = as_value(x)
    if x.type.dtype.is_bool or (x.type.dtype.is_int and x.type.dtype.bits < 64):
        x = cast(x, "uint64" if x.type.dtype.kind == "u" else "int64")
    if axis is None:
        x, axis = flatten(x), 0
    if x.type.ndim == 0:
        x = flatten(x)
    return build(Cumsum, [x], axis=_normalize_axis(axis, x.type.ndim, "cumsum"))
