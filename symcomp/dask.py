"""Scale-out with Dask: apply a compiled function blockwise to ``dask.array`` inputs.

:func:`map_blocks` reads the function's traced IR and accepts two forms:

* **elementwise**: every operation on the arrays is elementwise (casts and
  leading size-1 axes for broadcasting included).  The compiled function runs
  on each block; the result has the broadcast chunks of the inputs.
* **reduction**: ``post(R(E(arrays)))`` where ``E`` is elementwise, ``R`` one
  ``sum``, ``prod``, ``max`` or ``min`` over some axes, and ``post`` an
  elementwise function of ``R``'s result and of sizes and constants, as in
  ``mean(x) = sum(x) / count``.  Each block gives a partial ``R(E(block))``
  (a function compiled from the IR up to ``R``); Dask combines the partials
  with the same reduction (a tree over blocks: sums of partial sums, maxima of
  partial maxima...); ``post`` runs on the combined result, with every size
  it reads (``sc.dim``) replaced by the size of the *whole* array.  So
  ``mean`` is a sum of per-block sums divided by the global count, exactly.

Anything else (indexing, matrix products, two reductions, a reduction's result
combined with the arrays again) raises NotImplementedError naming the
operation: those do not decompose into independent blocks.

The compiled functions travel to the workers pickled (IR text, recompiled
once per worker process and reused for every block: see
:mod:`symcomp.compile.pickling`).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from symcomp.compile.function import Function, compile_module
from symcomp.compile.trace import Signature
from symcomp.ir.core import Placeholder, Value
from symcomp.ir.locations import where
from symcomp.ir.module import ReturnOp, new_func, new_module
from symcomp.ir.opdef import Elementwise, Positional
from symcomp.ir.ops.basic import Constant

_REDUCTIONS = {"sc.sum": "sum", "sc.prod": "prod", "sc.max": "max", "sc.min": "min"}
BLOCK, CONST, SHAPE, REDUCED = "block", "const", "shape", "reduced"


class _Blockwise:
    """The task callable of the elementwise form: the function on one block of each input."""

    def __init__(self, f: Function):
        self.f = f

    def __call__(self, *blocks):
        return self.f(*blocks)


class _Partial:
    """The task callable of a reduction's first step: the partial result of one block, reduced
    axes kept as size 1 (so the partials form an array with one entry per block along them)."""

    def __init__(self, f: Function, axes: tuple):
        self.f, self.axes = f, axes

    def __call__(self, *blocks):
        return np.expand_dims(self.f(*blocks), self.axes)


class _Analysis:
    """The classification of every value of the traced function (see the module docstring)."""

    def __init__(self, f: Function, func, shapes: list):
        self.f, self.func = f, func
        self.kind: dict[Value, str] = {}
        self.types: dict[Value, object] = {}
        self.reduction = None
        for a, s in zip(func.args, shapes):
            self.kind[a] = BLOCK
            self.types[a] = a.type.with_shape(s)
        for op in func.body.ops:
            if op.name != "func.return":
                self._classify(op)

    def _refuse(self, op, why: str):
        at = f" (created at {op.loc})" if op.loc else ""
        raise NotImplementedError(f"symcomp.dask.map_blocks cannot split {self.f.name} into blocks: {op.name}"
                                  f"{at} {why}")

    def _classify(self, op) -> None:
        kinds = {self.kind[v] for v in op.operands}
        if op.name == "sc.dim":
            if kinds == {REDUCED}:
                self._refuse(op, "reads a size of a reduction's result")
            self._result(op, SHAPE)
        elif op.name == "sc.constant":
            self._result(op, CONST)
        elif kinds <= {CONST, SHAPE}:
            self._result(op, SHAPE if SHAPE in kinds else CONST)
        elif BLOCK in kinds:
            if REDUCED in kinds:
                self._refuse(op, "combines a reduction's result with the arrays again (that needs two passes)")
            if SHAPE in kinds:
                self._refuse(op, "uses a size of an array inside the blockwise part (a block's sizes are not "
                                 "the array's)")
            if op.name in _REDUCTIONS:
                if self.reduction is not None:
                    self._refuse(op, f"is a second reduction (after {self.reduction.name}); one is supported")
                self.reduction = op
                self._result(op, REDUCED)
            elif Positional in op.traits:
                self._refuse(op, "depends on each element's position in the whole array (a random draw, "
                                 "sc.flat_index), which a block does not know")
            elif Elementwise in op.traits or (op.name == "sc.expand_dims"
                                              and tuple(op.axes) == tuple(range(len(op.axes)))):
                self._result(op, BLOCK)
            else:
                self._refuse(op, "is neither elementwise nor a sum/prod/max/min reduction")
        elif Elementwise in op.traits:
            self._result(op, REDUCED)
        elif op.name in _REDUCTIONS:
            self._refuse(op, f"is a second reduction (after {self.reduction.name}); one is supported")
        elif op.name == "sc.expand_dims":
            self._refuse(op, "adds axes to a reduction's result (keepdims, or broadcasting it against the "
                             "arrays again: that needs two passes)")
        else:
            self._refuse(op, "is applied to a reduction's result; only elementwise operations may follow it")

    def _result(self, op, kind: str) -> None:
        if kind in (BLOCK, REDUCED) or op.name == "sc.dim":
            try:
                types = op.infer_for([self.types[v] for v in op.operands], [None] * len(op.operands))
                op.check_broadcast([self.types[v].shape for v in op.operands], [None] * len(op.operands),
                                   [t.shape for t in types])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"symcomp.dask.map_blocks: the arrays do not fit {self.f.name}: {exc} "
                                 f"(in {where(op)})") from None
        else:
            types = [r.type for r in op.results]
        for r, t in zip(op.results, types):
            self.kind[r] = kind
            self.types[r] = t

    def global_size(self, dim_op) -> int:
        return self.types[dim_op.operands[0]].shape[dim_op.axis]


def _compile_part(f: Function, name: str, params: list, outputs: list, sizes=None) -> Function:
    """A function whose parameters stand for the traced values ``params`` and that returns ``outputs``,
    made of copies of the ops ``outputs`` need; with ``sizes``, each ``sc.dim`` becomes the constant
    ``sizes(dim_op)``."""
    func = new_func(name, [p.type for p in params], [p.name or f"p{i}" for i, p in enumerate(params)])
    mapping = dict(zip(params, func.args))

    def value(v: Value) -> Value:
        if v not in mapping:
            op = v.owner
            if op is not None and op.name == "sc.dim" and sizes is not None:
                new = Constant([], [v.type], {"value": np.asarray(sizes(op), dtype=v.type.dtype.np)}, loc=op.loc)
            else:
                new = op.clone({u: value(u) for u in op.operands})
            func.body.append(new)
            mapping.update(zip(op.results, new.results))
        return mapping[v]

    func.body.append(ReturnOp([value(v) for v in outputs], [], {}))
    sig = Signature(inputs=[Placeholder(a.type, a.name) for a in func.args], n_outputs=len(outputs))
    return compile_module(new_module([func]), sig, mode=f.mode, device=f.device, single_output=True)


def _check_function(f, arrays) -> None:
    if not isinstance(f, Function):
        raise TypeError(f"symcomp.dask.map_blocks applies a compiled symcomp.Function, got {type(f).__name__}")
    sig = f.signature
    if sig.shared or sig.updates:
        raise NotImplementedError(f"{f.name} reads or updates shared variables; map_blocks applies pure functions "
                                  "of its arguments (pass the values as arrays)")
    if sig.n_outputs != 1:
        raise NotImplementedError(f"{f.name} has {sig.n_outputs} outputs; map_blocks applies functions with one")
    if len(arrays) != len(sig.inputs):
        raise TypeError(f"{f.name} takes {len(sig.inputs)} arrays ({len(arrays)} given)")
    for i, (v, a) in enumerate(zip(sig.inputs, arrays)):
        label = f"input {i}" + (f" ({v.name})" if v.name else "")
        if a.ndim != v.type.ndim:
            raise ValueError(f"{f.name}: {label} has type {v.type}, got an array of rank {a.ndim}")
        if any(np.isnan(d) for d in a.shape):
            raise ValueError(f"{f.name}: {label} has unknown chunk sizes; call compute_chunk_sizes() first")


def _traced_func(f: Function):
    """``f``'s traced function, parsed from ``f.dump("traced")`` with the locations of the user's
    program on its ops (so errors point at the user's lines, not at the dumped text)."""
    from symcomp.ir.parser import parse

    module = parse(f.dump("traced"), f"<traced {f.name}>")
    ops = list(module.walk())
    locs = f.traced_locations
    if len(locs) == len(ops):
        for op, loc in zip(ops, locs):
            if loc is not None:
                op.loc = loc
    return module.func()


def map_blocks(f: Function, *arrays, name: Optional[str] = None):
    """Apply the compiled function ``f`` to Dask arrays, block by block.

    Args:
        f: a :class:`symcomp.Function` with one output and no shared variables,
            elementwise in its arguments or a reduction of such (module docstring).
        arrays: one ``dask.array.Array`` (or array-like, wrapped with
            ``dask.array.asarray``) per input of ``f``, of the input's rank; inputs
            broadcast as in ``f`` (a size-1 axis stretches against the other arrays').
        name: the Dask key prefix of the result (default: derived from ``f``'s IR and the inputs).

    Returns:
        A lazy ``dask.array.Array`` equal to ``f`` applied to the whole arrays.

    Raises:
        TypeError: if ``f`` is not a Function or the number of arrays is wrong.
        ValueError: for arrays of the wrong rank, with unknown chunk sizes, or whose shapes do not fit ``f``.
        NotImplementedError: if ``f`` does not split into independent blocks (the
            message names the operation), has several outputs or uses shared variables.
    """
    import dask.array as da
    from dask.base import tokenize

    from symcomp.compile.pickling import content_key

    arrays = [a if isinstance(a, da.Array) else da.asarray(a) for a in arrays]
    _check_function(f, arrays)
    func = _traced_func(f)
    info = _Analysis(f, func, [a.shape for a in arrays])
    out = func.return_op.operands[0]
    out_kind = info.kind[out]
    if out_kind not in (BLOCK, REDUCED):
        raise NotImplementedError(f"symcomp.dask.map_blocks: the output of {f.name} does not depend on the "
                                  "arrays' elements (it is a constant or a size)")
    name = name or f"symcomp-{f.name}-{tokenize(content_key(f), *arrays)}"
    dtype = out.type.dtype.np
    nd = out.type.ndim if out_kind == BLOCK else info.reduction.operands[0].type.ndim
    index = tuple(range(nd))

    def blockwise(fn, key: str, out_dtype, adjust_chunks=None):
        pairs = [x for a in arrays for x in (a, index[nd - a.ndim:])]  # NumPy's right alignment of ranks
        return da.blockwise(fn, index, *pairs, name=key, dtype=out_dtype, meta=np.empty((0,) * nd, out_dtype),
                            align_arrays=True, adjust_chunks=adjust_chunks)

    if out_kind == BLOCK:
        return blockwise(_Blockwise(f), name, dtype)
    red = info.reduction
    axes = tuple(red.axes)
    partial = _compile_part(f, f"{f.name}_partial", list(func.args), [red.result])
    rdtype = red.result.type.dtype.np
    # One partial per block, the reduced axes kept with size 1: chunks of 1 along them.
    partials = blockwise(_Partial(partial, axes), f"{name}-partial", rdtype, {ax: 1 for ax in axes})
    kind = _REDUCTIONS[red.name]
    combine = getattr(partials, kind)
    reduced = combine(axis=axes, dtype=rdtype) if kind in ("sum", "prod") else combine(axis=axes)
    if out is red.result:
        return reduced
    post = _compile_part(f, f"{f.name}_post", [red.result], [out], info.global_size)
    return da.map_blocks(_Blockwise(post), reduced, name=f"{name}-post", dtype=dtype,
                         meta=np.empty((0,) * out.type.ndim, dtype))
