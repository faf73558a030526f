"""The LAPACK ops (:mod:`symcomp.ir.ops.lapack`) on the CPU: calls of SciPy's LAPACK.

Each op copies its operands into workspace in column-major (Fortran) order, calls the LAPACK
routines (``scipy.linalg.cython_lapack``'s function pointers, registered as
``symcomp_<routine>`` like the BLAS routines: :func:`symcomp.backends.cpu.runtime.host.lapack_symbols`),
and copies the factors out into the row-major results.  LAPACK's integers are 32 bits (SciPy's
build), so a larger dimension raises ValueError when the call is planned.  A ``info > 0`` from
LAPACK (singular matrix, not positive definite, no convergence) returns the error
:data:`ERR_LINALG`, which the runtime raises as ``numpy.linalg.LinAlgError`` naming the op.

Work-array sizes are LAPACK's documented minima (with NB = 64 blocks where the routine is
blocked), computed when the call is planned.
"""

from __future__ import annotations

from symcomp.backends.cpu.lower import Lowering, lowering

LAPACK_OPS = ("sc.matrix_inverse", "sc.det", "sc.eigh", "sc.eig", "sc.svd", "sc.svdvals", "sc.qr", "sc.cholesky",
              "sc.solve", "sc.solve_triangular")
_INT_MAX = 2**31 - 1
_NB = 64


def _check(op, *dims):
    for d in dims:
        if d > _INT_MAX:
            raise ValueError(f"{op.name}: dimension {d} exceeds LAPACK's 32-bit size limit ({_INT_MAX})")


class _Lapack(Lowering):
    """Shared planning and emission helpers; ``buffers(op, shapes) -> {name: (elements, kind)}``
    ("f": the op's float dtype, "i": int32) are workspace regions, and ``sizes(op, shapes)``
    the integer parameters (``n``, ``m``, ``lwork``...)."""

    def plan(self, op, P, shapes):
        super().plan(op, P, shapes)
        sizes = self.sizes(op, [P.shape[v] for v in op.operands])
        _check(op, *sizes.values())
        for k, v in sizes.items():
            P.set_param(k, v)
        item = op.operands[0].type.dtype.itemsize
        for name, (count, kind) in self.buffers(op, sizes).items():
            P.set_param(f"ws_{name}", P.scratch(max(count, 1) * (item if kind == "f" else 4)))

    # -- emission helpers ------------------------------------------------------------------
    @staticmethod
    def ws(E, name):
        """Pointer to the workspace region ``name``."""
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import PTR

        b = E.b
        base = b.load(b.gep(E.ptrs, [E.load_slot(("wsroot", 0))], source_etype=PTR), typ=PTR)
        return b.gep(base, [E.param(f"ws_{name}")], source_etype=ir.IntType(8))

    @staticmethod
    def to_fortran(E, v, dst, rows=None, ld=None):
        """Copy the matrix (or vector, as one column) ``v`` into ``dst``, column-major with
        leading dimension ``ld`` (default: its rows)."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        d = E.desc(v)
        dims, strides = (d.dims, d.strides) if v.type.ndim == 2 else (d.dims + [i64(1)], d.strides + [i64(0)])
        emit_copy(E, dims, Array(d.ptr, v.type.dtype, strides), Array(dst, v.type.dtype, [i64(1), ld or dims[0]]))

    @staticmethod
    def from_fortran(E, src, v, ld):
        """Copy the column-major matrix at ``src`` (leading dimension ``ld``) into the result ``v``."""
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy

        d = E.desc(v)
        dims, strides = (d.dims, d.strides) if v.type.ndim == 2 else (d.dims + [i64(1)], d.strides + [i64(0)])
        emit_copy(E, dims, Array(src, v.type.dtype, [i64(1), ld]), Array(d.ptr, v.type.dtype, strides))

    @staticmethod
    def call(E, dt, routine, args):
        """Call LAPACK's ``routine`` (its ``d``/``s`` form for ``dt``); ``args`` are, in order,
        ``("i", i64 value)`` (an integer, passed as int32), ``("c", "L")`` (a character),
        ``("p", pointer)``.  Returns the pointer of the ``info`` cell appended last."""
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I32, I8, PTR
        from symcomp.backends.cpu.vecmath.libcalls import declare

        b = E.b
        vals = []
        for kind, x in args:
            if kind == "p":
                vals.append(x)
                continue
            t = I32 if kind == "i" else I8
            cell = E.entry_alloca(t)
            b.store(b.trunc(x, I32) if kind == "i" else ir.Constant(I8, ord(x)), cell)
            vals.append(cell)
        info = E.entry_alloca(I32)
        b.store(ir.Constant(I32, 0), info)
        vals.append(info)
        name = f"symcomp_{'d' if dt.bits == 64 else 's'}{routine}"
        b.call(declare(b.module, name, ir.VoidType(), [PTR] * len(vals)), vals)
        return info

    @staticmethod
    def failed(E, info):
        """i1: LAPACK's info is non-zero (info < 0 is an argument symcomp got wrong: reported too)."""
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I32

        return E.b.icmp_signed("!=", E.b.load(info, typ=I32), ir.Constant(I32, 0))

    @staticmethod
    def positive(E, name):
        from symcomp.backends.cpu.codegen.context import i64

        return E.b.icmp_signed(">", E.param(name), i64(0))


