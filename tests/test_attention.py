"""Tests for atencion.attention: SelfAttention against PyTorch, its algebra, equivariance,
masks, gradients and input validation; SetScorer's equivariance and its baseline."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.attention import SelfAttention, SetScorer
from atencion.masks import key_padding_to_attention_mask, padding_mask

TOL64 = dict(atol=1e-10, rtol=1e-8)


def inputs(B=2, L=5, d=8, *, seed=0, dtype=torch.float64):
    return torch.randn(B, L, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def module(d_model=8, d_k=None, d_v=None, *, bias=False, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return SelfAttention(d_model, d_k, d_v, bias=bias).to(dtype)


# --------------------------------------------------------------------------- oracles


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("d_k,d_v", [(None, None), (4, 6), (16, 3)])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_torch_sdpa_on_the_projections(bias, d_k, d_v, masked):
    m, x = module(8, d_k, d_v, bias=bias), inputs()
    mask = torch.rand(2, 5, 5, generator=torch.Generator().manual_seed(1)) < 0.6
    mask |= torch.eye(5, dtype=torch.bool)  # every query keeps at least one key
    y, w = m(x, mask if masked else None)
    q, k, v = m.W_q(x), m.W_k(x), m.W_v(x)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask if masked else None)
    assert y.shape == (2, 5, m.d_v) and w.shape == (2, 5, 5)
    torch.testing.assert_close(y, expected, **TOL64)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_torch_multihead_attention_with_one_head(bias, masked):
    """nn.MultiheadAttention with one head, an identity output projection and the same
    weights computes the same output, weights and input gradients. Its boolean mask
    means the opposite (True = blocked), so ours is inverted."""
    d, L = 8, 6
    m = module(d, bias=bias)
    mha = torch.nn.MultiheadAttention(d, 1, bias=bias, batch_first=True).to(torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([m.W_q.weight, m.W_k.weight, m.W_v.weight]))
        if bias:
            mha.in_proj_bias.copy_(torch.cat([m.W_q.bias, m.W_k.bias, m.W_v.bias]))
            mha.out_proj.bias.zero_()
        mha.out_proj.weight.copy_(torch.eye(d))
    mask = torch.ones(L, L, dtype=torch.bool).tril() if masked else None
    x1 = inputs(3, L, d).requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    y, w = m(x1, mask)
    y_ref, w_ref = mha(x2, x2, x2, attn_mask=None if mask is None else ~mask, need_weights=True)
    torch.testing.assert_close(y, y_ref, **TOL64)
    torch.testing.assert_close(w, w_ref, **TOL64)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    (y_ref * g).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, **TOL64)
    torch.testing.assert_close(m.W_q.weight.grad, mha.in_proj_weight.grad[:d], **TOL64)


def test_pairwise_form_equals_matrix_form():
    """e_ij = q_i . k_j / sqrt(d_k), alpha_ij = softmax_j, y_i = sum_j alpha_ij v_j."""
    m, x = module(8, 4, 3), inputs()
    y, w = m(x)
    q, k, v = m.W_q(x), m.W_k(x), m.W_v(x)
    e = torch.einsum("bid,bjd->bij", q, k) / math.sqrt(4)  # row i: query i
    alpha = torch.softmax(e, dim=-1)
    torch.testing.assert_close(w, alpha, **TOL64)
    torch.testing.assert_close(y, torch.einsum("bij,bjv->biv", alpha, v), **TOL64)


@pytest.mark.parametrize("d_k", [2, 8, 16])
def test_scores_are_the_bilinear_form(d_k):
    m, x = module(8, d_k), inputs()
    W = m.bilinear_form()
    assert W.shape == (8, 8)
    torch.testing.assert_close(m.scores(x), x @ W @ x.transpose(1, 2), **TOL64)
    assert torch.linalg.matrix_rank(W) <= d_k


def test_scores_give_the_weights():
    m, x = module(), inputs()
    torch.testing.assert_close(torch.softmax(m.scores(x), -1), m(x)[1], **TOL64)


def test_default_sizes_and_scale():
    m = SelfAttention(12)
    assert (m.d_k, m.d_v) == (12, 12)
    assert SelfAttention(12, 4).d_v == 4
    assert m.W_q.bias is None and SelfAttention(12, bias=True).W_q.bias is not None
    m64, x = module(8, 2), inputs()
    q, k = m64.W_q(x), m64.W_k(x)
    torch.testing.assert_close(m64.scores(x), q @ k.transpose(1, 2) / math.sqrt(2), **TOL64)


# --------------------------------------------------------------------------- properties


@settings(max_examples=30, deadline=None)
@given(L=st.integers(1, 7), seed=st.integers(0, 10_000))
def test_permutation_equivariance(L, seed):
    """SA(P X) = P SA(X), and the weights become P A P^T."""
    m, x = module(6, 4, 5, bias=True, seed=seed), inputs(2, L, 6, seed=seed)
    perm = torch.randperm(L, generator=torch.Generator().manual_seed(seed))
    y, w = m(x)
    y_p, w_p = m(x[:, perm])
    torch.testing.assert_close(y_p, y[:, perm], **TOL64)
    torch.testing.assert_close(w_p, w[:, perm][:, :, perm], **TOL64)


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=3), seed=st.integers(0, 10_000))
def test_padding_changes_nothing_for_real_positions(lengths, seed):
    """With a key-padding mask, the values at padded positions cannot reach real ones."""
    S = max(lengths)
    m, x = module(6, seed=seed), inputs(len(lengths), S, 6, seed=seed)
    real = padding_mask(torch.tensor(lengths), S)  # (B, S)
    mask = key_padding_to_attention_mask(real)  # (B, 1, S)
    y, w = m(x, mask)
    noise = inputs(len(lengths), S, 6, seed=seed + 1)
    y2, _ = m(torch.where(real[..., None], x, noise), mask)
    torch.testing.assert_close(y[real], y2[real], **TOL64)
    assert (w.masked_select(~mask.expand_as(w)) == 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:2], dtype=w.dtype))


def test_outputs_are_convex_combinations_of_values():
    m, x = module(8, 4, 2), inputs(1, 6, 8)
    y, w = m(x)
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(1, 6, dtype=torch.float64))
    v = m.W_v(x)
    assert (y.amin(1) >= v.amin(1) - 1e-12).all() and (y.amax(1) <= v.amax(1) + 1e-12).all()


def test_gradcheck():
    m, x = module(4, 3, 2, bias=True), inputs(2, 3, 4).requires_grad_()
    mask = torch.ones(3, 3, dtype=torch.bool).tril()
    assert torch.autograd.gradcheck(lambda t: m(t, mask)[0], (x,))


def test_dropout_only_in_training():
    torch.manual_seed(0)
    m = SelfAttention(8, dropout=0.5)
    x = inputs(dtype=torch.float32)
    m.eval()
    torch.testing.assert_close(m(x)[0], m(x)[0])
    m.train()
    assert not torch.allclose(m(x)[1], m(x)[1])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((0,), {}, ValueError, "d_model"),
        ((8, 0), {}, ValueError, "d_k"),
        ((8, None, 2.5), {}, ValueError, "d_v"),
        ((8,), {"bias": 1}, TypeError, "bias"),
        ((8,), {"dropout": 1.0}, ValueError, "dropout"),
    ],
)
def test_bad_construction(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        SelfAttention(*args, **kwargs)


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        ([[1.0]], TypeError, r"x: expected a torch.Tensor \(B, L, d_model\)"),
        (torch.ones(2, 5, 8, dtype=torch.long), TypeError, "x: expected a floating tensor"),
        (torch.ones(5, 8), ValueError, r"x: expected shape \(B, L, d_model\) with last dim 8"),
        (torch.ones(2, 5, 7), ValueError, "last dim 8"),
    ],
)
def test_bad_input(x, error, match):
    with pytest.raises(error, match=match):
        SelfAttention(8)(x)


def test_bad_mask_names_the_mask():
    with pytest.raises(ValueError, match="mask"):
        SelfAttention(8)(torch.ones(2, 5, 8), torch.ones(2, 4, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask"):
        SelfAttention(8)(torch.ones(2, 5, 8), torch.ones(5, 5, dtype=torch.long))


# --------------------------------------------------------------------------- SetScorer


@pytest.mark.parametrize("attention", [True, False])
@pytest.mark.parametrize("layers", [1, 2])
def test_set_scorer_shapes_and_equivariance(attention, layers):
    torch.manual_seed(0)
    m = SetScorer(5, 16, layers=layers, attention=attention).double()
    x = inputs(3, 7, 5)
    scores, weights = m(x)
    assert scores.shape == (3, 7)
    assert len(weights) == (layers if attention else 0)
    assert all(w.shape == (3, 7, 7) for w in weights)
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(2))
    scores_p, weights_p = m(x[:, perm])
    torch.testing.assert_close(scores_p, scores[:, perm], **TOL64)
    for w, w_p in zip(weights, weights_p):
        torch.testing.assert_close(w_p, w[:, perm][:, :, perm], **TOL64)


def test_set_scorer_baseline_cannot_compare_elements():
    """Without attention, an element's score ignores the others; with it, it does not."""
    torch.manual_seed(0)
    x = inputs(1, 6, 5)
    changed = x.clone()
    changed[0, 3] += 1.0  # change element 3 only
    for attention in (False, True):
        m = SetScorer(5, 16, attention=attention).double()
        others = [0, 1, 2, 4, 5]
        same = torch.allclose(m(x)[0][0, others], m(changed)[0][0, others])
        assert same is (not attention)


def test_set_scorer_bad_input():
    with pytest.raises(ValueError, match="in_features"):
        SetScorer(0)
    with pytest.raises(ValueError, match="layers"):
        SetScorer(4, layers=0)
    with pytest.raises(ValueError, match=r"x: expected shape \(B, N, in_features\) with last dim 4"):
        SetScorer(4)(torch.ones(2, 3, 5))
