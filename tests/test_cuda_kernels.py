"""CUDA kernels against the reference backend, on a GPU when one is present, else in Numba's CUDA simulator.

The simulator must be switched on (``NUMBA_ENABLE_CUDASIM=1``) before Numba is
imported, which this pytest process may already have done in real mode for
other tests.  So, without a GPU, cases run in one spawned worker process with
the simulator on; the reference results are computed here.  With a GPU (or
when this process already runs the simulator), cases run in this process.
``SYMCOMP_CUDA_TESTS=sim`` forces the simulator worker even with a GPU.

Shapes are small and ragged (not multiples of the block size); under the
simulator the planner uses 16-thread blocks and at most 3 blocks per grid, so
grid-stride loops, multi-block reductions and two-stage reductions all run.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

if importlib.util.find_spec("numba_cuda") is None:  # not importing numba.cuda: see _enable_simulator
    pytest.skip("the CUDA backend needs numba-cuda (pip install -e '.[cuda]')", allow_module_level=True)

import symcomp  # noqa: E402
from test_cuda_cases import (  # noqa: E402
    Case, In, assign_cases, every_op_covered, graph, make_inputs, op_cases, oracle,
)

CASES = op_cases()


# -- where cases run ------------------------------------------------------------------------------------
def _enable_simulator() -> None:
    """Worker initializer: the simulator must be on before numba.cuda is imported."""
    if "numba.cuda" in sys.modules:
        raise RuntimeError("numba.cuda was imported before the simulator could be enabled")
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    # The simulator runs a Python thread per CUDA thread and syncs blocks by polling;
    # a short switch interval makes __syncthreads() rounds ~10x faster.
    sys.setswitchinterval(1e-4)
    _lock_simulator_shared_arrays()


def _lock_simulator_shared_arrays() -> None:
    """Work around a race in Numba's simulator (numba-cuda 0.30): ``cuda.shared.array`` looks up the
    block's array for the calling source line and creates it if missing, without a lock, so two
    threads of a block can each create one and no longer share memory (seen once in a few hundred
    runs of a textbook tree reduction when threads switch often).  This version holds a lock."""
    import threading

    from numba.cuda.np import numpy_support
    from numba.cuda.simulator import kernelapi
    from numba.cuda import types

    lock = threading.Lock()
    original = kernelapi.FakeCUDAShared.array

    def array(self, shape, dtype, alignment=None):
        if alignment is not None or shape == 0:
            return original(self, shape, dtype, alignment)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        frame = sys._getframe(1)
        key = (frame.f_code.co_filename, frame.f_lineno)
        with lock:
            res = self._allocations.get(key)
            if res is None:
                res = self._allocations[key] = np.empty(shape, dtype)
        return res

    kernelapi.FakeCUDAShared.array = array


def _in_process() -> bool:
    """True when kernels can run in this process: a GPU, or the simulator already on here."""
    if os.environ.get("SYMCOMP_CUDA_TESTS") == "sim":
        from numba.cuda.core import config

        return bool(config.ENABLE_CUDASIM)
    from numba import cuda

    return cuda.is_available()


@pytest.fixture(scope="module")
def run_cuda():
    """``run_cuda(fn, *args)`` runs a module-level function of this file where kernels can run."""
    if _in_process():
        from numba.cuda.core import config

        if config.ENABLE_CUDASIM:
            _lock_simulator_shared_arrays()
        yield lambda fn, *args: fn(*args)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=_enable_simulator) as pool:
        yield lambda fn, *args: pool.submit(fn, *args).result(timeout=600)


# -- executing a case (in either process) ------------------------------------------------------------------
def execute(case: Case, calls: list, device: str, device_io: bool = False):
    """Compile ``case`` for ``device`` ("cuda" or "reference") and call it once per input list in ``calls``.

    Returns ("ok", [outputs per call], [final shared values]) or ("raised", type name, message).
    """
    ins, outs, updates, shared = graph(case)
    opts = {"mode": "reference"} if device == "reference" else {"device": "cuda"}
    f = symcomp.function(ins, outs, updates=updates, on_unused_input="ignore", **opts)
    if device_io:
        from numba import cuda

        f.executable.return_device_arrays = True
        calls = [[cuda.to_device(a) for a in args] for args in calls]
    results = []
    try:
        for args in calls:
            out = f(*args)
            results.append([_host(o) for o in out])
        values = [s.get_value() for s in shared]
    except (ValueError, IndexError, TypeError, RuntimeError) as exc:
        return ("raised", type(exc).__name__, str(exc))
    return ("ok", results, values)


def _host(a) -> np.ndarray:
    """A NumPy copy of an output (a CuPy or Numba device array when device outputs were asked for)."""
    if isinstance(a, np.ndarray):
        return a
    return np.asarray(a.get() if hasattr(a, "get") else a.copy_to_host())


def _tolerance(dtype: np.dtype, ref: np.ndarray) -> tuple:
    rtol = 2e-6 if dtype == np.float32 else 1e-11
    finite = np.abs(ref[np.isfinite(ref)]) if ref.size else np.zeros(0)
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    return rtol, 64 * rtol * scale


def assert_same(got, ref, what: str = "") -> None:
    """Results of the CUDA backend equal the reference's: dtypes, shapes, exact ints, close floats."""
    assert got[0] == ref[0], f"{what}: cuda {got}, reference {ref}"
    if ref[0] == "raised":
        return
    for call, (g_outs, r_outs) in enumerate(zip(got[1], ref[1])):
        for k, (g, r) in enumerate(zip(g_outs, r_outs)):
            where = f"{what} call {call} output {k}"
            assert g.dtype == r.dtype, f"{where}: dtype {g.dtype} != {r.dtype}"
            assert g.shape == r.shape, f"{where}: shape {g.shape} != {r.shape}"
            if r.dtype.kind == "f":
                rtol, atol = _tolerance(r.dtype, r)
                np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, equal_nan=True, err_msg=where)
            else:
                np.testing.assert_array_equal(g, r, err_msg=where)
    for k, (g, r) in enumerate(zip(got[2], ref[2])):
        rtol, atol = _tolerance(r.dtype, r) if r.dtype.kind == "f" else (0, 0)
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, err_msg=f"{what} shared {k}")


