"""Shared variables: symbolic inputs whose value lives between calls (model parameters).

Memory contract (Theano's borrow semantics):

* ``shared(value)`` and ``set_value(value)`` copy ``value``; with
  ``borrow=True`` the array is kept as given (the caller promises not to
  modify it afterwards, and later updates may write into it).
* ``get_value()`` returns a copy; ``get_value(borrow=True)`` returns the
  stored array itself, which a later call of a function updating this
  variable may overwrite in place or replace.
* Updates of one call are applied together after every output of that call
  is computed; every expression of the call sees the values from before it.
"""

from __future__ import annotations

import itertools
from typing import Optional

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Placeholder

_counter = itertools.count()


class SharedVariable(Placeholder):
    """A symbolic input holding a NumPy value between calls.

    Attributes:
        container: a one-element list holding the current ndarray (shared by
            compiled functions that read or update the variable).
        default_update: an expression for the variable's next value, applied by every function
            that reads the variable and does not update it otherwise (Theano's; a random
            stream's state advances this way).  None: no default update.
    """

    __slots__ = ("container", "default_update")

    def __init__(self, value: np.ndarray, name: Optional[str], static_shape=None):
        shape = static_shape if static_shape is not None else (None,) * value.ndim
        super().__init__(T.TensorType(T.dtype(value.dtype), tuple(shape)), name)
        self.container = [value]
        self.default_update = None

    def get_value(self, borrow: bool = False) -> np.ndarray:
        """The current value (a copy unless ``borrow``)."""
        v = self.container[0]
        return v if borrow else v.copy()

    def set_value(self, value, borrow: bool = False) -> None:
        """Replace the value.

        Raises:
            TypeError: if the dtype would be downcast (lossless casts are applied).
            ValueError: if the rank or a static size differs.
        """
        self.container[0] = _filter(self, value, borrow)

    @property
    def value(self) -> np.ndarray:
        return self.get_value()

    def __reduce__(self):
        return (_rebuild_shared, (self.container[0], self.name, self.type.shape))


def _rebuild_shared(value, name, shape):
    return SharedVariable(value, name, shape)


def _filter(var: SharedVariable, value, borrow: bool) -> np.ndarray:
    arr = np.asarray(value)
    want = var.type.dtype.np
    if arr.dtype != want:
        if arr.dtype.kind == "O" or not np.can_cast(arr.dtype, want, "same_kind"):
            raise TypeError(f"shared variable {var.name!r}: cannot store a {arr.dtype} value in a {want} variable")
        converted = arr.astype(want)
        if not np.can_cast(arr.dtype, want, "safe") and not np.array_equal(converted, arr, equal_nan=True):
            raise TypeError(f"shared variable {var.name!r}: storing a {arr.dtype} value as {want} would lose precision")
        arr, borrow = converted, True
    if not var.type.accepts_shape(arr.shape):
        raise ValueError(f"shared variable {var.name!r}: value of shape {arr.shape} does not fit type {var.type}")
    if not borrow:
        arr = arr.copy()
    return arr


def shared(value, name: Optional[str] = None, borrow: bool = False, shape=None) -> SharedVariable:
    """A shared variable initialised with ``value`` (copied unless ``borrow``).

    Args:
        value: an array-like of a supported dtype; Python floats become float64
            and Python ints int64.
        name: the variable's name.
        borrow: keep ``value`` itself instead of a copy.
        shape: optional static shape (ints or None); by default every axis is dynamic.

    Raises:
        TypeError: for unsupported dtypes (object, complex, float16).
    """
    arr = np.asarray(value)
    T.dtype(arr.dtype)
    if shape is not None and (len(shape) != arr.ndim or not T.TensorType(T.dtype(arr.dtype), shape).accepts_shape(arr.shape)):
        raise ValueError(f"shared: value of shape {arr.shape} does not fit shape={shape}")
    if not borrow or arr is not value:
        arr = np.array(arr, copy=True)
    return SharedVariable(arr, name or f"shared_{next(_counter)}", shape)
