"""Tests for atencion.functional: oracle equivalence, masking, gradients, properties, validation."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.functional import masked_softmax, scaled_dot_product_attention

TOL = {torch.float32: dict(atol=1e-5, rtol=1e-4), torch.float64: dict(atol=1e-12, rtol=1e-10)}


def make_qkv(batch, L, S, E, Ev, *, dtype=torch.float64, seed=0, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, L, E, generator=g, dtype=dtype)
    k = torch.randn(*batch, S, E, generator=g, dtype=dtype)
    v = torch.randn(*batch, S, Ev, generator=g, dtype=dtype)
    return tuple(t.requires_grad_(requires_grad) for t in (q, k, v))


def random_bool_mask(shape, *, seed=0, p_allowed=0.6):
    """Random boolean mask (..., L, S) with at least one allowed key per query row."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(shape, generator=g) < p_allowed
    first = torch.randint(shape[-1], (*shape[:-1], 1), generator=g)  # (..., L, 1)
    return mask.scatter(-1, first, True)


def make_mask(kind, batch, L, S, dtype, seed=1):
    if kind is None:
        return None
    if kind == "bool":
        return random_bool_mask((*batch, L, S), seed=seed)
    if kind == "bool_broadcast":  # one mask shared by every batch element and query: (1, S)
        return random_bool_mask((1, S), seed=seed)
    if kind == "float":
        g = torch.Generator().manual_seed(seed)
        return torch.randn(*batch, L, S, generator=g, dtype=dtype)
    if kind == "float_inf":  # an additive mask with -inf where attention is blocked
        allowed = random_bool_mask((*batch, L, S), seed=seed)
        return torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, float("-inf"))
    raise AssertionError(kind)


# --------------------------------------------------------------------------- oracle


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("mask_kind", [None, "bool", "bool_broadcast", "float", "float_inf"])
@pytest.mark.parametrize("E,Ev", [(8, 8), (4, 6)])
@pytest.mark.parametrize("L,S", [(1, 1), (3, 5), (4, 2)])
@pytest.mark.parametrize("batch", [(), (2,), (2, 3)])
def test_matches_torch_sdpa(batch, L, S, E, Ev, mask_kind, dtype):
    q, k, v = make_qkv(batch, L, S, E, Ev, dtype=dtype)
    mask = make_mask(mask_kind, batch, L, S, dtype)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out.shape == (*batch, L, Ev)
    assert weights.shape == (*batch, L, S)
    assert out.dtype == dtype and weights.dtype == dtype
    torch.testing.assert_close(out, expected, **TOL[dtype])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [0.1, 1.0, 3.0])
def test_custom_scale_matches_torch_sdpa(scale, dtype):
    q, k, v = make_qkv((2,), 3, 5, 4, 6, dtype=dtype)
    mask = random_bool_mask((2, 3, 5))
    out, _ = scaled_dot_product_attention(q, k, v, mask, scale=scale)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    torch.testing.assert_close(out, expected, **TOL[dtype])


def test_default_scale_is_inverse_sqrt_E():
    q, k, v = make_qkv((2,), 3, 5, 9, 4)
    default, _ = scaled_dot_product_attention(q, k, v)
    explicit, _ = scaled_dot_product_attention(q, k, v, scale=1 / 3)
    other, _ = scaled_dot_product_attention(q, k, v, scale=1.0)
    torch.testing.assert_close(default, explicit)
    assert not torch.allclose(default, other)


def test_broadcast_batch_dims_matches_torch_sdpa():
    """Keys/values shared across a broadcast dim, e.g. (2, 1, S, E) against queries (2, 3, L, E)."""
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 4, 8, generator=g, dtype=torch.float64)
    k = torch.randn(2, 1, 5, 8, generator=g, dtype=torch.float64)
    v = torch.randn(1, 1, 5, 6, generator=g, dtype=torch.float64)
    mask = random_bool_mask((2, 1, 1, 5))
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, 3, 4, 6) and weights.shape == (2, 3, 4, 5)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


@pytest.mark.parametrize("mask_kind", [None, "bool", "float"])
def test_weights_equal_explicit_softmax(mask_kind):
    q, k, v = make_qkv((2, 3), 4, 5, 8, 6)
    mask = make_mask(mask_kind, (2, 3), 4, 5, torch.float64)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    scores = q @ k.transpose(-2, -1) / math.sqrt(8)
    if mask_kind == "bool":
        scores = scores.masked_fill(~mask, float("-inf"))
    elif mask_kind == "float":
        scores = scores + mask
    expected = torch.softmax(scores, dim=-1)
    torch.testing.assert_close(weights, expected)
    torch.testing.assert_close(out, expected @ v)


