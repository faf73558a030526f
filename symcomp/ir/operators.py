"""Python operators and NumPy-like methods on SSA values (the front-end face of a value).

Every IR value is also a symbolic tensor, as in Theano/PyTensor: ``x + y``
builds an ``sc.add`` operation.  ``==`` is *not* overloaded (values stay
hashable by identity, as Theano's were); use ``T.eq``.

Truth values follow Theano 1.0 (``theano/tensor/var.py``, ``_tensor_py_operators.__bool__``):
every symbolic value is true (``if not W:`` tests for None), except the results of the
comparison operators ``<``, ``<=``, ``>``, ``>=``, whose ``bool()`` raises TypeError, so that
``a < b < c`` (Python evaluates ``(a < b) and (b < c)``) and ``if x > 0:`` fail loudly instead
of silently taking one branch.

The operators build IR through the front-end's functions, which the front-end installs in
:mod:`symcomp.ir.frontend` (the IR does not import the layers above it).
"""

from __future__ import annotations

import weakref

from symcomp.ir.frontend import function as _function, tensor as _t

_COMPARISONS: "weakref.WeakSet" = weakref.WeakSet()
"""Results of ``<``, ``<=``, ``>``, ``>=``: the values whose truth value is an error (Theano's
``_is_nonzero = False``)."""


def _comparison(v):
    _COMPARISONS.add(v)
    return v


def _not_a_number(v, fn: str):
    """float(x) / int(x) / complex(x) of a symbolic value: say what was attempted (Python otherwise
    falls back to __index__, whose message is about indexing)."""
    what = f"symbolic variable {v.name!r}" if getattr(v, "name", None) else "a symbolic variable"
    raise TypeError(f"{fn}() of {what} ({v.type}): its value is not computed yet. Compile a function that "
                    f"returns it and convert the result ({fn}(f(...))), or convert symbolically with "
                    "T.cast(x, dtype)")


