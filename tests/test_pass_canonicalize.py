"""The canonicalize pass: algebraic simplification exact in IEEE arithmetic (and fast-math rules behind an option).

Exactness is checked bit for bit (signed zeros, infinities, NaN, subnormals)
by evaluating the program before and after the pass with the NumPy reference
interpreter, so the check is about the rewrite, not about a backend.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symcomp
from symcomp import tensor as T
from symcomp.passes import parse_pipeline

from pass_helpers import SPECIAL, count, evaluate, filecheck, op_names, optimized, run, same_bits, traced

X = SPECIAL
Y = np.roll(SPECIAL, 5)

# (rule, expression builder, op that must be gone, op that must appear or None)
EXACT = [
    ("x * 1", lambda x, y: x * 1.0, "sc.mul", None),
    ("1 * x", lambda x, y: 1.0 * x, "sc.mul", None),
    ("x * -1", lambda x, y: x * -1.0, "sc.mul", "sc.neg"),
    ("x + -0.0", lambda x, y: x + (-0.0), "sc.add", None),
    ("-0.0 + x", lambda x, y: -0.0 + x, "sc.add", None),
    ("x + -y", lambda x, y: x + (-y), "sc.add", "sc.sub"),
    ("x - 0.0", lambda x, y: x - 0.0, "sc.sub", None),
    ("x - -y", lambda x, y: x - (-y), "sc.sub", "sc.add"),
    ("-0.0 - x", lambda x, y: -0.0 - x, "sc.sub", "sc.neg"),
    ("x / 1", lambda x, y: x / 1.0, "sc.div", None),
    ("x / -1", lambda x, y: x / -1.0, "sc.div", "sc.neg"),
    ("x / 4", lambda x, y: x / 4.0, "sc.div", "sc.mul"),
    ("x / 0.125", lambda x, y: x / 0.125, "sc.div", "sc.mul"),
    ("x / -2**-1000", lambda x, y: x / -(2.0 ** -1000), "sc.div", "sc.mul"),
    ("-(-x)", lambda x, y: -(-x), "sc.neg", None),
    ("x ** 1", lambda x, y: x ** 1.0, "sc.pow", None),
    ("x ** 0", lambda x, y: x ** 0.0, "sc.pow", None),
    ("x ** 2", lambda x, y: x ** 2.0, "sc.pow", "sc.mul"),
    ("x ** -1", lambda x, y: x ** -1.0, "sc.pow", "sc.div"),
    ("select(true)", lambda x, y: T.switch(True, x, y), "sc.select", None),
    ("select(false)", lambda x, y: T.switch(False, x, y), "sc.select", None),
    ("select(c, y, y)", lambda x, y: T.switch(x > 0, y, y), "sc.select", None),
    ("select(~c, x, y)", lambda x, y: T.switch(~(x > 0), x, y), "sc.not", "sc.select"),
    ("maximum(x, x)", lambda x, y: T.maximum(x, x), "sc.maximum", None),
    ("minimum(x, x)", lambda x, y: T.minimum(x, x), "sc.minimum", None),
    ("cast(cast(x, f64), f32)", lambda x, y: T.cast(T.cast(T.cast(x, "float32"), "float64"), "float32"), None, None),
]


@pytest.mark.parametrize("rule,build,gone,appears", EXACT, ids=[e[0] for e in EXACT])
def test_exact_rule_is_applied_and_bit_exact(rule, build, gone, appears):
    x, y = T.dvector("x"), T.dvector("y")
    before = traced([x, y], [build(x, y)])
    expected = evaluate(before, X, Y)[0]
    after = run(before, "canonicalize")
    if gone:
        assert count(after, gone) == 0, f"{rule}: {gone} not rewritten:\n{after}"
    if appears:
        assert count(after, appears) >= 1, f"{rule}: expected {appears}:\n{after}"
    got = evaluate(after, X, Y)[0]
    assert same_bits(got, expected), f"{rule}: {got} != {expected}"


NOT_EXACT = [
    ("x + 0.0", lambda x: x + 0.0, "sc.add"),
    ("x - -0.0", lambda x: x - (-0.0), "sc.sub"),
    ("0.0 - x", lambda x: 0.0 - x, "sc.sub"),
    ("x * 0", lambda x: x * 0.0, "sc.mul"),
    ("x - x", lambda x: x - x, "sc.sub"),
    ("x / x", lambda x: x / x, "sc.div"),
    ("x / 3", lambda x: x / 3.0, "sc.div"),
]


@pytest.mark.parametrize("rule,build,op", NOT_EXACT, ids=[e[0] for e in NOT_EXACT])
def test_inexact_rules_need_fast_math(rule, build, op):
    x = T.dvector("x")
    before = traced([x], [build(x)])
    expected = evaluate(before, X)[0]
    exact = run(traced([x], [build(x)]), "canonicalize")
    assert count(exact, op) == 1, f"{rule} must not be rewritten without fast-math:\n{exact}"
    fast = run(before, "canonicalize{fast-math=true}")
    assert count(fast, op) == 0, f"{rule} should be rewritten under fast-math:\n{fast}"
    # ...and the reason it is fast-math only: some IEEE input gives another result.
    assert not same_bits(evaluate(fast, X)[0], expected)


def test_pow_half_to_sqrt_needs_fast_math():
    """C99 (Annex F) pow: pow(-0.0, 0.5) = +0.0 and pow(-inf, 0.5) = +inf; sqrt gives -0.0 and NaN.
    (NumPy's power happens to compute x**0.5 as sqrt, so this is checked against C99, not NumPy.)"""
    x = T.dvector("x")
    assert count(optimized([x], [x ** 0.5], "canonicalize"), "sc.pow") == 1
    fast = optimized([x], [x ** 0.5], "canonicalize{fast-math=true}")
    assert count(fast, "sc.pow") == 0 and count(fast, "sc.sqrt") == 1
    got = evaluate(fast, np.array([-0.0, -np.inf]))[0]
    assert np.signbit(got[0]) and np.isnan(got[1])  # where C99 pow gives +0.0 and +inf
    f = symcomp.function([x], x ** 0.5)  # the default pipeline keeps IEEE pow
    out = f(np.array([-0.0, -np.inf, 4.0]))
    assert not np.signbit(out[0]) and out[1] == np.inf and out[2] == 2.0


def test_x_plus_zero_keeps_negative_zero_through_a_compiled_function():
    x = T.dvector("x")
    f = symcomp.function([x], [x + 0.0, x + (-0.0)])
    plus, minus = f(np.array([-0.0, 0.0]))
    assert list(np.signbit(plus)) == [False, False]  # -0.0 + 0.0 is +0.0
    assert list(np.signbit(minus)) == [True, False]


def test_integer_rules_that_are_exact_only_for_integers():
    i = T.lvector("i")
    m = optimized([i], [i * 0, i - i, i + 0, 0 - i], "canonicalize")
    assert count(m, "sc.mul") == count(m, "sc.add") == 0
    assert op_names(m).count("sc.sub") == 0
    vals = np.array([np.iinfo(np.int64).min, -1, 0, 7])
    out = evaluate(m, vals)
    np.testing.assert_array_equal(out[0], 0)
    np.testing.assert_array_equal(out[1], 0)
    np.testing.assert_array_equal(out[2], vals)
    np.testing.assert_array_equal(out[3], -vals)


def test_dropping_a_broadcasting_operand_keeps_the_result_type(tmp_path):
    row = T.drow("row")  # (1, ?)
    ones = T.constant(np.ones((3, 4)))
    m = optimized([row], [row * ones], "canonicalize")
    filecheck(str(m), """
// CHECK-NOT: sc.mul
// CHECK: %[[B:.*]] = sc.broadcast_to %row {shape = [3, 4]} : tensor<3x4xf64>
// CHECK: func.return %[[B]]
""", tmp_path)
    r = np.arange(4.0).reshape(1, 4)
    np.testing.assert_array_equal(evaluate(m, r)[0], np.broadcast_to(r, (3, 4)))


def test_transpose_chains(tmp_path):
    x = T.dtensor3("x")
    m = optimized([x], [x.transpose(1, 2, 0).transpose(2, 0, 1), x.transpose(1, 0, 2).transpose(0, 2, 1)],
                  "canonicalize")
    filecheck(str(m), """
// CHECK: %[[T:.*]] = sc.transpose %x {perm = [1, 2, 0]}
// CHECK-NOT: sc.transpose
// CHECK: func.return %x, %[[T]]
""", tmp_path)
    a = np.arange(24.0).reshape(2, 3, 4)
    got = evaluate(m, a)
    np.testing.assert_array_equal(got[0], a)
    np.testing.assert_array_equal(got[1], a.transpose(1, 2, 0))


@given(data=st.data())
def test_view_chains_compose_to_the_same_values(data):
    """Random chains of transpose / expand_dims / squeeze simplify without changing values."""
    shape = tuple(data.draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3)))
    x = T.tensor("float64", shape=shape, name="x")
    v = x
    for _ in range(data.draw(st.integers(1, 5))):
        kind = data.draw(st.sampled_from(["t", "e", "s"]))
        if kind == "t" and v.ndim > 1:
            v = v.transpose(*data.draw(st.permutations(range(v.ndim))))
        elif kind == "e" and v.ndim < 5:
            v = T.expand_dims(v, data.draw(st.integers(0, v.ndim)))
        elif kind == "s":
            ones = [i for i, d in enumerate(v.type.shape) if d == 1]
            if ones:
                v = T.squeeze(v, data.draw(st.sampled_from(ones)))
    if v is x:
        v = T.expand_dims(v, 0)
    before = traced([x], [v])
    a = np.arange(float(np.prod(shape))).reshape(shape)
    expected = evaluate(before, a)[0]
    n_before = len(op_names(before))
    after = run(before, "canonicalize")
    assert len(op_names(after)) <= n_before
    views = [n for n in op_names(after) if n in ("sc.transpose", "sc.expand_dims", "sc.squeeze")]
    assert views.count("sc.transpose") <= 1 and views.count("sc.expand_dims") <= 1 and views.count("sc.squeeze") <= 1
    np.testing.assert_array_equal(evaluate(after, a)[0], expected)