# --------------------------------------------------------------------------- fully masked rows


@pytest.mark.parametrize("mask_dtype", [torch.bool, torch.float64])
def test_fully_masked_row_gives_zeros_and_finite_grads(mask_dtype):
    q, k, v = make_qkv((2,), 3, 4, 5, 6, requires_grad=True)
    allowed = random_bool_mask((2, 3, 4))
    allowed[0, 1] = False  # query 1 of batch 0 may attend to nothing
    mask = allowed if mask_dtype == torch.bool else torch.zeros(2, 3, 4).masked_fill(~allowed, -math.inf)
    out, weights = scaled_dot_product_attention(q, k, v, mask.to(mask_dtype))
    assert torch.equal(weights[0, 1], torch.zeros(4, dtype=torch.float64))
    assert torch.equal(out[0, 1], torch.zeros(6, dtype=torch.float64))
    assert not out.isnan().any() and not weights.isnan().any()
    torch.testing.assert_close(weights.sum(-1)[allowed.any(-1)], torch.ones(5, dtype=torch.float64))
    (out.square().sum() + weights.square().sum()).backward()
    for t in (q, k, v):
        assert torch.isfinite(t.grad).all()
    assert torch.equal(q.grad[0, 1], torch.zeros(5, dtype=torch.float64))  # it influences nothing


def test_everything_masked():
    q, k, v = make_qkv((), 3, 4, 5, 6, requires_grad=True)
    out, weights = scaled_dot_product_attention(q, k, v, torch.zeros(3, 4, dtype=torch.bool))
    assert torch.equal(out, torch.zeros(3, 6, dtype=torch.float64))
    assert torch.equal(weights, torch.zeros(3, 4, dtype=torch.float64))
    out.sum().backward()
    assert all(torch.equal(t.grad, torch.zeros_like(t)) for t in (q, k, v))


def test_masked_softmax_basic():
    scores = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 9.0], [4.0, 5.0, 6.0]], requires_grad=True)
    mask = torch.tensor([[True, True, True], [True, True, False], [False, False, False]])
    w = masked_softmax(scores, mask)
    torch.testing.assert_close(w[0], torch.softmax(scores[0], -1))
    torch.testing.assert_close(w[1], torch.tensor([0.5, 0.5, 0.0]))
    assert torch.equal(w[2], torch.zeros(3))
    w.sum().backward()
    assert torch.isfinite(scores.grad).all()


def test_masked_softmax_float_mask_is_added_and_all_inf_is_zero():
    scores = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    mask = torch.tensor([[0.0, math.log(2.0), -math.inf], [-math.inf] * 3])
    w = masked_softmax(scores, mask)
    torch.testing.assert_close(w[0], torch.softmax(torch.tensor([1.0, 2.0 + math.log(2.0), -math.inf]), -1))
    assert torch.equal(w[1], torch.zeros(3))


def test_masked_softmax_dim_and_broadcast():
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(2, 4, 3, generator=g)
    mask = torch.tensor([True, False, True, True])[:, None]  # (4, 1) broadcast over (2, 4, 3), dim=1
    w = masked_softmax(scores, mask, dim=1)
    assert torch.equal(w[:, 1], torch.zeros(2, 3))
    torch.testing.assert_close(w.sum(1), torch.ones(2, 3))
    torch.testing.assert_close(masked_softmax(scores, dim=0), torch.softmax(scores, 0))


# --------------------------------------------------------------------------- gradcheck


@pytest.mark.parametrize("mask_kind", [None, "bool", "bool_with_empty_row", "float"])
def test_gradcheck(mask_kind):
    q, k, v = make_qkv((2,), 3, 4, 5, 2, requires_grad=True)
    if mask_kind == "bool_with_empty_row":
        mask = random_bool_mask((2, 3, 4))
        mask[1, 2] = False
    else:
        mask = make_mask(mask_kind, (2,), 3, 4, torch.float64)

    def f(q, k, v):
        return scaled_dot_product_attention(q, k, v, mask)

    assert torch.autograd.gradcheck(f, (q, k, v))


def test_gradcheck_masked_softmax_with_empty_slice():
    scores = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0]], dtype=torch.bool)
    assert torch.autograd.gradcheck(lambda s: masked_softmax(s, mask), (scores,))


# --------------------------------------------------------------------------- properties

shapes = st.tuples(
    st.sampled_from([(), (1,), (2,), (2, 3)]),  # batch
    st.integers(1, 5),  # L
    st.integers(1, 6),  # S
    st.integers(1, 4),  # E
    st.integers(1, 3),  # Ev
    st.integers(0, 2**31 - 1),  # seed
)


