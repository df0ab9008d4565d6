"""An encoder-only transformer as in BERT (Devlin et al., 2019): word, position and segment
embeddings with a layer normalisation, post-norm GELU encoder blocks, and the masked-language-
model head tied to the word embeddings.

Its state dict converts to and from Hugging Face ``transformers``' ``BertForMaskedLM``
(:func:`bert_state_dict_to_hf`, :func:`bert_state_dict_from_hf`), so the same weights give
the same outputs in both, and a model trained here becomes a ``transformers`` model with
:func:`to_transformers`, ready for ``save_pretrained``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._checks import check_int, check_key_mask, check_tokens
from ._hf import layers_from_hf
from .transformer import EncoderBlock

__all__ = ["BertEncoder", "BertMaskedLM", "BertClassifier", "bert_state_dict_to_hf", "bert_state_dict_from_hf",
           "to_transformers"]


class BertEncoder(nn.Module):
    """``forward(ids (B, L), *, key_mask=None, token_type_ids=None, need_weights=False)
    -> (hidden (B, L, d_model), weights)``: one ``(B, h, L, L)`` tensor per layer (``None``
    unless asked). ``key_mask`` (``True`` at real tokens) defaults to ``ids != pad_id``;
    positions are learned, ``0 … L-1``, up to ``max_len``."""

    def __init__(self, vocab_size: int, *, d_model: int, num_heads: int, num_layers: int, d_ff: int,
                 max_len: int = 512, type_vocab_size: int = 2, dropout: float = 0.0, eps: float = 1e-12,
                 pad_id: int = 0) -> None:
        super().__init__()
        for name, n in (("vocab_size", vocab_size), ("max_len", max_len), ("type_vocab_size", type_vocab_size),
                        ("num_layers", num_layers)):
            check_int(n, name)
        if not 0 <= pad_id < vocab_size:
            raise ValueError(f"pad_id: expected an id in [0, {vocab_size - 1}], got {pad_id}")
        self.pad_id, self.max_len = pad_id, max_len
        self.word_embeddings = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        self.position_embeddings = nn.Embedding(max_len, d_model)
        self.token_type_embeddings = nn.Embedding(type_vocab_size, d_model)
        self.embed_norm = nn.LayerNorm(d_model, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            EncoderBlock(d_model, num_heads, d_ff, activation="gelu", dropout=dropout, eps=eps)
            for _ in range(num_layers))
        for embedding in (self.word_embeddings, self.position_embeddings, self.token_type_embeddings):
            nn.init.normal_(embedding.weight, std=0.02)
        with torch.no_grad():
            self.word_embeddings.weight[pad_id].zero_()

    def forward(self, ids: Tensor, *, key_mask: Tensor | None = None, token_type_ids: Tensor | None = None,
                need_weights: bool = False) -> tuple[Tensor, list[Tensor | None]]:
        ids = check_tokens(ids, "ids", "(B, L)")
        B, L = ids.shape
        if L > self.max_len:
            raise ValueError(f"ids: {L} positions, but only max_len = {self.max_len} learned positions exist")
        key_mask = ids != self.pad_id if key_mask is None else check_key_mask(key_mask, B, L)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(ids)
        elif token_type_ids.shape != ids.shape:
            raise ValueError(f"token_type_ids: expected shape {tuple(ids.shape)}, got {tuple(token_type_ids.shape)}")
        positions = torch.arange(L, device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings(token_type_ids)
        x = self.dropout(self.embed_norm(x))  # (B, L, d)
        weights = []
        for layer in self.layers:
            x, w = layer(x, key_mask=key_mask, need_weights=need_weights)
            weights.append(w)
        return x, weights


class BertMaskedLM(nn.Module):
    """:class:`BertEncoder` and the masked-language-model head: ``logits (B, L, V) =
    LN(GELU(W h + b)) E^T + b_V``, with ``E`` the word embeddings (tied).
    ``forward(ids, **encoder_kwargs) -> (logits, weights)``; the logits are raw (the loss
    applies ``log_softmax`` itself)."""

    def __init__(self, vocab_size: int, **encoder_kwargs) -> None:
        super().__init__()
        self.encoder = BertEncoder(vocab_size, **encoder_kwargs)
        d = self.encoder.word_embeddings.embedding_dim
        self.transform = nn.Linear(d, d)
        self.transform_norm = nn.LayerNorm(d, eps=self.encoder.embed_norm.eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def head(self, hidden: Tensor) -> Tensor:
        """The masked-language-model head alone: states ``(..., d_model)`` -> logits
        ``(..., V)``; pre-training can apply it to the chosen positions only."""
        h = self.transform_norm(F.gelu(self.transform(hidden)))
        return F.linear(h, self.encoder.word_embeddings.weight, self.bias)

    def forward(self, ids: Tensor, **kwargs) -> tuple[Tensor, list[Tensor | None]]:
        h, weights = self.encoder(ids, **kwargs)
        return self.head(h), weights


class BertClassifier(nn.Module):
    """:class:`BertEncoder` and a linear classifier of the whole sequence. ``pool="cls"``:
    on BERT's pooled [CLS] state, ``tanh(W h_0 + b)`` (the [CLS] token must be at position
    0); ``pool="mean"``: on the mean of the states of the real tokens (``key_mask``).
    ``forward(ids, **encoder_kwargs) -> (logits (B, num_classes), weights)``, raw logits."""

    def __init__(self, vocab_size: int, num_classes: int, *, pool: str = "cls", **encoder_kwargs) -> None:
        super().__init__()
        check_int(num_classes, "num_classes")
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool: expected 'cls' or 'mean', got {pool!r}")
        self.pool = pool
        self.encoder = BertEncoder(vocab_size, **encoder_kwargs)
        d = self.encoder.word_embeddings.embedding_dim
        self.pooler = nn.Linear(d, d) if pool == "cls" else None
        self.dropout = nn.Dropout(encoder_kwargs.get("dropout", 0.0))
        self.classifier = nn.Linear(d, num_classes)

    def forward(self, ids: Tensor, *, key_mask: Tensor | None = None, **kwargs) -> tuple[Tensor, list[Tensor | None]]:
        h, weights = self.encoder(ids, key_mask=key_mask, **kwargs)  # (B, L, d)
        if self.pooler is not None:
            pooled = torch.tanh(self.pooler(h[:, 0]))  # [CLS]
        else:
            real = (ids != self.encoder.pad_id if key_mask is None else key_mask).to(h.dtype)[..., None]  # (B, L, 1)
            pooled = (h * real).sum(1) / real.sum(1).clamp(min=1)
        return self.classifier(self.dropout(pooled)), weights


# names: ours -> transformers' BertForMaskedLM, per layer and outside the layers
_LAYER = {"self_attn.out_proj": "attention.output.dense", "norm1": "attention.output.LayerNorm",
          "linear1": "intermediate.dense", "linear2": "output.dense", "norm2": "output.LayerNorm"}
_TOP = {"encoder.word_embeddings.weight": "bert.embeddings.word_embeddings.weight",
        "encoder.position_embeddings.weight": "bert.embeddings.position_embeddings.weight",
        "encoder.token_type_embeddings.weight": "bert.embeddings.token_type_embeddings.weight",
        "encoder.embed_norm.weight": "bert.embeddings.LayerNorm.weight",
        "encoder.embed_norm.bias": "bert.embeddings.LayerNorm.bias",
        "transform.weight": "cls.predictions.transform.dense.weight",
        "transform.bias": "cls.predictions.transform.dense.bias",
        "transform_norm.weight": "cls.predictions.transform.LayerNorm.weight",
        "transform_norm.bias": "cls.predictions.transform.LayerNorm.bias",
        "bias": "cls.predictions.bias",
        "pooler.weight": "bert.pooler.dense.weight", "pooler.bias": "bert.pooler.dense.bias",
        "classifier.weight": "classifier.weight", "classifier.bias": "classifier.bias"}


def bert_state_dict_to_hf(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """:class:`BertMaskedLM`'s state dict with ``transformers``' ``BertForMaskedLM`` keys, or
    :class:`BertClassifier`'s (``pool="cls"``) with ``BertForSequenceClassification``'s
    (``in_proj_*`` split into query, key and value; the tied decoder written out)."""
    out = {_TOP[k]: v for k, v in state_dict.items() if k in _TOP}
    if "bias" in state_dict:  # the masked-language-model head
        out["cls.predictions.decoder.weight"] = state_dict["encoder.word_embeddings.weight"]
        out["cls.predictions.decoder.bias"] = state_dict["bias"]
    layers = sorted({int(k.split(".")[2]) for k in state_dict if k.startswith("encoder.layers.")})
    for i in layers:
        ours, theirs = f"encoder.layers.{i}.", f"bert.encoder.layer.{i}."
        for kind in ("weight", "bias"):
            q, k, v = state_dict[ours + f"self_attn.in_proj_{kind}"].chunk(3)
            for name, value in (("query", q), ("key", k), ("value", v)):
                out[theirs + f"attention.self.{name}.{kind}"] = value
            for src, dst in _LAYER.items():
                out[theirs + f"{dst}.{kind}"] = state_dict[ours + f"{src}.{kind}"]
    return out


def bert_state_dict_from_hf(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The inverse of :func:`bert_state_dict_to_hf`: a ``BertForMaskedLM`` state dict (the
    decoder must be tied to the word embeddings) or a ``BertForSequenceClassification`` one,
    with :class:`BertMaskedLM`'s or :class:`BertClassifier`'s keys."""
    sd = dict(state_dict)
    if "cls.predictions.decoder.weight" in sd and not torch.equal(
            sd["cls.predictions.decoder.weight"], sd["bert.embeddings.word_embeddings.weight"]):
        raise ValueError("state_dict: the decoder is not tied to the word embeddings")
    out = {k: sd[v] for k, v in _TOP.items() if v in sd}
    out |= layers_from_hf(sd, theirs="bert.encoder.layer.", ours="encoder.layers.",
                          qkv=("attention.self.query", "attention.self.key", "attention.self.value"), names=_LAYER)
    return out


