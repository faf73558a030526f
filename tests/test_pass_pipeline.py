"""The optimizer's passes as a whole: registration, the fast / fast_compile pipelines, the MLP step."""

import importlib.util
import pathlib

import numpy as np
import pytest

import symcomp
from symcomp import tensor as T
from symcomp.compile.modes import FAST_COMPILE_PIPELINE, FAST_PIPELINE, get_mode
from symcomp.passes import parse_pipeline
from symcomp.passes.manager import registered_passes

OPTIMIZER_PASSES = ["canonicalize", "constant-fold", "stabilize", "cse", "dce", "cpu-gemm-fold", "fuse", "inplace"]


@pytest.mark.parametrize("name", OPTIMIZER_PASSES)
def test_pass_is_registered_and_documented(name):
    cls = registered_passes()[name]  # registration is lazy: PASSES may still be empty
    assert cls.description and cls.__doc__ and cls.__module__.startswith("symcomp.passes.")
    (p,) = parse_pipeline(name)
    assert p.pipeline_text() == name  # defaults print as the bare name


def test_pipelines_parse_and_order():
    fast = [p.name for p in parse_pipeline(FAST_PIPELINE)]
    assert fast.index("stabilize") < fast.index("cpu-gemm-fold") < fast.index("fuse") < fast.index("inplace") < fast.index("dce")
    assert set(fast) == set(OPTIMIZER_PASSES)
    cheap = [p.name for p in parse_pipeline(FAST_COMPILE_PIPELINE)]
    assert "fuse" not in cheap and "inplace" not in cheap
    assert get_mode("FAST_RUN") is get_mode("fast") and get_mode("FAST_COMPILE") is get_mode("fast_compile")


def test_every_pass_leaves_a_stage_to_dump():
    x = T.dvector("x")
    f = symcomp.function([x], T.log(1 + T.exp(x)) * 2.0)
    for name in OPTIMIZER_PASSES:
        assert "func.func" in f.dump(name)
    assert "sc.softplus" in f.dump("stabilize") and "sc.softplus" not in f.dump("traced")
    assert all(f"pass:{n}" in f.timings for n in OPTIMIZER_PASSES)


def _mlp(mode, steps=3):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((50, 8))
    Y = rng.integers(0, 3, 50)
    x, y = T.dmatrix("x"), T.lvector("y")
    w1 = symcomp.shared(rng.uniform(-0.5, 0.5, (8, 16)), name="w1")
    b1 = symcomp.shared(np.zeros(16), name="b1")
    w2 = symcomp.shared(rng.uniform(-0.5, 0.5, (16, 3)), name="w2")
    h = T.tanh(T.dot(x, w1) + b1)
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, w2)), y))
    params = [w1, b1, w2]
    step = symcomp.function([x, y], loss, updates=[(p, p - 0.3 * g) for p, g in zip(params, T.grad(loss, params))],
                            mode=mode)
    losses = [float(step(X, Y)) for _ in range(steps)]
    return losses, [p.get_value() for p in params], step


@pytest.mark.parametrize("mode", ["fast", "fast_compile"])
def test_optimized_training_steps_match_the_reference(mode):
    want_losses, want_params, _ = _mlp("reference")
    losses, params, step = _mlp(mode)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-12)
    for got, want in zip(params, want_params):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-14)


def test_fast_mode_mlp_step_is_fused_stable_and_in_place():
    _, _, step = _mlp("fast", steps=1)
    ir = step.dump("optimized")
    assert "sc.log_softmax" in ir and "sc.fused" in ir
    assert "sc.log " not in ir  # the naive log(softmax) is gone
    (plan,) = step.executable._plans.values()
    assert len(plan.inplace_updates) == 3  # every parameter updated in its own storage


def _load_example():
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "mlp_digits.py"
    spec = importlib.util.spec_from_file_location("mlp_digits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_mlp_still_reaches_its_accuracy():
    result = _load_example().main(["--epochs", "150"])
    assert result["train_acc"] >= 0.97 and result["test_acc"] >= 0.93


PASSES_MD = pathlib.Path(__file__).resolve().parents[1] / "docs" / "passes.md"


def test_every_pattern_is_documented():
    """The README says every rule is listed in docs/passes.md: every pattern of every pass."""
    from symcomp.passes.canonicalize import canonical, fast_math
    from symcomp.passes.decompose import decompositions
    from symcomp.passes.gemm_fold import gemm_fold
    from symcomp.passes.stabilize import stable

    docs = PASSES_MD.read_text()
    for patterns in (canonical, fast_math, stable, gemm_fold, decompositions):
        for fns in patterns.by_root.values():
            for fn in fns:
                assert fn.__doc__, f"pattern {fn.__name__} has no docstring (its rule)"
                assert f"| `{fn.__name__}` |" in docs, f"pattern {fn.__name__} is missing from docs/passes.md"


def test_every_registered_pass_has_a_section():
    from symcomp.passes.manager import registered_passes

    docs = PASSES_MD.read_text()
    for name in registered_passes():
        assert f"## `{name}`" in docs or f"`{name}` and `" in docs or f"and `{name}`" in docs, \
            f"pass {name} has no section in docs/passes.md"


def test_documented_pipelines_are_the_modes_pipelines():
    from symcomp.compile.modes import get_mode

    docs = PASSES_MD.read_text()
    for mode, label in (("fast", "`fast`"), ("fast_compile", "`fast_compile`")):
        row = next(line for line in docs.splitlines() if line.startswith(f"| {label} "))
        assert row.split("|")[2].strip() == f"`{get_mode(mode).pipeline}`", row


def test_patterns_that_undo_each_other_are_reported_not_looped_forever():
    from symcomp.ir.ops import elementwise as E
    from symcomp.passes.rewrite import PatternSet, RewriteError, apply_greedily

    from pass_helpers import traced

    flip = PatternSet("flip")

    @flip.pattern(E.Add)
    def swap_operands(op, rw):
        """x + y -> y + x (forever)"""
        rw.replace(op, T.add(op.operands[1], op.operands[0]))

    x, y = T.dvectors("x", "y")
    with pytest.raises(RewriteError, match="do not converge.*swap_operands"):
        apply_greedily(traced([x, y], [x + y]), flip)
