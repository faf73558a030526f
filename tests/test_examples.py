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


def test_mlp_digits_with_dropout_reaches_target_accuracy():
    res = example("mlp_digits").main(["--dropout", "0.5"])
    assert res["test_acc"] >= 0.96


def test_denoising_autoencoder_reconstruction_improves():
    res = example("denoising_autoencoder").main(["--epochs", "15"])
    assert res["final_xent"] < 0.85 * res["first_xent"]
    assert res["test_xent"] < res["first_xent"]