def test_expand_then_squeeze_of_the_same_axis_cancels():
    v = T.dvector("v")
    m = optimized([v], [T.squeeze(T.expand_dims(v, 0), 0)], "canonicalize")
    assert op_names(m) == ["func.return"]


def test_unary_op_on_a_broadcast_runs_on_the_small_array():
    s, n = T.dvector("s"), T.lscalar("n")
    big = T.broadcast_to(s, (n, 3))
    m = optimized([s, n], [T.exp(big), T.cast(-big, "float32")], "canonicalize")
    for o in m.func().body.ops:
        if o.name in ("sc.exp", "sc.neg", "sc.cast"):
            assert o.result.type.ndim == 1, f"{o.name} still runs on the broadcast"
    a = np.array([0.5, -1.0, 2.0])
    got = evaluate(m, a, 4)
    np.testing.assert_array_equal(got[0], np.broadcast_to(np.exp(a), (4, 3)))
    np.testing.assert_array_equal(got[1], np.broadcast_to((-a).astype(np.float32), (4, 3)))


def test_reshape_chains():
    x = T.dmatrix("x")
    s = T.tensor("float64", shape=(2, 6), name="s")
    m = optimized([x, s], [x.flatten().reshape((3, -1)), s.reshape((3, 4)).reshape((4, 3)), s.reshape((2, 6))],
                  "canonicalize")
    assert count(m, "sc.reshape") == 2
    a, b = np.arange(12.0).reshape(4, 3), np.arange(12.0).reshape(2, 6)
    got = evaluate(m, a, b)
    np.testing.assert_array_equal(got[0], a.reshape(3, 4))
    np.testing.assert_array_equal(got[1], b.reshape(4, 3))
    np.testing.assert_array_equal(got[2], b)


