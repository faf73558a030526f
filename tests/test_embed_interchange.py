"""Array interchange: inputs read through __array_interface__ and DLPack without copies."""

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.inputs import InputSpec
from tests.helpers import assert_matches


class DLPackOnly:
    """An array API-style array exposing only DLPack (what a foreign library hands over)."""

    def __init__(self, a):
        self._a = a

    def __dlpack__(self, **kwargs):
        return self._a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


class InterfaceOnly:
    """An object exposing NumPy's array interface only."""

    def __init__(self, a):
        self._a = a
        self.__array_interface__ = a.__array_interface__


class OnDevice:
    def __dlpack_device__(self):
        return (2, 0)  # kDLCUDA

    def __dlpack__(self, **kwargs):
        raise AssertionError("a device array must not be exported to the CPU path")


class CudaArray:
    __cuda_array_interface__ = {"shape": (3,), "typestr": "<f8", "data": (0, False), "version": 3}


def _spec(t):
    return InputSpec.for_variable(t, 0, allow_downcast=False)


@pytest.mark.parametrize("wrap", [DLPackOnly, InterfaceOnly])
def test_foreign_arrays_are_read_without_copies(wrap):
    base = np.arange(24.0).reshape(4, 6)
    view = base[:, ::2]  # strided: no copy is needed either
    got = _spec(T.dmatrix("x")).convert(wrap(view))
    assert np.shares_memory(got, base)
    np.testing.assert_array_equal(got, view)


def test_functions_accept_foreign_arrays_and_cast_safely():
    x, y = T.dmatrix("x"), T.dvector("y")
    f = symcomp.function([x, y], T.exp(x) * y)
    a = np.linspace(-1, 1, 12).reshape(3, 4)
    b = np.arange(4, dtype=np.float32)  # float32 -> float64 is a safe cast
    assert_matches(f(DLPackOnly(a), DLPackOnly(b)), np.exp(a) * b.astype(np.float64))
    assert_matches(f(InterfaceOnly(a), b), np.exp(a) * b)
    i = T.ivector("i")
    g = symcomp.function([i], i + 1)
    with pytest.raises(TypeError, match="dtype int64 would be downcast to int32"):
        g(DLPackOnly(np.arange(3)))


def test_device_arrays_are_refused_by_the_cpu_path():
    spec = _spec(T.dvector("x"))
    with pytest.raises(TypeError, match="input 0 \\(x\\): OnDevice lives on a device \\(DLPack device type 2\\)"):
        spec.convert(OnDevice())
    with pytest.raises(TypeError, match="CudaArray is a GPU array; this function runs on the CPU"):
        spec.convert(CudaArray())


def test_torch_tensors_go_through_dlpack():
    torch = pytest.importorskip("torch")
    x = T.fmatrix("x")
    f = symcomp.function([x], T.tanh(x).sum(axis=0))
    t = torch.linspace(-2, 2, 12).reshape(3, 4)
    arr = _spec(x).convert(t.T)
    assert np.shares_memory(arr, t.numpy())
    assert_matches(f(t), np.tanh(t.numpy()).sum(axis=0), rtol=1e-6)
    with pytest.raises(TypeError, match="through DLPack:.*require[s]? grad"):
        f(torch.ones(2, 2, requires_grad=True))
