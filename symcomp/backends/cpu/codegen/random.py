"""LLVM code for the random-number ops: :mod:`symcomp.ir.rngalg` run on LLVM values.

:class:`LLVMArith` implements the algorithms' :class:`~symcomp.ir.rngalg.Arith` with the
builder of a :class:`~symcomp.backends.cpu.codegen.scalar.ScalarContext`, on scalars or SIMD
vectors alike, with IEEE operations and no fast-math flags: the same operations, in the same
order, as the NumPy reference, so the same bits.  Philox's 32 x 32 -> 64-bit products are
``mul`` of zero-extended lanes (``vpmuludq`` on x86).
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from symcomp.backends.cpu.codegen.scalar import emits
from symcomp.backends.cpu.vecmath import libcalls
from symcomp.ir import rngalg
from symcomp.ir import types as T

I1 = ir.IntType(1)
I32 = ir.IntType(32)


@dataclass(frozen=True)
class LV:
    """An LLVM value and its dtype (a NumPy name: the signedness LLVM types do not carry)."""

    v: ir.Value
    dt: str


class LLVMArith(rngalg.Arith):
    """:class:`~symcomp.ir.rngalg.Arith` emitting LLVM IR through a ScalarContext."""

    def __init__(self, cx):
        self.cx = cx
        self.b = cx.b

    def _t(self, dt: str) -> ir.Type:
        return self.cx.type(T.dtype(dt))

    def c(self, dt, value):
        return LV(self.cx.const(T.dtype(dt), value), dt)

    def _kind(self, x: LV) -> str:
        return T.dtype(x.dt).kind

    def add(self, a, b):
        return LV(self.b.fadd(a.v, b.v) if self._kind(a) == "f" else self.b.add(a.v, b.v), a.dt)

    def sub(self, a, b):
        return LV(self.b.fsub(a.v, b.v) if self._kind(a) == "f" else self.b.sub(a.v, b.v), a.dt)

    def mul(self, a, b):
        return LV(self.b.fmul(a.v, b.v) if self._kind(a) == "f" else self.b.mul(a.v, b.v), a.dt)

    def div(self, a, b):
        return LV(self.b.fdiv(a.v, b.v), a.dt)

    def sqrt(self, a):
        return LV(libcalls.call(self.b, "sqrt", a.v), a.dt)

    def floor(self, a):
        return LV(libcalls.call(self.b, "floor", a.v), a.dt)

    def and_(self, a, b):
        return LV(self.b.and_(a.v, b.v), a.dt)

    def or_(self, a, b):
        return LV(self.b.or_(a.v, b.v), a.dt)

    def xor(self, a, b):
        return LV(self.b.xor(a.v, b.v), a.dt)

    def shr(self, a, k):
        return LV(self.b.lshr(a.v, self.cx.const(T.dtype(a.dt), k)), a.dt)

    def shl(self, a, k):
        return LV(self.b.shl(a.v, self.cx.const(T.dtype(a.dt), k)), a.dt)

    def mulhilo32(self, a, b):
        wide = self._t("uint64")
        p = self.b.mul(self.b.zext(a.v, wide), self.b.zext(b.v, wide))
        narrow = self._t("uint32")
        hi = self.b.trunc(self.b.lshr(p, self.cx.const(T.uint64, 32)), narrow)
        return LV(hi, "uint32"), LV(self.b.trunc(p, narrow), "uint32")

    def cast(self, a, dt):
        src, dst = T.dtype(a.dt), T.dtype(dt)
        b, t = self.b, self._t(dt)
        if src == dst:
            return LV(a.v, dt)
        if src.is_float and dst.is_float:
            return LV(b.fptrunc(a.v, t) if src.bits > dst.bits else b.fpext(a.v, t), dt)
        if src.is_float:
            return LV(b.fptosi(a.v, t) if dst.kind == "i" else b.fptoui(a.v, t), dt)
        if dst.is_float:
            return LV(b.sitofp(a.v, t) if src.kind == "i" else b.uitofp(a.v, t), dt)
        if src.bits > dst.bits:
            return LV(b.trunc(a.v, t), dt)
        if src.bits < dst.bits:
            return LV(b.sext(a.v, t) if src.kind == "i" else b.zext(a.v, t), dt)
        return LV(a.v, dt)

    def bits(self, a):
        dt = "uint32" if a.dt == "float32" else "uint64"
        return LV(self.b.bitcast(a.v, self._t(dt)), dt)

    def from_bits(self, a):
        dt = "float32" if a.dt == "uint32" else "float64"
        return LV(self.b.bitcast(a.v, self._t(dt)), dt)

    def cmp(self, pred, a, b):
        k = self._kind(a)
        if k == "f":
            v = self.b.fcmp_unordered(pred, a.v, b.v) if pred == "!=" else self.b.fcmp_ordered(pred, a.v, b.v)
        elif k == "i":
            v = self.b.icmp_signed(pred, a.v, b.v)
        else:
            v = self.b.icmp_unsigned(pred, a.v, b.v)
        return LV(v, "bool")

    def select(self, cond, a, b):
        return LV(self.b.select(cond.v, a.v, b.v), a.dt)

    def philox_words(self, ctr_lo, ctr_hi, key):
        """Philox4x32-10 on 64-bit lanes: each 32-bit word lives in the low half of a 64-bit lane,
        so a round's products are one ``vpmuludq`` each (the multiply of 32-bit halves the
        hardware has) and no lane widening or narrowing happens between rounds.  The high halves
        may hold garbage (products, key bumps); every product masks its operand first, which
        ``vpmuludq`` does for free, and the outputs are truncated: the words are
        :func:`symcomp.ir.rngalg.philox4x32`'s."""
        return self.philox_rounds(ctr_lo, ctr_hi, round_keys(self.b, key.v, lambda v: self.cx.const(T.uint64, v)))

    def philox_rounds(self, ctr_lo, ctr_hi, keys):
        """:meth:`philox_words` with the key schedule given: ``keys[r]`` = (k0, k1) of round r, in
        the low halves of 64-bit values of the counter's shape (see :func:`round_keys`)."""
        b, cx = self.b, self.cx
        u64 = lambda v: cx.const(T.uint64, v)  # noqa: E731
        mask, s32 = u64(0xFFFFFFFF), u64(32)
        c0, c1 = ctr_lo.v, b.lshr(ctr_lo.v, s32)
        c2, c3 = ctr_hi.v, b.lshr(ctr_hi.v, s32)
        m0, m1 = u64(rngalg.PHILOX_M0), u64(rngalg.PHILOX_M1)
        for k0, k1 in keys:
            p0 = b.mul(b.and_(c0, mask), m0)
            p1 = b.mul(b.and_(c2, mask), m1)
            c0, c1, c2, c3 = b.xor(b.xor(b.lshr(p1, s32), c1), k0), p1, b.xor(b.xor(b.lshr(p0, s32), c3), k1), p0
        t32 = self._t("uint32")
        return [LV(b.trunc(c, t32), "uint32") for c in (c0, c1, c2, c3)]

    def while_(self, cond, body, state):
        b = self.b
        pre = b.block
        header = b.append_basic_block("rng.loop")
        loop = b.append_basic_block("rng.body")
        after = b.append_basic_block("rng.done")
        b.branch(header)
        b.position_at_end(header)
        phis = []
        for s in state:
            phi = b.phi(s.v.type)
            phi.add_incoming(s.v, pre)
            phis.append(phi)
        cur = [LV(p, s.dt) for p, s in zip(phis, state)]
        active = cond(cur).v
        any_ = active
        if isinstance(active.type, ir.VectorType):
            name = f"llvm.vector.reduce.or.v{active.type.count}i1"
            fn = b.module.globals.get(name) or ir.Function(b.module, ir.FunctionType(I1, [active.type]), name)
            any_ = b.call(fn, [active])
        b.cbranch(any_, loop, after)
        b.position_at_end(loop)
        new = body(cur)
        for phi, n, c in zip(phis, new, cur):
            phi.add_incoming(b.select(active, n.v, c.v), b.block)
        b.branch(header)
        b.position_at_end(after)
        return cur