def _flag(E, cond):
    from symcomp.backends.cpu.codegen.scalar import ERR_LINALG

    E.flag_error(cond, ERR_LINALG)


@lowering("sc.matrix_inverse")
class InverseLowering(_Lapack):
    """getrf then getri on a copy."""

    def sizes(self, op, shapes):
        n = shapes[0][0]
        return {"n": n, "lwork": max(1, _NB * n)}

    def buffers(self, op, s):
        return {"a": (s["n"] ** 2, "f"), "ipiv": (s["n"], "i"), "work": (s["lwork"], "f")}

    def emit(self, op, E):
        x = op.operands[0]
        dt = x.type.dtype
        n = E.param("n")
        with E.b.if_then(self.positive(E, "n")):
            a, ipiv, work = self.ws(E, "a"), self.ws(E, "ipiv"), self.ws(E, "work")
            self.to_fortran(E, x, a)
            info = self.call(E, dt, "getrf", [("i", n), ("i", n), ("p", a), ("i", n), ("p", ipiv)])
            bad = self.failed(E, info)
            _flag(E, bad)
            with E.b.if_then(E.b.not_(bad)):
                info = self.call(E, dt, "getri", [("i", n), ("p", a), ("i", n), ("p", ipiv), ("p", work),
                                                  ("i", E.param("lwork"))])
                _flag(E, self.failed(E, info))
                self.from_fortran(E, a, op.result, n)


@lowering("sc.det")
class DetLowering(_Lapack):
    """getrf on a copy; the product of U's diagonal, negated for each row interchange."""

    def sizes(self, op, shapes):
        return {"n": shapes[0][0]}

    def buffers(self, op, s):
        return {"a": (s["n"] ** 2, "f"), "ipiv": (s["n"], "i")}

    def emit(self, op, E):
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I32, i64
        from symcomp.backends.cpu.codegen.loops import for_range

        x = op.operands[0]
        dt = x.type.dtype
        b = E.b
        n = E.param("n")
        cx = E.scalar_context(None)
        acc = E.entry_alloca(cx.type(dt))
        b.store(cx.const(dt, 1.0), acc)
        with b.if_then(self.positive(E, "n")):
            a, ipiv = self.ws(E, "a"), self.ws(E, "ipiv")
            self.to_fortran(E, x, a)
            info = self.call(E, dt, "getrf", [("i", n), ("i", n), ("p", a), ("i", n), ("p", ipiv)])
            _flag(E, b.icmp_signed("<", b.load(info, typ=I32), ir.Constant(I32, 0)))  # > 0: det is 0, computed
            with for_range(b, 0, n, name="d") as i:
                u = E.load(a, dt, b.add(i, b.mul(i, n)))
                piv = b.load(b.gep(ipiv, [i], source_etype=I32), typ=I32)
                swapped = b.icmp_signed("!=", b.sext(piv, i64(0).type), b.add(i, i64(1)))
                u = b.select(swapped, b.fneg(u), u)
                b.store(b.fmul(b.load(acc), u), acc)
        E.store(b.load(acc), E.desc(op.result).ptr, dt, i64(0))


