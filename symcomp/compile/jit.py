"""``symcomp.jit``: compile a Python function of arrays by tracing it (JAX's ``jit`` idea, symcomp's compiler).

The function is called once per argument signature (dtype and rank of each
argument) with symbolic inputs; the expression it returns is compiled with
:func:`symcomp.function` and cached.  Dimensions stay dynamic, so one
compilation serves every shape of that rank.
"""

from __future__ import annotations

import functools
import inspect
from typing import Callable, Optional

import numpy as np

from symcomp.ir import types as T


def jit(fn: Optional[Callable] = None, *, mode: Optional[str] = None, device: Optional[str] = None):
    """Decorator: ``@symcomp.jit`` or ``@symcomp.jit(mode=..., device=...)``.

    The decorated function must build its result with symcomp's front-end
    (``symcomp.tensor``) from its arguments; keyword arguments with defaults
    are treated as static Python values, positional ones as arrays.

    Raises:
        TypeError: when called with values that are not array-like or of an unsupported dtype.
    """
    if fn is None:
        return lambda f: jit(f, mode=mode, device=device)
    return _Jitted(fn, mode, device)


class _Jitted:
    def __init__(self, fn: Callable, mode, device):
        self.fn = fn
        self.mode = mode
        self.device = device
        self.cache: dict = {}
        self.params = list(inspect.signature(fn).parameters)
        functools.update_wrapper(self, fn)

    def _signature(self, args) -> tuple:
        sig = []
        for i, a in enumerate(args):
            arr = np.asarray(a)
            try:
                dt = T.dtype(arr.dtype)
            except TypeError as exc:
                raise TypeError(f"{self.fn.__name__}: argument {i}: {exc}") from None
            sig.append((dt.name, arr.ndim))
        return tuple(sig)

    def compile(self, *args):
        """The compiled :class:`symcomp.Function` for these arguments' dtypes and ranks."""
        from symcomp.compile.function import function
        from symcomp.tensor.variables import tensor

        sig = self._signature(args)
        f = self.cache.get(sig)
        if f is None:
            names = self.params[: len(args)] + [f"arg{i}" for i in range(len(self.params), len(args))]
            inputs = [tensor(dt, shape=(None,) * nd, name=n) for (dt, nd), n in zip(sig, names)]
            out = self.fn(*inputs)
            f = function(inputs, out, mode=self.mode, device=self.device, on_unused_input="ignore",
                                 name=self.fn.__name__)
            self.cache[sig] = f
        return f

    def __call__(self, *args):
        return self.compile(*args)(*args)
