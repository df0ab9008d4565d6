"""Spanish speech synthesised offline with eSpeak NG (Debian's ``espeak-ng``), for the
chapter on attention over speech: one sentence, one voice, one waveform.

eSpeak NG is deterministic: the same text, voice, rate and pitch give the same samples
on every run. The project's set-up installs it (``.ci/run``, the workflow); elsewhere,
``sudo apt-get install espeak-ng``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from .._checks import check_int_type, check_real
from .dates import MONTHS_ES, spanish_number

__all__ = ["ESPEAK", "SAMPLE_RATE", "SPANISH_VOICES", "Voice", "espeak_available", "synthesize",
           "spoken_dates_and_times"]

ESPEAK = "espeak-ng"
SAMPLE_RATE = 22050  # eSpeak NG's own rate: samples per second of every waveform
SPANISH_VOICES = ("es", "es-419")  # Spain and Latin America


class Voice(NamedTuple):
    """A speaker: an eSpeak NG Spanish voice (``"es"`` or ``"es-419"``), an optional
    variant (``"f1"``…``"f5"``, ``"m1"``…``"m7"``, ``"klatt"``…), a rate in words per
    minute (80–450) and a pitch (0–99)."""

    name: str = "es"
    variant: str | None = None
    rate: int = 150
    pitch: int = 50

    @property
    def spec(self) -> str:
        """The ``-v`` argument of ``espeak-ng``: ``"es"`` or ``"es+f3"``."""
        return self.name if self.variant is None else f"{self.name}+{self.variant}"

    def checked(self) -> Voice:
        """This voice, if eSpeak NG can speak Spanish with it; else a ``ValueError``."""
        if self.name not in SPANISH_VOICES:
            raise ValueError(f"voice: expected a Spanish voice name in {SPANISH_VOICES}, got {self.name!r}")
        if self.variant is not None and not (isinstance(self.variant, str)
                                             and re.fullmatch(r"[a-z][a-z0-9]*", self.variant)):
            raise ValueError(f"voice: expected a variant such as 'f3' or 'm1', got {self.variant!r}")
        rate, pitch = check_int_type(self.rate, "voice.rate"), check_int_type(self.pitch, "voice.pitch")
        if not 80 <= rate <= 450:
            raise ValueError(f"voice.rate: expected words per minute between 80 and 450, got {rate}")
        if not 0 <= pitch <= 99:
            raise ValueError(f"voice.pitch: expected a pitch between 0 and 99, got {pitch}")
        return self


def espeak_available() -> bool:
    """Whether the ``espeak-ng`` program is on the ``PATH``."""
    return shutil.which(ESPEAK) is not None


def synthesize(text: str, voice: Voice | None = None, *, snr_db: float | None = None,
               generator: torch.Generator | None = None) -> Tensor:
    """Speak ``text`` with ``voice`` (default: ``Voice()``, the Spanish voice at 150 words per
    minute and pitch 50): a ``(samples,)`` float32 waveform in [-1, 1] at
    :data:`SAMPLE_RATE` Hz.

    With ``snr_db``, white Gaussian noise drawn from ``generator`` is added at that
    signal-to-noise ratio (the power of the clean waveform over the noise's, in dB).
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("text: expected something to say, got an empty or blank string")
    if voice is None:
        voice = Voice()
    if not isinstance(voice, Voice):
        raise TypeError(f"voice: expected an atencion.data.Voice, got {type(voice).__name__}")
    voice = voice.checked()
    if snr_db is not None:
        snr_db = check_real(snr_db, "snr_db")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator or None, got {type(generator).__name__}")
    if not espeak_available():
        raise RuntimeError(f"{ESPEAK} is not installed: the project's set-up (.ci/run) installs it; "
                           f"on Debian or Ubuntu, sudo apt-get install {ESPEAK}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        # the text goes through standard input, so that nothing in it is read as an option
        subprocess.run([ESPEAK, "-v", voice.spec, "-s", str(voice.rate), "-p", str(voice.pitch), "-w", str(path),
                        "--stdin"], input=text.encode("utf-8"), check=True, capture_output=True)
        with wave.open(str(path), "rb") as f:
            if (f.getnchannels(), f.getsampwidth(), f.getframerate()) != (1, 2, SAMPLE_RATE):
                raise RuntimeError(f"{ESPEAK} wrote an unexpected format: {f.getnchannels()} channels, "
                                   f"{8 * f.getsampwidth()} bits, {f.getframerate()} Hz")
            frames = f.readframes(f.getnframes())
    waveform = torch.frombuffer(bytearray(frames), dtype=torch.int16).to(torch.float32) / 32768.0
    if snr_db is not None:
        noise = torch.randn(waveform.shape, generator=generator)
        scale = (waveform.pow(2).mean() / (noise.pow(2).mean() * 10 ** (snr_db / 10))).sqrt()
        waveform = (waveform + scale * noise).clamp(-1.0, 1.0)
    return waveform


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MINUTES = ("en punto", "y cinco", "y diez", "y cuarto", "y veinte", "y veinticinco", "y media",
            "menos veinticinco", "menos veinte", "menos cuarto", "menos diez", "menos cinco")


def spoken_dates_and_times() -> list[str]:
    """Every sentence of a small grammar of things said aloud, in lower case without
    punctuation: the 366 days of the year («el doce de marzo»; day 1 is «uno», as in
    «el uno de enero») and the 144 clock times at five-minute steps («la una en punto»,
    «las tres menos cuarto»): 510 sentences, in that order."""
    days = [f"el {spanish_number(d)} de {m}" for m, n in zip(MONTHS_ES, _DAYS_IN_MONTH) for d in range(1, n + 1)]
    times = [f"{'la una' if h == 1 else f'las {spanish_number(h)}'} {m}" for h in range(1, 13) for m in _MINUTES]
    return days + times
