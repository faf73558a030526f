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

This module only finds and loads entry points, and imports nothing else of symcomp: the pass
manager (:mod:`symcomp.passes.manager`) checks and registers the passes it loads, and the modes
(:mod:`symcomp.compile.modes`) the backends, so that each layer extends only itself.
"""

from __future__ import annotations

from importlib import metadata
from typing import Callable, Optional

PASS_GROUP = "symcomp.passes"
BACKEND_GROUP = "symcomp.backends"


class PluginError(ImportError):
    """A plugin's entry point could not be loaded, or gave an object of the wrong kind."""


def entry_points(group: str) -> list:
    """The installed entry points of ``group`` (nothing is imported)."""
    return list(metadata.entry_points(group=group))


def find(group: str, name: str):
    """The entry point called ``name`` in ``group``, or None."""
    for ep in entry_points(group):
        if ep.name == name:
            return ep
    return None


def describe(ep) -> str:
    """``entry point NAME = VALUE (group G, from DIST VERSION)``, for messages that name the culprit."""
    dist = getattr(ep, "dist", None)
    owner = f"{dist.name} {dist.version}" if dist is not None else "an installed package"
    return f"entry point {ep.name} = {ep.value} (group {ep.group}, from {owner})"


def load(ep, what: str, check: Callable[[object], Optional[str]]):
    """The object ``ep`` names, if ``check`` finds no problem with it.

    Args:
        ep: an entry point (``importlib.metadata.EntryPoint``).
        what: what it should give, for messages ("a pass").
        check: returns None for a good object, else what is wrong with it.

    Raises:
        PluginError: naming the entry point and its distribution, when the import fails or
            ``check`` reports a problem.
    """
    try:
        obj = ep.load()
    except Exception as exc:  # a plugin's import can fail in any way; report whose it is
        raise PluginError(f"cannot load {what} from {describe(ep)}: {type(exc).__name__}: {exc}") from exc
    problem = check(obj)
    if problem:
        raise PluginError(f"{describe(ep)} {problem}")
    return obj
