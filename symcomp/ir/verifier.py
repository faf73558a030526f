"""The verifier: structural and type rules every module must satisfy.

* Structure: a ``builtin.module`` holds only ``func.func`` operations with
  distinct non-empty names; operations are linked into their blocks
  consistently; every operation is registered (``OPS``) with its declared
  number of operands, results and regions; use lists match operands.
* SSA: every value is defined once; every use is dominated by its definition
  (defined earlier in the same block, or a block argument).  ``sc.fused``
  bodies are isolated from above: they use only their own block arguments and
  values.
* Terminators: a function ends with ``func.return``, a fused body with
  ``sc.yield``, and terminators appear nowhere else.
* Types: attributes have their declared kinds; re-running each op's type rule
  on its operand types gives exactly its result types (this checks ranges too:
  axes in range, permutations valid, ``?`` entries matched by operands...).
* Functions: parameter attributes are known (``sc.shared = "name"``);
  ``sc.assign`` targets are ``sc.shared`` parameters, each updated at most once.

Errors are :class:`~symcomp.ir.errors.VerifyError` pointing at the op (its
``line:col`` when the IR was parsed, the user's line when it was traced).
"""

from __future__ import annotations

from symcomp.ir.ops.control import ControlFlow
from symcomp.ir.core import Block, Operation
from symcomp.ir.errors import VerifyError
from symcomp.ir.opdef import OPS, AttrKind, Elementwise, Str, Terminator, known_values, normalize_attrs

ARG_ATTRS: dict[str, AttrKind] = {"sc.shared": Str}
"""Attributes a function parameter may carry, with their kinds.

``sc.shared = "name"``: the parameter is the shared variable ``name``
(read as an input, written by ``sc.assign``).
"""

# Exceptions a type rule raises for operands or attributes it rejects.
_RULE_ERRORS = (TypeError, ValueError, IndexError, ArithmeticError, NotImplementedError)


def verify(module: Operation) -> None:
    """Check ``module`` (a ``builtin.module``).

    Raises:
        VerifyError: on the first problem found, pointing at the offending op.
    """
    if module.name != "builtin.module":
        raise VerifyError(f"expected a builtin.module at the top level, got {module.name}", op=module)
    if len(module.regions) != 1 or len(module.regions[0].blocks) != 1:
        raise VerifyError("builtin.module must have one region with one block", op=module)
    names = set()
    _check_links(module.body)
    for f in module.body.ops:
        if f.name != "func.func":
            raise VerifyError(f"a module may only contain func.func operations, got {f.name}", op=f)
        normalize_attrs(OPS["func.func"], f.attributes, f.loc)
        if not f.sym_name:
            raise VerifyError("func.func: the function name is empty", op=f)
        if f.sym_name in names:
            raise VerifyError(f"function @{f.sym_name} is defined twice", op=f)
        names.add(f.sym_name)
        if f.operands or f.results or len(f.regions) != 1 or len(f.regions[0].blocks) != 1:
            raise VerifyError(f"func.func @{f.sym_name}: expected no operands or results and one single-block "
                              "region", op=f)
        _verify_params(f)
        _verify_block(f.body, outer=(), term="func.return", where=f"function @{f.sym_name}")
        _verify_assigns(f)


def _verify_params(f: Operation) -> None:
    for i, a in enumerate(f.body.args):
        for key, value in a.attributes.items():
            kind = ARG_ATTRS.get(key)
            if kind is None:
                raise VerifyError(f"@{f.sym_name}: parameter #{i} has unknown attribute '{key}' "
                                  f"(known: {', '.join(ARG_ATTRS)})", op=f)
            try:
                kind.coerce(value)
            except TypeError as exc:
                raise VerifyError(f"@{f.sym_name}: parameter #{i}: attribute '{key}': {exc}", op=f) from None


def _verify_assigns(f: Operation) -> None:
    updated = set()
    for o in f.body.ops:
        if o.name != "sc.assign":
            continue
        tgt = o.operands[0]
        if getattr(tgt, "block", None) is not f.body or "sc.shared" not in tgt.attributes:
            raise VerifyError("sc.assign: the target must be a parameter marked sc.shared", op=o)
        if tgt in updated:
            raise VerifyError(f"sc.assign: shared variable '{tgt.attributes['sc.shared']}' is updated twice", op=o)
        updated.add(tgt)


def _check_links(block: Block) -> None:
    prev = None
    for o in block.ops:
        if o.parent is not block or o.prev is not prev:
            raise VerifyError(f"{o.name}: the operation's links to its block are broken", op=o)
        prev = o
    if block.last is not prev:
        raise VerifyError("a block's last-operation link is broken", op=prev)


