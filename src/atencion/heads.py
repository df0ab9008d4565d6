"""Multi-head attention: ``d_model`` split into ``h`` heads of ``d_head = d_model / h``.

One fused projection computes the queries, keys and values of every head at once
(no loop over heads); the heads attend in parallel as one ``(B, h, L, S)`` batch
of scaled dot-product attentions; their outputs are concatenated and projected::

    Q, K, V = X W_q^T, X W_k^T, X W_v^T                      # (B, L, d_model) each
    Q -> (B, h, L, d_head), K, V -> (B, h, S, d_head)
    head_m = softmax(Q_m K_m^T / sqrt(d_head) [+ bias] [masked]) V_m
    Y = concat(head_1, ..., head_h) W_o^T                    # (B, L, d_model)

The parameters are laid out as in ``torch.nn.MultiheadAttention``
(``in_proj_weight (3 d_model, d_model)``, ``in_proj_bias``, ``out_proj``), so
weights can be copied between the two. Masks follow the book's convention:
``True`` = attention allowed (``nn.MultiheadAttention`` uses the opposite).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import (
    check_bool,
    check_dropout,
    check_indices,
    check_int,
    check_mask,
    check_sequence,
    reject_key_padding_mask,
)
from .functional import (
    combine_masks,
    fused_attention,
    masked_softmax,
    relative_attention,
    scaled_dot_product_attention,
)
from .positional import RelativePositionEmbedding, RotaryEmbedding

__all__ = ["MultiHeadAttention", "KVCache", "CollaborativeAttention", "ablate_heads"]


class KVCache:
    """The keys and values one attention layer has computed so far, ``(B, h, S, d_head)``.

    Pass the same cache to every incremental call of a layer's self-attention:
    the new positions' keys and values are appended, so each decoding step
    projects only its new tokens instead of the whole prefix.
    """

    def __init__(self) -> None:
        self.keys: Tensor | None = None
        self.values: Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.keys is None else self.keys.shape[-2]

    def append(self, keys: Tensor, values: Tensor) -> tuple[Tensor, Tensor]:
        """Add ``(B, h, l, d_head)`` keys and values; return all of them, ``(B, h, S + l, d_head)``."""
        if self.keys is None:
            self.keys, self.values = keys, values
        else:
            self.keys = torch.cat([self.keys, keys], dim=-2)
            self.values = torch.cat([self.values, values], dim=-2)
        return self.keys, self.values

    def reorder(self, index: Tensor) -> None:
        """Keep the batch rows ``index (B',)`` in that order (beam search moves
        hypotheses between rows after each step); an empty cache stays empty."""
        if not isinstance(index, Tensor) or index.dim() != 1 or index.is_floating_point() or index.dtype == torch.bool:
            got = getattr(index, "shape", type(index).__name__)
            raise TypeError(f"index: expected a 1-D integer tensor of batch rows, got {got!r}")
        if self.keys is not None:
            self.keys = self.keys.index_select(0, index)
            self.values = self.values.index_select(0, index)


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention, batch-first, for self- and cross-attention.

    Args:
        d_model: model width; must be divisible by ``num_heads``.
        num_heads: number of heads ``h``; each has ``d_head = d_model / h``.
        bias: biases in the input and output projections.
        dropout: dropout on the attention weights (training only).
        rotary: optional :class:`~atencion.positional.RotaryEmbedding` of size
            ``d_head``, applied to every head's queries and keys.
        relative: optional :class:`~atencion.positional.RelativePositionEmbedding`
            of size ``d_head`` (Shaw et al.), shared by the heads.

    ``forward(query, key=None, value=None, *, mask=None, key_mask=None,
    attn_bias=None, need_weights=True) -> (output (B, L, d_model), weights)``.
    ``key``/``value`` default to ``query`` (self-attention). ``mask`` is
    broadcastable to ``(B, h, L, S)`` -- e.g. ``(L, S)`` -- and ``True`` where
    attention is allowed; ``key_mask (B, S)`` is ``True`` at real keys, in the
    same convention. PyTorch's ``key_padding_mask`` means the opposite (``True``
    at padding): pass ``key_mask=~key_padding_mask``. Passing
    ``key_padding_mask`` itself raises, so code ported from PyTorch cannot run
    with the meaning flipped;
    ``attn_bias`` (e.g. ALiBi's ``(h, L, S)``) is added to the scores.
    ``weights`` are per head, ``(B, h, L, S)``, or ``None`` when
    ``need_weights=False``, which takes PyTorch's fused kernel.

    Incremental decoding: with ``cache=KVCache()`` (self-attention only), the
    ``L`` new positions attend to the cached ones too, ``S = len(cache) + L``,
    and their keys and values are appended to the cache; masks and biases then
    refer to ``(L, S)`` (e.g. ``causal_mask(L, S)``).
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        *,
        bias: bool = True,
        dropout: float = 0.0,
        rotary: RotaryEmbedding | None = None,
        relative: RelativePositionEmbedding | None = None,
    ) -> None:
        super().__init__()
        self.d_model = check_int(d_model, "d_model")
        self.num_heads = check_int(num_heads, "num_heads")
        if d_model % num_heads:
            raise ValueError(f"num_heads: expected a divisor of d_model = {d_model}, got {num_heads}")
        self.d_head = d_model // num_heads
        check_bool(bias, "bias")
        self.dropout = check_dropout(dropout)
        if rotary is not None and (not isinstance(rotary, RotaryEmbedding) or rotary.d_head != self.d_head):
            raise ValueError(f"rotary: expected a RotaryEmbedding of size d_head = {self.d_head}, got {rotary!r}")
        self.rotary = rotary
        if relative is not None and (
            not isinstance(relative, RelativePositionEmbedding) or relative.d_head != self.d_head
        ):
            raise ValueError(
                f"relative: expected a RelativePositionEmbedding of size d_head = {self.d_head}, got {relative!r}"
            )
        self.relative = relative
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d_model, d_model))  # [W_q; W_k; W_v]
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model)) if bias else None
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)  # W_o
        nn.init.xavier_uniform_(self.in_proj_weight)
        if bias:
            nn.init.zeros_(self.out_proj.bias)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Queries, keys and values of all heads: ``(B, h, L or S, d_head)``."""
        E = self.d_model
        if query is key and key is value:  # self-attention: one fused matrix product
            q, k, v = F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        else:
            w_q, w_k, w_v = self.in_proj_weight.split(E)
            b_q, b_k, b_v = self.in_proj_bias.split(E) if self.in_proj_bias is not None else (None,) * 3
            q = F.linear(query, w_q, b_q)
            if key is value:
                k, v = F.linear(key, torch.cat([w_k, w_v]), None if b_k is None else torch.cat([b_k, b_v])).chunk(2, -1)
            else:
                k, v = F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)
        B = query.shape[0]

        def split(t: Tensor) -> Tensor:  # (B, n, d_model) -> (B, h, n, d_head)
            return t.view(B, t.shape[1], self.num_heads, self.d_head).transpose(1, 2)

        return split(q), split(k), split(v)  # (B, h, L, d_head), (B, h, S, d_head) x 2

    def _check_inputs(
        self, query: Tensor, key: Tensor | None, value: Tensor | None, cache: KVCache | None
    ) -> tuple[Tensor, Tensor]:
        """Keys and values (defaulting to the queries), checked against the queries and the cache."""
        if cache is not None:
            if not isinstance(cache, KVCache):
                raise TypeError(f"cache: expected a KVCache, got {type(cache).__name__}")
            if key is not None or value is not None:
                raise ValueError("cache: only for self-attention (leave key and value as None)")
            if len(cache) and cache.keys.shape[0] != query.shape[0]:
                raise ValueError(f"cache: holds a batch of {cache.keys.shape[0]}, got queries for {query.shape[0]}")
        key = query if key is None else key
        value = key if value is None else value
        for name, x in (("query", query), ("key", key), ("value", value)):
            check_sequence(x, name, self.d_model)
        if key.shape[0] != query.shape[0] or value.shape[:2] != key.shape[:2]:
            raise ValueError(
                f"key, value: expected shapes (B={query.shape[0]}, S, d_model) with the same S, got "
                f"{tuple(key.shape)} and {tuple(value.shape)}"
            )
        return key, value

    def forward(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        *,
        mask: Tensor | None = None,
        key_mask: Tensor | None = None,
        attn_bias: Tensor | None = None,
        need_weights: bool = True,
        cache: KVCache | None = None,
        key_padding_mask: object = None,
    ) -> tuple[Tensor, Tensor | None]:
        reject_key_padding_mask(key_padding_mask)
        key, value = self._check_inputs(query, key, value, cache)
        if self.relative is not None and attn_bias is not None:
            raise ValueError("attn_bias: not supported together with relative position embeddings")
        if self.relative is not None and self.training and self.dropout > 0:
            raise ValueError("dropout: not supported together with relative position embeddings")
        B, L, _ = query.shape
        S = key.shape[1] + (0 if cache is None else len(cache))
        target = torch.Size((B, self.num_heads, L, S))
        combined = combine_masks(mask, key_mask, attn_bias, target=target, dtype=query.dtype)

        q, k, v = self._project(query, key, value)  # (B, h, L, d_head), (B, h, S - len(cache), d_head) x 2
        if self.rotary is not None:
            new = torch.arange(S - L, S, device=q.device)  # positions of the new tokens
            q, k = self.rotary(q, k, q_positions=new, k_positions=new if cache is not None else None)
        if cache is not None:
            k, v = cache.append(k, v)  # (B, h, S, d_head)
        p = self.dropout if self.training else 0.0
        if self.relative is not None:
            rel_k, rel_v = self.relative(L, S)  # (L, S, d_head) each
            heads, weights = relative_attention(q, k, v, rel_k, rel_v, combined)
        elif need_weights:  # the readable path: the weights of every head
            heads, weights = scaled_dot_product_attention(q, k, v, combined, dropout_p=p, training=self.training)
        else:  # PyTorch's fused kernel
            heads, weights = fused_attention(q, k, v, combined, dropout_p=p), None
        concat = heads.transpose(1, 2).reshape(B, L, self.d_model)  # (B, L, h d_head)
        return self.out_proj(concat), (weights if need_weights else None)  # (B, h, L, S) or None

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, num_heads={self.num_heads}, dropout={self.dropout}"


