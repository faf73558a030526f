"""Every op in the registry has what DESIGN.md promises: a type rule, NumPy semantics, a CPU lowering."""

import pytest

from symcomp.backends.cpu.lower import LOWERINGS, load_all
from symcomp.ir.opdef import OPS
from symcomp.ir.parser import load_ops

load_ops()  # every op module (some, as sc.print's, are imported only when used): the same tests in every worker

STRUCTURAL = {"builtin.module", "func.func", "func.return", "sc.yield", "sc.assign"}


def test_every_op_has_a_cpu_lowering():
    load_all()
    missing = sorted(set(OPS) - set(LOWERINGS) - STRUCTURAL)
    assert not missing, f"ops the CPU backend cannot compile: {missing}"


@pytest.mark.parametrize("name", sorted(set(OPS) - STRUCTURAL))
def test_op_declares_its_rules(name):
    cls = OPS[name]
    assert cls.__doc__ or cls.__mro__[1].__doc__, f"{name} has no docstring"
    assert "infer" in vars(cls) or any("infer" in vars(b) for b in cls.__mro__[1:-1]), f"{name}: no type rule"
    assert any("ref" in vars(b) for b in cls.__mro__[:-1]), f"{name}: no NumPy reference semantics"
