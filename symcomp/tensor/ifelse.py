"""``ifelse``: a lazy symbolic branch (Theano's ``theano.ifelse.ifelse``).

``ifelse(cond, then, else)`` builds an ``sc.if`` op (:mod:`symcomp.ir.ops.control`) whose two
regions yield the branches' values.  The front-end leaves the computations of each branch
outside the op; the ``control-flow-sink`` pass (:mod:`symcomp.passes.sink`), which every
mode runs, moves into a region each op whose results only that region uses, so that the
branch not taken is not computed: an out-of-range index in it neither raises nor costs time.
``T.switch(cond, a, b)`` is the eager, elementwise form.
"""

from __future__ import annotations

from symcomp.ir.core import Location
from symcomp.ir.ops.control import If
from symcomp.tensor.convert import as_value
from symcomp.tensor.graph import make_body


def ifelse(condition, then_branch, else_branch, name=None):
    """``then_branch`` if ``condition`` is true (nonzero), else ``else_branch``, evaluating only the
    branch taken.

    Args:
        condition: a scalar (any dtype; true when nonzero).
        then_branch, else_branch: a value or a list of values (the same number in each); each pair
            must have the same dtype and rank (Theano's rule); shapes may differ.
        name: accepted for Theano's signature.

    Returns:
        A value, or a list of values when the branches are lists.

    Raises:
        TypeError: for a non-scalar condition, or a pair of outputs whose dtypes or ranks differ
            (naming the output and both types).
        ValueError: for branches of different lengths.
    """
    del name
    cond = as_value(condition)
    if cond.type.ndim != 0:
        raise TypeError(f"ifelse: the condition must be a scalar, got {cond.type}")
    single = not isinstance(then_branch, (list, tuple))
    thens = [then_branch] if single else list(then_branch)
    elses = [else_branch] if not isinstance(else_branch, (list, tuple)) else list(else_branch)
    if len(thens) != len(elses):
        raise ValueError(f"ifelse: the then branch has {len(thens)} outputs, the else branch {len(elses)}")
    thens = [as_value(v) for v in thens]
    elses = [as_value(v) for v in elses]
    for i, (a, b) in enumerate(zip(thens, elses)):
        if a.type.ndim != b.type.ndim:
            raise TypeError(f"ifelse: output {i}: the then branch gives {a.type} ({a.type.ndim} dimension(s)), the "
                            f"else branch {b.type} ({b.type.ndim}); both branches must have the same type")
        if a.type.dtype != b.type.dtype:
            raise TypeError(f"ifelse: output {i}: the then branch gives dtype {a.type.dtype.name} ({a.type}), the "
                            f"else branch dtype {b.type.dtype.name} ({b.type}); cast one of them")
    then_block, then_cap = make_body([], thens)
    else_block, else_cap = make_body([], elses)
    inputs = list(then_cap) + [v for v in else_cap if v not in set(then_cap)]
    # Both regions take every input, in one order.
    for block, cap in ((then_block, then_cap), (else_block, else_cap)):
        _reorder_args(block, cap, inputs)
    operands = [cond] + inputs
    op = If.create(operands, [then_block, else_block], {}, Location.capture())
    outs = list(op.results)
    return outs[0] if single else outs


def _reorder_args(block, captured, inputs) -> None:
    """Give ``block`` one argument per element of ``inputs`` (in that order), keeping its uses."""
    from symcomp.ir.core import BlockArgument

    old = dict(zip(captured, block.args))
    new_args = []
    for i, v in enumerate(inputs):
        a = old.get(v)
        if a is None:
            a = BlockArgument(v.type.plain(), block, i, v.name)
        a.index = i
        new_args.append(a)
    block.args = new_args
