"""Speech recognition with attention: a convolutional front end that subsamples log-mel
frames, a pre-norm transformer encoder over them, and a linear layer to characters and the
CTC blank (Graves et al., 2006), the shape of the encoders of wav2vec 2.0's fine-tuning and of
most CTC recognisers; and SpecAugment's masks (Park et al., 2019) for training.

Frames beyond an utterance's length are zeros at every step, so an utterance gives the
same outputs alone or padded in a batch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._checks import check_int, check_lengths, check_sequence, check_tensor, check_unit_interval
from .positional import SinusoidalPositionalEncoding
from .seq2seq import EncoderStack

__all__ = ["ConvSubsampler", "CTCTransformer", "spec_augment"]


def _masked(x: Tensor, lengths: Tensor) -> Tensor:
    """``x (B, T, d)`` with the frames at or beyond ``lengths (B,)`` set to zero."""
    real = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]  # (B, T)
    return x * real[..., None].to(x.dtype)


def _halved(lengths: Tensor) -> Tensor:
    """Frames out of a convolution with kernel 3, stride 2, padding 1: ``⌊(n - 1)/2⌋ + 1``."""
    return torch.div(lengths - 1, 2, rounding_mode="floor") + 1


class ConvSubsampler(nn.Module):
    """Two ``Conv1d`` (kernel 3, stride 2, padding 1) with GELU: ``(B, T, n_mels) ->
    (B, T', d_model)``, ``T' = ⌈⌈T/2⌉/2⌉`` (4 times fewer frames). ``forward(x, lengths)
    -> (y, output_lengths)``; frames past each length are zeroed before and after each
    convolution, so padding never leaks into the real frames."""

    def __init__(self, n_mels: int, d_model: int) -> None:
        super().__init__()
        self.n_mels = check_int(n_mels, "n_mels")
        self.conv1 = nn.Conv1d(n_mels, check_int(d_model, "d_model"), 3, stride=2, padding=1)
        self.conv2 = nn.Conv1d(d_model, d_model, 3, stride=2, padding=1)

    @staticmethod
    def output_lengths(lengths: Tensor) -> Tensor:
        """Frames after the two convolutions: ``⌊(n - 1)/2⌋ + 1`` twice."""
        return _halved(_halved(lengths))

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        x = check_sequence(x, "x", self.n_mels, "(B, T, n_mels)")
        B, T, _ = x.shape
        lengths = check_lengths(lengths, B, T, "lengths")
        h = _masked(x, lengths)
        for conv in (self.conv1, self.conv2):
            lengths = _halved(lengths)
            h = _masked(F.gelu(conv(h.transpose(1, 2))).transpose(1, 2), lengths)
        return h, lengths


class CTCTransformer(nn.Module):
    """Log-mel frames to per-frame character log-probabilities for CTC:
    :class:`ConvSubsampler`, sinusoidal positions, a pre-norm :class:`~atencion.seq2seq.EncoderStack`
    (GELU; padded frames masked as keys) and a linear layer to ``vocab_size`` classes
    (the blank included, id ``blank``).

    ``forward(features (B, T, n_mels), lengths (B,), *, need_weights=False) ->
    (log_probs (B, T', vocab_size), output_lengths (B,), weights)``: ``log_softmax``
    applied, the input of ``F.ctc_loss`` (time first there) and of
    :func:`~atencion.ctc.ctc_greedy_decode`; one ``(B, h, T', T')`` tensor per layer
    (``None`` unless asked)."""

    def __init__(self, n_mels: int, vocab_size: int, *, d_model: int, num_heads: int, num_layers: int,
                 d_ff: int, dropout: float = 0.0, blank: int = 0) -> None:
        super().__init__()
        check_int(vocab_size, "vocab_size", minimum=2)
        if not 0 <= blank < vocab_size:
            raise ValueError(f"blank: expected an id in [0, {vocab_size - 1}], got {blank}")
        self.blank = blank
        self.subsample = ConvSubsampler(n_mels, d_model)
        self.positions = SinusoidalPositionalEncoding(d_model)
        self.dropout = nn.Dropout(dropout)
        self.encoder = EncoderStack(d_model, num_heads, d_ff, num_layers, norm_first=True, activation="gelu",
                                    dropout=dropout)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, features: Tensor, lengths: Tensor, *,
                need_weights: bool = False) -> tuple[Tensor, Tensor, list[Tensor | None]]:
        h, lengths = self.subsample(features, lengths)  # (B, T', d)
        key_mask = torch.arange(h.shape[1], device=h.device)[None, :] < lengths[:, None]  # (B, T')
        h, weights = self.encoder(self.dropout(self.positions(h)), key_mask=key_mask, need_weights=need_weights)
        return F.log_softmax(self.head(h), dim=-1), lengths, weights


def spec_augment(features: Tensor, lengths: Tensor, *, freq_width: int = 10, time_masks: int = 2,
                 time_fraction: float = 0.08, generator: torch.Generator | None = None) -> Tensor:
    """SpecAugment's masks, for training: in each utterance of ``features (B, T, M)``, one
    band of ``f ~ U{0…freq_width}`` mel channels and ``time_masks`` spans of ``t ~
    U{0…⌊time_fraction · length⌋}`` frames (inside its ``lengths``) are set to zero. Returns
    a new tensor; the input is left as it was."""
    features = check_tensor(features, "features")
    if features.dim() != 3 or not features.is_floating_point():
        raise ValueError(f"features: expected a float tensor (B, T, M), got {features.dtype} {tuple(features.shape)}")
    B, T, M = features.shape
    lengths = check_lengths(lengths, B, T, "lengths")
    check_int(freq_width, "freq_width", minimum=0)
    check_int(time_masks, "time_masks", minimum=0)
    time_fraction = check_unit_interval(time_fraction, "time_fraction")
    if freq_width > M:
        raise ValueError(f"freq_width: expected at most n_mels = {M}, got {freq_width}")

    def uniform(high: Tensor) -> Tensor:  # an integer in [0, high] per row, (B,)
        return (torch.rand(B, generator=generator) * (high + 1).to(torch.float32)).long().clamp(max=high)

    width = uniform(torch.full((B,), freq_width))
    start = uniform(M - width)
    mel = torch.arange(M)
    keep = ~((mel >= start[:, None]) & (mel < (start + width)[:, None]))[:, None, :]  # (B, 1, M)
    frame = torch.arange(T)
    for _ in range(time_masks):
        span = uniform((time_fraction * lengths).floor().long())
        first = uniform(lengths - span)
        keep = keep & ~((frame >= first[:, None]) & (frame < (first + span)[:, None]))[:, :, None]  # (B, T, M)
    return features * keep.to(features.dtype)