def random_case(batch, L, S, E, Ev, seed):
    q, k, v = make_qkv(batch, L, S, E, Ev, seed=seed)
    g = torch.Generator().manual_seed(seed + 1)
    mask = torch.rand(*batch, L, S, generator=g) < 0.5  # rows may be fully masked
    return q, k, v, mask, g


@settings(max_examples=60, deadline=None)
@given(shapes)
def test_property_weights_are_a_distribution_over_allowed_keys(shape):
    q, k, v, mask, _ = random_case(*shape)
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    assert (weights >= 0).all()
    assert torch.equal(weights[~mask], torch.zeros_like(weights[~mask]))  # exactly 0
    any_allowed = mask.any(-1)
    torch.testing.assert_close(weights.sum(-1), any_allowed.to(weights.dtype))


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_property_permuting_queries_permutes_outputs(shape):
    q, k, v, mask, g = random_case(*shape)
    perm = torch.randperm(q.shape[-2], generator=g)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    out_p, weights_p = scaled_dot_product_attention(q[..., perm, :], k, v, mask[..., perm, :])
    torch.testing.assert_close(out_p, out[..., perm, :])
    torch.testing.assert_close(weights_p, weights[..., perm, :])


@settings(max_examples=40, deadline=None)
@given(shapes)
def test_property_permuting_keys_and_values_leaves_outputs_unchanged(shape):
    q, k, v, mask, g = random_case(*shape)
    perm = torch.randperm(k.shape[-2], generator=g)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    out_p, weights_p = scaled_dot_product_attention(q, k[..., perm, :], v[..., perm, :], mask[..., perm])
    torch.testing.assert_close(out_p, out)
    torch.testing.assert_close(weights_p, weights[..., perm])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1), st.booleans())
def test_property_masked_softmax_never_nan(n, seed, additive):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(4, n, generator=g, dtype=torch.float64, requires_grad=True)
    mask = torch.rand(4, n, generator=g) < 0.3
    # the same mask as a bool or as an additive float mask (0 / -inf)
    as_given = torch.zeros(4, n, dtype=torch.float64).masked_fill(~mask, -math.inf) if additive else mask
    w = masked_softmax(scores, as_given)
    (w * torch.randn(4, n, generator=g, dtype=torch.float64)).sum().backward()
    assert torch.isfinite(w).all() and torch.isfinite(scores.grad).all()
    torch.testing.assert_close(w.sum(-1), mask.any(-1).to(w.dtype))


# --------------------------------------------------------------------------- dropout


def test_no_dropout_when_not_training():
    q, k, v = make_qkv((2,), 8, 16, 4, 4)
    out0, w0 = scaled_dot_product_attention(q, k, v)
    out1, w1 = scaled_dot_product_attention(q, k, v, dropout_p=0.5, training=False)
    out2, w2 = scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert torch.equal(out0, out1) and torch.equal(w0, w1)
    assert torch.equal(out0, out2) and torch.equal(w0, w2)


def test_dropout_when_training_zeroes_and_rescales():
    p = 0.5
    q, k, v = make_qkv((2,), 8, 16, 4, 4)
    _, clean = scaled_dot_product_attention(q, k, v)
    torch.manual_seed(0)
    out, dropped = scaled_dot_product_attention(q, k, v, dropout_p=p, training=True)
    kept = dropped != 0
    assert (~kept).any() and kept.any()
    torch.testing.assert_close(dropped[kept], clean[kept] / (1 - p))
    torch.testing.assert_close(out, dropped @ v)  # the returned weights are the ones applied


def test_dropout_p_zero_when_training_is_identity():
    q, k, v = make_qkv((2,), 3, 4, 4, 4)
    a, _ = scaled_dot_product_attention(q, k, v)
    b, _ = scaled_dot_product_attention(q, k, v, dropout_p=0.0, training=True)
    assert torch.equal(a, b)


# --------------------------------------------------------------------------- validation


def _qkv():
    return make_qkv((2,), 3, 5, 4, 6, dtype=torch.float32)


