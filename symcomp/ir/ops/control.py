"""Structured control flow: ``sc.scan`` (a counted loop, optionally stopped early) and ``sc.if``
(a lazy two-way branch), in the style of MLIR's ``scf.for`` / ``scf.while`` / ``scf.if``.

Both ops hold tensor programs in their regions (any op, not just the scalar ops of
``sc.fused``), and both are *isolated from above*: a body uses only its own block arguments,
so that a body is a function of its arguments that every pass and backend can treat on its own.
The front-end (:mod:`symcomp.tensor.scan`, :mod:`symcomp.tensor.ifelse`) turns the values a
Python ``fn`` captures into explicit operands.

``sc.scan`` (Theano's ``Scan`` op, docs/ir.md has the grammar)::

    %h, %y = sc.scan %n, %xs, %h0, %w {seq_taps = [0], seq_ntaps = [1], state_taps = [-1],
                                        state_ntaps = [1], state_keep = [0], n_nitsot = 1, ...}
           : tensor<?x3xf64>, tensor<?x3xf64> ({
    ^bb0(%x: tensor<3xf64>, %h_1: tensor<3xf64>, %w_: tensor<3x3xf64>):
      ...
      sc.yield %h_new, %y_t
    })

Operands: the step count ``n`` (rank-0 i64), the sequences, one initial value per state, then
the non-sequences.  Block arguments: one slice per sequence tap (``x[t - min(taps) + tap]``),
one value per state tap (the state ``tap`` steps back), then the non-sequences.  The body yields
each state's next value, then each per-step output ("nit-sot" in Theano), then, when ``until``,
a rank-0 condition: the loop stops after the first step where it is true.

A state with taps ``[-m, ...]`` has an initial value of shape ``(m, *s)`` (rows ``t = -m .. -1``)
and its result holds the whole history, initial rows included: ``(m + n, *s)``; with
``state_keep = 1`` (taps ``[-1]`` only) the result is the final value alone, of shape ``s``
(the initial value when ``n = 0``): no history is stored (Theano's save-memory rewrite).  A
per-step output's result is ``(n, *y)``.  The last ``n_residual`` per-step outputs are
*residuals*: products the body computes from its states, stacked for the gradient, which reads
them instead of computing them again (no user reads them; ``scan-drop-unused`` removes them when
no gradient does).  With ``until`` a last result, a rank-0 i64, counts the
steps run, and the other results keep the shape of ``n`` steps (rows past the count are
unspecified: the front-end slices them off).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from symcomp.ir import frontend, types as T
from symcomp.ir.core import Operation
from symcomp.ir.opdef import Bool, Int, Ints, Pure, attr, op, operand


class ControlFlow:
    """Marker base: ops whose regions hold tensor programs that passes and backends descend into."""

    @classmethod
    def create(cls, operands, blocks, attrs: dict, loc=None):
        """A detached op over ``operands`` whose regions are ``blocks`` (one each), its result
        types given by its type rule on those regions.

        Raises:
            TypeError / ValueError: from the type rule.
        """
        from symcomp.ir.core import Region
        from symcomp.ir.opdef import known_values, normalize_attrs

        operands = list(operands)
        attrs = normalize_attrs(cls, dict(attrs), loc)
        probe = cls(operands, [], attrs, [Region([b]) for b in blocks])
        types = probe.infer_for([v.type.plain() for v in operands], known_values(operands))
        probe.regions = []
        return cls(operands, [t.plain() for t in types], attrs, [Region([b]) for b in blocks], loc)


def _static_count(values, index) -> Optional[int]:
    v = values[index] if values and index < len(values) else None
    return None if v is None else int(np.asarray(v))


@op("sc.scan", traits=(Pure,), results=-1, regions=1)
class Scan(Operation, ControlFlow):
    """A loop over steps ``t = 0 .. n-1`` (see the module docstring for the layout)."""
    n_steps = operand()
    inputs = operand(variadic=True)
    seq_taps = attr(Ints, ())
    seq_ntaps = attr(Ints, ())
    state_taps = attr(Ints, ())
    state_ntaps = attr(Ints, ())
    state_keep = attr(Ints, ())
    n_nitsot = attr(Int, 0)
    n_residual = attr(Int, 0)
    until = attr(Bool, False)
    truncate_gradient = attr(Int, -1)

    # -- layout ------------------------------------------------------------------------------
    @property
    def n_seqs(self) -> int:
        return len(self.seq_ntaps)

    @property
    def n_states(self) -> int:
        return len(self.state_ntaps)

    def taps_of(self, kind: str) -> list[list[int]]:
        """The taps of each sequence (``kind="seq"``) or state (``"state"``)."""
        flat = list(self.seq_taps if kind == "seq" else self.state_taps)
        counts = self.seq_ntaps if kind == "seq" else self.state_ntaps
        out, k = [], 0
        for c in counts:
            out.append(flat[k:k + c])
            k += c
        return out

    @property
    def seqs(self):
        return self.operands[1:1 + self.n_seqs]

    @property
    def inits(self):
        return self.operands[1 + self.n_seqs:1 + self.n_seqs + self.n_states]

    @property
    def nonseqs(self):
        return self.operands[1 + self.n_seqs + self.n_states:]

    def arg_groups(self):
        """The body's block arguments split as (per-sequence lists, per-state lists, non-sequences)."""
        args = list(self.body.args)
        seqs, states, k = [], [], 0
        for taps in self.taps_of("seq"):
            seqs.append(args[k:k + len(taps)])
            k += len(taps)
        for taps in self.taps_of("state"):
            states.append(args[k:k + len(taps)])
            k += len(taps)
        return seqs, states, args[k:]

    def depth(self, state: int) -> int:
        """Rows of initial value state ``state`` needs (``m = max(-taps)``)."""
        return max(-t for t in self.taps_of("state")[state])

    # -- rules -------------------------------------------------------------------------------
    @classmethod
    def infer(cls, types, attrs, values):
        raise NotImplementedError("sc.scan: result types come from its body; use op.infer_for")

    def infer_for(self, types, values):
        n_t = types[0]
        if n_t.ndim != 0 or not n_t.dtype.is_int:
            raise TypeError(f"sc.scan: the step count must be a rank-0 integer, got {n_t}")
        n = _static_count(values, 0)
        if n is not None and n < 0:
            raise ValueError(f"sc.scan: the step count must be >= 0, got {n}")
        seq_taps, state_taps = self.taps_of("seq"), self.taps_of("state")
        if len(self.seq_taps) != sum(self.seq_ntaps) or len(self.state_taps) != sum(self.state_ntaps):
            raise ValueError("sc.scan: tap counts do not add up to the tap lists")
        if not 0 <= self.n_residual <= self.n_nitsot:
            raise ValueError(f"sc.scan: n_residual = {self.n_residual} must be within 0 .. n_nitsot = {self.n_nitsot}")
        if len(self.state_keep) != self.n_states:
            raise ValueError(f"sc.scan: state_keep has {len(self.state_keep)} entries for {self.n_states} states")
        ns, nst = self.n_seqs, self.n_states
        if len(types) < 1 + ns + nst:
            raise ValueError(f"sc.scan: {len(types) - 1} inputs for {ns} sequences and {nst} states")
        seq_types = types[1:1 + ns]
        init_types = types[1 + ns:1 + ns + nst]
        nonseq_types = types[1 + ns + nst:]
        args = self.body.args
        n_args = sum(len(t) for t in seq_taps) + sum(len(t) for t in state_taps) + len(nonseq_types)
        if len(args) != n_args:
            raise ValueError(f"sc.scan: the body has {len(args)} arguments, the operands call for {n_args}")
        k = 0
        for i, (st, taps) in enumerate(zip(seq_types, seq_taps)):
            if st.ndim < 1:
                raise TypeError(f"sc.scan: sequence {i} must have a leading (time) axis, got {st}")
            if not taps or list(taps) != sorted(set(taps)):
                raise ValueError(f"sc.scan: taps of sequence {i} must be distinct and increasing, got {list(taps)}")
            span = taps[-1] - taps[0]
            if st.shape[0] is not None and n is not None and st.shape[0] - span < n:
                raise ValueError(f"sc.scan: sequence {i} has {st.shape[0]} entries, fewer than the {n} steps "
                                 f"need with taps {list(taps)} ({n + span})")
            for _ in taps:
                _expect_arg(args[k], st.dtype, st.shape[1:], f"slice of sequence {i}")
                k += 1
        for i, (it, taps, keep) in enumerate(zip(init_types, state_taps, self.state_keep)):
            if not taps or any(t >= 0 for t in taps) or list(taps) != sorted(set(taps)):
                raise ValueError(f"sc.scan: taps of state {i} must be distinct, increasing and negative, got {list(taps)}")
            if keep not in (0, 1) or (keep == 1 and list(taps) != [-1]):
                raise ValueError(f"sc.scan: state {i}: state_keep must be 0, or 1 with taps [-1]; got {keep}")
            m = -taps[0]
            if it.ndim < 1 or (it.shape[0] is not None and it.shape[0] != m):
                raise TypeError(f"sc.scan: the initial value of state {i} (taps {list(taps)}) must have a "
                                f"leading axis of {m}, got {it}")
            for _ in taps:
                _expect_arg(args[k], it.dtype, it.shape[1:], f"state {i}")
                k += 1
        for i, nt in enumerate(nonseq_types):
            _expect_arg(args[k], nt.dtype, nt.shape, f"non-sequence {i}")
            k += 1
        term = self.body.last
        want = nst + self.n_nitsot + (1 if self.until else 0)
        if term is None or term.name != "sc.yield" or len(term.operands) != want:
            got = len(term.operands) if term is not None and term.name == "sc.yield" else "no sc.yield"
            raise ValueError(f"sc.scan: the body must yield {want} values ({nst} states, {self.n_nitsot} "
                             f"outputs{', 1 condition' if self.until else ''}), got {got}")
        ys = [v.type for v in term.operands]
        out = []
        for i, (it, yt, keep) in enumerate(zip(init_types, ys[:nst], self.state_keep)):
            row = it.shape[1:]
            if yt.dtype != it.dtype or yt.ndim != len(row) or any(
                    a is not None and b is not None and a != b for a, b in zip(yt.shape, row)):
                raise TypeError(f"sc.scan: state {i}: the body yields {yt}, but the state has type "
                                f"{it.with_shape(row)} (from its initial value)")
            shape = tuple(a if a is not None else b for a, b in zip(row, yt.shape))
            if keep == 1:
                out.append(T.TensorType(it.dtype, shape))
            else:
                rows = None if n is None or it.shape[0] is None else it.shape[0] + n
                out.append(T.TensorType(it.dtype, (rows,) + shape))
        for yt in ys[nst:nst + self.n_nitsot]:
            out.append(T.TensorType(yt.dtype, (n,) + yt.shape))
        if self.until:
            c = ys[-1]
            if c.ndim != 0:
                raise TypeError(f"sc.scan: the until condition must be a scalar, got {c}")
            out.append(T.TensorType(T.dtype("i64"), ()))
        return out

    def check_shapes(self, shapes, n: int) -> None:
        """Concrete checks a call needs: sequence lengths against ``n`` steps.

        Raises:
            ValueError: naming the sequence, its length and the steps its taps need.
        """
        if n < 0:
            raise ValueError(f"scan: the number of steps must be >= 0, got {n}")
        for i, (s, taps) in enumerate(zip(shapes[1:1 + self.n_seqs], self.taps_of("seq"))):
            span = taps[-1] - taps[0]
            if s[0] - span < n:
                raise ValueError(f"scan: sequence {i} has {s[0]} entries, fewer than {n} steps with taps "
                                 f"{list(taps)} need ({n + span})")

    def ref(self, n, *inputs):
        return self.run_steps(n, *inputs)

    def run_steps(self, n, *inputs, observe=None):
        """The reference semantics; ``observe(step, op, results)``, if given, sees every value the
        body computes, step by step (``mode="nanguard"`` names the step and op of a first NaN)."""
        from symcomp.ir.interpreter import evaluate_block

        n = int(n)
        self.check_shapes([np.shape(n)] + [np.shape(a) for a in inputs], n)
        ns, nst = self.n_seqs, self.n_states
        seqs, inits, nonseqs = inputs[:ns], inputs[ns:ns + nst], list(inputs[ns + nst:])
        seq_taps, state_taps = self.taps_of("seq"), self.taps_of("state")
        hist = [list(np.asarray(a)) for a in inits]
        outs: list[list] = [[] for _ in range(self.n_nitsot)]
        steps = n
        for t in range(n):
            args = []
            for s, taps in zip(seqs, seq_taps):
                args += [s[t - taps[0] + tap] for tap in taps]
            for h, taps in zip(hist, state_taps):
                args += [h[len(h) + tap] for tap in taps]
            hook = None if observe is None else (lambda o, outs, t=t: observe(t, o, outs))
            ys, _ = evaluate_block(self.body, args + nonseqs, hook)
            for h, y in zip(hist, ys[:nst]):
                h.append(np.asarray(y))
            for o, y in zip(outs, ys[nst:nst + self.n_nitsot]):
                o.append(np.asarray(y))
            if self.until and bool(ys[-1]):
                steps = t + 1
                break
        types = self.infer_concrete([np.asarray(n, np.int64)] + list(inputs))
        results = []
        for i, (h, keep) in enumerate(zip(hist, self.state_keep)):
            t_ = types[i]
            if keep == 1:
                results.append(np.asarray(h[-1], dtype=t_.dtype.np).reshape(t_.shape))
            else:
                a = np.zeros(t_.shape, t_.dtype.np)
                a[:len(h)] = np.asarray(h, dtype=t_.dtype.np).reshape((len(h),) + t_.shape[1:])
                results.append(a)
        rows = None
        for j, o in enumerate(outs):
            t_ = types[nst + j]
            if not o:  # zero steps: the per-step shape from the body's type rules on these operands
                rows = self._row_types(inputs) if rows is None else rows
                row = rows[j].shape
                results.append(np.zeros((0,) + tuple(0 if d is None else d for d in row), t_.dtype.np))
            else:
                a = np.zeros((n,) + np.shape(o[0]), t_.dtype.np)
                a[:len(o)] = o
                results.append(a)
        if self.until:
            results.append(np.asarray(steps, np.int64))
        return results[0] if len(results) == 1 else results

    def _row_types(self, inputs) -> list:
        """The types of the per-step outputs, from the body's type rules applied to the concrete
        shapes of ``inputs`` (without running a step)."""
        from symcomp.ir.opdef import known_values

        ns, nst = self.n_seqs, self.n_states
        seqs, states, nonseqs = self.arg_groups()
        t: dict = {}
        for a_list, x in zip(seqs, inputs[:ns]):
            for a in a_list:
                t[a] = a.type.with_shape(np.shape(x)[1:])
        for a_list, x in zip(states, inputs[ns:ns + nst]):
            for a in a_list:
                t[a] = a.type.with_shape(np.shape(x)[1:])
        for a, x in zip(nonseqs, inputs[ns + nst:]):
            t[a] = a.type.with_shape(np.shape(x))
        for o in self.body.ops:
            if o.name == "sc.yield":
                return [t.get(v, v.type) for v in o.operands[nst:nst + self.n_nitsot]]
            try:
                got = o.infer_for([t.get(v, v.type) for v in o.operands], known_values(o.operands))
            except (TypeError, ValueError, IndexError, NotImplementedError):
                got = [r.type for r in o.results]
            t.update(zip(o.results, got))
        return []

    def vjp(self, grads):
        """Backpropagation through time: a backward ``sc.scan`` (:mod:`symcomp.tensor.control_vjp`)."""
        return frontend.tensor().control_vjp.scan_vjp(self, grads)


