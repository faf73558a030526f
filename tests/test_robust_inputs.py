"""Bad (and unusual) arguments to compiled functions: each gives the documented outcome -- a result equal to
NumPy's, or a clear exception naming the input -- in the native and the reference modes alike, never
modifies the argument, and leaves the function usable.  docs/robustness.md lists every case."""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T

from helpers import assert_matches

DOC = pathlib.Path(__file__).parent.parent / "docs" / "robustness.md"
MODES = ["fast", "reference"]
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")


def _programs():
    """name -> (symbolic inputs, outputs, NumPy reference on float64/int64 arrays, a good argument list)."""
    x, y, m, f, i, s = T.dvector("x"), T.dvector("y"), T.dmatrix("m"), T.fvector("f"), T.lvector("i"), T.dscalar("s")
    x3 = T.tensor("float64", shape=(3,), name="x3")
    n = T.lscalar("n")
    return {
        "vec": ([x], T.exp(x) * 2.0 + x.sum(), lambda a: np.exp(a) * 2.0 + a.sum(), [np.arange(3.0)]),
        "mat": ([m], [T.dot(m, m.T), m.sum(axis=0)], lambda a: [a @ a.T, a.sum(axis=0)], [np.ones((2, 3))]),
        "max": ([m], m.max(axis=0), lambda a: a.max(axis=0), [np.ones((2, 3))]),
        "f32": ([f], f + 1.0, lambda a: a + np.float32(1.0), [np.ones(2, np.float32)]),
        "int": ([i], i * 2, lambda a: a * 2, [np.arange(3)]),
        "scalar": ([s], s * 2.0, lambda a: a * 2.0, [1.5]),
        "static": ([x3], x3 - 1.0, lambda a: a - 1.0, [np.ones(3)]),
        "two": ([x, y], x + y, lambda a, b: a + b, [np.ones(2), np.ones(2)]),
        "index": ([x, i], x[i], lambda a, b: a[b], [np.arange(3.0), np.array([2, 0])]),
        "bcast": ([x, n], T.broadcast_to(x, (n, 3)) * 2.0, lambda a, b: np.broadcast_to(a, (b, 3)) * 2.0,
                  [np.ones(3), 2]),
        "bcast2": ([x, n], T.broadcast_to(x, (n, n, 3)).sum(), lambda a, b: np.broadcast_to(a, (b, b, 3)).sum(),
                   [np.ones(3), 2]),
    }


@pytest.fixture(scope="module")
def compiled():
    """{(program, mode): (function, NumPy reference, good arguments)}, compiled once for the module."""
    out = {}
    for name, (ins, outs, ref, good) in _programs().items():
        for mode in MODES:
            out[name, mode] = (symcomp.function(ins, outs, mode=mode), ref, good)
    return out


@dataclass
class Case:
    """One argument list and its outcome.

    Attributes:
        label: the row of docs/robustness.md.
        program: the key of :func:`_programs`.
        args: builds the argument list (called afresh per mode).
        error: the exception class, or None when the call succeeds like NumPy.
        match: a regex the message must match.
    """

    label: str
    program: str
    args: Callable[[], list]
    error: Optional[type] = None
    match: str = ""


def _misaligned():
    raw = np.zeros(3 * 8 + 1, np.uint8)[1:]
    return raw.view(np.float64)


def _readonly():
    a = np.arange(3.0)
    a.flags.writeable = False
    return a


def _memmap(tmp=[]):  # noqa: B006 - one temporary file for the module
    import tempfile

    if not tmp:
        tmp.append(tempfile.TemporaryDirectory())
    mm = np.memmap(pathlib.Path(tmp[0].name) / "m.bin", dtype=np.float64, mode="w+", shape=(3,))
    mm[:] = [1.0, 2.0, 3.0]
    return mm


