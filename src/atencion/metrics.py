"""Metrics the chapters share: accuracy over tokens, exact match over sequences,
the cross-entropy of a sequence model, edit distance and the character error rate of
a transcription, and parameter counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import check_prediction_pair, check_texts, check_unit_interval

__all__ = [
    "IGNORE_INDEX", "accuracy", "exact_match", "sequence_cross_entropy", "smoothed_cross_entropy", "count_parameters",
    "edit_distance", "character_error_rate",
]

IGNORE_INDEX = -100  # a target ignored by F.cross_entropy (its default ignore_index)


def _predicted(predictions: Tensor, targets: Tensor) -> Tensor:
    """Class ids: ``predictions`` itself if it has ``targets``' shape, else its argmax
    over the last dimension (scores or logits ``(*, C)``)."""
    if predictions.shape == targets.shape and not predictions.is_floating_point():
        return predictions
    if predictions.dim() == targets.dim() + 1 and predictions.shape[:-1] == targets.shape:
        return predictions.argmax(dim=-1)
    raise ValueError(
        f"predictions: expected class ids with the shape of targets {tuple(targets.shape)} or scores "
        f"{tuple(targets.shape) + ('C',)}, got {tuple(predictions.shape)}"
    )


def accuracy(predictions: Tensor, targets: Tensor, *, ignore_index: int | None = IGNORE_INDEX) -> float:
    """The fraction of targets predicted correctly.

    Args:
        predictions: scores or logits ``(*, C)`` (their argmax is the prediction) or
            class ids with the shape of ``targets``.
        targets: ``(*)`` class ids; positions equal to ``ignore_index`` do not count.

    Raises ``ValueError`` if no target counts.
    """
    check_prediction_pair(predictions, targets)
    predicted = _predicted(predictions, targets)
    counted = targets != ignore_index if ignore_index is not None else torch.ones_like(targets, dtype=torch.bool)
    n = int(counted.sum())
    if n == 0:
        raise ValueError("targets: no target to count (all equal ignore_index, or empty)")
    return ((predicted == targets) & counted).sum().item() / n


def exact_match(predictions: Tensor, targets: Tensor, *, ignore_index: int | None = IGNORE_INDEX) -> Tensor:
    """Whether each sequence is predicted right at every counted position.

    Args:
        predictions: scores ``(B, T, C)`` or class ids ``(B, T)``.
        targets: ``(B, T)`` class ids; positions equal to ``ignore_index`` do not count.

    Returns:
        ``(B,)`` bool; its mean is the exact-match accuracy.
    """
    check_prediction_pair(predictions, targets)
    if targets.dim() < 2:
        raise ValueError(f"targets: expected (B, T) sequences, got shape {tuple(targets.shape)}")
    predicted = _predicted(predictions, targets)
    right = predicted == targets
    if ignore_index is not None:
        right |= targets == ignore_index
    return right.flatten(1).all(dim=1)  # (B,)


def sequence_cross_entropy(logits: Tensor, targets: Tensor, *, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Mean cross-entropy of ``(B, L, V)`` logits against ``(B, L)`` targets over the
    positions that count (``targets != ignore_index``): ``F.cross_entropy`` on the
    flattened tokens. The logits are raw: no softmax before it."""
    check_prediction_pair(logits, targets)
    if not logits.is_floating_point() or logits.dim() != targets.dim() + 1 or logits.shape[:-1] != targets.shape:
        raise ValueError(
            f"logits: expected floating logits of shape {tuple(targets.shape) + ('V',)} (targets' shape + V), "
            f"got {tuple(logits.shape)} {logits.dtype}"
        )
    return F.cross_entropy(logits.flatten(0, -2), targets.flatten(), ignore_index=ignore_index)


def smoothed_cross_entropy(
    logits: Tensor, targets: Tensor, smoothing: float, *, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Cross-entropy against label-smoothed targets (Szegedy et al., 2016), written out:
    the target distribution puts ``1 - smoothing`` on the right class and spreads
    ``smoothing`` uniformly over all ``C`` classes, so the loss per position is::

        (1 - smoothing) * (-log p_y) + smoothing * mean_c(-log p_c)

    averaged over the positions that count. Equal to
    ``F.cross_entropy(..., label_smoothing=smoothing)``.

    Args:
        logits: ``(*, C)`` raw scores; targets: ``(*)`` class ids.
    """
    check_prediction_pair(logits, targets)
    if not logits.is_floating_point() or logits.shape[:-1] != targets.shape:
        raise ValueError(
            f"logits: expected floating logits of shape {tuple(targets.shape) + ('C',)}, got {tuple(logits.shape)}"
        )
    smoothing = check_unit_interval(smoothing, "smoothing")
    log_p = torch.log_softmax(logits, dim=-1)  # (*, C)
    counted = targets != ignore_index  # (*)
    safe = targets.masked_fill(~counted, 0)
    nll = -log_p.gather(-1, safe[..., None])[..., 0]  # (*): -log p_y
    uniform = -log_p.mean(dim=-1)  # (*): mean over classes of -log p_c
    loss = (1 - smoothing) * nll + smoothing * uniform
    return loss[counted].mean()


def count_parameters(module: nn.Module, *, trainable_only: bool = False) -> int:
    """The number of parameters (scalars) of ``module``; shared parameters count once."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def edit_distance(hypothesis: Sequence, reference: Sequence) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions of single
    elements (characters of a string, words of a list) that turn ``hypothesis`` into
    ``reference``."""
    for name, x in (("hypothesis", hypothesis), ("reference", reference)):
        if not isinstance(x, Sequence):
            raise TypeError(f"{name}: expected a string or a sequence, got {type(x).__name__}")
    row = list(range(len(reference) + 1))  # distances from the empty prefix of hypothesis
    for i, a in enumerate(hypothesis, 1):
        diagonal, row[0] = row[0], i
        for j, b in enumerate(reference, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (a != b))
    return row[-1]


def character_error_rate(hypotheses: Iterable[str], references: Iterable[str]) -> float:
    """The character error rate of a set of transcriptions: the edit distances summed over
    the pairs, divided by the characters of the references summed (so long utterances
    weigh more, as in the usual definition; it can exceed 1). The order is
    ``(hypotheses, references)``, what the system wrote first."""
    hypotheses, references = check_texts(hypotheses, "hypotheses"), check_texts(references, "references")
    if len(hypotheses) != len(references):
        raise ValueError(f"hypotheses, references: expected as many of each, got {len(hypotheses)} and "
                         f"{len(references)}")
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("references: expected at least one character to compare with")
    return sum(edit_distance(h, r) for h, r in zip(hypotheses, references)) / total
