"""IR text as untrusted input (issue 23, items 5, 6 and 8): memory bounded by a constant budget,
splats that stay small from the parser to the emitted code, function names of any text, and the
error contract (ParseError only; no traceback or raw terminal escapes from symcomp-opt)."""

import os
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

import symcomp
from symcomp import ir
from symcomp import tensor as T
from symcomp.cli.opt import main as opt_main
from symcomp.ir.errors import ParseError, VerifyError
from symcomp.ir.parser import MAX_CONSTANT_BYTES

N = 67108864  # the parser's largest constant, in elements: 512 MiB of f64


def _splats(k: int, n: int = N, value: str = "1.0") -> str:
    body = "".join(f"  %c{i} = sc.constant {{value = dense<{value}>}} : tensor<{n}xf64>\n" for i in range(k))
    rets = ", ".join(f"%c{i}" for i in range(k))
    types = ", ".join(f"tensor<{n}xf64>" for _ in range(k))
    return f"func.func @f() -> ({types}) {{\n{body}  func.return {rets}\n}}\n"


def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- item 5: constant budget, splats kept small ----------------------------------------------------------

def test_many_splats_in_a_tiny_module_are_a_parse_error_naming_the_budget_not_gigabytes():
    """923 bytes of IR (several 512 MiB splats) reached 5.6 GB while parsing and ended in MemoryError."""
    text = _splats(10)
    assert len(text) < 1200

    def parse():
        with pytest.raises(ParseError) as info:
            ir.parse(text, "splats.sc")
        msg = str(info.value)
        assert f"over the budget of {MAX_CONSTANT_BYTES} bytes" in msg and "max_constant_bytes" in msg
        assert "splats.sc:4:" in msg and "tensor<67108864xf64>" in msg  # the third constant crosses 1 GiB

    assert _peak_bytes(parse) < 20e6


def test_splats_under_the_budget_parse_as_views_and_print_back():
    text = _splats(2)
    peak = _peak_bytes(lambda: ir.parse(text))
    assert peak < 20e6, f"parsing two 512 MiB splats allocated {peak / 1e6:.0f} MB"
    m = ir.parse(text)
    assert str(ir.parse(str(m))) == str(m) and "{value = dense<1.0>} : tensor<67108864xf64>" in str(m)
    value = next(iter(m.func().body.ops)).attributes["value"]
    assert value.shape == (N,) and value.strides == (0,) and not value.flags.writeable


def test_the_budget_is_an_option_of_parse_and_of_symcomp_opt(tmp_path, capsys):
    text = _splats(1, n=1000)  # 8,000 bytes
    with pytest.raises(ParseError, match="8000 bytes.*over the budget of 7999 bytes"):
        ir.parse(text, max_constant_bytes=7999)
    ir.parse(text, max_constant_bytes=8000)
    with pytest.raises(ValueError, match="max_constant_bytes must be an int >= 0"):
        ir.parse(text, max_constant_bytes=-1)
    src = tmp_path / "c.sc"
    src.write_text(text)
    assert opt_main([str(src), "--max-constant-bytes=7999"]) == 1
    assert "over the budget of 7999 bytes" in capsys.readouterr().err
    assert opt_main([str(src), "--max-constant-bytes", "8000"]) == 0
    capsys.readouterr()
    assert opt_main([str(src), "--max-constant-bytes=lots"]) == 2
    assert "expected a number of bytes" in capsys.readouterr().err


BIG = """\
func.func @f(%x: tensor<67108864xf64>) -> (tensor<67108864xf64>) {
  %0 = sc.constant {value = dense<1.5>} : tensor<67108864xf64>
  %1 = sc.add %x, %0 : tensor<67108864xf64>
  func.return %1
}
"""


