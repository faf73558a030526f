"""Run every benchmark of issue 5, one process per benchmark (peers side by side inside it), and
write a markdown table with ratios to the best peer and to the measured machine limits.

    python bench/run_all.py [--only limits elementwise ...] [--out bench/results/NAME.md]

The child processes run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (this machine sets them
and they slow OpenBLAS ~2x), with glibc's malloc thresholds fixed (MALLOC_MMAP_THRESHOLD_=64MiB,
MALLOC_TRIM_THRESHOLD_=256MiB, so that no peer's temporaries up to 64 MiB are unmapped and
page-faulted again on every call: PEERS.md saw that swing NumPy's small MLP 4x; before each
peer's timed calls (after its compilation), ``common.prime_heap`` leaves the same free 210 MiB
region in the heap, so that larger results, such as the 80 MB of a 1e7 float64 result, come from
it for every peer that uses ``malloc``; JAX's, and in some processes torch's, do not: the
``page faults/call`` column shows it) and with
BENCH_THREADS threads
(default 2) for every peer that has a setting.  The table header says all of this again.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {  # name -> (script, timeout s)
    "limits": ("bench_limits.py", 600), "elementwise": ("bench_elementwise.py", 900),
    "reductions": ("bench_reductions.py", 900), "mlp": ("bench_mlp.py", 1200),
    "compile": ("bench_compile.py", 1200), "overhead": ("bench_overhead.py", 600),
    "random": ("bench_random.py", 900), "scan": ("bench_scan.py", 1200),
    "conv": ("bench_conv.py", 1200),
}
TITLES = {
    "ew_f64": ("exp(-x*x/2)*sin(y)+log1p(z), 1e7 float64", "bw", 4 * 8 * 10**7),
    "ew_f32": ("same in float32", "bw", 4 * 4 * 10**7),
    "abc_f64": ("a*b+c, 1e7 float64, fresh output", "bw", 4 * 8 * 10**7),
    "gelu_f32": ("GELU 0.5x(1+erf(x/sqrt2)), 1e7 float32", "bw", 2 * 4 * 10**7),
    "sumexp": ("sum(exp(x)), 2000x5000 float64", "bw_read", 8 * 10**7),
    "softmax": ("softmax over rows, 2000x5000 float64", "bw", 2 * 8 * 10**7),
    "mlp_1797": ("digits MLP train step, 1797 rows", "gemm", None),
    "mlp_60000": ("digits MLP train step, 60000 rows", "gemm", None),
    "compile_mlp": ("MLP step: graph -> first result in a new process (s)", None, None),
    "overhead": ("call overhead, x+1 on 1 element (us)", None, None),
    "rand_u_f64": ("uniform draws, 1e7 float64, fresh result", None, None),
    "rand_u_f32": ("uniform draws, 1e7 float32, fresh result", None, None),
    "rand_n_f64": ("normal draws, 1e7 float64, fresh result", None, None),
    "rand_n_f32": ("normal draws, 1e7 float32, fresh result", None, None),
    "dropout": ("dropout x * (u < 0.5) / 0.5, 2000x5000 float64, new mask per call", "bw", 2 * 8 * 10**7),
    "lstm_step_f64": ("LSTM SGD step (scan), batch 128, 8 steps, hidden 128, float64", None, None),
    "lstm_step_f32": ("LSTM SGD step (scan), batch 128, 8 steps, hidden 128, float32", None, None),
    "recurrence_1e5": ("h = a*h + x_t over 1e5 steps (per call)", None, None),
    "lenet_step_b128_float32": ("LeNet SGD step, batch 128, float32", None, None),
    "lenet_step_b128_float64": ("LeNet SGD step, batch 128, float64", None, None),
    "conv_layer_fwd_bwd_b32_3to64_32x32_f32": ("conv 3x3 'half' 3->64, 32x32, batch 32, fwd+bwd, float32", None, None),
}


def child_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                            "PYTHONDONTWRITEBYTECODE")}
    env.update(MALLOC_MMAP_THRESHOLD_=str(64 << 20), MALLOC_TRIM_THRESHOLD_=str(256 << 20))
    env.setdefault("BENCH_THREADS", "2")
    return env


def run(names) -> list[dict]:
    rows = []
    for name in names:
        script, timeout = BENCHES[name]
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            r = subprocess.run([sys.executable, str(HERE / script)], env=child_env(), cwd=HERE,
                               capture_output=True, text=True, timeout=timeout)
            out, err, code = r.stdout, r.stderr, r.returncode
        except subprocess.TimeoutExpired as exc:
            out, err, code = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), \
                "timeout", -1
        for line in out.splitlines():
            if line.startswith("{"):
                rows.append(json.loads(line))
        if code:
            rows.append({"bench": name, "peer": "(benchmark process)", "threads": "-", "skipped": True,
                         "note": f"exit {code}: {err.strip().splitlines()[-1][:200] if err.strip() else ''}"})
    return rows


def limits(rows) -> dict:
    lim = {"bw": 0.0, "bw_read": 0.0, "gemm": 0.0}
    for r in rows:
        if r["bench"] != "limits" or r.get("skipped"):
            continue
        if "flops" in r:
            lim["gemm"] = max(lim["gemm"], r["flops"] / r["min_s"])
        elif r.get("read_only"):
            lim["bw_read"] = max(lim["bw_read"], r["bytes"] / r["min_s"])
        else:
            lim["bw"] = max(lim["bw"], r["bytes"] / r["min_s"])
    lim["bw_read"] = lim["bw_read"] or lim["bw"]
    return lim


def fmt_time(bench: str, s: float) -> str:
    if bench == "overhead":
        return f"{s * 1e6:.3f} us"
    if bench == "compile_mlp":
        return f"{s:.3f} s"
    return f"{s * 1e3:.3g} ms"


def limits_table(rows) -> str:
    out = ["### machine limits (STREAM convention: bytes / fastest repeat)", "",
           "| kernel | threads | median | min | rate at min | load avg |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r["bench"] != "limits" or r.get("skipped"):
            continue
        rate = f"{r['flops'] / r['min_s'] / 1e9:.0f} GFLOP/s" if "flops" in r else \
            f"{r['bytes'] / r['min_s'] / 1e9:.1f} GB/s"
        out.append(f"| {r['peer']} | {r['threads']} | {r['median_s'] * 1e3:.2f} ms | {r['min_s'] * 1e3:.2f} ms | "
                   f"{rate} | {r['load']:.1f} |")
    return "\n".join(out) + "\n"


def table(rows, lim) -> str:
    out = [limits_table(rows)]
    for bench, (title, kind, nbytes) in TITLES.items():
        rs = [r for r in rows if r["bench"] == bench]
        if not rs:
            continue
        timed = [r for r in rs if not r.get("skipped")]
        best_all = min(r["median_s"] for r in timed) if timed else None
        out += [f"### {title}", ""]
        # Like with like: the compile rows compare cold with cold and warm with warm.
        for mode in ("[cold]", "[warm]") if bench == "compile_mlp" else ("",):
            group = [r for r in timed if r["peer"].endswith(mode)]
            peers = [r for r in group if not r["peer"].startswith("symcomp")]
            sc = [r for r in group if r["peer"] == "symcomp" or r["peer"].startswith("symcomp [")]
            if peers and sc:
                best_peer = min(peers, key=lambda r: r["median_s"])
                mine = min(r["median_s"] for r in sc)
                out.append(f"symcomp{' ' + mode if mode else ''} / best peer ({best_peer['peer']}): "
                           f"**{mine / best_peer['median_s']:.2f}x** "
                           f"({'symcomp fastest' if mine <= best_peer['median_s'] else 'a peer is faster'})")
                out.append("")
        head = "| peer | threads | median | min | x best | cores used | page faults/call | load avg | limit | check |"
        out += [head, "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rs:
            if r.get("skipped"):
                out.append(f"| {r['peer']} | {r['threads']} | skipped | | | | | | | {r.get('note', '')} |")
                continue
            lim_txt = ""
            if kind in ("bw", "bw_read") and lim.get(kind):
                gbs = nbytes / r["median_s"]
                lim_txt = f"{gbs / 1e9:.1f} GB/s = {100 * gbs / lim[kind]:.0f}% of BW"
            elif kind == "gemm" and lim.get("gemm") and "flops" in r:
                lim_txt = f"{100 * r['flops'] / r['median_s'] / lim['gemm']:.0f}% of DGEMM"
            check = ""
            if "max_rel_err" in r:
                check = f"max rel err {r['max_rel_err']:.1e}"
            elif "first_loss" in r:
                check = f"first loss {r['first_loss']:.10f}"
            if "stages_ms" in r:
                check += " stages (ms): " + ", ".join(f"{k} {v}" for k, v in r["stages_ms"].items())
            if "import_s" in r:
                check = f"import {r['import_s']:.2f} s; " + check
            cores = f"{r['cores']:.2f}" if "cores" in r else ""
            faults = f"{r['faults']:.0f}" if "faults" in r else ""
            out.append(f"| {r['peer']} | {r['threads']} | {fmt_time(bench, r['median_s'])} | "
                       f"{fmt_time(bench, r.get('min_s', r['median_s']))} | {r['median_s'] / best_all:.2f} | "
                       f"{cores} | {faults} | {r.get('load', 0):.1f} | {lim_txt} | {check} |")
        out.append("")
    return "\n".join(out)


def versions() -> str:
    import importlib

    parts = []
    for m in ("symcomp", "numpy", "llvmlite", "numexpr", "numba", "jax", "pytensor", "torch"):
        try:
            parts.append(f"{m} {importlib.import_module(m).__version__}")
        except Exception:  # noqa: BLE001
            parts.append(f"{m} (not installed)")
    return ", ".join(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", choices=list(BENCHES), default=list(BENCHES))
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    rows = run(args.only)
    lim = limits(rows)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    out = args.out or HERE / "results" / f"results-{stamp.replace(' ', '_').replace(':', '')}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join([
        f"# symcomp benchmarks, {stamp}", "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {versions()}.",
        "Environment of every benchmark process: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE **unset** (set on this "
        "machine, they slow OpenBLAS ~2x); MALLOC_MMAP_THRESHOLD_=64MiB and MALLOC_TRIM_THRESHOLD_=256MiB for "
        "every peer alike, and before each peer's timed calls (after its compilation) the same free 210 MiB "
        "region at the top of the heap "
        f"(bench/common.py prime_heap); {child_env()['BENCH_THREADS']} threads for every peer with a setting (symcomp "
        "config.num_threads, numexpr, numba, torch, OpenBLAS via threadpoolctl; JAX uses XLA's default; "
        "PyTensor's loops are single-threaded).",
        "Medians of repeated calls in one process per benchmark, peers side by side; `x best` = median / best "
        "median of the table; `load avg` = the machine's 1-minute load average when the row ran (2 cores: "
        "above 2, other processes were competing for them); `page faults/call` = minor page faults per timed call "
        "(about 19500 for an 80 MB result in fresh pages: that peer paid for the kernel mapping its result).",
        f"Limits measured in this run: read+write bandwidth {lim['bw'] / 1e9:.1f} GB/s, read-only "
        f"{lim['bw_read'] / 1e9:.1f} GB/s, DGEMM {lim['gemm'] / 1e9:.0f} GFLOP/s.", "",
        table(rows, lim),
    ])
    out.write_text(text)
    print(text)
    print(f"\nwritten to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
