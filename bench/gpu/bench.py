"""GPU benchmarks of symcomp's CUDA backend, peers side by side in one process.

Sections (markdown tables on stdout):

1. Device copy bandwidth (the limit): CuPy device-to-device copy, and symcomp's own copy kernel.
2. Elementwise, N elements: ``a*b + c`` (float64), ``exp(-x*x/2) * sin(y) + log1p(z)`` (float64 and
   float32), as one ``sc.fused`` kernel and unfused (one kernel per op), against PyTorch eager and
   CuPy; GB/s counts compulsory traffic (inputs read once, output written once, STREAM convention)
   and ``% BW`` divides by the measured copy bandwidth.
3. Reductions: ``sum(exp(x))`` (fused reduction), row sums, ``softmax(x, axis=1)``.
4. The digits MLP training step (64-256-10, float64, full batch of 1347 rows, as
   examples/mlp_digits.py): symcomp CUDA, symcomp CPU (LLVM), PyTorch (CUDA, eager) and JAX (jit).

Method: inputs resident on the device (device arrays; symcomp returns device arrays with
``return_device_arrays``), 3 warm-up calls, then the median of timed calls, each followed by a
device synchronization.  Run through bench/gpu/run_all.sh (OPENBLAS_* variables unset there).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # JAX shares the GPU with the others

import numpy as np  # noqa: E402

import symcomp  # noqa: E402
from symcomp import tensor as T  # noqa: E402
from symcomp.ir.ops.fused import Fused  # noqa: E402


def fused(inputs, body, reduce="", axes=()):
    """An ``sc.fused`` op applying ``body`` (a function of rank-0 values) to ``inputs``."""
    return Fused.from_body(inputs, body, reduce, axes).result


def timeit(fn, sync, reps: int, warmup: int = 3) -> float:
    """Median seconds of ``fn(); sync()``."""
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    sys.stdout.flush()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1 << 26, help="elements per array in sections 1-3")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--mlp-steps", type=int, default=200)
    args = ap.parse_args(argv)

    import cupy as cp
    from numba import cuda

    dev = cuda.get_current_device()
    print(f"# symcomp CUDA benchmarks on {dev.name.decode() if isinstance(dev.name, bytes) else dev.name}\n")
    print(f"numpy {np.__version__}, numba-cuda {_version('numba_cuda')}, cupy {cp.__version__}, "
          f"torch {_version('torch')}, jax {_version('jax')}; N = {args.n:,} elements")
    sync = cuda.synchronize
    n = args.n
    rng = np.random.default_rng(0)

    # -- 1. bandwidth -----------------------------------------------------------------------
    a64 = cp.asarray(rng.standard_normal(n))
    b64 = cp.empty_like(a64)
    t_copy = timeit(lambda: b64.__setitem__(Ellipsis, a64), sync, args.reps)
    bw = 2 * a64.nbytes / t_copy
    x = T.dvector("x")
    f_copy = symcomp.function([x], T.copy(x), device="cuda")
    f_copy.executable.return_device_arrays = True
    t_sc_copy = timeit(lambda: f_copy(a64), sync, args.reps)
    table("1. Device copy bandwidth (float64)", ["kernel", "median ms", "GB/s"],
          [["CuPy `b[...] = a` (the limit)", f"{t_copy * 1e3:.3f}", f"{bw / 1e9:.0f}"],
           ["symcomp sc.copy (allocates its output)", f"{t_sc_copy * 1e3:.3f}", f"{2 * a64.nbytes / t_sc_copy / 1e9:.0f}"]])

    # -- 2. elementwise --------------------------------------------------------------------------
    rows = []
    for label, dtype, expr_sc, expr_peer in [
        ("a*b + c", "float64", lambda a, b, c: a * b + c, lambda a, b, c: a * b + c),
        ("exp(-x*x/2) * sin(y) + log1p(z)", "float64",
         lambda a, b, c: T.exp(-a * a / 2) * T.sin(b) + T.log1p(c), None),
        ("exp(-x*x/2) * sin(y) + log1p(z)", "float32",
         lambda a, b, c: T.exp(-a * a / 2) * T.sin(b) + T.log1p(c), None),
    ]:
        ins = [cp.asarray(rng.uniform(0.1, 1.0, n).astype(dtype)) for _ in range(3)]
        nbytes = 4 * ins[0].nbytes
        vs = [T.vector(nm, dtype=dtype) for nm in "abc"]
        cands = []
        f_fused = symcomp.function(vs, fused(vs, expr_sc), device="cuda")
        f_unfused = symcomp.function(vs, expr_sc(*vs), device="cuda")
        for f in (f_fused, f_unfused):
            f.executable.return_device_arrays = True
        cands.append(("symcomp sc.fused (1 kernel)", lambda: f_fused(*ins)))
        cands.append(("symcomp unfused (1 kernel per op)", lambda: f_unfused(*ins)))
        torch_fn = _torch_elementwise(label, ins)
        if torch_fn is not None:
            cands.append(("PyTorch eager", torch_fn))
        cands.append(("CuPy (unfused)", (lambda a, b, c: (lambda: expr_peer(a, b, c)))(*ins) if expr_peer else
                      (lambda a, b, c: (lambda: cp.exp(-a * a / 2) * cp.sin(b) + cp.log1p(c)))(*ins)))
        ref = cp.asnumpy(cands[-1][1]())
        got = cp.asnumpy(f_fused(*ins))
        err = float(np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-30)))
        for name, fn in cands:
            t = timeit(fn, sync, args.reps)
            rows.append([f"`{label}` {dtype}", name, f"{t * 1e3:.3f}", f"{nbytes / t / 1e9:.0f}",
                         f"{100 * nbytes / t / bw:.0f}%", f"{err:.1e}" if name.startswith("symcomp sc.fused") else ""])
    table(f"2. Elementwise, N={n:,} (3 inputs + 1 output; % BW of the copy bandwidth {bw / 1e9:.0f} GB/s)",
          ["expression", "implementation", "median ms", "GB/s", "% BW", "max rel err vs CuPy"], rows)

    # -- 3. reductions -----------------------------------------------------------------------------
    rows = []
    xs = cp.asarray(rng.standard_normal(n))
    v = T.dvector("x")
    f_sumexp = symcomp.function([v], fused([v], T.exp, "add", (0,)), device="cuda")
    f_sumexp_unfused = symcomp.function([v], T.sum(T.exp(v)), device="cuda")
    cands = [("symcomp fused reduction", lambda: f_sumexp(xs)), ("symcomp unfused", lambda: f_sumexp_unfused(xs)),
             ("CuPy", lambda: cp.exp(xs).sum())]
    tf = _torch()
    if tf is not None:
        tx = tf.as_tensor(xs, device="cuda")
        cands.append(("PyTorch eager", lambda: tf.exp(tx).sum()))
    for name, fn in cands:
        t = timeit(fn, sync, args.reps)
        rows.append(["sum(exp(x))", name, f"{t * 1e3:.3f}", f"{xs.nbytes / t / 1e9:.0f}", f"{100 * xs.nbytes / t / bw:.0f}%"])
    m = T.dmatrix("m")
    shape = (n // 1024, 1024)
    xm = xs.reshape(shape)
    f_rows = symcomp.function([m], T.sum(m, axis=1), device="cuda")
    f_soft = symcomp.function([m], T.nnet.softmax(m), device="cuda")
    for f in (f_rows, f_soft):
        f.executable.return_device_arrays = True
    for label, fn, nbytes in [("row sums (x.sum(1)), rows of 1024", lambda: f_rows(xm), xm.nbytes),
                              ("softmax(x, axis=1), rows of 1024", lambda: f_soft(xm), 2 * xm.nbytes)]:
        t = timeit(fn, sync, args.reps)
        rows.append([label, "symcomp", f"{t * 1e3:.3f}", f"{nbytes / t / 1e9:.0f}", f"{100 * nbytes / t / bw:.0f}%"])
    if tf is not None:
        txm = tf.as_tensor(xm, device="cuda")
        for label, fn, nbytes in [("row sums (x.sum(1)), rows of 1024", lambda: txm.sum(1), xm.nbytes),
                                  ("softmax(x, axis=1), rows of 1024", lambda: tf.softmax(txm, 1), 2 * xm.nbytes)]:
            t = timeit(fn, sync, args.reps)
            rows.append([label, "PyTorch eager", f"{t * 1e3:.3f}", f"{nbytes / t / 1e9:.0f}",
                         f"{100 * nbytes / t / bw:.0f}%"])
    table("3. Reductions (float64; bytes = input read + output written)",
          ["reduction", "implementation", "median ms", "GB/s", "% BW"], rows)

    # -- 4. MLP ----------------------------------------------------------------------------------------
    mlp_rows(args.mlp_steps, sync)


def mlp_rows(steps: int, sync):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    from mlp_digits import build

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target.astype(np.int64)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    rows = []
    for device in ("cuda", "cpu"):
        t0 = time.perf_counter()
        step, _, _ = build(64, 256, 10, 0.5, "tanh", device, 0)
        step(X_train, y_train)  # CUDA kernels are compiled (or read from the PTX cache) on first use
        sync()
        compile_s = time.perf_counter() - t0
        t = timeit(lambda: step(X_train, y_train), sync, steps)
        rows.append([f"symcomp {device}", "NumPy arrays in, loss out", f"{t * 1e3:.3f}", f"{compile_s:.2f}"])
        if device == "cuda":
            from numba import cuda

            dx, dy = cuda.to_device(X_train), cuda.to_device(y_train)
            t = timeit(lambda: step(dx, dy), sync, steps)
            rows.append(["symcomp cuda", "device arrays in", f"{t * 1e3:.3f}", ""])
    tf = _torch()
    if tf is not None:
        rows.append(["PyTorch (CUDA, eager, float64)", "device tensors", f"{_torch_mlp(tf, X_train, y_train, steps) * 1e3:.3f}", ""])
    jx = _jax_mlp(X_train, y_train, steps)
    if jx is not None:
        rows.append(["JAX (jit, GPU, float64)", "device arrays", f"{jx[0] * 1e3:.3f}", f"{jx[1]:.2f}"])
    table(f"4. Digits MLP training step (64-256-10, float64, {len(X_train)} rows, median of {steps} steps)",
          ["implementation", "inputs", "median ms/step", "compile + first step s"], rows)


def _init(rng):
    s1 = np.sqrt(6.0 / (64 + 256))
    return [rng.uniform(-s1, s1, (64, 256)), np.zeros(256), np.zeros((256, 10)), np.zeros(10)]


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _torch_elementwise(label, ins):
    tf = _torch()
    if tf is None:
        return None
    a, b, c = (tf.as_tensor(v, device="cuda") for v in ins)
    if label == "a*b + c":
        return lambda: a * b + c
    return lambda: tf.exp(-a * a / 2) * tf.sin(b) + tf.log1p(c)


def _torch_mlp(torch, X, y, steps):
    rng = np.random.default_rng(0)
    params = [torch.tensor(p, device="cuda", requires_grad=True) for p in _init(rng)]
    tx, ty = torch.tensor(X, device="cuda"), torch.tensor(y, device="cuda")
    rows = torch.arange(len(y), device="cuda")

    def step():
        W1, b1, W2, b2 = params
        probs = torch.softmax(torch.tanh(tx @ W1 + b1) @ W2 + b2, dim=1)
        loss = -torch.log(probs[rows, ty]).mean()
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= 0.5 * g
        return loss

    return timeit(lambda: step().item(), torch.cuda.synchronize, steps)


def _jax_mlp(X, y, steps):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    if not any(d.platform == "gpu" for d in jax.devices()):
        return None
    rng = np.random.default_rng(0)
    params = [jax.device_put(p) for p in _init(rng)]
    jxx, jy = jax.device_put(X), jax.device_put(y)

    def loss_fn(params, X, y):
        W1, b1, W2, b2 = params
        logp = jax.nn.log_softmax(jnp.tanh(X @ W1 + b1) @ W2 + b2, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    @jax.jit
    def step(params, X, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, X, y)
        return loss, [p - 0.5 * g for p, g in zip(params, grads)]

    t0 = time.perf_counter()
    step(params, jxx, jy)[0].block_until_ready()
    compile_s = time.perf_counter() - t0
    state = {"p": params}

    def run():
        loss, state["p"] = step(state["p"], jxx, jy)
        loss.block_until_ready()

    return timeit(run, lambda: None, steps), compile_s


def _version(mod):
    try:
        return __import__(mod).__version__
    except Exception:  # noqa: BLE001 - only for the report line
        return "n/a"


if __name__ == "__main__":
    main()
