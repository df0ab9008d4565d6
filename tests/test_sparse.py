"""Tests for atencion.sparse: patterns, and the memory-saving computations against dense attention."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.functional import scaled_dot_product_attention
from atencion.sparse import (
    LinformerSelfAttention,
    fixed_mask,
    local_mask,
    sliding_window_attention,
    strided_mask,
    tiled_attention,
)

TOL64 = dict(atol=1e-10, rtol=1e-8)


def qkv(shape=(2, 3), L=23, d=8, dv=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, L, d, generator=g, dtype=torch.float64),
            torch.randn(*shape, L, d, generator=g, dtype=torch.float64),
            torch.randn(*shape, L, dv, generator=g, dtype=torch.float64))


def test_local_mask_has_exactly_window_keys():
    """The original course attended to k positions while its formula promised k + 1."""
    m = local_mask(10, 3)
    assert m.sum(-1).tolist() == [1, 2, 3, 3, 3, 3, 3, 3, 3, 3]
    assert m[5].nonzero()[:, 0].tolist() == [3, 4, 5]
    both = local_mask(10, 3, causal=False)
    assert both[5].nonzero()[:, 0].tolist() == [3, 4, 5, 6, 7]
    assert torch.equal(local_mask(6, 6), torch.ones(6, 6, dtype=torch.bool).tril())


def test_strided_and_fixed_patterns():
    s = strided_mask(12, 4)
    for i in range(12):
        for j in range(12):
            assert s[i, j] == (j <= i and ((i - j) < 4 or (i - j) % 4 == 0))
    f = fixed_mask(12, 4, 2)
    for i in range(12):
        for j in range(12):
            assert f[i, j] == (j <= i and (i // 4 == j // 4 or j % 4 >= 2))
    with pytest.raises(ValueError, match="summary"):
        fixed_mask(8, 2, 3)


def test_two_strided_layers_reach_every_earlier_position():
    """Information flows across layers: the composition of the pattern covers the causal triangle."""
    m = strided_mask(32, 6).double()
    two = (m @ m) > 0
    assert torch.equal(two, torch.ones(32, 32, dtype=torch.bool).tril())
    assert not torch.equal(m > 0, two)


@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 30), window=st.integers(1, 35), causal=st.booleans(), seed=st.integers(0, 1000))
def test_sliding_window_equals_dense_attention_with_the_local_mask(L, window, causal, seed):
    q, k, v = qkv(L=L, seed=seed)
    dense, _ = scaled_dot_product_attention(q, k, v, local_mask(L, window, causal=causal))
    torch.testing.assert_close(sliding_window_attention(q, k, v, window, causal=causal), dense, **TOL64)


def test_sliding_window_gradients_match_dense():
    q, k, v = (t.requires_grad_() for t in qkv(L=9))
    q2, k2, v2 = (t.detach().clone().requires_grad_() for t in (q, k, v))
    sliding_window_attention(q, k, v, 3).sum().backward()
    scaled_dot_product_attention(q2, k2, v2, local_mask(9, 3))[0].sum().backward()
    for a, b in ((q, q2), (k, k2), (v, v2)):
        torch.testing.assert_close(a.grad, b.grad, **TOL64)


@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 40), block=st.integers(1, 50), causal=st.booleans(), seed=st.integers(0, 1000))
def test_tiled_attention_equals_dense(L, block, causal, seed):
    q, k, v = qkv(L=L, seed=seed)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    torch.testing.assert_close(tiled_attention(q, k, v, block=block, causal=causal), expected, **TOL64)


def test_tiled_attention_is_stable_with_huge_scores_and_cross_lengths():
    q, k, v = qkv(L=16)
    q = q * 1e3  # scores of order 1e4: a naive exp would overflow
    torch.testing.assert_close(tiled_attention(q, k, v, block=5), F.scaled_dot_product_attention(q, k, v), **TOL64)
    q_last = q[..., -4:, :]  # 4 queries against 16 keys, causal: the last 4 positions
    expected, _ = scaled_dot_product_attention(q_last, k, v, torch.ones(16, 16, dtype=torch.bool).tril()[-4:])
    torch.testing.assert_close(tiled_attention(q_last, k, v, block=3, causal=True), expected, **TOL64)


def test_linformer_shapes_and_limits():
    torch.manual_seed(0)
    m = LinformerSelfAttention(16, 4, max_len=32, k=8)
    assert m(torch.randn(2, 20, 16)).shape == (2, 20, 16)
    with pytest.raises(ValueError, match="max_len = 32"):
        m(torch.randn(1, 33, 16))
    with pytest.raises(ValueError, match="num_heads"):
        LinformerSelfAttention(10, 4, 8, 2)


def test_linformer_with_identity_projections_is_exact_attention():
    torch.manual_seed(0)
    m = LinformerSelfAttention(8, 2, max_len=6, k=6).double()
    with torch.no_grad():
        m.E.copy_(torch.eye(6))
        m.F.copy_(torch.eye(6))
    x = torch.randn(2, 6, 8, dtype=torch.float64)
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_weight.copy_(m.qkv.weight)
        mha.in_proj_bias.copy_(m.qkv.bias)
        mha.out_proj.load_state_dict(m.out.state_dict())
    torch.testing.assert_close(m(x), mha(x, x, x, need_weights=False)[0], **TOL64)


def test_bad_input():
    q, k, v = qkv(L=5)
    with pytest.raises(ValueError, match="window"):
        sliding_window_attention(q, k, v, 0)
    with pytest.raises(ValueError, match="query, key, value"):
        sliding_window_attention(q, k[..., :4, :], v, 2)
    with pytest.raises(TypeError, match="query"):
        tiled_attention(q.long(), k, v)
    with pytest.raises(ValueError, match="block"):
        tiled_attention(q, k, v, block=0)


def test_reachability_counts_layers():
    from atencion.sparse import reachability

    L, W = 40, 4
    reach = reachability(local_mask(L, W), 20)
    first = int(reach[:, L - 1, 0].float().argmax()) + 1  # first layer count reaching (L-1, 0)
    assert first == -(-(L - 1) // (W - 1))  # ceil((L - 1) / (W - 1))
    assert torch.equal(reach[0], local_mask(L, W))
    assert torch.equal(reachability(strided_mask(L, 7), 2)[1], torch.ones(L, L, dtype=torch.bool).tril())
    with pytest.raises(ValueError, match="mask"):
        reachability(torch.ones(3, 4, dtype=torch.bool), 2)


def test_local_mask_for_cached_queries():
    full = local_mask(10, 3)
    assert torch.equal(local_mask(4, 3, S=10), full[-4:])
    with pytest.raises(ValueError, match="S"):
        local_mask(5, 2, S=3)
