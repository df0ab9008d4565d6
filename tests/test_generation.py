"""Tests for atencion.generation and the key-value cache."""

from __future__ import annotations

import pytest
import torch

from atencion.generation import filter_logits, generate, sample_next
from atencion.heads import KVCache, MultiHeadAttention
from atencion.masks import causal_mask
from atencion.positional import RotaryEmbedding
from atencion.transformer import POSITIONS, SequenceTransformer


def test_top_k_keeps_the_k_largest():
    logits = torch.tensor([[1.0, 5.0, 3.0, 2.0], [0.0, 0.0, 1.0, -1.0]])
    kept = filter_logits(logits, top_k=2).isfinite()
    assert kept.tolist() == [[False, True, True, False], [True, True, True, False]]  # ties kept


def test_top_p_keeps_the_smallest_nucleus_reaching_p():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log()
    assert filter_logits(logits, top_p=0.5).isfinite().tolist() == [[True, False, False, False]]
    assert filter_logits(logits, top_p=0.6).isfinite().tolist() == [[True, True, False, False]]
    assert filter_logits(logits, top_p=0.95).isfinite().tolist() == [[True, True, True, False]]
    assert filter_logits(logits, top_p=1.0).isfinite().all()
    shuffled = logits[:, [2, 0, 3, 1]]  # order in the vocabulary does not matter
    assert filter_logits(shuffled, top_p=0.6).isfinite().tolist() == [[False, True, False, True]]


def test_temperature_sharpens_and_flattens():
    logits = torch.tensor([[2.0, 1.0, 0.0]])
    cold = filter_logits(logits, temperature=0.5).softmax(-1)
    hot = filter_logits(logits, temperature=2.0).softmax(-1)
    assert cold[0, 0] > logits.softmax(-1)[0, 0] > hot[0, 0]


def test_sampling_respects_the_filters_and_the_seed():
    logits = torch.tensor([[0.0, 3.0, 2.9, -5.0]]).expand(2000, 4)
    draws = sample_next(logits, top_k=2, generator=torch.Generator().manual_seed(0))
    assert set(draws.tolist()) == {1, 2}
    again = sample_next(logits, top_k=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(draws, again)
    assert sample_next(logits, greedy=True).eq(1).all()


@pytest.mark.parametrize(("kwargs", "match"), [({"temperature": 0}, "temperature"), ({"top_p": 1.5}, "top_p"),
                                               ({"top_k": 0}, "top_k")])
def test_filter_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        filter_logits(torch.zeros(1, 3), **kwargs)


def decode_step_by_step(model, tokens, prompt_len=4):
    """Logits from feeding the first ``prompt_len`` tokens, then one token at a time, with caches."""
    caches = model.new_caches()
    parts = [model(tokens[:, :prompt_len], caches=caches)[0]]
    parts += [model(tokens[:, t:t + 1], caches=caches)[0] for t in range(prompt_len, tokens.shape[1])]
    return torch.cat(parts, 1), caches


@pytest.mark.parametrize("position", POSITIONS)
def test_cached_decoding_equals_full_recomputation(position):
    torch.manual_seed(0)
    model = SequenceTransformer(13, 16, 2, 2, 32, position=position, max_len=30).double().eval()
    tokens = torch.randint(13, (2, 12))
    full, _ = model(tokens)
    stepwise, caches = decode_step_by_step(model, tokens)
    torch.testing.assert_close(stepwise, full, atol=1e-10, rtol=1e-8)
    assert len(caches[0]) == 12 and caches[0].keys.shape == (2, 2, 12, 8)
    prompt = tokens[:, :3]
    assert torch.equal(generate(model, prompt, 10, greedy=True),
                       generate(model, prompt, 10, greedy=True, use_cache=False))
    a = generate(model, prompt, 10, top_p=0.9, generator=torch.Generator().manual_seed(1))
    b = generate(model, prompt, 10, top_p=0.9, use_cache=False, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)


def test_attention_cache_with_rope_matches_the_full_pass():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2, rotary=RotaryEmbedding(4)).double()
    x = torch.randn(1, 7, 8, dtype=torch.float64)
    full, _ = mha(x, mask=causal_mask(7))
    cache = KVCache()
    first, _ = mha(x[:, :5], mask=causal_mask(5), cache=cache)
    rest, w = mha(x[:, 5:], mask=causal_mask(2, 7), cache=cache)
    torch.testing.assert_close(torch.cat([first, rest], 1), full, atol=1e-10, rtol=1e-8)
    assert w.shape == (1, 2, 2, 7)
    with pytest.raises(ValueError, match="cache: only for self-attention"):
        mha(x, x, x, cache=KVCache())
    with pytest.raises(TypeError, match="cache"):
        mha(x, cache={})


def test_generate_bad_input_and_mode_restored():
    model = SequenceTransformer(5, 8, 2, 1, 16).train()
    with pytest.raises(ValueError, match="prompt"):
        generate(model, torch.zeros(2, 0, dtype=torch.long), 3)
    out = generate(model, torch.zeros(2, 1, dtype=torch.long), 4, greedy=True)
    assert out.shape == (2, 5) and model.training


def test_cached_decoding_with_a_window_equals_full_recomputation():
    torch.manual_seed(0)
    model = SequenceTransformer(13, 16, 2, 2, 32, position="alibi", window=3).double().eval()
    tokens = torch.randint(13, (2, 10))
    full, _ = model(tokens)
    stepwise, caches = decode_step_by_step(model, tokens)
    torch.testing.assert_close(stepwise, full, atol=1e-10, rtol=1e-8)


def test_top_p_one_is_the_identity_even_with_a_long_tail():
    """float32 cumulative sums reach 1 before the last token: p = 1 must keep every token."""
    logits = torch.linspace(0, -30, 5000).repeat(3, 1)
    logits[1] = torch.randn(5000, generator=torch.Generator().manual_seed(0)) * 8
    torch.testing.assert_close(filter_logits(logits, top_p=1.0), logits)
    assert filter_logits(logits, top_p=0.999999).isfinite().sum() < logits.numel()
