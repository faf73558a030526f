"""A native CPython entry point per compiled function: argument checks, output allocation and the
call in one piece of generated code (the approach of Numba's ``@njit`` dispatch wrappers).

The wrapper is a ``METH_FASTCALL | METH_KEYWORDS`` function emitted in LLVM IR.
It compares each argument with the input signature of the *last* call that
went through the Python path (its exact type ``numpy.ndarray``, dtype
descriptor, rank, shape, byte strides and the aligned flag, all read from the
``PyArrayObject`` fields), allocates the outputs with ``PyArray_Empty`` (NumPy's
C API table), fills ``ptrs`` from a template and calls the function's entry
with the plan's ``ints``.  Anything else -- another shape, a list, a subclass,
a keyword argument, an error status from the entry -- goes to the Python path
(``fallback``), which checks, plans (then re-arms the wrapper for the new
signature) and raises the proper exception: correctness never depends on the
fast path.  A call stopped by a SIGINT (``ERR_INTERRUPT``,
:mod:`symcomp.backends.cpu.runtime.interrupt`) is the exception: the wrapper clears the
flag and runs Python's signal handlers at once, and goes to the Python path only where
they raise nothing.

The wrapper is used only for functions without shared variables or values
that feed shapes, and for signatures needing at most :data:`MAX_WORKSPACE`
bytes of workspace.  For signatures whose arguments and results hold more than
:data:`MAX_ELEMENTS` elements in all it releases the GIL around the entry
(``PyEval_SaveThread``), marking its context busy meanwhile: a second thread
arriving then takes the Python path (which has its own workspace), and
``install`` leaves a busy context alone, so nothing the running call reads is
freed or rewritten under it.  Its context (a block of
int64 words) is read through a ``PyCapsule``, so one wrapper is compiled per
combination of ranks and shared by every function with those ranks (and
cached on disk like any compiled code).

Field offsets of ``PyArrayObject`` and the index of ``PyArray_Empty`` in the C
API table are taken from NumPy's headers and checked on a probe array at
set-up; if anything disagrees, no wrapper is made.
"""

from __future__ import annotations

import ctypes
import math
import threading
import re
from pathlib import Path
from typing import Optional

import numpy as np

from symcomp.backends.cpu.runtime import interrupt
from symcomp.backends.cpu.runtime.interrupt import ERR_INTERRUPT
from symcomp.backends.cpu.toolchain import machine

MAX_ELEMENTS = 1 << 16
MAX_WORKSPACE = 1 << 20
"""Signatures needing more workspace bytes take the Python path: the wrapper's context holds a
workspace of its own (the plan's is the Python path's), and two copies of a large one would double
the peak memory of a call that runs long enough not to notice the Python path's microseconds."""
_ALIGNED = 0x0100  # NPY_ARRAY_ALIGNED
# PyArrayObject_fields (numpy/ndarraytypes.h): data, nd, dimensions, strides, base, descr, flags.
_OFF = {"type": 8, "data": 16, "nd": 24, "dims": 32, "strides": 40, "descr": 56, "flags": 64}
# Context words.
_ENABLED, _ENTRY, _INTS, _PTRS, _NPTRS, _FALLBACK, _NDARRAY, _RELEASE, _BUSY, _INTERRUPT, _HEAD = range(11)

_C_API = ("PyCapsule_GetPointer", "PyObject_Vectorcall", "Py_IncRef", "Py_DecRef", "PyList_New", "PyList_SetItem",
          "PyEval_SaveThread", "PyEval_RestoreThread", "PyErr_CheckSignals")
_state: dict = {}


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p), ("ml_flags", ctypes.c_int),
                ("ml_doc", ctypes.c_char_p)]


_METH_FASTCALL_KEYWORDS = 0x0080 | 0x0002


def _array_empty_index() -> Optional[int]:
    header = Path(np.get_include()) / "numpy" / "__multiarray_api.h"
    try:
        text = header.read_text()
    except OSError:
        return None
    m = re.search(r"#define PyArray_Empty \\\s*\n.*?PyArray_API\[(\d+)\]", text, re.S)
    return int(m.group(1)) if m else None


