"""Rewrites of ``sc.scan``: the canonicalization of loops, and one pass per rewrite.

* ``scan-licm``: an op of the body whose operands are all non-sequences (or constants) is
  computed once before the loop (loop-invariant code motion; Theano's scan "push out
  non-sequences").  The front-end's ``scan`` already leaves such work outside; this catches what
  other rewrites expose, and parsed IR.
* ``scan-push-out-seq``: a matrix product of a sequence's slice by a non-sequence
  (``x_t @ W``) becomes one product of the whole sequence before the loop (``X @ W``, one GEMM
  instead of one per step), whose rows the body reads as a new sequence (Theano's scan
  "push out seqs").
* ``scan-drop-unused``: a per-step output nobody reads is not computed; a state whose result
  nobody reads and whose value feeds no other yielded value is dropped (a gradient's cotangent of
  an input that needs none); sequences and non-sequences the body does not read are dropped.
* ``scan-save-memory``: a state with taps ``[-1]`` whose history is only read at its last row
  (``h[-1]``, ``h[1:][-1]``) keeps only its final value: no history is stored (Theano's
  save-memory rewrite, ``scan_save_mem``).

Every rewrite keeps the op's semantics exactly; they are also patterns of ``canonicalize``.
"""

from __future__ import annotations

from dataclasses import dataclass

from symcomp.ir.core import Block, BlockArgument, Region
from symcomp.ir.opdef import Pure, SideEffect
from symcomp.ir.ops.control import ControlFlow, Scan
from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.rewrite import PatternSet, apply_greedily

licm = PatternSet("scan-licm")
push_out_seq = PatternSet("scan-push-out-seq")
push_out_sums = PatternSet("scan-push-out-sums")
drop_unused = PatternSet("scan-drop-unused")
save_memory = PatternSet("scan-save-memory")


def _attrs(op: Scan, **changes) -> dict:
    """``op``'s attributes with ``changes``; a rewritten loop marks no residuals (``n_residual``
    only tells the gradient, taken before any pass, which outputs it may read)."""
    a = dict(op.attributes)
    a["n_residual"] = 0
    a.update(changes)
    return a


def _replace_scan(op: Scan, operands, block: Block, attrs: dict, result_of: list, rw) -> Scan:
    """Put a new ``sc.scan`` in place of ``op``; ``result_of[i]`` is the new result index of old
    result ``i`` (None: that result is unused and goes away)."""
    op.regions = []
    new = Scan.create(operands, [block], attrs, op.loc)
    op.parent.insert_before(new, op)
    for i, r in enumerate(op.results):
        k = result_of[i]
        if k is not None:
            r.replace_all_uses_with(new.results[k])
    rw._touch([u for r in new.results for u, _ in r.uses])
    op.erase()
    rw._touch([new])
    rw.changed = True
    return new


def _erase_dead(block: Block) -> None:
    o = block.last
    while o is not None:
        prev = o.prev
        if o.name != "sc.yield" and Pure in o.traits and SideEffect not in o.traits and all(not r.uses for r in o.results):
            o.erase()
        o = prev


def _set_args(block: Block, args: list) -> None:
    for i, a in enumerate(args):
        a.index = i
    block.args = args


