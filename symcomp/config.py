"""Global settings: ``symcomp.config.floatX``, ``device``, ``num_threads``, ``mode``, ``cache``, ``tier_up``,
and Theano's ``warn.*`` flags.

Each can also be set before import through the environment variable
``SYMCOMP_FLAGS`` (``SYMCOMP_FLAGS="floatX=float32,num_threads=1,warn.round=False"``), as
Theano's ``THEANO_FLAGS``.  When ``SYMCOMP_FLAGS`` is not set, ``THEANO_FLAGS``
itself is read, with the same syntax (comma-separated ``key=value`` entries, the
last one of a key winning), so a Theano user's environment carries over: its
``floatX``, ``device`` (``cpu``; ``cuda``, ``cuda0``, ``gpu``... mean ``cuda``)
and ``mode`` (``FAST_RUN``, ``FAST_COMPILE``, ``DebugMode``, ``NanGuardMode``)
and ``warn.*`` flags apply; Theano's other flags, and values symcomp does not have (``floatX=float16``),
are ignored with a warning, as Theano warns about flags it does not recognise.
"""

from __future__ import annotations

import os
import re
import warnings

_CHOICES = {
    "floatX": ("float64", "float32"),
    "device": ("cpu", "cuda"),
    "mode": ("fast", "fast_compile", "reference", "debug", "nanguard", "mlir", "FAST_RUN", "FAST_COMPILE",
             "DebugMode", "DEBUG_MODE", "NanGuardMode"),
}

_BUG_VERSIONS = ("None", "all", "0.3", "0.4", "0.4.1", "0.5", "0.6", "0.7", "0.8", "0.8.1", "0.8.2", "0.9", "0.10",
                 "1.0")
# Theano 1.0's [warn] flags (theano/configdefaults.py): the version whose bug each one reports.
_WARN_FLAGS = {
    "argmax_pushdown_bug": "0.3", "gpusum_01_011_0111_bug": "0.3", "sum_sum_bug": "0.3",
    "sum_div_dimshuffle_bug": "0.3", "subtensor_merge_bug": "0.5", "gpu_set_subtensor1": "0.6",
    "vm_gc_bug": None, "signal_conv2d_interface": "0.7", "reduce_join": "0.7", "inc_set_subtensor1": "0.7",
    "round": "0.9", "inc_subtensor1_opt": "0.10", "identify_1pexp_bug": "0.4.1",
}


def _version(v: str) -> tuple:
    return tuple(int(p) for p in v.split("."))


class WarnFlags:
    """``config.warn``: Theano's ``warn.*`` flags, which Theano programs set
    (``config.warn.sum_div_dimshuffle_bug = False``).

    Each flag asked Theano to warn where an older Theano version computed a wrong result; symcomp
    has none of those bugs, so the flags are accepted, validated and kept, and change nothing.
    ``ignore_bug_before`` (default ``'0.8'``) gives the other flags their defaults, as in Theano:
    a flag is on when its bug is newer than that version (``'None'``: all on, ``'all'``: all off).
    """

    def __init__(self, ignore_bug_before: str = "0.8"):
        if ignore_bug_before not in _BUG_VERSIONS:
            raise ValueError(f"config.warn.ignore_bug_before must be one of {_BUG_VERSIONS}, got {ignore_bug_before!r}")
        values = {"ignore_bug_before": ignore_bug_before}
        for flag, since in _WARN_FLAGS.items():
            if since is None or ignore_bug_before == "all":
                values[flag] = False
            else:
                values[flag] = ignore_bug_before == "None" or _version(ignore_bug_before) < _version(since)
        object.__setattr__(self, "_values", values)

    def __getattr__(self, key):
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"symcomp.config.warn has no flag {key!r} (flags: {', '.join(self._values)})") \
                from None

    def __setattr__(self, key, value):
        if key == "warn":
            raise AttributeError("config.warn is a group of flags: set them one by one (config.warn.round = False)")
        if key not in self._values:
            raise AttributeError(f"symcomp.config.warn has no flag {key!r} (flags: {', '.join(self._values)})")
        if key == "ignore_bug_before":
            if value not in _BUG_VERSIONS:
                raise ValueError(f"config.warn.ignore_bug_before must be one of {_BUG_VERSIONS}, got {value!r}")
        elif not isinstance(value, bool):
            raise ValueError(f"config.warn.{key} must be True or False, got {value!r}")
        self._values[key] = value

    def __repr__(self):
        return "WarnFlags(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


def _parse_bool(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


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
        warn: Theano's ``warn.*`` flags (:class:`WarnFlags`), accepted for Theano programs.
    """

    def __init__(self):
        object.__setattr__(self, "_values", {
            "floatX": "float64", "device": "cpu", "mode": "fast", "num_threads": 0, "cache": True,
            "tier_up": True,
        })
        object.__setattr__(self, "_listeners", {})
        entries = []
        if "SYMCOMP_FLAGS" in os.environ:
            entries = _entries("SYMCOMP_FLAGS")
        elif os.environ.get("THEANO_FLAGS", "").strip():
            entries = _entries("THEANO_FLAGS")
        bug = [v for k, v in entries if k == "warn.ignore_bug_before"][-1:]
        if "SYMCOMP_FLAGS" not in os.environ and bug and bug[0] not in _BUG_VERSIONS:
            bug = []  # THEANO_FLAGS: an unknown value is ignored with the others (_read_theano_flags)
        object.__setattr__(self, "warn", WarnFlags(*bug))
        if "SYMCOMP_FLAGS" in os.environ:
            for key, value in entries:
                self._set_flag(key, value)
        elif entries:
            self._read_theano_flags(entries)

    def _set_flag(self, key: str, value: str) -> None:
        if key.startswith("warn."):
            if key != "warn.ignore_bug_before":  # given to WarnFlags above
                setattr(self.warn, key[len("warn."):], _parse_bool(value))
        elif key in ("num_threads",):
            setattr(self, key, int(value))
        elif key in ("cache", "tier_up"):
            setattr(self, key, _parse_bool(value))
        else:
            setattr(self, key, value)

    def _read_theano_flags(self, entries: list) -> None:
        ignored = []
        for key, value in entries:
            if key.startswith("warn."):
                translated = None if key == "warn.ignore_bug_before" and value not in _BUG_VERSIONS else value
            else:
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
                          f"num_threads, cache, tier_up and warn.*; set SYMCOMP_FLAGS to give symcomp its own flags)",
                          stacklevel=3)

    def __getattr__(self, key):
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(f"symcomp.config has no setting {key!r}") from None

    def __setattr__(self, key, value):
        if key == "warn":
            raise AttributeError("config.warn is a group of flags: set them one by one (config.warn.round = False)")
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
