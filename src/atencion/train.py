"""A minimal, reproducible training loop."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from tqdm import tqdm

from ._checks import check_int, check_int_type

__all__ = ["seed_everything", "shuffled_batches", "fit"]

Batches = Iterable[Any] | Callable[[int], Iterable[Any]]


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's ``random``, NumPy and PyTorch; return a fresh
    ``torch.Generator`` seeded with ``seed`` (e.g. for data shuffling)."""
    check_int_type(seed, "seed")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def shuffled_batches(
    *tensors: Tensor, batch_size: int, generator: torch.Generator | None = None
) -> Callable[[int], list[tuple[Tensor, ...]]]:
    """Mini-batches of the rows of ``tensors``, in a new order every epoch.

    Returns a callable ``epoch -> [(t1[rows], t2[rows], ...), ...]`` for :func:`fit`:
    each call draws one permutation of the ``N`` rows from ``generator`` and cuts
    it into batches of ``batch_size`` (the last may be smaller). With a seeded
    generator the sequence of batches is reproducible.
    """
    if not tensors:
        raise ValueError("tensors: expected at least one tensor")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or t.dim() == 0:
            raise TypeError(f"tensors: argument {i} is not a tensor with a first (batch) dimension")
    n = len(tensors[0])
    sizes = [len(t) for t in tensors]
    if any(size != n for size in sizes):
        raise ValueError(f"tensors: expected the same number of rows in every tensor, got {sizes}")
    check_int(batch_size, "batch_size", minimum=1)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")

    def batches(epoch: int) -> list[tuple[Tensor, ...]]:
        order = torch.randperm(n, generator=generator)
        return [tuple(t[rows] for t in tensors) for rows in order.split(batch_size)]

    return batches


def _in_notebook() -> bool:
    """Whether we run inside a Jupyter/IPython kernel (e.g. during the book build)."""
    if "ipykernel" in sys.modules:
        return True
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return shell is not None and hasattr(shell, "kernel")


def _show_progress(progress: bool | None) -> bool:
    if progress is None:
        return sys.stderr.isatty() and not _in_notebook()
    return bool(progress)


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[nn.Module, Any], Tensor],
    train_batches: Batches,
    *,
    epochs: int,
    eval_fn: Callable[[nn.Module], Mapping[str, float]] | None = None,
    clip_grad_norm: float | None = None,
    scheduler: Any | None = None,
    progress: bool | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs`` epochs and return the history.

    Args:
        model: the module to train (put in ``train()`` mode during training).
        optimizer: optimiser over ``model``'s parameters.
        loss_fn: ``loss_fn(model, batch) -> scalar Tensor``.
        train_batches: an iterable of batches, re-iterated every epoch, or a
            callable ``epoch -> iterable`` (e.g. to reshuffle with a seeded
            generator).
        epochs: number of epochs (>= 1).
        eval_fn: optional ``eval_fn(model) -> {name: float}``, called after each
            epoch with ``model.eval()`` under ``torch.no_grad()``.
        clip_grad_norm: if given, clip the gradients' total norm to this value.
        scheduler: optional learning-rate scheduler (e.g. warm-up with
            ``torch.optim.lr_scheduler.LambdaLR``), stepped after every
            optimiser step -- once per batch, not per epoch.
        progress: show a tqdm bar; ``None`` = only in an interactive terminal
            (never inside a Jupyter kernel).

    Returns:
        ``{"loss": [mean training loss per epoch], <eval_fn keys>: [...],
        "time": [cumulative seconds]}``, plus ``"lr"`` (the learning rate at
        the end of each epoch) with a scheduler. The model is left in the
        mode it had.
    """
    check_int_type(epochs, "epochs")
    if epochs < 1:
        raise ValueError(f"epochs: expected epochs >= 1, got {epochs}")
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm: expected a positive float or None, got {clip_grad_norm}")
    if scheduler is not None and not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"scheduler: expected an object with a step() method, got {type(scheduler).__name__}")
    if not callable(train_batches) and not isinstance(train_batches, Iterable):
        raise TypeError(
            f"train_batches: expected an iterable of batches or a callable epoch -> iterable, "
            f"got {type(train_batches).__name__}"
        )

    was_training = model.training
    history: dict[str, list[float]] = {"loss": []}
    start = time.perf_counter()
    bar = tqdm(total=epochs, disable=not _show_progress(progress), file=sys.stderr, unit="epoch")
    try:
        for epoch in range(epochs):
            model.train()
            batches = train_batches(epoch) if callable(train_batches) else train_batches
            total, n = 0.0, 0
            for batch in batches:
                loss = loss_fn(model, batch)
                if not isinstance(loss, Tensor) or loss.dim() != 0:
                    got = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
                    raise ValueError(f"loss_fn: expected a scalar Tensor (shape ()), got {got}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total += loss.item()
                n += 1
            if n == 0:
                raise ValueError(f"train_batches: epoch {epoch} yielded no batches")
            history["loss"].append(total / n)
            if scheduler is not None:
                history.setdefault("lr", []).append(optimizer.param_groups[0]["lr"])

            if eval_fn is not None:
                model.eval()
                with torch.no_grad():
                    metrics = eval_fn(model)
                if not isinstance(metrics, Mapping):
                    raise TypeError(
                        f"eval_fn: expected a dict of floats, got {type(metrics).__name__}"
                    )
                for key, value in metrics.items():
                    if key in ("loss", "time"):
                        raise ValueError(
                            f"eval_fn: key {key!r} is reserved for the training history; "
                            f"use e.g. 'val_{key}'"
                        )
                    history.setdefault(key, []).append(float(value))

            history.setdefault("time", []).append(time.perf_counter() - start)
            bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items() if k != "time"})
            bar.update(1)
    finally:
        bar.close()
        model.train(was_training)
    return history
