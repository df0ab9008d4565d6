"""Functional attention: a masked softmax and scaled dot-product attention.

Conventions (as in :func:`torch.nn.functional.scaled_dot_product_attention`):
tensors are batch-first, ``L`` is the number of queries, ``S`` the number of
keys/values, ``E`` the query/key size and ``Ev`` the value size. A boolean
mask is ``True`` where attention is *allowed*; a floating mask is *added* to
the scores. Unlike PyTorch's kernel, a query with no allowed key gets all-zero
weights (and a zero output) instead of NaN.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["masked_softmax", "scaled_dot_product_attention"]


def _check_tensor(x: object, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    return x


def _check_mask(mask: object, target: torch.Size, axes: str) -> Tensor:
    """Validate that ``mask`` is a bool/floating tensor broadcastable to ``target``."""
    mask = _check_tensor(mask, "mask")
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise TypeError(
            f"mask: expected dtype torch.bool (True = allowed) or a floating dtype "
            f"(added to the scores), got {mask.dtype}"
        )
    try:
        ok = torch.broadcast_shapes(mask.shape, target) == target
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(
            f"mask: expected a tensor broadcastable to {tuple(target)} {axes}, "
            f"got shape {tuple(mask.shape)}"
        )
    return mask


def masked_softmax(scores: Tensor, mask: Tensor | None = None, dim: int = -1) -> Tensor:
    """Softmax of ``scores`` over ``dim`` that ignores disallowed entries.

    Args:
        scores: floating tensor of any shape.
        mask: optional tensor broadcastable to ``scores.shape``; boolean ``True`` =
            allowed, or floating (added to ``scores``, ``-inf`` = disallowed).
        dim: the dimension to normalise over.

    Returns:
        Weights of the same shape as ``scores``: non-negative, summing to 1 over
        ``dim`` -- except for slices with no allowed entry, which are all zero
        (never NaN, and their gradients are zero too).
    """
    scores = _check_tensor(scores, "scores")
    if not scores.is_floating_point():
        raise TypeError(f"scores: expected a floating tensor, got dtype {scores.dtype}")
    if scores.dim() == 0:
        raise ValueError("scores: expected a tensor with at least 1 dimension, got a scalar")
    if not -scores.dim() <= dim < scores.dim():
        raise ValueError(
            f"dim: expected an integer in [{-scores.dim()}, {scores.dim() - 1}] "
            f"for scores of shape {tuple(scores.shape)}, got {dim}"
        )
    if mask is not None:
        mask = _check_mask(mask, scores.shape, "(same shape as scores)")
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask.to(scores.dtype)
    # A slice whose entries are all -inf would give 0/0 = NaN: give it neutral
    # scores (zeros) for the softmax, then zero its weights. masked_fill blocks
    # the gradient into the filled entries, so gradients stay finite.
    # Most calls have no such slice: check once, and only then pay for the two fills.
    if mask is None and not torch.isneginf(scores).any():
        return torch.softmax(scores, dim=dim)
    empty = (scores == float("-inf")).all(dim=dim, keepdim=True)
    if not empty.any():
        return torch.softmax(scores, dim=dim)
    weights = torch.softmax(scores.masked_fill(empty, 0.0), dim=dim)
    return weights.masked_fill(empty, 0.0)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None = None,
    *,
    scale: float | None = None,
    dropout_p: float = 0.0,
    training: bool = False,
) -> tuple[Tensor, Tensor]:
    """Attention ``softmax(q @ k^T * scale + mask) @ v``.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``. The leading ``...`` dims of the three tensors
            must broadcast together.
        mask: optional, broadcastable to ``(..., L, S)``; boolean (``True`` =
            allowed) or floating (added to the scores).
        scale: multiplies the scores; defaults to ``1 / sqrt(E)``.
        dropout_p: dropout probability on the weights, used only if ``training``.
        training: whether to apply dropout.

    Returns:
        ``(output, weights)`` with output ``(..., L, Ev)`` and weights
        ``(..., L, S)`` -- the weights actually applied to ``value`` (after
        dropout, if any). A query with no allowed key gets zero weights and a
        zero output.
    """
    for name, x in (("query", query), ("key", key), ("value", value)):
        _check_tensor(x, name)
        if x.dim() < 2:
            raise ValueError(
                f"{name}: expected a tensor with at least 2 dimensions, got shape {tuple(x.shape)}"
            )
    if not query.is_floating_point():
        raise TypeError(f"query: expected a floating dtype, got {query.dtype}")
    for name, x in (("key", key), ("value", value)):
        if x.dtype != query.dtype:
            raise TypeError(f"{name}: expected dtype {query.dtype} (same as query), got {x.dtype}")
    L, E = query.shape[-2:]
    S, Ek = key.shape[-2:]
    Sv, Ev = value.shape[-2:]
    if Ek != E:
        raise ValueError(
            f"key: expected shape (..., S, {E}) (last dim E equal to query's), got {tuple(key.shape)}"
        )
    if Sv != S:
        raise ValueError(
            f"value: expected shape (..., {S}, Ev) (S equal to key's), got {tuple(value.shape)}"
        )
    try:
        batch = torch.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except RuntimeError:
        raise ValueError(
            f"query, key, value: expected broadcastable batch dims (...), got "
            f"{tuple(query.shape[:-2])}, {tuple(key.shape[:-2])}, {tuple(value.shape[:-2])}"
        ) from None
    if mask is not None:
        mask = _check_mask(mask, torch.Size((*batch, L, S)), "(..., L, S)")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p: expected 0 <= dropout_p < 1, got {dropout_p}")
    if scale is None:
        scale = 1.0 / math.sqrt(E)

    scores = query @ key.transpose(-2, -1) * scale  # (..., L, S)
    weights = masked_softmax(scores, mask, dim=-1)  # (..., L, S)
    if training and dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p, training=True)
    output = weights @ value  # (..., L, Ev)
    return output, weights