def check(run_cuda, case: Case, calls: list, device_io: bool = False) -> tuple:
    """Run ``case`` on the CUDA backend and the reference backend; both succeed with the same results."""
    got = run_cuda(execute, case, calls, "cuda", device_io)
    ref = execute(oracle(case), calls, "reference")
    assert ref[0] == "ok", f"{case.id}: the reference raised {ref[1:]}"
    assert_same(got, ref, case.id)
    return got


# -- every op ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES + assign_cases(), ids=lambda c: c.id)
def test_op_matches_reference(run_cuda, case):
    inputs = make_inputs(case)
    calls = [inputs, make_inputs(case, seed=8)] if case.op == "sc.assign" else [inputs]
    check(run_cuda, case, calls)


NOT_ON_CUDA_YET = {"sc.scan", "sc.if"}
"""Ops the CUDA backend refuses with NotImplementedError (loops and branches run on the CPU)."""


def test_every_op_has_a_case():
    assert every_op_covered(CASES + assign_cases()) == NOT_ON_CUDA_YET


def test_loops_and_branches_are_refused_clearly():
    import symcomp
    from symcomp import tensor as T
    from symcomp.ifelse import ifelse

    x = T.dvector("x")
    out, _ = symcomp.scan(lambda v, acc: acc + v, sequences=x, outputs_info=T.constant(0.0))
    for expr in (out, ifelse(T.gt(x.sum(), 0), x, -x)):
        with pytest.raises(NotImplementedError, match="CUDA backend cannot run loops"):
            symcomp.function([x], expr, device="cuda")


