"""Global settings: ``symcomp.config.floatX``, ``device``, ``num_threads``, ``mode``, ``cache``, ``tier_up``.

Each can also be set before import through the environment variable
``SYMCOMP_FLAGS`` (``SYMCOMP_FLAGS="floatX=float32,num_threads=1"``), as
Theano's ``THEANO_FLAGS``.  When ``SYMCOMP_FLAGS`` is not set, ``THEANO_FLAGS``
itself is read, with the same syntax (comma-separated ``key=value`` entries, the
last one of a key winning), so a Theano user's environment carries over: its
``floatX``, ``device`` (``cpu``; ``cuda``, ``cuda0``, ``gpu``... mean ``cuda``)
and ``mode`` (``FAST_RUN``, ``FAST_COMPILE``, ``DebugMode``, ``NanGuardMode``)
apply; Theano's other flags, and values symcomp does not have (``floatX=float16``),
are ignored with a warning, as Theano warns about flags it does not recognise.
"""

from __future__ import annotations

import os
import re
import warnings

_CHOICES = {
    "floatX": ("float64", "float32"),
    "device": ("cpu", "cuda"),
    "mode": ("fast", "fast_compile", "reference", "debug", "nanguard", "mlir", "FAST_RUN", "FAST_COMPILE"),
}


class Config:
    """Validated settings.

    Attributes:
        floatX: default float dtype of new variables ('float64' or 'float32').
        device: default device of compiled functions ('cpu' or 'cuda').
        mode: default compilation mode ('fast', 'fast_compile', 'reference', 'debug', 'nanguard').
        num_threads: threads for large loops and matrix products (0 = all cores; always 1 in a
            child process forked after libgomp was loaded, which cannot use it again).
        cache: whether compiled object code is cached on disk.
        tier_up: whether a function too large for optimized machine code up front starts on
            quickly generated code and switches to optimized code compiled in a background
            thread (symcomp/backends/cpu/toolchain/tiering.py); False keeps the first code.
    """

    def __init__(self):
        object.__setattr__(self, "_values", {
            "floatX": "float64", "device": "cpu", "mode": "fast", "num_threads": 0, "cache": True,
            "tier_up": True,
        })
        object.__setattr__(self, "_listeners", {})
        if "SYMCOMP_FLAGS" in os.environ:
            for key, value in _entries("SYMCOMP_FLAGS"):
                self._set_flag(key, value)
        elif os.environ.get("THEANO_FLAGS", "").strip():
            self._read_theano_flags()

    def _set_flag(self, key: str, value: str) -> None:
        if key in ("num_threads",):
            setattr(self, key, int(value))
        elif key in ("cache", "tier_up"):
            setattr(self, key, value.lower() in ("1", "true", "yes", "on"))
        else:
            setattr(self, key, value)

    def _read_theano_flags(self) -> None:
        ignored = []
        for key, value in _entries("THEANO_FLAGS"):
            translated = _THEANO_VALUES.get(key, lambda v: v)(value) if key in self._values else None
            if translated is None:
                ignored.append(f"{key}={value}")
                continue
            try:
                self._set_flag(key, translated)
            except (ValueError, AttributeError):
                ignored.append(f"{key}={value}")
        if ignored:
            warnings.warn(f"THEANO_FLAGS: symcomp ignores {', '.join(ignored)} (it reads floatX, device, mode, "
                          f"num_threads, cache and tier_up; set SYMCOMP_FLAGS to give symcomp its own flags)",
                          stacklevel=3)

    def __getattr__(self, key):
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"symcomp.config has no setting {key!r}") from None

    def __setattr__(self, key, value):
        if key not in self._values:
            raise AttributeError(f"symcomp.config has no setting {key!r} (settings: {', '.join(self._values)})")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise ValueError(f"config.{key} must be one of {_CHOICES[key]}, got {value!r}")
        if key in ("cache", "tier_up") and not isinstance(value, bool):
            raise ValueError(f"config.{key} must be True or False, got {value!r}")
        if key == "num_threads" and (not isinstance(value, int) or value < 0):
            raise ValueError(f"config.num_threads must be an int >= 0 (0 = all cores), got {value!r}")
        self._values[key] = value
        for fn in self._listeners.get(key, ()):
            fn(value)

    def on_change(self, key: str, fn) -> None:
        """Call ``fn(new_value)`` whenever setting ``key`` is assigned (backends mirror settings
        such as ``num_threads`` into native code this way)."""
        if key not in self._values:
            raise AttributeError(f"symcomp.config has no setting {key!r}")
        self._listeners.setdefault(key, []).append(fn)

    def __repr__(self):
        return "Config(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


def _entries(variable: str) -> list[tuple[str, str]]:
    """The ``key=value`` entries of an environment variable (Theano's syntax; an entry without
    ``=`` is ignored with a warning, as Theano does)."""
    out = []
    for item in os.environ.get(variable, "").split(","):
        item = item.strip()
        if not item:
            continue
        key, eq, value = item.partition("=")
        if not eq:
            warnings.warn(f"{variable}: entry {item!r} has no value; ignored", stacklevel=4)
            continue
        out.append((key.strip(), value.strip()))
    return out


def _theano_device(value: str):
    if value == "cpu":
        return "cpu"
    return "cuda" if re.fullmatch(r"(cuda|gpu)\d*", value) else None


_THEANO_VALUES = {
    "device": _theano_device,
    "mode": lambda v: {"FAST_RUN": "fast", "FAST_COMPILE": "fast_compile", "DebugMode": "debug",
                       "DEBUG_MODE": "debug", "NanGuardMode": "nanguard"}.get(v, v),
}
"""THEANO_FLAGS values and what they mean for symcomp (None: symcomp has no such setting)."""


config = Config()
