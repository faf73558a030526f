"""``T.nlinalg`` (Theano's ``theano.tensor.nlinalg``): linear algebra with NumPy's semantics.

The decompositions are IR ops (:mod:`symcomp.ir.ops.lapack`: LAPACK on the CPU);
``matrix_dot``, ``trace``, ``diag``, ``matrix_power``, ``norm``, ``pinv`` are compositions.
Theano's op classes (``MatrixInverse()``, ``Eigh(UPLO)``...) are here too: an instance is
called on a variable, as in Theano.  Integer matrices are converted to float64 (NumPy's rule).
"""

from __future__ import annotations

from symcomp.ir.opdef import build
from symcomp.ir.ops import lapack as L
from symcomp.tensor._pending import LINALG, pending
from symcomp.tensor.convert import as_value, cast
from symcomp.tensor.custom_vjp import with_vjp
from symcomp.tensor.diagonal import alloc_diag, diag, diagonal, eye, trace  # noqa: F401 (Theano's names)
from symcomp.tensor.linalg import dot

extract_diag = diagonal


def _float_matrix(x, what: str, rank: int = 2):
    x = as_value(x)
    if not x.type.dtype.is_float:
        x = cast(x, "float64")
    if x.type.ndim != rank:
        raise ValueError(f"{what}: expected a matrix, got {x.type}")
    return x


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


def matrix_inverse(x):
    """``np.linalg.inv`` of a square matrix (n, n) -> (n, n) (the ``sc.matrix_inverse`` op).

    Raises:
        ValueError: for a matrix that is not square; numpy.linalg.LinAlgError when singular (at run time).
    """
    return build(L.MatrixInverse, [_float_matrix(x, "matrix_inverse")])


def det(x):
    """``np.linalg.det`` of a square matrix: a scalar of its dtype (``sc.det``)."""
    return build(L.Det, [_float_matrix(x, "det")])


def eigh(a, UPLO: str = "L"):
    """``np.linalg.eigh(a, UPLO)``: ``(w, v)``, ascending eigenvalues (n,) and eigenvectors
    as columns (n, n) of the symmetric matrix whose ``UPLO`` ('L' or 'U') triangle ``a`` gives.

    Raises:
        ValueError: for another UPLO or a matrix that is not square.
    """
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return tuple(build(L.Eigh, [_float_matrix(a, "eigh")], lower=UPLO == "L"))


def eig(x):
    """``np.linalg.eig(x)``'s real parts, cast to ``x``'s dtype as Theano's ``Eig``: ``(w, v)``
    (no complex dtype in symcomp; not differentiable)."""
    return tuple(build(L.Eig, [_float_matrix(x, "eig")]))


def svd(a, full_matrices: bool = True, compute_uv: bool = True):
    """``np.linalg.svd``: ``(u, s, vt)``, or only ``s`` when ``compute_uv`` is false.

    Shapes for an (m, n) matrix with k = min(m, n): u (m, m) or (m, k), s (k,), vt (n, n) or (k, n).
    """
    a = _float_matrix(a, "svd")
    if not compute_uv:
        return build(L.SVDVals, [a])
    return tuple(build(L.SVD, [a], full_matrices=bool(full_matrices)))


def qr(a, mode: str = "reduced"):
    """``np.linalg.qr(a, mode)``: ``(q, r)`` for 'reduced' and 'complete', ``r`` for 'r'.

    Raises:
        NotImplementedError: for mode 'raw' (Householder reflectors).
        ValueError: for another mode.
    """
    if mode == "raw":
        raise NotImplementedError("qr: mode='raw' is not supported by symcomp; use 'reduced', 'complete' or 'r'")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete', 'r' or 'raw', got {mode!r}")
    q, r = build(L.QR, [_float_matrix(a, "qr")], complete=mode == "complete")
    return r if mode == "r" else (q, r)


