"""Matrix decompositions and solvers: the ops LAPACK computes.

Each op takes float32/float64 matrices (rank 2, as Theano's ``nlinalg``/``slinalg`` ops) and
follows NumPy's or SciPy's function of the same name; the CPU backend calls LAPACK through
SciPy's ``scipy.linalg.cython_lapack`` (``backends/cpu/lower/lapack.py``).  A matrix LAPACK
cannot factor (singular, not positive definite, no convergence) raises
``numpy.linalg.LinAlgError`` on every backend.

The gradients are the reverse-mode results of M. B. Giles, "An extended collection of matrix
derivative results for forward and reverse mode algorithmic differentiation" (Oxford NA
report 08/01, 2008): inverse (2.2.1), determinant (2.2.2), linear solve (2.2.3), symmetric
eigendecomposition (3.1); Cholesky follows I. Murray, "Differentiation of the Cholesky
decomposition" (arXiv:1602.07527, 2016) as Theano's ``CholeskyGrad``; QR follows
S. F. Walter and L. Lehmann, "Algorithmic differentiation of linear algebra functions with
application in optimum experimental design" (2018) (the ``copyltu`` form of Seeger et al.,
"Auto-differentiating linear algebra", arXiv:1710.08717).  A symmetric op reads only one
triangle of its operand (as LAPACK does), so its gradient lies in that triangle, with the
other triangle's share folded in (Theano's ``EighGrad``): finite differences of any entry agree.
"""

from __future__ import annotations

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Bool, Pure, Str, attr, op, operand
from symcomp.ir.frontend import tensor as _t


def _matrix(name: str, t: T.TensorType, what: str = "operand", square: bool = True) -> None:
    if not t.dtype.is_float:
        raise TypeError(f"{name}: {what} must be a float32 or float64 matrix, got {t}")
    if t.ndim != 2:
        raise ValueError(f"{name}: {what} must be a matrix (rank 2), got rank {t.ndim} ({t})")
    m, n = t.shape
    if square and m is not None and n is not None and m != n:
        raise ValueError(f"{name}: {what} must be a square matrix, got shape ({m}, {n})")


def _n(t: T.TensorType):
    """The size of a square matrix type (None when neither axis is known)."""
    return t.shape[0] if t.shape[0] is not None else t.shape[1]


def _linalg_error(name: str, what: str):
    return np.linalg.LinAlgError(f"{name}: {what}")


def _sym_grad(g, lower: bool):
    """Theano's rule for an op reading one triangle of a symmetric operand: ``tril(g) +
    triu(g, 1).T`` for the lower triangle (``triu(g) + tril(g, -1).T`` for the upper)."""
    tb = _t()
    if lower:
        return tb.tril(g) + tb.triu(g, 1).T
    return tb.triu(g) + tb.tril(g, -1).T


class _Square(Operation):
    """Base of the ops on one square float matrix."""
    x = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _matrix(cls.name, t)
        n = _n(t)
        return [T.TensorType(t.dtype, (n, n))]


@op("sc.matrix_inverse", traits=(Pure,))
class MatrixInverse(_Square):
    """``np.linalg.inv(x)`` (LAPACK getrf, getri); a singular ``x`` raises LinAlgError.
    VJP (Giles 2.2.1): ``x̄ = -inv(x).T @ ḡ @ inv(x).T``."""
    linalg_error = 'the matrix is singular'

    def ref(self, x):
        return np.linalg.inv(x).astype(x.dtype)

    def vjp(self, grads):
        tb = _t()
        zt = self.result.T
        return [-tb.dot(tb.dot(zt, grads[0]), zt)]


@op("sc.det", traits=(Pure,))
class Det(_Square):
    """``np.linalg.det(x)``: a scalar (LAPACK getrf: the product of U's diagonal, signed by the
    pivots).  VJP (Giles 2.2.2): ``x̄ = ḡ * det(x) * inv(x).T`` (Theano's ``Det.grad``)."""

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _matrix(cls.name, t)
        return [T.TensorType(t.dtype, ())]

    def ref(self, x):
        return np.asarray(np.linalg.det(x), dtype=x.dtype)

    def vjp(self, grads):
        tb = _t()
        return [grads[0] * self.result * tb.nlinalg.matrix_inverse(self.x).T]


