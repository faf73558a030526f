"""The pass manager: registry, pipeline strings, options, instrumentation, and f.dump(stage)."""

from dataclasses import dataclass, field

import numpy as np
import pytest

import symcomp
from symcomp import ir
from symcomp import tensor as T
from symcomp.compile.modes import MODES, Mode, get_mode, register_mode
from symcomp.compile.trace import trace
from symcomp.ir.errors import VerifyError
from symcomp.passes import manager
from symcomp.passes.manager import (
    ModulePass, PassManager, PipelineError, Timing, format_pipeline, parse_pipeline, register_pass,
    replay_stages, stage_names,
)


@dataclass(frozen=True)
class Tune(ModulePass):
    name = "test-tune"
    description = "A pass with options of every kind (does nothing)"
    max_ops: int = field(default=64, metadata={"help": "largest body"})
    ratio: float = 0.5
    aggressive: bool = False
    mode: str = "fast"

    def apply(self, module):
        pass


@dataclass(frozen=True)
class BreakTypes(ModulePass):
    name = "test-break-types"
    description = "Corrupts the type of the first operation's result"

    def apply(self, module):
        first = module.func().body.first
        first.results[0].type = first.results[0].type.with_dtype("int8")


@dataclass(frozen=True)
class Crash(ModulePass):
    name = "test-crash"
    description = "Raises an exception"

    def apply(self, module):
        raise RuntimeError("boom")


@pytest.fixture
def test_passes(monkeypatch):
    """Register the test passes for one test only."""
    monkeypatch.setattr(manager, "PASSES", dict(manager.registered_passes()))
    for cls in (Tune, BreakTypes, Crash):
        register_pass(cls)


def module_of(build=lambda x: T.exp(x) + T.exp(x)):
    x = T.dvector("x")
    return trace([x], [build(x)])[0]


# -- registry and pipeline strings ----------------------------------------------------------------------
def test_builtin_passes_are_registered_with_descriptions():
    passes = manager.registered_passes()
    assert {"cse", "dce"} <= set(passes)
    assert all(cls.description and "\n" not in cls.description for cls in passes.values())


def test_pipeline_string_with_options(test_passes):
    passes = parse_pipeline("cse, test-tune{max-ops=8 ratio=0.25,aggressive=true mode=slow} ,dce")
    assert [p.name for p in passes] == ["cse", "test-tune", "dce"]
    assert passes[1] == Tune(max_ops=8, ratio=0.25, aggressive=True, mode="slow")
    assert format_pipeline(passes) == "cse,test-tune{max-ops=8 ratio=0.25 aggressive=true mode=slow},dce"
    assert parse_pipeline(format_pipeline(passes)) == passes


def test_pipeline_forms_are_equivalent(test_passes):
    want = [p.name for p in parse_pipeline("cse,dce")]
    assert [p.name for p in parse_pipeline("builtin.module(cse,dce)")] == want
    assert [p.name for p in parse_pipeline(["cse", "dce"])] == want
    assert [p.name for p in parse_pipeline(["cse", manager.PASSES["dce"]()])] == want
    assert parse_pipeline("") == [] and parse_pipeline([]) == []
    assert Tune().pipeline_text() == "test-tune"


def test_pass_options_are_described(test_passes):
    opts = {o.name: o for o in Tune.options()}
    assert opts["max-ops"].type is int and opts["max-ops"].default == 64 and opts["max-ops"].help == "largest body"
    assert [o.name for o in Tune.options()] == ["max-ops", "ratio", "aggressive", "mode"]


