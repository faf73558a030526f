"""Theano's function inputs and outputs with options: ``In``, ``Out``, ``Param`` (``theano/compile/io.py``).

``symcomp.function([x, In(y, value=2.0), In(s, value=0.0, update=s + x)], outputs)``:

* ``In(variable, value=v)``: an optional argument, ``v`` when not given;
* ``In(variable, value=v, update=expr)``: a state kept by the function between calls, starting
  at ``v``, replaced by ``expr`` after each call (a value given for it in a call replaces the
  state before the call);
* ``name``: the keyword the argument is passed by (default: the variable's name);
* ``f[name]``, ``f.value[variable]``, ``f.container[...]``: an input's current value, and the
  :class:`Container` holding it (keys: position, variable or name; shared variables too).

``Out(variable, borrow=False)`` marks an output; symcomp always returns arrays of its own
(never a view of internal storage), so ``borrow`` is accepted and changes nothing.
"""

from __future__ import annotations

import warnings
from typing import Callable, Optional

import numpy as np

from symcomp.ir.core import Value
from symcomp.shared import SharedVariable


class In:
    """A function input with options (Theano's ``In``).

    Args:
        variable: the symbolic input variable.
        name: the keyword to pass it by (default: ``variable.name`` when ``autoname``).
        value: a default value (the argument becomes optional), or with ``update`` the
            initial value of a state.
        update: an expression replacing the value after each call (a state).
        mutable: Theano's permission to overwrite the argument in place; symcomp never
            modifies arguments, so it changes nothing (default: True with an update).
        strict: accept only an ndarray of exactly the input's dtype (no conversion).
        allow_downcast: convert arguments even when precision may be lost (None: the
            function's ``allow_input_downcast``).
        autoname: take ``variable.name`` as the name when ``name`` is None.
        implicit: a value the caller may not pass (it needs ``value``).
        borrow: accepted (symcomp never aliases arguments and results).
        shared: Theano's internal flag, accepted.

    Raises:
        TypeError: for a name that is not a string, an update of another type, or an
            implicit input without a value.
        AssertionError: for ``mutable=True`` with ``borrow=False`` (as Theano).
    """

    def __init__(self, variable, name: Optional[str] = None, value=None, update=None, mutable: Optional[bool] = None,
                 strict: bool = False, allow_downcast: Optional[bool] = None, autoname: bool = True,
                 implicit: Optional[bool] = None, borrow: Optional[bool] = None, shared: bool = False):
        if not isinstance(variable, Value):
            raise TypeError(f"In: variable must be a symbolic variable, got {type(variable).__name__}")
        self.variable = variable
        self.name = variable.name if autoname and name is None else name
        if self.name is not None and not isinstance(self.name, str):
            raise TypeError(f"name must be a string! (got: {self.name!r})")
        self.update = update
        if update is not None:
            if not isinstance(update, Value):
                from symcomp.tensor.convert import as_value

                self.update = update = as_value(update)
            if not (variable.type == update.type):
                raise TypeError(f"Variable '{variable.name}' has type {variable.type} but an update of type "
                                f"{update.type}. The type of the update should be the same as the type of the variable")
        self.mutable = mutable if mutable is not None else update is not None
        self.borrow = self.mutable if borrow is None else borrow
        if mutable and not self.borrow:
            raise AssertionError(f"Symbolic input for variable {variable} (name={name}) has flags mutable=True, "
                                 "borrow=False. This combination is incompatible since mutable=True implies that the "
                                 "input variable may be both aliased (borrow=True) and overwritten.")
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.shared = shared
        self.value = value
        self.implicit = isinstance(value, (SharedVariable, Container)) if implicit is None else implicit
        if self.implicit and value is None:
            raise TypeError("An implicit input must be given a default value")

    def __repr__(self) -> str:
        if self.update is not None:
            return f"In({self.variable.name or self.variable} -> {self.update})"
        return f"In({self.variable.name or self.variable})"


SymbolicInput = In


class Param(In):
    """Deprecated in Theano: ``Param(variable, default=N)`` is ``In(variable, value=N)``."""

    def __init__(self, variable, default=None, name=None, mutable=False, strict=False, allow_downcast=None,
                 implicit=None, borrow=None):
        warnings.warn("The Param class is deprecated. Replace Param(default=N) by symcomp.In(value=N)",
                      stacklevel=2)  # a UserWarning, as Theano's
        super().__init__(variable, name=name, value=default, mutable=mutable, strict=strict,
                         allow_downcast=allow_downcast, implicit=implicit, borrow=borrow)