@op("sc.eigh", traits=(Pure,), results=2)
class Eigh(_Square):
    """``np.linalg.eigh(x, 'L' if lower else 'U')``: ascending eigenvalues ``w`` (n,) and
    orthonormal eigenvectors ``v`` (columns, (n, n)) of the symmetric matrix of which ``x``
    gives one triangle (LAPACK syevd).

    VJP (Giles 3.1): ``v @ (diag(w̄) + F * (v.T @ v̄)) @ v.T`` with ``F[i, j] = 1 / (w[j] -
    w[i])`` off the diagonal, then folded onto the triangle read (Theano's ``EighGrad``).
    Repeated eigenvalues make F infinite: the gradient of their vectors is not defined."""
    linalg_error = 'the eigenvalue algorithm did not converge'
    lower = attr(Bool, True)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _matrix(cls.name, t)
        n = _n(t)
        return [T.TensorType(t.dtype, (n,)), T.TensorType(t.dtype, (n, n))]

    def ref(self, x):
        w, v = np.linalg.eigh(x, "L" if self.lower else "U")
        return w.astype(x.dtype), v.astype(x.dtype)

    def vjp(self, grads):
        tb = _t()
        w, v = self.results
        gw, gv = grads
        inner = tb.nlinalg.alloc_diag(gw)
        if not _is_zero(gv):
            diff = tb.expand_dims(w, 0) - tb.expand_dims(w, 1)  # [i, j] = w[j] - w[i]
            eye = tb.eye(tb.shape(w)[0], dtype=w.type.dtype)
            f = tb.switch(eye > 0, 0, 1 / (diff + eye))
            inner = inner + f * tb.dot(v.T, gv)
        g = tb.dot(tb.dot(v, inner), v.T)
        return [_sym_grad(g, self.lower)]


@op("sc.eig", traits=(Pure,), results=2)
class Eig(_Square):
    """The real parts of ``np.linalg.eig(x)``: eigenvalues ``w`` (n,) and eigenvectors ``v``
    (columns, (n, n)), in LAPACK geev's order, cast to ``x``'s dtype as Theano's ``Eig`` does
    (symcomp has no complex dtype: for a complex pair the real parts are returned).  Not
    differentiable (neither is Theano's)."""
    linalg_error = 'the eigenvalue algorithm did not converge'

    @classmethod
    def infer(cls, types, attrs, values):
        return Eigh.infer(types, attrs, values)

    def ref(self, x):
        w, v = np.linalg.eig(x)
        return np.real(w).astype(x.dtype), np.real(v).astype(x.dtype)

    def vjp(self, grads):
        raise NotImplementedError("sc.eig has no gradient (Theano's Eig has none either); use eigh for "
                                  "symmetric matrices")


@op("sc.svd", traits=(Pure,), results=3)
class SVD(Operation):
    """``np.linalg.svd(x, full_matrices)``: ``u`` (m, m or k), ``s`` (k,) descending, ``vt``
    (n or k, n) with ``k = min(m, n)`` (LAPACK gesdd).  VJP: for ``s`` alone,
    ``u[:, :k] @ diag(s̄) @ vt[:k]``; the gradient through ``u`` and ``vt`` is not built
    (Theano's SVD has none) and raises NotImplementedError."""
    linalg_error = 'the SVD did not converge'
    x = operand()
    full_matrices = attr(Bool, True)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _matrix(cls.name, t, square=False)
        m, n = t.shape
        k = None if m is None or n is None else min(m, n)
        if attrs["full_matrices"]:
            return [T.TensorType(t.dtype, (m, m)), T.TensorType(t.dtype, (k,)), T.TensorType(t.dtype, (n, n))]
        return [T.TensorType(t.dtype, (m, k)), T.TensorType(t.dtype, (k,)), T.TensorType(t.dtype, (k, n))]

    def ref(self, x):
        u, s, vt = np.linalg.svd(x, full_matrices=self.full_matrices)
        return u.astype(x.dtype), s.astype(x.dtype), vt.astype(x.dtype)

    def vjp(self, grads):
        gu, gs, gvt = grads
        if not (_is_zero(gu) and _is_zero(gvt)):
            raise NotImplementedError("sc.svd: the gradient through u and vt is not built (Theano's SVD has no "
                                      "gradient); differentiate the singular values (compute_uv=False)")
        return [_svd_values_grad(self.results[0], gs, self.results[2])]


