"""Philox4x32-10 against Random123's known-answer vectors, in the reference and in compiled code.

The vectors are Random123's ``tests/kat_vectors`` lines ``philox4x32 10 ...`` (counter words,
key words, then the expected output words); cuRAND's and PyTorch's CUDA generator compute this
function.  NumPy's ``Philox`` bit generator is Philox4x64-10, a different function.
"""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.ir import rngalg
from symcomp.ir.opdef import build
from symcomp.ir.ops.random import FlatIndex, Ndtri, Philox, UnitFloat

KAT = [  # (ctr0, ctr1, ctr2, ctr3), (key0, key1) -> (out0, out1, out2, out3)
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def _u64(lo, hi):
    return np.uint64(lo | (hi << 32))


def _kat_arrays(copies: int = 1):
    """(ctr_lo, ctr_hi, key, expected words) for the three vectors, each repeated ``copies`` times."""
    lo = np.array([_u64(c[0], c[1]) for c, _, _ in KAT] * copies, np.uint64)
    hi = np.array([_u64(c[2], c[3]) for c, _, _ in KAT] * copies, np.uint64)
    key = np.array([_u64(k[0], k[1]) for _, k, _ in KAT] * copies, np.uint64)
    want = np.array([o for _, _, o in KAT] * copies, np.uint32)
    return lo, hi, key, want


@pytest.mark.parametrize("ctr, key, out", KAT)
def test_rounds_match_random123(ctr, key, out):
    words = rngalg.philox4x32(rngalg.NUMPY, *[np.uint32(v) for v in ctr + key])
    assert [int(w) for w in words] == list(out)


def _philox_function(mode, device="cpu"):
    lo, hi, key = T.tensor("uint64", shape=(None,), name="lo"), T.tensor("uint64", shape=(None,), name="hi"), \
        T.tensor("uint64", shape=(None,), name="key")
    outs = [build(Philox, [lo, hi, key], word=w) for w in range(4)]
    return symcomp.function([lo, hi, key], outs, mode=mode, device=device)


@pytest.mark.parametrize("mode", ["reference", "fast", "fast_compile"])
def test_philox_op_gives_the_known_answers(mode):
    # 3 x 7 = 21 elements: the CPU backend's SIMD loop, its masked head and tail all take part
    lo, hi, key, want = _kat_arrays(7)
    got = np.stack(_philox_function(mode)(lo, hi, key), axis=1)
    np.testing.assert_array_equal(got, want)


def test_philox_op_on_strided_inputs_takes_the_scalar_loop():
    lo, hi, key, want = _kat_arrays(7)
    f = _philox_function("fast")
    spread = [np.repeat(a, 2)[::2] for a in (lo, hi, key)]  # contiguous copies of...
    strided = [np.stack([a, a], axis=1)[:, 0] for a in (lo, hi, key)]  # ...and strided views
    for args in (spread, strided):
        np.testing.assert_array_equal(np.stack(f(*args), axis=1), want)


def test_compiled_philox_equals_the_reference_on_random_counters():
    rng = np.random.default_rng(5)
    lo, hi, key = (rng.integers(0, 2**64, 4099, dtype=np.uint64) for _ in range(3))
    ref = _philox_function("reference")(lo, hi, key)
    for got, want in zip(_philox_function("fast")(lo, hi, key), ref):
        np.testing.assert_array_equal(got, want)


def test_unit_floats_are_in_the_open_interval_and_exact():
    w = np.array([0, 1, 2**9 - 1, 2**9, 2**31, 2**32 - 1], np.uint32)
    f32 = rngalg.unit_float32(rngalg.NUMPY, w)
    assert f32.dtype == np.float32
    np.testing.assert_array_equal(f32, ((w >> 9).astype(np.float64) + 0.5) * 2.0 ** -23)
    np.testing.assert_array_equal(rngalg.unit_float32_bits(rngalg.NUMPY, w), f32)
    assert f32.min() == 2.0 ** -24 and f32.max() == 1 - 2.0 ** -24
    x = np.array([0, 2**64 - 1, (0x1000 << 32) | 5, 2**12 - 1, 2**12], np.uint64)
    f64 = rngalg.unit_float64_bits(rngalg.NUMPY, x)
    assert f64[0] == 2.0 ** -53 and f64[1] == 1 - 2.0 ** -53
    assert f64[2] == ((0x1000 << 20) + 0.5) * 2.0 ** -52
    assert f64[3] == 2.0 ** -53 and f64[4] == 1.5 * 2.0 ** -52
    f64w = rngalg.unit_float64_word(rngalg.NUMPY, w)
    np.testing.assert_array_equal(f64w, (w.astype(np.float64) + 0.5) * 2.0 ** -32)
    assert f64w.min() == 2.0 ** -33 and f64w.max() == 1 - 2.0 ** -33
    for mode in ("reference", "fast"):
        a, b = T.tensor("uint32", shape=(None,)), T.tensor("uint64", shape=(None,))
        g = symcomp.function([a, b], [build(UnitFloat, [a], dtype="float32"), build(UnitFloat, [b], dtype="float64")],
                             mode=mode)
        got32, got64 = g(np.resize(w, x.shape), x)
        np.testing.assert_array_equal(got32, rngalg.unit_float32(rngalg.NUMPY, np.resize(w, x.shape)))
        np.testing.assert_array_equal(got64, f64)
        h = symcomp.function([a], build(UnitFloat, [a], dtype="float64"), mode=mode)
        np.testing.assert_array_equal(h(w), f64w)


def test_flat_index_is_the_c_order_index_also_inside_fused_loops():
    x = T.dmatrix("x")
    idx = build(FlatIndex, [x])
    for mode in ("reference", "fast", "fast_compile"):
        f = symcomp.function([x], [idx, T.cast(idx, "float64") * x, T.sum(T.cast(idx, "float64") + x, axis=0)],
                             mode=mode)
        a = np.ones((5, 7))
        i, scaled, summed = f(a)
        np.testing.assert_array_equal(i, np.arange(35).reshape(5, 7))
        np.testing.assert_array_equal(scaled, np.arange(35.0).reshape(5, 7))
        np.testing.assert_array_equal(summed, (np.arange(35.0).reshape(5, 7) + 1).sum(axis=0))
        t = f(np.ones((7, 5)).T)[1]  # a transposed input: still the result's C-order index
        np.testing.assert_array_equal(t, np.arange(35.0).reshape(5, 7))


def test_flat_index_is_not_moved_across_a_broadcast():
    """f(broadcast_to(x)) -> broadcast_to(f(x)) holds for pointwise f only."""
    n = T.lscalar("n")
    idx = build(FlatIndex, [T.zeros((n, 3), dtype="bool")])
    f = symcomp.function([n], idx)
    np.testing.assert_array_equal(f(4), np.arange(12).reshape(4, 3))
    assert "sc.flat_index" in f.dump("optimized")


def _float32_unit_floats():
    return rngalg.unit_float32(rngalg.NUMPY, np.arange(2**23, dtype=np.uint32) << np.uint32(9))


def test_log32_is_within_one_ulp():
    x = np.concatenate([_float32_unit_floats(), np.float32([1.0, 2.0, 3.5, 7.0, 1e30, 1e-30, 3.4e38])])
    got = rngalg.log32(rngalg.NUMPY, x)
    assert got.dtype == np.float32
    want = np.log(x.astype(np.float64))
    ulps = np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    assert ulps.max() < 1.0


def test_float32_normal_quantile_is_within_6_ulp_on_every_float32_unit_float():
    """PPND7 in float32 arithmetic (the float32 normal draws) against SciPy's float64 ndtri, on all
    2**23 values a float32 uniform takes: within 6 ulp of the float32 result (5.18 measured), and
    the same bits compiled (SIMD) as in the reference."""
    from scipy import special

    u = _float32_unit_floats()
    got = rngalg.ndtri32(rngalg.NUMPY, u)
    assert got.dtype == np.float32
    want = special.ndtri(u.astype(np.float64))
    ulps = np.abs(got - want) / np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    assert ulps.max() < 6.0 and ulps.mean() < 1.0
    assert np.array_equal(got[::-1], -got)  # symmetric: u and 1 - u are both unit floats
    x = T.tensor("float32", shape=(None,))
    f = symcomp.function([x], build(Ndtri, [x]), mode="fast")
    np.testing.assert_array_equal(f(u), got)
    edge = f(np.float32([0.0, 1.0, -0.5, 1.5, np.nan]))
    assert edge[0] == -np.inf and edge[1] == np.inf and np.isnan(edge[2:]).all()