def _setup() -> bool:
    """Resolve the C API symbols and check the array layout on a probe (once)."""
    if "ok" in _state:
        return _state["ok"]
    _state["ok"] = False
    idx = _array_empty_index()
    if idx is None:
        return False
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype, get_ptr.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    table = get_ptr(np._core._multiarray_umath._ARRAY_API, None)
    empty = ctypes.cast(table + 8 * idx, ctypes.POINTER(ctypes.c_void_p))[0]
    # Probe: the layout we read and PyArray_Empty must agree with NumPy's own view.
    probe = np.empty((3, 5), np.float32)[:, ::2]
    base = id(probe)

    def word(off, t=ctypes.c_int64):
        return ctypes.cast(base + off, ctypes.POINTER(t))[0]

    dims = ctypes.cast(word(_OFF["dims"]), ctypes.POINTER(ctypes.c_int64))
    strides = ctypes.cast(word(_OFF["strides"]), ctypes.POINTER(ctypes.c_int64))
    ok = (word(_OFF["type"]) == id(np.ndarray) and word(_OFF["data"]) == probe.ctypes.data
          and word(_OFF["nd"], ctypes.c_int32) == 2 and word(_OFF["descr"]) == id(probe.dtype)
          and (dims[0], dims[1]) == probe.shape and (strides[0], strides[1]) == probe.strides
          and bool(word(_OFF["flags"], ctypes.c_int32) & _ALIGNED) == probe.flags.aligned)
    fn = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_int, ctypes.POINTER(ctypes.c_int64), ctypes.py_object,
                           ctypes.c_int)(empty)
    d = np.dtype(np.int16)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(d))  # PyArray_Empty steals a reference to the descriptor
    made = fn(2, (ctypes.c_int64 * 2)(4, 7), d, 0)
    ok = ok and isinstance(made, np.ndarray) and made.shape == (4, 7) and made.dtype == d
    if not ok:
        return False
    symbols = {"symcomp_PyArray_Empty": empty}
    for name in _C_API:
        symbols[f"symcomp_{name}"] = ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value
    _state["symbols"] = symbols
    _state["ok"] = True
    return True


def c_api_symbols() -> dict:
    """``{"symcomp_<name>": address}`` of the Python and NumPy C API functions the wrapper calls.

    Raises:
        KeyError: if the array layout check of the set-up failed (no wrapper is made then).
    """
    _setup()
    return _state["symbols"]


def _layout(in_ranks, out_ranks) -> dict:
    """Word offsets in the context: per input (descr, shape, strides), per output (descr, dims)."""
    pos, ins, outs = _HEAD, [], []
    for r in in_ranks:
        ins.append((pos, pos + 1, pos + 1 + r))
        pos += 1 + 2 * r
    for r in out_ranks:
        outs.append((pos, pos + 1))
        pos += 1 + max(r, 1)
    return {"in": ins, "out": outs, "size": pos}


