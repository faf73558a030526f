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

from symcomp.ir import types as T
from symcomp.ir.core import Operation
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
        from symcomp.backends.reference import evaluate_fused

        return evaluate_fused(self, arrays)

    def vjp(self, grads):
        """Defined for a plain sum (one operand, an identity body, ``reduce = add``: what the
        stabilize rules build for log-sum-exp); other fused ops are made after differentiation."""
        ops = list(self.body.ops)
        if (self.reduce == "add" and len(self.operands) == 1 and len(ops) == 1
                and ops[0].operands[0] is self.body.args[0] and self.operands[0].type.dtype.is_float):
            from symcomp import tensor as Tn

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