def test_sum_of_a_broadcast_becomes_a_product():
    v = T.dvector("v")
    b = T.broadcast_to(v, (5, 3))  # v must have 3 elements
    m = optimized([v], [b.sum(axis=0), T.sum(T.broadcast_to(T.constant(2.5), (4, 6)))], "canonicalize")
    assert count(m, "sc.sum") == 0  # (a broadcast_to stays: it checks that v has 3 elements)
    got = evaluate(m, np.array([0.1, -2.0, np.inf]))
    np.testing.assert_array_equal(got[0], np.array([0.1, -2.0, np.inf]) * 5)
    assert float(got[1]) == 60.0


def test_sum_of_a_broadcast_with_a_dynamic_count_needs_fast_math():
    """With a dynamic count of 0, sum is 0 but 0 * inf would be NaN."""
    v, n = T.dvector("v"), T.lscalar("n")
    b = T.broadcast_to(v, (n, 3))
    m = optimized([v, n], [b.sum(axis=0)], "canonicalize")
    assert count(m, "sc.sum") == 1
    np.testing.assert_array_equal(evaluate(m, np.array([np.inf, 1.0, 2.0]), 0)[0], [0.0, 0.0, 0.0])
    m = optimized([v, n], [b.sum(axis=0)], "canonicalize{fast-math=true}")
    assert count(m, "sc.sum") == 0
    np.testing.assert_array_equal(evaluate(m, np.array([0.5, 1.0, 2.0]), 4)[0], [2.0, 4.0, 8.0])


