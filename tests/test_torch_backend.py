"""torch.compile(backend="symcomp"): ATen graphs compiled by symcomp, the rest left to PyTorch.

PyTorch is not in the test extra (a large download): these tests skip without it.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from symcomp.torch_backend import SymcompBackend  # noqa: E402
from symcomp.torch_backend import fx_nodes as C  # noqa: E402

from helpers import example  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _mlp(seed=0, act=torch.nn.ReLU):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(12, 16), act(), torch.nn.Linear(16, 5))


def test_the_backend_is_found_by_name_through_its_entry_point():
    from symcomp.torch_backend import symcomp_backend

    model = _mlp()
    x = torch.randn(7, 12)
    with torch.no_grad():
        got = torch.compile(model, backend="symcomp")(x)
        want = model(x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    report = symcomp_backend.reports[-1]
    assert report.kind == "inference"
    assert report.compiled.count("aten.addmm.default") == 2 and "aten.relu.default" in report.compiled


def test_training_gradients_match_eager():
    backend = SymcompBackend()
    model = _mlp(1, torch.nn.Tanh).double()
    ref = _mlp(1, torch.nn.Tanh).double()
    x, y = torch.randn(9, 12, dtype=torch.float64), torch.randint(0, 5, (9,))

    def loss_fn(m, x, y):
        return F.cross_entropy(m(x), y)

    loss = torch.compile(loss_fn, backend=backend)(model, x, y)
    loss.backward()
    ref_loss = loss_fn(ref, x, y)
    ref_loss.backward()
    torch.testing.assert_close(loss, ref_loss, rtol=1e-12, atol=1e-12)
    for p, q in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-12)
    kinds = {r.kind: r for r in backend.reports}
    assert set(kinds) == {"forward", "backward"}
    assert "aten.tanh_backward.default" in kinds["backward"].compiled
    assert "aten.nll_loss_forward.default" in kinds["forward"].eager  # the gather stays in PyTorch


def _many_ops(x, w):
    h = torch.softmax(x @ w, dim=0) * torch.sigmoid(x.sum(dim=1, keepdim=True))
    h = torch.where(h > 0.05, h ** 2, -h).clamp(-0.5, 0.5) / (1.0 + x.abs().mean())
    s = x.permute(1, 0)[:3, :].T.unsqueeze(0).expand(2, -1, -1).sum(dim=0)
    h = h - h.amax(dim=1, keepdim=True) + torch.rsqrt(1.0 + s * s) * 0.1
    return torch.exp(torch.log_softmax(h, dim=1)).sum() + torch.log1p(h.square()).mean()


def test_many_ops_forward_and_backward_match_eager():
    backend = SymcompBackend()
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    out = torch.compile(_many_ops, backend=backend)(x, w)
    gx, gw = torch.autograd.grad(out, [x, w])
    x2, w2 = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
    ref = _many_ops(x2, w2)
    rx, rw = torch.autograd.grad(ref, [x2, w2])
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gx, rx, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(gw, rw, rtol=1e-10, atol=1e-12)
    compiled = {op for r in backend.reports for op in r.compiled}
    assert {"aten._softmax.default", "aten.sigmoid.default", "aten.where.self", "aten.amax.default",
            "aten._softmax_backward_data.default", "aten.rsqrt.default"} <= compiled


def test_unsupported_ops_split_the_graph_and_run_in_pytorch():
    backend = SymcompBackend()

    def fn(x):
        a = torch.tanh(x * 2.0 + 1.0)
        b = torch.cumsum(a, dim=1)  # no symcomp rule: PyTorch computes it
        return torch.exp(-b).sum(dim=0) * 3.0 - 1.0

    x = torch.randn(5, 8)
    with torch.no_grad():
        got = torch.compile(fn, backend=backend)(x)
    torch.testing.assert_close(got, fn(x), rtol=1e-5, atol=1e-6)
    (report,) = backend.reports
    assert report.eager == ["aten.cumsum.default"]
    assert {"aten.tanh.default", "aten.exp.default", "aten.sum.dim_IntList"} <= set(report.compiled)


def test_pytorch_type_promotion_is_kept():
    backend = SymcompBackend()

    def fn(i, f):
        return (i * 2.5 + f) / 3, (i > 1.5) & (f < 0.5)

    i = torch.arange(-3, 5, dtype=torch.int32).reshape(2, 4)
    f = torch.rand(2, 4)
    with torch.no_grad():
        got = torch.compile(fn, backend=backend)(i, f)
    want = fn(i, f)
    assert got[0].dtype == torch.float32 and got[1].dtype == torch.bool
    torch.testing.assert_close(got[0], want[0])
    torch.testing.assert_close(got[1], want[1])


def test_symbolic_shapes_run_in_pytorch():
    backend = SymcompBackend()
    fn = torch.compile(lambda x: torch.tanh(x) * 2.0, backend=backend, dynamic=True)
    with torch.no_grad():
        for n in (3, 5):
            x = torch.randn(n, 4)
            torch.testing.assert_close(fn(x), torch.tanh(x) * 2.0)
    assert all(not r.compiled for r in backend.reports)


def test_a_partition_that_fails_to_convert_runs_in_pytorch(monkeypatch):
    backend = SymcompBackend()
    broken = C.Rule(lambda node, x: C.T.sum(x), None, True)  # wrong shape for tanh: must be caught
    monkeypatch.setitem(C.RULES, "aten.tanh.default", broken)
    with torch.no_grad(), pytest.warns(RuntimeWarning, match="runs in PyTorch: .*symcomp gives type tensor<f32>"):
        got = torch.compile(lambda x: torch.tanh(x * 2.0) + 1.0, backend=backend)(torch.ones(3, 2))
    torch.testing.assert_close(got, torch.tanh(torch.ones(3, 2) * 2.0) + 1.0)
    assert backend.reports[-1].failures and not backend.reports[-1].compiled


def test_digits_example_trains_like_eager():
    pytest.importorskip("sklearn")
    res = example("torch_digits").main(["--epochs", "6"])
    assert res["test_acc"] >= 0.9
    assert abs(res["final_loss"] - res["eager_final_loss"]) <= 1e-3 * max(1.0, res["eager_final_loss"])
    assert "aten.addmm.default" in res["symcomp_ops"] and "aten.threshold_backward.default" in res["symcomp_ops"]
    assert np.isfinite(res["median_step_ms"])
