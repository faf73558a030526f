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
from symcomp.compile.trace import Signature, default_updates, trace
from symcomp.config import config
from symcomp.ir.core import Value
from symcomp.ir.gcpause import gc_paused
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
        traced_locations: the location of every op of ``f.dump("traced")``, in the order of
            ``walk()`` (``parse`` of that text gives the ops, these give back their origins: the
            lines of the user's program), or () when unknown.
    """

    traced_locations: tuple = ()

    def __init__(self, module: ModuleOp, sig: Signature, executable, stages: dict, mode: str, device: str,
                 name: str, allow_input_downcast: Optional[bool], trust_input: bool, single_output: bool,
                 timings: dict, interface=None, profile=None, mode_arg=None, traced: bool = True):
        from symcomp.compile.interface import InputMeta, Interface

        self.module = module
        self.signature = sig
        self.executable = executable
        self._stages = stages
        self.mode = mode
        self.device = device
        self.name = name
        self.trust_input = trust_input
        self.allow_input_downcast = allow_input_downcast
        self.timings = timings
        self.profile = profile
        self._mode_arg = mode if mode_arg is None else mode_arg
        self._traced = traced  # the 'traced' stage is the program before the passes (not so when unpickled)
        self._single = single_output
        self._specs = [InputSpec.for_variable(v, i, allow_input_downcast) for i, v in enumerate(sig.inputs)]
        self._names = {v.name: i for i, v in enumerate(sig.inputs) if v.name}
        self._update_slots = [(var, k) for k, (var, _) in enumerate(sig.updates)]
        if interface is None:
            interface = Interface([InputMeta(v.name, "param", i, variable=v) for i, v in enumerate(sig.inputs)], sig,
                                  allow_input_downcast)
        self._interface = interface
        if profile is not None:
            profile.record_compile(timings, sum(1 for _ in module.func().body.ops) - 1)
        make_fast = getattr(executable, "make_fast_call", None)
        python_only = interface.needs_python or profile is not None
        self._fast = (make_fast(self._call_python, single_output)
                      if make_fast is not None and not python_only else None)
        if self._fast is not None:
            # A native entry checks the arguments against the last signature and calls the code,
            # falling back to _call_python otherwise.  CPython calls type(f).__call__, and a builtin
            # function is not a descriptor, so a private subclass makes f(...) call it directly.
            # self._fast owns the memory the builtin points into.
            self.__class__ = type(type(self).__name__, (type(self),), {"__call__": self._fast.callable})

    def __call__(self, *args, **kwargs):
        """Run the function.

        Arguments are positional, or by keyword with the input's name; an input given a default
        (``symcomp.In(x, value=...)``) may be left out (Theano's rules, see
        :mod:`symcomp.compile.interface`).

        Raises:
            TypeError: for a wrong number of arguments, an unknown keyword, a missing required
                input, a dtype that would be downcast, or a value that is not array-like.
            ValueError: for a wrong rank or a shape that does not fit.
        """
        if self.profile is not None:
            return self._call_profiled(args, kwargs)
        if self._interface.needs_python:
            return self._interface.call(self, args, kwargs)
        return self._call_python(*args, **kwargs)

    def _call_profiled(self, args, kwargs):
        t0 = time.perf_counter()
        inner = [0.0]
        run = self._call_python

        def timed(*a, **k):
            t = time.perf_counter()
            try:
                return run(*a, **k)
            finally:
                inner[0] = time.perf_counter() - t

        try:
            if self._interface.needs_python:
                self._call_python = timed
                try:
                    return self._interface.call(self, args, kwargs)
                finally:
                    del self._call_python
            return timed(*args, **kwargs)
        finally:
            self.profile.record_call(time.perf_counter() - t0, inner[0])

    # -- Theano's access to input values (theano/compile/function_module.py) -----------------------
    @property
    def value(self):
        """Input values by position, variable or name: ``f.value[x]``, ``f.value['x'] = v``.

        An input with a default holds it between calls, a state its current value, a required
        input None; shared variables are found by variable and name too.
        """
        return self._interface.value

    @property
    def container(self):
        """The :class:`~symcomp.compile.io.Container` of each input, by position, variable or name."""
        return self._interface.container

    def __getitem__(self, key):
        """``f[key]``: ``f.value[key]``.

        Raises:
            TypeError: for an unknown key (listing the named inputs) or an ambiguous name.
        """
        return self._interface.value[key]

    def __setitem__(self, key, value) -> None:
        """``f[key] = value``: ``f.value[key] = value`` (converted as an argument is)."""
        self._interface.value[key] = value

    def __contains__(self, key) -> bool:
        return key in self._interface.value

    def __copy__(self):
        return self.copy()

    def copy(self, share_memory: bool = False, swap: Optional[dict] = None, delete_updates: bool = False,
             name: Optional[str] = None, profile=None) -> "Function":
        """A copy of this function (Theano's ``Function.copy``), compiled from its optimized program.

        Args:
            share_memory: accepted (symcomp functions keep no intermediate storage between calls).
            swap: {shared variable of this function: shared variable of the same type} to read
                and update in the copy instead.
            delete_updates: the copy applies no update (its program is the traced one without
                them, optimized again).
            name: the copy's name (default: this name + ``" copy"``).
            profile: as for :func:`function`.

        The copy returns a list of outputs even for a single output, as Theano's copies do
        (``doc/tutorial/examples.txt``: ``new_accumulator(100)`` gives ``[array(0)]``); its
        states (``In(..., update=...)``) start again from their initial values.

        Raises:
            ValueError: for a swapped variable the function does not use.
            TypeError: for a swap of another type or not a shared variable.
            NotImplementedError: ``delete_updates`` on a function read back from a pickle (which
                carries only its optimized program).
        """
        from symcomp.compile.trace import Signature
        from symcomp.ir.ops.basic import Assign
        from symcomp.ir.parser import parse

        sig = self.signature
        swap = dict(swap or {})
        states = {sig.shared[m.index] for m in self._interface.metas if m.kind == "state"}
        for old, new in swap.items():
            if old not in sig.shared or old in states:
                raise ValueError(f"SharedVariable: {getattr(old, 'name', old)} not found")
            if not isinstance(new, SharedVariable):
                raise TypeError(f"swap: {new!r:.60} is not a shared variable")
            if new.type.plain() != old.type.plain():
                raise TypeError(f"swap: shared variable {new.name} has type {new.type.plain()}, the one it replaces "
                                f"({old.name}) {old.type.plain()}")
        for m in self._interface.metas:
            if m.kind == "state":
                old = sig.shared[m.index]
                start = old.container[0] if m.default is None else m.default
                swap[old] = SharedVariable(np.array(start, copy=True), old.name, old.type.shape)
        shared = [swap.get(v, v) for v in sig.shared]
        if delete_updates:
            if not self._traced:
                raise NotImplementedError("copy(delete_updates=True) of a function read back from a pickle: it "
                                          "carries only its optimized program")
            module = parse(self.dump("traced"), f"<copy of {self.name}>")
            for op in list(module.func().body.ops):
                if isinstance(op, Assign):
                    op.erase()
            updates = []
        else:
            module = parse(self.dump("optimized"), f"<copy of {self.name}>")
            updates = [(shared[sig.shared.index(var)], idx) for var, idx in sig.updates]
        new_sig = Signature(inputs=list(sig.inputs), shared=shared, n_outputs=sig.n_outputs, updates=updates)
        f = compile_module(module, new_sig, mode=self._mode_arg, device=self.device,
                           allow_input_downcast=self.allow_input_downcast, trust_input=self.trust_input,
                           single_output=False, optimize=delete_updates, profile=_profile(profile, name),
                           interface=self._interface.copied(new_sig, self.allow_input_downcast))
        f.name = name or f"{self.name} copy"
        return f

    def _call_python(self, *args, **kwargs):
        """Run the function: check and convert the arguments, plan, call, apply updates.

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
                    if key in self._interface.finder and self._interface.finder.get(key).implicit:
                        raise TypeError(f"Tried to provide value for implicit input: {key}")
                    from symcomp.compile.io import info_on_inputs

                    raise TypeError(f"{self.name}() got an unexpected keyword argument {key!r}. " + info_on_inputs(
                        self._interface.finder.named, self._interface.finder.n_unnamed))
                if args[self._names[key]] is not None:
                    raise TypeError(f"{self.name}() got multiple values for argument {key!r}")
                args[self._names[key]] = val
        if len(args) != n:
            raise TypeError(f"{self.name}() takes {n} argument{'s' if n != 1 else ''} ({len(args)} given)")
        call = getattr(self.executable, "call", None)
        if call is not None:  # a backend that keeps inputs and shared variables on its device (cuda)
            outputs = call(args, self._specs, self.trust_input)
        else:
            if self.trust_input:  # arrays of exactly the right kind pass unchecked; anything else is checked
                arrays = [a if spec.is_exact(a) else spec.convert(a) for spec, a in zip(self._specs, args)]
            else:
                arrays = [spec.convert(a) for spec, a in zip(self._specs, args)]
            arrays.extend(s.container[0] for s in self.signature.shared)
            if self._fast is not None:
                outputs, new_values = self.executable.run(arrays, self._fast)
            else:
                outputs, new_values = self.executable.run(arrays)
            for var, k in self._update_slots:
                var.container[0] = new_values[k]
        if self._single:
            return outputs[0]
        return outputs

    def dump(self, stage: str = "optimized") -> str:
        """The program text after a compilation stage.

        Stages: 'traced' (IR as traced), the name of each pass run (IR after
        it), 'optimized' (final IR), 'mlir' (the final IR in upstream MLIR
        dialects, see docs/mlir.md), and the backend's stages ('llvm',
        'llvm-optimized', 'asm' for the CPU; 'ptx' for CUDA).

        Raises:
            KeyError: for an unknown stage, listing the known ones.
        """
        if stage == "mlir":  # upstream MLIR dialects, for any mode (symcomp.mlir)
            from symcomp.mlir import export_module
            return export_module(self.module)
        if stage in self._stages:
            return self._stages[stage]()
        backend_stages = getattr(self.executable, "stages", {})
        if stage in backend_stages:
            return backend_stages[stage]()
        known = list(self._stages) + list(backend_stages)
        raise KeyError(f"unknown stage {stage!r}; known stages: {', '.join(known)}")

    def __reduce__(self):
        """Pickle support: the optimized IR, signature and shared values (:mod:`symcomp.compile.pickling`)."""
        from symcomp.compile.pickling import reduce_function

        return reduce_function(self)

    def timing_report(self) -> str:
        """A table of the seconds each compilation stage took (front-end, each pass, backend stages).

        Backend stages of the CPU backend: ``llvm_init`` (first compile of the process),
        ``prepare`` (memory contract), ``blas_load`` (the first function of the process that calls
        BLAS loads it: :mod:`symcomp.backends.cpu.runtime.teamblas`), ``codegen``
        (LLVM IR emission), ``llvm_opt`` (LLVM optimization), ``machine_code``, ``cache_load``
        (read from the disk cache instead of the three before), ``load`` (MCJIT) or
        ``load_shared`` (the cached shared object, without LLVM); ``passes (disk cache)``
        replaces the per-pass rows when the optimized IR came from the cache.  The link of the
        shared object for later processes runs in the background and is not timed here
        (:func:`symcomp.backends.cpu.cache.sharedlib.link_later`).
        """
        labels = {"trace": "front-end: trace", "llvm_init": "backend: LLVM initialization (once)",
                  "prepare": "backend: prepare", "blas_load": "backend: load BLAS (once)",
                  "codegen": "backend: LLVM IR emission",
                  "llvm_opt": "backend: LLVM optimization", "machine_code": "backend: machine code",
                  "cache_load": "backend: disk cache read", "load": "backend: load machine code",
                  "load_shared": "backend: load shared object",
                  "passes (disk cache)": "passes: read from the disk cache"}
        rows = [(labels.get(k, k.replace("pass:", "pass: ")), t) for k, t in self.timings.items() if k != "passes"]
        total = sum(t for _, t in rows) or 1e-12
        cache = "hit" if "cache_load" in self.timings else ("miss" if "machine_code" in self.timings else "-")
        width = max(len(r) for r, _ in rows + [("total", 0)])
        lines = [f"compilation of {self.name} (mode {self.mode}, {self.device}; disk cache: {cache})",
                 f"  {'stage':<{width}}  {'ms':>9}  {'%':>5}"]
        lines += [f"  {r:<{width}}  {1e3 * t:9.2f}  {100 * t / total:5.1f}" for r, t in rows]
        lines.append(f"  {'total':<{width}}  {1e3 * total:9.2f}  100.0")
        return "\n".join(lines)

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
             allow_input_downcast: Optional[bool] = None, mode=None, device: Optional[str] = None,
             on_unused_input: str = "raise", trust_input: bool = False, no_default_updates=False,
             profile=None) -> Function:
    """Compile ``outputs`` (and ``updates``) as a function of ``inputs`` (Theano's ``theano.function``).

    Args:
        inputs: symbolic input variables, or :class:`symcomp.In` objects (defaults, states,
            keyword names: :mod:`symcomp.compile.io`), in call order.
        outputs: a symbolic value or :class:`symcomp.Out`, or a list of them (None for no output).
        updates: {shared variable: new value} or a list of pairs, applied after the outputs.
        givens: {variable: replacement expression} (or a list of pairs) substituted before compiling.
        name: a name for the function (default 'main').
        allow_input_downcast: True accepts inputs whose dtype must be downcast (e.g. float64 data
            for a float32 input); False casts only safely (Python numbers: when exact) and raises
            TypeError otherwise; None (the default, Theano's) is False, except that a Python float
            is cast to an input whose dtype is ``config.floatX`` (``f(0.1)`` for a float32 input
            under ``floatX=float32``).
        mode: 'fast' (default, all optimizations; Theano's 'FAST_RUN'), 'fast_compile',
            'reference' (the NumPy interpreter), another registered mode (Theano's names
            'DebugMode', 'NanGuardMode'...), or a mode object (``symcomp.Mode(...)``).
        device: 'cpu' (default, from ``config.device``) or 'cuda'.
        on_unused_input: 'raise', 'warn' or 'ignore'.
        trust_input: skip the checks of arguments that are ndarrays of exactly the
            input's dtype and rank (other arguments are still checked and
            converted: a wrong argument never reaches native code).
        no_default_updates: True, or a list of shared variables: do not apply their default
            updates (``var.default_update``, e.g. the state of a random stream, which
            otherwise advances at every call).
        profile: True, a message string or a :class:`symcomp.ProfileStats`: count calls and
            times in ``f.profile``.

    Returns:
        A :class:`Function`; calling it returns one array for a single output,
        a list for a list of outputs (0-d arrays for scalars, as Theano).

    Raises:
        TypeError, MissingInputError, UnusedInputError: for bad graphs or arguments.
        ValueError: for an unknown mode.
        NotImplementedError: for an operation the backend cannot lower.
    """
    from symcomp.compile.interface import Interface, as_output, split_inputs

    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"inputs must be a list of symbolic variables, got {type(inputs).__name__}")
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    outs = [] if outputs is None else ([outputs] if single else list(outputs))
    outs = [as_value(as_output(o)) for o in outs]
    metas, trace_inputs, states, state_givens = split_inputs(inputs, allow_input_downcast)
    if isinstance(updates, dict):
        updates = list(updates.items())
    ups = _normalize_updates(list(updates or []) + states)
    ups += _normalize_updates(default_updates(outs, ups, givens, no_default_updates))
    givens = dict(givens or {})
    for v, sv in state_givens.items():
        if v in givens:
            raise ValueError(f"givens replaces {v.name or repr(v)}, an input with an update (a state)")
        givens[v] = sv
    name = name or "main"
    timings = {}
    t0 = time.perf_counter()
    module, sig = trace(trace_inputs, outs, ups, givens, name, on_unused_input)
    timings["trace"] = time.perf_counter() - t0
    return compile_module(module, sig, mode=mode, device=device, allow_input_downcast=allow_input_downcast,
                          trust_input=trust_input, single_output=single, timings=timings,
                          interface=Interface(metas, sig, allow_input_downcast), profile=_profile(profile, name))


