"""``symcomp.printing`` (Theano's ``theano.printing``): looking at graphs.

* ``debugprint(obj)`` prints the IR of a compiled function (its optimized program) or of a
  symbolic graph (the traced program computing the given values from their free inputs).  The
  format is symcomp's IR text (docs/ir.md), not Theano's indented op tree;
* ``pp(var)`` / ``pprint(var)``: the graph of a value as a formula, ``((x ** 2) * 2)``;
* ``Print(message)(x)``: ``x``, printed (``message __str__ = value``) each time a function
  computes it (the ``sc.print`` op, :mod:`symcomp.ir.ops.printing`);
* ``pydotprint(obj, outfile)``: the graph as a picture, through pydot and Graphviz.
"""

from __future__ import annotations

import sys

from symcomp.compile.function import Function
from symcomp.compile.trace import trace
from symcomp.ir.core import Placeholder, Value, walk_graph
from symcomp.shared import SharedVariable
from symcomp.tensor.convert import as_value

__all__ = ["debugprint", "pp", "pprint", "Print", "pydotprint"]


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



class Print:
    """Theano's ``Print(message, attrs=("__str__",))``: ``Print("x is")(x)`` is ``x``, and a
    function computing it prints ``x is __str__ = [...]`` (one line per name of ``attrs``, e.g.
    ``"shape"``, ``"min"``) each time it runs, on the reference and CPU backends.  The gradient
    passes through.  Only the result printed is computed: keep using the returned value.

    Raises:
        NotImplementedError: for ``global_fn`` (a Python function cannot run inside compiled code).
    """

    def __init__(self, message: str = "", attrs=("__str__",), global_fn=None):
        if global_fn is not None:
            raise NotImplementedError("Print(global_fn=...) is not supported: symcomp prints with Theano's default "
                                      "format (message, attribute names and values)")
        if isinstance(attrs, str):
            attrs = (attrs,)
        self.message = str(message)
        self.attrs = tuple(attrs)

    def __call__(self, x):
        from symcomp.ir.opdef import build
        from symcomp.ir.ops.printing import Print as _PrintOp

        return build(_PrintOp, [as_value(x)], message=self.message, attrs=self.attrs)

    def __repr__(self):
        return f"Print{{{self.message}}}"


_INFIX = {"sc.add": ("+", 1), "sc.sub": ("-", 1), "sc.mul": ("*", 2), "sc.div": ("/", 2), "sc.floordiv": ("//", 2),
          "sc.mod": ("%", 2), "sc.pow": ("**", 3), "sc.eq": ("==", 0), "sc.ne": ("!=", 0), "sc.lt": ("<", 0),
          "sc.le": ("<=", 0), "sc.gt": (">", 0), "sc.ge": (">=", 0), "sc.and": ("&", 0), "sc.or": ("|", 0),
          "sc.xor": ("^", 0)}
_TRANSPARENT = {"sc.expand_dims", "sc.broadcast_to"}


def _const_text(v) -> str:
    import numpy as np

    arr = v.owner.attributes["value"]
    flat = np.asarray(arr).ravel()
    if flat.size and (flat == flat[0]).all() and (arr.size == 1 or arr.ndim <= 2 and arr.size <= 1):
        x = flat[0].item()
        return repr(x) if not isinstance(x, float) or not x.is_integer() else str(int(x)) if abs(x) < 1e16 else repr(x)
    text = np.array2string(np.asarray(arr), separator=", ")
    return f"TensorConstant{{{text}}}" if len(text) < 60 else f"TensorConstant{{{arr.dtype}, shape={arr.shape}}}"


def _formula(v, names: dict) -> str:
    """The formula of value ``v`` (leaves by name, constants by value)."""
    o = v.owner
    if o is None:
        if v not in names:
            names[v] = v.name or f"<{v.type}>"
        return names[v]
    if o.name == "sc.constant":
        return _const_text(v)
    if o.name in _TRANSPARENT:  # Theano's pp does not show a broadcast either
        return _formula(o.operands[0], names)
    args = [_formula(a, names) for a in o.operands]
    if o.name == "sc.fused":  # the loop body's formula, its arguments replaced by the operands'
        block = o.regions[0].blocks[0]
        inner = dict(names)
        for arg, text in zip(block.args, args):
            inner[arg] = text
        body = _formula(next(b for b in block.ops if b.name == "sc.yield").operands[0], inner)
        reduce = o.attributes.get("reduce", "")
        return f"{reduce}({body}, axes={list(o.attributes.get('axes', ()))})" if reduce else body
    if o.name in _INFIX and len(args) == 2:
        return f"({args[0]} {_INFIX[o.name][0]} {args[1]})"
    if o.name == "sc.neg":
        return f"(-{args[0]})"
    if o.name == "sc.transpose" and list(o.attributes.get("perm", ())) == [1, 0]:
        return f"{args[0]}.T"
    if o.name == "sc.cast":
        return f"{o.attributes['dtype'].name}({args[0]})"
    if o.name == "sc.dim":
        return f"{args[0]}.shape[{o.attributes['axis']}]"
    if o.name == "sc.print":
        return f"Print{{{o.attributes['message']}}}({args[0]})"
    attrs = ", ".join(f"{k}={_attr_text(val)}" for k, val in o.attributes.items() if "." not in k)
    name = o.name.split(".", 1)[1]
    inner = ", ".join(args + ([attrs] if attrs else []))
    if len(o.results) > 1:
        return f"{name}({inner})[{list(o.results).index(v)}]"
    return f"{name}({inner})"


