"""Shape specialization: a compiled CPU function plus one input signature becomes a C-callable kernel.

The CPU backend's entry point is ``i32 entry(ptr ptrs, ptr ints)``: ``ints``
(sizes, strides, offsets, op parameters) is filled per input signature by the
planner in Python.  A kernel bakes one plan in: symcomp plans the given
shapes (C-contiguous arrays) at build time, and a small wrapper function
(LLVM IR, made here) fills ``ptrs`` from its pointer arguments, points
``ints`` at a constant array holding the plan, provides the workspace and
calls the entry.  Planning natively instead would mean porting every op's
type rule, broadcast check and planner to C: a second implementation of the
rules to keep in step.  The price of the choice is that a kernel serves one
shape signature (make one kernel per signature needed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np
from llvmlite import ir

from symcomp.embed.abi import ERR_NOMEM, Arg, KernelABI, c_identifier

I8, I32, I64, PTR = ir.IntType(8), ir.IntType(32), ir.IntType(64), ir.PointerType()

ShapesSpec = Union[None, Sequence, dict]


@dataclass
class Kernel:
    """A compiled function specialized for one set of input shapes.

    Attributes:
        abi: the C-level description (signature, shapes, workspace size).
        function: the :class:`symcomp.Function` it came from (kept alive: the kernel calls its code).
        ints: the planned ``ints`` array (int64).
        n_ptrs: length of the ``ptrs`` array the entry reads.
        arg_slots: ``ptrs`` index of each pointer argument, in ``abi.args`` order.
        ws_slot: ``ptrs`` index of the workspace.
        const_slots: ``ptrs`` index of each constant (global ``const<i>`` of the LLVM module).
        const_addrs: each constant's address in the loaded JIT code.
        entry_symbol: the LLVM name of the entry point.
    """

    abi: KernelABI
    function: object
    ints: np.ndarray
    n_ptrs: int
    arg_slots: tuple
    ws_slot: int
    const_slots: tuple
    const_addrs: tuple
    entry_symbol: str


def cpu_executable(f):
    """The CPU executable of a compiled function.

    Raises:
        TypeError: if ``f`` is not a :class:`symcomp.Function`.
        ValueError: if it was not compiled by the CPU backend.
    """
    from symcomp.backends.cpu.runtime.executable import CPUExecutable
    from symcomp.compile.function import Function

    if not isinstance(f, Function):
        raise TypeError(f"expected a symcomp.Function or an IR module, got {type(f).__name__}")
    if not isinstance(f.executable, CPUExecutable):
        raise ValueError(f"{f.name}: native kernels come from the CPU backend, but this function was compiled "
                         f"with mode={f.mode!r}, device={f.device!r}; use mode='fast' (or 'fast_compile') on the CPU")
    return f.executable


def shapes_by_position(shapes: ShapesSpec, names: list, owner: str, what: str) -> list:
    """``shapes`` (None, {name: shape} or a sequence) as one entry per name, None where not given.

    Raises:
        ValueError: for a name that is not in ``names``, or a sequence of another length; the
            message names ``owner`` and calls the names ``what`` ("inputs", "parameters").
    """
    if shapes is None:
        return [None] * len(names)
    if isinstance(shapes, dict):
        unknown = [k for k in shapes if k not in names]
        if unknown:
            raise ValueError(f"{owner}: shapes given for unknown {what} {unknown} ({what}: {names})")
        return [shapes.get(n) for n in names]
    given = list(shapes)
    if len(given) != len(names):
        raise ValueError(f"{owner}: {len(given)} shapes given for {len(names)} {what}")
    return given


def _input_shapes(f, shapes: ShapesSpec) -> list[tuple]:
    """One concrete shape per input: given, or static in the IR type."""
    inputs = f.signature.inputs
    given = shapes_by_position(shapes, [v.name for v in inputs], f.name, "inputs")
    out = []
    for i, (v, s) in enumerate(zip(inputs, given)):
        label = f"input {i}" + (f" ({v.name})" if v.name else "")
        t = v.type
        if s is None:
            if not t.is_static:
                raise ValueError(f"{f.name}: {label} has type {t} with dynamic sizes; give its shape "
                                 "(shapes=[...] or {name: shape})")
            s = t.shape
        s = tuple(int(d) for d in s)
        if not t.accepts_shape(s):
            raise ValueError(f"{f.name}: shape {s} for {label} does not fit its type {t}")
        out.append(s)
    return out


def _plan(exe, arrays):
    """The executable's plan for these arrays, writing every update into its own output buffer."""
    plan = exe._plan(arrays)
    if getattr(plan, "inplace_updates", None):  # the memory planner computes updates in place
        plan = exe._plan(arrays, shared_inplace=False)
    return plan


