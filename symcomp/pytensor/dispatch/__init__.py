"""From PyTensor ``Apply`` nodes to symcomp front-end graphs: one rule per Op type.

:func:`symcomp_convert` is a :func:`functools.singledispatch` function on the
node's ``Op`` (the way ``pytensor.link.jax.dispatch.jax_funcify`` and
``pytensor.link.pytorch.dispatch.pytorch_funcify`` are laid out), one module
per Op family: :mod:`.elemwise` (``Elemwise`` over scalar ops, ``Composite``,
casts), :mod:`.reduce` (``CAReduce``, ``Argmax``, ``Softmax``/``LogSoftmax``),
:mod:`.shape` (``DimShuffle``, ``Reshape``, ``Shape``, ``Alloc``, ``Join``,
``MakeVector``...), :mod:`.indexing` (``Subtensor``, ``IncSubtensor`` and the
advanced forms) and :mod:`.linalg` (``Dot``, ``Gemm``, ``Gemv``...).

A rule receives the node and its inputs already converted (symcomp values,
Python ``None`` or ``slice`` for PyTensor's ``NoneConst`` and ``MakeSlice``)
and returns one symcomp value per node output.  It is written with
:mod:`symcomp.tensor`, so the converted graph is optimized by symcomp's passes
like any user graph.  A rule raises :class:`ConversionError` (or
NotImplementedError) for what it does not support; the node then runs on
PyTensor's own implementation (:mod:`symcomp.pytensor.partition`).

A rule for another Op (one of your own) is registered the same way::

    @symcomp_convert.register(MyOp)
    def _my_op(op, node, x):
        return [T.exp(x) * op.scale]
"""

from __future__ import annotations

from functools import singledispatch

import numpy as np

from symcomp import tensor as T

SUPPORTED_DTYPES = frozenset({"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                              "float32", "float64"})


class ConversionError(NotImplementedError):
    """A node symcomp cannot compute (the message says why); it runs on PyTensor's default linker."""


@singledispatch
def symcomp_convert(op, node, *inputs):
    """Convert ``node`` (whose Op is ``op``) given its converted ``inputs``; returns a list of values.

    Raises:
        ConversionError: no rule for ``type(op)``, or the rule does not support this node.
    """
    raise ConversionError(f"no symcomp rule for the Op {type(op).__name__}")


def const_int(var, value):
    """A Python int for a PyTensor constant integer scalar ``var``, else its converted ``value``."""
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.ndim == 0 and data.dtype.kind in "iub":
            return int(data)
    return value


def const_ints(var, value=None):
    """A tuple of Python ints for a constant integer vector ``var``, else None."""
    from pytensor.graph.basic import Constant

    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.ndim == 1 and data.dtype.kind in "iu":
            return tuple(int(d) for d in data)
    return None


def as_dtype(value, var):
    """``value`` cast to the dtype PyTensor gave ``var`` (PyTensor's output type is the contract)."""
    dt = var.type.dtype
    if dt not in SUPPORTED_DTYPES:
        raise ConversionError(f"dtype {dt} is not supported by symcomp")
    return T.cast(value, dt)


def check_output(value, var):
    """Check a converted ``value`` against ``var``'s PyTensor type (rank, static sizes); cast its dtype.

    Raises:
        ConversionError: when the rank or a static size disagrees.
    """
    ndim = getattr(var.type, "ndim", 0)
    value = T.as_value(value)
    if value.type.ndim != ndim:
        raise ConversionError(f"{var}: the converted value has rank {value.type.ndim}, PyTensor's {ndim}")
    ones = []
    for i, (a, b) in enumerate(zip(value.type.shape, getattr(var.type, "shape", ()))):
        if a is not None and b is not None and a != b:
            raise ConversionError(f"{var}: axis {i} has size {a}, PyTensor says {b}")
        if a is None and b == 1:
            ones.append(i)
    if ones:  # PyTensor's type knows these axes broadcast: so must symcomp (Theano's rule)
        value = T.addbroadcast(value, *ones)
    return as_dtype(value, var)


from symcomp.pytensor.dispatch import elemwise, indexing, linalg, reduce, shape  # noqa: E402,F401  (registers)
