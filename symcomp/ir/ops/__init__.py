"""The op definitions of the ``sc`` dialect, one module per family: each op declared once with
its operands, attributes, type rule, NumPy reference semantics and VJP (:mod:`symcomp.ir.opdef`).

Nothing is imported here: :func:`symcomp.ir.parser.load_ops` imports every module of this package
on first use, which registers its ops in ``OPS``."""
