"""The cse and dce passes: merge identical pure ops, remove unused ones, never touch updates."""

import numpy as np

import symcomp
from symcomp import tensor as T

from pass_helpers import count, evaluate, filecheck, op_names, optimized


def test_identical_ops_merge(tmp_path):
    x, y = T.dvectors("x", "y")
    m = optimized([x, y], [T.exp(x) + T.exp(x), x * y - y * x], "cse")
    filecheck(str(m), """
// CHECK: %[[E:.*]] = sc.exp %x
// CHECK-NOT: sc.exp
// CHECK: sc.add %[[E]], %[[E]]
// CHECK: %[[M:.*]] = sc.mul %x, %y
// CHECK-NOT: sc.mul
// CHECK: sc.sub %[[M]], %[[M]]
""", tmp_path)


def test_different_attributes_do_not_merge():
    x = T.dmatrix("x")
    m = optimized([x], [x.sum(axis=0), x.sum(axis=1), x.T, x.transpose(1, 0)], "cse")
    assert count(m, "sc.sum") == 2 and count(m, "sc.transpose") == 1


def test_constants_merge_by_bits():
    x = T.dvector("x")
    m = optimized([x], [x + T.constant(np.array([1.0, 2.0])), x * T.constant(np.array([1.0, 2.0])),
                        x - T.constant(0.0), x - T.constant(-0.0)], "cse")
    values = [o.attributes["value"] for o in m.func().body.ops if o.name == "sc.constant"]
    assert len(values) == 3  # [1, 2] once, 0.0 and -0.0 apart
    got = evaluate(m, np.array([-0.0, 1.0]))
    assert np.signbit(got[2][0]) and not np.signbit(got[3][0])  # -0.0 - 0.0 = -0.0; -0.0 - -0.0 = 0.0


def test_fused_bodies_compare_by_their_text():
    x, y = T.dvectors("x", "y")
    m = optimized([x, y], [T.sin(x) * 2.0 + y, T.sin(x) * 2.0 + y, T.sin(x) * 3.0 + y],
                  "canonicalize,fuse,cse")
    assert count(m, "sc.fused") == 2


def test_dce_removes_dead_chains_but_keeps_updates():
    w = symcomp.shared(np.zeros(2), name="w")
    x = T.dvector("x")
    m = optimized([x], [x * 2.0], "cse,dce", updates=[(w, w + T.exp(x))])
    assert op_names(m).count("sc.assign") == 1 and count(m, "sc.exp") == 1


def test_dce_removes_unused_results_of_rewrites():
    x = T.dvector("x")
    m = optimized([x], [T.log(1 + x)], "stabilize,dce")
    assert op_names(m) == ["sc.log1p", "func.return"]


def test_updates_are_never_merged():
    v, w = symcomp.shared(np.zeros(2), name="v"), symcomp.shared(np.zeros(2), name="w")
    x = T.dvector("x")
    f = symcomp.function([x], [], updates=[(v, x + 1.0), (w, x + 1.0)])
    f(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(v.get_value(), [2.0, 3.0])
    np.testing.assert_array_equal(w.get_value(), [2.0, 3.0])
    assert v.get_value(borrow=True) is not w.get_value(borrow=True)
