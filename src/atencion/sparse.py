"""Sparse and efficient attention: patterns, and computations that really save memory.

The sparse patterns themselves (``local_mask``, ``strided_mask``, ``fixed_mask``,
after Child et al., 2019) are masks and live in :mod:`atencion.masks`; they are
importable from here too. :func:`reachability` tells which positions a stack of
masked layers connects.

Computations whose memory is not ``O(L^2)``:

- :func:`sliding_window_attention`: each query against its own ``window`` keys
  only, ``O(L * window)`` scores; equal to dense attention with :func:`local_mask`;
- :func:`tiled_attention`: exact attention computed tile by tile with an online
  softmax (the idea behind FlashAttention, Dao et al., 2022): all ``L`` queries
  against one block of keys at a time, so it never holds more than one
  ``(L, block)`` tile of scores (FlashAttention also splits the queries, into
  ``(block, block)`` tiles);
- :class:`LinformerSelfAttention` (Wang et al., 2020): keys and values projected
  from ``L`` down to ``k`` positions, ``O(L * k)`` scores.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import check_bool, check_int, check_qkv
from .masks import fixed_mask, local_mask, strided_mask

__all__ = [
    "local_mask", "strided_mask", "fixed_mask", "reachability", "sliding_window_attention",
    "tiled_attention", "LinformerSelfAttention",
]


def reachability(mask: Tensor, layers: int) -> Tensor:
    """Which keys can reach which queries through ``layers`` stacked attention layers.

    Entry ``[n - 1, i, j]`` is ``True`` when information at position ``j`` can
    reach position ``i`` after ``n`` layers that all use ``mask`` (``(L, L)``,
    ``True`` = allowed): the boolean matrix power ``[M^n > 0]``. Returns
    ``(layers, L, L)`` bool.
    """
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.dim() != 2 or mask.shape[0] != mask.shape[1]:
        raise ValueError(
            f"mask: expected a square bool tensor (L, L), got {getattr(mask, 'shape', type(mask).__name__)}"
        )
    check_int(layers, "layers")
    M = mask.to(torch.float64)
    reach, out = M, [mask]
    for _ in range(layers - 1):  # one boolean product per layer
        reach = ((reach @ M) > 0).to(torch.float64)
        out.append(reach > 0)
    return torch.stack(out)


def sliding_window_attention(query: Tensor, key: Tensor, value: Tensor, window: int, *, causal: bool = True) -> Tensor:
    """Exact attention restricted to :func:`local_mask`, in ``O(L * window)`` memory.

    The keys and values of each query's window are gathered with ``unfold`` into
    ``(..., L, W, d)`` (``W = window`` causal, ``2 window - 1`` otherwise); only
    those ``W`` scores per query are ever formed.

    Args:
        query, key: ``(..., L, d)``; value: ``(..., L, d_v)`` (self-attention: same ``L``).

    Returns:
        ``(..., L, d_v)``.
    """
    L, d = check_qkv(query, key, value)
    check_int(window, "window")
    check_bool(causal, "causal")
    before, after = (window - 1, 0) if causal else (window - 1, window - 1)
    W = before + after + 1
    # pad the sequence axis so every query has a full window; padded slots are masked below
    def pad(t: Tensor) -> Tensor:  # (..., L + W - 1, d)
        return F.pad(t.transpose(-1, -2), (before, after)).transpose(-1, -2)

    k_win = pad(key).unfold(-2, W, 1).transpose(-1, -2)  # (..., L, W, d): keys i - before .. i + after
    v_win = pad(value).unfold(-2, W, 1).transpose(-1, -2)  # (..., L, W, d_v)
    scores = (query[..., None, :] @ k_win.transpose(-1, -2)).squeeze(-2) / math.sqrt(d)  # (..., L, W)
    offsets = torch.arange(W, device=query.device) - before  # j - i for each slot
    j = torch.arange(L, device=query.device)[:, None] + offsets[None, :]  # (L, W)
    valid = (j >= 0) & (j < L)  # slots that fall on real positions
    scores = scores.masked_fill(~valid, float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (..., L, W): never empty, the query itself is valid
    return (weights[..., None, :] @ v_win).squeeze(-2)  # (..., L, d_v)


def tiled_attention(query: Tensor, key: Tensor, value: Tensor, *, block: int = 64, causal: bool = False) -> Tensor:
    """Exact softmax attention computed by tiles with an online softmax.

    For each tile of ``block`` keys, the running maximum ``m``, normaliser ``l``
    and un-normalised output ``acc`` of every query are updated::

        m_new = max(m, rowmax(S_tile));  scale = exp(m - m_new)
        l = l * scale + rowsum(exp(S_tile - m_new))
        acc = acc * scale + exp(S_tile - m_new) @ V_tile

    and the output is ``acc / l``. Only one ``(L, block)`` tile of scores exists
    at a time. (FlashAttention also tiles the queries and fuses everything in
    one GPU kernel; the arithmetic is the same.) The Python loop runs over key
    tiles, ``ceil(L / block)`` iterations, not over positions.

    Args:
        query: ``(..., L, d)``; key: ``(..., S, d)``; value: ``(..., S, d_v)``.
        causal: query ``i`` sees keys ``j <= i + S - L``.

    Returns:
        ``(..., L, d_v)``, equal to ``F.scaled_dot_product_attention``.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise TypeError(f"{name}: expected a floating torch.Tensor, got {getattr(t, 'dtype', type(t).__name__)}")
    L, d = query.shape[-2:]
    S = key.shape[-2]
    if key.shape[-1] != d or value.shape[-2] != S:
        raise ValueError(
            f"key, value: expected (..., S, {d}) and (..., S, d_v), got {tuple(key.shape)}, {tuple(value.shape)}"
        )
    check_int(block, "block")
    check_bool(causal, "causal")
    q = query / math.sqrt(d)
    m = torch.full((*query.shape[:-1], 1), float("-inf"), dtype=query.dtype, device=query.device)  # (..., L, 1)
    l = torch.zeros_like(m)  # (..., L, 1)
    acc = torch.zeros((*query.shape[:-1], value.shape[-1]), dtype=query.dtype, device=query.device)
    rows = torch.arange(L, device=query.device)[:, None] + (S - L)  # (L, 1) last visible key
    for start in range(0, S, block):  # one tile of keys at a time
        k_tile, v_tile = key[..., start:start + block, :], value[..., start:start + block, :]
        s = q @ k_tile.transpose(-1, -2)  # (..., L, b)
        if causal:
            cols = torch.arange(start, start + k_tile.shape[-2], device=query.device)[None, :]
            s = s.masked_fill(cols > rows, float("-inf"))
        m_new = torch.maximum(m, s.amax(dim=-1, keepdim=True))  # (..., L, 1)
        safe = torch.where(torch.isinf(m_new), torch.zeros_like(m_new), m_new)  # rows with nothing yet
        p = torch.exp(s - safe)  # (..., L, b)
        scale = torch.exp(m - safe)  # (..., L, 1); exp(-inf) = 0 on the first tile
        l = l * scale + p.sum(dim=-1, keepdim=True)
        acc = acc * scale + p @ v_tile
        m = m_new
    return acc / l.clamp_min(torch.finfo(l.dtype).tiny) * (l > 0)  # a query with no key gets 0


