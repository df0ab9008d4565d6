"""Generated sequence tasks and the helpers of sequence models' data: the offset copy
(a task that needs positions, chapter 4), teacher forcing's shifted targets,
windows of a token stream for language modelling, BERT's masked-language-model
corruption, and padded batches of sequences of similar lengths."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .._checks import check_indices, check_int, check_probability, check_tokens, check_unit_interval

__all__ = ["IGNORE", "shift_right", "offset_copy", "lm_windows", "mlm_corrupt", "padded_batches"]

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


def mlm_corrupt(
    ids: Tensor,
    *,
    mask_id: int,
    vocab_size: int,
    special_ids: Sequence[int] = (0, 1, 2, 3),  # atencion.data's PAD, BOS, EOS, UNK
    p: float = 0.15,
    p_mask: float = 0.8,
    p_random: float = 0.1,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """BERT's masked-language-model corruption (Devlin et al., 2019) of a batch of ids.

    Each position whose id is not in ``special_ids`` (padding, ``<bos>``...) is chosen
    with probability ``p``. A chosen position becomes ``mask_id`` with probability
    ``p_mask``, a random ordinary id (not special, not ``mask_id``) with probability
    ``p_random``, and keeps its id otherwise (80/10/10 by default). Only chosen
    positions are predicted.

    Args:
        ids: ``(B, L)`` token ids in ``[0, vocab_size)``.

    Returns:
        ``(inputs, labels)``, both ``(B, L)``: the corrupted ids, and the original id at
        chosen positions with :data:`IGNORE` elsewhere (``F.cross_entropy``'s default
        ``ignore_index``).
    """
    ids = check_tokens(ids, "ids", "(B, L)")
    vocab_size = check_int(vocab_size, "vocab_size", minimum=2)
    mask_id = check_indices([mask_id], vocab_size, "mask_id")[0]
    specials = set(check_indices(special_ids, vocab_size, "special_ids")) | {mask_id}
    p = check_probability(p, "p")
    p_mask, p_random = check_unit_interval(p_mask, "p_mask"), check_unit_interval(p_random, "p_random")
    if p_mask + p_random > 1:
        raise ValueError(f"p_mask, p_random: expected p_mask + p_random <= 1, got {p_mask} + {p_random}")
    if ids.numel() and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids: expected ids in [0, {vocab_size - 1}], got min {int(ids.min())}, max {int(ids.max())}")
    ordinary = torch.tensor([i for i in range(vocab_size) if i not in specials], dtype=torch.long)  # (V',)
    if p_random > 0 and len(ordinary) == 0:
        raise ValueError("special_ids: every id is special or mask_id: no random replacement is possible")
    candidate = ~torch.isin(ids, torch.tensor(sorted(specials), dtype=torch.long))  # (B, L)
    chosen = candidate & (torch.rand(ids.shape, generator=generator) < p)  # (B, L)
    r = torch.rand(ids.shape, generator=generator)  # which of the three fates
    masked = chosen & (r < p_mask)
    randomised = chosen & (r >= p_mask) & (r < p_mask + p_random)
    pool = ordinary if len(ordinary) else ids.new_zeros(1)  # empty only when p_random = 0: never drawn
    random_ids = pool[torch.randint(len(pool), ids.shape, generator=generator)]  # (B, L)
    inputs = torch.where(masked, mask_id, torch.where(randomised, random_ids, ids))
    labels = torch.where(chosen, ids, IGNORE)
    return inputs, labels


def padded_batches(
    seqs: Sequence[Sequence[int]],
    *,
    batch_size: int,
    labels: Sequence[int] | Tensor | None = None,
    generator: torch.Generator | None = None,
    bucket: int | None = None,
    pad_id: int = 0,
) -> list[tuple[Tensor, ...]]:
    """``seqs`` (lists of ids) cut into batches of ``batch_size`` and padded with ``pad_id``:
    ``[(ids (B, L_batch),), ...]``, or ``[(ids, labels (B,)), ...]`` with ``labels``. Every
    sequence is in exactly one batch, in order, or shuffled by ``generator``. With
    ``bucket = k``, each run of ``k * batch_size`` sequences is sorted by length before it
    is cut (and the batches are shuffled again), so little of a batch is padding."""
    if isinstance(seqs, (str, Tensor)) or not isinstance(seqs, Sequence):
        raise TypeError(f"seqs: expected a list of lists of ids, got {type(seqs).__name__}")
    if not seqs:
        raise ValueError("seqs: expected at least one sequence")
    if any(len(s) == 0 for s in seqs):
        raise ValueError("seqs: expected non-empty sequences")
    check_int(batch_size, "batch_size", minimum=1)
    if bucket is not None:
        check_int(bucket, "bucket", minimum=1)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
    if labels is not None:
        labels = torch.as_tensor(labels)
        if labels.dim() != 1 or len(labels) != len(seqs):
            raise ValueError(f"labels: expected one label per sequence ({len(seqs)}), got shape {tuple(labels.shape)}")
    order = torch.randperm(len(seqs), generator=generator).tolist() if generator is not None else list(range(len(seqs)))
    if bucket is not None:
        run = bucket * batch_size
        order = [i for k in range(0, len(order), run) for i in sorted(order[k:k + run], key=lambda i: len(seqs[i]))]
    cuts = list(range(0, len(order), batch_size))
    if bucket is not None and generator is not None:
        cuts = [cuts[i] for i in torch.randperm(len(cuts), generator=generator).tolist()]
    out = []
    for start in cuts:
        rows = order[start:start + batch_size]
        ids = torch.full((len(rows), max(len(seqs[i]) for i in rows)), pad_id, dtype=torch.long)  # (B, L_batch)
        for b, i in enumerate(rows):
            ids[b, :len(seqs[i])] = torch.as_tensor(seqs[i], dtype=torch.long)
        out.append((ids,) if labels is None else (ids, labels[rows]))
    return out