def round_keys(b, key, const) -> list:
    """The Philox key schedule of the uint64 ``key`` (k0, k1 = its low, high halves): (k0, k1) of
    each of the ten rounds, bumped by the Weyl constants, as i64 values whose low halves hold the
    32-bit keys (the high halves are garbage :meth:`LLVMArith.philox_rounds` never reads).
    ``const(v)`` makes a constant of ``key``'s shape."""
    k0, k1 = key, b.lshr(key, const(32))
    keys = []
    for r in range(rngalg.PHILOX_ROUNDS):
        if r:
            k0 = b.add(k0, const(rngalg.PHILOX_W0))
            k1 = b.add(k1, const(rngalg.PHILOX_W1))
        keys.append((k0, k1))
    return keys


def _lv(op, vals):
    return [LV(v, o.type.dtype.name) for v, o in zip(vals, op.operands)]


@emits("sc.flat_index")
def _flat_index(cx, op, a):
    if cx.index is None:
        raise AssertionError("sc.flat_index emitted in a loop without the flat index")
    return cx.index


@emits("sc.philox")
def _philox(cx, op, a):
    """Word ``op.word`` of the block; the block's four words are computed once per body copy
    (a fused body asks for two to four words of each block)."""
    key = ("philox",) + tuple(id(v) for v in a)
    words = cx.memo.get(key)
    if words is None:
        words = cx.memo[key] = (rngalg.philox_words(LLVMArith(cx), *_lv(op, a)), a)  # a: keeps the ids alive
    return words[0][op.word].v


