"""Modes by Theano's names and ``Mode`` objects (issue 22, part 5).

Reference: Theano 1.0 ``theano/compile/mode.py`` (``predefined_linkers``, ``predefined_optimizers``,
``Mode(linker=None, optimizer='default')``, ``including``/``excluding``, ``get_mode``: the strings
'FAST_RUN', 'FAST_COMPILE', 'DebugMode', 'NanGuardMode'); ``theano/compile/debugmode.py``
(``register_mode('DEBUG_MODE', ...)``).
"""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.modes import FAST_COMPILE_PIPELINE, FAST_PIPELINE, Mode as BaseMode, get_mode

EXECUTABLES = {"DebugMode": "DebugExecutable", "DEBUG_MODE": "DebugExecutable",
               "NanGuardMode": "NanGuardExecutable", "FAST_RUN": "CPUExecutable", "FAST_COMPILE": "CPUExecutable"}


@pytest.mark.parametrize("name", sorted(EXECUTABLES))
def test_theano_mode_names_work_in_a_fresh_process(name):
    code = ("import numpy as np, symcomp\nfrom symcomp import tensor as T\nx = T.dvector('x')\n"
            f"f = symcomp.function([x], x * 2, mode={name!r})\n"
            "print(f.mode, type(f.executable).__name__, f(np.ones(2)).tolist())")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().split(maxsplit=2) == [name, EXECUTABLES[name], "[2.0, 2.0]"]


def test_config_mode_takes_theano_names():
    old = symcomp.config.mode
    try:
        symcomp.config.mode = "NanGuardMode"
        x = T.dvector("x")
        with pytest.raises(FloatingPointError):
            symcomp.function([x], T.log(x))(np.array([-1.0]))
    finally:
        symcomp.config.mode = old


@pytest.mark.parametrize("optimizer,pipeline", [
    ("fast_run", FAST_PIPELINE), ("default", FAST_PIPELINE), ("o4", FAST_PIPELINE),
    ("fast_compile", FAST_COMPILE_PIPELINE), ("o1", FAST_COMPILE_PIPELINE), (None, ""), ("None", ""),
    ("merge", "cse,dce"), ("o3", FAST_PIPELINE.replace(",inplace", "")),
    ("o2", "canonicalize,constant-fold,stabilize,cse,fuse,dce"),
    ("unsafe", FAST_PIPELINE.replace(",inplace", "").replace("canonicalize", "canonicalize{fast-math=true}")),
    ("canonicalize,cse", "canonicalize,cse"),
])
def test_theano_optimizers_map_to_pipelines(optimizer, pipeline):
    m = symcomp.Mode(optimizer=optimizer) if optimizer != "default" else symcomp.Mode()
    assert m.pipeline == pipeline
    assert isinstance(m, BaseMode) and m.linker == "cvm"


@pytest.mark.parametrize("linker,executable", [("cvm", "CPUExecutable"), ("c|py", "CPUExecutable"),
                                               ("vm", "CPUExecutable"), ("py", "ReferenceExecutable")])
def test_linkers_map_to_backends(linker, executable):
    x = T.dmatrix("x")
    f = symcomp.function([x], T.exp(x).sum(axis=1), mode=symcomp.Mode(linker=linker, optimizer="fast_compile"))
    assert type(f.executable).__name__ == executable
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(f(a), np.exp(a).sum(axis=1), rtol=1e-14)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown optimizer 'fastest' \(known: None, fast_compile, fast_run"):
        symcomp.Mode(optimizer="fastest")
    with pytest.raises(ValueError, match=r"unknown linker 'cxx' \(known: .*cvm"):
        symcomp.Mode(linker="cxx")
    with pytest.raises(ValueError, match=r"unknown optimizer tag 'gpu' \(known: .*fusion"):
        symcomp.Mode().excluding("gpu")
    x = T.dvector("x")
    with pytest.raises(ValueError, match="unknown mode 'FAST_RUNN'"):
        symcomp.function([x], x * 1, mode="FAST_RUNN")


def test_including_and_excluding_change_what_runs():
    x = T.dvector("x")
    expr = T.exp(x) * 2 + 1
    fused = lambda mode: "sc.fused" in symcomp.function([x], expr, mode=mode).dump("optimized")  # noqa: E731
    assert fused(symcomp.Mode())
    no_fusion = symcomp.Mode().excluding("fusion")
    assert "fuse" not in no_fusion.pipeline.split(",") and not fused(no_fusion)
    assert not fused(symcomp.Mode(optimizer="fast_compile"))
    with_fusion = symcomp.Mode(optimizer="fast_compile").including("local_elemwise_fusion")
    assert with_fusion.pipeline == "canonicalize,constant-fold,stabilize,cse,fuse,dce" and fused(with_fusion)
    assert symcomp.Mode().excluding("inplace", "merge").pipeline == \
        "canonicalize,constant-fold,stabilize,canonicalize,cpu-gemm-fold,fuse,dce"
    assert symcomp.Mode(optimizer=None).including("fast_run").pipeline.split(",") == \
        ["canonicalize", "constant-fold", "stabilize", "cse", "cpu-gemm-fold", "fuse", "inplace", "dce"]
    assert "fast-math=true" in symcomp.Mode().including("unsafe").pipeline
    assert symcomp.Mode().including("fusion").pipeline == FAST_PIPELINE  # already there
    assert symcomp.Mode().excluding("fuse").pipeline == no_fusion.pipeline  # a symcomp pass name is a tag


def test_every_registered_mode_has_including_and_excluding():
    m = get_mode("FAST_RUN").excluding("fusion")
    assert m.backend is get_mode("fast").backend and "fuse" not in m.pipeline
    nan = get_mode("NanGuardMode").excluding("inplace")
    x = T.dvector("x")
    with pytest.raises(FloatingPointError):
        symcomp.function([x], T.sqrt(x), mode=nan)(np.array([-1.0]))
    debug = get_mode("DebugMode").excluding("fusion")
    assert debug.backend.pipeline == debug.pipeline  # the debug mode replays the pipeline it runs
    f = symcomp.function([x], T.exp(x) * 2, mode=debug)
    assert type(f.executable).__name__ == "DebugExecutable" and "sc.fused" not in f.dump("optimized")
    np.testing.assert_array_equal(f(np.zeros(2)), [2.0, 2.0])


def test_no_optimizer_still_computes_the_same():
    x = T.dvector("x")
    a = np.array([0.5, 1.5])
    f = symcomp.function([x], T.log(1 + T.exp(x)), mode=symcomp.Mode(optimizer=None))
    assert "sc.softplus" not in f.dump("optimized")
    np.testing.assert_allclose(f(a), np.log1p(np.exp(a)), rtol=1e-14)


def test_a_function_compiled_with_a_mode_object_pickles():
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x), mode=symcomp.Mode(linker="py", optimizer="fast_compile").including("fusion"))
    g = pickle.loads(pickle.dumps(f))
    assert g.mode == f.mode == "Mode(linker=py, optimizer=fast_compile)+fusion"
    np.testing.assert_array_equal(g(np.zeros(2)), [1.0, 1.0])
    assert type(g.executable).__name__ == "ReferenceExecutable"
