"""From a prepared module to CUDA kernels: kernel rendering, PTX listings.

Preparation is shared with the CPU backend (:func:`symcomp.backends.prepare.prepare`):
every output and update result gets a fresh buffer (values that are
arguments, views or returned twice are copied with ``sc.copy``), and sizes
that would depend on tensor data are refused with NotImplementedError.

Every op is then looked up in the lowering table and its general kernels are
rendered, so an op the CUDA backend cannot compile is a NotImplementedError
naming it at compile time.  PTX is produced on demand (``f.dump("ptx")``), by
NVVM on the CPU.
"""

from __future__ import annotations

from symcomp.backends.cuda import driver
from symcomp.backends.cuda.lower import lookup
from symcomp.ir.printer import Printer

_SKIP = ("func.return", "sc.assign")


def legalize(module) -> None:
    """Rewrite composite ops the CUDA backend does not lower (sc.gemm) into core ops, in place."""
    from symcomp.passes.decompose import Decompose

    Decompose().apply(module)


def general_kernels(func, ops=None) -> list:
    """(op, [KernelSpec]) for every op of ``func`` (or of ``ops``), rendering the general kernels.

    Raises:
        NotImplementedError: naming the first op the CUDA backend cannot compile.
    """
    out = []
    for op in ops if ops is not None else func.body.ops:
        if op.name in _SKIP:
            continue
        out.append((op, lookup(op).kernels(op)))
    return out


_PTX_CACHE: dict = {}


def kernel_ptx(spec) -> str:
    """The PTX of one kernel (cached per kernel name, which hashes its source)."""
    text = _PTX_CACHE.get(spec.name)
    if text is None:
        text = driver.ptx(spec.name, spec.source, spec.signature())
        _PTX_CACHE[spec.name] = text
    return text


def ptx_listing(func, kernels: list) -> str:
    """The PTX of every kernel of ``func``, each preceded by a comment naming its op.

    A kernel shared by several ops (equal source) is listed once.
    """
    todo = {spec.name: spec for _, specs in kernels for spec in specs if spec.name not in _PTX_CACHE}
    _PTX_CACHE.update(zip(todo, driver.ptx_many(todo.values())))  # one child process under the simulator
    printer = Printer()
    for a in func.args:
        printer.namer(a)
    lines = [f"// symcomp: CUDA kernels of @{func.sym_name} (PTX for sm_{driver.COMPUTE_CAPABILITY[0]}"
             f"{driver.COMPUTE_CAPABILITY[1]}, compiled by Numba CUDA / NVVM)"]
    seen = set()
    by_op = dict(kernels)
    for op in func.body.ops:
        text = printer.op_text(op)
        for spec in by_op.get(op, []):
            if spec.name in seen:
                lines.append(f"// kernel {spec.name} (listed above) for: {text}")
                continue
            seen.add(spec.name)
            lines.append(f"// kernel {spec.name} for: {text}")
            lines.append(kernel_ptx(spec))
    return "\n".join(lines) + "\n"


def emit_ptx(module) -> str:
    """The PTX of every kernel of every function in ``module`` (no GPU needed).

    Kernels are listed in their general form (full rank, every operand in
    device memory); at run time the planner may use variants specialized to
    the call's shapes (coalesced dimensions, scalars passed by value).

    Raises:
        NotImplementedError: naming an op the CUDA backend cannot compile.
        ImportError: when Numba CUDA is not installed (``pip install -e '.[cuda]'``).
    """
    legalize(module)
    return "".join(ptx_listing(f, general_kernels(f)) for f in module.funcs)


__all__ = ["general_kernels", "ptx_listing", "emit_ptx", "kernel_ptx"]
