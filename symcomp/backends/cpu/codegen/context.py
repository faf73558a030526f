"""LLVM emission context for the CPU backend: the calling convention, slots and descriptors.

Calling convention of a compiled function::

    i32 entry(ptr ptrs, ptr ints)

``ptrs`` holds buffer base addresses: parameters, outputs, update results,
the workspace and constants.  ``ints`` holds every run-time integer the code
needs (sizes, strides, byte offsets, op parameters), each at a *slot*
allocated here at compile time and filled per input signature by the planner
(:mod:`symcomp.backends.cpu.runtime.planner`).  The return value is 0, or an error code
``(op_index << 4) | kind`` raised as a Python exception by the runtime.

Each op gets a private function ``i32 op(ptr ptrs, ptr ints)`` that the
entry calls with ``ints`` advanced to the op's own block of slots.  Slots are
numbered relative to that block and name the op's operands and results by
position, and the error kind is returned without the op index (the entry
adds it), so the code of an op depends only on its *structure* (name,
attributes, operand and result types, which operands are the same value, its
body): ops of equal structure share one LLVM function.  In the digits MLP
step its 60 ops need 27 op functions (all five matrix products share one),
which cut the LLVM IR from 6344 to 3858 lines before threading was added.

A tensor value is seen in LLVM through a :class:`Desc`: its data pointer, its
sizes (constants where the IR type knows them) and its element strides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from llvmlite import ir

from symcomp.backends.cpu.codegen import scalar as S
from symcomp.backends.cpu.toolchain.machine import ensure_initialized, target
from symcomp.ir.core import Operation, Value
from symcomp.ir.printer import Namer, Printer
from symcomp.ir.types import DType

I64 = ir.IntType(64)
I32 = ir.IntType(32)
I8 = ir.IntType(8)
I1 = ir.IntType(1)
PTR = ir.PointerType()


def i64(v: int) -> ir.Constant:
    return ir.Constant(I64, int(v))


@dataclass
class Desc:
    """A tensor in LLVM: data pointer, sizes and element strides (i64 values)."""

    ptr: ir.Value
    dims: list
    strides: list
    dtype: DType

    @property
    def ndim(self) -> int:
        return len(self.dims)


class Slots:
    """The global ``ints`` layout: one block of slots per op, keyed by what each slot holds.

    Keys are what :meth:`symcomp.backends.cpu.runtime.planner.PlanContext.fill_ints`
    reads: ``("p", op_index, name)``, ``("root"|"off", value_id)``,
    ``("dim"|"stride", value_id, axis)`` and ``("wsroot", 0)``.
    """

    def __init__(self):
        self.keys: list[tuple] = []

    def add_block(self, keys: list[tuple]) -> int:
        """Append an op's block of slots; returns its first index."""
        base = len(self.keys)
        self.keys.extend(keys)
        return base


class _PlainNamer(Namer):
    """Numbers every value in order of first use, ignoring name hints."""

    def _fresh(self, hint):
        return super()._fresh(None)


def structure_key(op: Operation) -> str:
    """Text determining the code of ``op``: the op printed with anonymous value names, its operand types.

    Two ops with the same key get the same LLVM function (see the module docstring).
    """
    pr = Printer()
    pr.namer = _PlainNamer()
    for v in op.operands:  # name operands first, so aliasing shows as a repeated name
        pr.namer(v)
    pr.lines = []
    pr._op(op, 0)
    return "\n".join(pr.lines) + " :: " + ", ".join(str(v.type) for v in op.operands)


