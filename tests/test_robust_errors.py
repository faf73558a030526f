"""The error-location contract: every error raised while compiling or running a function names the
operation involved and the user's line that created the offending variable (docs/robustness.md)."""

import inspect

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.backends.cpu.lower import LOWERINGS, load_all

MODES = ["fast", "reference"]


def _line() -> int:
    return inspect.currentframe().f_back.f_lineno


def _at(line: int) -> str:
    """The regex fragment locating a message at ``line`` of this file."""
    return rf"test_robust_errors\.py:{line}\b"


@pytest.fixture
def no_disk_cache():
    """Compile without the on-disk cache (for tests that break the backend on purpose)."""
    saved = symcomp.config.cache
    symcomp.config.cache = False
    yield
    symcomp.config.cache = saved


# -- while running -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_shape_mismatch_at_plan_time(mode):
    x, y = T.dvector("x"), T.dvector("y")
    z = x * y
    line = _line() - 1
    f = symcomp.function([x, y], T.exp(z), mode=mode)
    # Fused with the exp, the mismatch is reported on the fused loop, which lists the lines fused into it.
    with pytest.raises(ValueError, match=rf"sc.mul created at .*{_at(line)}"):
        f(np.ones(3), np.ones(4))


@pytest.mark.parametrize("mode", MODES)
def test_index_out_of_bounds(mode):
    x, i = T.dvector("x"), T.lvector("i")
    y = x[i]
    line = _line() - 1
    f = symcomp.function([x, i], y * 2, mode=mode)
    with pytest.raises(IndexError, match=rf"sc.advanced_subtensor created at .*{_at(line)}"):
        f(np.ones(3), np.array([0, 3]))
    with pytest.raises(IndexError, match=_at(line)):
        f(np.ones(3), np.array([-4]))


@pytest.mark.parametrize("mode", MODES)
def test_integer_to_a_negative_power(mode):
    i = T.lvector("i")
    p = i ** i
    line = _line() - 1
    f = symcomp.function([i], p, mode=mode)
    with pytest.raises(ValueError, match=rf"negative integer powers.*sc.pow created at .*{_at(line)}"):
        f(np.array([2, -1]))


def test_a_fused_loop_names_the_lines_fused_into_it():
    """IR holding a fused loop (as the fuse pass makes it): errors list where its ops were created."""
    from symcomp import ir
    from symcomp.backends.cpu import compile_cpu
    from symcomp.compile.trace import Signature

    module = ir.parse(FUSED, "fused.sc")
    exe = compile_cpu(module, Signature(inputs=[T.dvector("x"), T.dvector("y")], n_outputs=1), {})
    with pytest.raises(ValueError, match=r"sc.fused created at fused.sc:3:10 \(fusing sc.mul created at "
                                         r"fused.sc:5:12, sc.sqrt created at fused.sc:6:12\)"):
        exe.run([np.ones(2), np.ones(3)])


FUSED = """module {
  func.func @main(%x: tensor<?xf64>, %y: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.fused %x, %y : tensor<?xf64> ({
    ^bb0(%a: tensor<f64>, %b: tensor<f64>):
      %1 = sc.mul %a, %b : tensor<f64>
      %2 = sc.sqrt %1 : tensor<f64>
      sc.yield %2
    })
    func.return %0
  }
}
"""


def test_a_size_beyond_what_an_array_can_describe():
    x, n = T.dvector("x"), T.lscalar("n")
    b = T.broadcast_to(x, (n, n, 3))
    line = _line() - 1
    f = symcomp.function([x, n], b.sum())
    with pytest.raises(ValueError, match=rf"too big.*sc.broadcast_to created at .*{_at(line)}"):
        f(np.ones(3), 2**40)
    assert f(np.ones(3), 2) == 12.0


def test_an_output_too_large_for_memory():
    """2**45 x 3 doubles (768 TiB) exceed any address space: a clean MemoryError naming the op."""
    x, n = T.dvector("x"), T.lscalar("n")
    y = T.broadcast_to(x, (n, 3)) * 2.0
    line = _line() - 1
    f = symcomp.function([x, n], y)
    with pytest.raises(MemoryError, match=rf"output 0.*sc.mul created at .*{_at(line)}"):
        f(np.ones(3), 2**45)
    np.testing.assert_array_equal(f(np.ones(3), 1), [[2.0, 2.0, 2.0]])


def test_a_workspace_too_large_for_memory_names_the_op_that_needs_it():
    """Issue 23, item 10: a MemoryError for the internal workspace did not name the op."""
    x, n, w = T.dvector("x"), T.lscalar("n"), T.dmatrix("w")
    a = T.broadcast_to(x, (n, 3))
    prod = a @ w
    line = _line() - 1
    f = symcomp.function([x, n, w], T.exp(prod).sum())
    with pytest.raises(MemoryError, match=rf"workspace of \d+ bytes.*largest part, \d+ bytes, is for sc.dot created "
                                          rf"at .*{_at(line)}"):
        f(np.ones(3), 2**42, np.ones((3, 2)))
    np.testing.assert_allclose(f(np.ones(3), 2, np.ones((3, 2))), 4 * np.exp(3.0))


# -- while compiling ------------------------------------------------------------------------------------------
def test_an_op_without_a_lowering(monkeypatch, no_disk_cache):
    load_all()
    monkeypatch.delitem(LOWERINGS, "sc.softmax")
    x = T.dmatrix("x")
    y = T.nnet.softmax(x)
    line = _line() - 1
    with pytest.raises(NotImplementedError, match=rf"cannot compile sc.softmax created at .*{_at(line)}"):
        symcomp.function([x], y * 2.0)


def test_a_size_that_depends_on_data():
    x = T.dvector("x")
    r = T.arange(T.cast(x.sum(), "int64"))
    line = _line() - 1
    with pytest.raises(NotImplementedError,
                       match=rf"depends on the data of array argument x .needed by sc.arange created at .*{_at(line)}"):
        symcomp.function([x], r)


def test_missing_and_unused_inputs_name_the_line_that_created_them():
    x = T.dvector("x")
    line_x = _line() - 1
    y = T.dvector("y")
    line_y = _line() - 1
    with pytest.raises(symcomp.MissingInputError, match=rf"input y \(created at .*{_at(line_y)}"):
        symcomp.function([x], x + y)
    with pytest.raises(symcomp.UnusedInputError, match=rf"x \(created at .*{_at(line_x)}"):
        symcomp.function([x, y], y * 2)


def test_type_errors_are_raised_where_the_expression_is_built():
    """Type rules run when the front-end builds an op, so the traceback ends at the user's line;
    the message names the op and what it expected."""
    x = T.dvector("x")
    with pytest.raises(ValueError, match=r"sc.softmax: axis 3 is out of range for a rank-1 tensor"):
        T.nnet.softmax(x, axis=3)
    with pytest.raises(TypeError, match="dtype 'str.*' is not supported by symcomp"):
        x + "a"
    m = T.tensor("float64", shape=(2, 3), name="m")
    with pytest.raises(ValueError, match="sc.dot"):
        T.dot(m, m)
    try:
        T.dot(m, m)
    except ValueError as exc:
        frames = [f for f in inspect.getinnerframes(exc.__traceback__) if f.filename == __file__]
        assert frames[0].lineno == _line() - 3