@pytest.mark.parametrize("text, message", [
    ("cse,bogus", "unknown pass 'bogus'"),
    ("cse,,dce", "expected a pass name at column 5"),
    ("cse,", "expected a pass name after ','"),
    ("cse dce", "expected ',' between passes at column 5"),
    ("test-tune{max-ops=many}", "option max-ops='many' is not a valid int"),
    ("test-tune{aggressive=yes}", "option aggressive='yes' is not a valid bool"),
    ("test-tune{speed=1}", "pass test-tune has no option 'speed' (options: max-ops, ratio, aggressive, mode)"),
    ("test-tune{max-ops}", "option 'max-ops' must be written key=value"),
    ("cse{", "'{' is never closed (options are written NAME{key=value ...}) at column 4"),
    ("cse,dce}", "'}' closes no '{' at column 8"),
    ("builtin.module(cse,dce", "the '(' at column 15 is never closed (expected ')') at column 23"),
    ("cse(dce)", "unexpected '(' (only builtin.module(...) may wrap a pipeline) at column 4"),
])
def test_pipeline_errors(test_passes, text, message):
    with pytest.raises(PipelineError) as info:
        parse_pipeline(text)
    assert message in str(info.value)


def test_pipeline_error_shows_a_caret():
    with pytest.raises(PipelineError) as info:
        parse_pipeline("cse,,dce")
    assert str(info.value).endswith("\n    cse,,dce\n        ^")


def test_list_items_must_be_passes():
    with pytest.raises(PipelineError, match="pass names or ModulePass instances"):
        parse_pipeline([3])


def test_register_pass_rejects_bad_declarations(monkeypatch):
    monkeypatch.setattr(manager, "PASSES", {})

    @dataclass(frozen=True)
    class NoDescription(ModulePass):
        name = "nodesc"

    @dataclass(frozen=True)
    class Required(ModulePass):
        name = "required"
        description = "An option without default"
        level: int

    @dataclass(frozen=True)
    class BadName(ModulePass):
        name = "bad name"
        description = "A name with a space"

    with pytest.raises(ValueError, match="needs a name and a one-line description"):
        register_pass(NoDescription)
    with pytest.raises(ValueError, match="option level needs a default"):
        register_pass(Required)
    with pytest.raises(ValueError, match="must be letters, digits"):
        register_pass(BadName)
    register_pass(Tune)
    register_pass(Tune)  # registering the same class again is harmless

    @dataclass(frozen=True)
    class Impostor(ModulePass):
        name = "test-tune"
        description = "Same name, other class"

    with pytest.raises(ValueError, match="registered twice"):
        register_pass(Impostor)


def test_stage_names_number_repeated_passes():
    passes = parse_pipeline("cse,dce,cse,cse")
    assert stage_names(passes) == ["cse", "dce", "cse#2", "cse#3"]


# -- running and instrumentation ------------------------------------------------------------------------
def test_run_applies_passes_in_order():
    m = module_of()
    PassManager("cse,dce").run(m)
    assert [o.name for o in m.func().body.ops] == ["sc.exp", "sc.add", "func.return"]


def test_print_before_and_after():
    dumps = []
    PassManager("cse,dce", print_before=("dce",), print_after=("all",), printer=dumps.append).run(module_of())
    assert [d.split("\n")[0] for d in dumps] == [
        "// -----// IR Dump After cse //----- //",
        "// -----// IR Dump Before dce //----- //",
        "// -----// IR Dump After dce //----- //",
    ]
    after_cse = dumps[0].split("\n", 1)[1]
    assert after_cse.count("sc.exp") == 1 and ir.parse(after_cse)  # each dump is parseable IR


def test_print_names_must_be_passes():
    with pytest.raises(PipelineError, match="unknown pass 'csee'"):
        PassManager("cse", print_after=("csee",))


def test_timing_rows_and_report():
    pm = PassManager("cse,dce,cse")
    pm.run(module_of())
    assert list(pm.timing.rows) == ["cse", "Verifier", "dce", "cse#2"]
    assert [name for name, _ in pm.timings] == ["cse", "dce", "cse#2"]
    report = pm.timing_report()
    total = sum(pm.timing.rows.values())
    assert f"Total Execution Time: {total:.4f} seconds" in report
    assert report.splitlines()[-1].strip() == f"{total:.4f} (100.0%)  Total"
    assert "----Wall Time----  ----Name----" in report


