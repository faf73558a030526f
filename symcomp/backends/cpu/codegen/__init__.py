"""LLVM IR generation for the CPU backend: the emission context and calling convention
(:mod:`.context`), loop nests with SIMD inner loops (:mod:`.loops`), scalar and vector code per
elementwise op (:mod:`.scalar`), thread-parallel loop nests (:mod:`.parallel`), the native CPython
entry point of a compiled function (:mod:`.pyentry`) and shared splat constants (:mod:`.splat`).

Per-op lowerings that use these live in :mod:`symcomp.backends.cpu.lower`."""