@op("sc.svdvals", traits=(Pure,))
class SVDVals(Operation):
    """``np.linalg.svd(x, compute_uv=False)``: the singular values (k,), descending (LAPACK
    gesdd without vectors).  VJP: ``u[:, :k] @ diag(s̄) @ vt[:k]`` (the vectors are
    computed again in the gradient)."""
    linalg_error = 'the SVD did not converge'
    x = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _matrix(cls.name, t, square=False)
        m, n = t.shape
        return [T.TensorType(t.dtype, (None if m is None or n is None else min(m, n),))]

    def ref(self, x):
        return np.linalg.svd(x, compute_uv=False).astype(x.dtype)

    def vjp(self, grads):
        u, _, vt = _t().nlinalg.svd(self.x, full_matrices=False)
        return [_svd_values_grad(u, grads[0], vt)]


def _svd_values_grad(u, gs, vt):
    tb = _t()
    k = tb.shape(gs)[0]
    return tb.dot(u[:, :k] * tb.expand_dims(gs, 0), vt[:k])


@op("sc.qr", traits=(Pure,), results=2)
class QR(Operation):
    """``np.linalg.qr(x, 'complete' if complete else 'reduced')``: ``q`` (m, k or m) with
    orthonormal columns and upper-triangular ``r`` (k or m, n), ``k = min(m, n)`` (LAPACK
    geqrf, orgqr).  VJP of the reduced factorization (Walter and Lehmann 2018): for ``m >= n``,
    ``(q̄ + q @ copyltu(M)) @ inv(r).T`` with ``M = r @ r̄.T - q̄.T @ q``; for ``m < n`` the same
    on the leading square block, with ``x = [x1 | x2]`` and ``x2 = q @ r2`` adding
    ``x2 @ r̄2.T`` to ``q̄`` and giving ``x̄2 = q @ r̄2``.  The complete factorization of a tall
    matrix has no gradient (NotImplementedError)."""
    linalg_error = "LAPACK's QR factorization failed"
    x = operand()
    complete = attr(Bool, False)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        _matrix(cls.name, t, square=False)
        m, n = t.shape
        k = m if attrs["complete"] else (None if m is None or n is None else min(m, n))
        return [T.TensorType(t.dtype, (m, k)), T.TensorType(t.dtype, (k, n))]

    def ref(self, x):
        q, r = np.linalg.qr(x, "complete" if self.complete else "reduced")
        return q.astype(x.dtype), r.astype(x.dtype)

    def vjp(self, grads):
        tb = _t()
        m, n = self.x.type.shape
        if self.complete and not (m is not None and n is not None and m <= n):
            raise NotImplementedError("sc.qr: the gradient of the complete factorization is built only for "
                                      "statically known m <= n (where it is the reduced one); use mode='reduced'")
        q, r = self.results
        gq, gr = grads
        # x = [x1 | x2] with x1 k x k: r = [r1 | r2], x2 = q @ r2 (empty when m >= n).
        k = tb.shape(r)[0]
        r1, gr1, x2, gr2 = r[:, :k], gr[:, :k], self.x[:, k:], gr[:, k:]
        gq = gq + tb.dot(x2, gr2.T)
        mm = tb.dot(r1, gr1.T) - tb.dot(gq.T, q)
        copyltu = tb.tril(mm) + tb.tril(mm, -1).T
        rhs = gq + tb.dot(q, copyltu)  # x̄1 = rhs @ inv(r1).T: solve r1 @ x̄1.T = rhs.T
        gx1 = tb.slinalg.solve_triangular(r1, rhs.T, lower=False).T
        return [tb.concatenate([gx1, tb.dot(q, gr2)], axis=1)]