def test_emit_llvm_of_a_large_splat_is_a_fill_loop_not_its_data(tmp_path, capsys):
    """A 147-byte module made --emit=llvm write 1.48 GB."""
    src = tmp_path / "big.sc"
    src.write_text(BIG)
    out = tmp_path / "big.ll"
    assert opt_main([str(src), "--emit=llvm", "-o", str(out)]) == 0, capsys.readouterr().err
    text = out.read_text()
    assert len(text) < 100_000 and "zeroinitializer" in text and "llvm.global_ctors" in text
    from symcomp.backends.cpu.toolchain import machine

    machine.parse(text)  # LLVM reads it


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to link the object file")
def test_emit_obj_keeps_splats_out_of_the_file_and_fills_them_when_loaded(tmp_path, capsys):
    """A 147-byte module made --emit=obj write a 537 MB object; here 4096 splat elements of 1.5 (and
    a zero splat) go to .bss, and the C program sees the right values."""
    (tmp_path / "k.sc").write_text("""\
func.func @k(%x: tensor<4096xf64>) -> (tensor<4096xf64>) {
  %0 = sc.constant {value = dense<1.5>} : tensor<4096xf64>
  %1 = sc.constant {value = dense<0.0>} : tensor<4096xf64>
  %2 = sc.mul %x, %0 : tensor<4096xf64>
  %3 = sc.add %2, %1 : tensor<4096xf64>
  func.return %3
}
""")
    rc = opt_main([str(tmp_path / "k.sc"), "--emit=obj", "-o", str(tmp_path / "k.o"), "--header",
                   str(tmp_path / "k.h")])
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "k.o").stat().st_size < 32768  # not 2 x 32 KiB of data
    header = (tmp_path / "k.h").read_text()
    libs = header.split("Link with:")[1].split("\n")[0].split()
    (tmp_path / "main.c").write_text("""\
#include <stdio.h>
#include "k.h"
int main(void) {
  static double x[4096], y[4096];
  for (int i = 0; i < 4096; i++) x[i] = i;
  if (k(x, y, NULL) != SYMCOMP_OK) return 2;
  for (int i = 0; i < 4096; i++) if (y[i] != 1.5 * i) { printf("bad %d %g\\n", i, y[i]); return 1; }
  printf("ok\\n");
  return 0;
}
""")
    subprocess.run(["gcc", "-std=c99", "-o", "prog", "main.c", "k.o", *libs], check=True, cwd=tmp_path,
                   capture_output=True, text=True)
    assert subprocess.run([str(tmp_path / "prog")], capture_output=True, text=True).stdout == "ok\n"


def test_compiled_functions_still_read_parsed_splats():
    m = ir.parse("""\
func.func @f(%x: tensor<5000xf64>) -> (tensor<5000xf64>) {
  %0 = sc.constant {value = dense<2.5>} : tensor<5000xf64>
  %1 = sc.mul %x, %0 : tensor<5000xf64>
  func.return %1
}
""")
    from symcomp.embed import compile as embed_compile

    f = embed_compile(m)
    x = np.linspace(0, 1, 5000)
    np.testing.assert_array_equal(f(x), x * 2.5)


# -- item 8: the error contract --------------------------------------------------------------------------

@pytest.mark.parametrize("dims", ["0x4611686018427387904", "4611686018427387904x0", "0x2305843009213693952x4"])
def test_an_empty_constant_whose_dimensions_overflow_is_a_parse_error(dims):
    """ir.parse raised ValueError from NumPy ('array is too big')."""
    text = (f"func.func @f() -> (tensor<{dims}xf64>) {{\n"
            f"  %0 = sc.constant {{value = dense<[]>}} : tensor<{dims}xf64>\n  func.return %0\n}}\n")
    with pytest.raises(ParseError, match="more than 2\\^63 bytes"):
        ir.parse(text)


@given(st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=4), st.sampled_from(["f64", "f32", "i8", "i1"]))
def test_constants_of_any_shape_parse_or_raise_parse_errors(dims, dt):
    shape = "x".join(map(str, dims))
    value = "[]" if 0 in dims else ("true" if dt == "i1" else "1")
    text = (f"func.func @f() -> (tensor<{shape}x{dt}>) {{\n"
            f"  %0 = sc.constant {{value = dense<{value}>}} : tensor<{shape}x{dt}>\n  func.return %0\n}}\n")
    try:
        m = ir.parse(text)
    except (ParseError, VerifyError):
        return
    assert str(ir.parse(str(m))) == str(m)


def _installed_opt(*args, stdin=None):
    exe = Path(sys.executable).with_name("symcomp-opt")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "symcomp.cli.opt"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONIO")}
    return subprocess.run(cmd + list(args), input=stdin, capture_output=True, env=env, timeout=120)


SURROGATE = """\
func.func @"\\ud800x"(%x: tensor<?xf64>) -> (tensor<?xf64>) {
  %0 = sc.exp %x : tensor<?xf64>
  func.return %0
}
"""


@pytest.mark.parametrize("emit", ["ir", "llvm"])
def test_symcomp_opt_writes_a_symbol_holding_a_lone_surrogate_without_a_traceback(tmp_path, emit):
    """--emit=llvm printed a UnicodeEncodeError traceback."""
    (tmp_path / "s.sc").write_text(SURROGATE)
    res = _installed_opt(str(tmp_path / "s.sc"), f"--emit={emit}")
    assert res.returncode == 0 and b"Traceback" not in res.stderr, res.stderr.decode()[-2000:]
    if emit == "ir":
        assert str(ir.parse(res.stdout.decode())) == str(ir.parse(SURROGATE))