def wrapper_ir(in_ranks: tuple, out_ranks: tuple, single: bool) -> str:
    """LLVM IR of the wrapper for these argument and result ranks (see the module docstring)."""
    from llvmlite import ir

    from symcomp.backends.cpu.codegen.context import I32, I64, PTR
    from symcomp.backends.cpu.codegen.loops import for_range

    m = ir.Module(name="symcomp.fastcall")
    lay = _layout(in_ranks, out_ranks)

    def decl(name, ret, args):
        return ir.Function(m, ir.FunctionType(ret, args), f"symcomp_{name}")

    get_ptr = decl("PyCapsule_GetPointer", PTR, [PTR, PTR])
    vcall = decl("PyObject_Vectorcall", PTR, [PTR, PTR, I64, PTR])
    incref = decl("Py_IncRef", ir.VoidType(), [PTR])
    decref = decl("Py_DecRef", ir.VoidType(), [PTR])
    list_new = decl("PyList_New", PTR, [I64])
    list_set = decl("PyList_SetItem", I32, [PTR, I64, PTR])
    empty = decl("PyArray_Empty", PTR, [I32, PTR, PTR, I32])
    save_thread = decl("PyEval_SaveThread", PTR, [])
    restore_thread = decl("PyEval_RestoreThread", ir.VoidType(), [PTR])
    check_signals = decl("PyErr_CheckSignals", I32, [])
    entry_t = ir.FunctionType(I32, [PTR, PTR])

    fn = ir.Function(m, ir.FunctionType(PTR, [PTR, PTR, I64, PTR]), "symcomp_fastcall")
    self_, args, nargs, kwnames = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    slow = fn.append_basic_block("slow")
    ctx = b.call(get_ptr, [self_, ir.Constant(PTR, None)])

    def word(i, typ=I64):
        return b.load(b.gep(ctx, [ir.Constant(I64, i)], source_etype=I64), typ=typ)

    def field(obj, name, typ):
        return b.load(b.gep(obj, [ir.Constant(I64, _OFF[name])], source_etype=ir.IntType(8)), typ=typ)

    def check(cond):
        ok = fn.append_basic_block("ok")
        b.cbranch(cond, ok, slow)
        b.position_at_end(ok)

    claimed = b.alloca(ir.IntType(1), name="claimed")  # this call marked the context busy
    b.store(ir.Constant(ir.IntType(1), 0), claimed)
    busy_at = b.gep(ctx, [ir.Constant(I64, _BUSY)], source_etype=I64)
    check(b.and_(b.and_(b.icmp_signed("!=", word(_ENABLED), ir.Constant(I64, 0)),
                        b.icmp_signed("==", word(_BUSY), ir.Constant(I64, 0))),
                 b.and_(b.icmp_unsigned("==", kwnames, ir.Constant(PTR, None)),
                        b.icmp_signed("==", nargs, ir.Constant(I64, len(in_ranks))))))
    # A call that will release the GIL claims the context at once, before anything that could run
    # Python code (and so let another thread in); every way out below gives it back.
    release = b.icmp_signed("!=", word(_RELEASE), ir.Constant(I64, 0))
    with b.if_then(release):
        b.store(ir.Constant(I64, 1), busy_at)  # under the GIL, as every other access
        b.store(ir.Constant(ir.IntType(1), 1), claimed)
    ndarray = word(_NDARRAY, PTR)
    datas = []
    for k, (r, (d_at, sh_at, st_at)) in enumerate(zip(in_ranks, lay["in"])):
        a = b.load(b.gep(args, [ir.Constant(I64, k)], source_etype=PTR), typ=PTR)
        check(b.icmp_unsigned("==", field(a, "type", PTR), ndarray))
        # dtype and rank first, in a branch of their own: the shape and strides arrays may only be
        # read once the rank is known to be r (a 0-d array has no dims array to read).
        check(b.and_(b.icmp_unsigned("==", field(a, "descr", PTR), word(d_at, PTR)),
                     b.icmp_signed("==", field(a, "nd", I32), ir.Constant(I32, r))))
        good = b.icmp_signed("!=", b.and_(field(a, "flags", I32), ir.Constant(I32, _ALIGNED)), ir.Constant(I32, 0))
        dims, strides = field(a, "dims", PTR), field(a, "strides", PTR)
        for ax in range(r):
            good = b.and_(good, b.icmp_signed("==", b.load(b.gep(dims, [ir.Constant(I64, ax)], source_etype=I64),
                                                           typ=I64), word(sh_at + ax)))
            good = b.and_(good, b.icmp_signed("==", b.load(b.gep(strides, [ir.Constant(I64, ax)], source_etype=I64),
                                                           typ=I64), word(st_at + ax)))
        check(good)
        datas.append(field(a, "data", I64))
    n_ptrs = word(_NPTRS)
    ptrs = b.alloca(I64, size=n_ptrs, name="ptrs")
    template = word(_PTRS, PTR)
    with for_range(b, 0, n_ptrs, name="copy") as i:
        b.store(b.load(b.gep(template, [i], source_etype=I64), typ=I64), b.gep(ptrs, [i], source_etype=I64))
    for k, d in enumerate(datas):
        b.store(d, b.gep(ptrs, [ir.Constant(I64, k)], source_etype=I64))
    outs = []
    for j, (r, (d_at, dims_at)) in enumerate(zip(out_ranks, lay["out"])):
        descr = word(d_at, PTR)
        b.call(incref, [descr])  # PyArray_Empty steals it
        o = b.call(empty, [ir.Constant(I32, r), b.gep(ctx, [ir.Constant(I64, dims_at)], source_etype=I64), descr,
                           ir.Constant(I32, 0)])
        failed = b.icmp_unsigned("==", o, ir.Constant(PTR, None))
        with b.if_then(failed, likely=False):  # MemoryError is set: release what we made, return NULL
            with b.if_then(release):
                b.store(ir.Constant(I64, 0), busy_at)
            for prev in outs:
                b.call(decref, [prev])
            b.ret(ir.Constant(PTR, None))
        outs.append(o)
        b.store(field(o, "data", I64), b.gep(ptrs, [ir.Constant(I64, len(in_ranks) + j)], source_etype=I64))
    entry = b.inttoptr(word(_ENTRY), entry_t.as_pointer())
    ints = word(_INTS, PTR)
    pre = b.block
    with b.if_then(release):
        saved = b.call(save_thread, [])
    tstate = b.phi(PTR)
    tstate.add_incoming(ir.Constant(PTR, None), pre)
    tstate.add_incoming(saved, saved.parent)
    status = b.call(entry, [ptrs, ints])
    with b.if_then(release):
        b.call(restore_thread, [tstate])
        b.store(ir.Constant(I64, 0), busy_at)
    with b.if_then(b.icmp_signed("!=", status, ir.Constant(I32, 0)), likely=False):
        for o in outs:  # the Python path computes again and raises the proper exception
            b.call(decref, [o])
        # Stopped by a SIGINT: clear the flag and run Python's handler now (KeyboardInterrupt),
        # rather than compute it all again on the Python path first.  Where the handler raises
        # nothing (another thread than the main one), the Python path runs the call again.
        interrupted = b.icmp_signed("==", b.and_(status, ir.Constant(I32, 15)), ir.Constant(I32, ERR_INTERRUPT))
        with b.if_then(interrupted, likely=False):
            b.store(ir.Constant(I32, 0), word(_INTERRUPT, PTR))
            raised = b.icmp_signed("!=", b.call(check_signals, []), ir.Constant(I32, 0))
            with b.if_then(raised):  # the context was given back right after the call
                b.ret(ir.Constant(PTR, None))
        b.branch(slow)
    b.position_at_end(b.block)
    if single:
        b.ret(outs[0])
    else:
        lst = b.call(list_new, [ir.Constant(I64, len(outs))])
        with b.if_then(b.icmp_unsigned("==", lst, ir.Constant(PTR, None)), likely=False):
            for o in outs:
                b.call(decref, [o])
            b.ret(ir.Constant(PTR, None))
        for j, o in enumerate(outs):
            b.call(list_set, [lst, ir.Constant(I64, j), o])  # steals the reference
        b.ret(lst)
    b.position_at_end(slow)
    with b.if_then(b.load(claimed)):
        b.store(ir.Constant(I64, 0), busy_at)
    b.ret(b.call(vcall, [word(_FALLBACK, PTR), args, nargs, kwnames]))
    return str(m)


