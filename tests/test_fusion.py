"""The fuse pass and the CPU lowering of sc.fused: one loop nest per elementwise chain (and reduction)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.passes.fusion import reduction

from pass_helpers import count, evaluate, filecheck, op_names, optimized, run, traced


def fused_ops(module):
    return [o for o in module.func().body.ops if o.name == "sc.fused"]


def test_chain_becomes_one_fused_op_with_constants_in_the_body(tmp_path):
    x, y, z = T.dvectors("x", "y", "z")
    m = optimized([x, y, z], [T.exp(-x * x / 2) * T.sin(y) + T.log1p(z)], "canonicalize,fuse")
    filecheck(str(m), """
// CHECK: func.func @main
// CHECK-NEXT: %[[F:.*]] = sc.fused %x, %y, %z : tensor<?xf64> ({
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<f64>, %[[Y:.*]]: tensor<f64>, %[[Z:.*]]: tensor<f64>):
// CHECK: sc.constant {value = dense<0.5>} : tensor<f64>
// CHECK: sc.exp
// CHECK: sc.sin %[[Y]]
// CHECK: sc.log1p %[[Z]]
// CHECK: sc.yield
// CHECK-NEXT: })
// CHECK-NEXT: func.return %[[F]]
""", tmp_path)
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal(1000), rng.standard_normal(1000), rng.uniform(0, 3, 1000)
    f = symcomp.function([x, y, z], T.exp(-x * x / 2) * T.sin(y) + T.log1p(z))
    np.testing.assert_allclose(f(a, b, c), np.exp(-a * a / 2) * np.sin(b) + np.log1p(c), rtol=1e-14, atol=1e-15)


def test_broadcasting_chain():
    m, r, c = T.dmatrix("m"), T.drow("r"), T.dcol("c")
    out = T.tanh(m * r + c) - 1.0
    mod = optimized([m, r, c], [out], "canonicalize,fuse")
    assert op_names(mod) == ["sc.fused", "func.return"]
    rng = np.random.default_rng(1)
    a, b, d = rng.standard_normal((5, 7)), rng.standard_normal((1, 7)), rng.standard_normal((5, 1))
    f = symcomp.function([m, r, c], out)
    np.testing.assert_allclose(f(a, b, d), np.tanh(a * b + d) - 1.0, rtol=1e-14)


@pytest.mark.parametrize("reduce,axis", [(T.sum, None), (T.sum, 0), (T.sum, 1), (T.max, 1), (T.min, 0),
                                         (T.prod, 1), (T.mean, 1)])
def test_reduction_fuses_with_its_producers(reduce, axis):
    x = T.dmatrix("x")
    out = reduce(T.exp(x) * 0.5, axis=axis)
    m = optimized([x], [out], "canonicalize,fuse")
    red = [o for o in fused_ops(m) if o.reduce]
    assert len(red) == 1 and count(m, "sc.exp") == 0
    assert "sc.exp" in [o.name for o in red[0].body.ops]
    a = np.random.default_rng(2).uniform(-1, 1, (6, 9))
    np_reduce = {T.sum: np.sum, T.max: np.max, T.min: np.min, T.prod: np.prod, T.mean: np.mean}[reduce]
    f = symcomp.function([x], out)
    np.testing.assert_allclose(f(a), np_reduce(np.exp(a) * 0.5, axis=axis), rtol=1e-13)


def test_sum_of_exp_is_one_pass(tmp_path):
    x = T.dmatrix("x")
    m = optimized([x], [T.sum(T.exp(x))], "fuse")
    filecheck(str(m), """
