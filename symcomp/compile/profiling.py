"""``ProfileStats``: where a compiled function's time goes (Theano's ``theano.compile.profiling``).

``f = symcomp.function(..., profile=True)`` (or ``profile=ProfileStats(message=...)``) counts
the calls and their time, and keeps the compile time split as Theano's summary splits it:

* ``optimizer_time``: the pass pipeline (Theano's graph optimizer);
* ``linker_time``: the backend (LLVM code generation and machine code, or reading them from
  the disk cache; Theano's linker and C compilation);
* ``compile_time``: the whole compilation, tracing included.

``f.profile.summary()`` prints them in Theano's format.  A profiled function is called through
Python (the native fast entry is not installed), so its call time includes the argument checks.
Per-operation times (Theano's ``apply_time``) are not measured: a compiled function is one
native call; ``f.timing_report()`` shows the compile stages in detail.
"""

from __future__ import annotations

import sys
from typing import Optional


class ProfileStats:
    """Call and compile statistics of one function (Theano's ``ProfileStats``).

    Args:
        atexit_print: accepted (Theano prints at exit only with its ``profile`` flag; symcomp
            does not print at exit).
        flag_time_thunks, gpu_checks: accepted, without effect.
        message: a label printed by :meth:`summary`.
        ignore_first_call: drop the first call from the statistics (its time includes work done
            once, as planning for a new input shape).

    Attributes:
        fct_callcount, fct_call_time: calls and their total seconds.
        vm_call_time: seconds inside the compiled code (argument checks excluded).
        compile_time, optimizer_time, linker_time: seconds (see the module docstring).
        nb_nodes: operations in the optimized program.
    """

    def __init__(self, atexit_print: bool = True, flag_time_thunks: Optional[bool] = None, gpu_checks: bool = True,
                 message: Optional[str] = None, ignore_first_call: bool = False, **kwargs):
        self.message = message
        self.ignore_first_call = ignore_first_call
        self.fct_callcount = 0
        self.fct_call_time = 0.0
        self.vm_call_time = 0.0
        self.compile_time = 0.0
        self.optimizer_time = 0.0
        self.linker_time = 0.0
        self.nb_nodes = -1
        self.__dict__.update(kwargs)

    def record_compile(self, timings: dict, nb_nodes: int) -> None:
        """Take the compile times of a function (its ``timings``: seconds per stage)."""
        passes = sum(t for k, t in timings.items() if k == "passes (disk cache)" or k.startswith("pass:"))
        self.optimizer_time += passes
        self.linker_time += sum(t for k, t in timings.items()
                                if k != "trace" and k != "passes" and k != "passes (disk cache)"
                                and not k.startswith("pass:"))
        self.compile_time += sum(t for k, t in timings.items() if k != "passes")
        self.nb_nodes = nb_nodes

    def record_call(self, seconds: float, inner: float) -> None:
        """Count one call of ``seconds`` (``inner`` of them in the compiled code)."""
        if self.ignore_first_call:
            self.ignore_first_call = False
            return
        self.fct_callcount += 1
        self.fct_call_time += seconds
        self.vm_call_time += inner

    def reset(self) -> None:
        """Forget the calls (not the compile times)."""
        self.fct_callcount, self.fct_call_time, self.vm_call_time = 0, 0.0, 0.0

    def summary_function(self, file=sys.stderr) -> None:
        """Theano's "Function profiling" block."""
        print("Function profiling", file=file)
        print("==================", file=file)
        print(f"  Message: {self.message}", file=file)
        print(f"  Time in {self.fct_callcount} calls to Function.__call__: {self.fct_call_time:e}s", file=file)
        if self.fct_call_time > 0:
            print(f"  Time in Function.fn.__call__: {self.vm_call_time:e}s "
                  f"({100 * self.vm_call_time / self.fct_call_time:.3f}%)", file=file)
        print(f"  Total compile time: {self.compile_time:e}s", file=file)
        print(f"    Number of Apply nodes: {self.nb_nodes}", file=file)
        print(f"    Optimizer time: {self.optimizer_time:e}s", file=file)
        print(f"    Linker time (code generation and machine code): {self.linker_time:e}s", file=file)
        print("", file=file)

    def summary(self, file=sys.stderr, n_ops_to_print: int = 20, n_apply_to_print: int = 20) -> None:
        """Print the statistics (``n_ops_to_print``, ``n_apply_to_print``: accepted; symcomp has no
        per-operation times)."""
        self.summary_function(file)
        print("  Per-operation times are not measured by symcomp (one native call per function); "
              "f.timing_report() details the compile stages.", file=file)
