"""Pickling compiled functions: IR text + signature + shared values; recompiled (once) when loaded."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

import symcomp
from symcomp import embed, ir
from symcomp import tensor as T
from symcomp.compile import pickling
from tests.helpers import assert_matches


def _model():
    rng = np.random.default_rng(0)
    w = symcomp.shared(rng.standard_normal((4, 3)), name="w")
    b = symcomp.shared(np.zeros(3), name="b")
    x, y = T.dmatrix("x"), T.lvector("y")
    p = T.nnet.softmax(T.dot(x, w) + b)
    loss = T.mean(T.nnet.categorical_crossentropy(p, y))
    gw, gb = T.grad(loss, [w, b])
    train = symcomp.function([x, y], loss, updates={w: w - 0.1 * gw, b: b - 0.1 * gb}, name="train")
    predict = symcomp.function([x], T.argmax(p, axis=1), name="predict")
    return train, predict, w, b


def test_round_trip_keeps_results_shared_values_and_identity():
    train, predict, w, b = _model()
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)
    train(x, y)
    train2, predict2 = pickle.loads(pickle.dumps((train, predict)))
    w2, b2 = train2.signature.shared
    assert predict2.signature.shared[0] is w2  # one variable, shared by both copies
    np.testing.assert_array_equal(w2.get_value(), w.get_value())
    for _ in range(3):
        assert_matches(train2(x, y), train(x, y))
        assert_matches(predict2(x=x), predict(x))
    np.testing.assert_array_equal(w2.get_value(), w.get_value())
    np.testing.assert_array_equal(b2.get_value(), b.get_value())
    w2.set_value(np.zeros((4, 3)))
    assert not np.array_equal(w.get_value(), w2.get_value())  # the copies are independent of the originals
    assert train2.name == "train" and train2.mode == train.mode
    assert train2.dump("optimized") == train.dump("optimized")


def test_loading_the_same_function_again_reuses_its_machine_code():
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x) * 3.0 + 1.0, name="pickled_once")
    data = pickle.dumps(f)
    before = pickling.compilation_count()
    copies = [pickle.loads(data) for _ in range(4)]
    assert pickling.compilation_count() <= before + 1  # at most once (0: another test already loaded it)
    assert len({id(c.executable) for c in copies}) == 1
    xv = np.linspace(-2, 2, 9)
    for c in copies:
        assert_matches(c(xv), np.exp(xv) * 3.0 + 1.0)


def test_a_pickled_function_runs_in_another_process(tmp_path):
    train, predict, w, b = _model()
    path = tmp_path / "f.pkl"
    path.write_bytes(pickle.dumps(predict))
    x = np.random.default_rng(5).standard_normal((6, 4))
    np.save(tmp_path / "x.npy", x)
    code = ("import pickle, sys, numpy as np; f = pickle.load(open(sys.argv[1], 'rb')); "
            "np.save(sys.argv[3], f(np.load(sys.argv[2])))")
    subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "x.npy"), str(tmp_path / "out.npy")],
                   check=True, capture_output=True)
    assert_matches(np.load(tmp_path / "out.npy"), predict(x))


def test_options_modes_and_builder_functions_survive():
    x = T.fvector("x")
    f = symcomp.function([x], x * 2, allow_input_downcast=True, mode="reference")
    g = pickle.loads(pickle.dumps(f))
    assert g.mode == "reference" and g.allow_input_downcast
    assert_matches(g(np.array([1.5, 2.5])), np.array([3.0, 5.0], np.float32))  # float64 data downcast
    b = ir.Builder()
    with b.function("cube", [("v", "tensor<?xi64>")]) as fb:
        fb.ret(fb.op("sc.mul", fb.op("sc.mul", fb.args[0], fb.args[0]), fb.args[0]))
    h = pickle.loads(pickle.dumps(embed.compile(b.finish())))
    assert_matches(h(np.array([-2, 3])), np.array([-8, 27]))


def test_cpu_executables_pickle_too():
    x = T.dvector("x")
    f = symcomp.function([x], T.sqrt(x).sum())
    exe = pickle.loads(pickle.dumps(f.executable))
    (out,), _ = exe.run([np.array([4.0, 9.0])])
    assert_matches(out, np.float64(5.0))


def test_pickles_of_another_format_are_refused():
    with pytest.raises(ValueError, match="format 99"):
        pickling._rebuild_function({"format": 99})