// CHECK: sc.fused %x {reduce = "add", axes = [0, 1]} : tensor<f64> ({
// CHECK: sc.exp
// CHECK-NOT: sc.sum
""", tmp_path)


def test_producer_used_twice_is_not_duplicated():
    x = T.dvector("x")
    e = T.exp(x)
    m = optimized([x], [T.sin(e * 2.0), T.cos(e + 1.0)], "fuse")
    assert count(m, "sc.exp") == 1  # computed once, outside both groups
    assert len(fused_ops(m)) == 2
    for f in fused_ops(m):
        assert "sc.exp" not in [o.name for o in f.body.ops]


def test_broadcast_producer_is_not_recomputed_per_element():
    mat, row = T.dmatrix("mat"), T.drow("row")
    m = optimized([mat, row], [T.exp(row) * mat + 1.0], "canonicalize,fuse")
    assert count(m, "sc.exp") == 1  # one exp per row element, not per matrix element
    (f,) = fused_ops(m)
    assert [o.name for o in f.body.ops if o.name != "sc.constant"] == ["sc.mul", "sc.add", "sc.yield"]


def test_max_ops_limits_the_body():
    x = T.dvector("x")
    v = x
    for _ in range(10):
        v = T.sin(v)
    m = optimized([x], [v], "fuse{max-ops=4}")
    bodies = [sum(1 for o in f.body.ops if o.name != "sc.yield") for f in fused_ops(m)]
    assert max(bodies) <= 4 and sum(bodies) + count(m, "sc.sin") == 10
    a = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(evaluate(m, a)[0], evaluate(traced([x], [v]), a)[0], rtol=1e-15)


def test_fuse_is_idempotent_and_verifies():
    x, y = T.dmatrices("x", "y")
    out = T.sum(T.tanh(x * y) + x, axis=1)
    m = optimized([x, y], [out], "fuse")
    once = str(m)
    assert str(run(m, "fuse")) == once


def test_mixed_dtypes_in_one_body():
    """float32 loads computing in float64: the SIMD width follows the widest dtype of the body."""
    x = T.fvector("x")
    out = T.cast(T.exp(T.cast(x, "float64")) * 2.0, "float32") + x
    m = optimized([x], [out], "fuse")
    assert len(fused_ops(m)) == 1
    a = np.linspace(-3, 3, 37, dtype=np.float32)
    f = symcomp.function([x], out)
    np.testing.assert_allclose(f(a), (np.exp(a.astype(np.float64)) * 2.0).astype(np.float32) + a, rtol=1e-6)


def test_integer_power_error_inside_a_fused_body_is_raised():
    i = T.lvector("i")
    f = symcomp.function([i], (i + 1) ** (i - 3))
    assert "sc.fused" in f.dump("optimized")
    with pytest.raises(ValueError, match="negative integer powers"):
        f(np.array([1, 2]))
    np.testing.assert_array_equal(f(np.array([3, 4])), [1, 5])


def test_boolean_reduction_any():
    x = T.dmatrix("x")
    out = T.any(T.abs(x) > 1.0, axis=1)
    m = optimized([x], [out], "fuse")
    assert len(fused_ops(m)) == 1 and fused_ops(m)[0].reduce == "max"
    a = np.array([[0.5, -2.0], [0.1, 0.2], [3.0, 0.0]])
    np.testing.assert_array_equal(symcomp.function([x], out)(a), [True, False, True])


def test_fused_max_of_an_empty_axis_is_the_identity():
    x = T.dmatrix("x")
    out = reduction(x, "max", (1,))
    f = symcomp.function([x], out)
    np.testing.assert_array_equal(f(np.zeros((3, 0))), [-np.inf] * 3)
    np.testing.assert_array_equal(f(np.array([[1.0, np.nan], [2.0, -1.0]])), [np.nan, 2.0])


def test_non_contiguous_and_broadcast_operands():
    x = T.dmatrix("x")
    out = T.exp(x.T) * 2.0 + x.T[:, 0].dimshuffle(0, "x")
    a = np.random.default_rng(3).standard_normal((6, 4))[::2, ::-1]  # strided input
    f = symcomp.function([x], out)
    np.testing.assert_allclose(f(a), np.exp(a.T) * 2.0 + a.T[:, :1], rtol=1e-14)


_UNARY = [T.tanh, T.sin, T.cos, T.neg, T.abs, T.nnet.sigmoid, lambda v: T.exp(-v * v)]
_BINARY = [T.add, T.sub, T.mul, T.maximum, T.minimum, lambda a, b: a / (1.0 + b * b)]


@given(data=st.data())
def test_random_elementwise_graphs_match_the_reference(data):
    """Random elementwise DAGs over broadcastable inputs: compiled (fused) == NumPy reference."""
    base = data.draw(st.tuples(st.integers(1, 4), st.integers(1, 5)))
    inputs, arrays = [], []
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    for k in range(3):
        bcast = data.draw(st.tuples(st.booleans(), st.booleans()))
        shape = tuple(1 if b else None for b in bcast)
        inputs.append(T.tensor("float64", shape=shape, name=f"in{k}"))
        arrays.append(rng.uniform(-2, 2, tuple(1 if b else d for b, d in zip(bcast, base))))
    values = list(inputs)
    for _ in range(data.draw(st.integers(1, 8))):
        if data.draw(st.booleans()):
            fn = data.draw(st.sampled_from(_UNARY))
            values.append(fn(data.draw(st.sampled_from(values))))
        else:
            fn = data.draw(st.sampled_from(_BINARY))
            values.append(fn(data.draw(st.sampled_from(values)), data.draw(st.sampled_from(values))))
    out = values[-1]
    if data.draw(st.booleans()):
        out = T.sum(out, axis=data.draw(st.sampled_from([None, 0, 1])))
    fast = symcomp.function(inputs, out, on_unused_input="ignore")
    ref = symcomp.function(inputs, out, mode="reference", on_unused_input="ignore")
    np.testing.assert_allclose(fast(*arrays), ref(*arrays), rtol=1e-12, atol=1e-13)


def test_fused_from_body_builds_a_checked_op():
    from symcomp.ir.ops.fused import Fused

    x, y = T.dmatrix("x"), T.tensor("float64", (1, None), "y")
    op = Fused.from_body([x, y], lambda a, b: T.exp(a) * b, "add", (1,))
    assert op.result.type.shape == (None,)  # the reduced axis is gone
    body = list(op.body.ops)
    assert [o.name for o in body] == ["sc.exp", "sc.mul", "sc.yield"]
    assert body[-1].operands[0] is body[1].result
    a, b = np.arange(6.0).reshape(2, 3), np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(op.ref(a, b), (np.exp(a) * b).sum(1), rtol=1e-15)
    with pytest.raises(ValueError, match="axes"):
        Fused.from_body([x], lambda a: a, "add", (2,))
    with pytest.raises(ValueError):
        Fused.from_body([T.tensor("float64", (2,), "p"), T.tensor("float64", (3,), "q")], lambda a, b: a + b)
