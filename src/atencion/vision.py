"""Vision transformers (Dosovitskiy et al., 2021): patches, patch embedding, a ViT
classifier with a [CLS] token or mean pooling, and attention rollout (Abnar & Zuidema, 2020).

The ViT's state dict converts to and from Hugging Face ``transformers``' ``ViTModel``
(:func:`vit_state_dict_from_hf`), so the same weights give the same hidden states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from ._checks import check_images, check_int, check_tensor
from ._hf import layers_from_hf
from .seq2seq import EncoderStack
from .transformer import Activation

__all__ = ["patchify", "PatchEmbedding", "VisionTransformer", "attention_rollout", "vit_state_dict_from_hf"]


def patchify(images: Tensor, patch_size: int) -> Tensor:
    """Cut ``images (B, C, H, W)`` into ``N = HW / P²`` non-overlapping ``P × P`` patches,
    row by row: ``(B, N, C·P·P)``, each patch flattened channel first, then row, then
    column (the order of ``nn.Conv2d``'s ``weight.flatten(1)``)."""
    P = check_int(patch_size, "patch_size")
    images = check_images(images, None, P)
    B, C, H, W = images.shape
    x = images.reshape(B, C, H // P, P, W // P, P)  # (B, C, H/P, P, W/P, P)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(B, (H // P) * (W // P), C * P * P)


class PatchEmbedding(nn.Module):
    """A linear map of each flattened patch, computed as a ``Conv2d`` with kernel and
    stride ``P``: ``(B, C, H, W) -> (B, N, d_model)``, patches row by row."""

    def __init__(self, num_channels: int, patch_size: int, d_model: int) -> None:
        super().__init__()
        self.num_channels = check_int(num_channels, "num_channels")
        self.patch_size = check_int(patch_size, "patch_size")
        self.projection = nn.Conv2d(num_channels, check_int(d_model, "d_model"), patch_size, stride=patch_size)

    def forward(self, images: Tensor) -> Tensor:
        images = check_images(images, self.num_channels, self.patch_size)
        return self.projection(images).flatten(2).transpose(1, 2)  # (B, d, H/P, W/P) -> (B, N, d)


class VisionTransformer(nn.Module):
    """ViT classifier: patch embedding, a learned [CLS] token, learned positions, a
    pre-norm encoder stack (``EncoderStack`` with ``norm_first=True`` and its final
    ``LayerNorm``) and a linear head on the [CLS] state (``pool="cls"``) or on the mean
    of the patch states (``pool="mean"``; the [CLS] token is then left out).

    ``forward(images (B, C, H, W), *, need_weights=False) -> (logits (B, classes),
    weights)`` with one ``(B, h, L, L)`` tensor per layer (``None`` unless asked),
    ``L = N + 1`` with [CLS] at position 0. ``hidden_states`` gives the encoder's output.
    """

    def __init__(
        self,
        image_size: int | tuple[int, int],
        patch_size: int,
        num_channels: int,
        num_classes: int,
        *,
        d_model: int,
        num_heads: int,
        num_layers: int,
        d_ff: int,
        pool: Literal["cls", "mean"] = "cls",
        activation: Activation = "gelu",
        dropout: float = 0.0,
        eps: float = 1e-12,
    ) -> None:
        super().__init__()
        H, W = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        for name, n in (("image_size", H), ("image_size", W), ("num_classes", num_classes)):
            check_int(n, name)
        self.patch_embeddings = PatchEmbedding(num_channels, patch_size, d_model)
        if H % patch_size or W % patch_size:
            raise ValueError(f"image_size: expected multiples of patch_size = {patch_size}, got {H}x{W}")
        if pool not in ("cls", "mean"):
            raise ValueError(f"pool: expected 'cls' or 'mean', got {pool!r}")
        self.image_size, self.pool = (H, W), pool
        self.num_patches = (H // patch_size) * (W // patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.position_embeddings = nn.Parameter(torch.randn(1, self.num_patches + 1, d_model) * 0.02)
        self.dropout = nn.Dropout(dropout)
        self.encoder = EncoderStack(d_model, num_heads, d_ff, num_layers, norm_first=True, activation=activation,
                                    dropout=dropout, eps=eps)
        self.head = nn.Linear(d_model, num_classes)

    def hidden_states(self, images: Tensor, *, need_weights: bool = False) -> tuple[Tensor, list[Tensor | None]]:
        """The encoder's output ``(B, N + 1, d_model)`` ([CLS] first) and per-layer weights."""
        if tuple(images.shape[-2:]) != self.image_size:
            raise ValueError(f"images: expected {self.image_size[0]}x{self.image_size[1]} images, "
                             f"got {tuple(images.shape)}")
        z = self.patch_embeddings(images)  # (B, N, d)
        z = torch.cat([self.cls_token.expand(len(z), -1, -1), z], dim=1) + self.position_embeddings  # (B, N+1, d)
        return self.encoder(self.dropout(z), need_weights=need_weights)

    def forward(self, images: Tensor, *, need_weights: bool = False) -> tuple[Tensor, list[Tensor | None]]:
        h, weights = self.hidden_states(images, need_weights=need_weights)
        pooled = h[:, 0] if self.pool == "cls" else h[:, 1:].mean(dim=1)  # (B, d)
        return self.head(pooled), weights


def attention_rollout(weights: Sequence[Tensor], *, residual: bool = True) -> Tensor:
    """Attention rollout (Abnar & Zuidema, 2020): how much each input position flows
    into each output position through all layers, attention alone.

    Each layer's weights ``(B, h, L, L)`` are averaged over heads; with ``residual``
    the identity is added for the skip connection and rows are renormalised,
    ``Â = (A + I) / 2``; the layers are multiplied from the first up,
    ``R = Â_n ⋯ Â_1``. Returns ``R (B, L, L)``, rows summing to one.
    """
    if len(weights) == 0:
        raise ValueError("weights: expected one (B, h, L, L) tensor per layer, got none")
    rollout = None
    for i, w in enumerate(weights):
        w = check_tensor(w, f"weights[{i}]")
        if w.dim() != 4 or w.shape[-1] != w.shape[-2]:
            raise ValueError(f"weights[{i}]: expected shape (B, h, L, L), got {tuple(w.shape)}")
        a = w.mean(dim=1)  # (B, L, L)
        if residual:
            a = (a + torch.eye(a.shape[-1], dtype=a.dtype, device=a.device)) / 2
        if rollout is not None and a.shape != rollout.shape:
            raise ValueError(f"weights[{i}]: expected shape {tuple(rollout.shape)} after averaging heads, "
                             f"got {tuple(a.shape)}")
        rollout = a if rollout is None else a @ rollout  # later layers on the left
    return rollout


def vit_state_dict_from_hf(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Convert the state dict of a ``transformers`` ``ViTModel`` (``add_pooling_layer=False``;
    a ``ViTForImageClassification``'s ``vit.`` prefix and ``classifier`` are accepted too)
    to :class:`VisionTransformer`'s keys. The query, key and value projections are
    stacked into ``in_proj_*``; a missing classifier is left out (``strict=False``)."""
    sd = {k.removeprefix("vit."): v for k, v in state_dict.items()}
    out = {
        "cls_token": sd["embeddings.cls_token"],
        "position_embeddings": sd["embeddings.position_embeddings"],
        "patch_embeddings.projection.weight": sd["embeddings.patch_embeddings.projection.weight"],
        "patch_embeddings.projection.bias": sd["embeddings.patch_embeddings.projection.bias"],
        "encoder.norm.weight": sd["layernorm.weight"],
        "encoder.norm.bias": sd["layernorm.bias"],
    }
    out |= layers_from_hf(sd, theirs="layers.", ours="encoder.layers.",
                          qkv=("attention.q_proj", "attention.k_proj", "attention.v_proj"),
                          names={"self_attn.out_proj": "attention.o_proj", "norm1": "layernorm_before",
                                 "norm2": "layernorm_after", "linear1": "mlp.fc1", "linear2": "mlp.fc2"})
    if "classifier.weight" in sd:
        out["head.weight"], out["head.bias"] = sd["classifier.weight"], sd["classifier.bias"]
    return out