CASES = [
    # dtypes
    Case("float32 array for a float64 input", "vec", lambda: [np.ones(3, np.float32)]),
    Case("float16 array for a float64 input", "vec", lambda: [np.ones(3, np.float16)]),
    Case("bool array for a float64 input", "vec", lambda: [np.array([True, False])]),
    Case("int8 array for a float32 input", "f32", lambda: [np.ones(3, np.int8)]),
    Case("float64 array for a float32 input", "f32", lambda: [np.ones(3)], TypeError,
         r"input 0 \(f\): an array of dtype float64 would be downcast to float32"),
    Case("int64 array for a float32 input", "f32", lambda: [np.ones(3, np.int64)], TypeError, "would be downcast"),
    Case("float64 array for an int64 input", "int", lambda: [np.ones(3)], TypeError, "would be downcast"),
    Case("uint64 array for an int64 input", "int", lambda: [np.ones(3, np.uint64)], TypeError, "would be downcast"),
    Case("complex array", "vec", lambda: [np.ones(3, complex)], TypeError, r"input 0 \(x\).*got dtype complex128"),
    Case("string array", "vec", lambda: [np.array(["a", "b"])], TypeError, "got dtype <U1"),
    Case("datetime64 array", "vec", lambda: [np.array(["2020-01-01"], "datetime64[D]")], TypeError, "datetime64"),
    Case("structured array", "vec", lambda: [np.zeros(3, [("a", "f8")])], TypeError, "got dtype"),
    Case("object array (of floats)", "vec", lambda: [np.array([1.0, 2.0], dtype=object)], TypeError,
         "got dtype object"),
    # Python values
    Case("None", "vec", lambda: [None], TypeError, r"input 0 \(x\): expected an array of dtype float64, got None"),
    Case("dict", "vec", lambda: [{"a": 1}], TypeError, "got dtype object"),
    Case("generator", "vec", lambda: [(v for v in range(3))], TypeError, "got dtype object"),
    Case("ragged nested list", "mat", lambda: [[[1.0], [2.0, 3.0]]], TypeError, "cannot convert list to an array"),
    Case("list of floats", "vec", lambda: [[1.0, 2.0]]),
    Case("list of ints for a float input", "vec", lambda: [[1, 2]]),
    Case("Python int for a float64 scalar", "scalar", lambda: [3]),
    Case("Python bool for a float64 scalar", "scalar", lambda: [True]),
    Case("Python float not exact in float32", "f32", lambda: [[0.1]], TypeError,
         "cannot be represented exactly as float32"),
    Case("Python int beyond int64", "int", lambda: [[2**70]], TypeError, "got dtype object"),
    Case("Python float for an int input", "int", lambda: [[1.5]], TypeError, "cannot be represented exactly as int64"),
    Case("NumPy float64 scalar for a float32 input", "f32", lambda: [np.float64(1.0)], TypeError, "would be downcast"),
    # ranks and shapes
    Case("matrix for a vector (wrong rank)", "vec", lambda: [np.ones((2, 2))], ValueError,
         r"input 0 \(x\): expected rank 1 \(tensor<\?xf64>\), got an array of shape \(2, 2\)"),
    Case("0-d array for a vector", "vec", lambda: [np.array(1.0)], ValueError, "expected rank 1"),
    Case("vector for a scalar", "scalar", lambda: [np.ones(1)], ValueError, "expected rank 0"),
    Case("wrong static size", "static", lambda: [np.ones(4)], ValueError,
         r"input 0 \(x3\): axis 0 must have size 3 \(tensor<3xf64>\), got shape \(4,\)"),
    Case("mismatched shapes of two inputs", "two", lambda: [np.ones(2), np.ones(3)], ValueError,
         r"sc.add operands have incompatible dimensions \[2, 3\].*created at .*test_robust_inputs.py"),
    Case("dynamic axis of size 1 against size 3 (Theano's rule)", "two", lambda: [np.ones(1), np.ones(3)],
         ValueError, "only axes declared with size 1 broadcast"),
    Case("empty vector", "vec", lambda: [np.ones(0)]),
    Case("zero-size dimension (0x3 matrix)", "mat", lambda: [np.ones((0, 3))]),
    Case("zero-size dimension (3x0 matrix)", "mat", lambda: [np.ones((3, 0))]),
    Case("max over an empty axis", "max", lambda: [np.ones((0, 3))], ValueError,
         "reduction over an empty axis has no identity"),
    Case("huge dims: broadcast to 2**45 x 3 and materialized", "bcast", lambda: [np.ones(3), 2**45], MemoryError,
         "sc.mul created at"),
    Case("huge dims: broadcast to 2**40 x 2**40 x 3", "bcast2", lambda: [np.ones(3), 2**40], ValueError,
         "too (big|large).*sc.broadcast_to created at"),
    Case("negative size", "bcast", lambda: [np.ones(3), -1], ValueError, "negative"),
    Case("index out of bounds", "index", lambda: [np.ones(3), np.array([3])], IndexError,
         "sc.advanced_subtensor created at"),
    # layouts
    Case("non-contiguous view (a[::2])", "vec", lambda: [np.arange(6.0)[::2]]),
    Case("negative-stride view (a[::-1])", "vec", lambda: [np.arange(3.0)[::-1]]),
    Case("transposed matrix", "mat", lambda: [np.arange(6.0).reshape(2, 3).T]),
    Case("Fortran-ordered matrix", "mat", lambda: [np.asfortranarray(np.arange(6.0).reshape(2, 3))]),
    Case("zero-stride (broadcast) view", "vec", lambda: [np.broadcast_to(np.array([2.0]), (4,))]),
    Case("read-only array", "vec", lambda: [_readonly()]),
    Case("byte-swapped (big-endian) array", "vec", lambda: [np.arange(3.0).astype(">f8")]),
    Case("misaligned array", "vec", lambda: [_misaligned()]),
    Case("field of a structured array (stride not a multiple of the item size)", "vec",
         lambda: [np.zeros(3, [("a", "f8"), ("b", "i4")])["a"]]),
    Case("the same array for two inputs", "two", lambda: [np.arange(2.0)] * 2),
    # values
    Case("NaN and infinities", "vec", lambda: [np.array([np.nan, np.inf, -np.inf, 0.0])]),
    # subclasses
    Case("np.matrix (read as its 2-D array)", "mat", lambda: [np.matrix([[1.0, 2.0], [3.0, 4.0]])]),
    Case("np.matrix for a vector", "vec", lambda: [np.matrix([[1.0, 2.0]])], ValueError, "expected rank 1"),
    Case("masked array", "vec", lambda: [np.ma.masked_array([1.0, 2.0], mask=[0, 1])], TypeError,
         r"input 0 \(x\): masked arrays are not supported"),
    Case("np.memmap", "vec", lambda: [_memmap()]),
]


