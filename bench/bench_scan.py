"""Loops: an LSTM training step and a long scalar recurrence.

* ``lstm_step_f64`` / ``lstm_step_f32``: one SGD step of an LSTM classifier (batch 128, 8 steps
  of 8 features, hidden 128, softmax over 10 classes on the last hidden state): forward loop,
  cross-entropy, backpropagation through time, updates.  symcomp (``symcomp.scan``, the model of
  examples/lstm_digits.py) beside PyTorch eager (``nn.LSTM``, oneDNN) and ``torch.compile`` of the
  same step, and JAX ``jit`` of ``lax.scan`` with ``value_and_grad``.
* ``recurrence_1e5``: ``h = a * h + x_t`` over 10^5 steps (float64), per call: symcomp's native
  loop beside ``jax.lax.scan`` (jit) and a NumPy Python loop; the table's time divided by 10^5 is
  the cost of one step.
"""

from __future__ import annotations

import numpy as np

from common import THREADS, jax_call, peer, run_peers, set_threads

BATCH, STEPS, FEATURES, HIDDEN, CLASSES = 128, 8, 8, 128, 10
LR = 0.1
N_REC = 100_000


def lstm_data(dtype):
    rng = np.random.default_rng(0)
    x = rng.random((STEPS, BATCH, FEATURES)).astype(dtype)
    y = rng.integers(0, CLASSES, BATCH).astype(np.int64)
    return x, y


def lstm_peers(dtype):
    import symcomp

    torch, jax = peer("torch"), peer("jax")
    x, y = lstm_data(dtype)
    name = np.dtype(dtype).name

    def sc():
        from lstm_digits import model

        xs, ys, loss, _, updates, _ = model(FEATURES, HIDDEN, CLASSES, LR, name, "sgd")
        f = symcomp.function([xs, ys], loss, updates=updates)
        return lambda: f(x, y)

    def torch_step(compiled: bool):
        def make():
            if torch is None:
                return None
            torch.manual_seed(0)
            tdt = getattr(torch, name)
            lstm = torch.nn.LSTM(FEATURES, HIDDEN).to(tdt)
            head = torch.nn.Linear(HIDDEN, CLASSES).to(tdt)
            params = list(lstm.parameters()) + list(head.parameters())
            opt = torch.optim.SGD(params, lr=LR)
            tx, ty = torch.from_numpy(x), torch.from_numpy(y)

            def step(tx, ty):
                opt.zero_grad(set_to_none=True)
                out, _ = lstm(tx)
                loss = torch.nn.functional.cross_entropy(head(out[-1]), ty)
                loss.backward()
                opt.step()
                return loss

            fn = torch.compile(step) if compiled else step
            return lambda: fn(tx, ty)
        return make

    def jx():
        if jax is None:
            return None
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        rng = np.random.default_rng(0)
        H = HIDDEN
        p = {"W": rng.uniform(-0.1, 0.1, (FEATURES, 4 * H)).astype(dtype),
             "U": rng.uniform(-0.1, 0.1, (H, 4 * H)).astype(dtype), "b": np.zeros(4 * H, dtype),
             "V": rng.uniform(-0.1, 0.1, (H, CLASSES)).astype(dtype), "c": np.zeros(CLASSES, dtype)}

        def loss_fn(p, x, y):
            def cell(carry, x_t):
                h, c = carry
                z = x_t @ p["W"] + h @ p["U"] + p["b"]
                i, f, o = (jax.nn.sigmoid(z[:, k * H:(k + 1) * H]) for k in range(3))
                c = f * c + i * jnp.tanh(z[:, 3 * H:])
                h = o * jnp.tanh(c)
                return (h, c), None

            h0 = jnp.zeros((x.shape[1], H), x.dtype)
            (h, _), _ = jax.lax.scan(cell, (h0, h0), x)
            logits = h @ p["V"] + p["c"]
            return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(y.shape[0]), y])

        def step(p, x, y):
            loss, g = jax.value_and_grad(loss_fn)(p, x, y)
            return jax.tree_util.tree_map(lambda a, b: a - LR * b, p, g), loss

        f = jax.jit(step)
        state = {"p": jax.device_put(p)}
        dx, dy = jax.device_put(x), jax.device_put(y)

        def call():
            state["p"], loss = f(state["p"], dx, dy)
            return loss.block_until_ready()
        return call

    return [("symcomp (scan)", THREADS, sc), ("torch eager nn.LSTM", THREADS, torch_step(False)),
            ("torch.compile", THREADS, torch_step(True)), ("jax jit(lax.scan)", "XLA default", jx)]


def recurrence_peers():
    import symcomp
    from symcomp import tensor as T

    jax = peer("jax")
    xs = np.random.default_rng(1).random(N_REC) * 1e-3
    a = 0.999

    def sc():
        x = T.dvector("x")
        out, _ = symcomp.scan(lambda x_t, h: a * h + x_t, sequences=x, outputs_info=T.constant(0.0))
        f = symcomp.function([x], out[-1])
        return lambda: f(xs)

    def jx():
        if jax is None:
            return None
        jax.config.update("jax_enable_x64", True)

        def run(x):
            h, _ = jax.lax.scan(lambda h, x_t: (a * h + x_t, None), 0.0, x)
            return h
        return jax_call(jax, run, xs)

    def py():
        def loop():
            h = 0.0
            for v in xs:
                h = a * h + v
            return h
        return loop

    return [("symcomp (native loop)", 1, sc), ("jax jit(lax.scan)", "XLA default", jx),
            ("numpy Python loop", 1, py)]


def main():
    peer("torch")
    set_threads()
    for dtype, tag in ((np.float64, "f64"), (np.float32, "f32")):
        run_peers(f"lstm_step_{tag}", lstm_peers(dtype))
    want = 0.0
    xs = np.random.default_rng(1).random(N_REC) * 1e-3
    for v in xs[-20000:]:  # a = 0.999: the steps before these weigh < 1e-8 of the result
        want = 0.999 * want + v
    run_peers("recurrence_1e5", recurrence_peers(), lambda got: abs(float(got) - want) / abs(want))


if __name__ == "__main__":
    main()
