"""Plugins: a pass and a backend from a package installed in a temporary directory (dist-info entry points)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.modes import MODES, get_mode
from symcomp.passes.manager import PASSES, PipelineError, parse_pipeline, registered_passes

PLUGIN = '''
"""A tiny symcomp plugin: one pass and one backend."""
from dataclasses import dataclass

from symcomp.backends.reference import ReferenceExecutable
from symcomp.compile.modes import Mode
from symcomp.ir.ops.elementwise import Neg
from symcomp.passes.manager import ModulePass

COMPILED = []


@dataclass(frozen=True)
class NegateOutputs(ModulePass):
    name = "negate-outputs"
    description = "Negate every value a function returns (a test plugin)"

    def apply(self, module):
        for f in module.funcs:
            ret = f.return_op
            for i, v in enumerate(list(ret.operands)):
                neg = Neg([v], [v.type], {})
                f.body.insert_before(neg, ret)
                ret.set_operand(i, neg.result)


def _backend(device):
    def compile(module, sig, timings):
        COMPILED.append(module.func().sym_name)
        return ReferenceExecutable(module, sig, timings)
    return compile


COUNTING = Mode("counting", "negate-outputs", _backend)
NOT_A_MODE = 42
'''

ENTRY_POINTS = '''
[symcomp.passes]
negate-outputs = sc_test_plugin:NegateOutputs
misnamed-pass = sc_test_plugin:NegateOutputs

[symcomp.backends]
counting = sc_test_plugin:COUNTING
not-a-mode = sc_test_plugin:NOT_A_MODE
missing = sc_test_plugin:DOES_NOT_EXIST
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """The plugin package and its dist-info on sys.path, removed (with what it registered) afterwards."""
    (tmp_path / "sc_test_plugin.py").write_text(PLUGIN)
    info = tmp_path / "sc_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sc-test-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("negate-outputs", "misnamed-pass"):
        PASSES.pop(name, None)
    MODES.pop("counting", None)
    sys.modules.pop("sc_test_plugin", None)


def test_a_plugin_pass_is_loaded_when_a_pipeline_names_it(plugin):
    assert "sc_test_plugin" not in sys.modules  # nothing is imported before it is needed
    (p,) = parse_pipeline("negate-outputs")
    assert type(p).__module__ == "sc_test_plugin"
    x = T.dvector("x")
    f = symcomp.function([x], x * 2.0, mode="fast")
    p.apply(f.module)
    assert "sc.neg" in str(f.module)


def test_a_plugin_backend_is_a_mode(plugin):
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x), mode="counting")
    sc_test_plugin = sys.modules["sc_test_plugin"]
    assert sc_test_plugin.COMPILED == ["main"]
    xv = np.array([0.0, 1.0])
    np.testing.assert_allclose(f(xv), -np.exp(xv))  # its pipeline ran the plugin's pass
    assert get_mode("counting") is sc_test_plugin.COUNTING


def test_listing_loads_every_pass_and_reports_broken_plugins(plugin):
    with pytest.warns(RuntimeWarning, match="misnamed-pass = sc_test_plugin:NegateOutputs .*sc-test-plugin 0.1.* "
                                            "gives pass 'negate-outputs'"):
        passes = registered_passes()
    assert passes["negate-outputs"].description.startswith("Negate")
    assert "misnamed-pass" not in passes
    with pytest.raises(PipelineError, match="entry point's name must be the pass's name"):
        parse_pipeline("misnamed-pass")


def test_broken_backends_are_reported_by_name(plugin):
    with pytest.raises(ValueError, match="mode 'not-a-mode' is not available: .*gives 42, not a "
                                         "symcomp.compile.modes.Mode"):
        get_mode("not-a-mode")
    with pytest.raises(ValueError, match="mode 'missing' is not available: cannot load a backend from entry point "
                                         "missing .*AttributeError"):
        get_mode("missing")
    with pytest.raises(ValueError, match="unknown mode 'nope' \\(known: .*counting.*\\)"):
        get_mode("nope")


def test_symcomp_opt_sees_plugin_passes(plugin):
    src = plugin / "f.sc"
    src.write_text(textwrap.dedent("""\
        module {
          func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>) {
            func.return %x
          }
        }
        """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(plugin)] + sys.path))
    listing = subprocess.run([sys.executable, "-m", "symcomp.cli.opt", "--list-passes"], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert "negate-outputs: Negate every value a function returns" in listing
    out = subprocess.run([sys.executable, "-m", "symcomp.cli.opt", str(src), "--negate-outputs"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "sc.neg %x" in out


def test_no_plugins_means_unknown_names_stay_errors():
    with pytest.raises(PipelineError, match="unknown pass 'negate-outputs'"):
        parse_pipeline("negate-outputs")
