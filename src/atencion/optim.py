"""Optimisers and the learning-rate schedule of the transformer, written to be read.

- :class:`SGD`: ``v <- mu v + g``, ``theta <- theta - lr v`` (plain SGD when ``mu = 0``);
- :class:`Adam` (Kingma & Ba, 2015), with the bias correction by ``beta^t`` and the
  square root in the denominator::

      m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
      m_hat = m / (1 - b1^t)          v_hat = v / (1 - b2^t)
      theta <- theta - lr m_hat / (sqrt(v_hat) + eps)

  ``weight_decay`` adds ``wd theta`` to the gradient (L2 inside Adam, as
  ``torch.optim.Adam``); with ``decoupled=True`` it is AdamW (Loshchilov & Hutter,
  2019): ``theta <- theta - lr wd theta`` apart from the adaptive step, as
  ``torch.optim.AdamW``;
- :func:`noam_factor` / :class:`NoamLR`: Vaswani et al.'s schedule
  ``lr(t) = d_model^-0.5 min(t^-0.5, t warmup^-1.5)`` (``warmup = 4000`` in the paper),
  as a ``LambdaLR`` that multiplies the optimiser's base learning rate (set it to 1 to
  get the paper's values);
- :func:`warmup_cosine_factor` / :class:`WarmupCosineLR`: a linear warm-up to the base
  learning rate followed by a cosine decay to ``min_factor`` times it, as a ``LambdaLR``.

Each is tested step by step against PyTorch's own implementation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from ._checks import (
    check_betas,
    check_bool,
    check_int,
    check_nonnegative_float,
    check_positive_float,
    check_unit_interval,
)

__all__ = ["SGD", "Adam", "noam_factor", "NoamLR", "warmup_cosine_factor", "WarmupCosineLR"]


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum ``mu``, as ``torch.optim.SGD``
    without dampening: ``v <- mu v + g`` (``v = g`` at the first step), ``theta <- theta - lr v``."""

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float, momentum: float = 0.0) -> None:
        check_positive_float(lr, "lr")
        if not 0 <= check_nonnegative_float(momentum, "momentum") < 1:
            raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
        super().__init__(params, {"lr": float(lr), "momentum": float(momentum)})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None if closure is None else torch.enable_grad()(closure)()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["momentum"]:
                    state = self.state[p]
                    if "velocity" not in state:
                        state["velocity"] = g.clone()
                    else:
                        state["velocity"].mul_(group["momentum"]).add_(g)
                    g = state["velocity"]
                p.add_(g, alpha=-group["lr"])
        return loss


class Adam(Optimizer):
    """Adam with bias correction; AdamW with ``decoupled=True``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (the schedule's factor multiplies it).
        betas: ``(b1, b2)``, the decay of the first and second moment estimates;
            the paper's defaults are ``(0.9, 0.999)`` (the transformer used ``(0.9, 0.98)``).
        eps: added to ``sqrt(v_hat)``.
        weight_decay: ``wd``.
        decoupled: AdamW's decoupled decay instead of L2 added to the gradient.
    """

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
                 decoupled: bool = False) -> None:
        defaults = {"lr": check_positive_float(lr, "lr"), "betas": check_betas(betas),
                    "eps": check_positive_float(eps, "eps"),
                    "weight_decay": check_nonnegative_float(weight_decay, "weight_decay"),
                    "decoupled": check_bool(decoupled, "decoupled")}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None if closure is None else torch.enable_grad()(closure)()
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd and not group["decoupled"]:
                    g = g + wd * p  # L2 inside Adam: the decay is rescaled by the adaptive step
                state = self.state[p]
                if not state:
                    state["step"], state["m"], state["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                state["step"] += 1
                t, m, v = state["step"], state["m"], state["v"]
                m.mul_(b1).add_(g, alpha=1 - b1)  # first moment
                v.mul_(b2).addcmul_(g, g, value=1 - b2)  # second moment
                m_hat = m / (1 - b1**t)  # bias corrections: beta to the power t
                v_hat = v / (1 - b2**t)
                if wd and group["decoupled"]:
                    p.mul_(1 - lr * wd)  # AdamW: decay apart from the adaptive step
                p.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)
        return loss