class ModuleEmitter:
    """Builds the LLVM module of one compiled function."""

    def __init__(self, name: str, value_ids: dict, threads: bool = True, team_blas: bool = False):
        self.module = ir.Module(name=f"symcomp.{name}")
        st = ensure_initialized()  # the host's triple and data layout, so that dumped IR is usable by llc
        self.module.triple, self.module.data_layout = st["triple"], st["data_layout"]
        self.threads = threads  # may loops be split across a thread team (threads.py)
        self.team_blas = team_blas  # are matrix products split across the team (teamblas.py)
        self.slots = Slots()
        self.value_ids = value_ids
        self.calls: list[tuple[ir.Function, int, int]] = []  # (function, slot base, op index) in op order
        self.op_funcs: dict[int, tuple[ir.Function, int]] = {}  # op index -> (function, slot base), every op
        self.constants: list[tuple[str, object]] = []  # (global name, ndarray)
        self.constructors: list[ir.Function] = []  # run at load: fill splat constants
        self.vector_bits = target().vector_bits
        self._by_key: dict[str, tuple[ir.Function, list]] = {}

    def emit_op(self, index: int, op: Operation, emit, nested: bool = False) -> None:
        """The function computing ``op``, emitted by ``emit(op, E)`` unless an op of equal structure has one.

        ``nested``: the op is in a region: its parent's function calls it (``op_funcs``), not the entry.
        An op with regions of tensor ops gets a function of its own (it calls its regions' ops by
        their slot bases, which differ from op to op)."""
        key = structure_key(op)
        if op.regions and op.name != "sc.fused":
            key += f" @{index}"
        found = self._by_key.get(key)
        if found is None:
            fn = ir.Function(self.module, ir.FunctionType(I32, [PTR, PTR]),
                             f"op{index}_{op.name.replace('.', '_')}")
            fn.linkage = "internal"
            fn.attributes.add("nounwind")
            fn.args[0].add_attribute("noalias")
            fn.args[1].add_attribute("noalias")
            E = OpEmitter(self, fn, index, op)
            emit(op, E)
            E.finish()
            found = self._by_key[key] = (fn, E.local_keys)
        fn, local_keys = found
        refs = list(op.operands) + list(op.results)
        keys = []
        for k in local_keys:
            if k[0] == "p":
                keys.append(("p", index, k[1]))
            elif k[0] == "wsroot":
                keys.append(k)
            else:
                keys.append((k[0], self.value_ids[refs[k[1]]]) + tuple(k[2:]))
        base = self.slots.add_block(keys)
        self.op_funcs[index] = (fn, base)
        if not nested:
            self.calls.append((fn, base, index))

    def add_constant(self, array) -> str:
        """Embed ``array`` as the global ``const<i>`` (dumped IR, ahead-of-time objects).

        A splat (every element the same bytes) of at least :data:`SPLAT_FILL_BYTES` is not
        written out: its global is zero-initialized (``.bss``: no bytes in the object file) and,
        unless its element is all zero bits, filled by a loop that runs when the code is loaded
        (an ``llvm.global_ctors`` entry).  A 147-byte module holding ``dense<1.0> :
        tensor<67108864xf64>`` made a 1.48 GB ``--emit=llvm`` and a 537 MB object.
        """
        name = f"const{len(self.constants)}"
        self.constants.append((name, array))
        element = splat_element(array) if array.nbytes >= SPLAT_FILL_BYTES else None
        if element is not None:
            g = ir.GlobalVariable(self.module, ir.ArrayType(ir.IntType(8 * len(element)), array.size), name)
            g.align = 64
            g.initializer = ir.Constant(g.value_type, None)  # zeroinitializer
            if any(element):
                self._fill_at_load(g, element, array.size)
            return name
        data = bytearray(array.tobytes()) or bytearray(1)
        g = ir.GlobalVariable(self.module, ir.ArrayType(I8, len(data)), name)
        g.global_constant = True
        g.align = 64
        g.initializer = ir.Constant(ir.ArrayType(I8, len(data)), data)
        return name

    def _fill_at_load(self, g: ir.GlobalVariable, element: bytes, count: int) -> None:
        """A constructor storing ``element`` (little-endian bytes) ``count`` times into ``g``.

        The trip count is read with an atomic load from a global of its own, so that LLVM's
        static-constructor evaluation (GlobalOpt) cannot run the loop at compile time and write
        the data back into the module."""
        elem_t = ir.IntType(8 * len(element))
        n = ir.GlobalVariable(self.module, I64, f"{g.name}.count")
        n.linkage = "internal"
        n.initializer = ir.Constant(I64, count)
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), []), f"{g.name}.fill")
        fn.linkage = "internal"
        entry, loop, done = fn.append_basic_block("entry"), fn.append_basic_block("loop"), fn.append_basic_block("done")
        b = ir.IRBuilder(entry)
        total = b.load_atomic(n, "monotonic", 8, typ=I64)
        b.cbranch(b.icmp_unsigned("==", total, ir.Constant(I64, 0)), done, loop)
        b.position_at_end(loop)
        i = b.phi(I64)
        i.add_incoming(ir.Constant(I64, 0), entry)
        at = b.gep(g, [ir.Constant(I64, 0), i], inbounds=True)
        b.store(ir.Constant(elem_t, int.from_bytes(element, "little")), at, align=min(len(element), 64))
        nxt = b.add(i, ir.Constant(I64, 1))
        i.add_incoming(nxt, loop)
        b.cbranch(b.icmp_unsigned("==", nxt, total), done, loop)
        b.position_at_end(done)
        b.ret_void()
        self.constructors.append(fn)

    def _emit_constructors(self) -> None:
        if not self.constructors:
            return
        entry_t = ir.LiteralStructType([I32, PTR, PTR])
        table_t = ir.ArrayType(entry_t, len(self.constructors))
        table = ir.GlobalVariable(self.module, table_t, "llvm.global_ctors")
        table.linkage = "appending"
        table.initializer = ir.Constant(table_t, [ir.Constant(entry_t, [ir.Constant(I32, 65535), fn,
                                                                        ir.Constant(PTR, None)])
                                                  for fn in self.constructors])

    def release(self) -> None:
        """Take the finished module apart, once its text is printed.

        llvmlite's IR objects point to their parents (instruction to block to function to
        module) and back, and a loop's phi to the value computed from it, so the printed module
        is garbage that only the cyclic collector frees, after the compile (the digits MLP step:
        ~39,000 objects, a 12 ms collection before its first call).  Emptying the attributes of
        every function, block, argument and instruction, and of the module, breaks those
        cycles, and reference counting frees the objects at once.  The module must not be used
        afterwards.
        """
        parts = []
        for gv in self.module.globals.values():
            parts.append(gv)
            if isinstance(gv, ir.Function):
                parts += gv.args
                for block in gv.blocks:
                    parts.append(block)
                    parts += block.instructions
        for obj in parts + [self.module]:  # the module last: its metadata points back to it too
            vars(obj).clear()
        self._by_key.clear()
        self.calls.clear()

    def finish_entry(self, symbol: str) -> None:
        """The exported entry: calls each op function in order, stops at the first error."""
        fn = ir.Function(self.module, ir.FunctionType(I32, [PTR, PTR]), symbol)
        ptrs, ints = fn.args
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        for f, base, index in self.calls:
            st = b.call(f, [ptrs, b.gep(ints, [i64(base)], source_etype=I64)])
            fail = b.icmp_signed("!=", st, ir.Constant(I32, 0))
            with b.if_then(fail, likely=False):
                b.ret(op_status(b, st, index))
        b.ret(ir.Constant(I32, 0))
        self._emit_constructors()


