"""Train an LSTM, written with ``symcomp.scan``, on scikit-learn's digits read row by row.

Each 8x8 digit is a sequence of 8 rows of 8 pixels; an LSTM (Hochreiter & Schmidhuber 1997, with
the forget gate of Gers, Schmidhuber & Cummins 2000) reads the rows, and a softmax layer on its
last hidden state gives the class.  The training step is one compiled function: the loop over
the rows (``scan``, a native loop), the mean cross-entropy, its gradient by backpropagation
through time (a second, backward loop) and Adam's updates (Kingma & Ba 2015) of the shared
weights.  Real data (1797 digits bundled with scikit-learn, no download), a held-out test split,
a progress bar, and at the end the test accuracy and the median time per step.

    python examples/lstm_digits.py [--epochs 30] [--hidden 64] [--batch 128] [--lr 0.01]
                                   [--dtype float64|float32] [--optimizer adam|sgd]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

import symcomp
from symcomp import tensor as T


def lstm_layer(x, W, U, b, n_hidden: int):
    """The LSTM over a time-major batch ``x`` of shape (steps, batch, features).

    ``W`` (features, 4 n_hidden), ``U`` (n_hidden, 4 n_hidden) and ``b`` (4 n_hidden) hold the
    input, forget, output gates and the candidate, in that order.  Returns the hidden states,
    (steps, batch, n_hidden).
    """
    H = n_hidden
    h0 = T.zeros((x.shape[1], H), dtype=x.dtype)

    def step(x_t, h, c, W, U, b):
        z = T.dot(x_t, W) + T.dot(h, U) + b
        i = T.nnet.sigmoid(z[:, :H])
        f = T.nnet.sigmoid(z[:, H:2 * H])
        o = T.nnet.sigmoid(z[:, 2 * H:3 * H])
        g = T.tanh(z[:, 3 * H:])
        c_new = f * c + i * g
        return o * T.tanh(c_new), c_new

    (hs, _), _ = symcomp.scan(step, sequences=x, outputs_info=[h0, h0], non_sequences=[W, U, b])
    return hs


def model(n_in: int, n_hidden: int, n_out: int, lr: float, dtype: str = "float64", optimizer: str = "adam",
          seed: int = 0):
    """The network as symbolic graphs and its training updates.

    Returns:
        (x, y, loss, probs, updates, params): x of shape (steps, batch, n_in), int64 labels, the
        scalar loss, the class probabilities, the (shared, new value) pairs and the parameters.
    """
    rng = np.random.default_rng(seed)
    H = n_hidden

    def init(*shape, scale):
        return symcomp.shared(rng.uniform(-scale, scale, shape).astype(dtype))

    W = init(n_in, 4 * H, scale=np.sqrt(6.0 / (n_in + 4 * H)))
    U = init(H, 4 * H, scale=np.sqrt(6.0 / (5 * H)))
    b0 = np.zeros(4 * H, dtype=dtype)
    b0[H:2 * H] = 1.0  # forget gates start open (Jozefowicz, Zaremba & Sutskever 2015)
    b = symcomp.shared(b0)
    V = init(H, n_out, scale=np.sqrt(6.0 / (H + n_out)))
    c = symcomp.shared(np.zeros(n_out, dtype=dtype))
    params = [W, U, b, V, c]

    x = T.tensor3("x", dtype=dtype)
    y = T.lvector("y")
    hs = lstm_layer(x, W, U, b, H)
    probs = T.nnet.softmax(T.dot(hs[-1], V) + c)
    loss = T.mean(T.nnet.categorical_crossentropy(probs, y))
    grads = T.grad(loss, params)
    if optimizer == "sgd":
        return x, y, loss, probs, [(p, p - lr * g) for p, g in zip(params, grads)], params
    b1, b2, eps = 0.9, 0.999, 1e-8
    t = symcomp.shared(np.asarray(0.0, dtype=dtype))
    t1 = t + 1
    updates = [(t, t1)]
    rate = lr * T.sqrt(1 - b2 ** t1) / (1 - b1 ** t1)
    for p, g in zip(params, grads):
        m = symcomp.shared(np.zeros_like(p.get_value()))
        v = symcomp.shared(np.zeros_like(p.get_value()))
        m1 = b1 * m + (1 - b1) * g
        v1 = b2 * v + (1 - b2) * g * g
        updates += [(m, m1), (v, v1), (p, p - rate * m1 / (T.sqrt(v1) + eps))]
    return x, y, loss, probs, updates, params


def as_sequences(X: np.ndarray, dtype: str) -> np.ndarray:
    """Digits (n, 64) as time-major row sequences (8, n, 8), pixels in [0, 1]."""
    return np.ascontiguousarray((X / 16.0).reshape(-1, 8, 8).transpose(1, 0, 2)).astype(dtype)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    print("loading scikit-learn's digits...", flush=True)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(digits.data, digits.target.astype(np.int64), test_size=0.25,
                                                        random_state=args.seed, stratify=digits.target)
    S_train, S_test = as_sequences(X_train, args.dtype), as_sequences(X_test, args.dtype)

    print("compiling the training step (a scan over the 8 rows and its backward loop) and the predictor...",
          flush=True)
    t0 = time.perf_counter()
    x, y, loss, probs, updates, _ = model(8, args.hidden, 10, args.lr, args.dtype, args.optimizer, args.seed)
    train_step = symcomp.function([x, y], loss, updates=updates, name="lstm_train_step")
    predict = symcomp.function([x], T.argmax(probs, axis=1), name="lstm_predict")
    compile_s = time.perf_counter() - t0
    print(f"compiled in {compile_s:.3f} s ({len(y_train)} training sequences, {len(y_test)} test sequences)")

    rng = np.random.default_rng(args.seed)
    step_times = []
    bar = tqdm(range(args.epochs), desc="training", unit="epoch")
    for epoch in bar:
        order = rng.permutation(len(y_train))
        total = 0.0
        for k in range(0, len(order), args.batch):
            idx = order[k:k + args.batch]
            xb, yb = np.ascontiguousarray(S_train[:, idx]), y_train[idx]
            t = time.perf_counter()
            total += float(train_step(xb, yb)) * len(idx)
            step_times.append(time.perf_counter() - t)
        if epoch % 5 == 0 or epoch == args.epochs - 1:
            bar.set_postfix({"loss": f"{total / len(order):.4f}",
                             "test_acc": f"{float(np.mean(predict(S_test) == y_test)):.3f}"})
    train_acc = float(np.mean(predict(S_train) == y_train))
    test_acc = float(np.mean(predict(S_test) == y_test))
    median_ms = 1000 * float(np.median(step_times))
    print(f"train accuracy {train_acc:.4f}  test accuracy {test_acc:.4f}")
    print(f"median time per training step: {median_ms:.3f} ms over {len(step_times)} steps "
          f"(batch {args.batch}, hidden {args.hidden}, {args.dtype})")
    return {"train_acc": train_acc, "test_acc": test_acc, "median_step_ms": median_ms, "compile_s": compile_s}


if __name__ == "__main__":
    main()
