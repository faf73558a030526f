"""Helpers of the robustness tests: concrete arguments for random graphs, and backends that misbehave on purpose."""

from __future__ import annotations

import numpy as np

from symcomp.backends.cpu import compile_cpu

FLOAT_POOL = [0.0, -0.0, 1.5, -2.25, 0.3, 7.0, np.nan, np.inf, -np.inf, 1e-300, 1e300]


def concrete(t, rng: np.random.Generator, n: int, specials: bool = True) -> np.ndarray:
    """A random array for a value of type ``t``: dynamic axes get size ``n``.

    Floats are drawn from :data:`FLOAT_POOL` (NaN, infinities, -0.0, tiny and
    huge values) when ``specials``, else uniformly in [-2, 2]; integers are
    small (usable as indices of small axes).
    """
    shape = tuple(n if d is None else d for d in t.shape)
    dt = t.dtype.np
    if dt.kind == "f":
        if not specials:
            return rng.uniform(-2, 2, size=shape).astype(dt)
        with np.errstate(over="ignore"):
            return rng.choice(np.array(FLOAT_POOL, dtype=dt), size=shape)
    if dt.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dt.kind == "u":
        return rng.integers(0, 5, size=shape).astype(dt)
    return rng.integers(-2, 3, size=shape).astype(dt)


def tampering_backend(after, compilations=None):
    """An ``inner`` backend for debug/nanguard modes: the CPU backend, with results tampered with.

    Args:
        after: ``after(arrays, outputs, updates) -> (outputs, updates)``, run after
            the real call (it may also modify ``arrays`` or raise).
        compilations: indices of the compilations to tamper with, in order (0 is
            the function itself, 1 the instrumented variant debug mode compiles
            on a mismatch); None for all.
    """
    count = [0]

    def compile_(module, sig, timings):
        exe = compile_cpu(module, sig, timings)
        k = count[0]
        count[0] += 1
        return _Tampered(exe, after) if compilations is None or k in compilations else exe

    return lambda device: compile_


class _Tampered:
    def __init__(self, exe, after):
        self.exe, self.after, self.stages = exe, after, exe.stages

    def run(self, arrays):
        outs, ups = self.exe.run(arrays)
        return self.after(arrays, outs, ups)
