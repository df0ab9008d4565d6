"""Connectionist temporal classification (Graves et al., 2006): the loss that trains a
model to emit a label sequence shorter than its input without any alignment, and greedy
decoding. Batch-first, in log space.

The label sequence ``y`` is stretched to ``y' = (_, y_1, _, y_2, …, y_U, _)`` with the
blank ``_``; an alignment is a path over ``y'`` that moves 0, 1 or 2 states per frame
(2 only onto a label that differs from the one two states back). The forward variable
``α_t(s) = log Σ p(path prefix ending in state s at frame t)`` gives
``-log p(y | x) = -logsumexp(α_{T-1}(S'-1), α_{T-1}(S'-2))``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import check_ctc_inputs, check_tensor

__all__ = ["ctc_nll", "ctc_greedy_decode"]


def ctc_nll(log_probs: Tensor, targets: Tensor, input_lengths: Tensor, target_lengths: Tensor, *,
            blank: int = 0) -> Tensor:
    """``-log p(y | x)`` of each sequence, summed over all alignments: ``(B,)``.

    Args:
        log_probs: ``(B, T, C)`` log-probabilities per frame (``log_softmax`` of the
            logits). Batch first: ``F.ctc_loss`` takes them time first, ``(T, B, C)``.
        targets: ``(B, U)`` label ids (no blank), padded to the longest.
        input_lengths, target_lengths: ``(B,)`` frames and labels of each sequence.

    Equals ``F.ctc_loss(log_probs.transpose(0, 1), targets, input_lengths,
    target_lengths, blank=blank, reduction="none")``; ``inf`` where no alignment
    fits in the frames (as there). The gradient is the exact one with respect to
    ``log_probs``; ``F.ctc_loss``'s backward returns ``softmax - posterior`` there (it
    assumes a ``log_softmax`` before it), and through ``log_softmax`` both agree.
    """
    log_probs, input_lengths = check_ctc_inputs(log_probs, input_lengths, blank)
    B, T, C = log_probs.shape
    targets = check_tensor(targets, "targets")
    if targets.dim() != 2 or targets.shape[0] != B or targets.is_floating_point():
        raise ValueError(f"targets: expected an integer tensor (B={B}, U), got {tuple(targets.shape)}")
    target_lengths = torch.as_tensor(target_lengths)
    if target_lengths.shape != (B,) or ((target_lengths < 0) | (target_lengths > targets.shape[1])).any():
        raise ValueError(f"target_lengths: expected {B} lengths in [0, {targets.shape[1]}], "
                         f"got {target_lengths.tolist()}")
    U = targets.shape[1]
    real = torch.arange(U) < target_lengths[:, None]  # (B, U)
    if (targets[real] == blank).any() or (targets[real] < 0).any() or (targets[real] >= C).any():
        raise ValueError(f"targets: expected label ids in [0, {C - 1}] other than blank = {blank}")
    S = 2 * U + 1
    ext = torch.full((B, S), blank, dtype=torch.long, device=log_probs.device)  # (B, S'): _ y1 _ y2 … _
    ext[:, 1::2] = targets.clamp(0, C - 1)
    S_len = 2 * target_lengths + 1  # (B,) states of each sequence
    # "log 0" as a large finite number: logsumexp over three -inf would give a NaN gradient
    floor = torch.finfo(log_probs.dtype).min / 4
    neg_inf = torch.tensor(floor, dtype=log_probs.dtype, device=log_probs.device)
    valid = torch.arange(S, device=log_probs.device) < S_len[:, None]  # (B, S')
    # a skip s-2 -> s is allowed onto a label that differs from the label two states back
    skip = torch.zeros(B, S, dtype=torch.bool, device=log_probs.device)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    emit = log_probs.gather(2, ext[:, None, :].expand(B, T, S))  # (B, T, S'): log p_t(y'_s)
    alpha = torch.full((B, S), floor, dtype=log_probs.dtype, device=log_probs.device)
    alpha[:, 0] = emit[:, 0, 0]  # start in the first blank ...
    alpha[:, 1] = torch.where(target_lengths > 0, emit[:, 0, 1], neg_inf)  # ... or on the first label
    alpha = torch.where(valid, alpha, neg_inf)
    final = alpha.clone()  # alpha at each sequence's last frame
    for t in range(1, T):
        stay = alpha
        step = torch.cat([alpha.new_full((B, 1), floor), alpha[:, :-1]], dim=1)
        jump = torch.cat([alpha.new_full((B, 2), floor), alpha[:, :-2]], dim=1)
        jump = torch.where(skip, jump, neg_inf)
        alpha = torch.logsumexp(torch.stack([stay, step, jump]), dim=0) + emit[:, t]
        alpha = torch.where(valid, alpha, neg_inf)
        final = torch.where((input_lengths == t + 1)[:, None], alpha, final)
    last = final.gather(1, (S_len - 1)[:, None])[:, 0]  # ending in the last blank ...
    before = final.gather(1, (S_len - 2).clamp(min=0)[:, None])[:, 0]  # ... or on the last label
    before = torch.where(target_lengths > 0, before, neg_inf)
    nll = -torch.logaddexp(last, before)
    return torch.where(nll > -floor / 2, torch.inf, nll)  # no alignment fits: p(y | x) = 0


def ctc_greedy_decode(log_probs: Tensor, input_lengths: Tensor, *, blank: int = 0) -> list[list[int]]:
    """The most probable label per frame, repeats merged, blanks dropped (best path):
    ``(B, T, C)`` -> one list of label ids per sequence."""
    log_probs, input_lengths = check_ctc_inputs(log_probs, input_lengths, blank)
    best = log_probs.argmax(-1)  # (B, T)
    out = []
    for path, n in zip(best.tolist(), input_lengths.tolist()):
        labels, previous = [], None
        for token in path[:n]:
            if token != previous and token != blank:
                labels.append(token)
            previous = token
        out.append(labels)
    return out