def pinv(x, hermitian: bool = False):
    """``np.linalg.pinv(x)`` (rcond 1e-15 of the largest singular value) through the SVD:
    (m, n) -> (n, m).

    Its gradient is the Golub-Pereyra formula (G. H. Golub and V. Pereyra, "The differentiation
    of pseudo-inverses and nonlinear least squares problems", SIAM J. Numer. Anal. 10, 1973),
    valid where the rank does not change: ``x̄ = -Z.T ḡ Z.T + (I - x Z) ḡ.T Z Z.T + Z.T Z ḡ.T
    (I - Z x)`` with ``Z = pinv(x)`` (Theano's ``MatrixPinv.L_op``).
    """
    from symcomp.tensor import elemwise as E
    from symcomp.tensor.reduce import max as _max
    from symcomp.tensor.shape import expand_dims, shape

    x = _float_matrix(x, "pinv")
    u, s, vt = svd(x, full_matrices=False)
    cutoff = 1e-15 * _max(s)
    sinv = E.switch(E.gt(s, cutoff), 1 / E.switch(E.gt(s, cutoff), s, 1), 0)
    z = dot(vt.T * expand_dims(sinv, 0), u.T)
    z = z * 1  # the value the rule belongs to (canonicalize removes the product)
    m, n = shape(x)

    def vjp(g):
        zt = z.T
        return [-dot(dot(zt, g), zt)
                + dot(dot(eye(m, dtype=x.type.dtype) - dot(x, z), g.T), dot(z, zt))
                + dot(dot(dot(zt, z), g.T), eye(n, dtype=x.type.dtype) - dot(z, x))]

    return with_vjp(z, [x], vjp)


def matrix_power(M, n: int):
    """``np.linalg.matrix_power(M, n)``: ``M`` multiplied by itself ``n`` times by repeated
    squaring (the identity for 0, the inverse's power for negative ``n``).

    Raises:
        TypeError: if ``n`` is not an int.
    """
    import operator

    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"matrix_power: n must be an integer, got {type(n).__name__}") from None
    M = as_value(M)
    if M.type.ndim != 2:
        raise ValueError(f"matrix_power: M must be a matrix, got {M.type}")
    if n == 0:
        from symcomp.tensor.shape import shape

        return eye(shape(M)[0], dtype=M.type.dtype)
    if n < 0:
        M, n = matrix_inverse(M), -n
    result, base = None, M
    while n:
        if n & 1:
            result = base if result is None else dot(result, base)
        n >>= 1
        if n:
            base = dot(base, base)
    return result


def norm(x, ord=None):
    """Theano's ``nlinalg.norm(x, ord)`` (NumPy's norms) of a vector or matrix.

    Vectors: ``None`` (2-norm), ``'inf'``/``inf``, ``'-inf'``/``-inf``, ``0`` (count of
    non-zeros), any other number p (``sum(abs(x)**p)**(1/p)``).  Matrices: ``None``/``'fro'``,
    ``'inf'``, ``'-inf'``, ``1``, ``-1``, and (symcomp's extension, through the SVD) ``2``,
    ``-2``, ``'nuc'``.

    Raises:
        ValueError: for a scalar or an order the rank does not have.
        NotImplementedError: for rank > 2 (as Theano).
    """
    import math

    from symcomp.tensor import elemwise as E
    from symcomp.tensor.reduce import max as _max, min as _min, sum as _sum

    x = as_value(x)
    inf = ord in ("inf", math.inf)
    ninf = ord in ("-inf", -math.inf)
    if x.type.ndim == 0:
        raise ValueError("norm: 'axis' entry is out of bounds (x is a scalar)")
    if x.type.ndim == 1:
        if ord is None:
            return _sum(x * x) ** 0.5
        if inf:
            return _max(abs(x))
        if ninf:
            return _min(abs(x))
        if ord == 0:
            return _sum(E.neq(x, 0))
        if isinstance(ord, str):
            raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
        return _sum(abs(x) ** ord) ** (1.0 / ord)
    if x.type.ndim == 2:
        if ord is None or ord == "fro":
            return _sum(abs(x * x)) ** 0.5
        if inf:
            return _max(_sum(abs(x), 1))
        if ninf:
            return _min(_sum(abs(x), 1))
        if ord == 1:
            return _max(_sum(abs(x), 0))
        if ord == -1:
            return _min(_sum(abs(x), 0))
        if ord in (2, -2, "nuc"):
            s = svd(x, compute_uv=False)
            return _max(s) if ord == 2 else (_min(s) if ord == -2 else _sum(s))
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    raise NotImplementedError("norm: symcomp (as Theano) does not support norm with ndim > 2")