def _expect_arg(arg, dtype, shape, what: str) -> None:
    if arg.type.dtype != dtype or arg.type.ndim != len(shape) or any(
            a is not None and b is not None and a != b for a, b in zip(arg.type.shape, shape)):
        raise TypeError(f"sc.scan: the block argument for {what} has type {arg.type}, expected "
                        f"{T.TensorType(dtype, tuple(shape))}")


@op("sc.if", traits=(Pure,), results=-1, regions=2)
class If(Operation, ControlFlow):
    """``cond ? then : else`` on whole values, lazily: only the taken region runs.

    Operands: the condition (a rank-0 value, true when nonzero), then the values both regions
    receive as block arguments (the same list for each).  Each region yields the results; the
    two must yield the same dtypes and ranks.
    """
    cond = operand()
    inputs = operand(variadic=True)

    @classmethod
    def infer(cls, types, attrs, values):
        raise NotImplementedError("sc.if: result types come from its regions; use op.infer_for")

    def infer_for(self, types, values):
        if types[0].ndim != 0:
            raise TypeError(f"sc.if: the condition must be a scalar, got {types[0]}")
        outs = None
        for r, label in zip(self.regions, ("then", "else")):
            blk = r.block
            if len(blk.args) != len(types) - 1:
                raise ValueError(f"sc.if: the {label} region has {len(blk.args)} arguments for "
                                 f"{len(types) - 1} inputs")
            for i, (a, t) in enumerate(zip(blk.args, types[1:])):
                _expect_arg(a, t.dtype, t.shape, f"input {i} of the {label} region")
            term = blk.last
            if term is None or term.name != "sc.yield":
                raise ValueError(f"sc.if: the {label} region must end with sc.yield")
            ys = [v.type for v in term.operands]
            if outs is None:
                outs = ys
                continue
            if len(ys) != len(outs):
                raise ValueError(f"sc.if: the then region yields {len(outs)} values, the else region {len(ys)}")
            merged = []
            for i, (a, b) in enumerate(zip(outs, ys)):
                if a.dtype != b.dtype or a.ndim != b.ndim:
                    raise TypeError(f"sc.if: output {i}: the then branch gives {a}, the else branch {b}")
                merged.append(T.TensorType(a.dtype, tuple(x if x == y else None for x, y in zip(a.shape, b.shape))))
            outs = merged
        return outs

    def ref(self, cond, *inputs):
        from symcomp.ir.interpreter import evaluate_block

        blk = self.regions[0 if bool(np.asarray(cond)) else 1].block
        ys, _ = evaluate_block(blk, list(inputs))
        return np.asarray(ys[0]) if len(ys) == 1 else [np.asarray(y) for y in ys]

    def vjp(self, grads):
        """An ``sc.if`` of the two branches' VJPs (:mod:`symcomp.tensor.control_vjp`)."""
        return frontend.tensor().control_vjp.if_vjp(self, grads)

