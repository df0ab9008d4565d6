"""Tests for atencion.optim: each optimiser step by step against PyTorch's, the Noam formula,
the warm-up and cosine schedule against CosineAnnealingLR."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from atencion.optim import SGD, Adam, NoamLR, WarmupCosineLR, noam_factor, warmup_cosine_factor


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
        (lambda p: warmup_cosine_factor(-1, 10, 100), "step"),
        (lambda p: warmup_cosine_factor(0, -1, 100), "warmup"),
        (lambda p: warmup_cosine_factor(0, 10, 0), "total"),
        (lambda p: warmup_cosine_factor(0, 10, 9), "total"),
        (lambda p: warmup_cosine_factor(0, 10, 100, min_factor=1.5), "min_factor"),
        (lambda p: warmup_cosine_factor(0, 10.0, 100), "warmup"),
        (lambda p: WarmupCosineLR(torch.optim.SGD(p, lr=1.0), warmup=10, total=5), "total"),
        (lambda p: WarmupCosineLR(torch.optim.SGD(p, lr=1.0), warmup=True, total=5), "warmup"),
        (lambda p: WarmupCosineLR(torch.optim.SGD(p, lr=1.0), warmup=1, total=5, min_factor=-0.1), "min_factor"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call([nn.Parameter(torch.zeros(1))])


def _scheduled_lrs(scheduler_factory, steps, base_lr=0.5):
    """The learning rate used at each of ``steps`` optimiser steps (read before stepping)."""
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = scheduler_factory(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


@pytest.mark.parametrize("warmup, total, min_factor", [(10, 50, 0.0), (7, 40, 0.1), (1, 30, 0.0), (0, 30, 0.2),
                                                       (25, 25, 0.0)])
def test_warmup_cosine_is_cosine_annealing_after_the_warm_up(warmup, total, min_factor):
    base_lr = 0.5
    c = max(warmup, 1) - 1  # the warm-up's last step: the factor is 1 there
    ours = _scheduled_lrs(lambda o: WarmupCosineLR(o, warmup, total, min_factor), total + 5, base_lr)
    eta_min = min_factor * base_lr
    closed = [eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (s - c) / (total - c))) / 2
              for s in range(c, total + 1)]  # CosineAnnealingLR's closed form, T_max = total - c
    assert ours[c:total + 1] == pytest.approx(closed, rel=1e-12, abs=1e-15)
    # and PyTorch's own scheduler, stepped from the end of the warm-up
    theirs = _scheduled_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total - c, eta_min=eta_min),
                            total - c + 1, base_lr)
    assert ours[c:total + 1] == pytest.approx(theirs, rel=1e-9, abs=1e-12)
    assert ours[total:] == pytest.approx([eta_min] * 5, abs=1e-15)  # constant after the decay
    assert ours[c] == base_lr and max(ours) == base_lr


def test_warmup_is_linear_from_one_step_to_the_base_rate():
    warmup, total, base_lr = 8, 40, 0.5
    lrs = _scheduled_lrs(lambda o: WarmupCosineLR(o, warmup, total), warmup, base_lr)
    assert lrs == pytest.approx([base_lr * (s + 1) / warmup for s in range(warmup)], rel=1e-15)
    assert lrs[0] == base_lr / warmup and lrs[warmup - 1] == base_lr  # base rate at step warmup - 1
    assert all(b > a for a, b in zip(lrs, lrs[1:]))
    assert warmup_cosine_factor(warmup, warmup, total) < 1  # decaying from the next step on
    assert warmup_cosine_factor(0, 0, total) == warmup_cosine_factor(0, 1, total) == 1.0  # no warm-up


def test_warmup_cosine_scheduler_keeps_its_arguments():
    sched = WarmupCosineLR(torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0), warmup=4, total=20, min_factor=0.1)
    assert (sched.warmup, sched.total, sched.min_factor) == (4, 20, 0.1)