@op("sc.cholesky", traits=(Pure,))
class Cholesky(_Square):
    """``scipy.linalg.cholesky(x, lower)``: the triangular factor ``L`` (``x = L @ L.T``) of
    the positive-definite matrix of which ``x`` gives the triangle ``lower`` says; the other
    triangle of the result is zero (LAPACK potrf).  A matrix that is not positive definite
    raises LinAlgError, or, with ``on_error='nan'`` (Theano's option), gives NaNs.

    VJP (Murray 2016; Theano's ``CholeskyGrad``): with ``P = Φ(L.T @ L̄)`` (lower triangle,
    diagonal halved), ``S = inv(L).T @ P @ inv(L)``, ``x̄ = tril(S + S.T) - diag(S)``."""
    linalg_error = 'the matrix is not positive definite'
    lower = attr(Bool, True)
    on_error = attr(Str, "raise")

    @classmethod
    def infer(cls, types, attrs, values):
        if attrs["on_error"] not in ("raise", "nan"):
            raise ValueError(f"sc.cholesky: on_error must be 'raise' or 'nan', got {attrs['on_error']!r}")
        return super().infer(types, attrs, values)

    def ref(self, x):
        tri = np.tril if self.lower else np.triu
        sym = tri(x) + tri(x, -1 if self.lower else 1).T
        try:
            c = np.linalg.cholesky(sym)
        except np.linalg.LinAlgError:
            if self.on_error == "nan":
                return np.full_like(x, np.nan)
            raise _linalg_error(self.name, "the matrix is not positive definite") from None
        return (c if self.lower else c.T).astype(x.dtype)

    def vjp(self, grads):
        tb = _t()
        c = self.result
        l_ = c if self.lower else c.T
        gl = grads[0] if self.lower else grads[0].T
        p = tb.dot(l_.T, gl)
        phi = tb.tril(p) - tb.nlinalg.alloc_diag(tb.nlinalg.extract_diag(p) / 2)
        st = tb.slinalg.solve_triangular
        s = st(l_, st(l_, phi.T, lower=True, trans=1).T, lower=True, trans=1)  # inv(L).T @ phi @ inv(L)
        g = tb.tril(s + s.T) - tb.nlinalg.alloc_diag(tb.nlinalg.extract_diag(s))
        return [g if self.lower else g.T]


_STRUCTURES = ("general", "symmetric", "pos")


class _SolveBase(Operation):
    a = operand()
    b = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        a, b = types
        _matrix(cls.name, a, "a")
        if b.dtype != a.dtype or b.ndim not in (1, 2):
            raise TypeError(f"{cls.name}: b must be a vector or matrix of a's dtype {a.dtype.ir}, got {b}")
        n, nb = _n(a), b.shape[0]
        if n is not None and nb is not None and n != nb:
            raise ValueError(f"{cls.name}: a is {n} x {n} but b has {nb} rows")
        return [b.with_shape((n if n is not None else nb,) + b.shape[1:])]


