"""``symcomp.scalar`` (Theano's ``theano.scalar``): ``upcast``, the dtype arithmetic of Theano.

``upcast(*dtypes)`` is :func:`symcomp.tensor.type.upcast`: the dtype of a sum of
zero-dimensional arrays of the given dtypes (``upcast('int8', 'float32') == 'float32'``).
"""

from symcomp.tensor.type import upcast

__all__ = ["upcast"]
