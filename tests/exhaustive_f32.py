"""Every float32 argument through symcomp's inline float32 sin, cos, log and log1p, against
glibc's float64 functions (correctly reduced; their own error is about 2**-29 float32 ULP), and
the inline float32 erf and erfc against SciPy's float64 ones.

Not collected by pytest (it takes 5 minutes on 2 cores); run it after changing
``symcomp/backends/cpu/vecmath/log.py``, ``vecmath/trig.py`` or ``vecmath/erf.py``::

    python tests/exhaustive_f32.py [sin] [cos] [log] [log1p] [erf] [erfc]

It prints the worst error in float32 ULPs per range and any argument whose non-finite result
differs (NaN, ±inf).  Results of the last run are in docs/performance.md ("SIMD math").
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import symcomp
from symcomp import tensor as T


def _bits(v: float) -> int:
    return int(np.array(v, np.float32).view(np.uint32))


def ulp32(ref: np.ndarray) -> np.ndarray:
    """The float32 ulp at each float64 value of ``ref`` (the subnormal spacing below the normal range)."""
    return np.ldexp(1.0, np.frexp(np.maximum(np.abs(ref), 2.0 ** -126))[1] - 24)


def worst_error(name: str, lo_bits: int, hi_bits: int, signs=(0,), chunk: int = 1 << 25) -> tuple[float, float]:
    """(worst ULP error, its argument) of symcomp's float32 ``name`` over the float32 values whose
    bit patterns lie in [lo_bits, hi_bits), each also with the sign bits in ``signs``."""
    v = T.tensor("float32", (None,), "x")
    f = symcomp.function([v], getattr(T, name)(v))
    if name in ("erf", "erfc"):
        from scipy import special

        reference = getattr(special, name)
    else:
        reference = getattr(np, name)
    worst, worst_x = 0.0, float("nan")
    for start in range(lo_bits, hi_bits, chunk):
        bits = np.arange(start, min(start + chunk, hi_bits), dtype=np.uint32)
        for sign in signs:
            x = (bits | np.uint32(sign)).view(np.float32)
            got = f(x).astype(np.float64)
            with np.errstate(all="ignore"):
                ref = reference(x.astype(np.float64))
            finite = np.isfinite(ref)
            err = np.zeros_like(ref)
            err[finite] = np.abs(got[finite] - ref[finite]) / ulp32(ref[finite])
            wrong = ~finite & ~((np.isnan(ref) & np.isnan(got)) | (got == ref))
            for i in np.flatnonzero(wrong)[:5]:
                print(f"  {name}({x[i]!r}) = {got[i]!r}, expected {ref[i]!r}")
            i = int(np.argmax(err))
            if err[i] > worst:
                worst, worst_x = float(err[i]), float(x[i])
    return worst, worst_x


def ranges(name: str):
    """(label, lo_bits, hi_bits, signs) to cover for ``name``."""
    if name in ("sin", "cos"):
        from symcomp.backends.cpu.vecmath.trig import FAST_LIMIT

        both = (0, 0x80000000)
        return [(f"|x| <= {FAST_LIMIT:g} (inline)", 0, _bits(FAST_LIMIT) + 1, both),
                (f"{FAST_LIMIT:g} < |x| < 1e6 (libmvec)", _bits(FAST_LIMIT) + 1, _bits(1e6), both)]
    if name == "log":
        return [("0 <= x <= inf", 0, 0x7F800001, (0,))]
    if name in ("erf", "erfc"):
        return [("|x| <= inf", 0, 0x7F800001, (0, 0x80000000))]
    return [("0 <= x <= inf", 0, 0x7F800001, (0,)), ("-1 <= x <= -0", 0x80000000, _bits(-1.0) + 1, (0,))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=["sin", "cos", "log", "log1p", "erf", "erfc"],
                        choices=["sin", "cos", "log", "log1p", "erf", "erfc"])
    args = parser.parse_args()
    symcomp.config.cache = False
    for name in args.names:
        for label, lo, hi, signs in ranges(name):
            t0 = time.perf_counter()
            worst, x = worst_error(name, lo, hi, signs)
            print(f"{name} float32, {label}: worst {worst:.3f} ULP at {x!r} ({time.perf_counter() - t0:.0f} s)",
                  flush=True)


if __name__ == "__main__":
    main()