@drop_unused.pattern(Scan)
def drop_unused_outputs(op: Scan, rw) -> None:
    """Per-step outputs and states nobody reads are not computed."""
    nst, nn = op.n_states, op.n_nitsot
    term = op.body.last
    ys = list(term.operands)
    dead_n = [k for k in range(nn) if not op.results[nst + k].uses]
    # A state is droppable if its result is unread and its taps feed no other yielded value.
    seqs, states, nonseqs = op.arg_groups()
    dead_s = []
    for j in range(nst):
        if op.results[j].uses:
            continue
        others = [y for i, y in enumerate(ys) if i != j and not (nst <= i < nst + nn and (i - nst) in dead_n)]
        if not any(a in _sources(others) for a in states[j]):
            dead_s.append(j)
    if not dead_n and not dead_s:
        return
    keep_s = [j for j in range(nst) if j not in dead_s]
    keep_n = [k for k in range(nn) if k not in dead_n]
    new_ys = [ys[j] for j in keep_s] + [ys[nst + k] for k in keep_n] + ys[nst + nn:]
    from symcomp.ir.ops.fused import Yield

    term.erase()
    op.body.append(Yield(new_ys, [], {}))
    _erase_dead(op.body)
    state_taps = op.taps_of("state")
    args = [a for g in seqs for a in g] + [a for j in keep_s for a in states[j]] + list(nonseqs)
    _set_args(op.body, args)
    inits = list(op.inits)
    operands = [op.operands[0]] + list(op.seqs) + [inits[j] for j in keep_s] + list(op.nonseqs)
    attrs = _attrs(op, state_taps=tuple(t for j in keep_s for t in state_taps[j]),
                   state_ntaps=tuple(len(state_taps[j]) for j in keep_s),
                   state_keep=tuple(op.state_keep[j] for j in keep_s), n_nitsot=len(keep_n))
    result_of = [None] * len(op.results)
    for new_i, j in enumerate(keep_s):
        result_of[j] = new_i
    for new_i, k in enumerate(keep_n):
        result_of[nst + k] = len(keep_s) + new_i
    if op.until:
        result_of[-1] = len(keep_s) + len(keep_n)
    _replace_scan(op, operands, op.body, attrs, result_of, rw)


@drop_unused.pattern(Scan)
def drop_unused_inputs(op: Scan, rw) -> None:
    """Sequences and non-sequences the body no longer reads are no longer operands (a sequence
    stays when it is the loop's only one: its length still checks the step count)."""
    seqs, states, nonseqs = op.arg_groups()
    dead_seq = [i for i, g in enumerate(seqs) if all(not a.uses for a in g)]
    if len(dead_seq) == len(seqs):
        dead_seq = dead_seq[1:]
    dead_non = [i for i, a in enumerate(nonseqs) if not a.uses]
    if not dead_seq and not dead_non:
        return
    keep_seq = [i for i in range(len(seqs)) if i not in dead_seq]
    keep_non = [i for i in range(len(nonseqs)) if i not in dead_non]
    seq_taps = op.taps_of("seq")
    args = [a for i in keep_seq for a in seqs[i]] + [a for g in states for a in g] + [nonseqs[i] for i in keep_non]
    _set_args(op.body, args)
    operands = [op.operands[0]] + [op.seqs[i] for i in keep_seq] + list(op.inits) + [op.nonseqs[i] for i in keep_non]
    attrs = _attrs(op, seq_taps=tuple(t for i in keep_seq for t in seq_taps[i]),
                   seq_ntaps=tuple(len(seq_taps[i]) for i in keep_seq))
    _replace_scan(op, operands, op.body, attrs, list(range(len(op.results))), rw)


def _sources(values) -> set:
    """Every value (block arguments included) the given body values are computed from."""
    seen, stack = set(), list(values)
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        if v.owner is not None:
            stack.extend(v.owner.operands)
    return seen


def _last_row_users(r, m: int):
    """The ops reading ``r`` (a history of ``m`` initial rows) that all take its last row, or None."""
    out = []
    for u, _ in r.uses:
        idx = tuple(u.attributes.get("index", ())) if u.name == "sc.subtensor" else None
        if idx == ("-1",) and len(u.operands) == 1:
            out.append(u)
        elif idx == (f"{m}:",) and len(u.operands) == 1 and u.result.uses:
            inner = _last_row_users(u.result, 0)
            if inner is None:
                return None
            out += inner
        else:
            return None
    return out


@save_memory.pattern(Scan)
def keep_final_value(op: Scan, rw) -> None:
    """A ``[-1]``-tap state read only at its last row (or not at all) keeps only its final value."""
    if op.until:
        return
    taps = op.taps_of("state")
    for j in range(op.n_states):
        if op.state_keep[j] or taps[j] != [-1]:
            continue
        users = _last_row_users(op.results[j], 1) if op.results[j].uses else []  # unread: no history at all
        if users is None:
            continue
        keep = list(op.state_keep)
        keep[j] = 1
        new = _replace_scan_keep(op, keep, j, users, rw)
        if new is not None:
            return


