"""``symcomp.function``: compile a symbolic graph into a Python callable.

The flow: trace the graph into a ``func.func`` (:mod:`symcomp.compile.trace`),
run the mode's pass pipeline, hand the optimized module to a backend, and wrap
the backend's executable in a :class:`Function` that checks inputs, makes the
call and applies shared-variable updates.
"""

from __future__ import annotations

import time
from typing import Optional, Sequence

import numpy as np

from symcomp.compile.inputs import InputSpec
from symcomp.compile.trace import Signature, trace
from symcomp.config import config
from symcomp.ir.core import Value
from symcomp.ir.module import ModuleOp
from symcomp.shared import SharedVariable
from symcomp.tensor.convert import as_value, cast


class Function:
    """A compiled function; call it with NumPy arrays (or anything ``np.asarray`` accepts).

    Attributes:
        name: the function's name.
        mode: the compilation mode it was built with.
        device: 'cpu' or 'cuda'.
        signature: how parameters map to inputs and shared variables.
        timings: seconds spent per compilation stage.
    """

    def __init__(self, module: ModuleOp, sig: Signature, executable, stages: dict, mode: str, device: str,
                 name: str, allow_input_downcast: bool, trust_input: bool, single_output: bool, timings: dict):
        self.module = module
        self.signature = sig
        self.executable = executable
        self._stages = stages
        self.mode = mode
        self.device = device
        self.name = name
        self.trust_input = trust_input
        self.timings = timings
        self._single = single_output
        self._specs = [InputSpec.for_variable(v, i, allow_input_downcast) for i, v in enumerate(sig.inputs)]
        self._names = {v.name: i for i, v in enumerate(sig.inputs) if v.name}
        self._update_slots = [(var, k) for k, (var, _) in enumerate(sig.updates)]

    def __call__(self, *args, **kwargs):
        """Run the function.

        Raises:
            TypeError: for a wrong number of arguments, an unknown keyword, a
                dtype that would be downcast, or a value that is not array-like.
            ValueError: for a wrong rank or a shape that does not fit.
        """
        n = len(self._specs)
        if kwargs:
            args = list(args) + [None] * (n - len(args))
            for key, val in kwargs.items():
                if key not in self._names:
                    raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}")
                if args[self._names[key]] is not None:
                    raise TypeError(f"{self.name}() got multiple values for argument {key!r}")
                args[self._names[key]] = val
        if len(args) != n:
            raise TypeError(f"{self.name}() takes {n} argument{'s' if n != 1 else ''} ({len(args)} given)")
        if self.trust_input:  # arrays of exactly the right kind pass unchecked; anything else is checked
            arrays = [a if spec.is_exact(a) else spec.convert(a) for spec, a in zip(self._specs, args)]
        else:
            arrays = [spec.convert(a) for spec, a in zip(self._specs, args)]
        arrays.extend(s.container[0] for s in self.signature.shared)
        outputs, new_values = self.executable.run(arrays)
        for var, k in self._update_slots:
            var.container[0] = new_values[k]
        if self._single:
            return outputs[0]
        return outputs

    def dump(self, stage: str = "optimized") -> str:
        """The program text after a compilation stage.

        Stages: 'traced' (IR as traced), the name of each pass run (IR after
        it), 'optimized' (final IR), and the backend's stages ('llvm',
        'llvm-optimized', 'asm' for the CPU; 'ptx' for CUDA).

        Raises:
            KeyError: for an unknown stage, listing the known ones.
        """
        if stage in self._stages:
            return self._stages[stage]()
        backend_stages = getattr(self.executable, "stages", {})
        if stage in backend_stages:
            return backend_stages[stage]()
        known = list(self._stages) + list(backend_stages)
        raise KeyError(f"unknown stage {stage!r}; known stages: {', '.join(known)}")

    def __repr__(self) -> str:
        return f"<symcomp.Function {self.name} mode={self.mode} device={self.device}>"


def _normalize_updates(updates) -> list[tuple[SharedVariable, Value]]:
    if updates is None:
        return []
    items = list(updates.items()) if isinstance(updates, dict) else list(updates)
    out = []
    seen = set()
    for i, item in enumerate(items):
        try:
            var, expr = item
        except (TypeError, ValueError):
            raise TypeError(f"updates[{i}] must be a (shared variable, expression) pair, got {item!r:.60}") from None
        if not isinstance(var, SharedVariable):
            raise TypeError(f"updates[{i}]: only shared variables can be updated, got {var!r:.60}")
        if var in seen:
            raise ValueError(f"shared variable {var.name} is updated twice")
        seen.add(var)
        expr = as_value(expr)
        want = var.type.dtype
        if expr.type.dtype != want:
            if not np.can_cast(expr.type.dtype.np, want.np, "safe"):
                raise TypeError(f"update of shared variable {var.name!r}: expression of dtype "
                                f"{expr.type.dtype.name} would be downcast to {want.name}; cast it explicitly")
            expr = cast(expr, want)
        if expr.type.ndim != var.type.ndim:
            raise TypeError(f"update of shared variable {var.name!r}: expression has rank {expr.type.ndim}, "
                            f"the variable has rank {var.type.ndim}")
        out.append((var, expr))
    return out


def function(inputs: Sequence[Value], outputs=None, updates=None, givens=None, name: Optional[str] = None,
             allow_input_downcast: bool = False, mode: Optional[str] = None, device: Optional[str] = None,
             on_unused_input: str = "raise", trust_input: bool = False) -> Function:
    """Compile ``outputs`` (and ``updates``) as a function of ``inputs`` (Theano's ``theano.function``).

    Args:
        inputs: symbolic input variables, in call order.
        outputs: a symbolic value or a list of them (None for no output).
        updates: {shared variable: new value} or a list of pairs, applied after the outputs.
        givens: {variable: replacement expression} substituted before compiling.
        name: a name for the function (default 'main').
        allow_input_downcast: accept inputs whose dtype must be downcast (e.g. float64 data
            for a float32 input) instead of raising TypeError.
        mode: 'fast' (default, all optimizations; Theano's 'FAST_RUN'), 'fast_compile',
            'reference' (the NumPy interpreter), or another registered mode.
        device: 'cpu' (default, from ``config.device``) or 'cuda'.
        on_unused_input: 'raise', 'warn' or 'ignore'.
        trust_input: skip the checks of arguments that are ndarrays of exactly the
            input's dtype and rank (other arguments are still checked and
            converted: a wrong argument never reaches native code).

    Returns:
        A :class:`Function`; calling it returns one array for a single output,
        a list for a list of outputs (0-d arrays for scalars, as Theano).

    Raises:
        TypeError, MissingInputError, UnusedInputError: for bad graphs or arguments.
        NotImplementedError: for an operation the backend cannot lower.
    """
    from symcomp.compile.modes import get_mode

    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"inputs must be a list of symbolic variables, got {type(inputs).__name__}")
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    outs = [] if outputs is None else ([outputs] if single else list(outputs))
    outs = [as_value(o) for o in outs]
    ups = _normalize_updates(updates)
    mode_name = mode or config.mode
    device = device or config.device
    name = name or "main"
    timings = {}
    t0 = time.perf_counter()
    module, sig = trace(list(inputs), outs, ups, givens, name, on_unused_input)
    timings["trace"] = time.perf_counter() - t0
    m = get_mode(mode_name)
    stages: dict = {}
    m.optimize(module, stages, timings)
    executable = m.backend(device)(module, sig, timings)
    return Function(module, sig, executable, stages, mode_name, device, name, allow_input_downcast,
                    trust_input, single, timings)