def to_transformers(model: BertMaskedLM | BertClassifier):
    """A ``transformers`` model with ``model``'s configuration and weights, in eval mode:
    ``BertForMaskedLM`` for a :class:`BertMaskedLM`, ``BertForSequenceClassification`` for a
    :class:`BertClassifier` with ``pool="cls"`` (mean pooling has no ``transformers``
    counterpart). Attention is the explicit ("eager") kind, so it can return its weights."""
    if isinstance(model, BertClassifier) and model.pool != "cls":
        raise ValueError("model: only pool='cls' has a transformers counterpart (BertForSequenceClassification)")
    if not isinstance(model, (BertMaskedLM, BertClassifier)):
        raise TypeError(f"model: expected a BertMaskedLM or a BertClassifier, got {type(model).__name__}")
    from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

    enc = model.encoder
    layer = enc.layers[0] if len(enc.layers) else None
    config = BertConfig(
        vocab_size=enc.word_embeddings.num_embeddings, hidden_size=enc.word_embeddings.embedding_dim,
        num_hidden_layers=len(enc.layers), num_attention_heads=layer.self_attn.num_heads if layer else 1,
        intermediate_size=layer.linear1.out_features if layer else 1, hidden_act="gelu",
        max_position_embeddings=enc.max_len, type_vocab_size=enc.token_type_embeddings.num_embeddings,
        layer_norm_eps=enc.embed_norm.eps, pad_token_id=enc.pad_id, hidden_dropout_prob=enc.dropout.p,
        attention_probs_dropout_prob=enc.dropout.p, attn_implementation="eager")
    if isinstance(model, BertClassifier):
        config.num_labels = model.classifier.out_features
        theirs = BertForSequenceClassification(config)
    else:
        theirs = BertForMaskedLM(config)
    missing, unexpected = theirs.load_state_dict(bert_state_dict_to_hf(model.state_dict()), strict=False)
    left = [k for k in missing if "position_ids" not in k and "token_type_ids" not in k]
    if left or unexpected:  # a guard: every weight must have found its place
        raise RuntimeError(f"to_transformers: weights missing {left}, unexpected {unexpected}")
    return theirs.eval()