_wrappers: dict = {}
_wrappers_lock = threading.RLock()


def _compile_wrapper(in_ranks, out_ranks, single) -> int:
    """Address of the wrapper for these ranks (compiled once per process, cached on disk; a cache
    hit loads its shared object without LLVM, :mod:`symcomp.backends.cpu.cache.sharedlib`)."""
    from symcomp.backends.cpu.cache import objects, sharedlib

    key = (in_ranks, out_ranks, single)
    with _wrappers_lock:  # one engine per key: a second compile would free the first one's code
        if key not in _wrappers:
            # Keyed by what determines the wrapper's code, not its IR text: a hit builds no IR (and
            # imports no IR builder); the cache fingerprint covers this module's source.
            ident = f"symcomp.fastcall in={in_ranks} out={out_ranks} single={single}"

            def build(cache_key):
                ref = machine.parse(wrapper_ir(in_ranks, out_ranks, single))
                machine.optimize(ref)
                obj = machine.emit_object(ref)
                meta = {"needs_blas": False}
                if cache_key is not None:
                    meta.update(sharedlib.build(cache_key, obj, machine.declared_functions(ref)))
                return objects.Entry(obj, meta)

            cache_key = objects.key_for(ident) if objects.enabled() else None
            entry, hit = objects.get_or_build(ident, build, cache_key)
            engine = sharedlib.load(cache_key, entry.meta) if hit else None
            if engine is None:
                machine.add_symbols(_state["symbols"])
                engine = machine.JitModule(entry.obj, False)
            _wrappers[key] = (engine, engine.address("symcomp_fastcall"))
        return _wrappers[key][1]


