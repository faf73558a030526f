"""Finding and running the upstream MLIR tools (``mlir-opt``, ``mlir-translate``).

symcomp uses LLVM 22's tools, the LLVM major of llvmlite 0.50, so the LLVM IR
``mlir-translate`` prints parses in llvmlite.  On Debian and Ubuntu they come
with the package ``mlir-22-tools`` (``apt-get install mlir-22-tools``), as
``mlir-opt-22`` and ``mlir-translate-22`` on the PATH and under
``/usr/lib/llvm-22/bin``.  The environment variable ``SYMCOMP_MLIR_BIN`` may
name another directory holding ``mlir-opt`` and ``mlir-translate`` of LLVM 22.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from typing import Optional, Sequence

MLIR_MAJOR = 22
"""The LLVM major version of the MLIR tools symcomp drives (that of llvmlite 0.50)."""

INSTALL_HINT = f"install Debian's mlir-{MLIR_MAJOR}-tools (apt-get install mlir-{MLIR_MAJOR}-tools)"


class MLIRToolError(RuntimeError):
    """An MLIR tool is missing or rejected its input (the message carries the tool's diagnostics)."""


def find_tool(name: str) -> Optional[str]:
    """The path of ``name`` (``"mlir-opt"``, ``"mlir-translate"``) of LLVM 22, or None if absent."""
    override = os.environ.get("SYMCOMP_MLIR_BIN")
    if override:
        path = os.path.join(override, name)
        return path if os.access(path, os.X_OK) else None
    found = shutil.which(f"{name}-{MLIR_MAJOR}")
    if found:
        return found
    path = f"/usr/lib/llvm-{MLIR_MAJOR}/bin/{name}"
    return path if os.access(path, os.X_OK) else None


def require_tool(name: str) -> str:
    """The path of ``name``.

    Raises:
        MLIRToolError: if it is not installed, saying how to install it.
    """
    path = find_tool(name)
    if path is None:
        raise MLIRToolError(f"{name}-{MLIR_MAJOR} was not found; {INSTALL_HINT}, or set SYMCOMP_MLIR_BIN "
                            f"to a directory holding {name} of LLVM {MLIR_MAJOR}")
    return path


def available() -> bool:
    """True when both mlir-opt and mlir-translate of LLVM 22 are installed."""
    return find_tool("mlir-opt") is not None and find_tool("mlir-translate") is not None


def run_tool(name: str, args: Sequence[str], text: str, timeout: float = 300.0) -> str:
    """Run an MLIR tool on ``text`` (stdin) and return its stdout.

    Raises:
        MLIRToolError: if the tool is missing, fails or times out, with its diagnostics.
    """
    path = require_tool(name)
    try:
        proc = subprocess.run([path, *args], input=text, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MLIRToolError(f"{name} {' '.join(args)} did not finish within {timeout:.0f} s") from None
    if proc.returncode != 0:
        diag = proc.stderr.strip()
        if len(diag) > 4000:
            diag = diag[:4000] + "\n..."
        raise MLIRToolError(f"{name} {' '.join(args)} failed (exit status {proc.returncode}):\n{diag}")
    return proc.stdout


def c_runner_utils() -> Optional[str]:
    """Path of MLIR's ``libmlir_c_runner_utils`` next to mlir-opt (it defines ``memrefCopy``), or None."""
    opt = find_tool("mlir-opt")
    if opt is None:
        return None
    libdir = os.path.join(os.path.dirname(os.path.realpath(opt)), os.pardir, "lib")
    found = sorted(glob.glob(os.path.join(libdir, "libmlir_c_runner_utils.so*")))
    return os.path.normpath(found[0]) if found else None
