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

from ._checks import check_key_mask, check_mask, check_tensor

__all__ = [
    "masked_softmax", "scaled_dot_product_attention", "combine_masks", "fused_attention", "relative_attention",
]


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
    scores = check_tensor(scores, "scores")
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
        mask = check_mask(mask, scores.shape, "(same shape as scores)")
    return _softmax_masked(scores, mask, dim, overwrite=False)


def _softmax_masked(scores: Tensor, mask: Tensor | None, dim: int, *, overwrite: bool) -> Tensor:
    """:func:`masked_softmax` without the checks. With ``overwrite``, ``scores`` is a
    temporary of the caller's and is reused for the mask and, when no gradient is
    recorded, for the weights (as PyTorch's own attention does): fewer large
    allocations, the same values."""
    if mask is not None and overwrite and torch.broadcast_shapes(scores.shape, mask.shape) != scores.shape:
        overwrite = False  # the mask widens the scores: a new tensor is needed anyway
    if mask is not None:
        if mask.dtype == torch.bool:
            fill = scores.masked_fill_ if overwrite else scores.masked_fill
            scores = fill(~mask, float("-inf"))
        else:
            scores = scores.add_(mask.to(scores.dtype)) if overwrite else scores + mask.to(scores.dtype)
    # A slice whose entries are all -inf would give 0/0 = NaN: give it neutral
    # scores (zeros) for the softmax, then zero its weights. masked_fill blocks
    # the gradient into the filled entries, so gradients stay finite.
    # Most calls have no such slice: find them with one reduction (its maximum is
    # -inf), and only then pay for the two fills.
    empty = torch.isneginf(scores.detach().amax(dim=dim, keepdim=True))
    if not empty.any():
        if overwrite and not (torch.is_grad_enabled() and scores.requires_grad):
            return torch.softmax(scores, dim, out=scores)
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
        check_tensor(x, name)
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
        mask = check_mask(mask, torch.Size((*batch, L, S)), "(..., L, S)")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p: expected 0 <= dropout_p < 1, got {dropout_p}")
    if scale is None:
        scale = 1.0 / math.sqrt(E)

    scores = (query @ key.transpose(-2, -1)).mul_(scale)  # (..., L, S), scaled in place
    weights = _softmax_masked(scores, mask, -1, overwrite=True)  # (..., L, S)
    if training and dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p, training=True)
    output = weights @ value  # (..., L, Ev)
    return output, weights


def combine_masks(
    mask: Tensor | None,
    key_mask: Tensor | None,
    attn_bias: Tensor | None,
    *,
    target: torch.Size,
    dtype: torch.dtype,
) -> Tensor | None:
    """The one mask a ``(B, h, L, S)`` attention applies, from the three it may be given
    (the book's counterpart of PyTorch's ``F._canonical_mask``).

    Args:
        mask: bool, broadcastable to ``target``, ``True`` where attention is allowed.
        key_mask: ``(B, S)`` bool, ``True`` at real keys.
        attn_bias: floating, broadcastable to ``target``, added to the scores.
        target: the score shape ``(B, h, L, S)``.
        dtype: the scores' dtype (that of an additive mask).

    Returns:
        ``None`` if nothing is masked; a bool mask (``True`` = allowed) if there is no
        bias; else an additive mask: the bias where allowed, ``-inf`` elsewhere.
    """
    B, S = target[0], target[-1]
    allowed = None
    if mask is not None:
        allowed = check_mask(mask, target, "(B, h, L, S)")
        if allowed.dtype != torch.bool:
            raise TypeError(
                f"mask: expected a bool tensor (True = allowed), got {allowed.dtype}; use attn_bias for additive masks"
            )
    if key_mask is not None:
        real = check_key_mask(key_mask, B, S)[:, None, None, :]  # (B, 1, 1, S)
        allowed = real if allowed is None else allowed & real
    if attn_bias is None:
        return allowed
    attn_bias = check_mask(attn_bias, target, "(B, h, L, S)", name="attn_bias")
    if not attn_bias.is_floating_point():
        raise TypeError(f"attn_bias: expected a floating tensor, got {attn_bias.dtype}")
    combined = attn_bias.to(dtype)
    return combined if allowed is None else combined.masked_fill(~allowed, float("-inf"))


def fused_attention(
    query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None, *, dropout_p: float = 0.0
) -> Tensor:
    """PyTorch's fused ``F.scaled_dot_product_attention`` (no weights returned), with the
    book's conventions: ``mask`` bool (``True`` = allowed) or additive, and a query with
    no allowed key gets a zero output, as in :func:`scaled_dot_product_attention`
    (depending on its version and backend, PyTorch's kernel may give NaN there).

    Shapes: query ``(..., L, E)``, key ``(..., S, E)``, value ``(..., S, Ev)`` ->
    ``(..., L, Ev)``.
    """
    empty = None
    if mask is not None and mask.dtype == torch.bool:
        empty = ~mask.any(-1, keepdim=True)  # (..., L, 1)
        mask = mask | empty
    elif mask is not None:
        empty = torch.isneginf(mask).all(-1, keepdim=True)
        mask = mask.masked_fill(empty, 0.0)
    output = F.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout_p)
    return output if empty is None else output.masked_fill(empty, 0.0)


def relative_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    rel_keys: Tensor,
    rel_values: Tensor,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Attention with relative position representations (Shaw et al., 2018).

    ``e_ij = q_i . (k_j + a^K_ij) / sqrt(d)``, ``alpha = softmax_j(e)``,
    ``y_i = sum_j alpha_ij (v_j + a^V_ij)``.

    Args:
        query: ``(..., L, d)``; key, value: ``(..., S, d)``.
        rel_keys, rel_values: ``(L, S, d)`` from :class:`RelativePositionEmbedding`.
        mask: optional, broadcastable to ``(..., L, S)`` (``True`` = allowed).

    Returns:
        ``(output (..., L, d), weights (..., L, S))``.
    """
    for name, t in (("query", query), ("key", key), ("value", value),
                    ("rel_keys", rel_keys), ("rel_values", rel_values)):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise TypeError(f"{name}: expected a floating torch.Tensor, got {getattr(t, 'dtype', type(t).__name__)}")
    L, d = query.shape[-2:]
    S = key.shape[-2]
    if key.shape[-1] != d or value.shape[-2:] != (S, d):
        raise ValueError(f"key, value: expected shapes (..., S, {d}), got {tuple(key.shape)} and {tuple(value.shape)}")
    for name, t in (("rel_keys", rel_keys), ("rel_values", rel_values)):
        if t.shape != (L, S, d):
            raise ValueError(f"{name}: expected shape ({L}, {S}, {d}), got {tuple(t.shape)}")
    scores = query @ key.transpose(-2, -1)  # (..., L, S): content
    scores = scores + torch.einsum("...ld,lsd->...ls", query, rel_keys)  # + position
    scores = scores / math.sqrt(d)
    if mask is not None:
        mask = check_mask(mask, scores.shape, "(..., L, S)")
    weights = masked_softmax(scores, mask)  # (..., L, S)
    output = weights @ value + torch.einsum("...ls,lsd->...ld", weights, rel_values)  # (..., L, d)
    return output, weights