def tensorinv(a, ind: int = 2):
    """``np.linalg.tensorinv(a, ind)``: the inverse of ``a`` seen as a matrix of its first ``ind``
    axes by the others (their sizes' products must be equal); shape ``a.shape[ind:] + a.shape[:ind]``.

    Raises:
        ValueError: for ``ind`` out of range; LinAlgError (at run time) when singular.
    """
    from symcomp.tensor.shape import numel, reshape, shape

    a = as_value(a)
    if not isinstance(ind, int) or not 0 < ind < a.type.ndim:
        raise ValueError(f"tensorinv: ind must be an int in [1, {a.type.ndim}), got {ind!r}")
    shp = shape(a)
    rows, cols = numel(shp[:ind]), numel(shp[ind:])
    inv = matrix_inverse(reshape(a, (rows, cols)))
    return reshape(inv, shp[ind:] + shp[:ind])


def tensorsolve(a, b, axes=None):
    """``np.linalg.tensorsolve(a, b, axes)``: ``x`` with ``tensordot(a, x, x.ndim) == b``; the
    axes ``axes`` of ``a`` are first moved to the end.

    Raises:
        LinAlgError (at run time): when the reshaped matrix is singular.
    """
    from symcomp.tensor.shape import numel, reshape, shape, transpose

    a, b = as_value(a), as_value(b)
    if axes is not None:
        axes = [ax % a.type.ndim for ax in axes]
        order = [k for k in range(a.type.ndim) if k not in axes] + axes
        a = transpose(a, order)
    shp = shape(a)
    lead = shp[:b.type.ndim]
    rest = shp[b.type.ndim:]
    from symcomp.tensor.slinalg import solve

    x = solve(reshape(a, (numel(lead), numel(rest))), reshape(b, (numel(shape(b)),)))
    return reshape(x, rest)


class _OpClass:
    """A Theano op class instance: ``MatrixInverse()(x)``."""

    fn = None

    def __init__(self, *args, **kwargs):
        self._args, self._kwargs = args, kwargs

    def __call__(self, *inputs):
        return type(self).fn(*inputs, *self._args, **self._kwargs)

    def __repr__(self):
        return f"{type(self).__name__}{self._args or ''}"


def _op_class(name: str, fn, doc: str):
    return type(name, (_OpClass,), {"fn": staticmethod(fn), "__doc__": doc})


MatrixInverse = _op_class("MatrixInverse", matrix_inverse, "Theano's op class of :func:`matrix_inverse`.")
Det = _op_class("Det", det, "Theano's op class of :func:`det`.")
Eig = _op_class("Eig", eig, "Theano's op class of :func:`eig`.")
Eigh = _op_class("Eigh", eigh, "Theano's op class of :func:`eigh`: ``Eigh(UPLO='L')(a)``.")
SVD = _op_class("SVD", svd, "Theano's op class of :func:`svd`: ``SVD(full_matrices=True, compute_uv=True)(a)``.")
QRFull = _op_class("QRFull", qr, "Theano's op class of :func:`qr`: ``QRFull(mode)(a)``.")
MatrixPinv = _op_class("MatrixPinv", pinv, "Theano's op class of :func:`pinv`.")
AllocDiag = _op_class("AllocDiag", alloc_diag, "Theano's op class of :func:`alloc_diag`.")
ExtractDiag = _op_class("ExtractDiag", diagonal, "Theano's op class of :func:`extract_diag`.")


globals().update(pending("symcomp.tensor.nlinalg", LINALG, "lstsq"))