def test_error_excerpts_escape_terminal_control_sequences(tmp_path):
    """The excerpt under an error copied ESC [31m ... from the input to stderr."""
    bad = "func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>) {\n  %0 = sc.bogus\x1b[31mRED\u202e %x : " \
          "tensor<?xf64>\n  func.return %0\n}\n"
    (tmp_path / "e.sc").write_text(bad)
    res = _installed_opt(str(tmp_path / "e.sc"))
    err = res.stderr.decode()
    assert res.returncode == 1 and "unknown operation 'sc.bogus'" in err
    assert "\x1b" not in err and "\u202e" not in err and "\\x1b[31mRED\\u202e" in err
    line, caret = err.splitlines()[1:3]
    assert caret.index("^") == line.index("sc.bogus")  # the caret still points at the op
    with pytest.raises(ParseError) as info:
        ir.parse(bad)
    assert "\x1b" not in str(info.value)


# -- item 6: function names --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["função", "a\x00b", "\ud800", "x" * 500, "9lives", "名前", "a b-c.d"])
def test_function_names_of_any_text_compile_and_keep_their_display_name(name):
    """name='função' failed with UnicodeEncodeError from llvmlite; a NUL gave KeyError."""
    x = T.dvector("x")
    f = symcomp.function([x], T.exp(x) + 1.0, name=name)
    assert f.name == name
    np.testing.assert_allclose(f(np.zeros(3)), 2.0)
    llvm = f.dump("llvm")
    assert llvm.isascii()
    g = symcomp.function([x], T.exp(x) + 1.0, name=name)  # the second one comes from the cache
    np.testing.assert_allclose(g(np.zeros(2)), 2.0)


def test_distinct_names_get_distinct_symbols():
    from symcomp.backends.cpu.toolchain.build import symbol_name

    names = ["função", "fun__o", "fun_o", "a\x00b", "a_b", "a\x01b", "main"]
    symbols = [symbol_name(n) for n in names]
    assert len(set(symbols)) == len(names)
    assert symbol_name("main") == "main" and all(s.isascii() and s.isidentifier() for s in symbols)


# -- item 7: fused bodies are bounded in IR text, as the fuse pass bounds them ----------------------------

def _fused_text(n: int) -> str:
    body = ["    %v0 = sc.mul %a, %b : tensor<f64>"]
    body += [f"    %v{i} = {'sc.exp' if i % 2 else 'sc.add'} %v{i - 1}{'' if i % 2 else ', %a'} : tensor<f64>"
             for i in range(1, n)]
    return ("func.func @f(%x: tensor<?xf64>, %y: tensor<?xf64>) -> (tensor<?xf64>) {\n"
            "  %r = sc.fused %x, %y : tensor<?xf64> ({\n  ^bb0(%a: tensor<f64>, %b: tensor<f64>):\n"
            + "\n".join(body) + f"\n    sc.yield %v{n - 1}\n  }})\n  func.return %r\n}}\n")


def test_a_fused_body_beyond_the_limit_is_a_parse_error():
    """500 ops in one body took 18.7 s to compile, 3,000 more than 120 s."""
    from symcomp.ir.parser import MAX_FUSED_BODY_OPS

    ir.parse(_fused_text(MAX_FUSED_BODY_OPS))
    for n in (MAX_FUSED_BODY_OPS + 1, 500, 3000):
        with pytest.raises(ParseError, match=f"sc.fused body of {n} operations exceeds the parser's limit of "
                                             f"{MAX_FUSED_BODY_OPS}"):
            ir.parse(_fused_text(n), "big.sc")


def test_the_fuse_pass_cannot_make_bodies_the_parser_refuses():
    from symcomp.ir.parser import MAX_FUSED_BODY_OPS
    from symcomp.passes.manager import PassManager, parse_pipeline

    m = ir.parse("func.func @f(%x: tensor<?xf64>) -> (tensor<?xf64>) {\n  %0 = sc.exp %x : tensor<?xf64>\n"
                 "  func.return %0\n}\n")
    with pytest.raises(ValueError, match=f"max-ops must be between 1 and {MAX_FUSED_BODY_OPS}"):
        PassManager(parse_pipeline(f"fuse{{max-ops={MAX_FUSED_BODY_OPS + 1}}}")).run(m)
    PassManager(parse_pipeline(f"fuse{{max-ops={MAX_FUSED_BODY_OPS}}}")).run(m)