def noam_factor(step: int, d_model: int, warmup: int) -> float:
    """``d_model^-0.5 * min(t^-0.5, t * warmup^-1.5)`` at ``t = step + 1`` (``step`` counts
    from 0, as ``LambdaLR`` does): linear warm-up for ``warmup`` steps, then ``1/sqrt(t)``."""
    check_int(step, "step", minimum=0)
    check_int(d_model, "d_model")
    check_int(warmup, "warmup")
    t = step + 1
    return d_model**-0.5 * min(t**-0.5, t * warmup**-1.5)


class NoamLR(LambdaLR):
    """The transformer's schedule as a ``torch.optim.lr_scheduler.LambdaLR``: the learning
    rate is ``base_lr * noam_factor(step, d_model, warmup)``; step it once per batch."""

    def __init__(self, optimizer: Optimizer, d_model: int, warmup: int = 4000, last_epoch: int = -1) -> None:
        check_int(d_model, "d_model")
        check_int(warmup, "warmup")
        self.d_model, self.warmup = d_model, warmup
        super().__init__(optimizer, lambda step: noam_factor(step, d_model, warmup), last_epoch=last_epoch)

    @property
    def peak(self) -> float:
        """The largest factor, reached at the end of the warm-up: ``(d_model warmup)^-0.5``."""
        return math.sqrt(1.0 / (self.d_model * self.warmup))


def warmup_cosine_factor(step: int, warmup: int, total: int, min_factor: float = 0.0) -> float:
    """Linear warm-up, then a cosine decay; ``step`` counts from 0, as ``LambdaLR`` does.

    With ``c = max(warmup, 1) - 1``, the step at which the warm-up ends::

        (step + 1) / warmup                                       if step < c
        min_factor + (1 - min_factor) (1 + cos(pi (step - c) / (total - c))) / 2
                                                                  if c <= step <= total
        min_factor                                                if step > total

    The factor rises from ``1 / warmup`` to 1 at ``step = warmup - 1`` and then follows
    ``torch.optim.lr_scheduler.CosineAnnealingLR`` with ``T_max = total - c`` and
    ``eta_min = min_factor * base_lr``, reaching ``min_factor`` at ``step = total``
    (after the last of ``total`` optimiser steps). ``warmup = 0`` (or 1) is a cosine
    decay from the first step.
    """
    check_int(step, "step", minimum=0)
    check_int(warmup, "warmup", minimum=0)
    check_int(total, "total")
    if total < warmup:
        raise ValueError(f"total: expected total >= warmup = {warmup} (the warm-up ends within the run), got {total}")
    min_factor = check_unit_interval(min_factor, "min_factor")
    c = max(warmup, 1) - 1
    if step < c:
        return (step + 1) / warmup
    progress = min(step - c, total - c) / (total - c)  # in [0, 1]
    return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * progress))


class WarmupCosineLR(LambdaLR):
    """Linear warm-up and cosine decay as a ``torch.optim.lr_scheduler.LambdaLR``: the
    learning rate is ``base_lr * warmup_cosine_factor(step, warmup, total, min_factor)``;
    step it once per batch, ``total`` times in a run of ``total`` steps."""

    def __init__(self, optimizer: Optimizer, warmup: int, total: int, min_factor: float = 0.0,
                 last_epoch: int = -1) -> None:
        warmup_cosine_factor(0, warmup, total, min_factor)  # checks the arguments
        self.warmup, self.total, self.min_factor = warmup, total, float(min_factor)
        super().__init__(optimizer, lambda step: warmup_cosine_factor(step, warmup, total, min_factor),
                         last_epoch=last_epoch)
