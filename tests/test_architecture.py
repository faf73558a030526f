"""The layers of docs/architecture.md, as pyproject.toml's import-linter contract states them.

import-linter (``lint-imports``) builds the import graph of the installed ``symcomp`` package
(imports inside functions included) and checks every contract in ``[tool.importlinter]``.
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    exe = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is not installed: it is part of the 'test' extra (import-linter)")
    return exe


def test_import_layers_are_kept():
    """Every contract is kept; the output names the offending import chain when one is not."""
    res = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", res.stdout), res.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The check can fail: a copy of the tree in which the IR imports the compile layer is refused."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "symcomp", tree / "symcomp", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    bad = tree / "symcomp" / "ir" / "printer.py"
    bad.write_text(bad.read_text() + "\n\ndef _upward():\n    from symcomp.compile import function  # noqa: F401\n")
    env = dict(os.environ, PYTHONPATH=str(tree))
    res = subprocess.run([_lint_imports(), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=300,
                         env=env)
    assert res.returncode != 0
    assert "symcomp.ir is not allowed to import symcomp.compile" in res.stdout, res.stdout


def test_the_contract_lists_every_top_level_module():
    """A new top-level module or package must be given a layer (or it would be unchecked)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layered = {name.strip() for c in config["contracts"] if c["type"] == "layers"
               for layer in c["layers"] for name in re.split(r"[|:]", layer)}
    present = {f"symcomp.{p.stem if p.is_file() else p.name}" for p in (ROOT / "symcomp").iterdir()
               if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").exists()}
    assert present - layered == set(), f"modules without a layer: {sorted(present - layered)}"