# -- broadcasting, layouts, reductions (hypothesis) -------------------------------------------------------
@st.composite
def broadcast_pair(draw):
    rank = draw(st.integers(1, 3))
    dims = draw(st.lists(st.integers(1, 23), min_size=rank, max_size=rank))
    ones = [draw(st.lists(st.booleans(), min_size=rank, max_size=rank)) for _ in range(2)]
    shapes = [tuple(1 if o else d for o, d in zip(mask, dims)) for mask in ones]
    statics = [tuple(1 if o else None for o in mask) for mask in ones]
    op = draw(st.sampled_from(["sc.add", "sc.mul", "sc.maximum", "sc.lt", "sc.arctan2"]))
    dtype = draw(st.sampled_from(["float64", "float32"] + ([] if op == "sc.arctan2" else ["int32"])))
    return op, dtype, shapes, statics


@settings(max_examples=10)
@given(broadcast_pair())
def test_broadcasting_binary_ops(run_cuda, spec):
    op, dtype, shapes, statics = spec
    ins = [In(dtype, s, t) for s, t in zip(shapes, statics)]
    case = Case(f"{op}-{dtype}-{shapes}", "b_op", (op, ins, {}), ins, op)
    check(run_cuda, case, [make_inputs(case)])


@st.composite
def reduction(draw):
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 40), min_size=rank, max_size=rank)))
    axes = sorted(draw(st.sets(st.integers(0, rank - 1), min_size=1)))
    op = draw(st.sampled_from(["sc.sum", "sc.max", "sc.argmin"]))
    dtype = draw(st.sampled_from(["float64", "int32"]))
    return op, dtype, shape, axes


@settings(max_examples=10)
@given(reduction())
def test_reductions_over_any_axes(run_cuda, spec):
    op, dtype, shape, axes = spec
    ins = [In(dtype, shape)]
    case = Case(f"{op}-{dtype}-{shape}-{axes}", "b_op", (op, ins, {"axes": axes}), ins, op)
    check(run_cuda, case, [make_inputs(case)])


LAYOUTS = [
    ("a.T * 2.0 + b", [In("float64", (7, 5)), In("float64", (5, 7))]),
    ("T.exp(a[::-1, 1::2]) - b[2:, ::-2]", [In("float64", (9, 11)), In("float64", (11, 10))]),
    ("T.sum(a.T[::2], axis=0) + T.max(a, axis=1)[:3]", [In("float32", (3, 8))]),
    ("T.nnet.softmax(a.T)", [In("float64", (40, 6))]),
    ("T.mean(a, axis=0) / T.std(a)", [In("float64", (17, 3))]),
    ("T.argmax(a.dimshuffle(1, 0), axis=1)", [In("float64", (19, 4))]),
    ("T.concatenate([a, a[::-1] * 2, a[:, ::-1]], axis=1)", [In("float32", (4, 3))]),
    ("T.set_subtensor(a[1:, ::2], b[0])", [In("float64", (5, 6)), In("float64", (1, 3), (1, None))]),
    ("T.cast(T.arange(a.shape[0] * 3) % 4, 'float64') * a.sum()", [In("float64", (7,))]),
]


@pytest.mark.parametrize("expr,ins", LAYOUTS, ids=[e for e, _ in LAYOUTS])
def test_views_and_compositions(run_cuda, expr, ins):
    case = Case(expr, "b_expr", (expr, ins), ins)
    check(run_cuda, case, [make_inputs(case)])


def test_non_contiguous_numpy_inputs(run_cuda):
    ins = [In("float64", (6, 10)), In("float64", (10,))]
    case = Case("strided inputs", "b_expr", ("T.tanh(a) * b", ins), ins)
    x, y = make_inputs(case)
    check(run_cuda, case, [[x[::2, ::-1], y[::-1]], [np.asfortranarray(x), y]])


def test_new_shapes_get_new_plans(run_cuda):
    ins = [In("float64", (5, 9))]
    case = Case("plans", "b_expr", ("[T.sum(a, axis=1), T.nnet.softmax(a)]", ins), ins)
    calls = [[np.ones((5, 9))], [np.arange(12.0).reshape(3, 4)], [np.ones((1, 130))], [np.ones((5, 9)) * 2]]
    check(run_cuda, case, calls)