class CollaborativeAttention(nn.Module):
    """Collaborative multi-head self-attention (Cordonnier et al., 2020).

    All heads share one query and one key projection to ``d_shared`` dimensions;
    head ``m`` re-weights their coordinates with its own mixing vector ``mix[m]``::

        scores_m = (X W_q^T) diag(mix[m]) (X W_k^T)^T / sqrt(d_shared)

    Values and the output projection are as in :class:`MultiHeadAttention`. With
    ``d_shared = d_model`` and ``mix[m]`` the indicator of head ``m``'s block of
    coordinates, this is ordinary multi-head attention (with the scale
    ``1 / sqrt(d_shared)``); with a smaller ``d_shared`` the heads share what they
    would otherwise learn ``h`` times.

    ``forward(x (B, L, d_model), mask=None) -> (y (B, L, d_model), weights (B, h, L, L))``.
    """

    def __init__(self, d_model: int, num_heads: int, d_shared: int, *, bias: bool = True) -> None:
        super().__init__()
        self.d_model = check_int(d_model, "d_model")
        self.num_heads = check_int(num_heads, "num_heads")
        if d_model % num_heads:
            raise ValueError(f"num_heads: expected a divisor of d_model = {d_model}, got {num_heads}")
        self.d_shared = check_int(d_shared, "d_shared")
        self.d_head = d_model // num_heads
        self.W_q = nn.Linear(d_model, d_shared, bias=bias)
        self.W_k = nn.Linear(d_model, d_shared, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.mix = nn.Parameter(torch.ones(num_heads, d_shared))  # one mixing vector per head
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        check_sequence(x, "x", self.d_model)
        B, L, _ = x.shape
        q, k = self.W_q(x), self.W_k(x)  # (B, L, d_shared) each, shared by the heads
        scores = torch.einsum("bld,hd,bsd->bhls", q, self.mix, k) / math.sqrt(self.d_shared)  # (B, h, L, L)
        if mask is not None:
            mask = check_mask(mask, scores.shape, "(B, h, L, L)")
        v = self.W_v(x).view(B, L, self.num_heads, self.d_head).transpose(1, 2)  # (B, h, L, d_head)
        weights = masked_softmax(scores, mask)  # (B, h, L, L)
        heads = weights @ v  # (B, h, L, d_head)
        return self.out_proj(heads.transpose(1, 2).reshape(B, L, self.d_model)), weights


def ablate_heads(attention: MultiHeadAttention, heads: Iterable[int]) -> MultiHeadAttention:
    """A copy of ``attention`` in which the heads ``heads`` contribute nothing.

    Their column blocks of ``out_proj.weight`` are zeroed (the output bias is
    kept): since ``concat(head_1..head_h) W_o^T = sum_m head_m (W_o^m)^T``, this
    removes exactly their terms from the output. ``attention`` is not modified.
    """
    if not isinstance(attention, MultiHeadAttention):
        raise TypeError(f"attention: expected a MultiHeadAttention, got {type(attention).__name__}")
    heads = check_indices(heads, attention.num_heads, "heads")
    ablated = copy.deepcopy(attention)
    with torch.no_grad():
        for m in heads:
            ablated.out_proj.weight[:, m * attention.d_head:(m + 1) * attention.d_head] = 0
    return ablated