BAD_INPUTS = {
    "query not a tensor": (lambda q, k, v: ([[1.0]], k, v, None, {}), TypeError, "query"),
    "key not a tensor": (lambda q, k, v: (q, 3.0, v, None, {}), TypeError, "key"),
    "value not a tensor": (lambda q, k, v: (q, k, None, None, {}), TypeError, "value"),
    "mask not a tensor": (lambda q, k, v: (q, k, v, [[True]], {}), TypeError, "mask"),
    "query 1-D": (lambda q, k, v: (q[0, 0], k, v, None, {}), ValueError, r"query: .*at least 2"),
    "key 1-D": (lambda q, k, v: (q, k[0, 0], v, None, {}), ValueError, r"key: .*at least 2"),
    "value 1-D": (lambda q, k, v: (q, k, v[0, 0], None, {}), ValueError, r"value: .*at least 2"),
    "E mismatch": (lambda q, k, v: (q, k[..., :3], v, None, {}), ValueError, r"key: .*\(\.\.\., S, 4\)"),
    "S mismatch": (lambda q, k, v: (q, k, v[..., :4, :], None, {}), ValueError, r"value: .*\(\.\.\., 5, Ev\)"),
    "batch mismatch": (lambda q, k, v: (q, torch.cat([k, k[:1]]), v, None, {}), ValueError, "batch dims"),
    "integer query": (lambda q, k, v: (q.long(), k.long(), v.long(), None, {}), TypeError, "query"),
    "key dtype": (lambda q, k, v: (q, k.double(), v, None, {}), TypeError, r"key: .*float32"),
    "value dtype": (lambda q, k, v: (q, k, v.half(), None, {}), TypeError, r"value: .*float32"),
    "integer mask": (lambda q, k, v: (q, k, v, torch.ones(3, 5, dtype=torch.long), {}), TypeError, "mask"),
    "mask shape": (
        lambda q, k, v: (q, k, v, torch.ones(3, 7, dtype=torch.bool), {}),
        ValueError,
        r"mask: expected a tensor broadcastable to \(2, 3, 5\) \(\.\.\., L, S\), got shape \(3, 7\)",
    ),
    "mask with extra batch dim": (
        lambda q, k, v: (q, k, v, torch.ones(4, 2, 3, 5, dtype=torch.bool), {}),
        ValueError,
        "mask: ",
    ),
    "dropout_p = 1": (lambda q, k, v: (q, k, v, None, {"dropout_p": 1.0}), ValueError, "dropout_p"),
    "dropout_p < 0": (lambda q, k, v: (q, k, v, None, {"dropout_p": -0.1}), ValueError, "dropout_p"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_raises_naming_the_argument(case):
    build, exc, match = BAD_INPUTS[case]
    q, k, v, mask, kwargs = build(*_qkv())
    with pytest.raises(exc, match=match):
        scaled_dot_product_attention(q, k, v, mask, **kwargs)


@pytest.mark.parametrize(
    "scores,mask,kwargs,exc,match",
    [
        ([1.0, 2.0], None, {}, TypeError, "scores"),
        (torch.tensor([1, 2]), None, {}, TypeError, "scores: .*floating"),
        (torch.tensor(1.0), None, {}, ValueError, "scores"),
        (torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.int64), {}, TypeError, "mask: .*bool"),
        (torch.zeros(2, 3), torch.ones(3, 3, dtype=torch.bool), {}, ValueError, r"mask: .*\(2, 3\)"),
        (torch.zeros(2, 3), None, {"dim": 2}, ValueError, "dim"),
    ],
)
def test_masked_softmax_bad_input(scores, mask, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        masked_softmax(scores, mask, **kwargs)


def test_all_minus_inf_scores_without_a_mask_give_zeros_not_nan():
    scores = torch.tensor([[float("-inf"), float("-inf")], [0.0, float("-inf")], [1.0, 2.0]])
    weights = masked_softmax(scores)
    torch.testing.assert_close(weights[0], torch.zeros(2))
    torch.testing.assert_close(weights[1], torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(weights[2], torch.softmax(scores[2], -1))


def test_masked_softmax_leaves_its_input_alone_and_sdpa_reuses_only_its_own_scores():
    """The attention kernel overwrites its own score tensor to save allocations; the public
    softmax must never modify what it is given, and the values are the same either way."""
    from atencion.functional import masked_softmax, scaled_dot_product_attention

    g = torch.Generator().manual_seed(0)
    scores = torch.randn(2, 3, 5, 5, generator=g)
    mask = torch.rand(5, 5, generator=g) > 0.4
    before = scores.clone()
    weights = masked_softmax(scores, mask)
    assert torch.equal(scores, before)
    q, k, v = (torch.randn(2, 3, 5, 4, generator=g) for _ in range(3))
    with torch.no_grad():
        _, w = scaled_dot_product_attention(q, k, v, mask)
    expected = masked_softmax(q @ k.transpose(-2, -1) * 0.5, mask)
    assert torch.equal(w, expected)
    assert weights.shape == w.shape
