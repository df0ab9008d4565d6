"""Tests for atencion.audio: the mel scale, the filterbank (a partition of unity between the first
and last centres), log-mel spectrograms against framing and an FFT written out with numpy, a pure
tone, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from atencion.audio import hz_to_mel, log_mel_spectrogram, mel_filterbank, mel_to_hz


def test_mel_scale():
    assert float(hz_to_mel(700.0)) == pytest.approx(2595 * math.log10(2))
    f = torch.tensor([0.0, 100.0, 1000.0, 7999.0], dtype=torch.float64)
    torch.testing.assert_close(mel_to_hz(hz_to_mel(f)), f)


def test_filterbank_triangles_share_corners():
    sr, n_fft, M = 16000, 512, 10
    fb = mel_filterbank(n_fft // 2 + 1, M, sr).double()  # (F, M)
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    corners = 700 * (10 ** (np.linspace(0, 2595 * np.log10(1 + sr / 2 / 700), M + 2) / 2595) - 1)
    for j in range(M):  # each filter is zero outside (corner j, corner j + 2)
        outside = (freqs <= corners[j]) | (freqs >= corners[j + 2])
        assert (fb[torch.from_numpy(outside), j] == 0).all() and fb[:, j].max() <= 1
    # between the first and the last centre, neighbouring triangles add up to one
    inside = torch.from_numpy((freqs >= corners[1]) & (freqs <= corners[M]))
    torch.testing.assert_close(fb[inside].sum(1), torch.ones(int(inside.sum()), dtype=torch.float64), atol=1e-6,
                               rtol=0)


def test_log_mel_equals_framing_and_fft_by_hand():
    sr, n_fft, hop, M = 8000, 256, 80, 20
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 1000, generator=g, dtype=torch.float64)
    ours = log_mel_spectrogram(x, sr, n_fft=n_fft, hop_length=hop, n_mels=M)
    assert ours.shape == (2, 1 + 1000 // hop, M)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    fb = mel_filterbank(n_fft // 2 + 1, M, sr).double().numpy()
    for b in range(2):
        padded = np.pad(x[b].numpy(), n_fft // 2, mode="reflect")  # centred frames
        frames = np.stack([padded[i * hop:i * hop + n_fft] for i in range(1 + 1000 // hop)])
        power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2  # (frames, F)
        np.testing.assert_allclose(ours[b].numpy(), np.log(power @ fb + 1e-10), rtol=1e-6, atol=1e-6)


def test_a_pure_tone_lights_the_band_around_it():
    sr, M = 16000, 40
    t = torch.arange(sr) / sr  # one second
    for f in (300.0, 1000.0, 3000.0):
        mel = log_mel_spectrogram(torch.sin(2 * math.pi * f * t), sr, n_mels=M)  # (frames, M)
        band = int(mel.mean(0).argmax())
        corners = mel_to_hz(torch.linspace(0.0, float(hz_to_mel(sr / 2)), M + 2, dtype=torch.float64))
        assert corners[band] < f < corners[band + 2]  # the tone is inside the loudest filter


def test_bad_inputs():
    with pytest.raises(ValueError, match="waveform"):
        log_mel_spectrogram(torch.zeros(2, 3, 400), 16000)
    with pytest.raises(ValueError, match="waveform"):
        log_mel_spectrogram(torch.zeros(100), 16000)  # shorter than half a window
    with pytest.raises(ValueError, match="f_min"):
        mel_filterbank(201, 40, 16000, f_min=9000.0)
    with pytest.raises(ValueError, match="sample_rate"):
        mel_filterbank(201, 40, -1.0)