class FastCall:
    """The native entry point of one compiled function and its context.

    Args:
        entry: address of the function's ``i32 entry(ptr ptrs, ptr ints)``.
        in_ranks, out_ranks: ranks of the parameters and results.
        single: return the one result itself rather than a list.
        fallback: the Python path, called with the same arguments when the fast path does not apply.

    Attributes:
        callable: the Python callable (a builtin function), or None where no wrapper could be made.
    """

    def __init__(self, entry: int, in_ranks, out_ranks, single: bool, fallback):
        self.callable = None
        if not _setup():
            return
        self._lay = _layout(tuple(in_ranks), tuple(out_ranks))
        self._ctx = (ctypes.c_int64 * self._lay["size"])()
        self._ctx[_ENTRY] = entry
        self._ctx[_FALLBACK] = id(fallback)
        self._ctx[_NDARRAY] = id(np.ndarray)
        self._ctx[_INTERRUPT] = interrupt.flag_address()
        self._keep = [fallback]
        self._armed = None
        addr = _compile_wrapper(tuple(in_ranks), tuple(out_ranks), single)
        new_capsule = ctypes.pythonapi.PyCapsule_New
        new_capsule.restype, new_capsule.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p,
                                                                       ctypes.c_void_p]
        self._capsule = new_capsule(ctypes.addressof(self._ctx), None, None)
        self._def = _MethodDef(b"symcomp_fastcall", addr, _METH_FASTCALL_KEYWORDS, None)
        new_fn = ctypes.pythonapi.PyCFunction_NewEx
        new_fn.restype, new_fn.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.py_object, ctypes.c_void_p]
        self.callable = new_fn(ctypes.addressof(self._def), self._capsule, None)

    def retarget(self, entry: int) -> None:
        """Call the function at ``entry`` from now on (the same function, recompiled: tiered
        compilation).  One aligned 8-byte store: a call under way finishes on the old code,
        which the caller keeps loaded."""
        if self.callable is not None:
            self._ctx[_ENTRY] = entry

    def install(self, plan, arrays, ws_root: int) -> None:
        """Arm the wrapper for the signature of ``arrays`` (the checked arguments of a Python-path call)."""
        if self.callable is None:
            return
        ctx = self._ctx
        if ctx[_BUSY]:
            return  # a call on another thread is using the context and what it points to
        if ctx[_ENABLED] and self._armed is plan and all(ctx[d] == id(a.dtype) for a, (d, _, _) in
                                                          zip(arrays, self._lay["in"])):
            return  # armed for this signature already (the call took the Python path for another reason)
        ctx[_ENABLED] = 0
        if plan.workspace_bytes > MAX_WORKSPACE or any(type(a) is not np.ndarray or not a.flags.aligned
                                                       for a in arrays):
            return
        n = sum(a.size for a in arrays) + sum(math.prod(s) for s, _ in plan.outputs)
        ctx[_RELEASE] = int(n > MAX_ELEMENTS)
        for a, (d_at, sh_at, st_at) in zip(arrays, self._lay["in"]):
            ctx[d_at] = id(a.dtype)
            for ax, (s, st) in enumerate(zip(a.shape, a.strides)):
                ctx[sh_at + ax], ctx[st_at + ax] = s, st
        descrs = []
        for (shape, dt), (d_at, dims_at) in zip(plan.outputs, self._lay["out"]):
            descr = np.dtype(dt)
            descrs.append(descr)
            ctx[d_at] = id(descr)
            for ax, s in enumerate(shape):
                ctx[dims_at + ax] = s
        try:
            ws = np.empty(max(plan.workspace_bytes, 64), np.uint8)
        except MemoryError:
            return  # left disarmed: the Python path raises the MemoryError that names the op
        ptrs = plan.ptrs.copy()
        ptrs[ws_root] = ws.ctypes.data
        # Everything the context points to or compares by identity stays alive with it.
        self._keep = self._keep[:1] + [plan, ws, ptrs, descrs, [a.dtype for a in arrays]]
        self._armed = plan
        ctx[_INTS] = plan.ints.ctypes.data
        ctx[_PTRS] = ptrs.ctypes.data
        ctx[_NPTRS] = len(ptrs)
        ctx[_ENABLED] = 1
