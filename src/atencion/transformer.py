"""Transformer blocks and a small sequence model built from them.

:class:`EncoderBlock` is one layer: self-attention and a feed-forward network,
each wrapped in a residual connection and a normalisation, in one of three
arrangements:

- post-norm (Vaswani et al., 2017): ``x = norm1(x + attn(x)); x = norm2(x + ff(x))``;
- pre-norm: ``x = x + attn(norm1(x)); x = x + ff(norm2(x))``, used in practice
  before it was analysed (GPT-2, Radford et al., 2019; Baevski and Auli, 2019;
  Wang et al., 2019) and analysed by Xiong et al. (2020);
- parallel (Chowdhery et al., 2023, PaLM): ``x = x + attn(norm1(x)) + ff(norm1(x))``.

Its state dict has the keys of ``torch.nn.TransformerEncoderLayer``
(``self_attn.*``, ``linear1.*``, ``linear2.*``, ``norm1.*``, ``norm2.*``), so
``load_state_dict`` moves weights between the two in either direction.
:class:`DecoderBlock` is the decoder's layer: causal self-attention, cross-attention
to the encoder's output and a feed-forward network, with the keys of
``torch.nn.TransformerDecoderLayer`` (``multihead_attn.*`` and ``norm3.*`` added).
:class:`SequenceTransformer` stacks blocks over token embeddings with any of the
position methods of :mod:`atencion.positional`.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from ._checks import check_bool, check_dropout, check_int, reject_key_padding_mask
from .heads import KVCache, MultiHeadAttention
from .masks import causal_mask
from .norm import Activation, FeedForward, make_norm
from .positional import (
    LearnedPositionalEmbedding,
    RelativePositionEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    alibi_bias,
    embed_tokens,
)
from .sparse import local_mask

__all__ = ["EncoderBlock", "DecoderBlock", "SequenceTransformer", "POSITIONS", "xavier_init_"]

Position = Literal["none", "sinusoidal", "learned", "rope", "alibi", "relative"]
POSITIONS: tuple[str, ...] = ("none", "sinusoidal", "learned", "rope", "alibi", "relative")


_FF_KEYS = ("linear1.", "linear2.")


def _ff_keys_to_torch(module: nn.Module, state_dict: dict, prefix: str, local_metadata: dict) -> None:
    """``{prefix}ff.linear1.*`` -> ``{prefix}linear1.*`` (and ``linear2``) in a saved state dict."""
    for key in [k for k in state_dict if k.startswith(prefix + "ff.")]:
        rest = key[len(prefix) + 3:]
        if rest.startswith(_FF_KEYS):
            state_dict[prefix + rest] = state_dict.pop(key)


def _ff_keys_from_torch(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    """``{prefix}linear1.*`` -> ``{prefix}ff.linear1.*`` before loading (either naming is accepted)."""
    for key in [k for k in state_dict if k.startswith(tuple(prefix + name for name in _FF_KEYS))]:
        state_dict[prefix + "ff." + key[len(prefix):]] = state_dict.pop(key)


class EncoderBlock(nn.Module):
    """One transformer layer ``(B, L, d_model) -> (B, L, d_model)``.

    Args:
        d_model, num_heads, d_ff: widths; ``d_ff`` is the feed-forward's hidden size.
        norm_first: pre-norm (``True``) or post-norm (``False``, the default, as
            in ``torch.nn.TransformerEncoderLayer``).
        parallel: PaLM's parallel block (needs ``norm_first``; one normalisation).
        activation: ``"relu"``, ``"gelu"`` or ``"swiglu"``.
        norm: ``"layer"`` or ``"rms"``.
        dropout: on the attention weights and after each sublayer (training only).
        eps: the normalisations' epsilon.
        rotary, relative: optional position modules passed to the attention.

    ``forward(x, *, mask=None, key_mask=None, attn_bias=None) -> (y, weights)``
    with the masks of :class:`~atencion.heads.MultiHeadAttention` (``True`` =
    allowed; ``key_mask`` is ``True`` at real keys) and per-head weights
    ``(B, h, L, L)``.

    The state dict uses ``torch.nn.TransformerEncoderLayer``'s keys
    (``linear1.*``, ``linear2.*`` for the feed-forward network held in ``ff``),
    so weights load directly in both directions with ``load_state_dict``
    (ReLU/GELU blocks with layer normalisation; SwiGLU adds ``ff.gate.*`` and
    RMSNorm has no bias, which PyTorch's layer does not have).
    """

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        d_ff: int,
        *,
        norm_first: bool = False,
        parallel: bool = False,
        activation: Activation = "relu",
        norm: str = "layer",
        dropout: float = 0.0,
        eps: float = 1e-5,
        rotary: RotaryEmbedding | None = None,
        relative: RelativePositionEmbedding | None = None,
    ) -> None:
        super().__init__()
        check_bool(norm_first, "norm_first")
        check_bool(parallel, "parallel")
        if parallel and not norm_first:
            raise ValueError("parallel: the parallel block normalises its input first; set norm_first=True")
        self.norm_first, self.parallel = norm_first, parallel
        p = check_dropout(dropout)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=p, rotary=rotary, relative=relative)
        self.ff = FeedForward(d_model, d_ff, activation=activation, dropout=p)
        self.norm1 = make_norm(norm, d_model, eps=eps)
        self.norm2 = None if parallel else make_norm(norm, d_model, eps=eps)
        self.dropout1, self.dropout2 = nn.Dropout(p), nn.Dropout(p)
        # state-dict keys as in torch.nn.TransformerEncoderLayer: ff.linear1.* <-> linear1.*
        self.register_state_dict_post_hook(_ff_keys_to_torch)
        self.register_load_state_dict_pre_hook(_ff_keys_from_torch)

    @property
    def linear1(self) -> nn.Linear:
        return self.ff.linear1

    @property
    def linear2(self) -> nn.Linear:
        return self.ff.linear2

    def _attend(self, x: Tensor, **masks) -> tuple[Tensor, Tensor]:
        y, w = self.self_attn(x, **masks)
        return self.dropout1(y), w

    def forward(self, x: Tensor, *, mask: Tensor | None = None, key_mask: Tensor | None = None,
                attn_bias: Tensor | None = None, cache: KVCache | None = None,
                need_weights: bool = True, key_padding_mask: object = None) -> tuple[Tensor, Tensor | None]:
        reject_key_padding_mask(key_padding_mask)
        masks = dict(mask=mask, key_mask=key_mask, attn_bias=attn_bias, cache=cache,
                     need_weights=need_weights)
        if self.parallel:
            h = self.norm1(x)
            a, w = self._attend(h, **masks)
            return x + a + self.dropout2(self.ff(h)), w
        if self.norm_first:
            a, w = self._attend(self.norm1(x), **masks)
            x = x + a
            return x + self.dropout2(self.ff(self.norm2(x))), w
        a, w = self._attend(x, **masks)
        x = self.norm1(x + a)
        return self.norm2(x + self.dropout2(self.ff(x))), w


class DecoderBlock(nn.Module):
    """One decoder layer ``(B, T, d_model), memory (B, S, d_model) -> (B, T, d_model)``.

    Three sublayers, each in a residual connection with a normalisation: masked
    self-attention over the target prefix, cross-attention whose queries are the
    target positions and whose keys and values are the encoder's output
    (``memory``), and the feed-forward network. Post-norm (the default, as in
    Vaswani et al. and ``torch.nn.TransformerDecoderLayer``)::

        x = norm1(x + self_attn(x)); x = norm2(x + cross_attn(x, memory)); x = norm3(x + ff(x))

    or pre-norm (``norm_first=True``): ``x = x + sublayer(norm_i(x))`` for each.

    ``forward(x, memory, *, mask=None, key_mask=None, memory_key_mask=None,
    cache=None, need_weights=True) -> (y, self_weights (B, h, T, T'), cross_weights
    (B, h, T, S))``: ``mask`` (e.g. ``causal_mask(T)``) and ``key_mask (B, T')`` act
    on the self-attention, ``memory_key_mask (B, S)`` (``True`` at real source
    tokens) on the cross-attention; ``cache`` is the self-attention's
    :class:`~atencion.heads.KVCache` for incremental decoding (``T' = len(cache) + T``).
    The state dict uses ``torch.nn.TransformerDecoderLayer``'s keys, so weights load
    directly in both directions.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, *, norm_first: bool = False,
                 activation: Activation = "relu", dropout: float = 0.0, eps: float = 1e-5) -> None:
        super().__init__()
        self.norm_first = check_bool(norm_first, "norm_first")
        p = check_dropout(dropout)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout=p)
        self.multihead_attn = MultiHeadAttention(d_model, num_heads, dropout=p)  # cross-attention
        self.ff = FeedForward(d_model, d_ff, activation=activation, dropout=p)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model, eps=eps) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = nn.Dropout(p), nn.Dropout(p), nn.Dropout(p)
        self.register_state_dict_post_hook(_ff_keys_to_torch)
        self.register_load_state_dict_pre_hook(_ff_keys_from_torch)

    def _self(self, x: Tensor, masks: dict) -> tuple[Tensor, Tensor | None]:
        y, w = self.self_attn(x, **masks)
        return self.dropout1(y), w

    def _cross(self, x: Tensor, memory: Tensor, memory_key_mask: Tensor | None,
               need_weights: bool) -> tuple[Tensor, Tensor | None]:
        y, w = self.multihead_attn(x, memory, key_mask=memory_key_mask, need_weights=need_weights)
        return self.dropout2(y), w

    def forward(self, x: Tensor, memory: Tensor, *, mask: Tensor | None = None, key_mask: Tensor | None = None,
                memory_key_mask: Tensor | None = None, cache: KVCache | None = None,
                need_weights: bool = True) -> tuple[Tensor, Tensor | None, Tensor | None]:
        masks = dict(mask=mask, key_mask=key_mask, cache=cache, need_weights=need_weights)
        if self.norm_first:
            a, w_self = self._self(self.norm1(x), masks)
            x = x + a
            c, w_cross = self._cross(self.norm2(x), memory, memory_key_mask, need_weights)
            x = x + c
            return x + self.dropout3(self.ff(self.norm3(x))), w_self, w_cross
        a, w_self = self._self(x, masks)
        x = self.norm1(x + a)
        c, w_cross = self._cross(x, memory, memory_key_mask, need_weights)
        x = self.norm2(x + c)
        return self.norm3(x + self.dropout3(self.ff(x))), w_self, w_cross


def xavier_init_(module: nn.Module) -> nn.Module:
    """Xavier-uniform initialisation (Glorot and Bengio, 2010) of the attention and
    feed-forward matrices of every :class:`EncoderBlock` and :class:`DecoderBlock`
    inside ``module``.

    Touches ``self_attn.in_proj_weight``, ``self_attn.out_proj.weight`` (and the
    cross-attention's ``multihead_attn.*`` in decoder blocks),
    ``ff.linear1.weight``, ``ff.gate.weight`` (SwiGLU) and ``ff.linear2.weight``;
    biases, normalisations and embeddings are left as they are. Variance
    ``2 / (fan_in + fan_out)``: stronger sublayers at initialisation than
    ``nn.Linear``'s default ``1 / (3 fan_in)``, as in the Annotated Transformer.
    Returns ``module``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    blocks = [m for m in module.modules() if isinstance(m, EncoderBlock | DecoderBlock)]
    if not blocks:
        raise ValueError(
            f"module: expected a module containing EncoderBlock or DecoderBlock layers, got {type(module).__name__}"
        )
    for block in blocks:
        weights = [block.self_attn.in_proj_weight, block.self_attn.out_proj.weight,
                   block.ff.linear1.weight, block.ff.linear2.weight]
        if isinstance(block, DecoderBlock):
            weights += [block.multihead_attn.in_proj_weight, block.multihead_attn.out_proj.weight]
        if block.ff.gate is not None:
            weights.append(block.ff.gate.weight)
        for w in weights:
            nn.init.xavier_uniform_(w)
    return module


class SequenceTransformer(nn.Module):
    """Tokens ``(B, L)`` -> logits ``(B, L, vocab_size)``: embeddings, positions, blocks, output.

    Args:
        vocab_size, d_model, num_heads, num_layers, d_ff: sizes.
        position: ``"none"``, ``"sinusoidal"``, ``"learned"`` (needs ``max_len``),
            ``"rope"``, ``"alibi"`` or ``"relative"`` (Shaw et al., with
            ``max_distance``).
        causal: each position sees only itself and the previous ones.
        window: if given (causal only), each position sees only itself and the
            ``window - 1`` previous ones (:func:`~atencion.sparse.local_mask`).
        norm_first: pre-norm blocks (with a final normalisation) or post-norm.
        tie_weights: the output layer reuses the embedding matrix.

    ``forward(tokens, *, caches=None, need_weights=True, window=None) -> (logits,
    [per-layer weights (B, h, L, S)])``; ``window`` overrides the model's window for
    one call (e.g. to evaluate with a window a model trained without one). For incremental decoding pass ``caches``, one
    :class:`~atencion.heads.KVCache` per block (:meth:`new_caches`): ``tokens``
    are then the *next* positions after those already cached.
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int,
        num_heads: int,
        num_layers: int,
        d_ff: int,
        *,
        position: Position = "sinusoidal",
        max_len: int | None = None,
        max_distance: int = 16,
        causal: bool = True,
        window: int | None = None,
        norm_first: bool = True,
        activation: Activation = "relu",
        dropout: float = 0.0,
        tie_weights: bool = False,
    ) -> None:
        super().__init__()
        check_int(vocab_size, "vocab_size")
        check_int(num_layers, "num_layers")
        if position not in POSITIONS:
            raise ValueError(f"position: expected one of {POSITIONS}, got {position!r}")
        if position == "learned" and max_len is None:
            raise ValueError("max_len: learned positions need max_len")
        check_bool(causal, "causal")
        check_bool(tie_weights, "tie_weights")
        if window is not None:
            check_int(window, "window")
            if not causal:
                raise ValueError("window: only for causal models (causal=True)")
        self.position, self.causal, self.num_heads, self.window = position, causal, num_heads, window
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, std=d_model ** -0.5)
        self.absolute = {"sinusoidal": lambda: SinusoidalPositionalEncoding(d_model),
                         "learned": lambda: LearnedPositionalEmbedding(max_len, d_model)}.get(position, lambda: None)()
        d_head = d_model // num_heads
        rotary = RotaryEmbedding(d_head) if position == "rope" else None
        self.blocks = nn.ModuleList(
            EncoderBlock(d_model, num_heads, d_ff, norm_first=norm_first, activation=activation,
                         dropout=dropout, rotary=rotary,
                         relative=RelativePositionEmbedding(d_head, max_distance) if position == "relative" else None)
            for _ in range(num_layers)
        )
        self.final_norm = make_norm("layer", d_model) if norm_first else nn.Identity()
        self.output = nn.Linear(d_model, vocab_size)
        if tie_weights:
            self.output.weight = self.embedding.weight

    def new_caches(self) -> list[KVCache]:
        """One empty key-value cache per block, for incremental decoding."""
        return [KVCache() for _ in self.blocks]

    def forward(self, tokens: Tensor, *, caches: list[KVCache] | None = None, need_weights: bool = True,
                window: int | None = None) -> tuple[Tensor, list[Tensor | None]]:
        if not isinstance(tokens, Tensor) or tokens.dim() != 2:
            raise ValueError(
                f"tokens: expected an integer tensor (B, L), got {getattr(tokens, 'shape', type(tokens).__name__)}"
            )
        if caches is not None and (len(caches) != len(self.blocks) or not all(isinstance(c, KVCache) for c in caches)):
            raise ValueError(f"caches: expected a list of {len(self.blocks)} KVCache (see new_caches())")
        B, L = tokens.shape
        past = 0 if caches is None else len(caches[0])
        S = past + L
        x = embed_tokens(self.embedding, tokens)  # (B, L, d_model), scaled by sqrt(d_model)
        if self.absolute is not None:
            x = self.absolute(x, offset=past)
        mask = causal_mask(L, S, device=tokens.device) if self.causal else None  # (L, S)
        if window is not None:
            check_int(window, "window")
            if not self.causal:
                raise ValueError("window: only for causal models (causal=True)")
        else:
            window = self.window
        if window is not None:
            mask = local_mask(L, window, S=S, device=tokens.device)  # (L, S), causal window
        bias = None
        if self.position == "alibi":
            bias = alibi_bias(self.num_heads, L, S, causal=self.causal, device=tokens.device)  # (h, L, S)
            if window is None:
                mask = None  # the causal ALiBi bias already holds -inf above the diagonal
        weights = []
        for i, block in enumerate(self.blocks):
            x, w = block(x, mask=mask, attn_bias=bias, cache=None if caches is None else caches[i],
                         need_weights=need_weights)
            weights.append(w)
        return self.output(self.final_norm(x)), weights  # (B, L, V)
