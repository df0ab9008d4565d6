"""Tests for atencion.positional: every property the book states about positions is a test."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.positional import (
    LearnedPositionalEmbedding,
    RelativePositionEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    alibi_bias,
    alibi_slopes,
    embed_tokens,
    relative_attention,
    sinusoidal_encoding,
    sinusoidal_shift_matrix,
)

TOL64 = dict(atol=1e-10, rtol=1e-8)


# --------------------------------------------------------------------------- embeddings


def test_embedding_is_one_hot_times_a_matrix_scaled_by_sqrt_d():
    torch.manual_seed(0)
    emb = torch.nn.Embedding(7, 16)
    tokens = torch.tensor([[3, 0, 6]])
    one_hot = F.one_hot(tokens, 7).float()  # (1, 3, 7)
    torch.testing.assert_close(embed_tokens(emb, tokens, scale=False), one_hot @ emb.weight)
    torch.testing.assert_close(embed_tokens(emb, tokens), 4.0 * (one_hot @ emb.weight))
    with pytest.raises(TypeError, match="tokens"):
        embed_tokens(emb, tokens.float())
    with pytest.raises(TypeError, match="embedding"):
        embed_tokens(torch.nn.Linear(2, 2), tokens)


# --------------------------------------------------------------------------- sinusoidal


def test_sinusoidal_matches_the_formula_with_exponent_2i_over_d():
    pe = sinusoidal_encoding(50, 8, dtype=torch.float64)
    for p in (0, 1, 7, 49):
        for i in range(4):
            omega = 1.0 / 10000 ** (2 * i / 8)
            assert math.isclose(pe[p, 2 * i].item(), math.sin(p * omega), abs_tol=1e-12)
            assert math.isclose(pe[p, 2 * i + 1].item(), math.cos(p * omega), abs_tol=1e-12)


def test_sinusoidal_wavelengths_span_2pi_to_2pi_base():
    """The slowest pair has wavelength 2 pi base^((d-2)/d), not 2 pi base^(2(d-2)/d)."""
    d = 512
    pe = sinusoidal_encoding(2, d, dtype=torch.float64)
    slowest = math.atan2(pe[1, d - 2].item(), pe[1, d - 1].item())  # the angle omega_{d/2-1}
    assert math.isclose(2 * math.pi / slowest, 2 * math.pi * 10000 ** ((d - 2) / d), rel_tol=1e-9)


@settings(max_examples=40, deadline=None)
@given(p=st.integers(0, 500), k=st.integers(-200, 200), half=st.integers(1, 16))
def test_sinusoidal_shift_is_a_fixed_linear_map(p, k, half):
    """PE[p + k] = T_k PE[p] with T_k independent of p."""
    d = 2 * half
    if p + k < 0:
        k = -p
    pe = sinusoidal_encoding(p + max(k, 0) + 1, d, dtype=torch.float64)
    T = sinusoidal_shift_matrix(k, d)
    torch.testing.assert_close(T @ pe[p], pe[p + k], **TOL64)


def test_sinusoidal_dot_products_depend_only_on_the_offset():
    pe = sinusoidal_encoding(100, 32, dtype=torch.float64)
    for k in (1, 5, 20):
        dots = (pe[:-k] * pe[k:]).sum(-1)  # PE[p] . PE[p + k] for every p
        torch.testing.assert_close(dots, dots[0].expand_as(dots), **TOL64)


def test_sinusoidal_module_adds_the_encoding_of_every_position_even_in_a_batch():
    """Not the original course's bug: every token of a batched input gets its own position."""
    module = SinusoidalPositionalEncoding(8)
    x = torch.zeros(3, 5, 8)
    torch.testing.assert_close(module(x), sinusoidal_encoding(5, 8).expand(3, 5, 8))
    torch.testing.assert_close(module(torch.zeros(1, 4, 8), offset=10)[0], sinusoidal_encoding(4, 8, offset=10))
    long = module(torch.zeros(1, 300, 8))  # grows its table on demand
    torch.testing.assert_close(long[0], sinusoidal_encoding(300, 8))


def test_sinusoidal_bad_input():
    with pytest.raises(ValueError, match="d_model: expected an even size"):
        sinusoidal_encoding(4, 7)
    with pytest.raises(ValueError, match="base"):
        sinusoidal_encoding(4, 8, base=0)
    with pytest.raises(ValueError, match=r"x: expected shape \(B, L, d_model\) with last dim 8"):
        SinusoidalPositionalEncoding(8)(torch.zeros(5, 8))
    with pytest.raises(TypeError, match="k"):
        sinusoidal_shift_matrix(1.5, 8)


# --------------------------------------------------------------------------- learned


def test_learned_positions_add_one_vector_per_position_and_refuse_longer_inputs():
    torch.manual_seed(0)
    module = LearnedPositionalEmbedding(6, 4)
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(module(x), x + module.embedding.weight[:5])
    torch.testing.assert_close(module(x[:, :2], offset=4), x[:, :2] + module.embedding.weight[4:6])
    with pytest.raises(ValueError, match="max_len = 6"):
        module(torch.randn(1, 7, 4))


# --------------------------------------------------------------------------- RoPE