@lowering("sc.eigh")
class EighLowering(_Lapack):
    """syevd (divide and conquer, vectors) on a copy: the vectors overwrite it."""

    def sizes(self, op, shapes):
        n = shapes[0][0]
        return {"n": n, "lwork": 1 if n <= 1 else 1 + 6 * n + 2 * n * n, "liwork": 1 if n <= 1 else 3 + 5 * n}

    def buffers(self, op, s):
        return {"a": (s["n"] ** 2, "f"), "work": (s["lwork"], "f"), "iwork": (s["liwork"], "i")}

    def emit(self, op, E):
        x = op.operands[0]
        dt = x.type.dtype
        n = E.param("n")
        with E.b.if_then(self.positive(E, "n")):
            a = self.ws(E, "a")
            self.to_fortran(E, x, a)
            w = E.desc(op.results[0]).ptr  # a fresh contiguous vector
            info = self.call(E, dt, "syevd", [("c", "V"), ("c", "L" if op.lower else "U"), ("i", n), ("p", a),
                                              ("i", n), ("p", w), ("p", self.ws(E, "work")),
                                              ("i", E.param("lwork")), ("p", self.ws(E, "iwork")),
                                              ("i", E.param("liwork"))])
            _flag(E, self.failed(E, info))
            self.from_fortran(E, a, op.results[1], n)


@lowering("sc.eig")
class EigLowering(_Lapack):
    """geev (right vectors) on a copy; the real parts of the vectors of a complex pair are the
    pair's first column (geev stores the real part there and the imaginary part next)."""

    def sizes(self, op, shapes):
        n = shapes[0][0]
        return {"n": n, "lwork": max(1, 4 * n + _NB * n)}

    def buffers(self, op, s):
        n = s["n"]
        return {"a": (n * n, "f"), "wi": (n, "f"), "vr": (n * n, "f"), "vl": (1, "f"), "work": (s["lwork"], "f")}

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64
        from symcomp.backends.cpu.codegen.loops import for_range

        x = op.operands[0]
        dt = x.type.dtype
        b = E.b
        n = E.param("n")
        with b.if_then(self.positive(E, "n")):
            a, wi, vr = self.ws(E, "a"), self.ws(E, "wi"), self.ws(E, "vr")
            self.to_fortran(E, x, a)
            info = self.call(E, dt, "geev", [("c", "N"), ("c", "V"), ("i", n), ("p", a), ("i", n),
                                             ("p", E.desc(op.results[0]).ptr), ("p", wi), ("p", self.ws(E, "vl")),
                                             ("i", i64(1)), ("p", vr), ("i", n), ("p", self.ws(E, "work")),
                                             ("i", E.param("lwork"))])
            _flag(E, self.failed(E, info))
            v = E.desc(op.results[1])
            cx = E.scalar_context(None)
            with for_range(b, 0, n, name="col") as j:
                second = b.fcmp_ordered("<", E.load(wi, dt, j), cx.const(dt, 0.0))
                src = b.select(second, b.sub(j, i64(1)), j)
                with for_range(b, 0, n, name="row") as i:
                    val = E.load(vr, dt, b.add(i, b.mul(src, n)))
                    E.store(val, v.ptr, dt, b.add(b.mul(i, v.strides[0]), b.mul(j, v.strides[1])))