def _replace_scan_keep(op: Scan, keep, j: int, users, rw):
    old = op.results[j]
    attrs = _attrs(op, state_keep=tuple(keep))
    operands = list(op.operands)
    block = op.body
    op.regions = []
    new = Scan.create(operands, [block], attrs, op.loc)
    if any(u.result.type != new.results[j].type for u in users):  # give the body back, change nothing
        new.regions = []
        op.regions = [Region([block])]
        op.regions[0].parent = op
        return None
    op.parent.insert_before(new, op)
    for u in users:
        u.result.replace_all_uses_with(new.results[j])
    for i, r in enumerate(op.results):
        if i != j:
            r.replace_all_uses_with(new.results[i])
    for u in list(old.users()):
        _erase_chain(u)
    op.erase()
    rw._touch([new])
    rw.changed = True
    return new


def _erase_chain(o) -> None:
    """Erase ``o`` and the subtensor users hanging off it (all unused once replaced)."""
    for r in o.results:
        for u in list(r.users()):
            _erase_chain(u)
    if all(not r.uses for r in o.results):
        o.erase()


@licm.pattern(Scan)
def hoist_invariant(op: Scan, rw) -> None:
    """Move one loop-invariant op of the body before the loop."""
    _, _, nonseqs = op.arg_groups()
    inv = set(nonseqs)
    block = op.body
    for o in block.ops:
        if o.name == "sc.yield" or Pure not in o.traits or SideEffect in o.traits or isinstance(o, ControlFlow):
            continue
        if o.name == "sc.constant" or not o.operands or not _cannot_fail(o):
            continue
        if not all(v in inv or (v.owner is not None and v.owner.name == "sc.constant") for v in o.operands):
            continue
        outer = {a: src for a, src in zip(nonseqs, op.nonseqs)}
        mapping = {}
        for v in o.operands:
            if v in outer:
                mapping[v] = outer[v]
            else:
                c = v.owner.clone({})
                op.parent.insert_before(c, op)
                mapping[v] = c.result
        clone = o.clone(mapping)
        op.parent.insert_before(clone, op)
        new_args = []
        for r in clone.results:
            a = BlockArgument(r.type, block, len(block.args), r.name)
            block.args.append(a)
            new_args.append(a)
        for r, a in zip(o.results, new_args):
            r.replace_all_uses_with(a)
        o.erase()
        operands = list(op.operands) + list(clone.results)
        _replace_scan(op, operands, block, _attrs(op), list(range(len(op.results))), rw)
        return


def _cannot_fail(o) -> bool:
    """Ops that never raise at run time, which may run before a loop that might take no step."""
    name = o.name
    if any(k in name for k in ("subtensor", "reshape", "random", "philox", "take", "arange", "alloc")):
        return False
    if name in ("sc.pow", "sc.floor_div", "sc.mod", "sc.true_div", "sc.int_div") and not o.results[0].type.dtype.is_float:
        return False
    return True