@settings(max_examples=40, deadline=None)
@given(m=st.integers(0, 300), n=st.integers(0, 300), shift=st.integers(0, 300), seed=st.integers(0, 1000))
def test_rope_scores_depend_only_on_the_offset(m, n, shift, seed):
    rope = RotaryEmbedding(8)
    g = torch.Generator().manual_seed(seed)
    q, k = torch.randn(1, 8, generator=g, dtype=torch.float64), torch.randn(1, 8, generator=g, dtype=torch.float64)

    def at(x, p):
        return rope.rotate(x, torch.tensor([p]))

    score = (at(q, m) * at(k, n)).sum()
    shifted = (at(q, m + shift) * at(k, n + shift)).sum()
    torch.testing.assert_close(score, shifted, **TOL64)


def test_rope_is_a_rotation_of_each_pair():
    rope = RotaryEmbedding(6, base=100.0)
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    y = rope.rotate(x)
    torch.testing.assert_close(y.norm(dim=-1), x.norm(dim=-1), **TOL64)  # norms kept
    torch.testing.assert_close(y[..., 0, :], x[..., 0, :], **TOL64)  # position 0 unchanged
    theta = 1 / 100.0 ** (torch.arange(3, dtype=torch.float64) * 2 / 6)
    angle = 4 * theta[1]  # position 4, pair 1: components 2 and 3
    x1, x2 = x[..., 4, 2], x[..., 4, 3]
    torch.testing.assert_close(y[..., 4, 2], x1 * angle.cos() - x2 * angle.sin(), **TOL64)
    torch.testing.assert_close(y[..., 4, 3], x1 * angle.sin() + x2 * angle.cos(), **TOL64)


def test_rope_bad_input():
    with pytest.raises(ValueError, match="d_head: expected an even size"):
        RotaryEmbedding(5)
    with pytest.raises(ValueError, match=r"x: expected shape \(\.\.\., L, 4\)"):
        RotaryEmbedding(4).rotate(torch.zeros(3, 6))
    with pytest.raises(ValueError, match="positions"):
        RotaryEmbedding(4).rotate(torch.zeros(3, 4), torch.arange(2))


# --------------------------------------------------------------------------- ALiBi


def test_alibi_slopes_follow_the_geometric_sequence():
    torch.testing.assert_close(alibi_slopes(8), torch.tensor([2.0 ** -(i + 1) for i in range(8)]))
    torch.testing.assert_close(alibi_slopes(4), torch.tensor([2.0 ** -(2 * (i + 1)) for i in range(4)]))
    six = alibi_slopes(6)  # not a power of two: the 4-head slopes, then odd ones of the 8-head sequence
    torch.testing.assert_close(six, torch.tensor([2.0 ** -2, 2.0 ** -4, 2.0 ** -6, 2.0 ** -8, 2.0 ** -1, 2.0 ** -3]))
    with pytest.raises(ValueError, match="num_heads"):
        alibi_slopes(0)


def test_alibi_bias_is_minus_slope_times_distance():
    bias = alibi_bias(2, 4)
    slopes = alibi_slopes(2)
    for h in range(2):
        for i in range(4):
            for j in range(4):
                expected = -slopes[h] * (i - j) if j <= i else float("-inf")
                assert bias[h, i, j] == expected
    symmetric = alibi_bias(2, 3, causal=False)
    torch.testing.assert_close(symmetric, symmetric.transpose(1, 2))
    cached = alibi_bias(2, 1, 5)  # one new query, the last of 5 positions
    torch.testing.assert_close(cached[:, 0], -slopes[:, None] * torch.arange(4, -1, -1).float())


# --------------------------------------------------------------------------- Shaw et al.


def test_relative_attention_matches_the_explicit_formula():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 5, 4, generator=g, dtype=torch.float64) for _ in range(3))
    rel = RelativePositionEmbedding(4, max_distance=2).double()
    a_k, a_v = rel(5)
    out, w = relative_attention(q, k, v, a_k, a_v)
    for b in range(2):
        for i in range(5):
            e = torch.stack([q[b, i] @ (k[b, j] + rel.keys.weight[max(-2, min(2, j - i)) + 2]) for j in range(5)]) / 2
            alpha = torch.softmax(e, 0)
            y = sum(alpha[j] * (v[b, j] + rel.values.weight[max(-2, min(2, j - i)) + 2]) for j in range(5))
            torch.testing.assert_close(w[b, i], alpha, **TOL64)
            torch.testing.assert_close(out[b, i], y, **TOL64)


def test_relative_attention_without_positions_is_sdpa_and_is_shift_invariant():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(3, 6, 4, generator=g, dtype=torch.float64) for _ in range(3))
    zeros = torch.zeros(6, 6, 4, dtype=torch.float64)
    out, _ = relative_attention(q, k, v, zeros, zeros)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v), **TOL64)
    rel = RelativePositionEmbedding(4, max_distance=3)
    index = rel.distances(6)
    assert torch.equal(index[1:, 1:], index[:-1, :-1])  # depends on j - i only
    assert index.min() == 0 and index.max() == 6


def test_relative_attention_bad_input():
    q = torch.zeros(2, 5, 4)
    with pytest.raises(ValueError, match=r"rel_keys: expected shape \(5, 5, 4\)"):
        relative_attention(q, q, q, torch.zeros(5, 4, 4), torch.zeros(5, 5, 4))
    with pytest.raises(TypeError, match="value"):
        relative_attention(q, q, q.long(), torch.zeros(5, 5, 4), torch.zeros(5, 5, 4))
