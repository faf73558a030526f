"""``T.nlinalg`` (Theano's ``theano.tensor.nlinalg``): linear algebra on top of NumPy's.

``matrix_dot`` is the chain of :func:`symcomp.tensor.dot` it is in Theano.  The decompositions
and the other ops are not built yet: each raises NotImplementedError when called (see
:mod:`symcomp.tensor._pending`).
"""

from __future__ import annotations

from symcomp.tensor._pending import LINALG, pending
from symcomp.tensor.linalg import dot


def matrix_dot(*args):
    """``dot(dot(args[0], args[1]), args[2])...``: the product of several matrices, left to right.

    Raises:
        TypeError: with no argument.
        ValueError: for shapes that do not align (from :func:`symcomp.tensor.dot`).
    """
    if not args:
        raise TypeError("matrix_dot needs at least one argument")
    rval = args[0]
    for a in args[1:]:
        rval = dot(rval, a)
    return rval


globals().update(pending("symcomp.tensor.nlinalg", LINALG,
                         "pinv", "matrix_inverse", "alloc_diag", "extract_diag", "diag", "trace", "det", "eig",
                         "eigh", "qr", "svd", "matrix_power", "norm", "tensorinv", "tensorsolve", "lstsq",
                         "MatrixInverse", "MatrixPinv", "Det", "Eig", "Eigh", "QRFull", "SVD", "AllocDiag",
                         "ExtractDiag"))
