"""Random numbers: a counter-based generator (Philox4x32-10) and the transforms built on it.

A random draw is a pure function of (key, counter): element ``i`` of a draw takes the Philox
block whose 128-bit counter is (``offset + i``, ``salt``) under the stream's 64-bit key, so
the same seed gives the same bits on every backend, thread count and vector width.  The front
end (:mod:`symcomp.tensor.randomstreams`) keeps the key and the offset in a shared variable and
builds draws from these ops; the elementwise ones fuse with their consumers (dropout
``x * (u < p) / p`` is one loop and no array of random numbers is stored).

* ``sc.flat_index`` gives each element its flat C-order index: the counter of element ``i``.
* ``sc.philox`` gives one 32-bit word of the Philox4x32-10 block of (counter, key).
* ``sc.random_bits`` gives each element of a draw its random bits: consecutive elements share a
  Philox block (four 32-bit words: four elements of 32 bits or two of 64).
* ``sc.unit_float`` turns random bits into a float in the open interval (0, 1).
* ``sc.ndtri`` is the standard normal quantile function (normal draws are ``ndtri(u)``).
* ``sc.random_poisson`` and ``sc.random_permutation`` need a data-dependent number of draws
  or a sequential algorithm; they take the counter and key themselves.
* ``sc.cumsum`` (sequential, so exact sums agree on every backend) gives the cumulative
  probabilities of categorical draws.

Every algorithm is written once in :mod:`symcomp.ir.rngalg` with operations IEEE 754 rounds
exactly, and run by each backend on its own values: results are bit-identical everywhere.
"""

from __future__ import annotations

import math

import numpy as np

from symcomp.ir import rngalg
from symcomp.ir import types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import DTypeAttr, Elementwise, Int, Positional, Pure, attr, op, operand
from symcomp.ir.frontend import tensor as _t
from symcomp.ir.ops.elementwise import ElementwiseOp, FloatUnary

A = rngalg.NUMPY


def _want(name: str, t: T.TensorType, dt: T.DType, what: str) -> None:
    if t.dtype != dt:
        raise TypeError(f"{name}: {what} must have dtype {dt.ir}, got {t}")


@op("sc.flat_index", traits=(Pure, Elementwise, Positional))
class FlatIndex(ElementwiseOp):
    """The flat C-order index of each element of ``x`` (its values are not read): ``i64``.

    Inside an ``sc.fused`` body it is the index of the loop point (the fuse pass moves it into a
    body only when its result has the loop's shape)."""
    x = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        return [T.TensorType(T.int64, types[0].shape)]

    def ref(self, x):
        x = np.asarray(x)
        return np.arange(x.size, dtype=np.int64).reshape(x.shape)

    def vjp(self, grads):
        return [None]


@op("sc.philox")
class Philox(ElementwiseOp):
    """Word ``word`` (0 to 3) of the Philox4x32-10 block with counter (``ctr_lo``, ``ctr_hi``) and
    ``key`` (all ``ui64``; counter words c0, c1 = ctr_lo's low, high halves, c2, c3 = ctr_hi's,
    key words k0, k1 = key's): ``ui32``."""
    ctr_lo = operand()
    ctr_hi = operand()
    key = operand()
    word = attr(Int, 0)

    @classmethod
    def infer(cls, types, attrs, values):
        for t, what in zip(types, ("ctr_lo", "ctr_hi", "key")):
            _want(cls.name, t, T.uint64, what)
        if not 0 <= attrs["word"] <= 3:
            raise ValueError(f"sc.philox: word must be 0, 1, 2 or 3, got {attrs['word']}")
        shape = T.broadcast_shapes([t.shape for t in types], "sc.philox operands")
        return [T.TensorType(T.uint32, shape)]

    def ref(self, ctr_lo, ctr_hi, key):
        with np.errstate(over="ignore"):
            words = rngalg.philox_words(A, *np.broadcast_arrays(ctr_lo, ctr_hi, key))
        return np.asarray(words[self.word], np.uint32)

    def vjp(self, grads):
        return [None, None, None]


