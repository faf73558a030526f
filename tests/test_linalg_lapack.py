"""T.nlinalg and T.slinalg: the LAPACK ops against NumPy/SciPy on the reference and CPU backends
(hypothesis shapes, well-conditioned matrices), their gradients against finite differences,
LinAlgError for matrices LAPACK cannot factor, and Theano's names and op classes."""

import numpy as np
import pytest
import scipy.linalg as sl
from hypothesis import given, settings, strategies as st

import symcomp
from symcomp import tensor as T

MODES = ["reference", "fast"]
SETTINGS = settings(max_examples=6, deadline=None)


def _well_conditioned(n, seed, dtype="float64", spd=False):
    """A random n x n matrix with singular values in [1, 3] (SPD with eigenvalues there when ``spd``)."""
    rng = np.random.default_rng(seed)
    q1, _ = np.linalg.qr(rng.standard_normal((n, n)))
    q2, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = rng.uniform(1, 3, n)
    m = (q1 * s) @ (q1.T if spd else q2.T)
    return m.astype(dtype)


def _rect(m, n, seed, dtype="float64"):
    return np.random.default_rng(seed).standard_normal((m, n)).astype(dtype)


def _tol(dtype):
    return dict(rtol=1e-9, atol=1e-9) if dtype == "float64" else dict(rtol=2e-4, atol=2e-4)


def _fn(inputs, outputs, mode):
    return symcomp.function(inputs, outputs, mode=mode, on_unused_input="ignore")


def _check(got, want, dtype):
    for g, w in zip(got, want):
        assert g.dtype == np.dtype(dtype)
        np.testing.assert_allclose(g, w, **_tol(dtype))


