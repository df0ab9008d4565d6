"""Generated sequence tasks and the helpers of sequence models' data: the offset copy
(a task that needs positions, chapter 4), teacher forcing's shifted targets, and
windows of a token stream for language modelling."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import check_int, check_tokens

__all__ = ["IGNORE", "shift_right", "offset_copy", "lm_windows"]

IGNORE = -100  # target id ignored by F.cross_entropy (its default ignore_index)


def offset_copy(
    num: int,
    length: int,
    *,
    offset: int = 3,
    vocab_size: int = 10,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Random sequences and, at each position ``i``, the token from ``offset`` steps back.

    The answer at position ``i`` is ``x[i - offset]``: which token that is depends
    only on positions, not on contents, so a model without positional information
    cannot solve it. The first ``offset`` targets have no answer and are
    :data:`IGNORE`.

    Returns:
        ``(tokens, targets)``, both ``(num, length)`` long tensors.
    """
    for name, n, minimum in (("num", num, 1), ("length", length, 1), ("offset", offset, 0),
                             ("vocab_size", vocab_size, 2)):
        check_int(n, name, minimum=minimum)
    if offset >= length:
        raise ValueError(f"offset: expected offset < length = {length}, got {offset}")
    tokens = torch.randint(vocab_size, (num, length), generator=generator)  # (num, L)
    targets = torch.full((num, length), IGNORE, dtype=torch.long)
    targets[:, offset:] = tokens[:, : length - offset]
    return tokens, targets


def shift_right(tgt: Tensor, bos_id: int) -> Tensor:
    """Decoder input for teacher forcing: ``<bos>`` followed by ``tgt`` without its last column.

    ``tgt (B, T)`` = ``y_1 ... y_n <eos> <pad>...`` -> ``<bos> y_1 ... y_n ...``,
    so that the decoder predicts ``tgt[:, t]`` having seen ``tgt[:, :t]``.
    """
    tgt = check_tokens(tgt, "tgt", "(B, T)")
    bos = torch.full_like(tgt[:, :1], bos_id)  # (B, 1)
    return torch.cat([bos, tgt[:, :-1]], dim=1)  # (B, T)


def lm_windows(
    ids: Tensor, length: int, num: int, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """``num`` random windows of a token stream for next-token prediction.

    Args:
        ids: ``(N,)`` token ids of a long text.
        length: window length ``L``.

    Returns:
        ``(inputs, targets)``, both ``(num, length)``: ``targets`` is ``inputs``
        shifted one token to the left (the next token at every position).
    """
    if not isinstance(ids, Tensor) or ids.dim() != 1 or ids.is_floating_point():
        raise ValueError(f"ids: expected a 1-D integer tensor (N,), got {getattr(ids, 'shape', type(ids).__name__)}")
    for name, n in (("length", length), ("num", num)):
        check_int(n, name, minimum=1)
    if len(ids) < length + 1:
        raise ValueError(f"ids: expected at least length + 1 = {length + 1} tokens, got {len(ids)}")
    starts = torch.randint(len(ids) - length, (num,), generator=generator)  # (num,)
    index = starts[:, None] + torch.arange(length + 1)[None, :]  # (num, L + 1)
    windows = ids[index]
    return windows[:, :-1], windows[:, 1:]