def _verify_block(block: Block, outer: tuple, term: str, where: str) -> None:
    """Verify ``block``; ``outer`` holds the sets of values of enclosing blocks (only for messages:
    symcomp's regions are isolated from above)."""
    _check_links(block)
    local = set()
    for a in block.args:
        if a in local:
            raise VerifyError(f"{where}: block argument defined twice")
        local.add(a)
    defined_here = {r for o in block.ops for r in o.results}
    last = block.last
    for o in block.ops:
        for i, v in enumerate(o.operands):
            if v in local:
                continue
            label = f" (%{v.name})" if v.name else ""
            if v in defined_here:
                msg = f"operand #{i}{label} is used before its definition (SSA dominance)"
            elif any(v in scope for scope in outer):
                msg = f"operand #{i}{label} is defined outside the region ({where} is isolated from above)"
            else:
                msg = f"operand #{i}{label} is not defined in {where}"
            raise VerifyError(f"{o.name}: {msg}", op=o)
        _verify_op(o, outer + (local,))
        if o is last:
            if o.name != term:
                raise VerifyError(f"{where}: must end with {term}, ends with {o.name}", op=o)
        elif Terminator in o.traits:
            raise VerifyError(f"{o.name} must be the last operation of its block", op=o)
        for r in o.results:
            if r in local:
                raise VerifyError(f"{o.name}: value defined twice", op=o)
            local.add(r)
    if last is None:
        raise VerifyError(f"{where}: empty block (missing {term})")
    _check_uses(block)


def _check_uses(block: Block) -> None:
    """Use lists must list exactly the operand slots of the attached ops (passes rely on them)."""
    slots = 0
    for o in block.ops:
        slots += len(o.operands)
    entries = 0
    values = list(block.args) + [r for o in block.ops for r in o.results]
    for v in values:
        seen = set()
        for user, i in v.uses:
            if user.parent is None or i >= len(user.operands) or user.operands[i] is not v or (id(user), i) in seen:
                raise VerifyError(f"the use list of a value defined by {_definer(v)} is stale: it lists operand "
                                  f"#{i} of {user.name}, which does not use it (IR changed without updating uses)",
                                  op=user if user.parent is not None else v.owner)
            seen.add((id(user), i))
        entries += len(seen)
    if entries != slots:
        for o in block.ops:
            for i, v in enumerate(o.operands):
                if (o, i) not in v.uses:
                    raise VerifyError(f"{o.name}: operand #{i} is missing from its value's use list "
                                      "(IR changed without updating uses)", op=o)


def _definer(v) -> str:
    return v.owner.name if v.owner is not None else "a block argument"


def _verify_op(o: Operation, outer: tuple) -> None:
    cls = OPS.get(o.name)
    if cls is None or not isinstance(o, cls):
        raise VerifyError(f"unknown operation {o.name}", op=o)
    if cls.name in ("builtin.module", "func.func"):
        raise VerifyError(f"{o.name} may only appear at the top level", op=o)
    n_fixed = len(cls.operand_names) - (1 if cls.variadic else 0)
    if (len(o.operands) < n_fixed) if cls.variadic else (len(o.operands) != n_fixed):
        raise VerifyError(f"{o.name}: expected {'at least ' if cls.variadic else ''}{n_fixed} operands, "
                          f"got {len(o.operands)}", op=o)
    if len(o.regions) != cls.n_regions:
        raise VerifyError(f"{o.name}: expected {cls.n_regions} regions, got {len(o.regions)}", op=o)
    if cls.n_results >= 0 and len(o.results) != cls.n_results:
        raise VerifyError(f"{o.name}: expected {cls.n_results} results, got {len(o.results)}", op=o)
    normalize_attrs(cls, o.attributes, o.loc)
    if o.name == "sc.fused":
        _verify_fused(o, outer)
    elif isinstance(o, ControlFlow):
        for k, region in enumerate(o.regions):
            if len(region.blocks) != 1:
                raise VerifyError(f"{o.name}: region #{k} must be one block", op=o)
            _verify_block(region.block, outer=outer, term="sc.yield", where=f"{o.name} region #{k}")
    try:
        types = o.infer_for([v.type for v in o.operands], known_values(o.operands))
    except _RULE_ERRORS as exc:
        raise VerifyError(str(exc), op=o) from None
    if len(types) != len(o.results):
        raise VerifyError(f"{o.name}: {len(o.results)} results, but the type rule gives {len(types)}", op=o)
    for i, (want, have) in enumerate(zip(types, o.results)):
        if want != have.type:
            raise VerifyError(f"{o.name}: result #{i} has type {have.type}, but the type rule gives {want}", op=o)
    o.verify_extra()


def _verify_fused(o: Operation, outer: tuple) -> None:
    if len(o.regions[0].blocks) != 1:
        raise VerifyError("sc.fused: the body must be one block", op=o)
    body = o.body
    if len(body.args) != len(o.operands):
        raise VerifyError(f"sc.fused: body has {len(body.args)} arguments for {len(o.operands)} operands", op=o)
    for i, (a, v) in enumerate(zip(body.args, o.operands)):
        if a.type.ndim != 0 or a.type.dtype != v.type.dtype:
            raise VerifyError(f"sc.fused: body argument #{i} must be tensor<{v.type.dtype.ir}>, got {a.type}", op=o)
    for inner in body.ops:
        if inner.name in ("sc.yield", "sc.constant"):
            continue
        if Elementwise not in inner.traits or any(r.type.ndim for r in inner.results):
            raise VerifyError(f"sc.fused: body may only hold rank-0 elementwise operations, got {inner.name}",
                              op=inner)
    _verify_block(body, outer=outer, term="sc.yield", where="sc.fused body")
