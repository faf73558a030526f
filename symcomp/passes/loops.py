"""Rewrites of ``sc.scan``: the canonicalization of loops, and one pass per rewrite.

* ``scan-licm``: an op of the body whose operands are all non-sequences (or constants) is
  computed once before the loop (loop-invariant code motion; Theano's scan "push out
  non-sequences").  The front-end's ``scan`` already leaves such work outside; this catches what
  other rewrites expose, and parsed IR.
* ``scan-drop-unused``: a per-step output nobody reads is not computed; a state whose result
  nobody reads and whose value feeds no other yielded value is dropped (a gradient's cotangent of
  an input that needs none).
* ``scan-save-memory``: a state with taps ``[-1]`` whose history is only read at its last row
  (``h[-1]``, ``h[1:][-1]``) keeps only its final value: no history is stored (Theano's
  save-memory rewrite, ``scan_save_mem``).

Every rewrite keeps the op's semantics exactly; they are also patterns of ``canonicalize``.
"""

from __future__ import annotations

from dataclasses import dataclass

from symcomp.ir.core import Block, BlockArgument, Region
from symcomp.ir.opdef import Pure, SideEffect, known_values
from symcomp.ir.ops.control import ControlFlow, Scan
from symcomp.passes.manager import ModulePass, register_pass
from symcomp.passes.rewrite import PatternSet, apply_greedily

licm = PatternSet("scan-licm")
drop_unused = PatternSet("scan-drop-unused")
save_memory = PatternSet("scan-save-memory")


def _attrs(op: Scan, **changes) -> dict:
    a = dict(op.attributes)
    a.update(changes)
    return a


def _replace_scan(op: Scan, operands, block: Block, attrs: dict, result_of: list, rw) -> Scan:
    """Put a new ``sc.scan`` in place of ``op``; ``result_of[i]`` is the new result index of old
    result ``i`` (None: that result is unused and goes away)."""
    op.regions = []
    probe = Scan(list(operands), [], attrs, [Region([block])])
    types = probe.infer_for([v.type for v in operands], known_values(operands))
    new = Scan(list(operands), types, attrs, [Region([block])], op.loc)
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
    """A ``[-1]``-tap state read only at its last row keeps only its final value."""
    if op.until:
        return
    taps = op.taps_of("state")
    for j in range(op.n_states):
        if op.state_keep[j] or taps[j] != [-1] or not op.results[j].uses:
            continue
        users = _last_row_users(op.results[j], 1)
        if not users:
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
    probe = Scan(operands, [], attrs, [Region([block])])
    types = probe.infer_for([v.type for v in operands], known_values(operands))
    if any(u.result.type != types[j] for u in users):
        op.regions = [Region([block])]
        op.regions[0].parent = op
        return None
    new = Scan(operands, types, attrs, [Region([block])], op.loc)
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
        _replace_scan(op, operands, block, dict(op.attributes), list(range(len(op.results))), rw)
        return


def _cannot_fail(o) -> bool:
    """Ops that never raise at run time, which may run before a loop that might take no step."""
    name = o.name
    if any(k in name for k in ("subtensor", "reshape", "random", "philox", "take", "arange", "alloc")):
        return False
    if name in ("sc.pow", "sc.floor_div", "sc.mod", "sc.true_div", "sc.int_div") and not o.results[0].type.dtype.is_float:
        return False
    return True


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


patterns = licm + drop_unused + save_memory
"""Every loop rewrite: part of ``canonicalize``."""