def _profile(profile, name: Optional[str]):
    """``function``'s ``profile`` argument as a ProfileStats or None."""
    if profile is None or profile is False:
        return None
    from symcomp.compile.profiling import ProfileStats

    if profile is True:
        return ProfileStats(message=name)
    if isinstance(profile, str):
        return ProfileStats(message=profile)
    if isinstance(profile, ProfileStats):
        return profile
    raise TypeError(f"profile must be True, a message string or a ProfileStats, got {profile!r:.60}")


def compile_module(module: ModuleOp, sig: Signature, *, mode=None, device: Optional[str] = None,
                   allow_input_downcast: Optional[bool] = None, trust_input: bool = False, single_output: bool = False,
                   optimize: bool = True, timings: Optional[dict] = None, interface=None,
                   profile=None) -> Function:
    """Optimize and compile a module holding one traced function (the second half of :func:`function`).

    Also used to compile IR that was not traced: modules from :class:`symcomp.ir.Builder`
    (:func:`symcomp.embed.compile`) and IR text read back when unpickling a Function
    (``optimize=False``: that IR was optimized already).

    Args:
        module: a verified ``builtin.module`` whose first function is compiled; changed in place.
        sig: how its parameters map to inputs and shared variables.
        mode, device: as for :func:`function` (defaults from ``symcomp.config``); ``mode`` is a
            mode name or a :class:`~symcomp.compile.modes.Mode` object.
        single_output: calls return the only output itself rather than a list.
        optimize: run the mode's pass pipeline first.
        timings: a dict receiving seconds per stage.
        interface: the arguments' :class:`~symcomp.compile.interface.Interface` (default: one
            required positional argument per input).
        profile: a :class:`~symcomp.compile.profiling.ProfileStats` or None.

    Raises:
        ValueError: for an unknown mode or device.
        NotImplementedError: for an operation the backend cannot lower.
    """
    from symcomp.compile.modes import Mode, get_mode
    from symcomp.passes.manager import replay_stages

    mode_arg = mode or config.mode
    m = mode_arg if isinstance(mode_arg, Mode) else get_mode(mode_arg)
    mode_name = m.name if isinstance(mode_arg, Mode) else mode_arg
    device = device or config.device
    timings = {} if timings is None else timings
    stages: dict = {}
    traced_locations = tuple(op.loc for op in module.walk())  # before any pass changes the module
    # A compile only allocates (IR, imports of the backend's modules on first use), so the cyclic
    # collector has nothing to free, but the collections those allocations trigger walk the whole
    # heap: in a process holding SciPy and scikit-learn, ~50 ms of a 80 ms warm compile.
    with gc_paused():
        if optimize:
            m.optimize(module, stages, timings, device)
        else:
            stages.update(replay_stages(module, []))
        executable = m.backend(device)(module, sig, timings)
    f = Function(module, sig, executable, stages, mode_name, device, module.func().sym_name,
                 allow_input_downcast, trust_input, single_output, timings, interface=interface, profile=profile,
                 mode_arg=mode_arg, traced=optimize)
    f.traced_locations = traced_locations
    return f
