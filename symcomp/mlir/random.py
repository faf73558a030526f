"""The random-number ops in the arith, math and scf dialects: :mod:`symcomp.ir.rngalg` on SSA values.

:class:`MLIRArith` implements the algorithms' :class:`~symcomp.ir.rngalg.Arith` by writing arith
and math ops (no fast-math flags: every operation is rounded as IEEE 754 says, and MLIR does not
contract ``a * b + c`` without them), so the exported code computes the same bits as the NumPy
reference and the native backends.  Data-dependent loops (Poisson's and the binomial's attempts)
are ``scf.while`` inside the ``linalg.generic`` body; ``sc.flat_index`` is the C-order flat
index of the loop point (``linalg.index`` of each loop).  ``sc.random_permutation`` and
``sc.cumsum`` are sequential (``scf.for`` over tensors) and are converted in
:mod:`symcomp.mlir.convert.random`.
"""

from __future__ import annotations

from dataclasses import dataclass

from symcomp.ir import rngalg
from symcomp.ir import types as T
from symcomp.mlir.scalar import ScalarContext, convert, emits
from symcomp.mlir.writer import elem_type


@dataclass(frozen=True)
class MV:
    """An SSA name and its dtype (a NumPy name: MLIR integers carry no signedness)."""

    v: str
    dt: str


class MLIRArith(rngalg.Arith):
    """:class:`~symcomp.ir.rngalg.Arith` writing arith/math/scf ops through a ScalarContext."""

    def __init__(self, cx: ScalarContext):
        self.cx = cx

    @staticmethod
    def _d(x: MV) -> T.DType:
        return T.dtype(x.dt)

    def _ty(self, x: MV) -> str:
        return elem_type(self._d(x))

    def _op(self, rhs: str, dt: str) -> MV:
        return MV(self.cx.op(rhs), dt)

    def _bin(self, fop: str, iop: str, a: MV, b: MV) -> MV:
        name = fop if self._d(a).is_float else iop
        return self._op(f"arith.{name} {a.v}, {b.v} : {self._ty(a)}", a.dt)

    def c(self, dt, value):
        d = T.dtype(dt)
        if d.is_int and d.kind == "u" and int(value) >= 2 ** (d.bits - 1):
            value = int(value) - 2 ** d.bits  # the same bits, in the signed range MLIR prints
        return MV(self.cx.c(value, d), dt)

    def add(self, a, b):
        return self._bin("addf", "addi", a, b)

    def sub(self, a, b):
        return self._bin("subf", "subi", a, b)

    def mul(self, a, b):
        return self._bin("mulf", "muli", a, b)

    def div(self, a, b):
        return self._op(f"arith.divf {a.v}, {b.v} : {self._ty(a)}", a.dt)

    def sqrt(self, a):
        return self._op(f"math.sqrt {a.v} : {self._ty(a)}", a.dt)

    def floor(self, a):
        return self._op(f"math.floor {a.v} : {self._ty(a)}", a.dt)

    def and_(self, a, b):
        return self._op(f"arith.andi {a.v}, {b.v} : {self._ty(a)}", a.dt)

    def or_(self, a, b):
        return self._op(f"arith.ori {a.v}, {b.v} : {self._ty(a)}", a.dt)

    def xor(self, a, b):
        return self._op(f"arith.xori {a.v}, {b.v} : {self._ty(a)}", a.dt)

    def shr(self, a, k):
        name = "shrsi" if self._d(a).kind == "i" else "shrui"
        return self._op(f"arith.{name} {a.v}, {self.c(a.dt, k).v} : {self._ty(a)}", a.dt)

    def shl(self, a, k):
        return self._op(f"arith.shli {a.v}, {self.c(a.dt, k).v} : {self._ty(a)}", a.dt)

    def mulhilo32(self, a, b):
        wa = self._op(f"arith.extui {a.v} : i32 to i64", "uint64")
        wb = self._op(f"arith.extui {b.v} : i32 to i64", "uint64")
        p = self.mul(wa, wb)
        hi = self._op(f"arith.trunci {self.shr(p, 32).v} : i64 to i32", "uint32")
        lo = self._op(f"arith.trunci {p.v} : i64 to i32", "uint32")
        return hi, lo

    def cast(self, a, dt):
        return MV(convert(self.cx, a.v, self._d(a), T.dtype(dt)), dt)

    def bits(self, a):
        dt = "uint32" if a.dt == "float32" else "uint64"
        return self._op(f"arith.bitcast {a.v} : {self._ty(a)} to {elem_type(T.dtype(dt))}", dt)

    def from_bits(self, a):
        dt = "float32" if a.dt == "uint32" else "float64"
        return self._op(f"arith.bitcast {a.v} : {self._ty(a)} to {elem_type(T.dtype(dt))}", dt)

    def cmp(self, pred, a, b):
        d = self._d(a)
        if d.is_float:
            p = {"<": "olt", "<=": "ole", ">": "ogt", ">=": "oge", "==": "oeq", "!=": "une"}[pred]
            return self._op(f"arith.cmpf {p}, {a.v}, {b.v} : {self._ty(a)}", "bool")
        s = "s" if d.kind == "i" else "u"
        p = {"<": f"{s}lt", "<=": f"{s}le", ">": f"{s}gt", ">=": f"{s}ge", "==": "eq", "!=": "ne"}[pred]
        return self._op(f"arith.cmpi {p}, {a.v}, {b.v} : {self._ty(a)}", "bool")

    def select(self, cond, a, b):
        return self._op(f"arith.select {cond.v}, {a.v}, {b.v} : {self._ty(a)}", a.dt)

    def while_(self, cond, body, state):
        w = self.cx.w
        types = [self._ty(s) for s in state]
        tlist = ", ".join(types)
        res = w.fresh()
        before = [w.fresh("w") for _ in state]
        inits = ", ".join(f"{n} = {s.v}" for n, s in zip(before, state))
        with w.region(f"{res}:{len(state)} = scf.while ({inits}) : ({tlist}) -> ({tlist}) {{", "} do {"):
            go = cond([MV(n, s.dt) for n, s in zip(before, state)])
            w.line(f"scf.condition({go.v}) {', '.join(before)} : {tlist}")
        w.depth += 1
        after = [w.fresh("w") for _ in state]
        w.lines.append("  " * (w.base_indent + w.depth - 1)
                       + f"^bb0({', '.join(f'{n}: {t}' for n, t in zip(after, types))}):")
        new = body([MV(n, s.dt) for n, s in zip(after, state)])
        w.line(f"scf.yield {', '.join(n.v for n in new)} : {tlist}")
        w.depth -= 1
        w.line("}")
        return [MV(f"{res}#{k}", s.dt) for k, s in enumerate(state)]


