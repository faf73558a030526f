"""Ctrl-C during a native call: a flag that generated code polls, set by a native SIGINT handler.

Python's own SIGINT handler only marks the signal pending; the ``KeyboardInterrupt`` is raised
when the interpreter next runs bytecode, which a long native call (it releases the GIL and never
returns to Python meanwhile) delays to its end.  So:

* the process-global ``int32`` :data:`_FLAG` is read by generated code through the pointer
  ``symcomp_interrupt_ptr`` (a JIT symbol in-process; a shared object's shim defines its own,
  pointed here at load; an AOT object a private one that stays 0).  Long loops test it once per
  chunk of :data:`~symcomp.backends.cpu.codegen.loops.POLL_ELEMENTS` elements, team BLAS between
  blocks, and return the status ``ERR_INTERRUPT`` when it is set, leaving it set so that every
  thread of a team and every op after stops too;
* :func:`install` puts a native handler (a few lines of LLVM IR, JIT-compiled: a ctypes
  callback is not async-signal-safe) in front of the current C-level SIGINT handler with
  ``sigaction``: it sets the flag, then calls the previous handler (Python's, which marks
  ``KeyboardInterrupt`` pending as before).  SIG_DFL and SIG_IGN are left alone;
* the runtime, seeing the status, clears the flag and calls ``PyErr_CheckSignals``
  (:func:`raise_pending`), which runs Python's handler: ``KeyboardInterrupt`` (or whatever the
  program's handler does).  On another thread than the main one nothing is raised there, and
  the call is simply run again.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import threading

_FLAG = ctypes.c_int32(0)
_FLAG_PTR = ctypes.c_void_p(ctypes.addressof(_FLAG))
ERR_INTERRUPT = 3
"""The error kind of a call stopped by a SIGINT (the low 4 bits of the entry's status)."""
SYMBOL = "symcomp_interrupt_ptr"
"""The pointer to :data:`_FLAG` that generated code loads (an external global)."""

_lock = threading.Lock()
_state: dict = {}


def flag_address() -> int:
    """Address of the ``int32`` flag (for a shared object's copy of :data:`SYMBOL`)."""
    return ctypes.addressof(_FLAG)


def pointer_address() -> int:
    """Address of the pointer ``symcomp_interrupt_ptr`` that JIT-compiled code reads."""
    return ctypes.addressof(_FLAG_PTR)


def pending() -> bool:
    return bool(_FLAG.value)


def clear() -> None:
    _FLAG.value = 0


def raise_pending() -> None:
    """Clear the flag and run Python's pending signal handlers now (``PyErr_CheckSignals``):
    raises what the SIGINT handler raises (``KeyboardInterrupt`` by default); returns where it
    raises nothing (a handler that ignores the signal, or a thread other than the main one)."""
    clear()
    ctypes.pythonapi.PyErr_CheckSignals()


class _SigAction(ctypes.Structure):
    """``struct sigaction`` of glibc on Linux (x86-64, AArch64)."""
    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16), ("flags", ctypes.c_int),
                ("restorer", ctypes.c_void_p)]


_HANDLER_IR = """
@symcomp_sigint_prev = global ptr null
define void @symcomp_sigint(i32 %s, ptr %i, ptr %c) {
  store atomic volatile i32 1, ptr inttoptr (i64 {flag} to ptr) monotonic, align 4
  %p = load atomic ptr, ptr @symcomp_sigint_prev monotonic, align 8
  call void %p(i32 %s, ptr %i, ptr %c)
  ret void
}
"""


def _sigaction():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fn = libc.sigaction
    fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.POINTER(_SigAction), ctypes.POINTER(_SigAction)]
    return fn


def install() -> bool:
    """Put the flag-setting handler in front of the current SIGINT handler (once, and again
    whenever the program has installed another since, e.g. with ``signal.signal``); needs LLVM
    initialized.  Returns whether the handler is in place.  Never raises: without it, Ctrl-C
    waits for a native call to end, as it always did."""
    try:
        with _lock:
            return _install()
    except Exception:  # no libc sigaction, no JIT: polling simply never fires
        return False


def _install() -> bool:
    if not hasattr(signal, "SIGINT") or not hasattr(signal, "pthread_sigmask"):
        return False
    if "sigaction" not in _state:
        _state["sigaction"] = _sigaction()
    sigaction = _state["sigaction"]
    cur = _SigAction()
    if sigaction(signal.SIGINT, None, ctypes.byref(cur)) != 0:
        return False
    ours = _state.get("handler")
    if ours is not None and cur.handler == ours:
        return True
    if cur.handler in (None, 0, 1):  # SIG_DFL (the process dies) or SIG_IGN: nothing to chain
        return False
    if ours is None:
        from symcomp.backends.cpu.toolchain import machine

        ref = machine.parse(_HANDLER_IR.replace("{flag}", str(flag_address())))
        jit = machine.JitModule(machine.emit_object(ref), False)
        _state["jit"] = jit  # loaded for the life of the process: the kernel may call it at any time
        _state["prev"] = ctypes.c_void_p.from_address(jit.global_address("symcomp_sigint_prev"))
        ours = _state["handler"] = jit.address("symcomp_sigint")
    _state["prev"].value = cur.handler
    new = _SigAction()
    ctypes.memmove(ctypes.byref(new), ctypes.byref(cur), ctypes.sizeof(_SigAction))
    new.handler = ours  # same flags (SA_SIGINFO or not, SA_ONSTACK...) and mask as the one chained
    return sigaction(signal.SIGINT, ctypes.byref(new), None) == 0