def _colsign(v):
    """Columns with their largest-magnitude entry made positive (eigen/singular vectors are
    defined up to sign)."""
    idx = np.argmax(np.abs(v), axis=0)
    return v * np.sign(v[idx, np.arange(v.shape[1])])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(n=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_square_ops(mode, dtype, n, seed):
    a = _well_conditioned(n, seed, dtype)
    p = _well_conditioned(n, seed + 1, dtype, spd=True)
    x, s = T.matrix("x", dtype=dtype), T.matrix("s", dtype=dtype)
    w, v = T.nlinalg.eigh(s)
    wu, vu = T.nlinalg.eigh(s, "U")
    f = _fn([x, s], [T.nlinalg.matrix_inverse(x), T.nlinalg.det(x), w, v, wu, vu, T.slinalg.cholesky(s),
                     T.slinalg.cholesky(s, lower=False), T.nlinalg.trace(x), T.nlinalg.pinv(x),
                     T.slinalg.eigvalsh(s, None)], mode)
    out = f(a, p)
    ew, ev = np.linalg.eigh(p)
    ewu, evu = np.linalg.eigh(p, "U")
    out[3], out[5] = _colsign(out[3]), _colsign(out[5])
    _check(out, [np.linalg.inv(a), np.linalg.det(a), ew, _colsign(ev), ewu, _colsign(evu), np.linalg.cholesky(p),
                 sl.cholesky(p), np.trace(a), np.linalg.pinv(a), sl.eigvalsh(p)], dtype)


@pytest.mark.parametrize("mode", MODES)
@SETTINGS
@given(m=st.integers(1, 6), n=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_svd_qr(mode, m, n, seed):
    a = _rect(m, n, seed)
    x = T.dmatrix("x")
    u, s, vt = T.nlinalg.svd(x)
    ut, st_, vtt = T.nlinalg.svd(x, full_matrices=False)
    q, r = T.nlinalg.qr(x)
    qc, rc = T.nlinalg.qr(x, mode="complete")
    f = _fn([x], [u, s, vt, ut, st_, vtt, T.nlinalg.svd(x, compute_uv=False), q, r, qc, rc, T.nlinalg.qr(x, "r")],
            mode)
    out = f(a)
    nu, ns, nvt = np.linalg.svd(a)
    np.testing.assert_allclose(out[1], ns, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out[4], ns, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out[6], ns, rtol=1e-10, atol=1e-12)
    assert out[0].shape == nu.shape and out[2].shape == nvt.shape
    k = min(m, n)
    for uu, vv in ((out[0], out[2]), (out[3], out[5])):  # reconstruction and orthonormality
        np.testing.assert_allclose((uu[:, :k] * ns) @ vv[:k], a, atol=1e-10)
        np.testing.assert_allclose(uu.T @ uu, np.eye(uu.shape[1]), atol=1e-10)
        np.testing.assert_allclose(vv @ vv.T, np.eye(vv.shape[0]), atol=1e-10)
    for (qq, rr), mode_ in (((out[7], out[8]), "reduced"), ((out[9], out[10]), "complete")):
        nq, nr = np.linalg.qr(a, mode_)
        assert qq.shape == nq.shape and rr.shape == nr.shape
        np.testing.assert_allclose(qq @ rr, a, atol=1e-10)
        np.testing.assert_allclose(np.abs(rr), np.abs(nr), atol=1e-10)  # unique up to the signs of r's rows
        np.testing.assert_array_equal(np.tril(rr, -1), 0)
    np.testing.assert_allclose(out[11], out[8], atol=0)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@SETTINGS
@given(n=st.integers(1, 6), k=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_solvers(mode, dtype, n, k, seed):
    a = _well_conditioned(n, seed, dtype)
    p = _well_conditioned(n, seed + 1, dtype, spd=True)
    tri = (np.tril(a) + 3 * np.eye(n)).astype(dtype)
    rng = np.random.default_rng(seed + 2)
    bm, bv = rng.standard_normal((n, k)).astype(dtype), rng.standard_normal(n).astype(dtype)
    x, s, t = T.matrix("x", dtype=dtype), T.matrix("s", dtype=dtype), T.matrix("t", dtype=dtype)
    b, c = T.matrix("b", dtype=dtype), T.vector("c", dtype=dtype)
    S = T.slinalg
    f = _fn([x, s, t, b, c], [S.solve(x, b), S.solve(x, c), S.solve(s, b, assume_a="pos"),
                              S.solve(s, c, assume_a="pos", lower=True), S.solve(s, b, assume_a="sym"),
                              S.solve_triangular(t, b, lower=True), S.solve_triangular(t.T, c, lower=False),
                              S.solve_triangular(t, b, trans=1, lower=True),
                              S.solve_triangular(t, c, lower=True, unit_diagonal=True),
                              S.solve_lower_triangular(t, b), S.solve_upper_triangular(t.T, c),
                              S.Solve(A_structure="symmetric")(s, b), S.Solve(assume_a="pos")(s, c)], mode)
    out = f(a, p, tri, bm, bv)
    _check(out, [np.linalg.solve(a, bm), np.linalg.solve(a, bv), sl.solve(p, bm, assume_a="pos"),
                 sl.solve(p, bv, assume_a="pos", lower=True), sl.solve(p, bm, assume_a="sym"),
                 sl.solve_triangular(tri, bm, lower=True), sl.solve_triangular(tri.T, bv),
                 sl.solve_triangular(tri, bm, trans=1, lower=True),
                 sl.solve_triangular(tri, bv, lower=True, unit_diagonal=True),
                 sl.solve_triangular(tri, bm, lower=True), sl.solve_triangular(tri.T, bv),
                 np.linalg.solve(p, bm), np.linalg.solve(p, bv)], dtype)


@pytest.mark.parametrize("mode", MODES)
def test_eig_real_parts_as_theano(mode):
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])  # eigenvalues +-i, 2
    x = T.dmatrix("x")
    w, v = T.nlinalg.eig(x)
    f = _fn([x], [w, v], mode)
    for m in (a, rot):
        got_w, got_v = f(m)
        nw, nv = np.linalg.eig(m)
        order, norder = np.argsort(got_w, kind="stable"), np.argsort(nw.real, kind="stable")
        np.testing.assert_allclose(got_w[order], nw.real[norder], atol=1e-12)
        np.testing.assert_allclose(np.abs(got_v[:, order]), np.abs(nv.real[:, norder]), atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_generalized_eigvalsh_and_kron(mode):
    a = _well_conditioned(4, 3, spd=True) - 2 * np.eye(4)
    b = _well_conditioned(4, 4, spd=True)
    x, y = T.dmatrix("x"), T.dmatrix("y")
    va, vb = T.dvector("va"), T.dvector("vb")
    f = _fn([x, y, va, vb], [T.slinalg.eigvalsh(x, y), T.slinalg.Eigvalsh(lower=False)(x, y),
                             T.slinalg.kron(x, y[:2, :3]), T.slinalg.kron(va, y), T.slinalg.kron(x, vb)], mode)
    out = f(a, b, np.arange(3.0), np.arange(2.0))
    _check(out, [sl.eigvalsh(a, b), sl.eigvalsh(a, b, lower=False), np.kron(a, b[:2, :3]),
                 np.kron(np.arange(3.0), b), np.kron(a, np.arange(2.0))], "float64")
    with pytest.raises(TypeError, match="sum to 3 or more"):
        T.slinalg.kron(va, vb)


@pytest.mark.parametrize("mode", MODES)
def test_matrix_power_norm_diag(mode):
    a = _well_conditioned(3, 9)
    v = np.array([3.0, -4.0, 0.0, 1.0])
    x, y = T.dmatrix("x"), T.dvector("y")
    N = T.nlinalg
    outs = [N.matrix_power(x, k) for k in (0, 1, 2, 5, -2)]
    outs += [N.norm(y, None), N.norm(y, "inf"), N.norm(y, "-inf"), N.norm(y, 0), N.norm(y, 3), N.norm(y, np.inf)]
    outs += [N.norm(x, None), N.norm(x, "fro"), N.norm(x, "inf"), N.norm(x, "-inf"), N.norm(x, 1), N.norm(x, -1),
             N.norm(x, 2), N.norm(x, "nuc")]
    outs += [N.diag(x), N.diag(y), N.extract_diag(x), N.alloc_diag(y), T.diag(y, 1), T.diagonal(x, -1),
             N.ExtractDiag()(x), N.AllocDiag()(y)]
    f = _fn([x, y], outs, mode)
    got = f(a, v)
    mp = np.linalg.matrix_power
    want = [mp(a, k) for k in (0, 1, 2, 5, -2)]
    want += [np.linalg.norm(v, o) for o in (None, np.inf, -np.inf, 0, 3, np.inf)]
    want += [np.linalg.norm(a, o) for o in (None, "fro", np.inf, -np.inf, 1, -1, 2, "nuc")]
    want += [np.diag(a), np.diag(v), np.diag(a), np.diag(v), np.diag(v, 1), np.diagonal(a, -1), np.diag(a),
             np.diag(v)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    with pytest.raises(NotImplementedError):
        N.norm(T.dtensor3("t"), None)
    with pytest.raises(ValueError):
        N.norm(x, 3)


@pytest.mark.parametrize("mode", MODES)
def test_linalg_errors(mode):
    x, b = T.dmatrix("x"), T.dvector("b")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    not_pd = np.array([[1.0, 2.0], [2.0, 1.0]])
    for out, m in ((T.nlinalg.matrix_inverse(x), singular), (T.slinalg.cholesky(x), not_pd),
                   (T.slinalg.solve(x, b), singular), (T.slinalg.solve(x, b, assume_a="pos"), not_pd),
                   (T.slinalg.solve_triangular(x, b), np.array([[1.0, 1.0], [0.0, 0.0]]))):
        f = _fn([x, b], out, mode)
        with pytest.raises(np.linalg.LinAlgError):
            f(m, np.ones(2))
    f = _fn([x], T.slinalg.cholesky(x, on_error="nan"), mode)
    assert np.isnan(f(not_pd)).all()
    assert _fn([x], T.nlinalg.det(x), mode)(singular) == 0.0
    with pytest.raises(ValueError, match="square"):
        _fn([x], T.nlinalg.matrix_inverse(x), mode)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="square"):
        T.nlinalg.det(T.tensor("float64", shape=(2, 3)))


def test_empty_square_matrices():
    x = T.dmatrix("x")
    f = _fn([x], [T.nlinalg.matrix_inverse(x), T.nlinalg.det(x)], "fast")
    inv, d = f(np.zeros((0, 0)))
    assert inv.shape == (0, 0) and d == 1.0


def test_theano_names_and_op_classes():
    x = T.dmatrix("x")
    rng = np.random.default_rng(1)
    p = _well_conditioned(3, 5, spd=True)
    outs = [T.nlinalg.MatrixInverse()(x), T.nlinalg.Det()(x), T.nlinalg.Eigh("U")(x)[0], T.slinalg.Cholesky()(x),
            T.slinalg.Cholesky(lower=False)(x), T.nlinalg.MatrixPinv()(x), T.nlinalg.SVD(compute_uv=False)(x),
            T.nlinalg.QRFull("r")(x)]
    got = _fn([x], outs, "fast")(p)
    want = [np.linalg.inv(p), np.linalg.det(p), np.linalg.eigh(p, "U")[0], np.linalg.cholesky(p), sl.cholesky(p),
            np.linalg.pinv(p), np.linalg.svd(p, compute_uv=False), np.abs(np.linalg.qr(p, "r"))]
    got[-1] = np.abs(got[-1])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    ints = T.lmatrix("i")
    assert T.nlinalg.det(ints).type.dtype == "float64"
    assert rng is not None


# -- gradients ----------------------------------------------------------------------------------
def _sym(n, seed):
    return _well_conditioned(n, seed, spd=True)


W = np.random.default_rng(11).uniform(0.5, 1.5, (4, 4))

GRADS = {
    "matrix_inverse": (T.nlinalg.matrix_inverse, [_well_conditioned(4, 1)]),
    "det": (T.nlinalg.det, [_well_conditioned(4, 2)]),
    "eigh_values": (lambda x: T.nlinalg.eigh(x)[0], [_sym(4, 3)]),
    "eigh_values_upper": (lambda x: T.nlinalg.eigh(x, "U")[0], [_sym(4, 3)]),
    "eigh_vectors": (lambda x: T.nlinalg.eigh(x)[1] ** 2 * W, [_sym(4, 4)]),
    "eigvalsh_general": (lambda x, y: T.slinalg.eigvalsh(x, y), [_sym(3, 5), _sym(3, 6)]),
    "cholesky": (T.slinalg.cholesky, [_sym(4, 7)]),
    "cholesky_upper": (lambda x: T.slinalg.cholesky(x, lower=False), [_sym(4, 7)]),
    "solve": (T.slinalg.solve, [_well_conditioned(4, 8), _rect(4, 2, 9)]),
    "solve_vector": (T.slinalg.solve, [_well_conditioned(4, 8), _rect(4, 1, 9)[:, 0]]),
    "solve_pos": (lambda a, b: T.slinalg.solve(a, b, assume_a="pos"), [_sym(4, 10), _rect(4, 2, 9)]),
    "solve_pos_upper": (lambda a, b: T.slinalg.solve(a, b, assume_a="pos", lower=False),
                        [_sym(4, 10), _rect(4, 2, 9)]),
    "solve_sym": (lambda a, b: T.slinalg.solve(a, b, assume_a="sym"), [_sym(4, 10), _rect(4, 2, 9)]),
    "solve_triangular": (lambda a, b: T.slinalg.solve_triangular(a, b, lower=True),
                         [np.tril(_rect(4, 4, 12)) + 4 * np.eye(4), _rect(4, 2, 13)]),
    "solve_triangular_trans_unit": (lambda a, b: T.slinalg.solve_triangular(a, b, trans=1, unit_diagonal=True),
                                    [np.triu(_rect(4, 4, 12)) + 4 * np.eye(4), _rect(4, 1, 13)[:, 0]]),
    "svd_values": (lambda x: T.nlinalg.svd(x, compute_uv=False), [_rect(5, 3, 14)]),
    "svd_s_output": (lambda x: T.nlinalg.svd(x)[1], [_rect(3, 4, 15)]),
    "qr": (lambda x: sum(T.sum(o * o * w) for o, w in zip(T.nlinalg.qr(x), (W[:, :3], W[:3, :3]))) +
           T.sum(T.nlinalg.qr(x)[0] * W[:, :3]), [_rect(4, 3, 16)]),
    "qr_wide": (lambda x: sum(T.sum(o * w) for o, w in zip(T.nlinalg.qr(x), (W[:3, :3], W[:3, :]))), [_rect(3, 4, 16)]),
    "pinv": (T.nlinalg.pinv, [_rect(4, 3, 17)]),
    "pinv_square": (T.nlinalg.pinv, [_well_conditioned(3, 18)]),
    "matrix_power": (lambda x: T.nlinalg.matrix_power(x, 3), [_rect(3, 3, 19)]),
    "matrix_power_negative": (lambda x: T.nlinalg.matrix_power(x, -2), [_well_conditioned(3, 19)]),
    "trace_diag": (lambda x: T.nlinalg.trace(x) * T.nlinalg.alloc_diag(T.nlinalg.extract_diag(x)), [_rect(3, 3, 20)]),
    "kron": (T.slinalg.kron, [_rect(2, 3, 21), _rect(2, 2, 22)]),
    "norm_2": (lambda x: T.nlinalg.norm(x, 2), [_rect(3, 3, 23)]),
    "expm": (T.slinalg.expm, [_rect(3, 3, 24)]),
    "expm_scaled": (T.slinalg.expm, [_rect(3, 3, 25) * 3]),
    "tensorinv": (lambda x: T.nlinalg.tensorinv(x, 1), [_well_conditioned(6, 26).reshape(6, 2, 3)]),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradient_by_finite_differences(name, mode):
    fn, pt = GRADS[name]
    symcomp.verify_grad(fn, pt, mode=mode, abs_tol=1e-5, rel_tol=1e-5)


def test_svd_vectors_and_eig_have_no_gradient():
    x = T.dmatrix("x")
    with pytest.raises(NotImplementedError, match="u and vt"):
        T.grad(T.sum(T.nlinalg.svd(x)[0]), x)
    with pytest.raises(NotImplementedError, match="no gradient"):
        T.grad(T.sum(T.nlinalg.eig(x)[0]), x)


@pytest.mark.parametrize("mode", MODES)
def test_tensorinv_tensorsolve(mode):
    rng = np.random.default_rng(3)
    a = (np.eye(6) + 0.1 * rng.standard_normal((6, 6))).reshape(6, 2, 3)
    b = rng.standard_normal(6)
    a4 = np.einsum("ij,kl->ikjl", np.eye(2) * 2 + 0.1, np.eye(3) + 0.2).reshape(2, 3, 2, 3)
    x, y, z = T.dtensor3("x"), T.dvector("y"), T.dtensor4("z")
    f = _fn([x, y, z], [T.nlinalg.tensorinv(x, 1), T.nlinalg.tensorsolve(x, y), T.nlinalg.tensorinv(z),
                        T.nlinalg.tensorsolve(z, T.reshape(y, (2, 3))),
                        T.nlinalg.tensorsolve(z, T.reshape(y, (2, 3)), axes=(0, 1))], mode)
    got = f(a, b, a4)
    want = [np.linalg.tensorinv(a, 1), np.linalg.tensorsolve(a, b), np.linalg.tensorinv(a4),
            np.linalg.tensorsolve(a4, b.reshape(2, 3)), np.linalg.tensorsolve(a4, b.reshape(2, 3), axes=(0, 1))]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@SETTINGS
@given(n=st.integers(1, 5), scale=st.sampled_from([0.0, 1e-3, 0.3, 2.0, 20.0, 150.0]), seed=st.integers(0, 2**16))
def test_expm(mode, n, scale, seed):
    a = _rect(n, n, seed) * scale
    x = T.dmatrix("x")
    got = _fn([x], [T.slinalg.expm(x), T.slinalg.Expm()(x)], mode)(a)
    want = sl.expm(a)
    for g in got:
        np.testing.assert_allclose(g, want, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(want).max()))
    huge = _fn([x], T.slinalg.expm(x), mode)(np.full((2, 2), 1e13))
    assert np.isnan(huge).all()


def test_ahead_of_time_objects_refuse_lapack_calls():
    from symcomp import embed

    x = T.dmatrix("x")
    f = symcomp.function([x], T.nlinalg.matrix_inverse(x))
    with pytest.raises(NotImplementedError, match="only in-process"):
        embed.emit_object(f, shapes=[(3, 3)])


def test_a_cached_function_calls_lapack_in_a_new_process(tmp_path):
    import os
    import subprocess
    import sys

    code = ("import numpy as np, symcomp\nfrom symcomp import tensor as T\nx = T.dmatrix('x')\n"
            "f = symcomp.function([x], [T.nlinalg.matrix_inverse(x), T.slinalg.cholesky(x)])\n"
            "i, c = f(np.eye(3) * 4)\nprint(i[0, 0], c[0, 0])\nimport time; time.sleep(2)\n")
    env = {**os.environ, "SYMCOMP_CACHE_DIR": str(tmp_path)}
    for _ in range(2):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["0.25", "2.0"]