@op("sc.random_bits")
class RandomBits(ElementwiseOp):
    """The random bits of each element of a draw: for the flat index ``index`` (``i64``, from
    ``sc.flat_index``), the Philox4x32-10 words of the block with counter
    (``offset + index // per``, ``salt``) under ``key`` (``ui64`` operands of static size 1 on
    every axis: one stream), all four words of each block used by consecutive elements
    (:func:`symcomp.ir.rngalg.stream_bits`):

    * ``width`` 32: word ``index % 4`` of block ``offset + index // 4``: ``ui32``;
    * ``width`` 64: words ``2 (index % 2)`` (low half) and ``2 (index % 2) + 1`` (high half) of
      block ``offset + index // 2``: ``ui64``.

    A draw of n elements uses ceil(n / 4) or ceil(n / 2) blocks from ``offset`` on."""
    index = operand()
    offset = operand()
    salt = operand()
    key = operand()
    width = attr(Int, 32)

    @classmethod
    def infer(cls, types, attrs, values):
        _want(cls.name, types[0], T.int64, "index")
        for t, what in zip(types[1:], ("offset", "salt", "key")):
            _want(cls.name, t, T.uint64, what)
            if any(d != 1 for d in t.shape):
                raise TypeError(f"sc.random_bits: {what} must have size 1 on every axis (one stream), got {t}")
        if attrs["width"] not in rngalg.STREAM_WORDS:
            raise ValueError(f"sc.random_bits: width must be 32 or 64, got {attrs['width']}")
        shape = T.broadcast_shapes([t.shape for t in types], "sc.random_bits operands")
        return [T.TensorType(T.uint32 if attrs["width"] == 32 else T.uint64, shape)]

    def ref(self, index, offset, salt, key):
        with np.errstate(over="ignore"):
            bits = rngalg.stream_bits(A, *np.broadcast_arrays(index, offset, salt, key), self.width)
        return np.asarray(bits, np.uint32 if self.width == 32 else np.uint64)

    def vjp(self, grads):
        return [None] * 4


@op("sc.unit_float")
class UnitFloat(ElementwiseOp):
    """A float in the open interval (0, 1) from random bits: ``f32`` from a ``ui32`` word w,
    ``((w >> 9) + 0.5) * 2**-23``; ``f64`` from a ``ui64`` word x, ``((x >> 12) + 0.5) * 2**-52``
    (the high 23 or 52 bits), or from a ``ui32`` word w, ``(w + 0.5) * 2**-32`` (32 bits, for
    Bernoulli draws).  Never 0 or 1, so ``log(u)`` and ``log(1 - u)`` are finite; every step is
    exact (:func:`symcomp.ir.rngalg.unit_float32_bits`, ``unit_float64_bits``, ``unit_float64_word``)."""
    word = operand()
    dtype = attr(DTypeAttr)

    @classmethod
    def infer(cls, types, attrs, values):
        dt = attrs["dtype"]
        want = {T.float32: (T.uint32,), T.float64: (T.uint64, T.uint32)}.get(dt)
        if want is None:
            raise TypeError(f"sc.unit_float: dtype must be f32 or f64, got {dt.ir}")
        if types[0].dtype not in want:
            raise TypeError(f"sc.unit_float: the word of a {dt.ir} must have dtype "
                            f"{' or '.join(w.ir for w in want)}, got {types[0]}")
        return [T.TensorType(dt, types[0].shape)]

    def ref(self, word):
        if self.dtype == T.float32:
            return np.asarray(rngalg.unit_float32_bits(A, np.asarray(word, np.uint32)), np.float32)
        if np.asarray(word).dtype == np.uint32:
            return np.asarray(rngalg.unit_float64_word(A, np.asarray(word)), np.float64)
        return np.asarray(rngalg.unit_float64_bits(A, np.asarray(word, np.uint64)), np.float64)

    def vjp(self, grads):
        return [None]


