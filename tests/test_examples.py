"""The seed programs (Theano documentation, ported) and the digits MLP training to its target accuracy."""

import runpy

import numpy as np
import pytest

from helpers import EXAMPLES, example


def _run(name, capsys):
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    return capsys.readouterr().out.split("\n")


def test_add_scalars(capsys):
    out = _run("theano_add_scalars.py", capsys)
    assert out[0] == "5.0" and out[1] == "True"


def test_dot(capsys):
    out = "\n".join(_run("theano_dot.py", capsys))
    assert "[[ 70. 100.]" in out


def test_grad(capsys):
    out = _run("theano_grad.py", capsys)
    assert out[0] == "8.0" and out[1] == "188.4"
    assert "array(5.)" in out[2] and "array(3.)" in out[2]


def test_broadcasting(capsys):
    out = "\n".join(_run("theano_broadcasting.py", capsys))
    assert "[[10. 21. 32.]" in out


def test_mlp_shared(capsys):
    out = _run("theano_mlp_shared.py", capsys)
    xent = float(out[0].split(":")[1])
    assert xent < 0.69  # below chance level: the weights were trained


def test_mlp_digits_reaches_target_accuracy(capsys, monkeypatch):
    res = example("mlp_digits").main([])
    assert res["train_acc"] >= 0.97
    assert res["test_acc"] >= 0.93
    assert np.isfinite(res["median_step_ms"])


@pytest.mark.parametrize("batch", [64])
def test_mlp_digits_minibatch(batch):
    res = example("mlp_digits").main(["--epochs", "15", "--batch", str(batch), "--lr", "2.0", "--activation", "sigmoid"])
    assert res["train_acc"] >= 0.9


def test_mlp_digits_says_what_it_does_and_pairs_loss_with_accuracy(capsys, monkeypatch):
    """A fresh run printed nothing before its progress bar (imports, compiling), and each progress line
    paired the loss of step k (the weights it started from) with the accuracy after it.  Here every
    reported pair is checked against NumPy on the weights the reported step started from."""
    mod = example("mlp_digits")
    steps, postfixes, before_bar = [], [], []
    real_build = mod.build

    def build(*args, **kw):
        train_step, predict, params = real_build(*args, **kw)

        def recorded(xb, yb):
            steps.append([p.get_value() for p in params])
            return train_step(xb, yb)

        return recorded, predict, params

    class Bar:
        def __init__(self, iterable, **kw):
            before_bar.append(capsys.readouterr().out)
            self.iterable = iterable

        def __iter__(self):
            for epoch in self.iterable:
                self.epoch = epoch
                yield epoch

        def set_postfix(self, values=None, **kw):
            postfixes.append((self.epoch, len(steps), dict(values or {}, **kw)))

    monkeypatch.setattr(mod, "build", build)
    monkeypatch.setattr(mod, "tqdm", Bar)
    mod.main(["--epochs", "12", "--hidden", "32"])
    assert "loading scikit-learn's digits..." in before_bar[0]
    assert before_bar[0].index("compiling the training step") < before_bar[0].index("compiled training step")

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X_train, _, y_train, _ = train_test_split(digits.data / 16.0, digits.target, test_size=0.25, random_state=0,
                                              stratify=digits.target)
    assert [e for e, _, _ in postfixes] == [0, 10, 11]
    for _, n_steps, values in postfixes:
        W1, b1, W2, b2 = steps[n_steps - 1]  # the weights the reported step started from
        z = np.tanh(X_train @ W1 + b1) @ W2 + b2
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        assert values["loss"] == f"{-np.mean(np.log(p[np.arange(len(y_train)), y_train])):.4f}"
        assert values["train_acc"] == f"{np.mean(np.argmax(z, axis=1) == y_train):.3f}"


def test_mlp_digits_with_dropout_reaches_target_accuracy():
    res = example("mlp_digits").main(["--dropout", "0.5"])
    assert res["test_acc"] >= 0.96


def test_denoising_autoencoder_reconstruction_improves():
    res = example("denoising_autoencoder").main(["--epochs", "15"])
    assert res["final_xent"] < 0.85 * res["first_xent"]
    assert res["test_xent"] < res["first_xent"]


def test_lstm_digits_reaches_target_accuracy(capsys):
    res = example("lstm_digits").main([])
    assert res["test_acc"] >= 0.95
    out = capsys.readouterr().out
    assert "median time per training step" in out