@emits("sc.random_bits")
def _random_bits(cx, op, a):
    """Each element's random bits (:func:`symcomp.ir.rngalg.stream_bits`).  In a SIMD loop whose
    lanes are consecutive elements (the index operand is the loop's flat index), a block serves
    ``per`` = 4 (or 2) lanes: when the first lane starts a block, the vector's lanes / per blocks
    are computed once each (Philox on a vector of blocks, the key schedule shared) and their words
    shuffled to the lanes; otherwise (and in scalar loops) each lane computes its own block."""
    A = LLVMArith(cx)
    index, offset, salt, key = _lv(op, a)
    per = rngalg.elements_per_block(op.width)
    lanes = cx.lanes
    if not lanes or a[0] is not cx.index or lanes % per or lanes // per < 2:
        return rngalg.stream_bits(A, index, offset, salt, key, op.width).v
    b = cx.b
    zero = ir.Constant(I32, 0)
    first = b.extract_element(a[0], zero)
    starts = b.icmp_unsigned("==", b.and_(first, ir.Constant(first.type, per - 1)), ir.Constant(first.type, 0))
    with b.if_else(starts, likely=True) as (whole, split):
        with whole:
            fast = _whole_blocks(cx, op, [b.extract_element(v, zero) for v in a], per, a[3])
            fast_block = b.block
        with split:
            slow = rngalg.stream_bits(A, index, offset, salt, key, op.width).v
            slow_block = b.block
    phi = b.phi(fast.type)
    phi.add_incoming(fast, fast_block)
    phi.add_incoming(slow, slow_block)
    return phi


