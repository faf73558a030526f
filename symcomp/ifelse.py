"""``symcomp.ifelse`` (Theano's ``theano.ifelse``): a lazy symbolic branch.

Not yet supported: ``ifelse`` raises NotImplementedError when called (branches are the
control-flow work).  ``T.switch(cond, a, b)`` computes both sides and selects elementwise.
"""

from symcomp.tensor._pending import LOOPS, pending

globals().update(pending("symcomp.ifelse", LOOPS, "ifelse", "IfElse"))