def test_timing_report_of_nothing():
    assert "Total Execution Time: 0.0000 seconds" in Timing().report()


def test_verify_each_catches_a_broken_pass(test_passes):
    pm = PassManager("cse,test-break-types")
    with pytest.raises(VerifyError) as info:
        pm.run(module_of())
    assert info.value.message.startswith("after pass test-break-types: sc.exp: result #0 has type tensor<?xi8>")
    assert pm.failed.name == "test-break-types"
    PassManager("test-break-types", verify_each=False).run(module_of())  # off: no check


def test_failing_pass_is_named(test_passes):
    pm = PassManager("cse,test-crash")
    with pytest.raises(RuntimeError, match="boom") as info:
        pm.run(module_of())
    assert "while running pass test-crash" in info.value.__notes__
    assert pm.failed == Crash()


# -- symcomp.function and f.dump(stage) -----------------------------------------------------------------
def test_dump_stages_of_a_function():
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x) + T.exp(x))
    traced = f.dump("traced")
    assert traced.count("sc.exp") == 2
    assert f.dump("cse").count("sc.exp") == 1
    assert f.dump("optimized") == f.dump("dce")
    for stage in ("traced", "cse", "dce", "optimized"):
        text = f.dump(stage)
        assert str(ir.parse(text)) == text
    assert 'define i32 @"symcomp_main"' in f.dump("llvm")
    assert "symcomp_main" in f.dump("llvm-optimized")
    assert "symcomp_main:" in f.dump("asm")
    with pytest.raises(KeyError, match="unknown stage 'nope'; known stages: traced, canonicalize, "):
        f.dump("nope")
    np.testing.assert_allclose(f(np.array([0.0, 1.0])), 2 * np.exp([0.0, 1.0]))


def test_mode_selects_the_pipeline(test_passes):
    register_mode(Mode("test-mode", "cse,cse,test-tune{max-ops=3}", get_mode("fast").backend))
    try:
        x = T.dvector("x")
        f = symcomp.function([x], T.exp(x) + T.exp(x), mode="test-mode")
        assert f.dump("cse#2") == f.dump("cse") == f.dump("test-tune") == f.dump("optimized")
        assert "pass:test-tune{max-ops=3}" in f.timings
    finally:
        del MODES["test-mode"]


def test_a_broken_pass_in_a_mode_fails_compilation(test_passes):
    register_mode(Mode("test-broken", "test-break-types", get_mode("fast").backend))
    try:
        x = T.dvector("x")
        with pytest.raises(VerifyError, match="after pass test-break-types"):
            symcomp.function([x], T.exp(x), mode="test-broken")
    finally:
        del MODES["test-broken"]


def test_compiling_prints_no_ir(monkeypatch):
    """Stages are printed on demand: compiling costs one clone, not one print per pass.

    (With the on-disk cache on, the optimized module is printed once for the cache key.)"""
    printed = []
    original = ir.ModuleOp.__str__
    monkeypatch.setattr(ir.ModuleOp, "__str__", lambda m: printed.append(1) or original(m))
    x = T.dvector("x")
    saved, symcomp.config.cache = symcomp.config.cache, False
    try:
        f = symcomp.function([x], T.exp(x) + T.exp(x))
    finally:
        symcomp.config.cache = saved
    assert printed == []
    f.dump("cse")
    assert printed == [1]
    f.dump("cse")  # cached
    assert printed == [1]


def test_replayed_stages_match_the_compiled_module():
    m = module_of(lambda x: T.sum(T.exp(x) * T.exp(x)) + T.sum(T.exp(x)))
    passes = parse_pipeline("cse,dce")
    stages = replay_stages(m, passes)
    before = str(m)
    PassManager(passes).run(m)
    assert stages["traced"]() == before
    assert stages["optimized"]() == stages["dce"]() == str(m)
