"""Kernel source for the random-number ops: :mod:`symcomp.ir.rngalg` run on generated code.

:class:`CudaArith` implements the algorithms' :class:`~symcomp.ir.rngalg.Arith` by emitting
Python lines for Numba CUDA: each operation binds a fresh variable.  Float additions and
products go through libdevice's ``__nv_dadd_rn`` / ``__nv_dmul_rn`` (``lib.dadd_rn``...), which
NVVM never contracts into fused multiply-adds (it would contract ``a * b + c`` written plainly),
so a GPU computes the same bits as the NumPy reference and the CPU backend.  Integer values are
cast back to their dtype after every operation (Numba widens), and 64-bit products of 32-bit
words are taken in uint64, so nothing overflows.
"""

from __future__ import annotations

from symcomp.backends.cuda.render import Source, Var, const, template
from symcomp.ir import rngalg
from symcomp.ir import types as T


class CudaArith(rngalg.Arith):
    """:class:`~symcomp.ir.rngalg.Arith` writing kernel source into a :class:`Source`."""

    def __init__(self, S: Source):
        self.S = S

    def _let(self, expr: str, dt: str) -> Var:
        return self.S.let(expr, T.dtype(dt))

    def c(self, dt, value):
        return Var(const(T.dtype(dt), value), T.dtype(dt))

    @staticmethod
    def _dt(x: Var) -> str:
        return x.dtype.name

    def _int(self, expr: str, dt: str) -> Var:
        return self._let(f"{dt}({expr})", dt)

    def add(self, a, b):
        dt = self._dt(a)
        if a.dtype.is_float:
            return self._let(f"lib.{'d' if a.dtype.bits == 64 else 'f'}add_rn({a.name}, {b.name})", dt)
        return self._wrapped("+", a, b)

    def sub(self, a, b):
        dt = self._dt(a)
        if a.dtype.is_float:
            if a.dtype.bits == 64:
                return self._let(f"lib.dadd_rn({a.name}, -{b.name})", dt)
            return self._let(f"lib.fsub_rn({a.name}, {b.name})", dt)
        return self._wrapped("-", a, b)

    def mul(self, a, b):
        dt = self._dt(a)
        if a.dtype.is_float:
            return self._let(f"lib.{'d' if a.dtype.bits == 64 else 'f'}mul_rn({a.name}, {b.name})", dt)
        return self._wrapped("*", a, b)

    def _wrapped(self, sym: str, a: Var, b: Var) -> Var:
        """Integer ``a sym b`` that wraps: computed in 64 bits, masked to the dtype's width."""
        dt = a.dtype
        wide = "uint64" if dt.kind == "u" else "int64"
        expr = f"{wide}({a.name}) {sym} {wide}({b.name})"
        if dt.bits == 64:
            return self._int(expr, dt.name)
        return self._int(f"({expr}) & {wide}({(1 << dt.bits) - 1})", dt.name)

    def div(self, a, b):
        return self._let(f"{a.name} / {b.name}", self._dt(a))

    def sqrt(self, a):
        return self._let(f"lib.{'d' if a.dtype.bits == 64 else 'f'}sqrt_rn({a.name})", self._dt(a))

    def floor(self, a):
        return self._let(f"lib.floor{'' if a.dtype.bits == 64 else 'f'}({a.name})", self._dt(a))

    def and_(self, a, b):
        if a.dtype.is_bool:
            return self._let(f"{a.name} and {b.name}", "bool")
        return self._int(f"{a.name} & {b.name}", self._dt(a))

    def or_(self, a, b):
        if a.dtype.is_bool:
            return self._let(f"{a.name} or {b.name}", "bool")
        return self._int(f"{a.name} | {b.name}", self._dt(a))

    def xor(self, a, b):
        return self._int(f"{a.name} ^ {b.name}", self._dt(a))

    def shr(self, a, k):
        return self._int(f"{a.name} >> {a.dtype.name}({k})", self._dt(a))

    def shl(self, a, k):
        dt = a.dtype
        mask = (1 << dt.bits) - 1
        return self._int(f"(uint64({a.name}) << uint64({k})) & uint64({mask})", dt.name)

    def mulhilo32(self, a, b):
        p = self._let(f"uint64({a.name}) * uint64({b.name})", "uint64")
        hi = self._int(f"{p.name} >> uint64(32)", "uint32")
        lo = self._int(f"{p.name} & uint64(4294967295)", "uint32")
        return hi, lo

    def cast(self, a, dt):
        src, dst = a.dtype, T.dtype(dt)
        if src == dst:
            return a
        if src.is_int and dst.is_int and dst.bits < src.bits:
            wide = "uint64" if src.kind == "u" else "int64"
            return self._int(f"{wide}({a.name}) & {wide}({(1 << dst.bits) - 1})", dt)
        return self._let(f"{dt}({a.name})", dt)

    def bits(self, a):
        if a.dtype == T.float32:
            return self._int(f"lib.float_as_int({a.name})", "uint32")
        return self._int(f"lib.double_as_longlong({a.name})", "uint64")

    def from_bits(self, a):
        if a.dtype == T.uint32:
            # the algorithms reinterpret only positive floats (below 2**31 as integers)
            return self._let(f"lib.int_as_float(int32({a.name}))", "float32")
        return self._let(f"lib.longlong_as_double(int64({a.name}))", "float64")

    def cmp(self, pred, a, b):
        return self._let(f"{a.name} {pred} {b.name}", "bool")

    def select(self, cond, a, b):
        return self._let(f"{a.name} if {cond.name} else {b.name}", self._dt(a))

    def while_(self, cond, body, state):
        S = self.S
        names = []
        for s in state:
            v = S.fresh("w")
            S.line(f"{v} = {s.name}")
            names.append(Var(v, s.dtype))
        go = S.fresh("go")
        S.line(f"{go} = {cond(names).name}")
        with S.block(f"while {go}"):
            new = body(names)
            tmp = [S.let(n.name, n.dtype) for n in new]  # all new values first: state updates are simultaneous
            for v, t in zip(names, tmp):
                S.line(f"{v.name} = {t.name}")
            S.line(f"{go} = {cond(names).name}")
        return names


