"""A compiled function's Theano interface: optional arguments, states, keywords, ``f[name]``.

:func:`symcomp.function` turns its ``inputs`` (variables and :class:`~symcomp.compile.io.In`
objects) into :class:`InputMeta` records, one per argument, with :func:`split_inputs`:

* an input without ``update`` stays a parameter of the traced function; with ``value`` it is
  optional, and the default is restored after every call (Theano's "refeed");
* an input with ``update`` is a state: the function keeps it in a shared variable of its own
  (the traced program reads that instead of the input variable, and updates it), so
  ``f(..., s=v)`` sets the state before the call and the update replaces it after.

An :class:`Interface` holds the :class:`~symcomp.compile.io.Container` of each argument (and of
each shared variable the function reads) and runs a call with Theano's rules
(``theano/compile/function_module.py: Function.__call__``): positional arguments first, then
keywords by name, "Missing required input", "Multiple values for input", "Unknown input or
state" with the list of named inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from symcomp.compile.inputs import InputSpec
from symcomp.compile.io import (
    Container, ContainerAttribute, Finder, In, Out, ValueAttribute, owned,
)
from symcomp.ir.core import Value
from symcomp.shared import SharedVariable

_MISSING = object()


@dataclass
class InputMeta:
    """One argument of a compiled function.

    Attributes:
        name: the keyword it is passed by (None: positional only).
        kind: ``'param'`` (a parameter of the traced function, ``index`` among the inputs) or
            ``'state'`` (kept in the shared variable ``index`` of the signature).
        default: the converted default (a param with ``value``), or the initial state.
        required: no default: the caller must pass it.
        strict, allow_downcast, implicit: the ``In`` options.
        variable: the user's input variable (not pickled).
    """

    name: Optional[str]
    kind: str
    index: int
    default: Optional[np.ndarray] = None
    required: bool = True
    strict: bool = False
    allow_downcast: Optional[bool] = None
    implicit: bool = False
    variable: Optional[Value] = field(default=None, compare=False)
    shared: Optional[SharedVariable] = field(default=None, compare=False)

    def plain(self) -> bool:
        """True for an argument a call without this interface handles the same (no option)."""
        return (self.kind == "param" and self.required and not self.strict and self.allow_downcast is None
                and not self.implicit and self.name == (self.variable.name if self.variable is not None else self.name))

    def state(self) -> dict:
        """The picklable part."""
        return {k: getattr(self, k) for k in ("name", "kind", "index", "default", "required", "strict",
                                              "allow_downcast", "implicit")}


def as_in(item, position: int) -> In:
    """An element of ``function``'s ``inputs`` as an :class:`In` (Theano 1.0 accepts variables and
    ``In`` objects only).

    Raises:
        TypeError: for anything else.
    """
    if isinstance(item, In):
        return item
    if isinstance(item, Value):
        return In(item)
    raise TypeError(f"input {position}: expected a symbolic variable or symcomp.In, got {type(item).__name__} "
                    f"{item!r:.60}")


def as_output(item):
    """An output, :class:`Out` unwrapped (symcomp never returns internal storage: ``borrow`` is moot)."""
    return item.variable if isinstance(item, Out) else item


def split_inputs(inputs, allow_input_downcast: bool):
    """The arguments of ``function``'s ``inputs``.

    Returns:
        (metas, trace_inputs, states, givens): one :class:`InputMeta` per input; the variables
        that stay parameters; (shared variable, update expression) for each state; and
        {state variable: its shared variable} for tracing.

    Raises:
        TypeError: for a bad element, or a default/initial value that does not fit its variable.
    """
    ins = [as_in(item, k) for k, item in enumerate(inputs)]
    metas, trace_inputs, states, givens = [], [], [], {}
    for k, i in enumerate(ins):
        spec = _spec(i.variable, k, i.allow_downcast, allow_input_downcast)
        if isinstance(i.value, (SharedVariable, Container)):
            raise TypeError(f"input {k}: a shared variable or container as the value of In is not supported; "
                            "use the shared variable itself in the graph")
        default = None if i.value is None else spec.convert(i.value)
        common = dict(name=i.name, required=i.value is None, strict=i.strict, allow_downcast=i.allow_downcast,
                      implicit=i.implicit, variable=i.variable)
        if i.update is None:
            metas.append(InputMeta(kind="param", index=len(trace_inputs), default=default, **common))
            trace_inputs.append(i.variable)
            continue
        start = default if default is not None else np.zeros([1 if d is None else d for d in i.variable.type.shape],
                                                             i.variable.type.dtype.np)
        sv = SharedVariable(np.array(start, copy=True), i.name or i.variable.name or f"state_{k}",
                            i.variable.type.shape)
        givens[i.variable] = sv
        states.append((sv, i.update))
        metas.append(InputMeta(kind="state", index=-1, default=default, shared=sv, **common))
    return metas, trace_inputs, states, givens


def _spec(v: Value, k: int, own: Optional[bool], function_level: bool) -> InputSpec:
    return InputSpec.for_variable(v, k, function_level if own is None else own)


class Interface:
    """The arguments of one compiled function: containers, the finder, and Theano's call rules."""

    def __init__(self, metas: list, sig, allow_input_downcast: bool):
        self.metas = metas
        for m in metas:
            if m.shared is not None:
                m.index, m.shared = sig.shared.index(m.shared), None
        state_shared = {sig.shared[m.index] for m in metas if m.kind == "state"}
        self.finder = Finder()
        self.containers: list[Container] = []
        self.specs: list[InputSpec] = []
        for k, m in enumerate(metas):
            var = m.variable if m.variable is not None else (sig.inputs[m.index] if m.kind == "param" else None)
            spec = InputSpec(sig.inputs[m.index].type.plain() if m.kind == "param" else sig.shared[m.index].type.plain(),
                             f"input {k}" + (f" ({m.name})" if m.name else ""),
                             allow_input_downcast if m.allow_downcast is None else m.allow_downcast)
            self.specs.append(spec)
            if m.kind == "state":
                storage, shared = None, sig.shared[m.index]
                setter = (lambda spec: lambda v: owned(spec.convert(v), v))(spec)
            else:
                storage, shared = [m.default], None
                setter = spec.convert
            c = Container(storage, setter, m.name, implicit=m.implicit, required=m.required, variable=var,
                          shared=shared)
            c.index = k
            self.containers.append(c)
            self.finder.add([k, var, m.name], c)
        for j, sv in enumerate(sig.shared):
            if sv in state_shared:
                continue
            c = Container(None, (lambda sv: lambda v: (sv.set_value(v), sv.container[0])[1])(sv), sv.name,
                          implicit=True, required=False, variable=sv, shared=sv)
            c.index = None
            self.finder.add([len(metas) + j, sv, sv.name], c, count_name=False)
        self.value = ValueAttribute(self.finder)
        self.container = ContainerAttribute(self.finder)
        self.needs_python = not all(m.plain() for m in metas)

    def call(self, f, args: tuple, kwargs: dict):
        """Run ``f`` on Theano-style arguments.

        Raises:
            TypeError: too many arguments, an unknown or ambiguous keyword, a value given twice,
                a missing required input, a value for an implicit input, a strict input given
                something else than an ndarray of its dtype; and what the conversion raises.
            ValueError: from the conversion (rank, static size).
        """
        n = len(self.metas)
        if len(args) + len(kwargs) > n:
            raise TypeError(f"Too many parameters passed to {f.name}(): it takes at most {n} "
                            f"({len(args) + len(kwargs)} given)")
        given = list(args) + [_MISSING] * (n - len(args))
        for key, v in kwargs.items():
            c = self.finder.get(key)
            if c.index is None or c.implicit:
                raise TypeError(f"Tried to provide value for implicit input: {key}")
            if given[c.index] is not _MISSING:
                raise TypeError(f"Multiple values for input: {key}")
            given[c.index] = v
        params, new_states = [], []
        try:
            for m, c, spec, g in zip(self.metas, self.containers, self.specs, given):
                if g is not _MISSING and m.implicit:
                    raise TypeError(f"Tried to provide value for implicit input: {self._label(m)}")
                if g is _MISSING:
                    if m.required:
                        raise TypeError(f"Missing required input: {self._label(m)}")
                    if m.kind == "param":
                        params.append(c.value)
                    continue
                if m.strict and not (type(g) is np.ndarray and g.dtype == spec.type.dtype.np):
                    raise TypeError(f"{spec.label} is strict: expected an ndarray of dtype {spec.type.dtype.name}, "
                                    f"got {type(g).__name__}" + (f" of dtype {g.dtype}" if hasattr(g, "dtype") else ""))
                value = spec.convert(g)
                if m.kind == "param":
                    params.append(value)
                else:
                    new_states.append((c, owned(value, g)))
            for c, value in new_states:
                c.storage[0] = value
            return f._call_python(*params)
        finally:
            for m, c in zip(self.metas, self.containers):
                if m.kind == "param":
                    c.storage[0] = m.default

    @staticmethod
    def _label(m: InputMeta) -> str:
        if m.name:
            return m.name
        return repr(m.variable) if m.variable is not None else f"input {m.index}"

    def state(self) -> list:
        return [m.state() for m in self.metas]

    @staticmethod
    def from_state(state: list, sig, allow_input_downcast: bool) -> "Interface":
        return Interface([InputMeta(**s) for s in state], sig, allow_input_downcast)

    def copied(self, sig, allow_input_downcast: bool) -> "Interface":
        """The interface of a copy of the function, whose signature is ``sig`` (same positions)."""
        metas = [InputMeta(m.name, m.kind, m.index, m.default, m.required, m.strict, m.allow_downcast, m.implicit,
                           m.variable) for m in self.metas]
        return Interface(metas, sig, allow_input_downcast)
