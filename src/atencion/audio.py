"""Speech features in PyTorch: the mel scale, a triangular mel filterbank and log-mel
spectrograms, the input of the speech models of Part VI.

The mel scale is HTK's, ``m(f) = 2595 log10(1 + f / 700)``; the filters are triangles
with their corners at ``n_mels + 2`` points equally spaced in mels, not normalised
(``torchaudio.functional.melscale_fbanks(..., norm=None, mel_scale="htk")``'s convention).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import check_int, check_positive_float, check_tensor

__all__ = ["hz_to_mel", "mel_to_hz", "mel_filterbank", "log_mel_spectrogram"]


def hz_to_mel(f: Tensor | float) -> Tensor:
    """HTK's mel scale: ``2595 · log10(1 + f / 700)``."""
    return 2595.0 * torch.log10(1.0 + torch.as_tensor(f, dtype=torch.float64) / 700.0)


def mel_to_hz(m: Tensor | float) -> Tensor:
    """The inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (torch.as_tensor(m, dtype=torch.float64) / 2595.0) - 1.0)


def mel_filterbank(n_freqs: int, n_mels: int, sample_rate: float, *, f_min: float = 0.0,
                   f_max: float | None = None) -> Tensor:
    """Triangular filters ``(n_freqs, n_mels)`` over the ``n_freqs = n_fft // 2 + 1`` bins of
    a one-sided spectrum: filter ``j`` rises from corner ``j`` to ``j + 1`` and falls to
    ``j + 2``, the ``n_mels + 2`` corners equally spaced in mels from ``f_min`` to ``f_max``
    (default: Nyquist, ``sample_rate / 2``)."""
    check_int(n_freqs, "n_freqs", minimum=2)
    check_int(n_mels, "n_mels")
    sample_rate = check_positive_float(sample_rate, "sample_rate")
    f_max = sample_rate / 2 if f_max is None else check_positive_float(f_max, "f_max")
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(f"f_min, f_max: expected 0 <= f_min < f_max <= sample_rate / 2 = {sample_rate / 2}, "
                         f"got {f_min}, {f_max}")
    freqs = torch.linspace(0, sample_rate / 2, n_freqs, dtype=torch.float64)  # (F,) bin centres in Hz
    corners = mel_to_hz(torch.linspace(float(hz_to_mel(f_min)), float(hz_to_mel(f_max)), n_mels + 2,
                                       dtype=torch.float64))  # (M + 2,)
    low, centre, high = corners[:-2], corners[1:-1], corners[2:]  # (M,) each
    rising = (freqs[:, None] - low) / (centre - low)  # (F, M)
    falling = (high - freqs[:, None]) / (high - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


def log_mel_spectrogram(waveform: Tensor, sample_rate: float, *, n_fft: int = 400, hop_length: int = 160,
                        n_mels: int = 80, f_min: float = 0.0, f_max: float | None = None,
                        eps: float = 1e-10) -> Tensor:
    """``log(mel power + eps)`` of ``waveform (B, N)`` or ``(N,)``: a Hann-windowed STFT of
    ``n_fft`` samples every ``hop_length``, centred (the signal is reflected by ``n_fft / 2``
    at both ends), power ``|X|²``, then the filters of :func:`mel_filterbank`. Returns
    ``(B, frames, n_mels)`` (or ``(frames, n_mels)``), ``frames = 1 + N // hop_length``:
    time first, as a sequence model reads it. Defaults: 25 ms windows every 10 ms at 16 kHz."""
    waveform = check_tensor(waveform, "waveform")
    if waveform.dim() not in (1, 2) or not waveform.is_floating_point():
        raise ValueError(f"waveform: expected a float tensor (B, N) or (N,), got {waveform.dtype} "
                         f"{tuple(waveform.shape)}")
    check_int(n_fft, "n_fft", minimum=2)
    check_int(hop_length, "hop_length")
    if waveform.shape[-1] <= n_fft // 2:
        raise ValueError(f"waveform: expected more than n_fft // 2 = {n_fft // 2} samples, got {waveform.shape[-1]}")
    check_positive_float(eps, "eps")
    spectrum = torch.stft(waveform, n_fft, hop_length=hop_length, window=torch.hann_window(n_fft, dtype=waveform.dtype,
                          device=waveform.device), center=True, pad_mode="reflect", return_complex=True)
    power = spectrum.abs() ** 2  # (..., F, frames)
    filters = mel_filterbank(n_fft // 2 + 1, n_mels, sample_rate, f_min=f_min, f_max=f_max).to(power)
    mel = power.transpose(-1, -2) @ filters  # (..., frames, M)
    return torch.log(mel + eps)