def _whole_blocks(cx, op, first, per, key_vector):
    """The random bits of ``cx.lanes`` consecutive elements whose first (flat index ``first[0]``,
    a multiple of ``per``) starts a block: blocks offset + first // per + 0 .. nb - 1 as one
    vector, then lane l takes word l % per (or words 2 (l % 2), 2 (l % 2) + 1) of block l // per."""
    from symcomp.backends.cpu.codegen.scalar import ScalarContext

    b = cx.b
    lanes = cx.lanes
    nb = lanes // per
    index, offset, salt, key = first
    key_vec = key_vector
    i64 = index.type
    bx = ScalarContext(b, nb, cx.flag_error)
    base = b.add(offset, b.lshr(index, ir.Constant(i64, per.bit_length() - 1)))
    iota = ir.Constant(ir.VectorType(i64, nb), [ir.Constant(i64, k) for k in range(nb)])
    ctr = b.add(_splat(b, base, nb), iota)
    keys = _key_schedule(b, key_vec, nb)
    words = LLVMArith(bx).philox_rounds(LV(ctr, "uint64"), LV(_splat(b, salt, nb), "uint64"), keys)
    w = [x.v for x in words]
    pair = lambda x, y: b.shuffle_vector(x, y, _mask(range(2 * nb)))  # noqa: E731
    table = b.shuffle_vector(pair(w[0], w[1]), pair(w[2], w[3]), _mask(range(4 * nb)))  # word j of block k: j*nb + k
    undef = ir.Constant(table.type, ir.Undefined)
    if op.width == 32:
        return b.shuffle_vector(table, undef, _mask((l % 4) * nb + l // 4 for l in range(lanes)))
    lo = b.shuffle_vector(table, undef, _mask(2 * (l % 2) * nb + l // 2 for l in range(lanes)))
    hi = b.shuffle_vector(table, undef, _mask((2 * (l % 2) + 1) * nb + l // 2 for l in range(lanes)))
    wide = ir.VectorType(ir.IntType(64), lanes)
    return b.or_(b.zext(lo, wide), b.shl(b.zext(hi, wide), cx.const(T.uint64, 32)))


def _key_schedule(b, key_vec, nb) -> list:
    """The round keys of the stream's key (lane 0 of ``key_vec``) splatted to ``nb`` lanes.  The key
    is the same at every point of a loop (an operand of size 1), so when its vector was made
    before this block (the loop's preheader, where a broadcast operand is loaded and splatted)
    the schedule is computed there, after it: out of the loop (computed in the loop it cost two
    vector adds, or a scalar add and a broadcast, per round)."""
    i64 = ir.IntType(64)

    def schedule():
        k = b.extract_element(key_vec, ir.Constant(I32, 0))
        return [(_splat(b, k0, nb), _splat(b, k1, nb)) for k0, k1 in round_keys(b, k, lambda v: ir.Constant(i64, v))]

    home = getattr(key_vec, "parent", None)
    if isinstance(home, ir.Block) and home is not b.block:
        with b.goto_block(home):
            return schedule()
    return schedule()


def _mask(ks) -> ir.Constant:
    ks = list(ks)
    return ir.Constant(ir.VectorType(I32, len(ks)), [ir.Constant(I32, k) for k in ks])


def _splat(b, v, lanes):
    vt = ir.VectorType(v.type, lanes)
    tmp = b.insert_element(ir.Constant(vt, ir.Undefined), v, ir.Constant(I32, 0))
    return b.shuffle_vector(tmp, ir.Constant(vt, ir.Undefined), _mask([0] * lanes))


@emits("sc.unit_float")
def _unit_float(cx, op, a):
    A = LLVMArith(cx)
    (word,) = _lv(op, a)
    if op.dtype == T.float32:
        return rngalg.unit_float32_bits(A, word).v
    if word.dt == "uint32":
        return rngalg.unit_float64_word(A, word).v
    return rngalg.unit_float64_bits(A, word).v


@emits("sc.ndtri")
def _ndtri(cx, op, a):
    A = LLVMArith(cx)
    (x,) = _lv(op, a)
    if x.dt == "float32":
        return rngalg.ndtri32(A, x).v
    out = rngalg.ndtri64(A, A.cast(x, "float64"))
    return A.cast(out, x.dt).v


@emits("sc.random_poisson")
def _poisson(cx, op, a):
    A = LLVMArith(cx)
    lam, ctr_lo, ctr_hi, key = _lv(op, a)
    return rngalg.poisson(A, lam, lambda j: rngalg.philox_words(A, ctr_lo, A.add(ctr_hi, j), key)).v


@emits("sc.random_binomial")
def _binomial(cx, op, a):
    A = LLVMArith(cx)
    n, p, ctr_lo, ctr_hi, key = _lv(op, a)
    return rngalg.binomial(A, n, p, lambda j: rngalg.philox_words(A, ctr_lo, A.add(ctr_hi, j), key)).v


@emits("sc.exponential")
def _exponential(cx, op, a):
    A = LLVMArith(cx)
    (x,) = _lv(op, a)
    out = rngalg.log64(A, A.cast(x, "float64"))
    return A.cast(A.sub(A.c("float64", 0.0), out), x.dt).v