def specialize(f, shapes: ShapesSpec = None, symbol: Optional[str] = None) -> Kernel:
    """Plan ``f`` for one set of input shapes.

    Args:
        f: a :class:`symcomp.Function` compiled for the CPU.
        shapes: one shape per input (a list, or a dict by input name); None
            entries (or None) use the static shapes of the IR types.  Shared
            variables take the shape of their current value.
        symbol: the kernel's C name (default: the function's name, made a C identifier).

    Raises:
        ValueError: for missing or ill-fitting shapes, or shapes the function rejects
            (broadcasting, indexing: the planner's own errors).
        NotImplementedError: if a size depends on the value of a scalar argument
            (a kernel has one plan, fixed when it is built).
    """
    exe = cpu_executable(f)
    c = exe.c
    sig = f.signature
    if exe._value_params:
        names = [f"{c.func.args[k].name or k}" for k in exe._value_params]
        raise NotImplementedError(f"{f.name}: sizes depend on the values of scalar arguments {names}; a native "
                                  "kernel has one plan fixed when it is built (make those values constants)")
    if c.truncate:
        raise NotImplementedError(f"{f.name}: an output's length is the number of steps a scan with until runs, "
                                  "known only after the call; a native kernel returns fixed shapes")
    in_shapes = _input_shapes(f, shapes) + [tuple(s.container[0].shape) for s in sig.shared]
    params = list(sig.inputs) + list(sig.shared)
    arrays = [np.empty(s, p.type.dtype.np) for s, p in zip(in_shapes, params)]
    plan = _plan(exe, arrays)
    taken: set = set()

    def unique(name: str) -> str:
        base, k = name, 1
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        return name

    args = []
    for i, (p, s) in enumerate(zip(params, in_shapes)):
        shared = i >= len(sig.inputs)
        label = (f"shared variable {p.name} (current value)" if shared else f"input {i}"
                 + (f" ({p.name})" if p.name else ""))
        args.append(Arg(unique(c_identifier(p.name, f"in{i}")), "in", p.type.dtype, s, label))
    for j, (s, dt) in enumerate(plan.outputs):
        args.append(Arg(unique(f"out{j}"), "out", _dtype(dt), tuple(s), f"output {j}"))
    for u, ((var, _), (s, dt)) in enumerate(zip(sig.updates, plan.updates)):
        args.append(Arg(unique(c_identifier(f"new_{var.name}", f"upd{u}")), "update", _dtype(dt), tuple(s),
                        f"new value of shared variable {var.name}"))
    n_params = c.n_params
    n_out = len(plan.outputs)
    slots = tuple(list(range(n_params)) + [n_params + j for j in range(n_out)]
                  + [n_params + n_out + u for u in range(len(plan.updates))])
    n_consts = len(c.const_roots)
    ops = tuple(f"{op.name}" + (f" (created at {op.loc})" if op.loc else "") for op in c.ops)
    abi = KernelABI(kernel_symbol(f.name, symbol), tuple(args), int(plan.workspace_bytes), ops)
    const_slots = tuple(c.ws_root + 1 + i for i in range(n_consts))
    return Kernel(abi, f, np.asarray(plan.ints, dtype=np.int64), len(plan.ptrs), slots, c.ws_root, const_slots,
                  tuple(int(plan.ptrs[s]) for s in const_slots), c.symbol)


_RESERVED = re.compile(r"^(main|symcomp_.*|const\d+|op\d+_.*)$")


