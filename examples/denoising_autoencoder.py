"""A denoising autoencoder (Vincent, Larochelle, Bengio, Manzagol, ICML 2008) on scikit-learn's digits.

Each training step corrupts its mini-batch by zeroing every pixel with probability
``--corruption`` (a binomial mask from a ``RandomStreams``, drawn inside the compiled step: a
new mask at every call), encodes it with a sigmoid layer and decodes it with the transposed
(tied) weights, and takes an SGD step on the cross-entropy between the reconstruction and the
*clean* input, as in the deeplearning.net dA tutorial.  It prints the reconstruction
cross-entropy of each epoch (falling) and, at the end, that of the held-out digits, clean.

    python examples/denoising_autoencoder.py [--epochs 30] [--hidden 100] [--corruption 0.3]
                                             [--lr 0.1] [--batch 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import symcomp
from symcomp import tensor as T


def build(n_visible: int, n_hidden: int, corruption: float, lr: float, seed: int):
    """The training step (corrupt, encode, decode, SGD on the mean cross-entropy) and the
    clean reconstruction cost, compiled.

    Returns:
        (train(x) -> cost, cost(x) -> cost on uncorrupted input, W)
    """
    rng = np.random.default_rng(seed)
    srng = symcomp.RandomStreams(seed)
    bound = 4 * np.sqrt(6.0 / (n_hidden + n_visible))
    W = symcomp.shared(rng.uniform(-bound, bound, (n_visible, n_hidden)), name="W")
    b = symcomp.shared(np.zeros(n_hidden), name="b")
    b_prime = symcomp.shared(np.zeros(n_visible), name="b_prime")
    x = T.dmatrix("x")

    def reconstruction_cost(inp):
        y = T.nnet.sigmoid(T.dot(inp, W) + b)
        z = T.nnet.sigmoid(T.dot(y, W.T) + b_prime)
        return T.mean(-T.sum(x * T.log(z) + (1 - x) * T.log(1 - z), axis=1))

    tilde_x = x * srng.binomial(x.shape, n=1, p=1 - corruption, dtype="float64")
    cost = reconstruction_cost(tilde_x)
    params = [W, b, b_prime]
    updates = [(p, p - lr * g) for p, g in zip(params, T.grad(cost, params))]
    train = symcomp.function([x], cost, updates=updates, name="train_step")
    clean = symcomp.function([x], reconstruction_cost(x), name="clean_cost")
    return train, clean, W


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--corruption", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    digits = load_digits()
    X = digits.data / 16.0  # pixels in [0, 1]: the cross-entropy's targets
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=args.seed)
    t0 = time.perf_counter()
    train, clean, _ = build(X.shape[1], args.hidden, args.corruption, args.lr, args.seed)
    print(f"compiled in {time.perf_counter() - t0:.3f} s; {len(X_train)} training digits, "
          f"corruption {args.corruption}, {args.hidden} hidden units, tied weights")

    rng = np.random.default_rng(args.seed)
    history = []
    bar = tqdm(range(args.epochs), desc="training", unit="epoch")
    for epoch in bar:
        order = rng.permutation(len(X_train))
        costs = [float(train(X_train[order[i:i + args.batch]])) for i in range(0, len(order), args.batch)]
        history.append(float(np.mean(costs)))
        bar.set_postfix(xent=f"{history[-1]:.4f}")
        tqdm.write(f"epoch {epoch:3d}  reconstruction cross-entropy {history[-1]:.4f}")
    test_xent = float(clean(X_test))
    print(f"training cross-entropy {history[0]:.4f} -> {history[-1]:.4f}; "
          f"held-out digits, clean input: {test_xent:.4f}")
    return {"first_xent": history[0], "final_xent": history[-1], "test_xent": test_xent}


if __name__ == "__main__":
    main()
