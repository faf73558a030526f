"""``T.slinalg`` (Theano's ``theano.tensor.slinalg``): linear algebra with SciPy's semantics.

``cholesky``, ``solve``, ``solve_triangular`` are IR ops (:mod:`symcomp.ir.ops.lapack`: LAPACK
on the CPU); ``eigvalsh`` (through ``eigh``, and for a generalized problem through Cholesky),
``kron``, ``expm`` (scaling and squaring with a Padé approximant) are compositions.  Theano's op
classes (``Cholesky(lower=True)``, ``Solve(...)``, ``Eigvalsh(lower)``, ``Expm()``) are here, as
are its instances ``solve_lower_triangular``, ``solve_upper_triangular`` and ``solve_symmetric``.
"""

from __future__ import annotations

from symcomp.ir.opdef import build
from symcomp.ir.ops import lapack as L
from symcomp.tensor.convert import as_value, cast, result_dtype
from symcomp.tensor.nlinalg import _OpClass, _float_matrix, eigh

_ASSUME = {"gen": "general", "general": "general", "sym": "symmetric", "her": "symmetric",
           "symmetric": "symmetric", "pos": "pos"}


def cholesky(x, lower: bool = True, on_error: str = "raise"):
    """``scipy.linalg.cholesky(x, lower)``: the triangular factor of a positive-definite
    matrix (n, n) (only the triangle named by ``lower`` is read; the other one of the result
    is zero).  With ``on_error='nan'`` a matrix that is not positive definite gives NaNs
    instead of numpy.linalg.LinAlgError (Theano's option)."""
    if on_error not in ("raise", "nan"):
        raise ValueError(f"cholesky: on_error must be 'raise' or 'nan', got {on_error!r}")
    return build(L.Cholesky, [_float_matrix(x, "cholesky")], lower=bool(lower), on_error=on_error)


def _pair(a, b, what):
    a, b = as_value(a), as_value(b)
    dt = result_dtype(a, b)
    if not dt.is_float:
        dt = "float64"
    a, b = cast(a, dt), cast(b, dt)
    _float_matrix(a, what)
    if b.type.ndim not in (1, 2):
        raise ValueError(f"{what}: b must be a vector or a matrix, got {b.type}")
    return a, b


def solve(a, b, assume_a: str = "gen", lower: bool = False, check_finite: bool = True, transposed: bool = False):
    """``scipy.linalg.solve(a, b, assume_a=..., lower=...)``: ``x`` with ``a @ x = b``, for a
    square ``a`` (n, n) and ``b`` (n,) or (n, k).

    ``assume_a``: ``'gen'`` (LU), ``'sym'``/``'her'`` (solved by LU), ``'pos'`` (Cholesky,
    reading the triangle ``lower`` names).  Theano's ``A_structure`` names (``'general'``,
    ``'symmetric'``, ``'lower_triangular'``, ``'upper_triangular'``) are accepted too.

    Raises:
        ValueError: for another ``assume_a`` or shapes that do not fit;
        numpy.linalg.LinAlgError (at run time): for a singular or, with ``'pos'``, not
        positive-definite ``a``.
    """
    if assume_a in ("lower_triangular", "upper_triangular"):
        return solve_triangular(a, b, trans=int(transposed), lower=assume_a == "lower_triangular")
    structure = _ASSUME.get(assume_a)
    if structure is None:
        raise ValueError(f"solve: assume_a must be one of 'gen', 'sym', 'her', 'pos', got {assume_a!r}")
    a, b = _pair(a, b, "solve")
    if transposed:
        a = a.T
    if structure == "pos" and not lower:
        a = a.T  # the op reads the lower triangle: a's upper one is a.T's lower one
    return build(L.Solve, [a, b], structure=structure)


def solve_triangular(a, b, trans=0, lower: bool = False, unit_diagonal: bool = False, **scipy_options):
    """``scipy.linalg.solve_triangular(a, b, trans, lower, unit_diagonal)``: ``x`` with
    ``a @ x = b`` (``trans`` 0 or ``'N'``) or ``a.T @ x = b`` (1, ``'T'`` or ``'C'``), reading
    only one triangle of ``a`` (n, n); ``b`` (n,) or (n, k).

    Raises:
        ValueError: for another ``trans``; numpy.linalg.LinAlgError (at run time) for a zero
        on the diagonal.
    """
    t = {0: False, 1: True, 2: True, "N": False, "T": True, "C": True}.get(trans)
    if t is None:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    a, b = _pair(a, b, "solve_triangular")
    return build(L.SolveTriangular, [a, b], lower=bool(lower), trans=t, unit_diagonal=bool(unit_diagonal))


def eigvalsh(a, b=None, lower: bool = True):
    """``scipy.linalg.eigvalsh(a, b, lower)``: ascending eigenvalues of the symmetric ``a``
    (n, n), or of the generalized problem ``a v = w b v`` for a positive-definite ``b``
    (reduced to a standard one with b's Cholesky factor L: the eigenvalues of
    ``inv(L) a inv(L).T``, as LAPACK's sygvd does).  Only the triangle ``lower`` names is read."""
    a = _float_matrix(a, "eigvalsh")
    if b is None or (getattr(b, "owner", None) is None and b is None):
        return eigh(a, "L" if lower else "U")[0]
    a, b = _pair(a, b, "eigvalsh")
    tri = _tri(lower)
    a_full = tri(a) + tri(a, -1 if lower else 1).T
    c = cholesky(b if lower else b.T, lower=True)
    y = solve_triangular(c, a_full, lower=True)            # inv(L) a
    z = solve_triangular(c, y.T, lower=True)               # inv(L) (inv(L) a).T = inv(L) a inv(L).T
    return eigh(z, "L")[0]