@op("sc.ndtri")
class Ndtri(FloatUnary):
    """The standard normal quantile function Phi^-1(x) (``scipy.special.ndtri``) with its own
    logarithm (:mod:`symcomp.ir.rngalg`), so every backend gives the same bits: for ``f64``,
    Wichura's AS 241 PPND16 (relative error about 1e-16); for ``f32``, PPND7 in float32
    arithmetic (within 6 ulp on the float32 unit floats; :func:`symcomp.ir.rngalg.ndtri32`).
    ndtri(0) = -inf, ndtri(1) = inf, NaN outside [0, 1]."""

    def ref(self, x):
        with np.errstate(all="ignore"):
            if x.dtype == np.float32:
                return np.asarray(rngalg.ndtri32(A, x), np.float32)
            return np.asarray(rngalg.ndtri64(A, np.asarray(x, np.float64)), x.dtype)

    def vjp(self, grads):
        tb = _t()
        z = self.result
        return [grads[0] * math.sqrt(2 * math.pi) * tb.exp(z * z * 0.5)]


@op("sc.exponential")
class Exponential(FloatUnary):
    """-log(x): a standard exponential variate from a uniform x in (0, 1), with the logarithm of
    :func:`symcomp.ir.rngalg.log64` (fdlibm's, within 1 ulp), so every backend gives the same bits;
    computed in float64 (a float32 result is rounded once).  Weighted sampling without replacement
    ranks -log(u) / p.  Other inputs: unspecified values for x <= 0, inf and NaN."""

    def ref(self, x):
        with np.errstate(all="ignore"):
            return np.asarray(-rngalg.log64(A, np.asarray(x, np.float64)), x.dtype)

    def vjp(self, grads):
        return [-grads[0] / self.x]


@op("sc.random_poisson")
class RandomPoisson(ElementwiseOp):
    """A Poisson(``lam``) count (``i64``) per element, for ``lam`` (``f64``) with the draws of
    attempt ``j`` from the Philox block (``ctr_lo``, ``ctr_hi + j``) under ``key`` (``ui64``):
    exponential spacings below lam = 10, Hormann's PTRS above (:func:`symcomp.ir.rngalg.poisson`).
    A rate that is negative, NaN or at least 1e15 gives -1."""
    lam = operand()
    ctr_lo = operand()
    ctr_hi = operand()
    key = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        _want(cls.name, types[0], T.float64, "lam")
        for t, what in zip(types[1:], ("ctr_lo", "ctr_hi", "key")):
            _want(cls.name, t, T.uint64, what)
        return [T.TensorType(T.int64, T.broadcast_shapes([t.shape for t in types], "sc.random_poisson operands"))]

    def ref(self, lam, ctr_lo, ctr_hi, key):
        lam, ctr_lo, ctr_hi, key = np.broadcast_arrays(lam, ctr_lo, ctr_hi, key)
        if lam.size == 0:
            return np.zeros(lam.shape, np.int64)

        def draw(j):
            return rngalg.philox_words(A, ctr_lo, A.add(ctr_hi, j), key)

        with np.errstate(all="ignore"):
            return np.asarray(rngalg.poisson(A, lam, draw), np.int64)

    def vjp(self, grads):
        return [None] * 4


@op("sc.random_binomial")
class RandomBinomial(ElementwiseOp):
    """A Binomial(``n``, ``p``) count (``i64``) per element, for ``n`` (``i64``) and ``p`` (``f64``),
    with the draws of attempt ``j`` from the Philox block (``ctr_lo``, ``ctr_hi + j``) under
    ``key`` (``ui64``): geometric waiting times below the mean n min(p, 1 - p) = 10, Hormann's
    BTRS above (:func:`symcomp.ir.rngalg.binomial`).  n < 0, n >= 2**53, p outside [0, 1] or NaN
    give -1."""
    n = operand()
    p = operand()
    ctr_lo = operand()
    ctr_hi = operand()
    key = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        _want(cls.name, types[0], T.int64, "n")
        _want(cls.name, types[1], T.float64, "p")
        for t, what in zip(types[2:], ("ctr_lo", "ctr_hi", "key")):
            _want(cls.name, t, T.uint64, what)
        return [T.TensorType(T.int64, T.broadcast_shapes([t.shape for t in types], "sc.random_binomial operands"))]

    def ref(self, n, p, ctr_lo, ctr_hi, key):
        n, p, ctr_lo, ctr_hi, key = np.broadcast_arrays(n, p, ctr_lo, ctr_hi, key)
        if n.size == 0:
            return np.zeros(n.shape, np.int64)

        def draw(j):
            return rngalg.philox_words(A, ctr_lo, A.add(ctr_hi, j), key)

        with np.errstate(all="ignore"):
            return np.asarray(rngalg.binomial(A, n, p, draw), np.int64)

    def vjp(self, grads):
        return [None] * 5


