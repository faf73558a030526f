"""Third-party passes and backends, found through Python entry points (``importlib.metadata``).

A package extends symcomp by declaring entry points in its ``pyproject.toml``::

    [project.entry-points."symcomp.passes"]
    my-pass = "my_package.passes:MyPass"      # a ModulePass subclass whose name is "my-pass"

    [project.entry-points."symcomp.backends"]
    my-mode = "my_package.backend:MODE"       # a symcomp.compile.modes.Mode named "my-mode"

Nothing is imported until it is needed: a pipeline naming an unknown pass
loads the entry point of that name (:func:`load_pass`), ``mode="my-mode"``
loads that mode (:func:`load_mode`), and only listing every pass
(``symcomp-opt --help``/``--list-passes``) loads every pass plugin.  A
plugin that fails to load is reported with the distribution and entry point
at fault: an error when it was asked for by name, a warning when listing.
"""

from __future__ import annotations

import warnings
from importlib import metadata
from typing import Optional

PASS_GROUP = "symcomp.passes"
BACKEND_GROUP = "symcomp.backends"


class PluginError(ImportError):
    """A plugin's entry point could not be loaded, or gave an object of the wrong kind."""


def _entry_points(group: str) -> list:
    return list(metadata.entry_points(group=group))


def _describe(ep) -> str:
    dist = getattr(ep, "dist", None)
    owner = f"{dist.name} {dist.version}" if dist is not None else "an installed package"
    return f"entry point {ep.name} = {ep.value} (group {ep.group}, from {owner})"


def _load(ep, what: str, check):
    try:
        obj = ep.load()
    except Exception as exc:  # a plugin's import can fail in any way; report whose it is
        raise PluginError(f"cannot load {what} from {_describe(ep)}: {type(exc).__name__}: {exc}") from exc
    problem = check(obj)
    if problem:
        raise PluginError(f"{_describe(ep)} {problem}")
    return obj


def _check_pass(name: str):
    from symcomp.passes.manager import ModulePass

    def check(obj) -> Optional[str]:
        if not (isinstance(obj, type) and issubclass(obj, ModulePass)):
            return f"gives {obj!r:.60}, not a ModulePass subclass"
        if obj.name != name:
            return f"gives pass {obj.name!r}; the entry point's name must be the pass's name"
        return None

    return check


def _register_pass(ep):
    from symcomp.passes.manager import PASSES, register_pass

    cls = _load(ep, "a pass", _check_pass(ep.name))
    if PASSES.get(ep.name) is not cls:
        try:
            register_pass(cls)
        except ValueError as exc:
            raise PluginError(f"{_describe(ep)}: {exc}") from None
    return cls


def load_pass(name: str):
    """The pass class a plugin provides under ``name``, registered; None if no plugin has that name.

    Raises:
        PluginError: if the plugin fails to load or does not give a ModulePass named ``name``.
    """
    for ep in _entry_points(PASS_GROUP):
        if ep.name == name:
            return _register_pass(ep)
    return None


def load_all_passes() -> None:
    """Load and register every pass plugin (for listings); a broken one is skipped with a warning."""
    from symcomp.passes.manager import PASSES

    for ep in _entry_points(PASS_GROUP):
        if ep.name in PASSES:
            continue
        try:
            _register_pass(ep)
        except PluginError as exc:
            warnings.warn(str(exc), RuntimeWarning, stacklevel=2)


def mode_names() -> list[str]:
    """Names of the modes plugins provide (nothing is imported)."""
    return sorted({ep.name for ep in _entry_points(BACKEND_GROUP)})


def load_mode(name: str):
    """Load and register the mode a plugin provides under ``name``; None if no plugin has that name.

    Raises:
        PluginError: if the plugin fails to load or does not give a ``Mode`` named ``name``.
    """
    from symcomp.compile.modes import Mode, register_mode

    def check(obj) -> Optional[str]:
        if not isinstance(obj, Mode):
            return f"gives {obj!r:.60}, not a symcomp.compile.modes.Mode"
        if obj.name != name:
            return f"gives mode {obj.name!r}; the entry point's name must be the mode's name"
        return None

    for ep in _entry_points(BACKEND_GROUP):
        if ep.name == name:
            mode = _load(ep, "a backend", check)
            register_mode(mode)
            return mode
    return None