@push_out_seq.pattern(Scan)
def batch_sequence_products(op: Scan, rw) -> None:
    """Move one ``x_t @ W`` (``x_t`` a slice of a sequence, ``W`` a non-sequence) before the loop."""
    import symcomp.tensor as T

    seqs, states, nonseqs = op.arg_groups()
    slice_of = {}
    for i, (group, taps) in enumerate(zip(seqs, op.taps_of("seq"))):
        for a, tap in zip(group, taps):
            slice_of[a] = (i, tap - taps[0])
    outer = dict(zip(nonseqs, op.nonseqs))
    for o in op.body.ops:
        if o.name != "sc.dot" or len(o.operands) != 2:
            continue
        x, w = o.operands
        if x not in slice_of or w not in outer or x.type.ndim not in (1, 2) or w.type.ndim != 2:
            continue
        i, off = slice_of[x]
        X = op.seqs[i]
        if off:
            X = X[off:]
        W = outer[w]
        if x.type.ndim == 1:
            full = T.dot(X, W)
        else:
            flat = T.reshape(X, (X.shape[0] * X.shape[1], X.shape[2]))
            full = T.reshape(T.dot(flat, W), (X.shape[0], X.shape[1], W.shape[1]))
        if full.type.dtype != o.result.type.dtype:
            continue
        rw.insert(full, op)
        k = sum(len(g) for g in seqs)
        arg = BlockArgument(o.result.type, op.body, k, o.result.name)
        args = list(op.body.args)
        args.insert(k, arg)
        _set_args(op.body, args)
        o.result.replace_all_uses_with(arg)
        o.erase()
        ns = op.n_seqs
        operands = [op.operands[0]] + list(op.seqs) + [full] + list(op.operands[1 + ns:])
        attrs = _attrs(op, seq_taps=tuple(op.seq_taps) + (0,), seq_ntaps=tuple(op.seq_ntaps) + (1,))
        _replace_scan(op, operands, op.body, attrs, list(range(len(op.results))), rw)
        return


@register_pass
@dataclass(frozen=True)
class ScanPushOutSeq(ModulePass):
    name = "scan-push-out-seq"
    description = "Batch sequence-by-non-sequence products of sc.scan bodies into one product before the loop"

    def apply(self, module) -> None:
        apply_greedily(module, push_out_seq)


@push_out_sums.pattern(Scan)
def batch_accumulated_products(op: Scan, rw) -> None:
    """A state that only sums ``s_t^T @ v_t`` (``s_t`` a slice of a sequence) or ``sum(v_t, axis 0)``
    over the steps (a gradient's accumulator of a weight) becomes a per-step output ``v_t`` and one
    product of the whole sequences after the loop: ``init + S^T @ V`` (one GEMM with ``n`` times
    the inner size instead of one small GEMM per step).  The order of the additions changes, as
    in any blocked GEMM."""
    from symcomp.ir import types as IT
    from symcomp.ir.core import Placeholder
    from symcomp.ir.ops.fused import Yield

    if op.until:
        return
    seqs, states, nonseqs = op.arg_groups()
    slice_of = {}
    for i, (group, taps) in enumerate(zip(seqs, op.taps_of("seq"))):
        for a, tap in zip(group, taps):
            slice_of[a] = (i, tap - taps[0])
    term_op = op.body.last
    ys = list(term_op.operands)
    nst, nn = op.n_states, op.n_nitsot
    for j in range(nst):
        if not op.state_keep[j] or len(states[j]) != 1:
            continue
        acc, y = states[j][0], ys[j]
        o = y.owner
        if o is None or o.name != "sc.add" or len(acc.uses) != 1 or acc.uses[0][0] is not o:
            continue
        if len(y.uses) != 1 or ys.count(y) != 1:
            continue
        term = o.operands[1] if o.operands[0] is acc else o.operands[0]
        found = _accumulated(term, slice_of)
        if found is None or len(term.uses) != 1:
            continue
        kind, s_arg, v = found
        if v in ys[:nst] or v in ys[nst + nn:]:
            continue
        reuse = ys[nst:nst + nn].index(v) if v in ys[nst:nst + nn] else None  # already a per-step output
        seq_index, off = slice_of[s_arg] if s_arg is not None else (None, 0)
        init, old, n = op.inits[j], op.results[j], op.operands[0]
        S = op.seqs[seq_index] if seq_index is not None else None
        probe = _batched_total(kind, S, off, n, Placeholder(IT.TensorType(v.type.dtype, (None,) + v.type.shape)), init)
        if probe.type != old.type:
            continue
        # The body yields v_t as a new per-step output; the state goes.
        term_op.erase()
        extra = [v] if reuse is None else []
        op.body.append(Yield(ys[:j] + ys[j + 1:nst + nn] + extra + ys[nst + nn:], [], {}))
        _erase_dead(op.body)
        _set_args(op.body, [a for g in seqs for a in g] + [a for k, g in enumerate(states) if k != j for a in g]
                  + list(nonseqs))
        keep_s = [k for k in range(nst) if k != j]
        state_taps = op.taps_of("state")
        operands = [n] + list(op.seqs) + [op.inits[k] for k in keep_s] + list(op.nonseqs)
        attrs = _attrs(op, state_taps=tuple(t for k in keep_s for t in state_taps[k]),
                       state_ntaps=tuple(len(state_taps[k]) for k in keep_s),
                       state_keep=tuple(op.state_keep[k] for k in keep_s), n_nitsot=nn + len(extra))
        block = op.body
        op.regions = []
        new = Scan.create(operands, [block], attrs, op.loc)
        op.parent.insert_before(new, op)
        final = _batched_total(kind, S, off, n, new.results[nst - 1 + (nn if reuse is None else reuse)], init)
        rw.insert(final, op)
        old.replace_all_uses_with(final)
        for new_k, k in enumerate(keep_s):
            op.results[k].replace_all_uses_with(new.results[new_k])
        for k in range(nn):
            op.results[nst + k].replace_all_uses_with(new.results[nst - 1 + k])
        op.erase()
        rw._touch([new])
        rw.changed = True
        return