def op_status(b: ir.IRBuilder, st: ir.Value, index: int) -> ir.Value:
    """The status to return for op ``index``'s nonzero status ``st``: ``(index << 4) | kind``, or
    ``st`` itself when it already names an op (an op inside a region, reported by its parent)."""
    named = b.icmp_unsigned(">=", st, ir.Constant(I32, 16))
    return b.select(named, st, b.or_(st, ir.Constant(I32, index << 4)))


SPLAT_FILL_BYTES = 4096
"""Splat constants of at least this many bytes are filled at load time rather than written out."""


def splat_element(array) -> Optional[bytes]:
    """The bytes of the one element every element of ``array`` equals (bit for bit), or None.

    A broadcast view (all strides 0, as the IR parser makes ``dense<v>``) is recognized without
    reading more than one element."""
    import numpy as np

    a = np.asarray(array)
    if a.size == 0:
        return None
    first = np.asarray(a[(0,) * a.ndim], dtype=a.dtype.newbyteorder("<")).tobytes()
    if all(st == 0 for st in a.strides):
        return first
    raw = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).reshape(-1).view(np.uint8).reshape(a.size, -1)
    return first if (raw == raw[0]).all() else None


class OpEmitter:
    """Emits one op's private function; gives access to descriptors, parameters and error flags."""

    def __init__(self, mod: ModuleEmitter, fn: ir.Function, index: int, op: Operation):
        self.mod = mod
        self.fn = fn
        self.index = index
        self.op = op
        self.ptrs, self.ints = fn.args
        self._start(fn)
        self._descs: dict[int, Desc] = {}
        self._refs = {id(v): k for k, v in enumerate(list(op.operands) + list(op.results))}
        self.local_keys: list[tuple] = []
        self._local: dict[tuple, int] = {}

    def child(self, fn: ir.Function) -> "OpEmitter":
        """An emitter for another function of this op (an outlined parallel loop): its own
        builder and error status; descriptors and parameters must be passed in explicitly."""
        c = OpEmitter.__new__(OpEmitter)
        c.mod, c.fn, c.index, c.op = self.mod, fn, self.index, self.op
        c.ptrs = c.ints = None
        c._start(fn)
        c._descs, c._refs, c.local_keys, c._local = {}, {}, self.local_keys, self._local
        return c

    def _start(self, fn: ir.Function) -> None:
        """An ``entry`` block that holds only stack cells and branches to ``body``, where code goes."""
        entry, body = fn.append_basic_block("entry"), fn.append_basic_block("body")
        self._allocas = ir.IRBuilder(entry)
        self._allocas.position_before(self._allocas.branch(body))
        self.b = ir.IRBuilder(body)
        self.status = self.entry_alloca(I32, name="status")
        self.b.store(ir.Constant(I32, 0), self.status)

    def entry_alloca(self, typ: ir.Type, size: Optional[int] = None, name: str = "") -> ir.Value:
        """A stack cell allocated once in the function's entry block (never inside a loop,
        where every iteration would take new stack space)."""
        return self._allocas.alloca(typ, size=None if size is None else i64(size), name=name)

    # -- slots -------------------------------------------------------------------------
    def load_slot(self, key: tuple, name: str = "") -> ir.Value:
        """Load the ``ints`` slot holding ``key``: ("p", name), ("wsroot", 0), or
        ("root"|"off", operand/result position) and ("dim"|"stride", position, axis)."""
        i = self._local.get(key)
        if i is None:
            i = self._local[key] = len(self.local_keys)
            self.local_keys.append(key)
        p = self.b.gep(self.ints, [i64(i)], source_etype=I64)
        return self.b.load(p, typ=I64, name=name)

    def param(self, name: str) -> ir.Value:
        """An op parameter computed by the planner (``P.set_param(name, ...)``)."""
        return self.load_slot(("p", name), name)

    # -- descriptors ---------------------------------------------------------------------
    def ref(self, v: Value) -> int:
        """Position of ``v`` among the op's operands and results.

        Raises:
            KeyError: if ``v`` is neither (a lowering may only touch its own op's values).
        """
        try:
            return self._refs[id(v)]
        except KeyError:
            raise KeyError(f"{self.op.name}: lowering touched a value that is not an operand or result") from None

    def desc(self, v: Value) -> Desc:
        """Pointer, sizes and strides of value ``v`` (loaded once per op function)."""
        r = self.ref(v)
        d = self._descs.get(r)
        if d is None:
            b = self.b
            root = self.load_slot(("root", r))
            base = b.load(b.gep(self.ptrs, [root], source_etype=PTR), typ=PTR)
            ptr = b.gep(base, [self.load_slot(("off", r))], source_etype=I8)
            dims = [i64(s) if s is not None else self.load_slot(("dim", r, a)) for a, s in enumerate(v.type.shape)]
            strides = [self.load_slot(("stride", r, a)) for a in range(v.type.ndim)]
            d = self._descs[r] = Desc(ptr, dims, strides, v.type.dtype)
        return d

    # -- element access ------------------------------------------------------------------
    def elem_ptr(self, ptr: ir.Value, dtype: DType, index: ir.Value) -> ir.Value:
        return self.b.gep(ptr, [index], source_etype=S.llvm_type(dtype, in_memory=True))

    def load(self, ptr: ir.Value, dtype: DType, index: ir.Value, lanes: Optional[int] = None) -> ir.Value:
        """Load one element (or ``lanes`` consecutive ones) at element ``index``; bools become i1."""
        b = self.b
        mt = S.llvm_type(dtype, in_memory=True)
        p = b.gep(ptr, [index], source_etype=mt)
        t = ir.VectorType(mt, lanes) if lanes else mt
        v = b.load(p, typ=t, align=max(1, dtype.itemsize))
        if dtype.is_bool:
            zero = ir.Constant(t, [ir.Constant(I8, 0)] * lanes) if lanes else ir.Constant(I8, 0)
            v = b.icmp_unsigned("!=", v, zero)
        return v

    def store(self, value: ir.Value, ptr: ir.Value, dtype: DType, index: ir.Value) -> None:
        b = self.b
        mt = S.llvm_type(dtype, in_memory=True)
        if dtype.is_bool:
            value = b.zext(value, ir.VectorType(I8, value.type.count) if isinstance(value.type, ir.VectorType) else I8)
        b.store(value, b.gep(ptr, [index], source_etype=mt), align=max(1, dtype.itemsize))

    def store_streaming(self, value: ir.Value, ptr: ir.Value, dtype: DType, index: ir.Value) -> None:
        """Store a vector of ``dtype`` at element ``index``, which the caller guarantees is aligned
        to the vector's size, with a non-temporal hint (x86 ``vmovntps``/``vmovntpd``: the lines are
        written to memory without being read for ownership first, and not kept in the caches).
        The caller ends the stores with :meth:`store_fence`."""
        b = self.b
        nbytes = value.type.count * dtype.itemsize
        st = b.store(value, b.gep(ptr, [index], source_etype=S.llvm_type(dtype, in_memory=True)), align=nbytes)
        st.set_metadata("nontemporal", b.module.add_metadata([ir.Constant(I32, 1)]))

    def store_fence(self) -> None:
        """x86 ``sfence``: the non-temporal stores before it are globally visible before any store after it."""
        from symcomp.backends.cpu.vecmath.libcalls import declare

        self.b.call(declare(self.b.module, "llvm.x86.sse.sfence", ir.VoidType(), []), [])

    def masked_load(self, ptr, dtype: DType, index, mask, lanes: int, passthru=None) -> ir.Value:
        b = self.b
        mt = S.llvm_type(dtype, in_memory=True)
        vt = ir.VectorType(mt, lanes)
        name = f"llvm.masked.load.{_vname(vt)}.p0"
        fn = b.module.globals.get(name) or ir.Function(b.module, ir.FunctionType(vt, [PTR, I32, mask.type, vt]), name)
        if passthru is None:
            passthru = ir.Constant(vt, [ir.Constant(mt, 0)] * lanes)
        v = b.call(fn, [b.gep(ptr, [index], source_etype=mt), ir.Constant(I32, max(1, dtype.itemsize)), mask, passthru])
        if dtype.is_bool:
            v = b.icmp_unsigned("!=", v, ir.Constant(vt, [ir.Constant(I8, 0)] * lanes))
        return v

    def masked_store(self, value, ptr, dtype: DType, index, mask) -> None:
        b = self.b
        mt = S.llvm_type(dtype, in_memory=True)
        if dtype.is_bool:
            value = b.zext(value, ir.VectorType(I8, value.type.count))
        vt = value.type
        name = f"llvm.masked.store.{_vname(vt)}.p0"
        fn = b.module.globals.get(name) or ir.Function(
            b.module, ir.FunctionType(ir.VoidType(), [vt, PTR, I32, mask.type]), name)
        b.call(fn, [value, b.gep(ptr, [index], source_etype=mt), ir.Constant(I32, max(1, dtype.itemsize)), mask])

    # -- errors ---------------------------------------------------------------------------
    def flag_error(self, cond: ir.Value, kind: int) -> None:
        """Record error ``kind`` where ``cond`` holds (scalar or vector of i1)."""
        b = self.b
        if isinstance(cond.type, ir.VectorType):
            name = f"llvm.vector.reduce.or.v{cond.type.count}i1"
            fn = b.module.globals.get(name) or ir.Function(b.module, ir.FunctionType(I1, [cond.type]), name)
            cond = b.call(fn, [cond])
        code = ir.Constant(I32, kind)
        b.store(b.select(cond, code, b.load(self.status, typ=I32)), self.status)

    def scalar_context(self, lanes: Optional[int]) -> S.ScalarContext:
        return S.ScalarContext(self.b, lanes, self.flag_error)

    def lanes_for(self, dtypes) -> int:
        """SIMD lane count for code touching ``dtypes`` (the widest element decides)."""
        widest = max(max(d.bits, 8) for d in dtypes)
        return max(2, self.mod.vector_bits // widest)

    def finish(self) -> None:
        self.b.ret(self.b.load(self.status, typ=I32))


def _vname(vt: ir.VectorType) -> str:
    e = vt.element
    if isinstance(e, ir.DoubleType):
        s = "f64"
    elif isinstance(e, ir.FloatType):
        s = "f32"
    else:
        s = f"i{e.width}"
    return f"v{vt.count}{s}"