@op("sc.random_permutation", traits=(Pure,))
class RandomPermutation(Operation):
    """``rows`` random permutations of 0 .. n-1 (``tensor<rows x n x i64>``) by Fisher-Yates:
    in row r, for i from n - 1 down to 1, swap positions i and j = min(floor(u * (i + 1)), i)
    where u is the float64 ``sc.unit_float`` of words 0, 1 of the Philox block
    (``ctr + r * n + i``, 0) under ``key``.  ``ctr`` and ``key`` are rank-0 ``ui64``, ``rows``
    and ``n`` rank-0 ``i64``."""
    ctr = operand()
    key = operand()
    rows = operand()
    n = operand()

    @classmethod
    def infer(cls, types, attrs, values):
        for t, what in zip(types[:2], ("ctr", "key")):
            _want(cls.name, t, T.uint64, what)
            if t.ndim:
                raise TypeError(f"sc.random_permutation: {what} must be rank 0, got {t}")
        dims = []
        for t, v, what in zip(types[2:], values[2:], ("rows", "n")):
            if t.ndim or t.dtype != T.int64:
                raise TypeError(f"sc.random_permutation: {what} must be a rank-0 i64, got {t}")
            if v is not None and int(v) < 0:
                raise ValueError(f"sc.random_permutation: {what} must be >= 0, got {int(v)}")
            dims.append(None if v is None else int(v))
        return [T.TensorType(T.int64, tuple(dims))]

    def ref(self, ctr, key, rows, n):
        rows, n = int(rows), int(n)
        out = np.tile(np.arange(n, dtype=np.int64), (rows, 1))
        if n < 2 or rows == 0:
            return out
        i = np.arange(n, dtype=np.uint64)
        base = (np.uint64(ctr) + np.arange(rows, dtype=np.uint64)[:, None] * np.uint64(n) + i[None, :])
        with np.errstate(over="ignore"):
            w = rngalg.philox_words(A, base, np.zeros_like(base), np.full_like(base, np.uint64(key)))
        u = rngalg.unit_float64(A, w[0], w[1])
        j = np.minimum(np.floor(u * (i.astype(np.float64) + 1.0)), i.astype(np.float64)).astype(np.int64)
        r = np.arange(rows)
        for k in range(n - 1, 0, -1):
            jk = j[:, k]
            a, b = out[r, k].copy(), out[r, jk].copy()
            out[r, k], out[r, jk] = b, a
        return out

    def vjp(self, grads):
        return [None] * 4


@op("sc.cumsum", traits=(Pure,))
class Cumsum(Operation):
    """Cumulative sum along ``axis``, added strictly in order (``np.cumsum``): the sums are the
    same on every backend, which the categorical draws rely on."""
    x = operand()
    axis = attr(Int)

    @classmethod
    def infer(cls, types, attrs, values):
        (t,) = types
        if t.dtype.is_bool or not 0 <= attrs["axis"] < max(t.ndim, 1) or t.ndim == 0:
            raise TypeError(f"sc.cumsum: needs a numeric operand of rank >= 1 and an axis in range, got {t} "
                            f"and axis {attrs['axis']}")
        return [t]

    def ref(self, x):
        return np.cumsum(x, axis=self.axis, dtype=x.dtype)

    def vjp(self, grads):
        if not self.x.type.dtype.is_float:
            return [None]
        tb = _t()
        flip = tuple(slice(None, None, -1) if a == self.axis else slice(None) for a in range(self.x.type.ndim))
        return [tb.getitem(tb.cumsum(tb.getitem(grads[0], flip), self.axis), flip)]
