"""Tests for atencion.optim: each optimiser step by step against PyTorch's, the Noam formula."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from atencion.optim import SGD, Adam, NoamLR, noam_factor


def twin_models(seed=0):
    torch.manual_seed(seed)
    a = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    b = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    b.load_state_dict(a.state_dict())
    return a, b


def run(model, optimizer, steps=25, seed=1):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x, y = torch.randn(16, 5, generator=g), torch.randn(16, 3, generator=g)
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (lambda p: SGD(p, lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
        (lambda p: Adam(p, lr=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2)),
        (lambda p: Adam(p, lr=1e-2, betas=(0.9, 0.98), eps=1e-9),
         lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.9, 0.98), eps=1e-9)),
        (lambda p: Adam(p, lr=1e-2, weight_decay=0.1), lambda p: torch.optim.Adam(p, lr=1e-2, weight_decay=0.1)),
        (lambda p: Adam(p, lr=1e-2, weight_decay=0.1, decoupled=True),
         lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1)),
    ],
    ids=["sgd", "momentum", "adam", "adam-transformer-betas", "adam-l2", "adamw"],
)
def test_optimisers_match_pytorch_step_by_step(ours, theirs):
    a, b = twin_models()
    for pa, pb in zip(run(a, ours(a.parameters())), run(b, theirs(b.parameters()))):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6)


def test_adam_first_step_is_lr_times_the_gradients_sign():
    """With the bias correction, m_hat = g and v_hat = g^2 at t = 1: the step is lr g/(|g| + eps)."""
    p = nn.Parameter(torch.tensor([2.0, -3.0]))
    opt = Adam([p], lr=0.1, eps=1e-12)
    p.grad = torch.tensor([0.5, -4.0])
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([1.9, -2.9]))


def test_l2_and_decoupled_decay_differ():
    a, b = twin_models()
    l2 = run(a, Adam(a.parameters(), lr=1e-2, weight_decay=0.5))
    decoupled = run(b, Adam(b.parameters(), lr=1e-2, weight_decay=0.5, decoupled=True))
    assert max((x - y).abs().max().item() for x, y in zip(l2, decoupled)) > 1e-3


def test_noam_factor_formula_peak_and_scheduler():
    d, w = 512, 4000
    assert noam_factor(w - 1, d, w) == pytest.approx((d * w) ** -0.5)  # peak at t = warmup
    assert noam_factor(0, d, w) == pytest.approx(d**-0.5 * w**-1.5)
    assert noam_factor(4 * w - 1, d, w) == pytest.approx(d**-0.5 * (4 * w) ** -0.5)
    factors = [noam_factor(s, d, w) for s in range(3 * w)]
    assert max(range(len(factors)), key=factors.__getitem__) == w - 1
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = NoamLR(opt, d_model=d, warmup=w)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx(factors[:10])
    assert sched.peak == pytest.approx(max(factors))
    assert math.isclose(sched.peak, 1 / math.sqrt(d * w))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: Adam(p, lr=0), "lr"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), "betas"),
        (lambda p: Adam(p, eps=-1), "eps"),
        (lambda p: Adam(p, weight_decay=-0.1), "weight_decay"),
        (lambda p: SGD(p, lr=0.1, momentum=1.0), "momentum"),
        (lambda p: noam_factor(-1, 512, 4000), "step"),
        (lambda p: NoamLR(torch.optim.SGD(p, lr=1.0), d_model=0), "d_model"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call([nn.Parameter(torch.zeros(1))])