def _var_args(op, args) -> list:
    return [Var(a.name, v.type.dtype) for a, v in zip(args, op.operands)]


@template("sc.flat_index")
def _flat_index(S, op, a, rt, err):
    index = getattr(S, "index", None)
    if index is None:
        raise AssertionError("sc.flat_index rendered in a kernel without the flat index")
    return index


@template("sc.philox")
def _philox(S, op, a, rt, err):
    memo = S.__dict__.setdefault("philox_memo", {})
    key = tuple(v.name for v in a)
    if key not in memo:
        memo[key] = rngalg.philox_words(CudaArith(S), *_var_args(op, a))
    return memo[key][op.word]


@template("sc.random_bits")
def _random_bits(S, op, a, rt, err):
    """Each thread computes its element's whole block and takes its word(s) (the reference's code)."""
    return rngalg.stream_bits(CudaArith(S), *_var_args(op, a), op.width)


@template("sc.unit_float")
def _unit_float(S, op, a, rt, err):
    A = CudaArith(S)
    (word,) = _var_args(op, a)
    if op.dtype == T.float32:
        return rngalg.unit_float32_bits(A, word)
    if word.dtype.name == "uint32":
        return rngalg.unit_float64_word(A, word)
    return rngalg.unit_float64_bits(A, word)


@template("sc.ndtri")
def _ndtri(S, op, a, rt, err):
    A = CudaArith(S)
    (x,) = _var_args(op, a)
    if x.dtype == T.float32:
        return rngalg.ndtri32(A, x)
    return A.cast(rngalg.ndtri64(A, A.cast(x, "float64")), x.dtype.name)


@template("sc.random_poisson")
def _poisson(S, op, a, rt, err):
    A = CudaArith(S)
    lam, ctr_lo, ctr_hi, key = _var_args(op, a)
    return rngalg.poisson(A, lam, lambda j: rngalg.philox_words(A, ctr_lo, A.add(ctr_hi, j), key))


@template("sc.random_binomial")
def _binomial(S, op, a, rt, err):
    A = CudaArith(S)
    n, p, ctr_lo, ctr_hi, key = _var_args(op, a)
    return rngalg.binomial(A, n, p, lambda j: rngalg.philox_words(A, ctr_lo, A.add(ctr_hi, j), key))


@template("sc.exponential")
def _exponential(S, op, a, rt, err):
    A = CudaArith(S)
    (x,) = _var_args(op, a)
    out = rngalg.log64(A, A.cast(x, "float64"))
    return A.cast(A.sub(A.c("float64", 0.0), out), x.dtype.name)