def _snapshot(args):
    return [np.array(np.asarray(a), copy=True) if isinstance(a, np.ndarray) else None for a in args]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_bad_input(case, mode, compiled):
    f, ref, good = compiled[case.program, mode]
    args = case.args()
    before = _snapshot(args)
    if case.error is None:
        got = f(*args)
        want = ref(*[np.asarray(a).astype(v.type.dtype.np) for a, v in zip(args, f.signature.inputs)])
        for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]):
            assert_matches(g, w)
    else:
        with pytest.raises(case.error, match=case.match):
            f(*args)
    for a, b in zip(args, before):
        if b is not None:
            a = np.asarray(a)
            assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), "argument modified"
    # The function is still usable.
    expected = ref(*[np.asarray(a) for a in good])
    got = f(*good)
    for g, w in zip(got if isinstance(got, list) else [got], expected if isinstance(expected, list) else [expected]):
        assert_matches(g, w)


@pytest.mark.parametrize("mode", MODES)
def test_call_signature_errors(mode, compiled):
    f, ref, good = compiled["two", mode]
    with pytest.raises(TypeError, match=r"main\(\) takes 2 arguments \(1 given\)"):
        f(np.ones(2))
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        f(np.ones(2), z=np.ones(2))
    with pytest.raises(TypeError, match="multiple values for argument 'x'"):
        f(np.ones(2), np.ones(2), x=np.ones(2))
    np.testing.assert_array_equal(f(y=np.ones(2), x=np.arange(2.0)), [1.0, 2.0])


def test_trust_input_still_checks_what_is_not_exactly_right():
    """trust_input skips the checks of exactly-typed arrays only: a wrong dtype is converted, a wrong rank or
    static size raises, so no wrong argument reaches native code."""
    x = T.tensor("float64", shape=(None, 3), name="x")
    f = symcomp.function([x], x * 2.0, trust_input=True)
    np.testing.assert_array_equal(f(np.ones((1, 3), np.float32)), [[2.0, 2.0, 2.0]])
    with pytest.raises(ValueError, match="axis 1 must have size 3"):
        f(np.ones((1, 4)))
    with pytest.raises(ValueError, match="expected rank 2"):
        f(np.ones(3))
    with pytest.raises(TypeError, match="got None"):
        f(None)


def test_an_input_that_is_also_updated_shared_storage_is_not_modified():
    """The user passes W's own array as an input of a function updating W (docs/memory.md rule 1)."""
    W = symcomp.shared(np.ones(3), name="W")
    x = T.dvector("x")
    step = symcomp.function([x], (x * W).sum(), updates={W: W * 2.0})
    storage = W.get_value(borrow=True)
    assert step(storage) == 3.0
    np.testing.assert_array_equal(storage, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(W.get_value(), [2.0, 2.0, 2.0])


def test_every_case_is_documented():
    """docs/robustness.md lists every case of this file (its closing table)."""
    text = DOC.read_text()
    rows = set(re.findall(r"^\| (.+?) \|", text, flags=re.M))
    missing = [c.label for c in CASES if c.label not in rows]
    assert not missing, f"cases missing from {DOC.name}: {missing}"