# -- training ---------------------------------------------------------------------------------------------
def test_mlp_training_steps_match_reference(run_cuda):
    case = Case("mlp", "b_mlp", (8, 16, 5, 0.5), [In("float64", (37, 8)), In("int64", (37,), kind="range:0:5")])
    got = check(run_cuda, case, [make_inputs(case)] * 3)
    losses = [float(r[0]) for r in got[1]]
    assert losses[2] < losses[0]


# -- errors ---------------------------------------------------------------------------------------------
def scenario_index_error_then_good_call():
    """An out-of-range index raises IndexError naming the op; the next call of the same function works."""
    from symcomp import tensor as T

    x, i = T.dmatrix("x"), T.lvector("i")
    f = symcomp.function([x, i], x[i] * 2, device="cuda")
    data = np.arange(20.0).reshape(4, 5)
    try:
        f(data, np.array([0, 4, 1]))
        raised = None
    except IndexError as exc:
        raised = str(exc)
    return raised, f(data, np.array([-4, 3]))


def test_index_out_of_range_raises_index_error(run_cuda):
    raised, good = run_cuda(scenario_index_error_then_good_call)
    assert raised is not None and "sc.advanced_subtensor" in raised
    assert "index 4 is out of bounds for axis 0 with size 4" in raised  # which index, and the axis size
    np.testing.assert_array_equal(good, np.arange(20.0).reshape(4, 5)[[0, 3]] * 2)


def test_negative_integer_power_raises(run_cuda):
    ins = [In("int32", (6,)), In("int32", (6,))]
    case = Case("ipow", "b_op", ("sc.pow", ins, {}), ins)
    got = run_cuda(execute, case, [[np.arange(6, dtype=np.int32), np.array([1, 2, 0, -1, 3, 1], np.int32)]], "cuda")
    assert got[:2] == ("raised", "ValueError") and "negative integer powers" in got[2]


def test_shape_mismatch_raises_before_any_kernel(run_cuda):
    ins = [In("float64", (3, 4)), In("float64", (3, 5))]
    case = Case("mismatch", "b_expr", ("a + b", ins), ins)
    got = run_cuda(execute, case, [make_inputs(case)], "cuda")
    assert got[:2] == ("raised", "ValueError") and "sc.add" in got[2]


# -- memory: device arrays, shared variables ----------------------------------------------------------------
def test_device_inputs_and_outputs(run_cuda):
    ins = [In("float32", (5, 7)), In("float32", (7,))]
    case = Case("device io", "b_expr", ("[T.dot(a, b), T.sum(a * 2, axis=0), a[::-1]]", ins), ins)
    check(run_cuda, case, [make_inputs(case)], device_io=True)


def scenario_shared_variables():
    """Shared variables stay on the device and follow the sync rule (see backends/cuda/residency.py)."""
    from symcomp import tensor as T

    w = symcomp.shared(np.arange(4.0), name="w")
    x = T.dvector("x")
    step = symcomp.function([x], (w * x).sum(), updates=[(w, w + x)], device="cuda")
    cpu_read = symcomp.function([], w * 10)
    cpu_write = symcomp.function([x], [], updates=[(w, w * x)])
    log = []
    log.append(step(np.ones(4)))  # w = 0..3 -> 1..4 on the device
    log.append(w.get_value())  # host copy of the device value
    w.set_value(np.full(4, 2.0))
    log.append(step(np.ones(4)))  # uploads 2s -> 3s
    log.append(cpu_read())  # CPU sees 3s
    cpu_write(np.full(4, 2.0))  # CPU writes 6s
    log.append(step(np.zeros(4)))  # CUDA sees 6s
    log.append(type(w.container).__name__)
    borrowed = w.get_value(borrow=True)
    borrowed_copy = borrowed.copy()
    step(np.ones(4))
    log.append(np.array_equal(borrowed, borrowed_copy))  # updates replace, never write into host arrays
    log.append(w.get_value())
    return log


