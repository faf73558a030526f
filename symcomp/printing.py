"""``symcomp.printing`` (Theano's ``theano.printing``): looking at graphs.

* ``debugprint(obj)`` prints the IR of a compiled function (its optimized program) or of a
  symbolic graph (the traced program computing the given values from their free inputs).  The
  format is symcomp's IR text (docs/ir.md), not Theano's indented op tree;
* ``pprint``/``pp`` (a math-like formula), ``pydotprint`` (a picture) and ``Print`` (an op
  printing a value while the function runs) are not built yet: they raise NotImplementedError.
"""

from __future__ import annotations

import sys

from symcomp.compile.function import Function
from symcomp.compile.trace import trace
from symcomp.ir.core import Placeholder, Value, walk_graph
from symcomp.shared import SharedVariable
from symcomp.tensor._pending import pending as _pending
from symcomp.tensor.convert import as_value

__all__ = ["debugprint"]


def debugprint(obj, depth: int = -1, print_type: bool = False, file=None, **theano_options):
    """Print the IR of ``obj``: a :class:`~symcomp.Function`, a symbolic value or a list of them.

    Args:
        obj: a compiled function (its optimized IR), or values (the IR of a function computing
            them from the free input variables of their graph, in the order first met, with the
            shared variables they read).
        file: None (standard output), a file object, or ``'str'`` to return the text.
        depth, print_type, theano_options: Theano's other options (``ids``, ``stop_on_name``...);
            accepted for compatibility, without effect (the IR shows every op and every type).

    Returns:
        The text when ``file='str'``, else the file written to.

    Raises:
        TypeError: for an object that is neither a Function nor symbolic values.
    """
    if isinstance(obj, Function):
        text = obj.dump("optimized")
    else:
        outs = list(obj) if isinstance(obj, (list, tuple)) else [obj]
        if not all(isinstance(o, Value) for o in outs):
            raise TypeError(f"debugprint: expected a symcomp.Function or symbolic values, got {type(obj).__name__}")
        outs = [as_value(o) for o in outs]
        module, _ = trace(_free_inputs(outs), outs, on_unused_input="ignore", name="graph")
        text = str(module)
    if file == "str":
        return text
    out = sys.stdout if file is None else file
    print(text, file=out)
    return out


def _free_inputs(outs: list) -> list:
    """The input variables (not shared) the values depend on, in the order the graph meets them."""
    found: dict = {}
    for v in outs:
        if isinstance(v, Placeholder) and not isinstance(v, SharedVariable):
            found.setdefault(v, None)
    for op in walk_graph(outs):
        for v in op.operands:
            if isinstance(v, Placeholder) and not isinstance(v, SharedVariable):
                found.setdefault(v, None)
    return list(found)


globals().update(_pending("symcomp.printing", "not built yet", "pprint", "pp", "pydotprint", "Print"))
