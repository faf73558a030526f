"""Checking and converting the arguments of a compiled function.

Rules (Theano's, with NumPy 2 casting):

* an array whose dtype converts safely (``np.can_cast(..., 'safe')``) is cast;
  one that would be downcast raises TypeError naming the input, unless the
  function was compiled with ``allow_input_downcast=True``;
* Python scalars and lists are accepted when their values convert exactly; with
  ``allow_input_downcast=None`` (the default, Theano's) a Python ``float`` is also
  cast to an input of dtype ``config.floatX``, exact or not (``f(0.1)`` for a
  float32 input under ``floatX=float32``);
* the rank must match, and every statically known size must match (ValueError);
* object, complex, string and None arguments raise TypeError;
* ndarray subclasses are read as plain arrays (``np.matrix`` gives its 2-D
  data), except masked arrays, which raise TypeError (their mask would be
  ignored).

Arrays of other libraries are read without copies where their layout allows:
through ``__array_interface__`` (NumPy's protocol), else DLPack
(``__dlpack__``: PyTorch, JAX, CuPy, any array API library) with
``np.from_dlpack``, else ``np.asarray``.  Device (GPU) arrays are refused by
the CPU path with a TypeError; the CUDA backend takes ``__cuda_array_interface__``
itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from symcomp.ir.core import Value
from symcomp.ir.types import TensorType


@dataclass
class InputSpec:
    """What one parameter accepts."""

    type: TensorType
    label: str
    allow_downcast: Optional[bool]

    @staticmethod
    def for_variable(v: Value, index: int, allow_downcast: Optional[bool]) -> "InputSpec":
        label = f"input {index}" + (f" ({v.name})" if v.name else "")
        return InputSpec(v.type.plain(), label, allow_downcast)

    def is_exact(self, value) -> bool:
        """True for an ndarray (not a subclass) of exactly this input's dtype, rank and static sizes."""
        return (type(value) is np.ndarray and value.dtype == self.type.dtype.np and value.ndim == self.type.ndim
                and all(d is None or d == s for d, s in zip(self.type.shape, value.shape)))

    def convert(self, value) -> np.ndarray:
        """``value`` as an ndarray of this input's dtype and rank.

        Raises:
            TypeError: wrong kind of value or a dtype that would be downcast.
            ValueError: wrong rank or static size.
        """
        want = self.type.dtype.np
        if isinstance(value, np.ndarray):
            arr = value if type(value) is np.ndarray else self._from_subclass(value)
        else:
            if value is None:
                raise TypeError(f"{self.label}: expected an array of dtype {want}, got None")
            if not hasattr(value, "__array_interface__") and hasattr(value, "__dlpack__"):
                arr = self._from_dlpack(value)
            else:
                if hasattr(value, "__cuda_array_interface__") and not hasattr(value, "__array_interface__"):
                    raise TypeError(f"{self.label}: {type(value).__name__} is a GPU array; this function runs on "
                                    "the CPU (copy it to host memory, or compile with device='cuda')")
                try:
                    arr = np.asarray(value)
                except (ValueError, TypeError) as exc:
                    raise TypeError(f"{self.label}: cannot convert {type(value).__name__} to an array: {exc}") \
                        from None
            if arr.dtype != want and arr.dtype.kind in "biuf" and not _typed_array(value):
                arr = self._from_python(value, arr, want)
        if arr.dtype != want:
            arr = self._cast(arr, want)
        if arr.ndim != self.type.ndim:
            raise ValueError(f"{self.label}: expected rank {self.type.ndim} ({self.type}), "
                             f"got an array of shape {arr.shape}")
        for ax, (d, s) in enumerate(zip(self.type.shape, arr.shape)):
            if d is not None and d != s:
                raise ValueError(f"{self.label}: axis {ax} must have size {d} ({self.type}), got shape {arr.shape}")
        return arr

    def _from_dlpack(self, value) -> np.ndarray:
        """A zero-copy NumPy view of a DLPack-exporting array in host memory."""
        device = getattr(value, "__dlpack_device__", None)
        if device is not None:
            kind = device()[0]
            if kind not in (1, 3):  # kDLCPU, kDLCUDAHost (pinned host memory)
                raise TypeError(f"{self.label}: {type(value).__name__} lives on a device (DLPack device type "
                                f"{kind}); this function runs on the CPU: copy it to host memory first")
        try:
            return np.from_dlpack(value)
        except (BufferError, RuntimeError, TypeError, ValueError) as exc:
            raise TypeError(f"{self.label}: cannot read {type(value).__name__} through DLPack: {exc}") from None

    def _from_subclass(self, value: np.ndarray) -> np.ndarray:
        """The plain ndarray view of an ndarray subclass (``np.matrix``, ``np.memmap``...).

        Masked arrays are refused: computing on their data would silently
        ignore the mask.
        """
        if isinstance(value, np.ma.MaskedArray):
            raise TypeError(f"{self.label}: masked arrays are not supported (the mask would be ignored); "
                            "pass a.filled(fill_value) or a.data")
        return value.view(np.ndarray)

    def _from_python(self, value, arr: np.ndarray, want: np.dtype) -> np.ndarray:
        """Python numbers are weakly typed: accept them when the conversion is exact (and, by
        Theano's rule for allow_input_downcast=None, a Python float for a config.floatX input)."""
        from symcomp.config import config

        if isinstance(value, np.generic):
            return arr
        with np.errstate(all="ignore"):
            conv = arr.astype(want)
        float_to_floatx = self.allow_downcast is None and type(value) is float and want == np.dtype(config.floatX)
        if self.allow_downcast or float_to_floatx or np.array_equal(conv.astype(arr.dtype), arr, equal_nan=True):
            return conv
        why = ""
        if self.allow_downcast is None and type(value) is float:
            why = f" (a Python float is cast without it only for inputs of config.floatX, now {config.floatX})"
        raise TypeError(f"{self.label}: {value!r:.60} cannot be represented exactly as {want}; "
                        f"pass allow_input_downcast=True to convert anyway{why}")

    def _cast(self, arr: np.ndarray, want: np.dtype) -> np.ndarray:
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{self.label}: expected an array of dtype {want}, got dtype {arr.dtype}")
        if np.can_cast(arr.dtype, want, "safe") or self.allow_downcast:
            with np.errstate(all="ignore"):
                return arr.astype(want)
        raise TypeError(f"{self.label}: an array of dtype {arr.dtype} would be downcast to {want}; "
                        "cast it first or pass allow_input_downcast=True")


def _typed_array(value) -> bool:
    """True for arrays of other libraries: their dtype is strong (cast only safely), unlike Python numbers."""
    return any(hasattr(value, a) for a in ("__array_interface__", "__array__", "__dlpack__"))
