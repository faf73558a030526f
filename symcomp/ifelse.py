"""``symcomp.ifelse`` (Theano's ``theano.ifelse``): a lazy symbolic branch.

``ifelse(cond, then, else)`` evaluates only the branch taken (:mod:`symcomp.tensor.ifelse`);
``T.switch(cond, a, b)`` computes both sides and selects elementwise.
"""

from symcomp.ir.ops.control import If as IfElse
from symcomp.tensor.ifelse import ifelse

__all__ = ["ifelse", "IfElse"]
