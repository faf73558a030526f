"""Non-temporal (streaming) stores of large elementwise results (symcomp.backends.cpu.loops and
PlanContext.streams): the generated code has them, the planner picks them only for recycled memory,
and every result is exactly NumPy's whichever store a kernel takes."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu import jit, plan

X86 = jit.target().features.find("+sse2") >= 0


@pytest.fixture
def stream_everything(monkeypatch):
    """Every kernel result of at least one byte streams (where its memory allows), so that small
    hypothesis arrays run the streaming loop, its alignment check and its fallback."""
    monkeypatch.setattr(plan, "STREAM_MIN_BYTES", 1)
    monkeypatch.setattr(plan, "FRESH_OUTPUT_BYTES", 1 << 62)


@pytest.mark.skipif(not X86, reason="streaming stores are emitted on x86 only")
@pytest.mark.parametrize("dtype,insn", [("float64", "vmovntpd"), ("float32", "vmovntps"), ("int64", "vmovntdq")])
def test_elementwise_kernels_have_a_streaming_main_loop(dtype, insn):
    x, y = T.tensor(dtype, (None,), "x"), T.tensor(dtype, (None,), "y")
    asm = symcomp.function([x, y], x * y + y).dump("asm")
    assert re.search(rf"{insn}\s", asm), f"no {insn}"
    assert "sfence" in asm


def test_reductions_never_stream():
    x = T.dmatrix("x")
    asm = symcomp.function([x], T.sum(x, axis=1)).dump("asm")
    assert not re.search(r"vmovnt", asm)


def _stream_param(f, *args) -> list:
    """The planner's ``stream`` parameter of each op (in op order) for this signature."""
    f(*args)
    ex = f.executable
    p = next(reversed(ex._plans.values()))
    keys = ex.c.slot_keys
    return [int(p.ints[i]) for i, k in enumerate(keys) if k[0] == "p" and k[2] == "stream"]


def test_planner_streams_large_recycled_results_only():
    x = T.dvector("x")
    f = symcomp.function([x], x * 2.0 + 1.0)
    small = np.ones(1000)
    assert _stream_param(f, small) == [0]
    mid = np.ones((plan.STREAM_MIN_BYTES // 8) + 8)  # above the minimum, an output malloc reuses
    assert _stream_param(f, mid) == [1]
    fresh = np.ones(plan.FRESH_OUTPUT_BYTES // 8 + 8)  # an output mapped anew on every call
    assert _stream_param(f, fresh) == [0]


@pytest.mark.parametrize("nthreads", [1, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_large_results_equal_numpy(nthreads, dtype):
    """At the real threshold: a long contiguous loop (single-threaded and split), an unaligned
    input view, and a 2-D result whose rows each stream."""
    saved = symcomp.config.num_threads
    symcomp.config.num_threads = nthreads
    try:
        rng = np.random.default_rng(3)
        n = plan.STREAM_MIN_BYTES // np.dtype(dtype).itemsize + 37
        a, b = rng.random(n + 1).astype(dtype), rng.random(n).astype(dtype)
        x, y = T.tensor(dtype, (None,), "x"), T.tensor(dtype, (None,), "y")
        f = symcomp.function([x, y], x * y + y)
        np.testing.assert_array_equal(f(a[1:], b), a[1:] * b + b)
        m = T.tensor(dtype, (None, None), "m")
        g = symcomp.function([m], T.exp(m) - m)
        mat = rng.random((n // 1000, 1000)).astype(dtype)
        want = np.exp(mat) - mat
        np.testing.assert_allclose(g(mat), want, rtol=4 * np.finfo(dtype).eps)
    finally:
        symcomp.config.num_threads = saved


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), dtype=st.sampled_from(["float64", "float32", "int32"]))
def test_streaming_everywhere_equals_numpy(stream_everything, data, dtype):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=40))
    elems = st.integers(-1000, 1000) if dtype == "int32" else st.floats(-1e3, 1e3, width=np.dtype(dtype).itemsize * 8)
    a = data.draw(hnp.arrays(dtype, shape, elements=elems))
    b = data.draw(hnp.arrays(dtype, shape[-1:], elements=elems))
    offset = data.draw(st.integers(0, 3))  # inputs starting anywhere in a vector
    buf = np.concatenate([np.zeros(offset, dtype), a.ravel()])[offset:].reshape(shape)
    x = T.tensor(dtype, (None,) * len(shape), "x")
    y = T.tensor(dtype, (None,), "y")
    f = symcomp.function([x, y], [x * y + x, x - y])
    s, d = f(buf, b)
    np.testing.assert_array_equal(s, buf * b + buf)
    np.testing.assert_array_equal(d, buf - b)
