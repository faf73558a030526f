"""Partitioning a PyTensor ``FunctionGraph``: what symcomp converts runs compiled, the rest on PyTensor.

The nodes are visited in PyTensor's topological order.  Each gets a *stage*: the latest stage of
its inputs (the graph's inputs are stage 0).  A node symcomp converts
(:func:`symcomp.pytensor.dispatch.symcomp_convert`) joins the symcomp graph of its stage; a node it
cannot convert runs on PyTensor's own implementation of the Op (its C code when PyTensor has one,
else ``perform``: what PyTensor's default linker runs) and its outputs belong to the next stage.
At run time the program executes, stage after stage, the PyTensor nodes of the stage and then
the stage's symcomp function (one native call), so each symcomp function is as large as the
unconvertible nodes allow and no cycle can arise.  A whole graph that converts is one symcomp
function called directly.

This is the idea of :mod:`symcomp.torch_backend.partition` (compile the maximal supported parts,
leave the rest to the host framework, report which is which) for PyTensor's graphs, which carry
no partitioner of their own.
"""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from pytensor.graph.basic import Constant
from pytensor.scalar.basic import ScalarType
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.type import TensorType

from symcomp import tensor as T
from symcomp.compile.function import function
from symcomp.pytensor.dispatch import SUPPORTED_DTYPES, ConversionError, symcomp_convert

_ENV: list = []


def current_env() -> Optional[dict]:
    """The PyTensor variable -> symcomp value map of the stage being converted (for rules that read
    through an input's producer, such as a ``MakeVector`` shape)."""
    return _ENV[-1] if _ENV else None


@dataclass
class Report:
    """What a compiled PyTensor function became.

    Attributes:
        compiled: the Apply nodes symcomp computes (printed, in PyTensor's order).
        fallback: ``(node, reason)`` for each node that runs on PyTensor's default linker.
        functions: the number of symcomp functions (one per stage with converted nodes).
    """

    compiled: list = field(default_factory=list)
    fallback: list = field(default_factory=list)
    functions: int = 0

    def __str__(self) -> str:
        lines = [f"symcomp: {len(self.compiled)} nodes compiled in {self.functions} symcomp function(s), "
                 f"{len(self.fallback)} on PyTensor's default linker"]
        lines += [f"  fallback: {node}: {reason}" for node, reason in self.fallback]
        return "\n".join(lines)


def _placeholder(var):
    t = var.type
    if not isinstance(t, (TensorType, ScalarType)):
        raise ConversionError(f"input {var} of type {t} is not a tensor")
    if t.dtype not in SUPPORTED_DTYPES:
        raise ConversionError(f"input {var} has dtype {t.dtype}, which symcomp does not support")
    shape = tuple(t.shape) if isinstance(t, TensorType) else ()
    return T.tensor(t.dtype, shape=shape, name=str(var.name or "x"))


def _constant(var):
    t = var.type
    if isinstance(t, (TensorType, ScalarType)):
        if t.dtype not in SUPPORTED_DTYPES:
            raise ConversionError(f"constant {var} has dtype {t.dtype}")
        return T.constant(np.asarray(var.data, dtype=t.dtype))
    data = var.data
    if data is None or isinstance(data, slice):
        return data
    raise ConversionError(f"constant {var} of type {t}")


class _Stage:
    def __init__(self, index: int):
        self.index = index
        self.env: dict = {}
        self.inputs: list = []  # (PyTensor variable, placeholder)
        self.nodes: list = []
        self.outputs: list = []
        self.fn = None

    def value(self, var, needed: set):
        """``var``'s symcomp value in this stage: converted already, a constant, or a new placeholder
        (an input of the stage's function, which ``needed`` records)."""
        if var in self.env:
            return self.env[var]
        if isinstance(var, Constant):
            v = self.env[var] = _constant(var)
            return v
        ph = _placeholder(var)
        self.inputs.append((var, ph))
        self.env[var] = ph
        needed.add(var)
        return ph


def _plan(fgraph, forced: dict):
    """Assign stages and convert; ``forced`` maps nodes to the reason they must fall back."""
    order = fgraph.toposort()
    position = {n: i for i, n in enumerate(order)}
    stage_of = {v: 0 for v in fgraph.inputs}
    stages: dict[int, _Stage] = {}
    producer: dict = {}  # variable -> stage that computes it with symcomp
    needed: set = set()  # variables some stage or PyTensor node reads from another step
    fallback: dict = {}  # node -> (stage, reason)
    first = stages[0] = _Stage(0)
    for v in fgraph.inputs:  # stage 0 takes the graph's inputs in order (the direct call needs it)
        try:
            first.value(v, needed)
        except ConversionError:
            pass
    for node in order:
        s = max((stage_of[v] for v in node.inputs if not isinstance(v, Constant)), default=0)
        st = stages.setdefault(s, _Stage(s))
        mark = (len(st.inputs), len(st.env))  # to undo a failed attempt (dicts keep insertion order)
        try:
            if node in forced:
                raise ConversionError(forced[node])
            if isinstance(node.op, RandomVariable):
                raise ConversionError("RandomVariable: PyTensor's random draws run on PyTensor (symcomp's random "
                                      "streams are not wired to PyTensor's generators yet)")
            ins = [st.value(v, needed) for v in node.inputs]
            _ENV.append(st.env)
            try:
                outs = symcomp_convert(node.op, node, *ins)
            finally:
                _ENV.pop()
            if len(outs) != len(node.outputs):
                raise ConversionError(f"{len(outs)} converted values for {len(node.outputs)} outputs")
        except (ConversionError, NotImplementedError, TypeError, ValueError, IndexError) as exc:
            del st.inputs[mark[0]:]
            for k in list(st.env)[mark[1]:]:
                del st.env[k]
            fallback[node] = (s + 1, f"{type(exc).__name__}: {exc}" if not isinstance(exc, ConversionError)
                              else str(exc))
            for o in node.outputs:
                stage_of[o] = s + 1
            continue
        for o, v in zip(node.outputs, outs):
            st.env[o] = v
            stage_of[o] = s
            producer[o] = st
        st.nodes.append(node)
    # A PyTensor node reading a value symcomp keeps as a Python object (a slice) runs its producer too.
    changed = True
    while changed:
        changed = False
        for node, (s, _) in list(fallback.items()):
            for v in node.inputs:
                st = producer.get(v)
                if st is not None and not isinstance(st.env[v], T.TensorVariable) and v.owner not in fallback:
                    fallback[v.owner] = (s, "its result (not a tensor) is read by a node PyTensor runs")
                    changed = True
    for node, _ in fallback.items():
        needed.update(v for v in node.inputs if not isinstance(v, Constant))
    needed.update(fgraph.outputs)
    for st in stages.values():
        st.nodes = [n for n in st.nodes if n not in fallback]
        st.outputs = [v for v in dict.fromkeys(needed) if producer.get(v) is st and st.env.get(v) is not None
                      and isinstance(st.env[v], T.TensorVariable) and v not in dict(st.inputs)]
    return order, position, stages, fallback


