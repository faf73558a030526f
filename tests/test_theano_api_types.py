"""Types as Theano has them (issue 22, part 2): ``T.TensorType(dtype, broadcastable)``; ``T.dscalar``,
``T.fmatrix``... are instances of it that make variables; Theano's repr, equality, ``filter``;
the plural constructors.

Reference: Theano 1.0 ``theano/tensor/type.py`` (``TensorType.__init__``, ``filter``, ``__eq__``,
``__str__``: ``"TensorType(%s, %s)" % (dtype, 'scalar'|'vector'|'row'|'col'|'matrix'|str(b)|'%iD')``)
and ``theano/tensor/basic.py`` (``dscalar = TensorType('float64', ())``...; ``_multi``);
``theano/scalar/basic.py: upcast``.
"""

import pickle

import numpy as np
import pytest
from hypothesis import given, strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.ir import types as ir_types
from symcomp.scalar import upcast
from symcomp.tensor.variables import _KINDS, _PREFIXES

TYPED = [p + k for k in _KINDS for p in _PREFIXES]
DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]


@pytest.mark.parametrize("name", TYPED)
def test_typed_constructors_are_types_whose_variables_have_them(name):
    ctor = getattr(T, name)
    assert isinstance(ctor, T.TensorType)
    x = ctor("x")
    assert x.type is ctor and x.name == "x"
    assert x.dtype == _PREFIXES[name[0]] and x.broadcastable == _KINDS[name[1:]] and x.ndim == len(_KINDS[name[1:]])
    assert ctor() is not ctor() and ctor().type is ctor


@pytest.mark.parametrize("ctor,text", [
    (T.dscalar, "TensorType(float64, scalar)"), (T.fmatrix, "TensorType(float32, matrix)"),
    (T.lvector, "TensorType(int64, vector)"), (T.drow, "TensorType(float64, row)"),
    (T.fcol, "TensorType(float32, col)"), (T.dtensor3, "TensorType(float64, 3D)"),
    (T.itensor4, "TensorType(int32, 4D)"),
    (T.TensorType("float64", (True, False, True)), "TensorType(float64, (True, False, True))"),
    (T.TensorType("float32", (False, False), name="img"), "img"),
])
def test_repr_is_theanos(ctor, text):
    assert repr(ctor) == text
    dims = "".join(("?" if d is None else str(d)) + "x" for d in ctor.shape)
    assert str(ctor) == f"tensor<{dims}{ctor.dtype.ir}>"  # messages keep the IR's spelling


def test_equality_by_dtype_and_broadcastable():
    """Theano: ``type(self) == type(other) and other.dtype == self.dtype and other.broadcastable ==
    self.broadcastable``; here any tensor type, including the IR's type of a computed value."""
    x = T.dmatrix("x")
    assert T.TensorType("float64", (False, False)) == T.dmatrix
    assert hash(T.TensorType("float64", (False, False))) == hash(T.dmatrix)
    assert T.TensorType("float64", (False, False)) is not T.dmatrix
    assert (x + 1).type == T.dmatrix and T.dmatrix == (x + 1).type and hash((x + 1).type) == hash(T.dmatrix)
    assert (x + 1).type != T.fmatrix and (x + 1).type != T.drow and T.dvector != T.dmatrix
    assert T.matrix("y").type == T.dmatrix  # floatX is float64 by default
    assert T.matrix("y", dtype="float32").type == T.fmatrix
    assert T.dmatrix != "TensorType(float64, matrix)"
    # a static size is a symcomp extension: the Theano type of the pattern still compares equal
    assert T.tensor("float64", shape=(None, 3)).type == T.dmatrix


def test_attributes_and_calls():
    x = T.fmatrix("x")
    assert x.type.ndim == 2 and x.type.broadcastable == (False, False) and x.type.name is None
    assert x.type.dtype == "float32" and x.type.numpy_dtype == np.dtype("float32")
    assert np.zeros(2, dtype=x.type.dtype).dtype == np.float32  # numpy reads .dtype of a DType
    y = x.type()
    assert y.type is x.type and y.name is None and x.type("z").name == "z"
    assert x.type.make_variable("w").type is T.fmatrix
    assert T.dmatrix.clone(dtype="float32") == T.fmatrix and T.dmatrix.clone(broadcastable=(True, False)) == T.drow
    assert T.TensorType("floatX", (False,)) == T.dvector
    np.testing.assert_array_equal(T.dvector.value_zeros((3,)), np.zeros(3))
    with pytest.raises(TypeError, match="not supported"):
        T.TensorType("complex128", ())
    with pytest.raises(TypeError, match="has dtype float64"):
        T.dmatrix("x", dtype="float32")


def test_computed_values_keep_the_irs_type_and_the_ir_never_sees_the_theano_class():
    x = T.dvector("x")
    assert type((x * 2).type) is ir_types.TensorType
    f = symcomp.function([x], x * 2)
    assert all(type(a.type) is ir_types.TensorType for a in f.module.func().args)
    assert "tensor<?xf64>" in f.dump("traced")


def test_types_pickle():
    t = pickle.loads(pickle.dumps(T.drow))
    assert t == T.drow and repr(t) == "TensorType(float64, row)"