def test_shared_variables_live_on_the_device(run_cuda):
    log = run_cuda(scenario_shared_variables)
    assert float(log[0]) == pytest.approx(6.0)
    np.testing.assert_array_equal(log[1], [1.0, 2.0, 3.0, 4.0])
    assert float(log[2]) == pytest.approx(8.0)
    np.testing.assert_array_equal(log[3], [30.0] * 4)
    assert float(log[4]) == pytest.approx(0.0)
    assert log[5] == "DeviceContainer"
    assert log[6] is True
    np.testing.assert_array_equal(log[7], [7.0] * 4)


def scenario_fresh_outputs():
    from symcomp import tensor as T

    x = T.dvector("x")
    f = symcomp.function([x], [x, x, x[::2], T.constant(np.arange(3.0))], device="cuda")
    a = np.arange(6.0)
    o = f(a)
    o[0][0] = 100.0
    o[3][0] = 100.0
    again = f(a)
    return a, o, again


def test_outputs_are_fresh_arrays(run_cuda):
    a, o, again = run_cuda(scenario_fresh_outputs)
    np.testing.assert_array_equal(a, np.arange(6.0))
    np.testing.assert_array_equal(o[1], np.arange(6.0))
    np.testing.assert_array_equal(o[2], [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(again[3], np.arange(3.0))


EMPTY = [
    ("T.exp(a) + b", [In("float64", (0, 5)), In("float64", (1, 5), (1, None))]),
    ("[T.sum(a, axis=0), T.sum(a, axis=1), T.max(a, axis=1), T.prod(a)]", [In("float32", (0, 4))]),
    ("[T.nnet.softmax(a), T.min(a, axis=1)]", [In("float64", (0, 3))]),
    ("[T.dot(a, b), T.dot(a.T, a)]", [In("float64", (0, 4)), In("float64", (4, 2))]),
    ("T.concatenate([a, a], axis=0)[::-1] * 2", [In("int32", (0, 3))]),
]


@pytest.mark.parametrize("expr,ins", EMPTY, ids=[e for e, _ in EMPTY])
def test_zero_size_arrays(run_cuda, expr, ins):
    case = Case(expr, "b_expr", (expr, ins), ins)
    check(run_cuda, case, [make_inputs(case)])


def scenario_executable_run_contract():
    """``executable.run`` follows the backends' contract: parameter arrays in, (outputs, update values) out,
    as NumPy arrays; a device array of the wrong dtype is refused, not converted."""
    from numba import cuda

    from symcomp import tensor as T

    w = symcomp.shared(np.arange(3.0), name="w")
    x = T.dvector("x")
    f = symcomp.function([x], w * x, updates=[(w, w + 1)], device="cuda")
    outs, ups = f.executable.run([np.full(3, 2.0), np.arange(3.0)])
    try:
        f(cuda.to_device(np.ones(3, np.int32)))
        refused = None
    except TypeError as exc:
        refused = str(exc)
    return outs, ups, type(outs[0]).__name__, type(ups[0]).__name__, refused, w.get_value()


def test_executable_run_contract_and_device_dtype_check(run_cuda):
    outs, ups, out_type, up_type, refused, w = run_cuda(scenario_executable_run_contract)
    assert (out_type, up_type) == ("ndarray", "ndarray")
    np.testing.assert_array_equal(outs[0], [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(ups[0], [1.0, 2.0, 3.0])
    assert refused is not None and "dtype" in refused and "input 0" in refused
    np.testing.assert_array_equal(w, [0.0, 1.0, 2.0])  # run() leaves shared variables to its caller


def scenario_foreign_byte_order():
    from symcomp import tensor as T

    x = T.dvector("x")
    f = symcomp.function([x], x * 2, device="cuda")
    big_endian = np.arange(5.0).astype(">f8")
    return f.executable.run([big_endian])[0][0], f(big_endian)


def test_foreign_byte_order_inputs(run_cuda):
    via_run, via_call = run_cuda(scenario_foreign_byte_order)
    np.testing.assert_array_equal(via_run, np.arange(5.0) * 2)
    np.testing.assert_array_equal(via_call, np.arange(5.0) * 2)
