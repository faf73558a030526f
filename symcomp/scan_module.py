"""``symcomp.scan_module`` (Theano's ``theano.scan_module``): symbolic loops.

Not yet supported: every name raises NotImplementedError when called (loops are the
control-flow work).
"""

from symcomp.tensor._pending import LOOPS, pending

globals().update(pending("symcomp.scan_module", LOOPS, "scan", "map", "reduce", "foldl", "foldr", "until",
                         "Scan"))
