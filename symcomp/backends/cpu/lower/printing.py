"""``sc.print`` on the CPU: copy the operand into the (C-contiguous) result, then call the
process's print callback with it (:mod:`symcomp.backends.cpu.runtime.printing`)."""

from __future__ import annotations

import hashlib

from symcomp.backends.cpu.lower import Lowering, lowering


def _cstring(module, text: str):
    """A private constant global holding ``text`` (UTF-8, NUL-terminated); its pointer."""
    from llvmlite import ir

    data = text.encode("utf-8") + b"\0"
    name = "symcomp_str_" + hashlib.sha1(data).hexdigest()[:16]
    g = module.globals.get(name)
    if g is None:
        t = ir.ArrayType(ir.IntType(8), len(data))
        g = ir.GlobalVariable(module, t, name)
        g.global_constant = True
        g.linkage = "internal"
        g.initializer = ir.Constant(t, bytearray(data))
    return g


@lowering("sc.print")
class PrintLowering(Lowering):
    """A copy, then one callback with the copy's pointer and sizes."""

    def emit(self, op, E):
        from llvmlite import ir

        from symcomp.backends.cpu.codegen.context import I64, PTR, i64
        from symcomp.backends.cpu.codegen.loops import Array, emit_copy
        from symcomp.backends.cpu.runtime.printing import SYMBOL
        from symcomp.backends.cpu.vecmath.libcalls import declare

        b = E.b
        x = op.operands[0]
        xd, od = E.desc(x), E.desc(op.result)
        emit_copy(E, xd.dims, Array(xd.ptr, x.type.dtype, xd.strides), Array(od.ptr, x.type.dtype, od.strides))
        nd = max(x.type.ndim, 1)
        dims = E.entry_alloca(I64, size=nd)
        for k, d in enumerate(od.dims):
            b.store(d, b.gep(dims, [i64(k)], source_etype=I64))
        mod = b.module
        args = [_cstring(mod, op.message), _cstring(mod, ",".join(op.attrs)), _cstring(mod, x.type.dtype.name),
                od.ptr, i64(x.type.ndim), dims]
        fn = declare(mod, SYMBOL, ir.VoidType(), [PTR, PTR, PTR, PTR, I64, PTR])
        b.call(fn, args)