def _accumulated(term, slice_of: dict):
    """("dot", s, v) for ``transpose(s) @ v`` with ``s`` a sequence slice, or ("sum", None, v) for
    ``expand_dims(sum(v, axis 0), 0)``; else None."""
    o = term.owner
    if o is None:
        return None
    if o.name == "sc.dot":
        a, v = o.operands
        t = a.owner
        if (t is not None and t.name == "sc.transpose" and tuple(t.attributes.get("perm", ())) == (1, 0)
                and t.operands[0] in slice_of and v.type.ndim == 2 and len(a.uses) == 1):
            return "dot", t.operands[0], v
        return None
    if o.name == "sc.expand_dims" and tuple(o.attributes.get("axes", ())) == (0,):
        inner = o.operands[0].owner
        if (inner is not None and inner.name == "sc.sum" and tuple(inner.attributes.get("axes", ())) == (0,)
                and len(o.operands[0].uses) == 1 and inner.operands[0].type.ndim == 2):
            return "sum", None, inner.operands[0]
    return None


def _batched_total(kind: str, S, off: int, n, V, init):
    """``init[0]`` plus the accumulated term summed over the steps, from the stacked per-step
    values ``V`` (``(n, ...)``) and the sequence ``S``."""
    import symcomp.tensor as T

    if kind == "dot":
        rows = S[off:off + n] if off else S[:n]
        if rows.type.ndim == 3:
            rows = T.reshape(rows, (rows.shape[0] * rows.shape[1], rows.shape[2]))
            V = T.reshape(V, (V.shape[0] * V.shape[1], V.shape[2]))
        return init[0] + T.dot(T.transpose(rows), V)
    return init[0] + T.expand_dims(T.sum(V, axis=(0, 1)), 0)


@register_pass
@dataclass(frozen=True)
class ScanPushOutSums(ModulePass):
    name = "scan-push-out-sums"
    description = "Turn sc.scan accumulators of sequence-slice products into one product after the loop"

    def apply(self, module) -> None:
        apply_greedily(module, push_out_sums)


@register_pass
@dataclass(frozen=True)
class ScanLICM(ModulePass):
    name = "scan-licm"
    description = "Hoist loop-invariant work out of sc.scan bodies (Theano's push-out of non-sequences)"

    def apply(self, module) -> None:
        apply_greedily(module, licm)


@register_pass
@dataclass(frozen=True)
class ScanDropUnused(ModulePass):
    name = "scan-drop-unused"
    description = "Remove sc.scan outputs and states nothing reads"

    def apply(self, module) -> None:
        apply_greedily(module, drop_unused)


@register_pass
@dataclass(frozen=True)
class ScanSaveMemory(ModulePass):
    name = "scan-save-memory"
    description = "Keep only the final value of sc.scan states read only at their last row"

    def apply(self, module) -> None:
        apply_greedily(module, save_memory)


patterns = licm + push_out_seq + drop_unused + save_memory
"""Every loop rewrite: part of ``canonicalize``."""
