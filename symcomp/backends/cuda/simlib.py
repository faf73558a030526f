"""NumPy twins of the libdevice functions generated kernels call, for Numba's CUDA simulator.

On a GPU, kernel source calls ``lib.expf(x)`` with ``lib`` bound to
:mod:`numba.cuda.libdevice` (NVIDIA's libdevice: ``__nv_expf``...).  The
simulator runs kernels as Python, where libdevice has no implementation, so
``lib`` is bound to this module instead: the same names, computed by NumPy
(and SciPy for erf/erfc) in the same precision (names ending in ``f`` take and
return float32, the others float64), with IEEE results (inf, NaN) instead of
warnings.  libdevice is accurate to a few ULP; so is NumPy, so the simulator's
results agree with the reference backend within test tolerances.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sps

_UNARY = {
    "exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
    "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "erf": sps.erf, "erfc": sps.erfc, "floor": np.floor,
    "ceil": np.ceil, "trunc": np.trunc, "rint": np.rint, "fabs": np.fabs,
}
_BINARY = {"pow": np.power, "fmod": np.fmod, "atan2": np.arctan2, "copysign": np.copysign}


def _unary(fn, dtype):
    def f(x):
        with np.errstate(all="ignore"):
            return dtype(fn(dtype(x)))

    return f


def _binary(fn, dtype):
    def f(x, y):
        with np.errstate(all="ignore"):
            return dtype(fn(dtype(x), dtype(y)))

    return f


for _name, _fn in _UNARY.items():
    globals()[_name] = _unary(_fn, np.float64)
    globals()[_name + "f"] = _unary(_fn, np.float32)
for _name, _fn in _BINARY.items():
    globals()[_name] = _binary(_fn, np.float64)
    globals()[_name + "f"] = _binary(_fn, np.float32)
del _name, _fn


# IEEE operations libdevice exposes without contraction (``__nv_dadd_rn``...): plain NumPy
# arithmetic, which never contracts either.
def dadd_rn(x, y):
    return np.float64(x) + np.float64(y)


def dmul_rn(x, y):
    return np.float64(x) * np.float64(y)


def dsqrt_rn(x):
    with np.errstate(all="ignore"):
        return np.sqrt(np.float64(x))


def fadd_rn(x, y):
    return np.float32(x) + np.float32(y)


def fsub_rn(x, y):
    return np.float32(x) - np.float32(y)


def fmul_rn(x, y):
    return np.float32(x) * np.float32(y)


def fsqrt_rn(x):
    with np.errstate(all="ignore"):
        return np.sqrt(np.float32(x))


def double_as_longlong(x):
    return np.array(np.float64(x)).view(np.int64)[()]


def longlong_as_double(x):
    return np.array(np.int64(x)).view(np.float64)[()]


def float_as_int(x):
    return np.array(np.float32(x)).view(np.int32)[()]


def int_as_float(x):
    return np.array(np.int32(x)).view(np.float32)[()]
