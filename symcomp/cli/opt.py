"""``symcomp-opt``: read IR, run passes, write IR or code; symcomp's ``mlir-opt``.

    symcomp-opt step.sc --pass-pipeline=cse,dce --print-ir-after-all --timing
    symcomp-opt step.sc --cse --dce -o step.opt.sc
    symcomp-opt step.sc --emit=llvm
    symcomp-opt kernel.sc --emit=obj -o kernel.o --header kernel.h --shape x=1000x64
    symcomp-opt errors.sc --split-input-file --verify-diagnostics

IR dumps, the timing report and diagnostics go to standard error; the result
goes to standard output (or ``-o``).  Exit status: 0 on success; 1 for invalid
IR, a failing pass, a backend that cannot compile the module, or unmet
``--verify-diagnostics`` expectations; 2 for bad usage (unknown flag or pass,
malformed pipeline, unreadable input, unwritable output).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from typing import Optional, Sequence

from symcomp.cli.diagnostics import Chunk, check_expectations, split_input
from symcomp.cli.emit import EMIT_KINDS, EmitError, emit, emit_object, parse_shapes
from symcomp.ir.errors import IRError
from symcomp.passes.manager import (
    PassManager, PipelineError, Timing, format_pipeline, parse_pipeline, registered_passes,
)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class _UsageError(Exception):
    """Bad arguments (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse, reporting a usage error as mlir-opt does: the reason first, on one line (then, for a
    pipeline, the text with a caret), without the usage block."""

    def error(self, message: str):
        raise _UsageError(f"{message} (see symcomp-opt --help)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``symcomp-opt`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        return _run(parser, argv)
    except SystemExit as exc:  # argparse: --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else EXIT_USAGE
    except _UsageError as exc:
        print(f"symcomp-opt: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; its ``--help`` lists every registered pass with its description."""
    ap = _Parser(
        prog="symcomp-opt", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Read symcomp IR, run passes on it, and write the IR or the code a backend makes of it.",
        epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("input", nargs="?", default="-", metavar="FILE",
                    help="the IR file to read ('-' or nothing: standard input)")
    ap.add_argument("-o", dest="output", default="-", metavar="OUT", help="where to write the result (default: stdout)")
    ap.add_argument("-p", "--pass-pipeline", metavar="PIPELINE",
                    help="passes to run, e.g. 'cse,dce' or 'fuse{max-ops=64}' (or give --NAME flags)")
    ap.add_argument("--emit", choices=EMIT_KINDS, default="ir",
                    help="ir: the IR (default); llvm / asm: the CPU backend's LLVM IR / native assembly; "
                         "ptx: the CUDA backend's PTX; mlir: the module in upstream MLIR dialects (func, arith, "
                         "math, tensor, linalg, scf) for mlir-opt (docs/mlir.md); obj: an object file (-o) "
                         "exporting a C function specialized to fixed shapes, shared variables included "
                         "(see --header, --shape)")
    ap.add_argument("--header", metavar="FILE", help="with --emit=obj: also write the kernel's C header")
    ap.add_argument("--shape", action="append", default=[], metavar="NAME=DIMS",
                    help="with --emit=obj: the shape of a parameter whose type has dynamic sizes, e.g. x=64x3 "
                         "(repeatable; NAME is the parameter's name or index; shared variables are parameters)")
    ap.add_argument("--func", metavar="NAME", help="with --emit=obj: the function to export (when there are several)")
    ap.add_argument("--blas-prefix", default="", metavar="PREFIX",
                    help="with --emit=obj: prefix of the BLAS symbols called (default none: dgemm_; "
                         "scipy_ for SciPy's bundled OpenBLAS)")
    ap.add_argument("--print-ir-before-all", action="store_true", help="print the IR before every pass")
    ap.add_argument("--print-ir-after-all", action="store_true", help="print the IR after every pass")
    ap.add_argument("--print-ir-before", action="append", default=[], metavar="PASS",
                    help="print the IR before the named pass(es) (repeatable, or comma-separated)")
    ap.add_argument("--print-ir-after", action="append", default=[], metavar="PASS",
                    help="print the IR after the named pass(es) (repeatable, or comma-separated)")
    ap.add_argument("--timing", action="store_true",
                    help="print a table of the time spent parsing, in each pass, verifying and writing")
    ap.add_argument("--verify-each", action=argparse.BooleanOptionalAction, default=True,
                    help="verify the IR after every pass (default: on)")
    ap.add_argument("--max-constant-bytes", type=_byte_count, default=None, metavar="N",
                    help="the most bytes of array data the dense<...> constants of one module may describe "
                         "(default: 1 GiB)")
    ap.add_argument("--split-input-file", action="store_true",
                    help="process each chunk between '// -----' lines on its own")
    ap.add_argument("--verify-diagnostics", action="store_true",
                    help="check errors against '// expected-error {{...}}' comments instead of reporting them")
    ap.add_argument("--show-traceback", action="store_true",
                    help="when a pass raises an exception, print its Python traceback")
    ap.add_argument("--list-passes", action="store_true", help="list the passes, their descriptions and options")
    ap.add_argument("--version", action="version", version=_version())
    group = ap.add_argument_group(
        "passes", "Each --NAME flag appends a pass to the pipeline, in command-line order; give options as "
                  "--NAME='opt=value ...'.")
    taken = set(ap._option_string_actions)
    for name, cls in registered_passes().items():
        if f"--{name}" not in taken:
            group.add_argument(f"--{name}", action="store_true", dest=f"_pass_{name}", help=cls.description)
    return ap


def _byte_count(text: str) -> int:
    """``--max-constant-bytes``: an integer >= 0."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a number of bytes >= 0, got {text!r}")
    return n


def _version() -> str:
    import llvmlite
    import llvmlite.binding

    from symcomp.version import __version__

    llvm = ".".join(map(str, llvmlite.binding.llvm_version_info))
    return f"symcomp-opt (symcomp {__version__}, llvmlite {llvmlite.__version__}, LLVM {llvm})"


def _pass_flags(argv: list[str], parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """Split ``--NAME`` / ``--NAME=OPTIONS`` pass flags (in order) from the other arguments."""
    names = {n for n in registered_passes() if f"--{n}" not in _own_flags(parser)}
    elements, rest = [], []
    for i, arg in enumerate(argv):
        if arg == "--":
            rest.extend(argv[i:])
            break
        flag, eq, opts = arg.partition("=")
        if flag.startswith("--") and flag[2:] in names:
            elements.append(flag[2:] + ("{" + opts + "}" if eq and opts.strip() else ""))
        else:
            rest.append(arg)
    return elements, rest


def _own_flags(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions if not a.dest.startswith("_pass_") for s in a.option_strings}


def _names(values: list[str]) -> tuple:
    return tuple(n.strip() for v in values for n in v.split(",") if n.strip())


def _run(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    flags, rest = _pass_flags(argv, parser)
    args = parser.parse_args(rest)
    if args.list_passes:
        sys.stdout.write(list_passes())
        return EXIT_OK
    if args.pass_pipeline is not None and flags:
        raise _UsageError("give passes with --pass-pipeline or as --NAME flags, not both")
    pipeline = args.pass_pipeline if args.pass_pipeline is not None else ",".join(flags)
    try:
        passes = parse_pipeline(pipeline)
        before = ("all",) if args.print_ir_before_all else _names(args.print_ir_before)
        after = ("all",) if args.print_ir_after_all else _names(args.print_ir_after)
        PassManager(passes, print_before=before, print_after=after)  # checks the names
    except PipelineError as exc:
        raise _UsageError(str(exc)) from None
    _check_object_options(args)
    text, filename = _read(args.input)
    timing = Timing()
    outputs, failed = [], False
    for chunk in split_input(text, args.split_input_file):
        pm = PassManager(passes, verify_each=args.verify_each, print_before=before, print_after=after,
                         printer=lambda s: sys.stderr.write(s), timing=timing)
        out, error = _process(chunk, filename, pm, args)
        if args.verify_diagnostics:
            problems = check_expectations(filename, chunk, error)
            for p in problems:
                print(p, file=sys.stderr)
            failed |= bool(problems)
        elif error is not None:
            print(error if error.loc is not None else f"error: {error.message}", file=sys.stderr)
            failed = True
        if out is not None:
            outputs.append(out)
    if args.output == "-" or not failed:  # like mlir-opt, keep no output file after a failure
        t0 = time.perf_counter()
        if args.emit == "obj":
            (obj, header), = outputs
            _write(args.output, obj)
            if args.header:
                _write(args.header, header)
        else:
            _write(args.output, "// -----\n".join(outputs))
        timing.add("Output", time.perf_counter() - t0)
    if args.timing:
        sys.stderr.write(timing.report())
    return EXIT_FAILURE if failed else EXIT_OK


def _process(chunk: Chunk, filename: str, pm: PassManager, args) -> tuple[Optional[str], Optional[IRError]]:
    """Parse, transform and emit one chunk: (output text or None, the error or None)."""
    from symcomp.ir.parser import parse

    t0 = time.perf_counter()
    try:
        module = parse(chunk.text, filename, first_line=chunk.first_line, max_constant_bytes=args.max_constant_bytes)
    except IRError as exc:
        return None, exc
    finally:
        pm.timing.add("Parser", time.perf_counter() - t0)
    try:
        pm.run(module)
    except IRError as exc:
        return None, exc
    except Exception as exc:  # a bug in a pass: report it as a failure, not a traceback
        if args.show_traceback:
            traceback.print_exc(file=sys.stderr)
        done = pm.passes[:pm.passes.index(pm.failed) + 1] if pm.failed in pm.passes else pm.passes
        where = filename if args.input != "-" else "-"
        return None, IRError(f"pass {pm.failed.pipeline_text() if pm.failed else '?'} failed: "
                             f"{type(exc).__name__}: {exc}\n"
                             f"note: reproduce with: symcomp-opt {where} --pass-pipeline='{format_pipeline(done)}'"
                             + ("" if args.show_traceback else " --show-traceback"))
    t0 = time.perf_counter()
    try:
        if args.emit == "obj":
            return emit_object(module, parse_shapes(args.shape), args.func, args.blas_prefix), None
        text = emit(module, args.emit)
    except EmitError as exc:  # located at the function it concerns, when it names one
        return None, IRError(str(exc), op=exc.op)
    finally:
        pm.timing.add("Output", time.perf_counter() - t0)
    return text if text.endswith("\n") else text + "\n", None


def _check_object_options(args) -> None:
    """Check the options of --emit=obj (they are refused with other kinds).

    Raises:
        _UsageError: for a missing -o, an option that does not apply, or a malformed --shape.
    """
    obj_flags = [f for f, given in (("--header", args.header), ("--shape", args.shape), ("--func", args.func),
                                    ("--blas-prefix", args.blas_prefix)) if given]
    if args.emit != "obj":
        if obj_flags:
            raise _UsageError(f"{', '.join(obj_flags)} only apply to --emit=obj")
        return
    if args.output == "-":
        raise _UsageError("--emit=obj writes a binary object file: give its path with -o")
    if args.split_input_file or args.verify_diagnostics:
        raise _UsageError("--emit=obj takes one module: --split-input-file and --verify-diagnostics do not apply")
    try:
        parse_shapes(args.shape)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None


def _read(path: str) -> tuple[str, str]:
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(), path
    except UnicodeDecodeError as exc:
        raise _UsageError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _write(path: str, text) -> None:
    """Write ``text`` (str, or bytes for object files) to ``path`` ('-': standard output)."""
    if path == "-":
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:  # a lone surrogate, or a terminal that is not UTF-8
            sys.stdout.flush()
            sys.stdout.buffer.write(text.encode(sys.stdout.encoding or "utf-8", "backslashreplace"))
        sys.stdout.flush()
        return
    try:
        if isinstance(text, bytes):
            with open(path, "wb") as f:
                f.write(text)
            return
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
    except OSError as exc:
        raise _UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def list_passes() -> str:
    """Every registered pass: name, description and options with their types and defaults."""
    lines = []
    for name, cls in registered_passes().items():
        lines.append(f"{name}: {cls.description}")
        for o in cls.options():
            help_ = f"  {o.help}" if o.help else ""
            lines.append(f"    {o.name}={getattr(o.type, '__name__', o.type)} (default {o.default}){help_}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
