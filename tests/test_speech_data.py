"""Tests for atencion.data.speech: Spanish speech synthesised with eSpeak NG."""

from __future__ import annotations

import pytest
import torch

from atencion import data
from atencion.data import speech


def test_synthesis_is_deterministic_and_a_float_waveform():
    a = data.synthesize("hola, ¿cómo estás?")
    b = data.synthesize("hola, ¿cómo estás?")
    assert torch.equal(a, b)
    assert a.dtype == torch.float32 and a.dim() == 1
    assert a.abs().max() <= 1.0 and a.abs().max() > 0.05  # something is said, nothing clips
    assert 0.3 < len(a) / data.SAMPLE_RATE < 5.0


def test_the_voice_changes_the_speech():
    text = "el perro come"
    base = data.synthesize(text, data.Voice())
    slow = data.synthesize(text, data.Voice(rate=100))
    fast = data.synthesize(text, data.Voice(rate=250))
    assert len(slow) > len(base) > len(fast)  # fewer words per minute, more samples
    for other in (data.Voice(pitch=80), data.Voice(variant="f3"), data.Voice(name="es-419")):
        wav = data.synthesize(text, other)
        assert len(wav) != len(base) or not torch.equal(wav, base), other
    assert len(data.synthesize("el perro come pan todos los días")) > len(base)


def test_the_accents_reach_the_synthesiser():
    # «papá» and «papa» differ only in the stressed syllable: the text must arrive as UTF-8
    assert not torch.equal(data.synthesize("papá"), data.synthesize("papa"))


def test_noise_at_the_requested_ratio():
    clean = data.synthesize("buenos días")
    noisy = data.synthesize("buenos días", snr_db=10.0, generator=torch.Generator().manual_seed(0))
    again = data.synthesize("buenos días", snr_db=10.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)
    noise = noisy - clean
    ratio_db = 10 * torch.log10(clean.pow(2).mean() / noise.pow(2).mean())
    assert abs(ratio_db.item() - 10.0) < 0.2  # clamping to [-1, 1] may shave a little


def test_text_that_looks_like_an_option_is_spoken():
    assert len(data.synthesize("--help")) > 0


def test_bad_inputs():
    with pytest.raises(TypeError, match="text"):
        data.synthesize(3)
    with pytest.raises(ValueError, match="text"):
        data.synthesize("   ")
    with pytest.raises(ValueError, match="voice"):
        data.synthesize("hola", data.Voice(name="en"))
    with pytest.raises(ValueError, match="voice"):
        data.synthesize("hola", data.Voice(variant="f3; rm"))
    with pytest.raises(ValueError, match="voice.rate"):
        data.synthesize("hola", data.Voice(rate=20))
    with pytest.raises(ValueError, match="voice.pitch"):
        data.synthesize("hola", data.Voice(pitch=120))
    with pytest.raises(TypeError, match="voice"):
        data.synthesize("hola", "es")
    with pytest.raises(TypeError, match="snr_db"):
        data.synthesize("hola", snr_db="10")
    with pytest.raises(ValueError, match="snr_db"):
        data.synthesize("hola", snr_db=float("nan"))
    with pytest.raises(TypeError, match="generator"):
        data.synthesize("hola", snr_db=10.0, generator=0)


def test_a_missing_synthesiser_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(speech, "ESPEAK", "espeak-ng-not-installed")
    assert not speech.espeak_available()
    with pytest.raises(RuntimeError, match="apt-get install"):
        data.synthesize("hola")
