"""Tests for atencion.train."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest
import torch
from torch import nn

import atencion.train as train_module
from atencion.train import fit, seed_everything


def regression_problem(seed: int = 0):
    """y = x @ w + b with a little noise; 4 mini-batches of 16."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 3, generator=g)
    y = x @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3 + 0.01 * torch.randn(64, 1, generator=g)
    return list(zip(x.split(16), y.split(16)))


def mse(model: nn.Module, batch) -> torch.Tensor:
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


def make_model(seed: int = 0):
    torch.manual_seed(seed)
    model = nn.Linear(3, 1)
    return model, torch.optim.SGD(model.parameters(), lr=0.1)


def test_fit_decreases_loss_and_records_history():
    model, opt = make_model()
    history = fit(model, opt, mse, regression_problem(), epochs=5, progress=False)
    assert list(history) == ["loss", "time"]
    assert len(history["loss"]) == len(history["time"]) == 5
    assert history["loss"][-1] < 0.1 * history["loss"][0]
    assert all(isinstance(v, float) for v in history["loss"])
    assert all(b >= a >= 0 for a, b in zip(history["time"], history["time"][1:]))


def test_fit_loss_is_mean_over_batches():
    model, _ = make_model()
    batches = regression_problem()
    with torch.no_grad():
        expected = sum(mse(model, b).item() for b in batches) / len(batches)
    history = fit(model, torch.optim.SGD(model.parameters(), lr=0.0), mse, batches, epochs=1, progress=False)
    assert history["loss"][0] == pytest.approx(expected)


def test_fit_accepts_callable_batches_and_calls_it_per_epoch():
    data = regression_problem()
    epochs_seen = []

    def batches(epoch: int):
        epochs_seen.append(epoch)
        g = torch.Generator().manual_seed(epoch)
        return [data[i] for i in torch.randperm(len(data), generator=g).tolist()]

    model, opt = make_model()
    history = fit(model, opt, mse, batches, epochs=3, progress=False)
    assert epochs_seen == [0, 1, 2]
    assert history["loss"][-1] < history["loss"][0]


def test_fit_reiterates_iterable_each_epoch():
    model, opt = make_model()
    calls = []

    def loss_fn(model, batch):
        calls.append(1)
        return mse(model, batch)

    fit(model, opt, loss_fn, regression_problem(), epochs=3, progress=False)
    assert len(calls) == 3 * 4


def test_fit_eval_fn_runs_in_eval_mode_without_grad():
    model, opt = make_model()
    model.add_module("dropout", nn.Dropout(0.5))  # unused, just to see the mode
    x_val, y_val = regression_problem(seed=1)[0]
    modes, grad_enabled, train_modes = [], [], []

    def loss_fn(model, batch):
        train_modes.append(model.training)
        return mse(model, batch)

    def eval_fn(model):
        modes.append(model.training)
        grad_enabled.append(torch.is_grad_enabled())
        return {"val_loss": nn.functional.mse_loss(model(x_val), y_val), "val_acc": 1}

    model.eval()
    history = fit(model, opt, loss_fn, regression_problem(), epochs=3, eval_fn=eval_fn, progress=False)
    assert list(history) == ["loss", "val_loss", "val_acc", "time"]
    assert len(history["val_loss"]) == 3 and history["val_acc"] == [1.0, 1.0, 1.0]
    assert all(isinstance(v, float) for v in history["val_loss"])
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert modes == [False] * 3 and grad_enabled == [False] * 3
    assert all(train_modes)  # model.train() is called each epoch, even after eval_fn
    assert not model.training  # restored to the mode it had before fit


def test_fit_clip_grad_norm_limits_the_update():
    model, _ = make_model()
    before = model.weight.detach().clone()
    batch = [(torch.full((4, 3), 100.0), torch.zeros(4, 1))]  # huge gradient
    fit(model, torch.optim.SGD(model.parameters(), lr=1.0), mse, batch, epochs=1, clip_grad_norm=0.01,
        progress=False)
    assert (model.weight.detach() - before).norm() <= 0.01 + 1e-6


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": 2.0}, TypeError, "epochs"),
        ({"epochs": 1, "clip_grad_norm": 0.0}, ValueError, "clip_grad_norm"),
    ],
)
def test_fit_bad_arguments(kwargs, exc, match):
    model, opt = make_model()
    with pytest.raises(exc, match=match):
        fit(model, opt, mse, regression_problem(), progress=False, **kwargs)