def test_plural_constructors_follow_theanos_multi():
    """``_multi``: several names, one string split into characters, or a count; one name gives one variable."""
    a, b, c = T.scalars("xyz")
    assert [v.name for v in (a, b, c)] == ["x", "y", "z"]
    x, y = T.dscalars("x", "y")
    assert x.type is T.dscalar and y.name == "y"
    one = T.dscalars("x")
    assert isinstance(one, symcomp.tensor.TensorVariable) and one.type is T.dscalar
    three = T.dmatrices(3)
    assert len(three) == 3 and all(m.type is T.dmatrix and m.name is None for m in three)
    assert len(T.dmatrices(1)) == 1  # a count always gives a list (Theano's `names == 1` test never holds)
    assert [v.name for v in T.fvectors("ab", "c")] == ["ab", "c"]
    assert [v.dtype for v in T.matrices("pq", dtype="int32")] == ["int32", "int32"]
    assert T.tensor3s("t").ndim == 3


def test_existing_constructor_forms_still_work():
    assert T.matrix("x", dtype="float32").dtype == "float32"
    s = T.dmatrix("s", shape=(None, 3))
    assert s.type.shape == (None, 3) and s.type == T.dmatrix and repr(s.type) == "TensorType(float64, shape=(None, 3))"
    t = T.tensor("float64", (False, True), name="t")  # Theano's positional broadcastable
    assert t.broadcastable == (False, True) and t.type == T.dcol
    assert T.tensor("int32", shape=(2, None)).type.shape == (2, None)
    assert T.tensor(dtype="float32", broadcastable=(True,)).type == T.TensorType("float32", (True,))
    assert T.dtensor7().ndim == 7


# -- filter ------------------------------------------------------------------------------------------
@given(st.sampled_from(DTYPES), st.sampled_from(DTYPES))
def test_filter_of_an_array_accepts_exactly_the_upcasts(data_dtype, type_dtype):
    """Theano: an ndarray is converted when ``upcast(self.dtype, data.dtype) == self.dtype``."""
    t = T.TensorType(type_dtype, (False,))
    data = np.arange(3).astype(data_dtype)
    if upcast(type_dtype, data_dtype) == type_dtype:
        out = t.filter(data)
        assert out.dtype == np.dtype(type_dtype)
        np.testing.assert_array_equal(out, data.astype(type_dtype))
    else:
        with pytest.raises(TypeError, match="without risking loss of precision"):
            t.filter(data)
    got = t.filter(data, allow_downcast=True)
    assert got.dtype == np.dtype(type_dtype)
    if data_dtype == type_dtype:
        assert t.filter(data, strict=True) is data
    else:
        with pytest.raises(TypeError, match="expected a ndarray object with dtype"):
            t.filter(data, strict=True)


def test_filter_of_python_values_and_shapes():
    assert T.dscalar.filter(2).dtype == np.float64
    assert T.bscalar.filter(3) == 3
    with pytest.raises(TypeError, match="cannot store accurately value 300"):
        T.bscalar.filter(300)
    with pytest.raises(TypeError, match="cannot store accurately"):
        T.ivector.filter([1.5, 2.0])
    np.testing.assert_array_equal(T.ivector.filter([1.0, 2.0]), [1, 2])
    with pytest.raises(TypeError, match="expected a ndarray object"):
        T.dvector.filter([1.0], strict=True)
    with pytest.raises(TypeError, match="Wrong number of dimensions: expected 2, got 1"):
        T.dmatrix.filter(np.zeros(3))
    with pytest.raises(TypeError, match="Non-unit value on shape on a broadcastable dimension"):
        T.drow.filter(np.zeros((2, 3)))
    assert T.drow.filter(np.zeros((1, 3))).shape == (1, 3)
    with pytest.raises(TypeError, match="found a Variable"):
        T.dvector.filter(T.dvector())
    assert T.fscalar.filter(0.1, allow_downcast=True) == np.float32(0.1)
    with pytest.raises(TypeError):
        T.fscalar.filter(0.1)  # float64 Python float, floatX is float64: not exact in float32
    assert T.dvector.is_valid_value(np.zeros(2)) and not T.dvector.is_valid_value([0.0])


def test_filter_of_a_python_float_into_floatx_float32():
    """Theano: a Python float literal may be downcast to floatX even when floatX is float32."""
    old = symcomp.config.floatX
    symcomp.config.floatX = "float32"
    try:
        assert T.fscalar.filter(0.1).dtype == np.float32
        with pytest.raises(TypeError):
            T.fscalar.filter(0.1, allow_downcast=False)
    finally:
        symcomp.config.floatX = old


# -- upcast ------------------------------------------------------------------------------------------
def test_upcast_examples():
    """``theano.scalar.upcast`` under the default cast policy: the dtype of a sum of 0-d arrays."""
    assert upcast("int8", "float32") == "float32"
    assert upcast("int32", "float32") == "float64"
    assert upcast("uint8", "int8") == "int16"
    assert upcast("float64") == "float64"
    assert upcast("int64", "uint64") == "float64"
    assert upcast("int8", "int16", "uint16") == "int32"
    assert upcast(T.dscalar.dtype, "int8") == "float64"
    with pytest.raises(TypeError):
        upcast("nope")


@given(st.lists(st.sampled_from(DTYPES), min_size=1, max_size=4))
def test_upcast_is_numpy_promotion_of_arrays(dtypes):
    assert upcast(*dtypes) == np.result_type(*[np.dtype(d) for d in dtypes]).name


def test_dtype_compares_with_its_name():
    assert ir_types.float64 == "float64" and "float64" == ir_types.float64 and ir_types.float64 != "float32"
    assert hash(ir_types.int32) == hash("int32")
    assert ir_types.dtype("f64") is ir_types.float64


def test_star_import_keeps_the_builtin_type():
    """symcomp.tensor.type is Theano's module path; ``import *`` must not hide type()."""
    ns: dict = {}
    exec("from symcomp.tensor import *", ns)
    assert "type" not in ns and ns["dmatrix"] is T.dmatrix and ns["TensorType"] is T.TensorType
    assert "nnet" in ns and "grad" in ns