class SymcompProgram:
    """A PyTensor ``FunctionGraph`` compiled by symcomp, partitioned where needed: called with the
    graph's input values in order, returns the list of its output values.

    Attributes:
        report: the :class:`Report`.
    """

    def __init__(self, fgraph, mode=None, warn: bool = False):
        self.fgraph = fgraph
        self.report = Report()
        forced: dict = {}
        for _ in range(64):  # each round moves a stage that failed to compile to PyTensor: few rounds
            order, position, stages, fallback = _plan(fgraph, forced)
            failed = self._compile(stages, mode)
            if failed is None:
                break
            st, exc = failed
            for n in st.nodes:
                forced[n] = f"its symcomp function failed to compile: {type(exc).__name__}: {exc}"
        else:
            raise RuntimeError("symcomp.pytensor: the partition did not settle")
        self.report.compiled = [str(n) for st in stages.values() for n in st.nodes]
        self.report.fallback = [(str(n), why) for n, (_, why) in fallback.items()]
        self.report.functions = sum(1 for st in stages.values() if st.fn is not None)
        if warn and fallback:
            warnings.warn(str(self.report), RuntimeWarning, stacklevel=3)
        self._build_steps(order, position, stages, fallback)

    @staticmethod
    def _compile(stages, mode):
        for st in sorted(stages.values(), key=lambda s: s.index):
            if not st.outputs:
                continue
            try:
                st.fn = function([ph for _, ph in st.inputs], [st.env[v] for v in st.outputs], mode=mode,
                                 on_unused_input="ignore", name=f"pytensor_stage{st.index}")
            except (ConversionError, NotImplementedError, TypeError, ValueError, IndexError) as exc:
                return st, exc
        return None

    def _build_steps(self, order, position, stages, fallback):
        fg = self.fgraph
        inputs = list(fg.inputs)
        outputs = list(fg.outputs)
        live = [st for st in stages.values() if st.fn is not None]
        if not fallback and len(live) == 1 and all(not isinstance(o, Constant) for o in outputs):
            st = live[0]
            if [v for v, _ in st.inputs] == inputs and st.outputs == outputs and not _scalar_outputs(outputs):
                self._call = st.fn  # the whole graph is one symcomp function with the same signature
                return
        steps = []
        cells: dict = {}
        for k in sorted(set(stages) | {s for s, _ in fallback.values()}):
            for node in sorted((n for n, (s, _) in fallback.items() if s == k), key=position.__getitem__):
                steps.append(self._pytensor_step(node, cells))
            st = stages.get(k)
            if st is not None and st.fn is not None:
                steps.append(self._symcomp_step(st))
        consts = {o: o.data for o in outputs if isinstance(o, Constant)}

        def run(*args):
            vals = dict(zip(inputs, args))
            for step in steps:
                step(vals)
            return [consts[o] if o in consts else vals[o] for o in outputs]

        self._call = run

    @staticmethod
    def _symcomp_step(st):
        fn = st.fn
        ins = [v for v, _ in st.inputs]
        outs = st.outputs
        scalar = [isinstance(v.type, ScalarType) for v in outs]
        get = operator.itemgetter(*ins) if ins else None

        def step(vals):
            args = () if get is None else (get(vals) if len(ins) > 1 else (get(vals),))
            res = fn(*args)
            for v, r, sc in zip(outs, res, scalar):
                vals[v] = r[()] if sc else r

        return step

    @staticmethod
    def _pytensor_step(node, cells):
        compute = {}
        for v in node.inputs + node.outputs:
            if v not in cells:
                cells[v] = [v.data if isinstance(v, Constant) else None]
            compute[v] = [isinstance(v, Constant) or v in node.inputs]
        thunk = node.op.make_thunk(node, cells, compute, no_recycling=[])
        ins = [v for v in node.inputs if not isinstance(v, Constant)]
        in_cells = [cells[v] for v in ins]
        out_cells = [(v, cells[v]) for v in node.outputs]

        def step(vals):
            for c, v in zip(in_cells, ins):
                c[0] = vals[v]
            for _, c in out_cells:
                c[0] = None
            thunk()
            for v, c in out_cells:
                vals[v] = c[0]

        return step

    def __call__(self, *args):
        return self._call(*args)


def _scalar_outputs(outputs) -> bool:
    return any(isinstance(o.type, ScalarType) for o in outputs)
