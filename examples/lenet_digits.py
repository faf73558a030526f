"""Train a LeNet-style convolutional network on scikit-learn's digits (8x8 images) with symcomp.

Two convolution + max-pooling layers, a hidden layer and a softmax, as in the LeNet tutorial
of Theano's deep-learning guide, scaled to 1x8x8 images:

    1x8x8 -> conv 3x3 'half', 16 maps, ReLU -> max-pool 2x2 -> 16x4x4
          -> conv 3x3 'half', 32 maps, ReLU -> max-pool 2x2 -> 32x2x2
          -> dense 128 -> 128, ReLU -> dense 128 -> 10, softmax

The training step is one compiled function (forward pass, mean cross-entropy, gradients by
symcomp's reverse mode, SGD with momentum on the shared weights), run on shuffled minibatches
of training images shifted at random by up to a pixel.
Real data (1797 digits bundled with scikit-learn, no download), a held-out test split, a
progress bar, and at the end train/test accuracy and the median time per step.

    python examples/lenet_digits.py [--epochs 25] [--batch 32] [--lr 0.02] [--momentum 0.9]
                                    [--dtype float64|float32] [--shift 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

import symcomp
from symcomp import tensor as T
from symcomp.tensor.signal.pool import pool_2d


def _he(rng, shape, fan_in, dtype):
    """He et al. (2015) uniform initialisation for ReLU layers: +-sqrt(6 / fan_in)."""
    bound = np.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound, shape).astype(dtype)


def model(lr: float, momentum: float, dtype: str = "float64", seed: int = 0, maps=(16, 32), hidden: int = 128):
    """The network as symbolic graphs, its loss and its SGD-with-momentum updates.

    Returns:
        (x, y, loss, probs, updates, params): a (batch, 1, 8, 8) input of ``dtype``, int64
        labels, the scalar mean cross-entropy, the (batch, 10) class probabilities, the
        (shared, new value) pairs and the weights.
    """
    rng = np.random.default_rng(seed)
    c1, c2 = maps
    x = T.tensor(dtype, shape=(None, 1, 8, 8), name="x")
    y = T.lvector("y")
    W1 = symcomp.shared(_he(rng, (c1, 1, 3, 3), 9, dtype), name="W1")
    b1 = symcomp.shared(np.zeros(c1, dtype), name="b1")
    W2 = symcomp.shared(_he(rng, (c2, c1, 3, 3), 9 * c1, dtype), name="W2")
    b2 = symcomp.shared(np.zeros(c2, dtype), name="b2")
    W3 = symcomp.shared(_he(rng, (c2 * 4, hidden), c2 * 4, dtype), name="W3")
    b3 = symcomp.shared(np.zeros(hidden, dtype), name="b3")
    W4 = symcomp.shared(np.zeros((hidden, 10), dtype), name="W4")
    b4 = symcomp.shared(np.zeros(10, dtype), name="b4")

    h1 = T.nnet.relu(T.nnet.conv2d(x, W1, border_mode="half") + b1.dimshuffle("x", 0, "x", "x"))
    p1 = pool_2d(h1, (2, 2), ignore_border=True)
    h2 = T.nnet.relu(T.nnet.conv2d(p1, W2, border_mode="half") + b2.dimshuffle("x", 0, "x", "x"))
    p2 = pool_2d(h2, (2, 2), ignore_border=True)
    h3 = T.nnet.relu(T.dot(p2.flatten(2), W3) + b3)
    probs = T.nnet.softmax(T.dot(h3, W4) + b4)
    loss = T.mean(T.nnet.categorical_crossentropy(probs, y))
    params = [W1, b1, W2, b2, W3, b3, W4, b4]
    grads = T.grad(loss, params)
    updates = []
    for p, g in zip(params, grads):
        v = symcomp.shared(np.zeros_like(p.get_value()), name=f"v_{p.name}")
        v_new = momentum * v - lr * g
        updates += [(v, v_new), (p, p + v_new)]
    return x, y, loss, probs, updates, params


def build(lr: float, momentum: float, dtype: str = "float64", seed: int = 0, mode=None):
    """Compile the training step and the prediction function of :func:`model`.

    Returns:
        (train_step(x, y) -> loss, predict(x) -> labels, params)
    """
    x, y, loss, probs, updates, params = model(lr, momentum, dtype, seed)
    train_step = symcomp.function([x, y], loss, updates=updates, name="lenet_train_step", mode=mode)
    predict = symcomp.function([x], T.argmax(probs, axis=1), name="lenet_predict", mode=mode)
    return train_step, predict, params


def load(seed: int = 0, dtype: str = "float64"):
    """scikit-learn's digits as (n, 1, 8, 8) images in [0, 1], split 75/25 (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.images / 16.0).astype(dtype)[:, None]
    y = digits.target.astype(np.int64)
    return train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)


def shift(images, rng, max_shift: int = 1):
    """Each image moved by a random whole number of pixels in [-max_shift, max_shift] along each
    axis, zeros coming in (data augmentation: a digit moved by a pixel is the same digit)."""
    out = np.zeros_like(images)
    n, _, h, w = images.shape
    dy = rng.integers(-max_shift, max_shift + 1, n)
    dx = rng.integers(-max_shift, max_shift + 1, n)
    for k in range(n):
        ys, yd = (slice(0, h - dy[k]), slice(dy[k], h)) if dy[k] >= 0 else (slice(-dy[k], h), slice(0, h + dy[k]))
        xs, xd = (slice(0, w - dx[k]), slice(dx[k], w)) if dx[k] >= 0 else (slice(-dx[k], w), slice(0, w + dx[k]))
        out[k, :, yd, xd] = images[k, :, ys, xs]
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shift", type=int, default=0, help="random shifts of the training images, in pixels (0: none)")
    args = ap.parse_args(argv)

    print("loading scikit-learn's digits...", flush=True)
    X_train, X_test, y_train, y_test = load(args.seed, args.dtype)

    print("compiling the training step and the predictor (a first run also fills the compile cache)...",
          flush=True)
    t0 = time.perf_counter()
    train_step, predict, _ = build(args.lr, args.momentum, args.dtype, args.seed)
    compile_s = time.perf_counter() - t0
    print(f"compiled in {compile_s:.3f} s ({len(X_train)} training images, {len(X_test)} test images)")

    rng = np.random.default_rng(args.seed)
    step_times = []
    bar = tqdm(range(args.epochs), desc="training", unit="epoch")
    for epoch in bar:
        order = rng.permutation(len(X_train))
        losses = []
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            xb, yb = X_train[idx], y_train[idx]
            if args.shift:
                xb = shift(xb, rng, args.shift)
            t = time.perf_counter()
            losses.append(float(train_step(xb, yb)))
            step_times.append(time.perf_counter() - t)
        if epoch % 5 == 0 or epoch == args.epochs - 1:
            acc = float(np.mean(predict(X_train) == y_train))
            bar.set_postfix({"loss": f"{np.mean(losses):.4f}", "train_acc": f"{acc:.3f}"})

    train_acc = float(np.mean(predict(X_train) == y_train))
    test_acc = float(np.mean(predict(X_test) == y_test))
    median_ms = 1000 * float(np.median(step_times))
    print(f"final epoch's mean loss {np.mean(losses):.4f}")
    print(f"train accuracy {train_acc:.4f}  test accuracy {test_acc:.4f}")
    print(f"median time per training step: {median_ms:.3f} ms over {len(step_times)} steps (batch {args.batch})")
    return {"train_acc": train_acc, "test_acc": test_acc, "median_step_ms": median_ms, "compile_s": compile_s}


if __name__ == "__main__":
    main()