@lowering("sc.svd", "sc.svdvals")
class SVDLowering(_Lapack):
    """gesdd on a copy: jobz 'A' (full matrices), 'S' (thin) or 'N' (values only)."""

    def sizes(self, op, shapes):
        m, n = shapes[0]
        if m == 0 or n == 0:
            raise NotImplementedError(f"{op.name}: the CPU backend does not take an empty matrix ({m} x {n})")
        mn, mx = min(m, n), max(m, n)
        vectors = op.name == "sc.svd"
        full = vectors and op.full_matrices
        lwork = 3 * mn + max(mx, 7 * mn) if not vectors else \
            4 * mn * mn + 7 * mn + mx + 3 * mn + max(mx, 5 * mn * mn + 4 * mn)
        return {"m": m, "n": n, "k": mn, "ucols": m if full else mn, "vrows": n if full else mn,
                "lwork": lwork + _NB * mx}

    def buffers(self, op, s):
        bufs = {"a": (s["m"] * s["n"], "f"), "work": (s["lwork"], "f"), "iwork": (8 * s["k"], "i")}
        if op.name == "sc.svd":
            bufs.update(u=(s["m"] * s["ucols"], "f"), vt=(s["vrows"] * s["n"], "f"))
        else:
            bufs.update(u=(1, "f"), vt=(1, "f"))
        return bufs

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.context import i64

        x = op.operands[0]
        dt = x.type.dtype
        m, n = E.param("m"), E.param("n")
        vectors = op.name == "sc.svd"
        jobz = ("A" if op.full_matrices else "S") if vectors else "N"
        a, u, vt = self.ws(E, "a"), self.ws(E, "u"), self.ws(E, "vt")
        self.to_fortran(E, x, a)
        s = E.desc(op.results[1] if vectors else op.result).ptr
        ldvt = E.param("vrows") if vectors else i64(1)
        info = self.call(E, dt, "gesdd", [("c", jobz), ("i", m), ("i", n), ("p", a), ("i", m), ("p", s), ("p", u),
                                          ("i", m if vectors else i64(1)), ("p", vt), ("i", ldvt),
                                          ("p", self.ws(E, "work")), ("i", E.param("lwork")),
                                          ("p", self.ws(E, "iwork"))])
        _flag(E, self.failed(E, info))
        if vectors:
            self.from_fortran(E, u, op.results[0], m)
            self.from_fortran(E, vt, op.results[2], ldvt)


@lowering("sc.qr")
class QRLowering(_Lapack):
    """geqrf on a copy, R read from its upper triangle, then orgqr forms Q in place."""

    def sizes(self, op, shapes):
        m, n = shapes[0]
        if m == 0 or n == 0:
            raise NotImplementedError(f"{op.name}: the CPU backend does not take an empty matrix ({m} x {n})")
        k = min(m, n)
        qcols = m if op.complete else k
        return {"m": m, "n": n, "k": k, "qcols": qcols, "acols": max(n, qcols), "lwork": _NB * max(n, qcols, 1)}

    def buffers(self, op, s):
        return {"a": (s["m"] * s["acols"], "f"), "tau": (s["k"], "f"), "work": (s["lwork"], "f")}

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.loops import for_range

        x = op.operands[0]
        dt = x.type.dtype
        b = E.b
        m, n = E.param("m"), E.param("n")
        a, tau, work = self.ws(E, "a"), self.ws(E, "tau"), self.ws(E, "work")
        self.to_fortran(E, x, a)
        info = self.call(E, dt, "geqrf", [("i", m), ("i", n), ("p", a), ("i", m), ("p", tau), ("p", work),
                                          ("i", E.param("lwork"))])
        _flag(E, self.failed(E, info))
        r = E.desc(op.results[1])
        cx = E.scalar_context(None)
        with for_range(b, 0, r.dims[0], name="ri") as i:
            with for_range(b, 0, n, name="rj") as j:
                val = E.load(a, dt, b.add(i, b.mul(j, m)))
                val = b.select(b.icmp_signed("<=", i, j), val, cx.const(dt, 0.0))
                E.store(val, r.ptr, dt, b.add(b.mul(i, r.strides[0]), b.mul(j, r.strides[1])))
        info = self.call(E, dt, "orgqr", [("i", m), ("i", E.param("qcols")), ("i", E.param("k")), ("p", a),
                                          ("i", m), ("p", tau), ("p", work), ("i", E.param("lwork"))])
        _flag(E, self.failed(E, info))
        self.from_fortran(E, a, op.results[0], m)