def test_fit_bad_loss_and_batches_and_eval():
    model, opt = make_model()
    with pytest.raises(ValueError, match="loss_fn"):
        fit(model, opt, lambda m, b: nn.functional.mse_loss(m(b[0]), b[1], reduction="none"),
            regression_problem(), epochs=1, progress=False)
    with pytest.raises(ValueError, match="train_batches"):
        fit(model, opt, mse, [], epochs=1, progress=False)
    with pytest.raises(TypeError, match="train_batches"):
        fit(model, opt, mse, 3, epochs=1, progress=False)
    with pytest.raises(TypeError, match="eval_fn"):
        fit(model, opt, mse, regression_problem(), epochs=1, eval_fn=lambda m: 0.5, progress=False)
    with pytest.raises(ValueError, match="eval_fn"):
        fit(model, opt, mse, regression_problem(), epochs=1, eval_fn=lambda m: {"loss": 0.5}, progress=False)


def test_progress_false_and_auto_are_quiet_when_not_a_tty(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    for progress in (False, None):
        model, opt = make_model()
        fit(model, opt, mse, regression_problem(), epochs=2, progress=progress)
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == ""


def test_progress_true_shows_a_bar(capsys):
    model, opt = make_model()
    fit(model, opt, mse, regression_problem(), epochs=2, progress=True)
    assert "2/2" in capsys.readouterr().err


def test_progress_auto_decision(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(train_module, "_in_notebook", lambda: False)
    assert train_module._show_progress(None)
    monkeypatch.setattr(train_module, "_in_notebook", lambda: True)
    assert not train_module._show_progress(None)  # quiet in a Jupyter kernel (book build)
    assert train_module._show_progress(True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not train_module._show_progress(None)
    assert not train_module._show_progress(False)


def test_in_notebook_detects_ipykernel(monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not train_module._in_notebook()
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    assert train_module._in_notebook()


def test_seed_everything_reproducible():
    def draw(gen):
        return random.random(), np.random.rand(), torch.rand(3), torch.rand(3, generator=gen)

    first = draw(seed_everything(123))
    second = draw(seed_everything(123))
    third = draw(seed_everything(124))
    assert first[0] == second[0] and first[1] == second[1]
    assert torch.equal(first[2], second[2]) and torch.equal(first[3], second[3])
    assert first[0] != third[0] and not torch.equal(first[2], third[2])
    assert isinstance(seed_everything(0), torch.Generator)
    assert seed_everything(7).initial_seed() == 7


def test_seeded_fit_is_reproducible():
    histories = []
    for _ in range(2):
        seed_everything(0)
        model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.2), nn.Linear(8, 1))
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        histories.append(fit(model, opt, mse, regression_problem(), epochs=2, progress=False)["loss"])
    assert histories[0] == histories[1]


def test_seed_everything_bad_input():
    with pytest.raises(TypeError, match="seed"):
        seed_everything(1.5)


def test_fit_steps_the_scheduler_once_per_batch():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 10))
    batches = [torch.randn(4, 2) for _ in range(3)]
    history = fit(model, optimizer, lambda m, b: m(b).pow(2).mean(), batches, epochs=2, scheduler=warmup)
    assert warmup.last_epoch == 6  # 2 epochs x 3 batches
    assert history["lr"] == pytest.approx([0.4, 0.7])
    with pytest.raises(TypeError, match="scheduler"):
        fit(model, optimizer, lambda m, b: m(b).sum(), batches, epochs=1, scheduler=0.1)


def test_shuffled_batches_is_the_seeded_permutation_cut_in_batches():
    from atencion.train import shuffled_batches

    x, y = torch.arange(10), torch.arange(10) * 2
    batches = shuffled_batches(x, y, batch_size=4, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    for epoch in range(2):  # a new order each epoch, the same as drawing it by hand
        order = torch.randperm(10, generator=g)
        got = batches(epoch)
        assert [len(b[0]) for b in got] == [4, 4, 2]
        for (bx, by), rows in zip(got, order.split(4)):
            assert torch.equal(bx, x[rows]) and torch.equal(by, y[rows])


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((), {"batch_size": 2}, ValueError, "tensors"),
        ((torch.zeros(3), torch.zeros(4)), {"batch_size": 2}, ValueError, "same number of rows"),
        ((torch.zeros(3),), {"batch_size": 0}, ValueError, "batch_size"),
        ((torch.zeros(3),), {"batch_size": 2, "generator": 0}, TypeError, "generator"),
        (([1, 2],), {"batch_size": 2}, TypeError, "tensors"),
    ],
)
def test_shuffled_batches_bad_input(args, kwargs, error, match):
    from atencion.train import shuffled_batches

    with pytest.raises(error, match=match):
        shuffled_batches(*args, **kwargs)