@op("sc.solve", traits=(Pure,))
class Solve(_SolveBase):
    """``scipy.linalg.solve(a, b, assume_a)``: ``x`` with ``a @ x = b`` for a vector or matrix
    ``b`` (LAPACK gesv; posv for ``structure='pos'``, which reads a's lower triangle).
    ``structure`` is ``general``, ``symmetric`` (solved as general) or ``pos``; a singular (or
    not positive definite) ``a`` raises LinAlgError.

    VJP (Giles 2.2.3; Theano's ``Solve.L_op``): ``b̄ = solve(a.T, x̄)``, ``ā = -b̄ @ x.T``."""
    linalg_error = "the matrix is singular (or, for structure 'pos', not positive definite)"
    structure = attr(Str, "general")

    @classmethod
    def infer(cls, types, attrs, values):
        if attrs["structure"] not in _STRUCTURES:
            raise ValueError(f"sc.solve: structure must be one of {_STRUCTURES}, got {attrs['structure']!r}")
        return super().infer(types, attrs, values)

    def ref(self, a, b):
        if self.structure == "pos":
            a = np.tril(a) + np.tril(a, -1).T
            try:
                np.linalg.cholesky(a)
            except np.linalg.LinAlgError:
                raise _linalg_error(self.name, "the matrix is not positive definite") from None
        try:
            return np.linalg.solve(a, b).astype(a.dtype)
        except np.linalg.LinAlgError:
            raise _linalg_error(self.name, "the matrix is singular") from None

    def vjp(self, grads):
        tb = _t()
        bbar = tb.slinalg.solve(self.a.T, grads[0]) if self.structure == "general" else \
            tb.slinalg.solve(self.a, grads[0], assume_a=self.structure)
        x = self.result
        abar = -(tb.outer(bbar, x) if x.type.ndim == 1 else tb.dot(bbar, x.T))
        if self.structure == "pos":
            abar = _sym_grad(abar, True)
        return [abar, bbar]


@op("sc.solve_triangular", traits=(Pure,))
class SolveTriangular(_SolveBase):
    """``scipy.linalg.solve_triangular(a, b, trans, lower, unit_diagonal)``: ``x`` with
    ``op(a) @ x = b``, ``op(a)`` = ``a`` (``trans=0``) or ``a.T`` (``trans=1``), reading only
    the triangle of ``a`` that ``lower`` names (and not its diagonal, taken as ones, with
    ``unit_diagonal``).  A zero on the diagonal raises LinAlgError (LAPACK trtrs).

    VJP (Giles 2.2.3 restricted to the triangle): ``b̄ = solve_triangular(a, x̄, 1 - trans)``,
    ``ā = tri(-b̄ @ x.T)`` (``-x @ b̄.T`` when transposed), diagonal dropped when unit."""
    linalg_error = 'the matrix is singular (a zero on the diagonal)'
    lower = attr(Bool, False)
    trans = attr(Bool, False)
    unit_diagonal = attr(Bool, False)

    def ref(self, a, b):
        tri = np.tril(a) if self.lower else np.triu(a)
        if self.unit_diagonal:
            np.fill_diagonal(tri, 1)
        if np.any(np.diagonal(tri) == 0):
            raise _linalg_error(self.name, "the matrix is singular (a zero on the diagonal)")
        m = tri.T if self.trans else tri
        return np.linalg.solve(m, b).astype(a.dtype)

    def vjp(self, grads):
        tb = _t()
        bbar = tb.slinalg.solve_triangular(self.a, grads[0], trans=int(not self.trans), lower=self.lower,
                                           unit_diagonal=self.unit_diagonal)
        x = self.result
        if x.type.ndim == 1:
            abar = -(tb.outer(x, bbar) if self.trans else tb.outer(bbar, x))
        else:
            abar = -(tb.dot(x, bbar.T) if self.trans else tb.dot(bbar, x.T))
        abar = tb.tril(abar) if self.lower else tb.triu(abar)
        if self.unit_diagonal:
            abar = abar - tb.nlinalg.alloc_diag(tb.nlinalg.extract_diag(abar))
        return [abar, bbar]


def _is_zero(g) -> bool:
    """Whether the cotangent ``g`` is the zeros autodiff puts for an unused result."""
    o = getattr(g, "owner", None)
    if o is None:
        return False
    if o.name == "sc.constant":
        v = o.attributes["value"]
        return not np.any(v)
    if o.name == "sc.broadcast_to":
        return _is_zero(o.operands[0])
    return False
