"""Random streams: random variables in symbolic graphs, Theano's ``RandomStreams`` API.

::

    from symcomp.tensor.randomstreams import RandomStreams

    srng = RandomStreams(seed=234)
    u = srng.uniform((2, 2))              # a symbolic variable; a new draw at every call
    f = symcomp.function([], u)
    f(); f()                              # two different draws; the same two in every process

Each random variable has its own *stream*: a shared variable ``rv.rng`` holding two uint64
words, the Philox key (derived from the seed and the stream's number) and the counter offset
(in Philox blocks).  Element ``i`` of a draw takes its random bits from the Philox4x32-10
block with counter (``offset + i // 4``, ``salt``) under the key (``offset + i // 2`` where it
needs 64 bits; ``sc.random_bits`` in :mod:`symcomp.ir.ops.random`), so it is the same on every
backend, thread count and vector width.  The stream's *default update* adds the number of
blocks drawn to the offset: every call of a compiled function that computes the variable advances it
(``symcomp.function(..., no_default_updates=True)`` does not); ``rv.rng.get_value()`` and
``set_value()`` save and restore it exactly; ``srng.seed(n)`` reseeds every stream of ``srng``.

A draw is one node of the graph: using a variable twice in one function gives the same values
both times; two variables are independent streams.  A draw is a constant for ``T.grad``;
parameters enter through reparameterisation (``avg + std * z`` for the normal), so gradients
with respect to them are exact.
"""

from __future__ import annotations

import math
import os
from typing import Optional

import numpy as np

from symcomp.ir import types as T
from symcomp.ir.core import OpResult, Value
from symcomp.ir.opdef import build
from symcomp.ir.ops import random as R
from symcomp.shared import SharedVariable, shared
from symcomp.tensor import elemwise as E
from symcomp.tensor.convert import as_int_scalar, as_value, cast, constant, static_value
from symcomp.tensor.indexing import getitem, set_subtensor
from symcomp.tensor.reduce import sum as _sum
from symcomp.tensor.shape import arange, expand_dims, numel, reshape, shape, stack, zeros

_MASK64 = (1 << 64) - 1
PHI_MINUS_2 = 0.022750131948179195  # Phi(-2): truncated normals are drawn within 2 standard deviations
PHI_SPAN_2 = 0.9544997361036416  # Phi(2) - Phi(-2)
MAX_BINOMIAL_N = 64
"""The largest ``n`` of :meth:`RandomStreams.binomial` (a sum of n Bernoulli draws)."""


