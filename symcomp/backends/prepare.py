"""Preparing an optimized module for a native backend: the memory contract made explicit.

Before code generation (the CPU and CUDA backends both start here):

* every output and every update result is produced into a fresh buffer that
  the runtime allocates per call (a value that is an argument, a constant, a
  view, or returned twice is copied with ``sc.copy``), so outputs never alias
  inputs, shared storage or each other;
* the values the planner must know (sizes given as values, slice bounds,
  arange bounds) are found, and a size that depends on tensor data is
  refused with NotImplementedError;
* the ``sc.inplace`` hints of the ``inplace`` pass are re-checked on the final
  program (:func:`symcomp.passes.inplace.validated_hints`), and every buffer's
  lifetime (its last read, through views and in-place successors) is computed
  so that the planner can reuse workspace regions (docs/memory.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symcomp.ir.core import BlockArgument, Value
from symcomp.ir.locations import where
from symcomp.ir.opdef import View
from symcomp.ir.ops.control import ControlFlow, If, Scan
from symcomp.ir.ops.elementwise import Copy
from symcomp.passes.inplace import buffer_source, validated_hints

# Operands whose *values* (not just shapes) the planner needs, per op.
VALUE_OPERANDS = {
    "sc.reshape": lambda op: op.operands[1:],
    "sc.broadcast_to": lambda op: op.operands[1:],
    "sc.subtensor": lambda op: op.operands[1:],
    "sc.inc_subtensor": lambda op: op.operands[2:],
    "sc.arange": lambda op: op.operands,
    "sc.random_permutation": lambda op: op.operands[2:],
    "sc.scan": lambda op: op.operands[:1],
}


@dataclass
class Compiled:
    """Everything the runtime needs from compilation (``llvm_ir`` and ``symbol`` are filled by the
    CPU backend's code generation).

    ``ops`` lists the ops of the function body and, before each op with tensor regions
    (``sc.scan``, ``sc.if``), the ops of its regions (recursively): every op has one index, its
    position there (``index``), which names it in errors and keys its parameters.  ``nested``
    maps each op inside a region to the index of its outermost enclosing op: its parent's lowering
    runs it, not the entry, and everything it places in the workspace (its results and temporary
    buffers) stays until that outermost op has run, since every step runs it again.

    Attributes (memory planning):
        indirect: value -> a ``ptrs`` root that the generated code points at a new place before
            each step or branch (a loop's sequence slices and state taps, the values a region
            yields, which are computed straight into the parent's results); roots are numbered
            after the constants', ``n_roots`` in all.
        inplace: result -> operand whose buffer it takes over (validated hints).
        class_role: first value of an in-place chain -> the output/update role of
            the chain's last value (the whole chain then lives in that array).
        ends: value -> index in ``ops`` of the last op that needs its buffer.
    """

    func: object
    ops: list
    values: list
    roles: dict
    needed: set
    n_params: int
    n_outputs: int
    n_updates: int
    ws_root: int
    const_roots: dict
    inplace: dict = field(default_factory=dict)
    class_role: dict = field(default_factory=dict)
    ends: dict = field(default_factory=dict)
    slot_keys: list = field(default_factory=list)
    index: dict = field(default_factory=dict)
    nested: dict = field(default_factory=dict)
    truncate: dict = field(default_factory=dict)
    n_user_outputs: int = 0
    indirect: dict = field(default_factory=dict)
    n_roots: int = 0
    llvm_ir: str = ""
    symbol: str = ""


def _fresh_buffer_op(v: Value, seen: set) -> bool:
    o = v.owner
    if o is None or v in seen:
        return False
    if View in o.traits or o.name in ("sc.reshape", "sc.constant"):
        return False
    return True


def prepare(module, sig) -> Compiled:
    """Insert the copies the memory contract needs and collect the planner's facts."""
    func = module.func()
    ret = func.return_op
    assigns = [o for o in func.body.ops if o.name == "sc.assign"]
    seen: set = set()
    n_params = len(func.args)
    roles = {}

    def fresh(value, before):
        if _fresh_buffer_op(value, seen):
            return value
        c = Copy([value], [value.type], {}, loc=value.owner.loc if value.owner is not None else before.loc)
        func.body.insert_before(c, before)
        return c.result

    n_user = len(ret.operands)
    truncate = _truncated_outputs(ret)
    for j, v in enumerate(list(ret.operands)):
        nv = fresh(v, ret)
        if nv is not v:
            ret.set_operand(j, nv)
        seen.add(nv)
        roles[nv] = n_params + j
    for u, a in enumerate(assigns):
        v = a.operands[1]
        nv = fresh(v, a)
        if nv is not v:
            a.set_operand(1, nv)
        seen.add(nv)
        roles[nv] = n_params + len(ret.operands) + u

    top = [o for o in func.body.ops if o.name not in ("func.return", "sc.assign")]
    for o in top:
        if isinstance(o, ControlFlow):
            _fresh_yields(o)
    ops, nested = _flatten(top)
    if sum(_runtime_index(o) for o in list(nested)):  # every one (any() would stop at the first)
        ops, nested = _flatten([o for o in func.body.ops if o.name not in ("func.return", "sc.assign")])
    needed = needed_values(ops)
    values = list(func.args) + [r for o in ops for r in o.results]
    values += [a for o in ops if isinstance(o, ControlFlow) for reg in o.regions for a in reg.block.args]
    n_out, n_upd = len(ret.operands), len(assigns)
    ws_root = n_params + n_out + n_upd
    consts = [o.result for o in ops if o.name == "sc.constant"]
    const_roots = {v: ws_root + 1 + i for i, v in enumerate(consts)}
    c = Compiled(func, ops, values, roles, needed, n_params, n_out, n_upd, ws_root, const_roots)
    c.truncate, c.n_user_outputs = truncate, n_user
    c.index = {o: i for i, o in enumerate(ops)}
    c.nested = {o: c.index[_outermost(o)] for o in nested}
    next_root = ws_root + 1 + len(consts)
    for o in ops:
        if isinstance(o, ControlFlow):
            for v in _indirect_values(o):
                if v not in c.indirect:
                    c.indirect[v] = next_root
                    next_root += 1
    c.n_roots = next_root
    for v, r in c.indirect.items():
        if v.owner is not None:  # a yielded value: computed straight into the parent's result
            roles[v] = r
    c.inplace = validated_hints(list(func.body.ops))
    c.class_role = _class_roles(c.inplace, roles)
    c.ends = _buffer_ends(ops, ret, assigns, c.inplace)
    for o, outer in c.nested.items():  # a region's values live until its op has run (every step of a loop)
        for r in o.results:
            c.ends[r] = outer
        for reg in o.regions:
            for a in reg.block.args:
                c.ends[a] = outer
    return c


def _truncated_outputs(ret) -> dict:
    """Outputs cut to the steps a ``scan`` with ``until`` ran (``x[:count]``, a length known only
    after the loop): the function returns the whole buffer and the count, as a hidden output
    after the user's, and the runtime cuts the buffer.  Returns {output index: count output index}."""
    out, hidden = {}, []
    for j, v in enumerate(list(ret.operands)):
        o = v.owner
        if o is None or o.name != "sc.subtensor" or tuple(o.attributes["index"]) != (":?",) or len(o.operands) != 2:
            continue
        cnt = o.operands[1]
        s = cnt.owner
        if not (isinstance(s, Scan) and s.until and cnt is s.results[-1]):
            continue
        ret.set_operand(j, o.operands[0])
        if not o.results[0].uses:
            o.erase()
        if cnt not in hidden:
            hidden.append(cnt)
        out[j] = hidden.index(cnt)
    n = len(ret.operands)
    for cnt in hidden:
        ret.operands.append(cnt)
        cnt._uses.append((ret, len(ret.operands) - 1))
    return {j: n + k for j, k in out.items()}


def _flatten(top) -> tuple[list, set]:
    """The ops in execution-index order: each control-flow op after its regions' ops."""
    out, nested = [], set()

    def visit(o, inside: bool):
        if isinstance(o, ControlFlow):
            for reg in o.regions:
                for inner in reg.block.ops:
                    if inner.name != "sc.yield":
                        visit(inner, True)
        if inside:
            nested.add(o)
        out.append(o)

    for o in top:
        visit(o, False)
    return out, nested


def _outermost(o):
    while o.parent_op is not None and isinstance(o.parent_op, ControlFlow):
        o = o.parent_op
    return o


def _fresh_yields(op) -> None:
    """Make every value a region of ``op`` yields a fresh buffer of its own (an ``sc.copy`` of a
    block argument, a view, a constant or a value yielded twice), so that it can be computed
    straight into the op's result; recursively for nested control flow."""
    for reg in op.regions:
        blk = reg.block
        term = blk.last
        seen: set = set()
        for o in list(blk.ops):
            if isinstance(o, ControlFlow):
                _fresh_yields(o)
        for j, v in enumerate(list(term.operands)):
            if _fresh_buffer_op(v, seen):
                seen.add(v)
                continue
            c = Copy([v], [v.type], {}, loc=v.owner.loc if v.owner is not None else op.loc)
            blk.insert_before(c, term)
            term.set_operand(j, c.result)
            seen.add(c.result)


def _indirect_values(op) -> list:
    """The values of ``op``'s regions placed through an indirect root (see :class:`Compiled`)."""
    out = []
    if isinstance(op, Scan):
        seqs, states, _ = op.arg_groups()
        out += [a for g in seqs for a in g] + [a for g in states for a in g]
        term = op.body.last
        out += list(term.operands[:op.n_states + op.n_nitsot])
    elif isinstance(op, If):
        for reg in op.regions:
            out += list(reg.block.last.operands)
    return out


def _chain_start(v: Value, inplace: dict) -> Value:
    while v in inplace and inplace[v].owner is not None:
        v = inplace[v]
    return v


def _class_roles(inplace: dict, roles: dict) -> dict:
    """First value of each in-place chain ending in an output/update -> that role."""
    out = {}
    for r in inplace:
        if r in roles and inplace[r].owner is not None:
            out[_chain_start(r, inplace)] = roles[r]
    return out


def _buffer_ends(ops, ret, assigns, inplace: dict) -> dict:
    """Value -> index of the last op reading its buffer (directly, through a view, or through a
    result that took the buffer over); ``len(ops)`` for values read by the return or an update."""
    ends: dict = {}

    def read(v, i):
        while v is not None:
            if ends.get(v, -1) < i:
                ends[v] = i
            src = buffer_source(v)
            v = inplace.get(v) if src is None else src

    for i, o in enumerate(ops):
        for r in o.results:
            read(r, i)
        if o.name != "sc.dim":
            for v in o.operands:
                read(v, i)
    for v in list(ret.operands) + [a.operands[1] for a in assigns]:
        read(v, len(ops))
    return ends


def _varies(v, seen=None) -> bool:
    """Whether ``v`` (inside a region) may change from one loop step to the next."""
    seen = set() if seen is None else seen
    if v in seen:
        return False
    seen.add(v)
    if isinstance(v, BlockArgument):
        outer = v.block.parent.parent if v.block.parent is not None else None
        if not isinstance(outer, ControlFlow):
            return False
        src = _outer_operand(outer, v)
        return src is None or _varies(src, seen)
    o = v.owner
    if o is None or o.name in ("sc.dim", "sc.constant"):
        return False
    return any(_varies(w, seen) for w in o.operands)


def _runtime_index(op) -> bool:
    """Rewrite ``x[i]`` (and ``inc/set_subtensor(x[i], y)``) inside a loop body, where the integer
    ``i`` changes from step to step, into advanced indexing with a rank-0 index array, which reads
    its index at run time (the planner cannot know it).  Returns True if ``op`` was rewritten."""
    from symcomp.ir.ops.indexing import DYN, AdvancedIncSubtensor, AdvancedSubtensor, parse_index

    if op.name not in ("sc.subtensor", "sc.inc_subtensor"):
        return False
    n_fixed = 1 if op.name == "sc.subtensor" else 2
    entries = parse_index(op.attributes["index"])
    dyn = op.operands[n_fixed:]
    if len(dyn) != 1 or not _varies(dyn[0]):
        return False
    pos = [k for k, e in enumerate(entries) if DYN in e.parts]
    if len(pos) != 1 or not entries[pos[0]].is_int:
        return False  # a slice bound that changes per step: the result's shape would too
    k = pos[0]
    blk = op.parent
    if op.name == "sc.subtensor":
        x = op.operands[0]
        axis = sum(1 for e in entries[:k] if not e.is_int)  # the axis left where index k was
        idx = list(op.attributes["index"])
        idx[k] = ":"
        from symcomp.ir.ops.indexing import Subtensor

        view = Subtensor([x], [x.type.with_shape(_sub_shape(x, idx))], {"index": tuple(idx)}, loc=op.loc)
        blk.insert_before(view, op)
        new = AdvancedSubtensor([view.result, dyn[0]], [op.result.type], {"axis": axis}, loc=op.loc)
    else:
        if any(not (not e.is_int and e.parts == (None, None, None)) for j, e in enumerate(entries) if j != k):
            return False
        new = AdvancedIncSubtensor([op.operands[0], op.operands[1], dyn[0]], [op.result.type],
                                   {"axis": k, "set": op.attributes.get("set", False)}, loc=op.loc)
    blk.insert_before(new, op)
    op.result.replace_all_uses_with(new.result)
    op.erase()
    return True


def _sub_shape(x, idx) -> tuple:
    from symcomp.ir.ops.indexing import Subtensor

    return Subtensor.infer([x.type], {"index": tuple(idx)}, [None])[0].shape


def _outer_operand(op, arg):
    """The operand a block argument of ``op`` stands for when it is the same at every step
    (a loop's non-sequence, a branch's input), else None."""
    if isinstance(op, If):
        return op.operands[1 + arg.index]
    seqs, states, nonseqs = op.arg_groups()
    if arg in nonseqs:
        return op.nonseqs[nonseqs.index(arg)]
    return None


def needed_values(ops) -> set:
    """Values the planner evaluates (rank-0 integers feeding sizes), checked to be computable from shapes.

    Raises:
        NotImplementedError: for a size that depends on tensor data, naming the op that needs it.
    """
    needed: set = set()
    stack = [(v, o) for o in ops if o.name in VALUE_OPERANDS for v in VALUE_OPERANDS[o.name](o)]
    while stack:
        v, user = stack.pop()
        if v in needed:
            continue
        needed.add(v)
        o = v.owner
        by = f" (needed by {where(user)})"
        outer = v.block.parent.parent if isinstance(v, BlockArgument) and v.block.parent is not None else None
        if isinstance(outer, ControlFlow):
            src = _outer_operand(outer, v)
            if src is None:
                raise NotImplementedError(
                    f"a size or index inside a loop body depends on a value that changes from step to step{by}; "
                    "symcomp needs sizes computable before the loop runs (pass it as a non-sequence, or index "
                    "with an integer array: advanced indexing reads its indices at run time)")
            stack.append((src, user))
            continue
        if o is None:
            if v.type.ndim:
                raise NotImplementedError(
                    f"a size or index depends on the data of array argument {v.name or '?'}{by}; "
                    "symcomp needs sizes computable from shapes and scalar arguments")
            continue
        if o.name == "sc.dim":
            continue
        if isinstance(o, ControlFlow):
            raise NotImplementedError(
                f"a size or index depends on a value computed by a loop or branch ({where(o)}){by}: known only "
                "after it runs (the outputs of a scan with until may be returned from the function, where they "
                "are cut to the steps run; or use mode='reference')")
        if v.type.ndim and o.name != "sc.constant":
            raise NotImplementedError(
                f"a size or index depends on tensor data computed by {where(o)}{by}; "
                "data-dependent shapes are not supported")
        stack.extend((w, user) for w in o.operands)
    return needed
