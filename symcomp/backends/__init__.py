"""Backends: ``reference`` (NumPy interpreter, the oracle), ``cpu`` (LLVM via llvmlite), ``cuda`` (PTX via Numba)."""