def _args(op, a) -> list:
    return [MV(v, o.type.dtype.name) for v, o in zip(a, op.operands)]


@emits("sc.flat_index")
def _flat_index(cx, op, a):
    """The C-order flat index of the loop point: sum of ``linalg.index`` a times the loop's strides."""
    sizes = getattr(cx, "loop_sizes", None)
    if sizes is None:
        raise NotImplementedError("MLIR export: sc.flat_index outside a loop nest that knows its sizes")
    w = cx.w
    flat, stride = 0, 1
    for axis in range(len(sizes) - 1, -1, -1):
        flat = w.add(flat, w.mul(w.loop_index(axis), stride))
        stride = w.mul(stride, sizes[axis])
    return cx.op(f"arith.index_cast {w.ix(flat)} : index to i64")


@emits("sc.philox")
def _philox(cx, op, a):
    return rngalg.philox_words(MLIRArith(cx), *_args(op, a))[op.word].v


@emits("sc.random_bits")
def _random_bits(cx, op, a):
    return rngalg.stream_bits(MLIRArith(cx), *_args(op, a), op.width).v


@emits("sc.unit_float")
def _unit_float(cx, op, a):
    A = MLIRArith(cx)
    (word,) = _args(op, a)
    if op.dtype == T.float32:
        return rngalg.unit_float32_bits(A, word).v
    if word.dt == "uint32":
        return rngalg.unit_float64_word(A, word).v
    return rngalg.unit_float64_bits(A, word).v


@emits("sc.ndtri")
def _ndtri(cx, op, a):
    A = MLIRArith(cx)
    (x,) = _args(op, a)
    if x.dt == "float32":
        return rngalg.ndtri32(A, x).v
    return A.cast(rngalg.ndtri64(A, A.cast(x, "float64")), x.dt).v


@emits("sc.exponential")
def _exponential(cx, op, a):
    A = MLIRArith(cx)
    (x,) = _args(op, a)
    out = A.sub(A.c("float64", 0.0), rngalg.log64(A, A.cast(x, "float64")))
    return A.cast(out, x.dt).v


@emits("sc.random_poisson")
def _poisson(cx, op, a):
    A = MLIRArith(cx)
    lam, ctr_lo, ctr_hi, key = _args(op, a)
    return rngalg.poisson(A, lam, lambda j: rngalg.philox_words(A, ctr_lo, A.add(ctr_hi, j), key)).v


@emits("sc.random_binomial")
def _binomial(cx, op, a):
    A = MLIRArith(cx)
    n, p, ctr_lo, ctr_hi, key = _args(op, a)
    return rngalg.binomial(A, n, p, lambda j: rngalg.philox_words(A, ctr_lo, A.add(ctr_hi, j), key)).v