class Out:
    """A function output with options (Theano's ``Out``; ``borrow`` changes nothing in symcomp)."""

    def __init__(self, variable, borrow: bool = False):
        self.variable = variable
        self.borrow = borrow

    def __repr__(self) -> str:
        return f"Out({self.variable},{self.borrow})"


SymbolicOutput = Out


class Container:
    """Where a compiled function keeps one input's value (Theano's ``gof.Container``).

    Attributes:
        name: the input's name.
        storage: a one-element list holding the value (for a state or a shared variable, the
            shared variable's ``container``, looked up on each use: a backend may replace it,
            as the CUDA backend does with a list that keeps a device copy).
        implicit: the caller may not pass this input (shared variables).
        required: the input has no default (its value is None between calls).
    """

    def __init__(self, storage: Optional[list], setter: Callable, name: Optional[str], implicit: bool = False,
                 required: bool = False, variable=None, shared: Optional[SharedVariable] = None):
        self._storage = storage
        self._shared = shared
        self._setter = setter
        self.name = name
        self.implicit = implicit
        self.required = required
        self.variable = variable

    @property
    def storage(self) -> list:
        return self._shared.container if self._shared is not None else self._storage

    @property
    def value(self):
        """The current value (the stored object itself); setting it converts the new value as an
        argument of the function is converted."""
        return self.storage[0]

    @value.setter
    def value(self, v) -> None:
        self.storage[0] = self._setter(v)

    data = value

    def __repr__(self) -> str:
        return f"<{self.name or 'container'}: {self.storage[0]!r}>"


_DUPLICATE = object()


def info_on_inputs(named: list, n_unnamed: int) -> str:
    """Theano's description of which inputs can be passed by keyword (``get_info_on_inputs``)."""
    def plural(n):
        return "s" if n > 1 else ""

    if not named:
        if n_unnamed == 0:
            return "The function is supposed to have no input."
        if n_unnamed == 1:
            return ("The function has a single input variable which has no name, and thus cannot be assigned "
                    "through a keyword argument (use 'name=...' in a Variable's constructor to give it a name).")
        return (f"The function has {n_unnamed} inputs, but none of them is named, and thus they cannot be "
                "assigned through keyword arguments (use 'name=...' in a Variable's constructor to give it a name).")
    if n_unnamed == 0:
        return f"The function has {len(named)} named input{plural(len(named))} ({', '.join(named)})."
    return (f"The function has {len(named)} named input{plural(len(named))} ({', '.join(named)}), and {n_unnamed} "
            f"unnamed input{plural(n_unnamed)} which thus cannot be accessed through keyword argument"
            f"{plural(n_unnamed)} (use 'name=...' in a variable's constructor to give it a name).")


class Finder:
    """Theano's ``finder``: position, variable and name of an input -> its :class:`Container`."""

    def __init__(self):
        self._map: dict = {}
        self.named: list = []
        self.n_unnamed = 0

    def add(self, keys: list, container: Container, count_name: bool = True) -> None:
        for k in keys:
            if k is None:
                continue
            if isinstance(k, str) and k in self._map:
                self._map[k] = _DUPLICATE
            else:
                self._map[k] = container
        if count_name:
            if container.name is None:
                self.n_unnamed += 1
            else:
                self.named.append(container.name)

    def __contains__(self, key) -> bool:
        try:
            return key in self._map
        except TypeError:
            return False

    def get(self, key) -> Container:
        """The container of ``key``.

        Raises:
            TypeError: for an unknown key (with Theano's list of the named inputs) or a name
                that several inputs share.
        """
        try:
            c = self._map[key]
        except (KeyError, TypeError):
            raise TypeError(f"Unknown input or state: {key}. {info_on_inputs(self.named, self.n_unnamed)}") from None
        if c is _DUPLICATE:
            raise TypeError(f"Ambiguous name: {key} - please check the names of the inputs of your function for "
                            "duplicates.")
        return c


class ValueAttribute:
    """``f.value``: input values by position, variable or name (read and write)."""

    def __init__(self, finder: Finder):
        self._finder = finder

    def __getitem__(self, key):
        return self._finder.get(key).value

    def __setitem__(self, key, value) -> None:
        self._finder.get(key).value = value

    def __contains__(self, key) -> bool:
        return key in self._finder


class ContainerAttribute:
    """``f.container``: input containers by position, variable or name (read only)."""

    def __init__(self, finder: Finder):
        self._finder = finder

    def __getitem__(self, key) -> Container:
        return self._finder.get(key)

    def __contains__(self, key) -> bool:
        return key in self._finder


def owned(value, given) -> np.ndarray:
    """``value`` (an argument converted for a state) as an array the caller does not hold."""
    return value.copy() if value is given or (isinstance(given, np.ndarray) and np.shares_memory(value, given)) \
        else value
