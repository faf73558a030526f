"""The reference backend: the IR's interpreter (:mod:`symcomp.ir.interpreter`) as a backend, the
oracle for tests and debug mode.

Each operation's ``ref`` (its NumPy semantics, declared with the op) is applied in program
order; outputs and updates are fresh copies, as the native backends return them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from symcomp.ir.interpreter import evaluate_block


class ReferenceExecutable:
    """Runs a traced function with the NumPy interpreter."""

    def __init__(self, module, sig, timings=None):
        self.func = module.func()
        self.sig = sig
        self.stages = {}

    def run(self, arrays: Sequence[np.ndarray]):
        outs, updates = evaluate_block(self.func.body, arrays)
        new_values = [None] * len(self.sig.updates)
        pos = {idx: k for k, (_, idx) in enumerate(self.sig.updates)}
        for idx, v in updates:
            new_values[pos[idx]] = np.array(v, copy=True)
        outputs = [np.array(o, copy=True) for o in outs]
        return outputs, new_values
