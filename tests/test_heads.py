"""Tests for atencion.heads.MultiHeadAttention against torch.nn.MultiheadAttention."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.heads import MultiHeadAttention
from atencion.masks import causal_mask, padding_mask
from atencion.positional import RotaryEmbedding, alibi_bias

TOL64 = dict(atol=1e-10, rtol=1e-8)


def pair(d_model=8, num_heads=2, *, bias=True, seed=0):
    torch.manual_seed(seed)
    ours = MultiHeadAttention(d_model, num_heads, bias=bias).double()
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_(std=0.5)
    ref = torch.nn.MultiheadAttention(d_model, num_heads, bias=bias, batch_first=True).double()
    ref.load_state_dict(ours.state_dict())
    return ours, ref


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cross", [False, True])
@pytest.mark.parametrize("masks", ["none", "causal", "padding", "both"])
def test_matches_torch_multihead_attention(bias, cross, masks):
    """Same weights: same output, per-head weights and gradients; torch's boolean masks
    mean 'blocked', ours 'allowed'."""
    ours, ref = pair(bias=bias)
    g = torch.Generator().manual_seed(1)
    query = torch.randn(3, 5, 8, generator=g, dtype=torch.float64, requires_grad=True)
    memory = torch.randn(3, 5, 8, generator=g, dtype=torch.float64, requires_grad=True) if cross else query
    mask = causal_mask(5, 5) if masks in ("causal", "both") else None
    keep = padding_mask(torch.tensor([5, 3, 4]), 5) if masks in ("padding", "both") else None
    y, w = ours(query, memory, memory, mask=mask, key_mask=keep)
    q2 = query.detach().clone().requires_grad_()
    m2 = memory.detach().clone().requires_grad_() if cross else q2
    y_ref, w_ref = ref(q2, m2, m2, attn_mask=None if mask is None else ~mask,
                       key_padding_mask=None if keep is None else ~keep, average_attn_weights=False)
    torch.testing.assert_close(y, y_ref, **TOL64)
    torch.testing.assert_close(w, w_ref, **TOL64)
    g_out = torch.randn_like(y)
    (y * g_out).sum().backward()
    (y_ref * g_out).sum().backward()
    torch.testing.assert_close(query.grad, q2.grad, **TOL64)
    torch.testing.assert_close(ours.in_proj_weight.grad, ref.in_proj_weight.grad, **TOL64)
    torch.testing.assert_close(ours.out_proj.weight.grad, ref.out_proj.weight.grad, **TOL64)


def test_concatenate_then_project_equals_sum_of_per_head_projections():
    ours, _ = pair(d_model=12, num_heads=3)
    x = torch.randn(2, 4, 12, dtype=torch.float64)
    y, w = ours(x)
    W_q, W_k, W_v = ours.in_proj_weight.split(12)
    b_q, b_k, b_v = ours.in_proj_bias.split(12)
    total = ours.out_proj.bias.clone()
    for m in range(3):  # one head at a time, as a readable reference
        rows = slice(4 * m, 4 * m + 4)
        q, k, v = x @ W_q[rows].T + b_q[rows], x @ W_k[rows].T + b_k[rows], x @ W_v[rows].T + b_v[rows]
        head = torch.softmax(q @ k.transpose(1, 2) / 2.0, -1) @ v  # d_head = 4
        total = total + head @ ours.out_proj.weight[:, rows].T  # head_m W_o^m
    torch.testing.assert_close(y, total, **TOL64)
    assert sum(p.numel() for p in ours.parameters()) == 4 * 12 * 12 + 4 * 12


@pytest.mark.parametrize("masked", [False, True])
def test_fused_path_equals_the_readable_one(masked):
    ours, _ = pair()
    x = torch.randn(2, 6, 8, dtype=torch.float64)
    mask = causal_mask(6) if masked else None
    slow, w = ours(x, mask=mask)
    fast, none = ours(x, mask=mask, need_weights=False)
    assert none is None and w.shape == (2, 2, 6, 6)
    torch.testing.assert_close(fast, slow, **TOL64)


def test_query_with_no_allowed_key_gets_a_zero_head_on_both_paths():
    ours, _ = pair()
    x = torch.randn(1, 3, 8, dtype=torch.float64)
    mask = torch.tensor([[True, False, False], [False, False, False], [True, True, True]])
    slow, w = ours(x, mask=mask)
    fast, _ = ours(x, mask=mask, need_weights=False)
    assert (w[0, :, 1] == 0).all()
    torch.testing.assert_close(slow[0, 1], ours.out_proj.bias, **TOL64)
    torch.testing.assert_close(fast, slow, **TOL64)


def test_attn_bias_is_added_to_the_scores():
    ours, _ = pair()
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    bias = alibi_bias(2, 4).double()
    y, w = ours(x, attn_bias=bias)
    y_masked, _ = ours(x, mask=causal_mask(4), attn_bias=torch.where(bias.isinf(), 0.0, bias))
    torch.testing.assert_close(y, y_masked, **TOL64)
    fast, _ = ours(x, attn_bias=bias, need_weights=False)
    torch.testing.assert_close(fast, y, **TOL64)


@settings(max_examples=20, deadline=None)
@given(shift=st.integers(1, 20), seed=st.integers(0, 1000))
def test_rotary_heads_see_relative_positions_only(shift, seed):
    """With RoPE and no absolute positions, the weights of a sequence do not change when
    every position is shifted (queries and keys rotated by the same extra angle)."""
    torch.manual_seed(seed)
    mha = MultiHeadAttention(8, 2, rotary=RotaryEmbedding(4)).double()
    x = torch.randn(1, 5, 8, dtype=torch.float64)
    _, w = mha(x)
    q, k, _ = mha._project(x, x, x)
    positions = torch.arange(shift, shift + 5)
    q_r, k_r = mha.rotary(q, k, q_positions=positions, k_positions=positions)
    w_shifted = torch.softmax(q_r @ k_r.transpose(-2, -1) / 2.0, -1)
    torch.testing.assert_close(w, w_shifted, **TOL64)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: MultiHeadAttention(10, 3), ValueError, "num_heads: expected a divisor of d_model = 10"),
        (lambda m: MultiHeadAttention(8, 2, rotary=RotaryEmbedding(8)), ValueError, "rotary"),
        (lambda m: m(torch.zeros(2, 3, 7)), ValueError, r"query: expected shape \(B, L, d_model\) with last dim 8"),
        (lambda m: m(torch.zeros(2, 3, 8), torch.zeros(3, 4, 8)), ValueError, "key, value"),
        (lambda m: m(torch.zeros(2, 3, 8), mask=torch.ones(4, 4, dtype=torch.bool)), ValueError, "mask"),
        (lambda m: m(torch.zeros(2, 3, 8), mask=torch.zeros(3, 3)), TypeError, "mask: expected a bool"),
        (lambda m: m(torch.zeros(2, 3, 8), key_mask=torch.ones(2, 3)), TypeError, "key_mask"),
        (lambda m: m(torch.zeros(2, 3, 8), key_mask=torch.ones(2, 4, dtype=torch.bool)), ValueError, "key_mask"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(MultiHeadAttention(8, 2))


# --------------------------------------------------------------------------- collaborative heads


def test_collaborative_attention_with_block_mixing_is_multi_head_attention():
    from atencion.heads import CollaborativeAttention

    torch.manual_seed(0)
    collab = CollaborativeAttention(8, 2, d_shared=8).double()
    mha = MultiHeadAttention(8, 2).double()
    with torch.no_grad():
        collab.mix.copy_(torch.tensor([[1.0] * 4 + [0.0] * 4, [0.0] * 4 + [1.0] * 4]))
        # MultiHeadAttention scales by 1/sqrt(d_head) = 1/2, collaborative by 1/sqrt(d_shared): fold the ratio into W_q
        factor = (4 / 8) ** 0.5
        mha.in_proj_weight.copy_(torch.cat([collab.W_q.weight * factor, collab.W_k.weight, collab.W_v.weight]))
        mha.in_proj_bias.copy_(torch.cat([collab.W_q.bias * factor, collab.W_k.bias, collab.W_v.bias]))
        mha.out_proj.load_state_dict(collab.out_proj.state_dict())
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    mask = causal_mask(5)
    y, w = collab(x, mask)
    y_ref, w_ref = mha(x, mask=mask)
    torch.testing.assert_close(y, y_ref, **TOL64)
    torch.testing.assert_close(w, w_ref, **TOL64)


def test_collaborative_attention_shares_the_key_query_projections():
    from atencion.heads import CollaborativeAttention

    collab = CollaborativeAttention(16, 4, d_shared=6, bias=False)
    count = sum(p.numel() for p in collab.parameters())
    assert count == 2 * 16 * 6 + 4 * 6 + 2 * 16 * 16  # shared W_q, W_k; mixing; W_v, W_o
    y, w = collab(torch.randn(3, 7, 16))
    assert y.shape == (3, 7, 16) and w.shape == (3, 4, 7, 7)
    with pytest.raises(ValueError, match="d_shared"):
        CollaborativeAttention(16, 4, d_shared=0)



def test_ablating_a_head_removes_exactly_its_term():
    from atencion.heads import ablate_heads

    ours, _ = pair(d_model=12, num_heads=3)
    x = torch.randn(2, 4, 12, dtype=torch.float64)
    y, _ = ours(x)
    q, k, v = ours._project(x, x, x)
    head1 = torch.softmax(q[:, 1] @ k[:, 1].transpose(1, 2) / 2.0, -1) @ v[:, 1]  # (B, L, 4)
    without1, _ = ablate_heads(ours, [1])(x)
    torch.testing.assert_close(without1, y - head1 @ ours.out_proj.weight[:, 4:8].T, **TOL64)
    none, _ = ablate_heads(ours, range(3))(x)
    torch.testing.assert_close(none, ours.out_proj.bias.expand_as(none), **TOL64)
    torch.testing.assert_close(ours(x)[0], y)  # the original is untouched
    with pytest.raises(ValueError, match="heads"):
        ablate_heads(ours, [3])
    with pytest.raises(TypeError, match="attention"):
        ablate_heads(torch.nn.Linear(2, 2), [0])


def test_pytorch_style_key_padding_mask_fails_loudly():
    """PyTorch's key_padding_mask is True at *padding*; the book's masks are True where
    attention is allowed. Code ported from PyTorch must not run with the meaning flipped."""
    m = MultiHeadAttention(8, 2)
    padding = torch.tensor([[False, False, True]])
    with pytest.raises(TypeError, match=r"key_mask=~key_padding_mask"):
        m(torch.zeros(1, 3, 8), key_padding_mask=padding)
    y, w = m(torch.randn(1, 3, 8), key_mask=~padding)
    assert (w[..., 2] == 0).all()
