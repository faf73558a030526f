"""PTX of every op's kernels, produced by NVVM on the CPU (no GPU needed), parsed for entries and parameters.

Also: compile-time errors for ops the CUDA backend cannot compile, and the
clear error when a CUDA function is called on a machine without a GPU.
"""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

if importlib.util.find_spec("numba_cuda") is None:
    pytest.skip("the CUDA backend needs numba-cuda (pip install -e '.[cuda]')", allow_module_level=True)

import symcomp  # noqa: E402
from symcomp import tensor as T  # noqa: E402
from symcomp.backends.cuda import emit_ptx  # noqa: E402
from symcomp.backends.cuda.lower import LOWERINGS  # noqa: E402
from test_cuda_cases import assign_cases, graph, op_cases  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def real_numba_cuda():
    from numba.cuda.core import config

    if config.ENABLE_CUDASIM:
        pytest.skip("PTX cannot be produced while Numba's CUDA simulator is on")


def _one_case_per_op_and_every_fused():
    seen, out = set(), []
    for c in op_cases() + assign_cases():
        if c.op == "sc.fused" or c.op not in seen:
            seen.add(c.op)
            out.append(c)
    return out


_ENTRY = re.compile(r"\.visible \.entry (\S+)\(\s*(.*?)\)", re.S)
_PARAM = re.compile(r"\.param \.(\w+) (\S+?)(?:,|$)", re.M)
_KERNEL = re.compile(r"^// kernel (\S+) for: (.*)$", re.M)
_PTX_TYPE = {"ptr": "u64", "i64": "u64", "float64": "f64", "float32": "f32"}


def parse_listing(text: str) -> dict:
    """{kernel name: (entry symbol, [param types])} of a ``f.dump("ptx")`` listing."""
    out = {}
    marks = list(_KERNEL.finditer(text))
    for i, m in enumerate(marks):
        body = text[m.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        entries = _ENTRY.findall(body)
        if not entries:
            continue  # "(listed above)": the kernel is shared with an earlier op
        assert len(entries) == 1, f"kernel {m.group(1)}: {len(entries)} entry points"
        symbol, params = entries[0]
        assert ".version" in body and ".target sm_90" in body
        out[m.group(1)] = (symbol, [t for t, _ in _PARAM.findall(params)])
    return out


@pytest.mark.parametrize("case", _one_case_per_op_and_every_fused(), ids=lambda c: c.id)
def test_ptx_of_every_op(case):
    ins, outs, updates, _ = graph(case)
    f = symcomp.function(ins, outs, updates=updates, device="cuda", on_unused_input="ignore")
    text = f.dump("ptx")
    kernels = parse_listing(text)
    specs = {s.name: s for _, ss in f.executable.kernels for s in ss}
    assert set(kernels) == set(specs)
    for name, (symbol, ptx_params) in kernels.items():
        spec = specs[name]
        assert name in symbol
        expected = []  # a 1-D array (atomics) is passed as Numba's 7-field array struct
        for p in spec.params:
            expected += ["u64"] * 7 if p.kind == "array" else [_PTX_TYPE.get(p.kind if p.kind != "scalar" else p.dtype)]
        assert len(ptx_params) == len(expected), f"{name}: {ptx_params} vs {spec.params}"
        for p, t, want in zip(spec.params, ptx_params, expected):
            if want is not None:
                assert t == want, f"{name}: parameter {p.name} is .{t}, expected .{want}"
    op_names = {re.search(r"\b([a-z_]+\.[a-z_0-9]+)\b", m.group(2)).group(1) for m in _KERNEL.finditer(text)}
    launches = {op.name for op, ss in f.executable.kernels if ss}
    assert launches <= op_names
    if case.op in ("sc.transpose", "sc.expand_dims", "sc.squeeze", "sc.broadcast_to", "sc.dim", "sc.subtensor"):
        assert case.op not in launches  # views and sizes launch nothing


def test_emit_ptx_of_a_module_lists_each_kernel_once():
    x = T.dmatrix("x")
    # fast_compile: no fusion, so the graph keeps one kernel per op (fused kernels are tested elsewhere)
    f = symcomp.function([x], [T.exp(x) + 1.0, T.exp(x * 2.0), T.sum(T.exp(x), axis=0)], device="cuda",
                         mode="fast_compile")
    text = emit_ptx(f.module)
    kernels = parse_listing(text)
    specs = [s.name for _, ss in f.executable.kernels for s in ss]
    assert set(kernels) == set(specs)
    assert len(specs) > len(set(specs))  # exp(x) and exp(x * 2) share one kernel...
    assert text.count(".entry") == len(set(specs))  # ...listed once
    assert "(listed above)" in text


def test_unlowerable_op_is_a_compile_time_error(monkeypatch):
    monkeypatch.delitem(LOWERINGS, "sc.erf")
    x = T.dvector("x")
    with pytest.raises(NotImplementedError, match="sc.erf"):
        symcomp.function([x], T.erf(x) * 2, device="cuda", mode="fast_compile")


def test_calling_without_a_gpu_raises_a_clear_error():
    from numba import cuda

    if cuda.is_available():
        pytest.skip("a GPU is present")
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x), device="cuda")
    assert ".entry" in f.dump("ptx")
    with pytest.raises(RuntimeError, match="no CUDA GPU was found"):
        f(np.ones(3))


