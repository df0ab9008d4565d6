"""Normalisation and the position-wise feed-forward network.

- :class:`LayerNorm` (Ba et al., 2016): for each position, over its ``d``
  features, ``(x - mean) / sqrt(var + eps) * gamma + beta`` with the biased
  variance and ``eps`` *inside* the square root, as ``torch.nn.LayerNorm``;
- :class:`RMSNorm` (Zhang and Sennrich, 2019): ``x / sqrt(mean(x^2) + eps) * gamma``,
  no centring, as ``torch.nn.RMSNorm``;
- statistics of float16/bfloat16 inputs are computed in float32 and the
  normalised values cast back, as PyTorch does;
- :class:`FeedForward`: ``W_2 act(W_1 x + b_1) + b_2`` with ReLU or GELU, or the
  gated SwiGLU ``W_2 (SiLU(W_1 x) * W_3 x)`` (Shazeer, 2020).

Batch normalisation, by contrast, normalises each feature over the batch (and
the positions); it is not used by transformers and is not implemented here.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import check_bool, check_dropout, check_features, check_int, check_positive_float

__all__ = ["LayerNorm", "RMSNorm", "FeedForward", "make_norm"]

Activation = Literal["relu", "gelu", "swiglu"]


def _statistics_dtype(x: Tensor) -> Tensor:
    """``x`` in float32 when it is of lower precision: the mean and variance of
    float16 values past ~256 overflow (256**2 > 65504), and PyTorch's norms take
    their statistics in float32 too. The result is cast back by the caller."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


class LayerNorm(nn.Module):
    """Layer normalisation over the last axis; parameters named as in ``torch.nn.LayerNorm``.

    ``forward(x (..., d)) -> (..., d)``: each position is normalised on its own,
    so the result does not depend on the batch, on the other positions or on padding.
    """

    def __init__(self, d: int, *, eps: float = 1e-5, bias: bool = True) -> None:
        super().__init__()
        self.d = check_int(d, "d")
        self.eps = check_positive_float(eps, "eps")
        check_bool(bias, "bias")
        self.weight = nn.Parameter(torch.ones(d))  # gamma
        self.bias = nn.Parameter(torch.zeros(d)) if bias else None  # beta

    def forward(self, x: Tensor) -> Tensor:
        check_features(x, self.d)
        h = _statistics_dtype(x)  # float16/bfloat16 -> float32, as torch.nn.LayerNorm
        mean = h.mean(dim=-1, keepdim=True)  # (..., 1)
        var = h.var(dim=-1, unbiased=False, keepdim=True)  # (..., 1), biased: divides by d
        y = ((h - mean) / torch.sqrt(var + self.eps)).to(x.dtype) * self.weight  # eps inside the root
        return y + self.bias if self.bias is not None else y

    def extra_repr(self) -> str:
        return f"{self.d}, eps={self.eps}, bias={self.bias is not None}"


class RMSNorm(nn.Module):
    """Root-mean-square normalisation over the last axis (no mean subtracted, no bias);
    parameters named as in ``torch.nn.RMSNorm``. ``forward(x (..., d)) -> (..., d)``."""

    def __init__(self, d: int, *, eps: float = 1e-6) -> None:
        super().__init__()
        self.d = check_int(d, "d")
        self.eps = check_positive_float(eps, "eps")
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: Tensor) -> Tensor:
        check_features(x, self.d)
        h = _statistics_dtype(x)  # float16/bfloat16 -> float32, as torch.nn.RMSNorm
        rms = torch.sqrt(h.pow(2).mean(dim=-1, keepdim=True) + self.eps)  # (..., 1)
        return (h / rms).to(x.dtype) * self.weight

    def extra_repr(self) -> str:
        return f"{self.d}, eps={self.eps}"


def make_norm(kind: str, d: int, *, eps: float = 1e-5) -> nn.Module:
    """``"layer"`` -> :class:`LayerNorm`, ``"rms"`` -> :class:`RMSNorm`."""
    if kind == "layer":
        return LayerNorm(d, eps=eps)
    if kind == "rms":
        return RMSNorm(d, eps=eps)
    raise ValueError(f"norm: expected 'layer' or 'rms', got {kind!r}")


class FeedForward(nn.Module):
    """Position-wise feed-forward network ``(..., d_model) -> (..., d_model)``.

    ``activation="relu"`` or ``"gelu"``: ``linear2(dropout(act(linear1(x))))``
    (the layout of ``torch.nn.TransformerEncoderLayer``). ``"swiglu"``:
    ``linear2(dropout(silu(linear1(x)) * gate(x)))``, one more matrix.
    """

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        *,
        activation: Activation = "relu",
        dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.d_model = check_int(d_model, "d_model")
        check_int(d_ff, "d_ff")
        if activation not in ("relu", "gelu", "swiglu"):
            raise ValueError(f"activation: expected 'relu', 'gelu' or 'swiglu', got {activation!r}")
        check_bool(bias, "bias")
        self.activation = activation
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)
        self.gate = nn.Linear(d_model, d_ff, bias=bias) if activation == "swiglu" else None
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(check_dropout(dropout))

    def forward(self, x: Tensor) -> Tensor:
        check_features(x, self.d_model)
        h = self.linear1(x)  # (..., d_ff)
        if self.activation == "relu":
            h = F.relu(h)
        elif self.activation == "gelu":
            h = F.gelu(h)
        else:
            h = F.silu(h) * self.gate(x)
        return self.linear2(self.dropout(h))  # (..., d_model)
