"""The verifier: structural and type rules every module must satisfy.

* SSA: every value is defined once; every use is dominated by its definition
  (defined earlier in the same block, or in an enclosing block, or a block
  argument); region bodies only use their own block arguments, their own
  values and values of enclosing blocks.
* Terminators: a function ends with ``func.return``, a fused body with
  ``sc.yield``, and terminators appear nowhere else.
* Types: attributes have their declared kinds; re-running each op's type rule
  on its operand types gives exactly its result types; ``func.return`` matches
  nothing else (a function's result types are its return's operand types);
  ``sc.assign`` targets are ``sc.shared`` parameters.

Errors are :class:`~symcomp.ir.errors.VerifyError` pointing at the op.
"""

from __future__ import annotations

from symcomp.ir.core import Block, Operation
from symcomp.ir.errors import VerifyError
from symcomp.ir.opdef import OPS, Elementwise, Terminator, known_values, normalize_attrs


def verify(module: Operation) -> None:
    """Check ``module`` (a ``builtin.module``); raise :class:`VerifyError` on the first problem."""
    if module.name != "builtin.module":
        raise VerifyError(f"expected a builtin.module at the top level, got {module.name}", op=module)
    names = set()
    for f in module.body.ops:
        if f.name != "func.func":
            raise VerifyError(f"a module may only contain func.func operations, got {f.name}", op=f)
        if f.sym_name in names:
            raise VerifyError(f"function @{f.sym_name} is defined twice", op=f)
        names.add(f.sym_name)
        _verify_block(f.body, defined=set(), term="func.return", where=f"function @{f.sym_name}")
        for o in f.body.ops:
            if o.name == "sc.assign":
                tgt = o.operands[0]
                if getattr(tgt, "block", None) is not f.body or "sc.shared" not in tgt.attributes:
                    raise VerifyError("sc.assign: the target must be a parameter marked sc.shared", op=o)


def _verify_block(block: Block, defined: set, term: str, where: str) -> None:
    local = set(defined)
    for a in block.args:
        if a in local:
            raise VerifyError(f"{where}: block argument defined twice")
        local.add(a)
    last = block.last
    for o in block.ops:
        if o.parent is not block:
            raise VerifyError(f"{o.name}: operation's parent link is broken", op=o)
        for i, v in enumerate(o.operands):
            if v not in local:
                raise VerifyError(f"{o.name}: operand #{i} is used before its definition or is not visible here "
                                  f"(SSA dominance)", op=o)
        _verify_op(o, local)
        is_term = Terminator in o.traits
        if o is last:
            if o.name != term:
                raise VerifyError(f"{where}: must end with {term}, ends with {o.name}", op=o)
        elif is_term:
            raise VerifyError(f"{o.name} must be the last operation of its block", op=o)
        for r in o.results:
            if r in local:
                raise VerifyError(f"{o.name}: value defined twice", op=o)
            local.add(r)
    if last is None:
        raise VerifyError(f"{where}: empty block (missing {term})")


def _verify_op(o: Operation, visible: set) -> None:
    cls = OPS.get(o.name)
    if cls is None or not isinstance(o, cls):
        raise VerifyError(f"unknown operation {o.name}", op=o)
    n_fixed = len(cls.operand_names) - (1 if cls.variadic else 0)
    if (len(o.operands) < n_fixed) if cls.variadic else (len(o.operands) != n_fixed):
        raise VerifyError(f"{o.name}: expected {'at least ' if cls.variadic else ''}{n_fixed} operands, "
                          f"got {len(o.operands)}", op=o)
    if len(o.regions) != cls.n_regions:
        raise VerifyError(f"{o.name}: expected {cls.n_regions} regions, got {len(o.regions)}", op=o)
    normalize_attrs(cls, o.attributes, o.loc)
    if o.name == "sc.fused":
        _verify_fused(o, visible)
    if o.name in ("func.return", "sc.yield", "builtin.module", "func.func"):
        return
    try:
        types = o.infer_for([v.type for v in o.operands], known_values(o.operands))
    except (TypeError, ValueError, IndexError, NotImplementedError) as exc:
        raise VerifyError(str(exc), op=o) from None
    got = [r.type for r in o.results]
    if len(types) != len(got):
        raise VerifyError(f"{o.name}: expected {len(types)} results, got {len(got)}", op=o)
    for i, (want, have) in enumerate(zip(types, got)):
        if want != have:
            raise VerifyError(f"{o.name}: result #{i} has type {have}, but the type rule gives {want}", op=o)
    o.verify_extra()


def _verify_fused(o: Operation, visible: set) -> None:
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
    _verify_block(body, defined=set(), term="sc.yield", where="sc.fused body")
