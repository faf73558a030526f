"""Convolutional networks: the LeNet training step of examples/lenet_digits.py (batch 128, float32 and
float64) and one convolution layer forward + backward (batch 32, 3 -> 64 channels, 32x32, 3x3,
'half', float32), symcomp beside PyTorch eager (oneDNN), torch.compile and jax.jit, each on
BENCH_THREADS threads (2 by default).

Every peer of the LeNet step starts from the same weights and takes the same minibatch, with the
same SGD-with-momentum update; the loss of its first step is reported so that the rows can be
checked against each other.  The layer rows report the largest relative difference of the
input and filter gradients from symcomp's.

    python bench/bench_conv.py [--only lenet|layer]
"""

from __future__ import annotations

import argparse

import numpy as np

from common import THREADS, emit, peer, set_threads, timeit

LR, MOMENTUM, BATCH = 0.02, 0.9, 128


# -- the LeNet step -----------------------------------------------------------------------------------
def lenet_peers(X, y, init, dtype):
    import lenet_digits

    jax, torch = peer("jax"), peer("torch")

    def sc():
        step, _, params = lenet_digits.build(LR, MOMENTUM, dtype)
        for p, v in zip(params, init):
            p.set_value(v.copy())
        return (lambda: step(X, y)), (lambda: float(step(X, y)))

    def te(compiled):
        def make():
            if torch is None:
                return None
            F = torch.nn.functional
            params = [torch.tensor(v, requires_grad=True) for v in init]
            vel = [torch.zeros_like(p) for p in params]
            xt, yt = torch.from_numpy(X), torch.from_numpy(y)

            def loss_fn(x, t):
                W1, b1, W2, b2, W3, b3, W4, b4 = params
                # symcomp's conv2d convolves (flips the filters); torch correlates: flip for equal results
                h = F.max_pool2d(F.relu(F.conv2d(x, W1.flip(2, 3), b1, padding=1)), 2)
                h = F.max_pool2d(F.relu(F.conv2d(h, W2.flip(2, 3), b2, padding=1)), 2)
                h = F.relu(h.flatten(1) @ W3 + b3)
                return F.cross_entropy(h @ W4 + b4, t)

            lf = torch.compile(loss_fn) if compiled else loss_fn

            def run():
                loss = lf(xt, yt)
                grads = torch.autograd.grad(loss, params)
                with torch.no_grad():
                    for p, v, g in zip(params, vel, grads):
                        v.mul_(MOMENTUM).sub_(LR * g)
                        p.add_(v)
                return loss

            return run, (lambda: float(run()))
        return make

    def jx():
        if jax is None:
            return None
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax import lax

        def conv(x, w):
            return lax.conv_general_dilated(x, w[:, :, ::-1, ::-1], (1, 1), ((1, 1), (1, 1)),
                                            dimension_numbers=("NCHW", "OIHW", "NCHW"))

        def pool(x):
            return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

        def loss(p, x, t):
            W1, b1, W2, b2, W3, b3, W4, b4 = p
            h = pool(jax.nn.relu(conv(x, W1) + b1[None, :, None, None]))
            h = pool(jax.nn.relu(conv(h, W2) + b2[None, :, None, None]))
            h = jax.nn.relu(h.reshape(h.shape[0], -1) @ W3 + b3)
            return -jnp.mean(jax.nn.log_softmax(h @ W4 + b4)[jnp.arange(x.shape[0]), t])

        @jax.jit
        def step(p, v, x, t):
            val, g = jax.value_and_grad(loss)(p, x, t)
            v = tuple(MOMENTUM * a - LR * b for a, b in zip(v, g))
            return tuple(a + b for a, b in zip(p, v)), v, val

        state = {"p": tuple(jax.device_put(v) for v in init), "v": tuple(jax.device_put(np.zeros_like(v))
                                                                          for v in init)}
        xd, yd = jax.device_put(X), jax.device_put(y)

        def run():
            state["p"], state["v"], val = step(state["p"], state["v"], xd, yd)
            return val.block_until_ready()

        return run, (lambda: float(run()))

    return [("symcomp", THREADS, sc), ("torch eager (oneDNN)", THREADS, te(False)),
            ("torch.compile(loss) + eager SGD", THREADS, te(True)), ("jax.jit", "XLA default", jx)]


