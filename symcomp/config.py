"""Global settings: ``symcomp.config.floatX``, ``device``, ``num_threads``, ``mode``, ``cache``, ``tier_up``.

Each can also be set before import through the environment variable
``SYMCOMP_FLAGS`` (``SYMCOMP_FLAGS="floatX=float32,num_threads=1"``), as
Theano's ``THEANO_FLAGS``.
"""

from __future__ import annotations

import os

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
        for item in filter(None, os.environ.get("SYMCOMP_FLAGS", "").split(",")):
            key, _, value = item.partition("=")
            key = key.strip()
            if key in ("num_threads",):
                setattr(self, key, int(value))
            elif key in ("cache", "tier_up"):
                setattr(self, key, value.strip().lower() in ("1", "true", "yes", "on"))
            else:
                setattr(self, key, value.strip())

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


config = Config()