def _splitmix64(x: int) -> int:
    """One step of SplitMix64 (Steele, Lea, Flood 2014): a bijective 64-bit mixer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def stream_key(seed: int, index: int) -> int:
    """The Philox key of stream ``index`` of a RandomStreams seeded with ``seed``."""
    return _splitmix64(_splitmix64(int(seed) & _MASK64) ^ (int(index) & _MASK64))


def initial_state(seed: int, index: int) -> np.ndarray:
    """The state of stream ``index`` right after seeding: [key, offset 0] (uint64)."""
    return np.array([stream_key(seed, index), 0], dtype=np.uint64)


class RandomVariable(OpResult):
    """A random draw: the value of a graph, plus its stream.

    Attributes:
        rng: the shared variable holding the stream's state ([key, offset], uint64).
        update: ``(rng, new state)``, the stream's default update.
    """

    __slots__ = ("rng", "update")


def _attach(v: Value, rng: SharedVariable, new_state: Value) -> RandomVariable:
    """Make the value ``v`` (the fresh result of the draw's last op) a :class:`RandomVariable`."""
    op = v.owner
    if op is None or op.name == "sc.constant":
        from symcomp.tensor.shape import copy

        v = copy(v)
        op = v.owner
    rv = RandomVariable(v.type, op, v.index, v.name)
    op.results[v.index] = rv
    rv.rng = rng
    rv.update = (rng, new_state)
    return rv


def _size_entries(size, ndim: Optional[int], params: list, what: str) -> list:
    """The draw's shape as a list of ints and int64 scalars: ``size``, else the parameters' broadcast shape."""
    if size is None:
        vals = [as_value(p) for p in params]
        rank = max([v.type.ndim for v in vals], default=0)
        out = []
        for a in range(rank):
            entry = 1
            for v in vals:
                k = a - (rank - v.type.ndim)
                if k < 0 or v.type.shape[k] == 1:
                    continue
                entry = v.type.shape[k] if v.type.shape[k] is not None else shape(v)[k]
                break
            out.append(entry)
        entries = out
    else:
        if isinstance(size, Value):
            if size.type.ndim == 0:
                entries = [size]
            elif size.type.ndim == 1 and size.type.shape[0] is not None:
                entries = [size[i] for i in range(size.type.shape[0])]
            else:
                raise TypeError(f"{what}: size must be a tuple or a vector of known length, got {size.type}")
        elif isinstance(size, (int, np.integer)):
            entries = [size]
        else:
            entries = list(size)
        entries = [as_int_scalar(e, f"{what}: size entry") for e in entries]
        for e in entries:
            if isinstance(e, int) and e < 0:
                raise ValueError(f"{what}: negative size {e} in {size!r}")
    if ndim is not None and ndim != len(entries):
        raise ValueError(f"{what}: ndim={ndim} does not match size {tuple(size) if size is not None else entries}")
    return entries


class _Draw:
    """The pieces of one draw: its stream, key, element indices and the state after it.

    ``per_block``: the elements one Philox block serves (4 for 32 random bits per element, 2 for
    64, 1 where each element takes whole blocks of its own, as Poisson's); the draw uses
    ceil(n / per_block) blocks from the stream's offset on, and the update moves the offset past them."""

    def __init__(self, streams: "RandomStreams", entries: list, what: str, per_block: int):
        self.rng = streams._new_stream(what)
        self.entries = entries
        self.key = getitem(self.rng, 0)
        self.offset = getitem(self.rng, 1)
        if all(isinstance(e, int) for e in entries) and math.prod(entries) == 1 or not entries:
            index = constant(np.zeros((1,) * len(entries), np.int64)) if entries else constant(np.int64(0))
        else:
            index = build(R.FlatIndex, [zeros(entries, dtype="bool")])
        self.index = index
        n = numel(entries)
        blocks = E.floor_div(E.add(cast(as_value(n, T.int64), T.int64), per_block - 1), per_block) if per_block > 1 \
            else cast(as_value(n, T.int64), T.int64)
        self.new_state = set_subtensor(getitem(self.rng, 1), E.add(self.offset, cast(blocks, T.uint64)))
        self._bits: dict = {}

    @property
    def counter(self) -> Value:
        """offset + the element's flat index (uint64): the counter of an element taking whole blocks."""
        return E.add(self.offset, cast(self.index, T.uint64))

    def bits(self, width: int, salt: int = 0) -> Value:
        """The ``width`` (32 or 64) random bits of every element from block row ``salt`` (``sc.random_bits``)."""
        got = self._bits.get((width, salt))
        if got is None:
            like = self.index
            args = [self.index, *_aligned(self.offset, like), *_aligned(constant(np.uint64(salt)), like),
                    *_aligned(self.key, like)]
            got = self._bits[(width, salt)] = build(R.RandomBits, args, width=width)
        return got

    def key_like(self) -> Value:
        return _aligned(self.key, self.index)[0]

    def unit(self, dtype: T.DType, k: int = 0, bits: Optional[int] = None) -> Value:
        """Uniform number ``k`` of each element in (0, 1), from block row ``k``: float32 from 32
        random bits (23 used), float64 from 64 (52 used), or from ``bits=32`` (all 32 used)."""
        if dtype == T.float32:
            return build(R.UnitFloat, [self.bits(32, k)], dtype=T.float32)
        return build(R.UnitFloat, [self.bits(bits or 64, k)], dtype=T.float64)


def _per_block(dtype: T.DType) -> int:
    """Elements per Philox block for uniforms of ``dtype`` (see :meth:`_Draw.unit`)."""
    return 4 if dtype == T.float32 else 2


def _aligned(v: Value, like: Value) -> list:
    """``v`` with ``like``'s rank (leading size-1 axes)."""
    k = like.type.ndim - v.type.ndim
    return [expand_dims(v, tuple(range(k))) if k > 0 else v]


def _float_dtype(dtype, *params) -> T.DType:
    """The result dtype of a continuous draw: ``dtype``, else ``floatX`` promoted with symbolic parameters."""
    from symcomp.config import config

    if dtype is not None:
        dt = T.dtype(dtype)
        if not dt.is_float:
            raise TypeError(f"a continuous distribution needs a float dtype, got {dt.name}")
        return dt
    syms = [as_value(p).type.dtype for p in params if isinstance(p, (Value, np.ndarray))]
    return T.float_of(T.promote(T.dtype(config.floatX), *syms))


def _is(x, value) -> bool:
    """Whether ``x`` is statically the scalar ``value``."""
    v = static_value(x) if isinstance(x, Value) else (np.asarray(x) if isinstance(x, (int, float, np.ndarray, np.generic)) else None)
    return v is not None and v.shape == () and v == value


class RandomStreams:
    """A source of random streams, Theano's ``RandomStreams`` (``symcomp.RandomStreams``).

    Args:
        seed: an integer; None draws one from the operating system (not reproducible).

    Attributes:
        state_updates: ``(rng, new state)`` of every variable made, in order (Theano's name).
    """

    default_seed: Optional[int] = None

    def __init__(self, seed: Optional[int] = None):
        if seed is None:
            seed = self.default_seed if self.default_seed is not None else int.from_bytes(os.urandom(8), "little")
        self._seed = self._check_seed(seed)
        self.state_updates: list[tuple[SharedVariable, Value]] = []
        self._streams: list[SharedVariable] = []

    @staticmethod
    def _check_seed(seed) -> int:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r:.40}")
        return int(seed) & _MASK64

    def seed(self, seed: Optional[int] = None) -> None:
        """Reseed every stream of this object (and the ones made later) from ``seed``."""
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        self._seed = self._check_seed(seed)
        for j, rng in enumerate(self._streams):
            rng.set_value(initial_state(self._seed, j))

    def updates(self) -> list:
        """``(rng, new state)`` of every variable made (pass them to ``symcomp.function`` as updates)."""
        return list(self.state_updates)

    def _new_stream(self, what: str) -> SharedVariable:
        j = len(self._streams)
        rng = shared(initial_state(self._seed, j), name=f"{what}_rng{j}", shape=(2,))
        self._streams.append(rng)
        return rng

    def _finish(self, d: _Draw, value: Value) -> RandomVariable:
        rv = _attach(value, d.rng, d.new_state)
        d.rng.default_update = d.new_state
        self.state_updates.append(rv.update)
        return rv

    # -- continuous ------------------------------------------------------------------------
    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        """Uniform draws in (low, high) (the open interval, up to the rounding of ``low + (high - low) * u``).

        ``u`` takes 23 random bits in float32 and 52 in float64, from 2**-24 (2**-53) to
        1 - 2**-24 (1 - 2**-53): never 0 or 1 (see ``sc.unit_float``)."""
        dt = _float_dtype(dtype, low, high)
        d = _Draw(self, _size_entries(size, ndim, [low, high], "uniform"), "uniform", _per_block(dt))
        u = d.unit(dt)
        if not (_is(low, 0) and _is(high, 1)):
            lo, hi = cast(as_value(low), dt), cast(as_value(high), dt)
            u = E.add(lo, E.mul(E.sub(hi, lo), u))
        return self._finish(d, u)

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, truncate=False, nstreams=None):
        """Normal draws ``avg + std * z``, z = ndtri(u) (inversion; never log(0)): for float64, AS 241's
        PPND16 of a 52-bit uniform (tails to 8.1 standard deviations); for float32, PPND7 in
        float32 arithmetic of a 23-bit uniform (tails to 5.3 standard deviations; within 6 ulp).

        ``truncate=True`` draws z within two standard deviations (:meth:`truncated_normal`)."""
        dt = _float_dtype(dtype, avg, std)
        udt = T.float32 if dt == T.float32 else T.float64
        what = "truncated_normal" if truncate else "normal"
        d = _Draw(self, _size_entries(size, ndim, [avg, std], what), what, _per_block(udt))
        u = d.unit(udt)
        if truncate:
            u = E.add(cast(constant(PHI_MINUS_2), udt), E.mul(cast(constant(PHI_SPAN_2), udt), u))
        z = cast(build(R.Ndtri, [u]), dt)
        if not (_is(avg, 0) and _is(std, 1)):
            z = E.add(cast(as_value(avg), dt), E.mul(cast(as_value(std), dt), z))
        return self._finish(d, z)

    def truncated_normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None):
        """Normal draws truncated to (avg - 2 std, avg + 2 std) (TensorFlow's and Theano MRG's definition)."""
        return self.normal(size, avg, std, ndim, dtype, truncate=True)

    # -- discrete --------------------------------------------------------------------------
    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        """Binomial(n, p) counts.

        ``n`` an int known when the graph is built, from 0 to :data:`MAX_BINOMIAL_N` (64): the
        number of n Bernoulli(p) draws (u < p) that succeed, fused with the draw's consumers
        (dropout is one loop); each draw takes one 32-bit word (a quarter of a Philox block): a
        float32 ``p`` compares with 23-bit uniforms, others with 32-bit ones (p resolved to
        2**-32; Theano's MRG generator gave 31 bits).  A larger or symbolic ``n`` (an int64 tensor that broadcasts against ``size``):
        ``sc.random_binomial``, geometric waiting times for a mean n min(p, 1 - p) below 10,
        Hormann's BTRS above; there n < 0, p outside [0, 1] or NaN give -1."""
        if prob is not None:
            p = prob
        if isinstance(n, Value):
            v = static_value(n)
            if v is not None and v.shape == ():
                n = int(v)
        if isinstance(n, (bool, np.bool_)) or isinstance(n, float):
            raise TypeError(f"binomial: n must be a non-negative int or an integer tensor, got {n!r}")
        if isinstance(n, (int, np.integer)) and n < 0:
            raise ValueError(f"binomial: n must be >= 0, got {n}")
        out_dt = T.dtype(dtype)
        if not isinstance(n, (int, np.integer)) or n > MAX_BINOMIAL_N:
            nv = as_value(n)
            if not (nv.type.dtype.is_int or nv.type.dtype.is_bool):
                raise TypeError(f"binomial: n must be an integer tensor, got {nv.type}")
            nv = cast(nv, T.int64)
            pv = cast(as_value(p), T.float64)
            d = _Draw(self, _size_entries(size, ndim, [nv, pv], "binomial"), "binomial", 1)
            like = d.index
            ops = [*_aligned(nv, like), *_aligned(pv, like), d.counter, *_aligned(constant(np.uint64(0)), like),
                   d.key_like()]
            return self._finish(d, cast(build(R.RandomBinomial, ops), out_dt))
        pv = as_value(p)
        udt = T.float32 if pv.type.dtype == T.float32 else T.float64
        pv = cast(pv, udt) if pv.type.dtype.is_float else cast(pv, T.float64)
        d = _Draw(self, _size_entries(size, ndim, [p], "binomial"), "binomial", 4)
        total = None
        for k in range(n):
            hit = cast(E.lt(d.unit(udt, k, bits=32), pv), out_dt)
            total = hit if total is None else E.add(total, hit)
        if total is None:
            total = zeros(d.entries, dtype=out_dt)
        return self._finish(d, total)

    def integers(self, size=None, low=0, high=None, ndim=None, dtype="int64"):
        """Uniform integers in [low, high) (NumPy's ``Generator.integers``; ``high=None``: [0, low)).

        k = min(floor(u * (high - low)), high - low - 1) for a 52-bit uniform u: exact in
        distribution up to (high - low) * 2**-52."""
        if high is None:
            low, high = 0, low
        out_dt = T.dtype(dtype)
        if not out_dt.is_int:
            raise TypeError(f"integers: dtype must be an integer dtype, got {out_dt.name}")
        d = _Draw(self, _size_entries(size, ndim, [low, high], "integers"), "integers", 2)
        lo, hi = cast(as_value(low), T.int64), cast(as_value(high), T.int64)
        span = E.sub(hi, lo)
        k = _scaled_index(d.unit(T.float64), span)
        return self._finish(d, cast(E.add(lo, k), out_dt))

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Uniform integers in [low, high], both included (Theano's ``random_integers``)."""
        return self.integers(size, low, E.add(cast(as_value(high), T.int64), 1) if isinstance(high, Value)
                             else int(high) + 1, ndim, dtype)

    def choice(self, size=1, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Draws from ``a`` (an int n: the range 0 .. n-1; a vector: its elements), with
        probabilities ``p`` (a vector, default uniform), with or without replacement.

        With p: the category is the number of cumulative probabilities (``sc.cumsum``) not above a
        52-bit uniform.  Without replacement: the first prod(size) entries of a random permutation."""
        values = None
        if isinstance(a, (int, np.integer)) or (isinstance(a, Value) and a.type.ndim == 0):
            n = as_int_scalar(a, "choice: a")
        else:
            values = as_value(a)
            if values.type.ndim != 1:
                raise ValueError(f"choice: a must be an int or a vector, got {values.type}")
            n = shape(values)[0]
        entries = _size_entries(size, ndim, [], "choice")
        if not replace:
            if p is not None:
                out = self._weighted_sample(entries, n, p)
                return self._finish(out[0], cast(out[1], dtype) if values is None else getitem(values, out[1]))
            count = numel(entries)
            perm = self._permutation_rows(1, n, "choice")
            idx = reshape(getitem(getitem(perm.value, 0), slice(None, count)), tuple(entries))
            out = idx if values is None else getitem(values, idx)
            return self._finish_perm(perm, out if values is not None else cast(out, dtype))
        d = _Draw(self, entries, "choice", 2)
        u = d.unit(T.float64)
        if p is None:
            idx = _scaled_index(u, cast(as_value(n), T.int64))
        else:
            pv = cast(as_value(p), T.float64)
            if pv.type.ndim != 1:
                raise ValueError(f"choice: p must be a vector, got {pv.type}")
            if isinstance(n, int) and pv.type.shape[0] is not None and pv.type.shape[0] != n:
                raise ValueError(f"choice: p has {pv.type.shape[0]} probabilities for {n} choices")
            idx = _categorical(u, pv)
        out = cast(idx, dtype) if values is None else getitem(values, idx)
        return self._finish(d, out)

    def _weighted_sample(self, entries, n, p):
        """(draw, indices) of ``prod(entries)`` distinct categories of 0 .. n-1 drawn one after another
        with probabilities ``p`` renormalised over the ones left (NumPy's ``choice(replace=False, p=p)``)
        by Efraimidis and Spirakis's exponential race ("Weighted random sampling with a reservoir",
        IPL 97, 2006): category i gets the key e_i = -log(u_i) / p_i and the sample is the categories
        of the smallest keys, in increasing order (equal keys by index).  The ranks come from all
        pairs of keys: O(n**2) work and no sort.  Categories with p = 0 have infinite keys and come
        last: a sample larger than the categories with p > 0 holds some of them."""
        pv = cast(as_value(p), T.float64)
        if pv.type.ndim != 1:
            raise ValueError(f"choice: p must be a vector, got {pv.type}")
        if isinstance(n, int) and pv.type.shape[0] is not None and pv.type.shape[0] != n:
            raise ValueError(f"choice: p has {pv.type.shape[0]} probabilities for {n} choices")
        count = numel(entries)
        if isinstance(n, int) and isinstance(count, int) and count > n:
            raise ValueError(f"choice: cannot take {count} values out of {n} without replacement")
        d = _Draw(self, [n], "choice", 2)
        key = E.true_div(build(R.Exponential, [d.unit(T.float64)]), pv)  # (n,)
        idx = arange(0, n, 1, dtype="int64")
        ki, kj = expand_dims(key, (1,)), expand_dims(key, (0,))
        ii, jj = expand_dims(idx, (1,)), expand_dims(idx, (0,))
        before = E.or_(E.lt(kj, ki), E.and_(E.eq(kj, ki), E.lt(jj, ii)))
        rank = _sum(cast(before, T.int64), axis=1)  # (n,): the place of category i in the race
        places = arange(0, count, 1, dtype="int64")
        at = E.eq(expand_dims(rank, (0,)), expand_dims(places, (1,)))  # (count, n)
        chosen = _sum(E.mul(cast(at, T.int64), expand_dims(idx, (0,))), axis=1)
        return d, reshape(chosen, tuple(entries))

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """Random permutations of 0 .. n-1, of shape ``size + (n,)`` (Fisher-Yates, ``sc.random_permutation``)."""
        entries = _size_entries(() if size is None else size, ndim, [], "permutation")
        perm = self._permutation_rows(numel(entries), as_int_scalar(n, "permutation: n"), "permutation")
        out = reshape(perm.value, tuple(entries) + (shape(perm.value)[1],))
        return self._finish_perm(perm, cast(out, dtype))

    def _permutation_rows(self, rows, n, what):
        rng = self._new_stream(what)
        key, offset = getitem(rng, 0), getitem(rng, 1)
        rows_v, n_v = cast(as_value(rows), T.int64), cast(as_value(n), T.int64)
        value = build(R.RandomPermutation, [offset, key, rows_v, n_v])
        used = cast(E.mul(rows_v, n_v), T.uint64)
        return _Perm(rng, value, set_subtensor(offset, E.add(offset, used)))

    def _finish_perm(self, perm, value):
        rv = _attach(value, perm.rng, perm.new_state)
        perm.rng.default_update = perm.new_state
        self.state_updates.append(rv.update)
        return rv

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64"):
        """Multinomial(n, pvals) counts, of shape ``size + (k,)`` for k categories (``size`` defaults
        to ``pvals.shape[:-1]``): n categorical draws per row, counted (n a Python int)."""
        if pvals is None:
            pvals = [0.5, 0.5]
        pv = cast(as_value(pvals), T.float64)
        if pv.type.ndim < 1:
            raise ValueError(f"multinomial: pvals must have at least one axis, got {pv.type}")
        if isinstance(n, Value):
            v = static_value(n)
            if v is not None and v.shape == ():
                n = int(v)
        batch = list(shape(pv)[:-1]) if size is None else _size_entries(size, ndim, [], "multinomial")
        if isinstance(n, Value):
            return self._multinomial_binomials(batch, n, pv, dtype)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise TypeError(f"multinomial: n must be a non-negative int or an integer tensor, got {n!r}")
        k = shape(pv)[-1]
        d = _Draw(self, batch + [int(n)], "multinomial", 2)
        u = d.unit(T.float64)  # batch + (n,)
        cats = _categorical(u, expand_dims(pv, (pv.type.ndim - 1,)) if pv.type.ndim > 1 else pv)  # batch + (n,)
        ks = arange(0, k, 1, dtype="int64")
        counts = _sum(E.eq(expand_dims(cats, (cats.type.ndim,)), ks), axis=cats.type.ndim - 1)
        return self._finish(d, cast(counts, dtype))

    def _multinomial_binomials(self, batch, n, pv, dtype):
        """Multinomial(n, pvals) for a symbolic ``n`` (an integer tensor broadcasting against the
        batch shape) by conditional binomials (NumPy's method): category j takes
        Binomial(n - the counts before it, p_j / (1 - p_0 - ... - p_{j-1})), the last one the
        rest.  Category j of row r draws from block counter offset + r k + j.  A negative n gives
        counts of -1."""
        nv = as_value(n)
        if not (nv.type.dtype.is_int or nv.type.dtype.is_bool):
            raise TypeError(f"multinomial: n must be an integer tensor, got {nv.type}")
        k = pv.type.shape[-1]
        if k is None:
            raise NotImplementedError("multinomial with a symbolic n needs the number of categories "
                                      "(pvals.shape[-1]) known when the graph is built")
        nv = cast(nv, T.int64)
        d = _Draw(self, list(batch) + [k], "multinomial", 1)
        counter = d.counter
        remaining, rest, counts = nv, None, []
        for j in range(k - 1):
            pj = getitem(pv, (Ellipsis, j))
            prob = pj if rest is None else E.switch(E.gt(rest, 0.0), E.clip(E.true_div(pj, rest), 0.0, 1.0), 1.0)
            ctr = getitem(counter, (Ellipsis, j))
            ops = [*_aligned(remaining, ctr), *_aligned(prob, ctr), ctr, *_aligned(constant(np.uint64(0)), ctr),
                   *_aligned(d.key, ctr)]
            c = build(R.RandomBinomial, ops)
            counts.append(c)
            remaining = E.sub(remaining, c)
            rest = E.sub(1.0, pj) if rest is None else E.sub(rest, pj)
        counts.append(E.add(remaining, zeros(list(batch), dtype="int64")))
        out = stack(counts, axis=len(batch))
        out = E.switch(expand_dims(E.lt(nv, 0), (nv.type.ndim,)) if nv.type.ndim else E.lt(nv, 0), -1, out)
        return self._finish(d, cast(out, dtype))

    def poisson(self, size=None, lam=1.0, ndim=None, dtype="int64"):
        """Poisson(lam) counts (exponential spacings for lam < 10, Hormann's PTRS above; -1 for a
        rate that is negative, NaN or at least 1e15)."""
        lv = cast(as_value(lam), T.float64)
        d = _Draw(self, _size_entries(size, ndim, [lam], "poisson"), "poisson", 1)
        salt = constant(np.uint64(0))
        ops = [*_aligned(lv, d.counter), d.counter, *_aligned(salt, d.counter), d.key_like()]
        count = build(R.RandomPoisson, ops)
        return self._finish(d, cast(count, dtype))


class _Perm:
    """A permutation draw: its stream, its rows (``value``) and the stream's state after it."""

    def __init__(self, rng, value, new_state):
        self.rng, self.value, self.new_state = rng, value, new_state


def _scaled_index(u: Value, span: Value) -> Value:
    """min(floor(u * span), span - 1) as int64, for a float64 uniform u and an int64 span."""
    s = cast(span, T.float64)
    k = cast(E.floor(E.mul(u, s)), T.int64)
    return E.minimum(k, E.sub(cast(span, T.int64), 1))


def _categorical(u: Value, p: Value) -> Value:
    """The category of each uniform u (shape S) under probabilities p (shape ... x k, broadcasting
    against S + (k,)): the number of cumulative sums of p[:-1] not above u."""
    from symcomp.tensor.extra_ops import cumsum

    cdf = cumsum(p, axis=p.type.ndim - 1)
    head = getitem(cdf, (Ellipsis, slice(None, -1)))
    below = E.le(head, expand_dims(u, (u.type.ndim,)))
    return _sum(cast(below, T.int64), axis=u.type.ndim)


class MRG_RandomStreams(RandomStreams):
    """Theano's ``MRG_RandomStreams`` names and argument orders over the same Philox streams
    (the seed defaults to 12345, as Theano's; ``nstreams`` is accepted and ignored: every element
    has its own counter)."""

    default_seed = 12345

    def __init__(self, seed: Optional[int] = None):
        super().__init__(self.default_seed if seed is None else seed)

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None):
        return super().uniform(size, low, high, ndim, dtype)

    def binomial(self, size=None, p=0.5, n=1, ndim=None, dtype="int64", nstreams=None):
        return super().binomial(size, n, p, ndim, dtype)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None):
        return super().multinomial(size, n, pvals, ndim, dtype)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64", nstreams=None):
        """As :meth:`RandomStreams.choice`; ``a`` defaults to the number of probabilities in ``p``."""
        if a is None:
            if p is None:
                raise TypeError("choice: give a or p")
            a = shape(as_value(p))[-1]
        return super().choice(size, a, replace, p, ndim, dtype)
