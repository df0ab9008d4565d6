"""Tests for atencion.profiling."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from atencion.profiling import median_time, peak_memory


def test_peak_memory_counts_what_the_function_allocates():
    x = torch.randn(1000)  # 4000 bytes, allocated before: not counted
    assert peak_memory(lambda: None) == 0
    assert peak_memory(lambda: x * 2) == 4000
    assert peak_memory(lambda: (x * 2).sum()) == 4000 + 4  # the temporary is alive when the sum is made
    assert peak_memory(lambda: x.view(10, 100).t()) == 0  # views allocate nothing


def test_peak_memory_sees_freed_temporaries():
    x = torch.randn(256)

    def chain():
        y = x * 2  # 1 KiB
        del y
        z = x * 3  # 1 KiB again, after y was freed
        return z

    assert peak_memory(chain) == 1024


def test_dense_attention_holds_the_score_matrix_and_the_fused_kernel_does_not():
    q = torch.randn(1, 2, 256, 16)
    scores = 2 * 256 * 256 * 4  # one (h, L, L) float32 matrix
    dense = peak_memory(lambda: torch.softmax(q @ q.transpose(-1, -2), -1) @ q)
    fused = peak_memory(lambda: F.scaled_dot_product_attention(q, q, q))
    assert dense >= 2 * scores  # scores and weights alive together
    assert fused < scores / 4


def test_median_time():
    assert median_time(lambda: None, repeats=3) >= 0
    with pytest.raises(ValueError, match="repeats"):
        median_time(lambda: None, repeats=0)
    with pytest.raises(TypeError, match="fn"):
        peak_memory(3)


def test_timings_returns_every_repeat_after_the_warmup():
    from atencion.profiling import timings

    calls = []
    times = timings(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(times) == 4 and len(calls) == 6 and all(t >= 0 for t in times)
    with pytest.raises(ValueError, match="warmup"):
        timings(lambda: None, warmup=-1)