class TensorOperators:
    """Mixin giving SSA values NumPy-like operators and methods."""

    __slots__ = ()
    __array_ufunc__ = None  # make NumPy defer to our reflected operators

    # -- arithmetic -------------------------------------------------------------
    def __add__(self, o): return _t().add(self, o)
    def __radd__(self, o): return _t().add(o, self)
    def __sub__(self, o): return _t().sub(self, o)
    def __rsub__(self, o): return _t().sub(o, self)
    def __mul__(self, o): return _t().mul(self, o)
    def __rmul__(self, o): return _t().mul(o, self)
    def __truediv__(self, o): return _t().true_div(self, o)
    def __rtruediv__(self, o): return _t().true_div(o, self)
    def __floordiv__(self, o): return _t().floor_div(self, o)
    def __rfloordiv__(self, o): return _t().floor_div(o, self)
    def __mod__(self, o): return _t().mod(self, o)
    def __rmod__(self, o): return _t().mod(o, self)
    def __pow__(self, o): return _t().pow(self, o)
    def __rpow__(self, o): return _t().pow(o, self)
    def __neg__(self): return _t().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _t().abs(self)
    def __invert__(self): return _t().invert(self)
    def __and__(self, o): return _t().and_(self, o)
    def __rand__(self, o): return _t().and_(o, self)
    def __or__(self, o): return _t().or_(self, o)
    def __ror__(self, o): return _t().or_(o, self)
    def __xor__(self, o): return _t().xor(self, o)
    def __rxor__(self, o): return _t().xor(o, self)
    def __matmul__(self, o): return _t().dot(self, o)
    def __rmatmul__(self, o): return _t().dot(o, self)

    # -- comparisons (== and != stay identity-based, as in Theano) --------------------
    def __lt__(self, o): return _comparison(_t().lt(self, o))
    def __le__(self, o): return _comparison(_t().le(self, o))
    def __gt__(self, o): return _comparison(_t().gt(self, o))
    def __ge__(self, o): return _comparison(_t().ge(self, o))

    def __bool__(self):
        """True (Theano 1.0: ``if not W:`` tests for None), except for the result of a comparison
        operator (``<``, ``<=``, ``>``, ``>=``).

        Raises:
            TypeError: for the result of a comparison operator (``if x > 0:``, ``a < b < c``).
        """
        if self in _COMPARISONS:
            raise TypeError(
                "Variables do not support boolean operations: the result of a symbolic comparison has no "
                "truth value (it is not computed yet). Use T.switch(cond, a, b) for a symbolic choice, "
                "or compile the graph with symcomp.function."
            )
        return True

    def __len__(self):
        raise TypeError("len() of a symbolic variable is not known while tracing; use x.shape[0]")

    def __iter__(self):
        raise TypeError("a symbolic variable is not iterable; index it explicitly (x[i])")

    def __index__(self):
        raise TypeError("a symbolic variable cannot be used as a Python index")

    def __float__(self): _not_a_number(self, "float")
    def __int__(self): _not_a_number(self, "int")
    def __complex__(self): _not_a_number(self, "complex")

    def __getitem__(self, idx): return _t().getitem(self, idx)

    # -- attributes -------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        """The dtype name (``"float64"``), as Theano gives it."""
        return self.type.dtype.name

    @property
    def broadcastable(self) -> tuple[bool, ...]:
        return self.type.broadcastable

    @property
    def shape(self):
        """The shape as a tuple of symbolic int64 scalars (known sizes are constants)."""
        return _t().shape(self)

    @property
    def size(self):
        return _t().size(self)

    @property
    def T(self): return _t().transpose(self)

    # -- methods ------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, dtype=None): return _t().sum(self, axis, keepdims, dtype)
    def prod(self, axis=None, keepdims=False, dtype=None): return _t().prod(self, axis, keepdims, dtype)
    def mean(self, axis=None, keepdims=False, dtype=None): return _t().mean(self, axis, keepdims, dtype)
    def var(self, axis=None, keepdims=False, ddof=0): return _t().var(self, axis, keepdims, ddof)
    def std(self, axis=None, keepdims=False, ddof=0): return _t().std(self, axis, keepdims, ddof)
    def max(self, axis=None, keepdims=False): return _t().max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _t().min(self, axis, keepdims)
    def argmax(self, axis=None, keepdims=False): return _t().argmax(self, axis, keepdims)
    def argmin(self, axis=None, keepdims=False): return _t().argmin(self, axis, keepdims)
    def any(self, axis=None, keepdims=False): return _t().any(self, axis, keepdims)
    def all(self, axis=None, keepdims=False): return _t().all(self, axis, keepdims)
    def dimshuffle(self, *pattern): return _t().dimshuffle(self, *pattern)
    def reshape(self, *shape, ndim=None): return _t().reshape(self, shape[0] if len(shape) == 1 else shape, ndim)
    def flatten(self, ndim=1): return _t().flatten(self, ndim)
    def transpose(self, *axes): return _t().transpose(self, axes[0] if len(axes) == 1 else (axes or None))
    def astype(self, dtype): return _t().cast(self, dtype)
    def dot(self, o): return _t().dot(self, o)
    def clip(self, lo, hi): return _t().clip(self, lo, hi)
    def round(self): return _t().round(self)
    def nonzero_values(self):
        raise NotImplementedError("nonzero_values has a data-dependent shape, which symcomp does not support")
    def squeeze(self, axis=None): return _t().squeeze(self, axis)
    def copy(self): return _t().copy(self)
    def sort(self, axis=-1, kind="quicksort", order=None): return _t().sort(self, axis, kind, order)
    def argsort(self, axis=-1, kind="quicksort", order=None): return _t().argsort(self, axis, kind, order)
    def cumsum(self, axis=None): return _t().cumsum(self, axis)
    def cumprod(self, axis=None): return _t().cumprod(self, axis)
    def repeat(self, repeats, axis=None): return _t().repeat(self, repeats, axis)
    def ptp(self, axis=None): return _t().ptp(self, axis)
    def trace(self): return _t().trace(self)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        """The ``offset``-th diagonal of a matrix (Theano's method; only ``axis1=0, axis2=1``)."""
        if (axis1, axis2) != (0, 1):
            raise NotImplementedError("diagonal: only the diagonal of axes (0, 1) of a matrix is supported")
        return _t().diagonal(self, offset)

    def norm(self, L, axis=None, keepdims=False):
        """``sum(abs(x) ** L, axis) ** (1 / L)`` (Theano's method; L 0 and inf are not supported, as in Theano)."""
        import math

        if L == 0 or math.isinf(L):
            raise NotImplementedError(f"norm: L={L} is not supported (as in Theano)")
        return (abs(self) ** L).sum(axis=axis, keepdims=keepdims) ** (1.0 / L)

    def eval(self, inputs=None):
        """Compile and evaluate this value (``inputs``: {variable: value}), as Theano's ``eval``."""
        inputs = dict(inputs or {})
        fn = _function()(list(inputs), self)
        return fn(*inputs.values())