def bench_lenet():
    import lenet_digits

    X_train, _, y_train, _ = lenet_digits.load(0)
    for dtype in ("float32", "float64"):
        X, y = np.ascontiguousarray(X_train[:BATCH].astype(dtype)), y_train[:BATCH]
        _, _, _, _, _, params = lenet_digits.model(LR, MOMENTUM, dtype)
        init = [p.get_value() for p in params]
        init[6] = np.random.default_rng(1).normal(0, 0.05, init[6].shape).astype(dtype)  # W4: not all-zero
        for name, threads, make in lenet_peers(X, y, init, dtype):
            bench = f"lenet_step_b{BATCH}_{dtype}"
            try:
                made = make()
            except Exception as exc:  # noqa: BLE001
                emit(bench, name, threads, None, note=f"{type(exc).__name__}: {str(exc)[:120]}")
                continue
            if made is None:
                emit(bench, name, threads, None, note="not installed")
                continue
            run, loss = made
            first = loss()
            res = timeit(run, warmup=3, min_reps=30, budget_s=2.0)
            emit(bench, name, threads, res, first_loss=first)


# -- one layer forward + backward ---------------------------------------------------------------------
def layer_peers(x, w, g):
    import symcomp
    from symcomp import tensor as T

    jax, torch = peer("jax"), peer("torch")

    def sc():
        xs, ws, gs = T.ftensor4("x"), T.ftensor4("w"), T.ftensor4("g")
        y = T.nnet.conv2d(xs, ws, border_mode="half", filter_flip=False)
        gx, gw = T.grad((y * gs).sum(), [xs, ws])
        f = symcomp.function([xs, ws, gs], [y, gx, gw])
        return lambda: f(x, w, g)

    def te(compiled):
        def make():
            if torch is None:
                return None
            F = torch.nn.functional
            xt, wt, gt = (torch.from_numpy(a) for a in (x, w, g))
            xt.requires_grad_(True)
            wt.requires_grad_(True)

            def fwd(a, b):
                return F.conv2d(a, b, padding=1)

            ff = torch.compile(fwd) if compiled else fwd

            def run():
                y = ff(xt, wt)
                gx, gw = torch.autograd.grad(y, [xt, wt], gt)
                return y.detach().numpy(), gx.numpy(), gw.numpy()

            return run
        return make

    def jx():
        if jax is None:
            return None
        from jax import lax

        def fwd(a, b):
            return lax.conv_general_dilated(a, b, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))

        @jax.jit
        def step(a, b, c):
            y, vjp = jax.vjp(fwd, a, b)
            gx, gw = vjp(c)
            return y, gx, gw

        dev = [jax.device_put(v) for v in (x, w, g)]

        def run():
            out = step(*dev)
            out[2].block_until_ready()
            return [np.asarray(o) for o in out]

        return run

    return [("symcomp", THREADS, sc), ("torch eager (oneDNN)", THREADS, te(False)),
            ("torch.compile(conv) + autograd", THREADS, te(True)), ("jax.jit", "XLA default", jx)]


def bench_layer():
    r = np.random.default_rng(0)
    x = r.normal(size=(32, 3, 32, 32)).astype(np.float32)
    w = (r.normal(size=(64, 3, 3, 3)) * 0.2).astype(np.float32)
    g = r.normal(size=(32, 64, 32, 32)).astype(np.float32)
    flops = 3 * 2 * 32 * 64 * 32 * 32 * 27  # forward, input gradient, filter gradient
    ref = None
    for name, threads, make in layer_peers(x, w, g):
        bench = "conv_layer_fwd_bwd_b32_3to64_32x32_f32"
        try:
            fn = make()
        except Exception as exc:  # noqa: BLE001
            emit(bench, name, threads, None, note=f"{type(exc).__name__}: {str(exc)[:120]}")
            continue
        if fn is None:
            emit(bench, name, threads, None, note="not installed")
            continue
        out = fn()
        if ref is None:
            ref = out
        err = max(float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-30)) for a, b in zip(out, ref))
        res = timeit(fn, warmup=3, min_reps=20, budget_s=2.0, prime=True)
        emit(bench, name, threads, res, flops=flops, max_rel_err_vs_symcomp=err)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", choices=["lenet", "layer"], default=None)
    args = ap.parse_args(argv)
    peer("torch")
    set_threads()
    if args.only in (None, "lenet"):
        bench_lenet()
    if args.only in (None, "layer"):
        bench_layer()


if __name__ == "__main__":
    main()