class LinformerSelfAttention(nn.Module):
    """Linformer self-attention (Wang et al., 2020), multi-head.

    Keys and values are projected along the *sequence* axis from ``max_len``
    positions to ``k`` with learned matrices ``E, F (k, max_len)`` shared by the
    heads: scores are ``(L, k)`` instead of ``(L, L)``. Not exact attention: a
    low-rank approximation, trained as such. Inputs shorter than ``max_len`` use
    the first ``L`` columns of ``E`` and ``F``.

    ``forward(x (B, L, d_model)) -> (B, L, d_model)``.
    """

    def __init__(self, d_model: int, num_heads: int, max_len: int, k: int) -> None:
        super().__init__()
        self.d_model, self.num_heads = check_int(d_model, "d_model"), check_int(num_heads, "num_heads")
        if d_model % num_heads:
            raise ValueError(f"num_heads: expected a divisor of d_model = {d_model}, got {num_heads}")
        self.max_len, self.k = check_int(max_len, "max_len"), check_int(k, "k")
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.E = nn.Parameter(torch.randn(k, max_len) / math.sqrt(k))  # keys: L -> k
        self.F = nn.Parameter(torch.randn(k, max_len) / math.sqrt(k))  # values: L -> k
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != self.d_model:
            raise ValueError(
                f"x: expected a tensor (B, L, {self.d_model}), got {getattr(x, 'shape', type(x).__name__)}"
            )
        B, L, _ = x.shape
        if L > self.max_len:
            raise ValueError(f"x: expected at most max_len = {self.max_len} positions, got {L}")
        h, dh = self.num_heads, self.d_model // self.num_heads
        q, k, v = self.qkv(x).view(B, L, 3, h, dh).permute(2, 0, 3, 1, 4)  # (B, h, L, dh) each
        k = self.E[:, :L] @ k  # (B, h, k, dh): L positions mixed into k
        v = self.F[:, :L] @ v  # (B, h, k, dh)
        y = F.scaled_dot_product_attention(q, k, v)  # (B, h, L, dh) via (L, k) scores
        return self.out(y.transpose(1, 2).reshape(B, L, self.d_model))
