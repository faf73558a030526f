"""Train a small PyTorch MLP on scikit-learn's digits with ``torch.compile(..., backend="symcomp")``.

The loss function (model forward and cross-entropy) is compiled by TorchDynamo
and AOTAutograd; symcomp compiles the forward and backward ATen graphs (matrix
products, ReLU, log-softmax and their gradients) and PyTorch runs what symcomp
does not support (the NLL gather).  The optimizer step stays in PyTorch.  The
same network is trained in plain PyTorch from the same initial weights, and
with ``torch.compile(backend="aot_eager")`` (the same capture, ATen run by
PyTorch: the cost of torch.compile's machinery alone); the runs are compared:
losses, test accuracy, time per step.

    python examples/torch_digits.py [--epochs 30] [--hidden 64] [--batch 64] [--lr 0.1]

Needs PyTorch (``pip install torch``) and scikit-learn.  Shapes are static
(``dynamic=False``): the last, smaller batch of an epoch compiles a second graph.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from symcomp.torch_backend import SymcompBackend


def data(seed: int = 0):
    """Standardized digits, split 75/25: (x_train, x_test, y_train, y_test) as tensors."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_tr, x_te, y_tr, y_te = train_test_split(x, digits.target, test_size=0.25, random_state=seed,
                                              stratify=digits.target)
    mean, std = x_tr.mean(axis=0), x_tr.std(axis=0) + 1e-3
    return (torch.from_numpy((x_tr - mean) / std), torch.from_numpy((x_te - mean) / std),
            torch.from_numpy(y_tr), torch.from_numpy(y_te))


def train(model: nn.Module, loss_fn, x, y, epochs: int, batch: int, lr: float):
    """SGD with momentum; returns (per-epoch mean losses, median seconds per step)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    losses, times = [], []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            t0 = time.perf_counter()
            opt.zero_grad()
            loss = loss_fn(model, x[idx], y[idx])
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - t0)
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(x))
    return losses, float(np.median(times))


def accuracy(model, x, y) -> float:
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def cross_entropy(model, x, y):
    return F.cross_entropy(model(x), y)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.1)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    x_tr, x_te, y_tr, y_te = data()
    model = nn.Sequential(nn.Linear(64, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
    eager_model = copy.deepcopy(model)
    aot_model = copy.deepcopy(model)

    backend = SymcompBackend()
    compiled_loss = torch.compile(cross_entropy, backend=backend, dynamic=False)
    losses, step = train(model, compiled_loss, x_tr, y_tr, args.epochs, args.batch, args.lr)
    eager_losses, eager_step = train(eager_model, cross_entropy, x_tr, y_tr, args.epochs, args.batch, args.lr)
    aot_loss = torch.compile(cross_entropy, backend="aot_eager", dynamic=False)
    _, aot_step = train(aot_model, aot_loss, x_tr, y_tr, args.epochs, args.batch, args.lr)
    predict = torch.compile(model, backend=backend, dynamic=False)
    test_acc = accuracy(predict, x_te, y_te)
    res = {
        "train_acc": accuracy(predict, x_tr, y_tr), "test_acc": test_acc,
        "eager_test_acc": accuracy(eager_model, x_te, y_te),
        "final_loss": losses[-1], "eager_final_loss": eager_losses[-1],
        "median_step_ms": 1e3 * step, "eager_median_step_ms": 1e3 * eager_step,
        "aot_eager_median_step_ms": 1e3 * aot_step,
        "symcomp_ops": sorted({op for r in backend.reports for op in r.compiled}),
        "pytorch_ops": sorted({op for r in backend.reports for op in r.eager}),
    }
    print(f"loss after {args.epochs} epochs: symcomp {res['final_loss']:.4f}, PyTorch eager "
          f"{res['eager_final_loss']:.4f}")
    print(f"test accuracy: symcomp {test_acc:.4f}, PyTorch eager {res['eager_test_acc']:.4f}")
    print(f"median step: symcomp {res['median_step_ms']:.3f} ms, PyTorch eager {res['eager_median_step_ms']:.3f} ms, "
          f"torch.compile(backend='aot_eager') {res['aot_eager_median_step_ms']:.3f} ms")
    print(f"computed by symcomp: {', '.join(res['symcomp_ops'])}")
    print(f"left to PyTorch: {', '.join(res['pytorch_ops'])}")
    return res


if __name__ == "__main__":
    main()