def test_calling_with_shared_variables_without_a_gpu_raises_the_same_clear_error():
    """Uploading the shared variables used to come first, and crashed inside Numba (CudaSupportError)."""
    from numba import cuda

    if cuda.is_available():
        pytest.skip("a GPU is present")
    x = T.dmatrix("x")
    W = symcomp.shared(np.arange(6.0).reshape(3, 2), name="W")
    f = symcomp.function([x], T.dot(x, W).sum(), updates=[(W, W * 0.5)], device="cuda")
    with pytest.raises(RuntimeError, match="no CUDA GPU was found"):
        f(np.ones((2, 3)))
    np.testing.assert_array_equal(W.get_value(), np.arange(6.0).reshape(3, 2))  # untouched, still readable


PTX_DUMP = """
import numpy as np, symcomp
from symcomp import tensor as T
x = T.dmatrix("x")
W = symcomp.shared(np.ones((3, 2)), name="W")
f = symcomp.function([x], T.exp(T.dot(x, W)).sum(axis=1), updates=[(W, W * 0.5)], device="cuda")
print(f.dump("ptx"), end="")
"""


def test_ptx_dump_works_under_the_simulator_too(tmp_path):
    """The README says dumping PTX works without a GPU; with the simulator on it used to be refused
    (the simulator replaces Numba's compiler in its process: a child process without it compiles)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", SYMCOMP_CACHE_DIR=str(tmp_path))
    simulated = subprocess.run([sys.executable, "-c", PTX_DUMP], capture_output=True, text=True, env=env,
                               timeout=600)
    assert simulated.returncode == 0, simulated.stderr[-3000:]
    here: dict = {}
    exec(PTX_DUMP.replace('print(f.dump("ptx"), end="")', 'text = f.dump("ptx")'), here)
    assert simulated.stdout == here["text"]
    assert simulated.stdout.count(".visible .entry") >= 2


def test_config_device_selects_the_cuda_backend():
    old = symcomp.config.device
    symcomp.config.device = "cuda"
    try:
        x = T.dvector("x")
        f = symcomp.function([x], x * 2)
    finally:
        symcomp.config.device = old
    assert f.device == "cuda" and "ptx" in f.executable.stages


def test_ptx_is_cached_on_disk(tmp_path, monkeypatch):
    from symcomp.backends.cuda import driver, ptx_cache

    monkeypatch.setattr(ptx_cache, "cache_dir", lambda: str(tmp_path))
    x = T.fvector("x")
    spec = symcomp.function([x], T.tanh(x) * 3, device="cuda").executable.kernels[-1][1][0]
    first = driver.ptx(spec.name, spec.source, spec.signature())
    assert len(list(tmp_path.rglob("*.ptx"))) == 1

    def no_compile(*args, **kwargs):
        raise AssertionError("compiled again instead of reading the cache")

    monkeypatch.setattr(driver, "make_function", no_compile)
    assert driver.ptx(spec.name, spec.source, spec.signature()) == first
    old = symcomp.config.cache
    symcomp.config.cache = False
    try:
        with pytest.raises(AssertionError, match="compiled again"):
            driver.ptx(spec.name, spec.source, spec.signature())
    finally:
        symcomp.config.cache = old
