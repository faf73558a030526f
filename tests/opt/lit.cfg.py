"""lit configuration of the symcomp-opt tests (``tests/opt/*.sc``).

Each test is an IR file whose ``// RUN:`` lines run ``symcomp-opt`` and pipe
its output into ``filecheck`` against the file's ``// CHECK:`` lines.  Both
tools are taken from the bin directory of the Python running lit (the
virtual environment's), so the tests work from a clean clone after
``pip install -e '.[test]'``; ``tests/test_opt_lit.py`` runs them from pytest.
"""

import os
import sys

import lit.formats

config.name = "symcomp-opt"  # noqa: F821  (lit defines `config`)
config.test_format = lit.formats.ShTest(execute_external=False)  # noqa: F821
config.suffixes = [".sc"]  # noqa: F821
config.test_source_root = os.path.dirname(__file__)  # noqa: F821
# Temporary files (%t): where pytest says (--param exec_root=...), else tests/opt/Output.
config.test_exec_root = lit_config.params.get("exec_root", os.path.join(config.test_source_root, "Output"))  # noqa: F821

_bin = os.path.dirname(sys.executable)
for tool in ("symcomp-opt", "filecheck"):
    if not os.path.exists(os.path.join(_bin, tool)):
        lit_config.fatal(f"{tool} is not installed next to {sys.executable}; run pip install -e '.[test]'")  # noqa: F821
config.environment["PATH"] = os.pathsep.join([_bin, os.environ.get("PATH", "")])  # noqa: F821
config.environment["PYTHONIOENCODING"] = "utf-8"  # noqa: F821

# The real MLIR tools (Debian's mlir-22-tools) for `// REQUIRES: mlir-opt-22` tests; CI installs them
# and must not silently skip those tests.
import shutil  # noqa: E402

if shutil.which("mlir-opt-22"):
    config.available_features.add("mlir-opt-22")  # noqa: F821
elif os.environ.get("CI"):
    lit_config.fatal("mlir-opt-22 is required in CI (apt-get install mlir-22-tools)")  # noqa: F821