def test_casts():
    x, i = T.fvector("x"), T.ivector("i")
    m = optimized([x, i], [T.cast(x, "float32"), T.cast(T.cast(i, "int64"), "float64"),
                           T.cast(T.cast(x, "int32"), "float32")], "canonicalize")
    names = op_names(m)
    assert names.count("sc.cast") == 3  # one for output 1; the lossy int32 round trip of output 2 stays
    out = evaluate(m, np.array([1.5, -2.5], np.float32), np.array([3, -4], np.int32))
    np.testing.assert_array_equal(out[1], [3.0, -4.0])
    np.testing.assert_array_equal(out[2], [1.0, -2.0])


def test_dims_are_read_from_the_nearest_operand():
    x, w = T.dmatrix("x"), T.dmatrix("w")
    h = T.tanh(T.dot(x, w))
    m = optimized([x, w], [h.shape[0] + h.shape[1]], "canonicalize,dce")
    assert count(m, "sc.tanh") == 0 and count(m, "sc.dot") == 0  # shape-only uses no longer need them
    assert int(evaluate(m, np.zeros((2, 3)), np.zeros((3, 5)))[0]) == 7


def test_fast_math_reassociates_constants():
    x = T.dvector("x")
    m = optimized([x], [(x * 3.0) * 5.0, (x + 1.0) + 2.0], "canonicalize{fast-math=true}")
    assert count(m, "sc.mul") == 1 and count(m, "sc.add") == 1
    np.testing.assert_array_equal(evaluate(m, np.array([1.0, 2.0]))[0], [15.0, 30.0])
    assert parse_pipeline("canonicalize{fast-math=true}")[0].fast_math is True


def test_canonicalize_is_idempotent_on_the_mlp_step():
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.lvector("y")
    w = symcomp.shared(rng.standard_normal((4, 3)), name="w")
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(x, w)), y))
    g = T.grad(loss, w)
    m = optimized([x, y], [loss], "canonicalize", updates=[(w, w - 0.1 * g)])
    once = str(m)
    assert str(run(m, "canonicalize")) == once


@pytest.mark.parametrize("divisor,rewritten", [(2.0, True), (0.5, True), (-4.0, True), (2.0 ** 1023, True),
                                               (2.0 ** -1074, False), (3.0, False)])
def test_power_of_two_division_only_where_the_reciprocal_is_exact(divisor, rewritten):
    x = T.dvector("x")
    m = optimized([x], [x / divisor], "canonicalize")
    assert (count(m, "sc.div") == 0) == rewritten
