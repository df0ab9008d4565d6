"""The gradient of attention, written by hand and checked against autograd.

For one head, with scale ``s`` (``1 / sqrt(E)`` by default)::

    E = s Q K^T (+ mask)      A = softmax_rows(E)      O = A V

and an upstream gradient ``dO = dL/dO``, the backward pass is::

    dV = A^T dO                                  (..., S, Ev)
    dA = dO V^T                                  (..., L, S)
    dE = A * (dA - rowsum(dA * A))               the softmax Jacobian, row by row
    dQ = s dE K                                  (..., L, E)
    dK = s dE^T Q                                (..., S, E)

``dE`` follows from the softmax Jacobian ``dA_ts / dE_tr = A_ts (delta_sr - A_tr)``
(:func:`softmax_jacobian`). Masked entries have ``A = 0``, so they get no gradient;
a query with no allowed key gets a zero output and zero gradients, as in
:func:`atencion.functional.scaled_dot_product_attention`.

:class:`AttentionFunction` is a ``torch.autograd.Function`` with that backward. It
either keeps the ``(..., L, S)`` weights for the backward pass (``recompute=False``)
or keeps only ``Q, K, V`` and recomputes the weights there (``recompute=True``), as
memory-efficient kernels do: less memory, one more score computation.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ._checks import check_mask, check_tensor
from .functional import masked_softmax

__all__ = ["softmax_jacobian", "attention_backward", "AttentionFunction", "attention"]


def softmax_jacobian(weights: Tensor) -> Tensor:
    """The Jacobian of a row softmax from its output: ``J[..., s, r] = a_s (delta_sr - a_r)``.

    Args:
        weights: ``(..., S)`` softmax outputs ``a``.

    Returns:
        ``(..., S, S)``: entry ``[s, r]`` is ``d a_s / d e_r``.
    """
    weights = check_tensor(weights, "weights")
    if not weights.is_floating_point() or weights.dim() == 0:
        raise ValueError(f"weights: expected a floating tensor (..., S), got {weights.dtype} {tuple(weights.shape)}")
    return torch.diag_embed(weights) - weights[..., :, None] * weights[..., None, :]  # (..., S, S)


def _weights(query: Tensor, key: Tensor, mask: Tensor | None, scale: float) -> Tensor:
    scores = query @ key.transpose(-2, -1) * scale  # (..., L, S)
    return masked_softmax(scores, mask)  # (..., L, S)


def attention_backward(
    query: Tensor, key: Tensor, value: Tensor, weights: Tensor, grad_output: Tensor, scale: float
) -> tuple[Tensor, Tensor, Tensor]:
    """``(dQ, dK, dV)`` of attention from its inputs, its weights ``A (..., L, S)`` and the
    gradient of the output ``dO (..., L, Ev)`` (the equations of this module)."""
    grad_value = weights.transpose(-2, -1) @ grad_output  # dV = A^T dO          (..., S, Ev)
    grad_weights = grad_output @ value.transpose(-2, -1)  # dA = dO V^T          (..., L, S)
    row = (grad_weights * weights).sum(dim=-1, keepdim=True)  # rowsum(dA * A)   (..., L, 1)
    grad_scores = weights * (grad_weights - row)  # dE, the softmax Jacobian       (..., L, S)
    grad_query = scale * grad_scores @ key  # dQ = s dE K                          (..., L, E)
    grad_key = scale * grad_scores.transpose(-2, -1) @ query  # dK = s dE^T Q      (..., S, E)
    return grad_query, grad_key, grad_value


class AttentionFunction(torch.autograd.Function):
    """Scaled dot-product attention with a hand-written backward.

    ``AttentionFunction.apply(query, key, value, mask, scale, recompute) -> output``;
    prefer :func:`attention`, which checks its arguments.
    """

    @staticmethod
    def forward(ctx: Any, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, scale: float,
                recompute: bool) -> Tensor:
        weights = _weights(query, key, mask, scale)  # (..., L, S)
        ctx.scale, ctx.recompute, ctx.mask = scale, recompute, mask
        if recompute:  # keep O(L E) tensors only; the weights are computed again in backward
            ctx.save_for_backward(query, key, value)
        else:
            ctx.save_for_backward(query, key, value, weights)
        return weights @ value  # (..., L, Ev)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        if ctx.recompute:
            query, key, value = ctx.saved_tensors
            weights = _weights(query, key, ctx.mask, ctx.scale)
        else:
            query, key, value, weights = ctx.saved_tensors
        grad_query, grad_key, grad_value = attention_backward(query, key, value, weights, grad_output, ctx.scale)
        return grad_query, grad_key, grad_value, None, None, None


def attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None = None,
    *,
    scale: float | None = None,
    recompute: bool = False,
) -> Tensor:
    """Scaled dot-product attention ``softmax(s Q K^T + mask) V`` whose gradient is the
    hand-written :func:`attention_backward`.

    Args:
        query: ``(..., L, E)``; key: ``(..., S, E)``; value: ``(..., S, Ev)``, with the
            same leading dimensions.
        mask: optional, broadcastable to ``(..., L, S)``: bool (``True`` = allowed) or
            floating (added to the scores).
        scale: defaults to ``1 / sqrt(E)``.
        recompute: keep only ``Q, K, V`` for the backward pass and recompute the weights.

    Returns:
        ``(..., L, Ev)``.
    """
    for name, x in (("query", query), ("key", key), ("value", value)):
        check_tensor(x, name)
        if not x.is_floating_point() or x.dim() < 2:
            raise ValueError(f"{name}: expected a floating tensor with at least 2 dimensions, got "
                             f"{x.dtype} {tuple(x.shape)}")
    L, E = query.shape[-2:]
    S = key.shape[-2]
    if key.shape[:-2] != query.shape[:-2] or value.shape[:-2] != query.shape[:-2] or key.shape[-1] != E \
            or value.shape[-2] != S:
        raise ValueError(
            f"query, key, value: expected shapes (..., L, E), (..., S, E), (..., S, Ev) with the same leading "
            f"dimensions, got {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        )
    if mask is not None:
        check_mask(mask, torch.Size((*query.shape[:-2], L, S)), "(..., L, S)")
    if not isinstance(recompute, bool):
        raise TypeError(f"recompute: expected a bool, got {type(recompute).__name__}")
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    return AttentionFunction.apply(query, key, value, mask, scale, recompute)