def _tri(lower):
    from symcomp.tensor.diagonal import tril, triu

    return tril if lower else triu


def kron(a, b):
    """The Kronecker product (``np.kron``; ``scipy.linalg.kron`` for matrices): for ``a`` of
    shape (m, n) and ``b`` (p, q), the (m*p, n*q) matrix of blocks ``a[i, j] * b``.  The ranks
    must add up to 3 or more (Theano's rule); the smaller rank is padded with leading 1s.

    Raises:
        TypeError: when the ranks sum to less than 3.
    """
    from symcomp.tensor.shape import expand_dims, reshape, shape

    a, b = as_value(a), as_value(b)
    if a.type.ndim + b.type.ndim <= 2:
        raise TypeError("kron: inputs dimensions must sum to 3 or more. You passed "
                        f"{a.type.ndim} and {b.type.ndim}.")
    nd = max(a.type.ndim, b.type.ndim)
    if a.type.ndim < nd:
        a = expand_dims(a, list(range(nd - a.type.ndim)))
    if b.type.ndim < nd:
        b = expand_dims(b, list(range(nd - b.type.ndim)))
    # a[i0, 1, i1, 1...] * b[1, j0, 1, j1...] -> (i0, j0, i1, j1...) -> (i0*j0, i1*j1...)
    ea = expand_dims(a, [2 * k + 1 for k in range(nd)])
    eb = expand_dims(b, [2 * k for k in range(nd)])
    prod = ea * eb
    sa, sb = shape(a), shape(b)
    return reshape(prod, tuple(sa[k] * sb[k] for k in range(nd)))


_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152
EXPM_MAX_SQUARINGS = 40
"""The squarings :func:`expm` can undo: matrices of 1-norm up to ``5.37 * 2**40`` (6e12); a larger
one gives NaN (its exponential overflows unless its eigenvalues are far in the left half-plane)."""


def expm(A):
    """``scipy.linalg.expm(A)``: the matrix exponential of a square float matrix, by scaling
    and squaring with the [13/13] Padé approximant (N. J. Higham, "The scaling and squaring
    method for the matrix exponential revisited", SIAM J. Matrix Anal. Appl. 26(4), 2005, the
    algorithm SciPy's ``expm`` refines): ``A / 2**s`` with ``s = max(0, ceil(log2(|A|_1 /
    theta_13)))``, its Padé approximant ``(V - U)^-1 (V + U)`` (one ``solve``), squared ``s``
    times.  The squarings are a fixed chain of :data:`EXPM_MAX_SQUARINGS` steps, each kept or not
    by ``switch``, since the graph has no loops.  Its gradient is the derivative of that
    computation (the approach of Al-Mohy and Higham, "Computing the Fréchet derivative of the
    matrix exponential", 2009), not Theano's eigendecomposition formula.

    Raises:
        ValueError: for a matrix that is not square.
    """
    from symcomp.tensor import elemwise as E
    from symcomp.tensor.diagonal import eye
    from symcomp.tensor.linalg import dot
    from symcomp.tensor.reduce import max as _max, sum as _sum
    from symcomp.tensor.shape import shape

    A = _float_matrix(A, "expm")
    n, m = A.type.shape
    if n is not None and m is not None and n != m:
        raise ValueError(f"expm: A must be a square matrix, got shape ({n}, {m})")
    dt = A.type.dtype
    norm1 = _max(_sum(abs(A), 0))
    s = E.maximum(E.ceil(E.log2(E.maximum(norm1, 1e-300) / _THETA13)), 0)
    a = A * E.exp2(-s)
    b = _PADE13
    ident = eye(shape(A)[0], dtype=dt)
    a2 = dot(a, a)
    a4 = dot(a2, a2)
    a6 = dot(a4, a2)
    u = dot(a, dot(a6, b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * ident)
    v = dot(a6, b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * ident
    r = solve(v - u, v + u)
    for i in range(EXPM_MAX_SQUARINGS):
        r = E.switch(E.lt(i, s), dot(r, r), r)
    return E.switch(E.gt(s, EXPM_MAX_SQUARINGS), cast(float("nan"), dt), r)


class Expm:
    """Theano's ``Expm()``: ``Expm()(A)`` is :func:`expm`."""

    def __call__(self, A):
        return expm(A)


class Cholesky(_OpClass):
    """Theano's ``Cholesky(lower=True, on_error='raise')``; ``Cholesky()(x)``."""
    fn = staticmethod(cholesky)


class Solve:
    """Theano's ``Solve(A_structure='general', lower=False, overwrite_A=False, overwrite_b=False)``
    (``Solve()(a, b)``), also taking SciPy's ``assume_a`` (``'gen'``, ``'sym'``, ``'her'``, ``'pos'``)."""

    def __init__(self, A_structure: str = "general", lower: bool = False, overwrite_A: bool = False,
                 overwrite_b: bool = False, assume_a=None):
        self.A_structure = A_structure if assume_a is None else assume_a
        self.lower = lower

    def __call__(self, a, b):
        return solve(a, b, assume_a=self.A_structure, lower=self.lower)

    def __repr__(self):
        return f"Solve{{{self.A_structure}, lower={self.lower}}}"


class Eigvalsh:
    """Theano's ``Eigvalsh(lower=True)``: ``Eigvalsh()(a, b)`` (``b`` may be None)."""

    def __init__(self, lower: bool = True):
        self.lower = lower

    def __call__(self, a, b=None):
        return eigvalsh(a, b, lower=self.lower)


solve_lower_triangular = Solve(A_structure="lower_triangular", lower=True)
solve_upper_triangular = Solve(A_structure="upper_triangular", lower=False)
solve_symmetric = Solve(A_structure="symmetric")
