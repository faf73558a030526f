"""Fused elementwise kernels, created by the ``fuse`` pass.

``sc.fused`` applies its body (scalar code on rank-0 block arguments, one per
operand, ending in ``sc.yield``) at every point of the broadcast operand
shape, and optionally reduces the result over ``axes`` with ``reduce``
(``add``, ``mul``, ``max``, ``min``): ``sum(exp(x))`` becomes one pass over x.
Backends lower it to a single loop nest with no intermediate arrays::

    %r = sc.fused %x, %y {axes = [], reduce = ""} : tensor<?xf64> ({
    ^bb0(%a: tensor<f64>, %b: tensor<f64>):
      %0 = sc.mul %a, %b : tensor<f64>
      sc.yield %0
    })
"""

from __future__ import annotations

from typing import Callable, Sequence

from symcomp.ir import frontend, types as T
from symcomp.ir.core import Block, Operation, Region, Value, walk_graph
from symcomp.ir.opdef import Ints, Pure, Str, Terminator, attr, op, operand

REDUCE_KINDS = ("", "add", "mul", "max", "min")


@op("sc.fused", traits=(Pure,), regions=1)
class Fused(Operation):
    """One loop nest: elementwise body over broadcast operands, then an optional reduction."""
    inputs = operand(variadic=True)
    reduce = attr(Str, "")
    axes = attr(Ints, ())

    @classmethod
    def infer(cls, types, attrs, values):
        raise NotImplementedError("sc.fused: result types come from its body; use op.infer_for")

    @classmethod
    def from_body(cls, inputs: Sequence[Value], body: Callable[..., Value], reduce: str = "",
                  axes=()) -> "Fused":
        """A detached ``sc.fused`` over ``inputs`` whose body is ``body(*scalars)``: called with one
        rank-0 block argument per input, it builds the scalar graph (with the front-end or
        ``ir.Builder``) and returns its value, which the body yields.

        Raises:
            ValueError: for operands that do not broadcast, an unknown ``reduce`` or bad ``axes``.
        """
        block = Block([T.TensorType(v.type.dtype, ()) for v in inputs])
        res = body(*block.args)
        for o in walk_graph([res], stop=set(block.args)):
            block.append(o)
        block.append(Yield([res], [], {}))
        shape = T.broadcast_shapes([v.type.shape for v in inputs], "sc.fused operands") if inputs else ()
        shape = tuple(d for i, d in enumerate(shape) if i not in axes) if reduce else shape
        op = cls(list(inputs), [T.TensorType(res.type.dtype, shape)], {"reduce": reduce, "axes": tuple(axes)},
                 [Region([block])])
        op.infer_for([v.type for v in inputs], [None] * len(inputs))  # the checks of a parsed sc.fused
        return op

    def infer_for(self, types, values):
        shape = T.broadcast_shapes([t.shape for t in types], "sc.fused operands") if types else ()
        if self.reduce not in REDUCE_KINDS:
            raise ValueError(f"sc.fused: unknown reduction {self.reduce!r} (expected one of {REDUCE_KINDS[1:]})")
        if any(a < 0 or a >= len(shape) for a in self.axes) or list(self.axes) != sorted(set(self.axes)):
            raise ValueError(f"sc.fused: axes {list(self.axes)} must be sorted, distinct and within rank {len(shape)}")
        if self.axes and not self.reduce:
            raise ValueError("sc.fused: axes given without a reduction")
        term = self.body.last
        if term is None or term.name != "sc.yield" or len(term.operands) != 1:
            raise ValueError("sc.fused: body must end with sc.yield of one value")
        dt = term.operands[0].type.dtype
        if self.reduce:
            shape = tuple(d for i, d in enumerate(shape) if i not in self.axes)
        return [T.TensorType(dt, shape)]

    def check_broadcast(self, shapes, values, result_shapes):
        T.check_runtime_broadcast(self.name, [v.type.shape for v in self.operands], shapes)

    def ref(self, *arrays):
        from symcomp.ir.interpreter import evaluate_fused

        return evaluate_fused(self, arrays)

    def vjp(self, grads):
        """Defined for a plain sum (one operand, an identity body, ``reduce = add``: what the
        stabilize rules build for log-sum-exp); other fused ops are made after differentiation."""
        ops = list(self.body.ops)
        if (self.reduce == "add" and len(self.operands) == 1 and len(ops) == 1
                and ops[0].operands[0] is self.body.args[0] and self.operands[0].type.dtype.is_float):
            Tn = frontend.tensor()
            g = Tn.expand_dims(grads[0], tuple(self.axes)) if self.axes else grads[0]
            return [Tn.broadcast_like(g, self.operands[0])]
        raise NotImplementedError("sc.fused is made by the optimizer after differentiation; differentiate the unfused graph")


@op("sc.yield", traits=(Pure, Terminator), results=0)
class Yield(Operation):
    """Terminates a fused body, giving its scalar value."""
    values = operand(variadic=True)

    @classmethod
    def infer(cls, types, attrs, values):
        return []
