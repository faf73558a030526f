"""LLVM emission context for the CPU backend: the calling convention, slots and descriptors.

Calling convention of a compiled function (and of each op's private function)::

    i32 entry(ptr ptrs, ptr ints)

``ptrs`` holds buffer base addresses: parameters, outputs, update results,
the workspace and constants.  ``ints`` holds every run-time integer the code
needs (sizes, strides, byte offsets, op parameters), each at a *slot*
allocated here at compile time and filled per input signature by the planner
(:mod:`symcomp.backends.cpu.plan`).  The return value is 0, or an error code
``(op_index << 4) | kind`` raised as a Python exception by the runtime.

A tensor value is seen in LLVM through a :class:`Desc`: its data pointer, its
sizes (constants where the IR type knows them) and its element strides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from llvmlite import ir

from symcomp.backends.cpu import scalar as S
from symcomp.backends.cpu.jit import target
from symcomp.ir.core import Operation, Value
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
    """Compile-time allocation of ``ints`` slots, keyed by what they hold."""

    def __init__(self):
        self.keys: list[tuple] = []
        self.index: dict[tuple, int] = {}

    def __call__(self, key: tuple) -> int:
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.keys)
            self.keys.append(key)
        return i


class ModuleEmitter:
    """Builds the LLVM module of one compiled function."""

    def __init__(self, name: str, value_ids: dict):
        self.module = ir.Module(name=f"symcomp.{name}")
        self.slots = Slots()
        self.value_ids = value_ids
        self.op_functions: list[ir.Function] = []
        self.constants: list[tuple[str, object]] = []  # (global name, ndarray)
        self.vector_bits = target().vector_bits

    def new_op_function(self, index: int, op: Operation) -> "OpEmitter":
        fn = ir.Function(self.module, ir.FunctionType(I32, [PTR, PTR]), f"op{index}_{op.name.replace('.', '_')}")
        fn.linkage = "internal"
        fn.attributes.add("nounwind")
        fn.args[0].add_attribute("noalias")
        fn.args[1].add_attribute("noalias")
        self.op_functions.append(fn)
        return OpEmitter(self, fn, index, op)

    def add_constant(self, array) -> str:
        name = f"const{len(self.constants)}"
        data = bytearray(array.tobytes()) or bytearray(1)
        g = ir.GlobalVariable(self.module, ir.ArrayType(I8, len(data)), name)
        g.global_constant = True
        g.align = 64
        g.initializer = ir.Constant(ir.ArrayType(I8, len(data)), data)
        self.constants.append((name, array))
        return name

    def finish_entry(self, symbol: str) -> None:
        """The exported entry: calls each op function in order, stops at the first error."""
        fn = ir.Function(self.module, ir.FunctionType(I32, [PTR, PTR]), symbol)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        for f in self.op_functions:
            st = b.call(f, list(fn.args))
            fail = b.icmp_signed("!=", st, ir.Constant(I32, 0))
            with b.if_then(fail, likely=False):
                b.ret(st)
        b.ret(ir.Constant(I32, 0))


class OpEmitter:
    """Emits one op's private function; gives access to descriptors, parameters and error flags."""

    def __init__(self, mod: ModuleEmitter, fn: ir.Function, index: int, op: Operation):
        self.mod = mod
        self.fn = fn
        self.index = index
        self.op = op
        self.ptrs, self.ints = fn.args
        entry = fn.append_basic_block("entry")
        self.b = ir.IRBuilder(entry)
        self.status = self.b.alloca(I32, name="status")
        self.b.store(ir.Constant(I32, 0), self.status)
        self._descs: dict[int, Desc] = {}

    # -- slots -------------------------------------------------------------------------
    def load_slot(self, key: tuple, name: str = "") -> ir.Value:
        i = self.mod.slots(key)
        p = self.b.gep(self.ints, [i64(i)], source_etype=I64)
        return self.b.load(p, typ=I64, name=name)

    def param(self, name: str) -> ir.Value:
        """An op parameter computed by the planner (slot ('p', op index, name))."""
        return self.load_slot(("p", self.index, name), name)

    # -- descriptors ---------------------------------------------------------------------
    def vid(self, v: Value) -> int:
        return self.mod.value_ids[v]

    def desc(self, v: Value) -> Desc:
        """Pointer, sizes and strides of value ``v`` (loaded once per op function)."""
        vid = self.vid(v)
        d = self._descs.get(vid)
        if d is None:
            b = self.b
            root = self.load_slot(("root", vid))
            base = b.load(b.gep(self.ptrs, [root], source_etype=PTR), typ=PTR)
            ptr = b.gep(base, [self.load_slot(("off", vid))], source_etype=I8)
            dims = [i64(s) if s is not None else self.load_slot(("dim", vid, a)) for a, s in enumerate(v.type.shape)]
            strides = [self.load_slot(("stride", vid, a)) for a in range(v.type.ndim)]
            d = self._descs[vid] = Desc(ptr, dims, strides, v.type.dtype)
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
        code = ir.Constant(I32, (self.index << 4) | kind)
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
