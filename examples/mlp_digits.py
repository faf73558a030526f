"""Train a one-hidden-layer MLP (64 -> 256 -> 10) on scikit-learn's digits with symcomp.

The training step is one compiled function: forward pass, mean categorical
cross-entropy, gradients by symcomp's reverse mode, and SGD updates of the
shared weights, Theano style.  Real data (1797 8x8 handwritten digits bundled
with scikit-learn, no download), a held-out test split, a progress bar, and at
the end train/test accuracy and the median time per step.  Each progress line
gives the loss of one step and the training accuracy of the same weights (those
the step started from).

    python examples/mlp_digits.py [--epochs 150] [--hidden 256] [--lr 0.5] [--batch 0]
                                  [--activation tanh|sigmoid] [--dropout 0.5] [--device cpu|cuda]

``--dropout p`` drops each hidden unit with probability p during training (inverted dropout: the
kept units are scaled by 1 / (1 - p), so prediction uses the plain network), with the mask drawn
by a ``RandomStreams`` inside the compiled step: one fused loop, a new mask at every step.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

import symcomp
from symcomp import tensor as T


def model(n_in: int, n_hidden: int, n_out: int, lr: float, activation: str = "tanh", seed: int = 0,
          dropout: float = 0.0):
    """The network as symbolic graphs: n_in -> n_hidden (tanh or sigmoid) -> n_out (softmax),
    mean categorical cross-entropy, SGD updates of the shared weights (W1 uniform in
    +-sqrt(6 / (n_in + n_hidden)), the rest zero).  With ``dropout`` > 0 the loss is computed
    with hidden units dropped at that rate (the probabilities stay those of the full network).

    Returns:
        (x, y, loss, probs, updates, params): float64 matrix and int64 vector inputs, the scalar
        loss, the class probabilities, the (shared, new value) pairs and [W1, b1, W2, b2].
    """
    rng = np.random.default_rng(seed)
    x = T.dmatrix("x")
    y = T.lvector("y")
    scale1 = np.sqrt(6.0 / (n_in + n_hidden))
    W1 = symcomp.shared(rng.uniform(-scale1, scale1, (n_in, n_hidden)), name="W1")
    b1 = symcomp.shared(np.zeros(n_hidden), name="b1")
    W2 = symcomp.shared(np.zeros((n_hidden, n_out)), name="W2")
    b2 = symcomp.shared(np.zeros(n_out), name="b2")
    act = T.tanh if activation == "tanh" else T.nnet.sigmoid
    hidden = act(T.dot(x, W1) + b1)
    probs = T.nnet.softmax(T.dot(hidden, W2) + b2)
    train_probs = probs
    if dropout:
        srng = symcomp.RandomStreams(seed)
        keep = srng.binomial(hidden.shape, p=1.0 - dropout, dtype="float64")
        train_probs = T.nnet.softmax(T.dot(hidden * keep / (1.0 - dropout), W2) + b2)
    loss = T.mean(T.nnet.categorical_crossentropy(train_probs, y))
    params = [W1, b1, W2, b2]
    grads = T.grad(loss, params)
    updates = [(p, p - lr * g) for p, g in zip(params, grads)]
    return x, y, loss, probs, updates, params


def build(n_in: int, n_hidden: int, n_out: int, lr: float, activation: str, device: str, seed: int = 0,
          mode=None, dropout: float = 0.0):
    """Compile the training step and the prediction function of :func:`model`.

    Returns:
        (train_step(x, y) -> loss, predict(x) -> labels, params)
    """
    x, y, loss, probs, updates, params = model(n_in, n_hidden, n_out, lr, activation, seed, dropout)
    train_step = symcomp.function([x, y], loss, updates=updates, name="train_step", device=device, mode=mode)
    predict = symcomp.function([x], T.argmax(probs, axis=1), name="predict", device=device, mode=mode)
    return train_step, predict, params


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=150)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--lr", type=float, default=None,
                    help="learning rate (default 0.5; 1.0 with --dropout, which makes each step noisier and smaller)")
    ap.add_argument("--batch", type=int, default=0, help="mini-batch size (0 = full batch)")
    ap.add_argument("--activation", choices=["tanh", "sigmoid"], default="tanh")
    ap.add_argument("--dropout", type=float, default=0.0, help="drop rate of the hidden units in training")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    print("loading scikit-learn's digits...", flush=True)  # before the slow part: imports, then compiling
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = digits.data / 16.0
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=args.seed, stratify=y)

    print(f"compiling the training step and the predictor for {args.device} (a first run also fills the "
          "compile cache)...", flush=True)
    t0 = time.perf_counter()
    if not 0.0 <= args.dropout < 1.0:
        ap.error("--dropout must be in [0, 1)")
    if args.lr is None:
        args.lr = 1.0 if args.dropout else 0.5
    train_step, predict, _ = build(X.shape[1], args.hidden, 10, args.lr, args.activation, args.device, args.seed,
                                   dropout=args.dropout)
    compile_s = time.perf_counter() - t0
    print(f"compiled training step and predictor in {compile_s:.3f} s "
          f"({len(X_train)} training rows, {len(X_test)} test rows)")

    rng = np.random.default_rng(args.seed)
    step_times = []
    bar = tqdm(range(args.epochs), desc="training", unit="epoch")
    loss_label = "batch_loss" if args.batch else "loss"
    for epoch in bar:
        if args.batch:
            order = rng.permutation(len(X_train))
            batches = [order[i:i + args.batch] for i in range(0, len(order), args.batch)]
        else:
            batches = [slice(None)]
        report = epoch % 10 == 0 or epoch == args.epochs - 1
        for k, idx in enumerate(batches):
            if report and k == len(batches) - 1:
                # The step returns the loss of the weights it starts from: the accuracy is theirs too.
                acc = float(np.mean(predict(X_train) == y_train))
            xb, yb = X_train[idx], y_train[idx]
            t = time.perf_counter()
            loss = train_step(xb, yb)
            step_times.append(time.perf_counter() - t)
        if report:
            bar.set_postfix({loss_label: f"{float(loss):.4f}", "train_acc": f"{acc:.3f}"})

    train_acc = float(np.mean(predict(X_train) == y_train))
    test_acc = float(np.mean(predict(X_test) == y_test))
    median_ms = 1000 * float(np.median(step_times))
    print(f"final loss {float(loss):.4f}")
    print(f"train accuracy {train_acc:.4f}  test accuracy {test_acc:.4f}")
    print(f"median time per training step: {median_ms:.3f} ms over {len(step_times)} steps")
    return {"train_acc": train_acc, "test_acc": test_acc, "median_step_ms": median_ms, "compile_s": compile_s}


if __name__ == "__main__":
    main()