def kernel_symbol(func_name: str, symbol: Optional[str]) -> str:
    """The kernel's C name: ``symbol``, or the function's name (``main`` becomes ``main_kernel``).

    Raises:
        ValueError: if ``symbol`` is not a C identifier, or is reserved: ``main`` (the
            program's) or a name the compiled module uses (``symcomp_*``, ``const<N>``, ``op<N>_*``).
    """
    if symbol is None:
        name = c_identifier(func_name, "kernel")
        return name + "_kernel" if _RESERVED.match(name) else name
    if not isinstance(symbol, str) or c_identifier(symbol, "") != symbol:
        raise ValueError(f"kernel name {symbol!r} is not a C identifier")
    if _RESERVED.match(symbol):
        raise ValueError(f"kernel name {symbol!r} is reserved (main, symcomp_*, const<N> and op<N>_* are taken)")
    return symbol


def _dtype(np_dtype):
    from symcomp.ir.types import dtype

    return dtype(np_dtype)


def wrapper_ir(k: Kernel, entry: str, constants: str) -> str:
    """LLVM IR of the kernel's C-callable wrapper (see :mod:`symcomp.embed.abi` for its contract).

    Args:
        k: the kernel.
        entry: the LLVM name of the function to call (``i32 (ptr ptrs, ptr ints)``).
        constants: ``"address"``: the constants live in loaded JIT code at
            ``k.const_addrs``; ``"global"``: they are the globals ``const<i>`` of the
            module this one is linked into (ahead-of-time objects).
    """
    abi = k.abi
    mod = ir.Module(name=f"symcomp.kernel.{abi.symbol}")
    entry_fn = ir.Function(mod, ir.FunctionType(I32, [PTR, PTR]), entry)
    malloc = ir.Function(mod, ir.FunctionType(PTR, [I64]), "malloc")
    free = ir.Function(mod, ir.FunctionType(ir.VoidType(), [PTR]), "free")
    n = len(k.ints)
    ints_t = ir.ArrayType(I64, max(n, 1))
    ints = ir.GlobalVariable(mod, ints_t, f"{abi.symbol}.ints")
    ints.linkage = "internal"
    ints.global_constant = True
    ints.align = 8
    ints.initializer = ir.Constant(ints_t, [int(v) for v in k.ints] or [0])
    fn = ir.Function(mod, ir.FunctionType(I32, [PTR] * (len(abi.args) + 1)), abi.symbol)
    fn.attributes.add("nounwind")
    for a, arg in zip(fn.args, list(abi.args)):
        a.name = arg.name
        a.add_attribute("noalias")
    fn.args[-1].name = "workspace"
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    ptrs = b.alloca(I64, size=k.n_ptrs, name="ptrs")

    def slot_ptr(slot: int):
        return b.gep(ptrs, [ir.Constant(I64, slot)], inbounds=True, source_etype=I64)

    def put(slot: int, value) -> None:
        b.store(value, slot_ptr(slot))

    for slot, a in zip(k.arg_slots, fn.args):
        put(slot, b.ptrtoint(a, I64))
    for i, (slot, addr) in enumerate(zip(k.const_slots, k.const_addrs)):
        if constants == "address":
            put(slot, ir.Constant(I64, addr))
        else:
            g = ir.GlobalVariable(mod, I8, f"const{i}")  # a declaration: defined in the linked module
            put(slot, b.ptrtoint(g, I64))
    given = fn.args[-1]
    if abi.workspace_bytes:
        own = b.icmp_unsigned("==", given, ir.Constant(PTR, None), name="own_workspace")
        with b.if_then(own, likely=False):
            mem = b.call(malloc, [ir.Constant(I64, abi.workspace_bytes)])
            with b.if_then(b.icmp_unsigned("==", mem, ir.Constant(PTR, None)), likely=False):
                b.ret(ir.Constant(I32, ERR_NOMEM))
            put(k.ws_slot, b.ptrtoint(mem, I64))
        with b.if_then(b.not_(own)):
            put(k.ws_slot, b.ptrtoint(given, I64))
    else:
        own = None
        put(k.ws_slot, b.ptrtoint(given, I64))
    status = b.call(entry_fn, [ptrs, ints])
    if own is not None:
        with b.if_then(own):
            b.call(free, [b.inttoptr(b.load(slot_ptr(k.ws_slot), typ=I64), PTR)])
    b.ret(status)
    return str(mod)
