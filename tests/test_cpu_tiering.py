"""Tiered compilation (symcomp/backends/cpu/toolchain/tiering.py): a module too large for level-2 machine
code up front runs level-0 code first, then switches to level-2 code compiled in the background.
Both tiers must compute bit-identical results, equal to the NumPy reference backend's."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.cache import objects
from symcomp.backends.cpu.codegen import pyentry
from symcomp.backends.cpu.toolchain import machine
from symcomp.backends.cpu.runtime import background


@pytest.fixture
def tier_up():
    """Tiering on, the disk cache off (a hit would load the level-2 code another test left)."""
    saved = symcomp.config.tier_up, symcomp.config.cache
    symcomp.config.tier_up, symcomp.config.cache = True, False
    yield
    symcomp.config.tier_up, symcomp.config.cache = saved


def _loss_and_grads(mode="fast"):
    """Loss and gradients of a two-hidden-layer tanh MLP: a pure function (no updates, so the
    native call wrapper serves it) whose module is larger than jit.SMALL_MODULE_LINES."""
    x, y = T.dmatrix("x"), T.lvector("y")
    params = [T.dmatrix("W1"), T.dvector("b1"), T.dmatrix("W2"), T.dvector("b2"), T.dmatrix("W3"), T.dvector("b3")]
    W1, b1, W2, b2, W3, b3 = params
    h1 = T.tanh(T.dot(x, W1) + b1)
    h2 = T.tanh(T.dot(h1, W2) + b2)
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h2, W3) + b3), y))
    return symcomp.function([x, y] + params, [loss] + T.grad(loss, params), mode=mode)


def _args():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((300, 20))
    y = rng.integers(0, 5, 300)
    shapes = [(20, 32), (32,), (32, 16), (16,), (16, 5), (5,)]
    return [x, y] + [rng.standard_normal(s) * 0.3 for s in shapes]


def _same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a, b))


def test_large_module_switches_to_level_2_code_with_identical_results(tier_up):
    f = _loss_and_grads()
    assert machine.codegen_level(f.dump("llvm").count("\n")) == machine.CODEGEN_LEVEL < machine.CODEGEN_LEVEL_SMALL
    ex = f.executable
    args = _args()
    first = [np.copy(o) for o in f(*args)]
    assert ex.tier_thread is not None  # native-call functions start it after the first call
    assert background.wait(120)
    assert len(ex._retired) == 1
    assert ex._fasts and all(fc._ctx[pyentry._ENTRY] == ex.jit.address(ex.c.symbol) for fc in ex._fasts)
    second = f(*args)
    assert _same(first, second)
    want = _loss_and_grads(mode="reference")(*args)
    for got, ref in zip(second, want):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


def test_switch_is_safe_while_other_threads_call(tier_up):
    """Calls on four threads while the entry address changes under them: every result equal."""
    from concurrent.futures import ThreadPoolExecutor

    f = _loss_and_grads()
    args = _args()
    want = [np.copy(o) for o in f(*args)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: [np.copy(o) for o in f(*args)], range(200)))
    assert background.wait(120)
    assert f.executable._retired
    assert all(_same(want, r) for r in results)


def test_updates_start_the_background_compile_at_the_second_call(tier_up):
    W = symcomp.shared(np.zeros((20, 5)), name="W")
    x, y = T.dmatrix("x"), T.lvector("y")
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.tanh(T.dot(x, W))), y))
    step = symcomp.function([x, y], loss, updates=[(W, W - 0.1 * T.grad(loss, W))])
    ex = step.executable
    assert machine.codegen_level(step.dump("llvm").count("\n")) == machine.CODEGEN_LEVEL
    args = _args()[:2]
    step(*args)
    assert ex.tier_thread is None
    step(*args)
    assert ex.tier_thread is not None
    assert background.wait(120)


def test_tier_up_off_keeps_level_0_code(tier_up):
    symcomp.config.tier_up = False
    f = _loss_and_grads()
    args = _args()
    for _ in range(3):
        f(*args)
    assert f.executable.tier_thread is None and not f.executable._retired


def test_cache_entry_is_replaced_by_the_level_2_code(tier_up, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(tmp_path))
    symcomp.config.cache = True
    f = _loss_and_grads()
    args = _args()
    first = [np.copy(o) for o in f(*args)]
    assert background.wait(120)
    entries = [objects.decode(p.read_bytes()) for p in tmp_path.glob(f"*{objects.OBJECT}")]
    assert [e.meta["level"] for e in entries] == [machine.CODEGEN_LEVEL_SMALL]
    g = _loss_and_grads()  # a hit: the level-2 code, nothing left to tier up
    assert g.executable._tier_up is None
    assert _same(first, g(*args))


def test_level_0_cache_entry_is_upgraded_by_the_process_that_loads_it(tier_up, tmp_path, monkeypatch):
    """An entry still at level 0 (its first process never tiered up) is compiled again at level 2
    by the next process that loads it, from LLVM IR generated again."""
    monkeypatch.setenv("SYMCOMP_CACHE_DIR", str(tmp_path))
    symcomp.config.cache = True
    symcomp.config.tier_up = False
    args = _args()
    first = [np.copy(o) for o in _loss_and_grads()(*args)]
    symcomp.config.tier_up = True
    g = _loss_and_grads()  # a hit on the level-0 entry
    assert g.executable._tier_up is not None
    assert _same(first, g(*args))
    assert background.wait(120)
    assert g.executable._retired
    assert _same(first, g(*args))
    entries = [objects.decode(p.read_bytes()) for p in tmp_path.glob(f"*{objects.OBJECT}")]
    assert [e.meta["level"] for e in entries] == [machine.CODEGEN_LEVEL_SMALL]


def test_config_rejects_non_bool():
    with pytest.raises(ValueError, match="tier_up"):
        symcomp.config.tier_up = "yes"


def test_exit_while_the_background_compile_runs_is_clean(tmp_path):
    """A process that exits right after starting the tier-up waits for it (the thread is not a
    daemon) instead of unloading LLVM under it: exit status 0, nothing on stderr but warnings."""
    import os
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "exit_early.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import symcomp
        symcomp.config.cache = False
        import test_cpu_tiering as t
        f = t._loss_and_grads()
        f(*t._args())
        assert f.executable.tier_thread is not None and f.executable.tier_thread.is_alive()
        print("exiting")
    """))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "exiting"


_ALLOCA_IR = """
define i64 @f(i64 %x) {
entry:
  %cell = alloca i64
  store i64 %x, ptr %cell
  %v = load i64, ptr %cell
  %w = add i64 %v, 0
  ret i64 %w
}
"""


def test_first_tier_code_gets_the_quick_ir_pipeline():
    """Level-0 code (a large module's first tier) is optimized without instcombine: its stack
    cells still become registers (sroa), but an add of 0 stays; level-2 code folds it."""
    assert machine.ir_pipeline(machine.CODEGEN_LEVEL) == "quick" and machine.ir_pipeline(machine.CODEGEN_LEVEL_SMALL) == "lean"
    out = {}
    for level in ("quick", "lean"):
        ref = machine.parse(_ALLOCA_IR)
        machine.optimize(ref, level)
        out[level] = str(ref.get_function("f"))
    assert "alloca" not in out["quick"] and "add i64 %x, 0" in out["quick"]
    assert "alloca" not in out["lean"] and "add" not in out["lean"] and "ret i64 %x" in out["lean"]
    with pytest.raises(ValueError, match="'quick'"):
        machine.optimize(machine.parse(_ALLOCA_IR), "fast")
