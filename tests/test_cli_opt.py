"""symcomp-opt: exit statuses, flags, emission, and the digits-MLP walk-through from the issue."""

import io
import os
import subprocess
import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest

import symcomp
from symcomp import ir
from symcomp import tensor as T
from symcomp.cli import opt
from symcomp.passes import manager
from symcomp.passes.manager import ModulePass, register_pass

SIMPLE = """module {
  func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.exp %x : tensor<?xf64>
    %1 = sc.exp %x : tensor<?xf64>
    %2 = sc.add %0, %1 : tensor<?xf64>
    func.return %2
  }
}
"""
BAD = SIMPLE.replace("%2 = sc.add %0, %1 : tensor<?xf64>", "%2 = sc.add %0, %1 : tensor<?xi64>")


def run(argv, stdin: str = ""):
    """Run main() in-process; returns (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        status = opt.main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def ir_file(tmp_path):
    def write(text: str, name: str = "in.sc"):
        p = tmp_path / name
        p.write_text(text)
        return str(p)

    return write


def test_reads_stdin_and_writes_stdout():
    status, out, err = run(["-"], SIMPLE)
    assert (status, out, err) == (0, SIMPLE, "")
    assert run([], SIMPLE)[1] == SIMPLE


def test_pass_flags_run_in_command_line_order(ir_file):
    status, out, _ = run([ir_file(SIMPLE), "--cse", "--dce"])
    assert status == 0 and out.count("sc.exp") == 1
    assert run([ir_file(SIMPLE), "--pass-pipeline=cse"])[1] == out
    assert run([ir_file(SIMPLE), "-p", "cse"])[1] == out


def test_output_file(ir_file, tmp_path):
    dest = tmp_path / "out.sc"
    status, out, _ = run([ir_file(SIMPLE), "--cse", "-o", str(dest)])
    assert status == 0 and out == ""
    assert dest.read_text().count("sc.exp") == 1
    failed = tmp_path / "failed.sc"
    assert run([ir_file(BAD), "-o", str(failed)])[0] == 1
    assert not failed.exists()


def test_invalid_ir_exits_1_with_a_located_message(ir_file):
    path = ir_file(BAD)
    status, out, err = run([path])
    assert (status, out) == (1, "")
    assert err.startswith(f"{path}:5:10: error: sc.add: result #0 has type tensor<?xi64>, but the type rule gives")
    assert err.splitlines()[1:] == ["        %2 = sc.add %0, %1 : tensor<?xi64>", "             ^"]


@pytest.mark.parametrize("argv, message", [
    (["--bogus"], "unrecognized arguments: --bogus (see symcomp-opt --help)"),
    (["--pass-pipeline=nope"], "unknown pass 'nope'"),
    (["--cse", "--pass-pipeline=dce"], "not both"),
    (["--emit=wasm"], "invalid choice: 'wasm'"),
    (["--print-ir-before=nope"], "cannot print IR around unknown pass 'nope'"),
    (["/no/such/file.sc"], "cannot read /no/such/file.sc: No such file or directory"),
    (["-p", "builtin.module(cse"], "the '(' at column 15 is never closed (expected ')') at column 19"),
    (["-p", "builtin.module(cse,dce"], "the '(' at column 15 is never closed (expected ')')"),
    (["-p", "fuse{max-ops=3"], "'{' is never closed (options are written NAME{key=value ...}) at column 5"),
    (["-p", "cse,dce}"], "'}' closes no '{' at column 8"),
    (["-p", "cse)"], "unexpected ')' (only builtin.module(...) may wrap a pipeline) at column 4"),
])
def test_bad_usage_exits_2_with_the_reason_first(argv, message):
    """As mlir-opt: the reason on the first line (a pipeline follows with a caret), no usage block.
    A missing ')' used to read "unknown pass 'builtin.module'", a missing '}' "expected ','"."""
    status, out, err = run(argv, SIMPLE)
    assert status == 2 and out == ""
    first = err.splitlines()[0]
    assert first.startswith("symcomp-opt: error: ") and message in first, err
    assert "usage:" not in err and len(err.splitlines()) <= 3, err


def test_help_describes_every_emission_kind():
    text = opt.build_parser().format_help()
    for kind in opt.EMIT_KINDS:
        assert f"{kind}: " in text or f"{kind} / " in text or f"/ {kind}: " in text, f"--emit={kind} is not described"
    assert "mlir: the module in upstream MLIR dialects" in " ".join(text.split())


def test_unwritable_output_exits_2(ir_file, tmp_path):
    status, _, err = run([ir_file(SIMPLE), "-o", str(tmp_path / "missing" / "out.sc")])
    assert status == 2 and "cannot write" in err


def test_non_utf8_input_exits_2(tmp_path):
    p = tmp_path / "bin.sc"
    p.write_bytes(b"module {\xff}")
    status, _, err = run([str(p)])
    assert status == 2 and "is not UTF-8 text" in err


@pytest.fixture
def extra_passes(monkeypatch):
    monkeypatch.setattr(manager, "PASSES", dict(manager.registered_passes()))

    @dataclass(frozen=True)
    class Explode(ModulePass):
        name = "test-explode"
        description = "Raises KeyError to test failure reporting"
        level: int = 1

        def apply(self, module):
            raise KeyError("no such thing")

    @dataclass(frozen=True)
    class Untype(ModulePass):
        name = "test-untype"
        description = "Corrupts a result type"

        def apply(self, module):
            r = module.func().body.first.results[0]
            r.type = r.type.with_dtype("int32")

    register_pass(Explode)
    register_pass(Untype)


def test_help_lists_every_registered_pass(extra_passes):
    status, out, _ = run(["--help"])
    assert status == 0
    for name, cls in manager.registered_passes().items():
        assert f"--{name}" in out and cls.description.split()[0] in out
    assert "--test-explode" in out and "Raises KeyError to test failure reporting" in out


def test_list_passes_shows_options(extra_passes):
    status, out, _ = run(["--list-passes"])
    assert status == 0
    assert "test-explode: Raises KeyError to test failure reporting\n    level=int (default 1)" in out
    assert "cse: " in out and "dce: " in out


def test_version():
    status, out, _ = run(["--version"])
    assert status == 0 and out.startswith(f"symcomp-opt (symcomp {symcomp.__version__}, llvmlite ")


def test_failing_pass_exits_1_with_a_reproducer(extra_passes, ir_file):
    path = ir_file(SIMPLE)
    status, out, err = run([path, "--cse", "--test-explode=level=2", "--dce"])
    assert (status, out) == (1, "")
    assert "error: pass test-explode{level=2} failed: KeyError: 'no such thing'" in err
    assert f"note: reproduce with: symcomp-opt {path} --pass-pipeline='cse,test-explode{{level=2}}' " \
           "--show-traceback" in err
    assert "Traceback" not in err
    status, _, err = run([path, "--test-explode", "--show-traceback"])
    assert status == 1 and "Traceback (most recent call last)" in err


def test_verify_each_flag(extra_passes, ir_file):
    path = ir_file(SIMPLE)
    status, _, err = run([path, "--test-untype"])
    assert status == 1 and "error: after pass test-untype: sc.exp: result #0 has type tensor<?xi32>" in err
    status, out, _ = run([path, "--test-untype", "--no-verify-each"])
    assert status == 0 and "sc.exp %x : tensor<?xi32>" in out


def test_emit_llvm_and_asm(ir_file):
    path = ir_file(SIMPLE)
    status, out, _ = run([path, "--emit=llvm"])
    assert status == 0 and 'define i32 @"symcomp_f"(ptr %".1", ptr %".2")' in out
    status, out, _ = run([path, "--emit=asm"])
    assert status == 0 and "symcomp_f:" in out


def test_emit_reports_what_the_backend_cannot_compile(ir_file):
    text = """module {
  func.func @f(%x: tensor<?xi64>, %y: tensor<?xf64>) -> (tensor<?xf64>) {
    %0 = sc.sum %x {axes = [0]} : tensor<i64>
    %1 = sc.reshape %y, %0 {shape = [?]} : tensor<?xf64>
    func.return %1
  }
}
"""
    path = ir_file(text)
    status, out, err = run([path, "--emit=llvm"])
    assert (status, out) == (1, "")
    assert err.startswith(f"{path}:2:3: error: the CPU backend cannot compile @f: a size or index depends on "
                          "the data")  # located at the function


def test_emit_ptx_without_the_cuda_backend(ir_file, monkeypatch):
    monkeypatch.setitem(sys.modules, "symcomp.backends.cuda", None)  # makes the import fail
    status, out, err = run([ir_file(SIMPLE), "--emit=ptx"])
    assert (status, out) == (1, "")
    assert "error: the CUDA backend is not available" in err


def test_emit_ptx_calls_the_cuda_backend(ir_file, monkeypatch):
    seen = []
    fake = types.ModuleType("symcomp.backends.cuda")
    fake.emit_ptx = lambda module: seen.append(str(module)) or ".version 8.0\n.entry f()\n"
    monkeypatch.setitem(sys.modules, "symcomp.backends.cuda", fake)
    status, out, _ = run([ir_file(SIMPLE), "--cse", "--emit=ptx"])
    assert (status, out) == (0, ".version 8.0\n.entry f()\n")
    assert seen[0].count("sc.exp") == 1  # the module after the passes


def test_split_input_file_keeps_going_after_an_error(ir_file):
    path = ir_file(SIMPLE + "// -----\n" + BAD + "// -----\n" + SIMPLE)
    status, out, err = run([path, "--split-input-file"])
    assert status == 1
    assert out == SIMPLE + "// -----\n" + SIMPLE
    assert err.startswith(f"{path}:14:10: error: sc.add: result #0")  # line numbers of the whole file


def test_verify_diagnostics(ir_file):
    expectation = "    // expected-error @+1 {{the type rule gives tensor<?xf64>}}\n"
    text = BAD.replace("    %2 = sc.add", expectation + "    %2 = sc.add")
    assert run([ir_file(text), "--verify-diagnostics"])[0] == 0
    status, _, err = run([ir_file(SIMPLE.replace("%2 = ", "// expected-error @+1 {{nope}}\n    %2 = ")),
                          "--verify-diagnostics"])
    assert status == 1 and "expected error on line 6 was not produced: nope" in err


# -- the "done means": the digits MLP's training step, from f.dump("traced") to LLVM IR -------
def digits_training_step():
    """A small version of examples/mlp_digits.py's training step."""
    rng = np.random.default_rng(0)
    x, y = T.dmatrix("x"), T.lvector("y")
    W1 = symcomp.shared(rng.uniform(-0.1, 0.1, (64, 16)), name="W1")
    b1 = symcomp.shared(np.zeros(16), name="b1")
    W2 = symcomp.shared(np.zeros((16, 10)), name="W2")
    b2 = symcomp.shared(np.zeros(10), name="b2")
    probs = T.nnet.softmax(T.dot(T.tanh(T.dot(x, W1) + b1), W2) + b2)
    loss = T.mean(T.nnet.categorical_crossentropy(probs, y))
    params = [W1, b1, W2, b2]
    updates = [(p, p - 0.5 * g) for p, g in zip(params, T.grad(loss, params))]
    return symcomp.function([x, y], loss, updates=updates, name="train_step")


def test_digits_training_step_through_symcomp_opt(tmp_path):
    step = tmp_path / "step.sc"
    step.write_text(digits_training_step().dump("traced"))
    tool = os.path.join(os.path.dirname(sys.executable), "symcomp-opt")  # the installed console script
    res = subprocess.run([tool, str(step), "--pass-pipeline=cse,dce", "--print-ir-after-all", "--timing"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "// -----// IR Dump After cse //----- //" in res.stderr
    assert "// -----// IR Dump After dce //----- //" in res.stderr
    assert "... Execution time report ..." in res.stderr
    for row in ("Parser", "cse", "dce", "Verifier", "Output", "Total"):
        assert any(line.endswith(f"  {row}") for line in res.stderr.splitlines()), row
    optimized = ir.parse(res.stdout)
    assert len(list(optimized.func().body.ops)) < len(list(ir.parse(step.read_text()).func().body.ops))
    res = subprocess.run([tool, str(step), "--pass-pipeline=cse,dce", "--emit=llvm"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert 'define i32 @"symcomp_train_step"(ptr %".1", ptr %".2")' in res.stdout
    assert 'call void @"symcomp_dgemm"' in res.stdout  # BLAS for the products