def _attr_text(val) -> str:
    if isinstance(val, tuple):
        return "[" + ", ".join(_attr_text(x) for x in val) + "]"
    if isinstance(val, str):
        return repr(val)
    return str(getattr(val, "name", val))


def pp(*values) -> str:
    """The graph of each value as a formula, one per line (Theano's ``pp`` / ``theano.pp``):
    ``pp((x ** 2) * 2)`` is ``'((x ** 2) * 2)'``.  Leaves print as their names, scalar constants
    as their values, elementwise arithmetic and comparisons infix, other ops as
    ``name(operands, attributes)``; broadcasting a constant is not shown.  A compiled function
    gives the formulas of its optimized outputs.

    Raises:
        TypeError: for an object that is neither a Function nor symbolic values.
    """
    if len(values) == 1 and isinstance(values[0], Function):
        return "\n".join(_function_formulas(values[0]))
    outs = []
    for v in values:
        for w in (v if isinstance(v, (list, tuple)) else [v]):
            if not isinstance(w, Value):
                raise TypeError(f"pp: expected symbolic values or a symcomp.Function, got {type(w).__name__}")
            outs.append(w)
    names: dict = {}
    return "\n".join(_formula(w, names) for w in outs)


def _function_formulas(f) -> list:
    func = _module_of(f).func()
    names = {a: (a.name or f"arg{i}") for i, a in enumerate(func.args)}
    return [_formula(v, names) for v in func.return_op.operands]


class _PPrinter:
    """Theano's ``pprint`` object: ``pprint(var)`` returns the formula (as ``pp``)."""

    def __call__(self, *values) -> str:
        return pp(*values)

    def process(self, value, pstate=None) -> str:
        return pp(value)


pprint = _PPrinter()


def pydotprint(fct, outfile=None, compact: bool = True, format: str = "png", with_ids: bool = False,
               print_output_file: bool = True, return_image: bool = False, **theano_options):
    """Draw the graph of ``fct`` (a Function: its optimized IR; or symbolic values) with pydot
    and Graphviz (Theano's ``pydotprint``): one box per op, one ellipse per input and output,
    edges labelled with types.

    Args:
        fct: a Function, a value or a list of values.
        outfile: the file written (default ``symcomp.pydotprint.<format>`` in the working directory).
        format: a Graphviz format (``png``, ``svg``, ``pdf``...; ``dot`` writes the source, which
            needs no Graphviz program).
        return_image: return the image's bytes instead of writing a file.
        compact, with_ids, theano_options: accepted for compatibility (``colorCodes``, ``scan_graphs``...).

    Raises:
        ImportError: when pydot is not installed (``pip install pydot``, and Graphviz's ``dot``
            program for pictures).
    """
    try:
        import pydot
    except ImportError:
        raise ImportError("pydotprint needs the pydot package (pip install pydot) and, for pictures, Graphviz's "
                          "'dot' program (https://graphviz.org); symcomp.printing.debugprint and pp need neither") \
            from None
    module = _module_of(fct)
    func = module.func()
    g = pydot.Dot(graph_type="digraph", rankdir="TB")
    ids: dict = {}

    def node_of(v, label, shape, color):
        if id(v) not in ids:
            ids[id(v)] = f"n{len(ids)}"
            g.add_node(pydot.Node(ids[id(v)], label=label, shape=shape, style="filled", fillcolor=color))
        return ids[id(v)]

    for i, a in enumerate(func.args):
        node_of(a, a.name or f"arg{i}", "ellipse", "limegreen")
    for k, op in enumerate(func.body.ops):
        if op.name == "func.return":
            for j, v in enumerate(op.operands):
                out = pydot.Node(f"out{j}", label=f"output {j}\n{v.type}", shape="ellipse", style="filled",
                                 fillcolor="dodgerblue")
                g.add_node(out)
                g.add_edge(pydot.Edge(ids.get(id(v), "?"), f"out{j}"))
            continue
        label = op.name + (f" #{k}" if with_ids else "")
        name = node_of(op, label, "box", "cyan" if op.name != "sc.constant" else "lightgrey")
        for v in op.results:
            ids[id(v)] = name
        for v in op.operands:
            src = ids.get(id(v))
            if src is not None:
                g.add_edge(pydot.Edge(src, name, label=str(v.type)))
    if return_image:
        return g.create(format=format)
    outfile = outfile or f"symcomp.pydotprint.{format}"
    if format == "dot":
        g.write_raw(outfile)
    else:
        g.write(outfile, format=format)
    if print_output_file:
        print("The output file is available at", outfile)
    return None


def _module_of(obj):
    from symcomp.ir.parser import parse

    if isinstance(obj, Function):
        return parse(obj.dump("optimized"))
    outs = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    if not all(isinstance(o, Value) for o in outs):
        raise TypeError(f"expected a symcomp.Function or symbolic values, got {type(obj).__name__}")
    outs = [as_value(o) for o in outs]
    module, _ = trace(_free_inputs(outs), outs, on_unused_input="ignore", name="graph")
    return module