@lowering("sc.cholesky")
class CholeskyLowering(_Lapack):
    """potrf on a copy; the other triangle of the result is zeroed (NaNs where potrf failed
    and ``on_error='nan'``)."""

    def sizes(self, op, shapes):
        return {"n": shapes[0][0]}

    def buffers(self, op, s):
        return {"a": (s["n"] ** 2, "f")}

    def emit(self, op, E):
        from symcomp.backends.cpu.codegen.loops import for_range

        x = op.operands[0]
        dt = x.type.dtype
        b = E.b
        n = E.param("n")
        with b.if_then(self.positive(E, "n")):
            a = self.ws(E, "a")
            self.to_fortran(E, x, a)
            info = self.call(E, dt, "potrf", [("c", "L" if op.lower else "U"), ("i", n), ("p", a), ("i", n)])
            bad = self.failed(E, info)
            if op.on_error == "raise":
                _flag(E, bad)
            out = E.desc(op.result)
            cx = E.scalar_context(None)
            with for_range(b, 0, n, name="ci") as i:
                with for_range(b, 0, n, name="cj") as j:
                    keep = b.icmp_signed(">=" if op.lower else "<=", i, j)
                    val = b.select(keep, E.load(a, dt, b.add(i, b.mul(j, n))), cx.const(dt, 0.0))
                    val = b.select(bad, cx.const(dt, float("nan")), val)
                    E.store(val, out.ptr, dt, b.add(b.mul(i, out.strides[0]), b.mul(j, out.strides[1])))


class _SolveLowering(_Lapack):
    def sizes(self, op, shapes):
        a, bs = shapes
        return {"n": a[0], "nrhs": bs[1] if len(bs) == 2 else 1}

    def buffers(self, op, s):
        return {"a": (s["n"] ** 2, "f"), "b": (s["n"] * s["nrhs"], "f"), "ipiv": (s["n"], "i")}

    def emit(self, op, E):
        a_v, b_v = op.operands
        dt = a_v.type.dtype
        n, nrhs = E.param("n"), E.param("nrhs")
        with E.b.if_then(self.positive(E, "n")):
            a, bb = self.ws(E, "a"), self.ws(E, "b")
            self.to_fortran(E, a_v, a)
            self.to_fortran(E, b_v, bb)
            with E.b.if_then(self.positive(E, "nrhs")):
                info = self.solve(op, E, dt, n, nrhs, a, bb)
                _flag(E, self.failed(E, info))
                self.from_fortran(E, bb, op.result, n)


@lowering("sc.solve")
class SolveLowering(_SolveLowering):
    """gesv (posv for ``structure='pos'``, lower triangle) on copies of ``a`` and ``b``."""

    def solve(self, op, E, dt, n, nrhs, a, bb):
        if op.structure == "pos":
            return self.call(E, dt, "posv", [("c", "L"), ("i", n), ("i", nrhs), ("p", a), ("i", n), ("p", bb),
                                             ("i", n)])
        return self.call(E, dt, "gesv", [("i", n), ("i", nrhs), ("p", a), ("i", n), ("p", self.ws(E, "ipiv")),
                                         ("p", bb), ("i", n)])


@lowering("sc.solve_triangular")
class SolveTriangularLowering(_SolveLowering):
    """trtrs on copies of ``a`` and ``b``."""

    def solve(self, op, E, dt, n, nrhs, a, bb):
        return self.call(E, dt, "trtrs", [("c", "L" if op.lower else "U"), ("c", "T" if op.trans else "N"),
                                          ("c", "U" if op.unit_diagonal else "N"), ("i", n), ("i", nrhs), ("p", a),
                                          ("i", n), ("p", bb), ("i", n)])
