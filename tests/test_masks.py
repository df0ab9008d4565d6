"""Tests for atencion.masks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.functional import scaled_dot_product_attention
from atencion.masks import causal_mask, key_padding_to_attention_mask, padding_mask


def test_padding_mask_values():
    mask = padding_mask(torch.tensor([2, 0, 3]))
    expected = torch.tensor([[True, True, False], [False, False, False], [True, True, True]])
    assert mask.dtype == torch.bool
    assert torch.equal(mask, expected)


def test_padding_mask_max_len():
    mask = padding_mask(torch.tensor([1, 2]), max_len=4)
    assert torch.equal(mask, torch.tensor([[True, False, False, False], [True, True, False, False]]))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 8), min_size=1, max_size=6), st.integers(0, 3))
def test_property_padding_mask_counts(lengths, extra):
    lengths_t = torch.tensor(lengths)
    mask = padding_mask(lengths_t, max_len=max(lengths) + extra)
    assert mask.shape == (len(lengths), max(lengths) + extra)
    assert torch.equal(mask.sum(-1), lengths_t)
    # real tokens are a prefix: once False, stays False
    assert torch.equal(mask, mask.cummin(-1).values)


@pytest.mark.parametrize(
    "lengths,max_len,exc,match",
    [
        ([2, 3], None, TypeError, "lengths"),
        (torch.tensor([[2, 3]]), None, ValueError, r"lengths: .*1-D"),
        (torch.tensor([2.0, 3.0]), None, TypeError, r"lengths: .*integer"),
        (torch.tensor([True, False]), None, TypeError, r"lengths: .*integer"),
        (torch.tensor([2, -1]), None, ValueError, r"lengths: .*non-negative"),
        (torch.tensor([2, 5]), 4, ValueError, r"max_len: .*>= max\(lengths\) = 5"),
        (torch.tensor([2, 5]), 5.0, TypeError, "max_len"),
    ],
)
def test_padding_mask_bad_input(lengths, max_len, exc, match):
    with pytest.raises(exc, match=match):
        padding_mask(lengths, max_len)


def test_causal_mask_square():
    expected = torch.tensor([[True, False, False], [True, True, False], [True, True, True]])
    mask = causal_mask(3)
    assert mask.dtype == torch.bool
    assert torch.equal(mask, expected)


def test_causal_mask_aligned_to_end_for_kv_cache():
    # 2 new queries at positions 3 and 4 of a 5-token sequence
    expected = torch.tensor([[True, True, True, True, False], [True, True, True, True, True]])
    assert torch.equal(causal_mask(2, 5), expected)
    # the last rows of the full mask
    assert torch.equal(causal_mask(2, 5), causal_mask(5)[-2:])


def test_causal_mask_single_query_sees_everything():
    assert causal_mask(1, 4).all()


def test_causal_attention_ignores_future_tokens():
    """Changing a future key/value must not change earlier outputs."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 5, 4, generator=g) for _ in range(3))
    out, _ = scaled_dot_product_attention(q, k, v, causal_mask(5))
    k2, v2 = k.clone(), v.clone()
    k2[:, 3:] += 1.0
    v2[:, 3:] -= 2.0
    out2, _ = scaled_dot_product_attention(q, k2, v2, causal_mask(5))
    torch.testing.assert_close(out2[:, :3], out[:, :3])
    assert not torch.allclose(out2[:, 3:], out[:, 3:])


@pytest.mark.parametrize(
    "L,S,exc,match",
    [(-1, None, ValueError, "L: "), (2, -3, ValueError, "S: "), (2.0, None, TypeError, "L: "),
     (True, None, TypeError, "L: "), (2, 3.0, TypeError, "S: ")],
)
def test_causal_mask_bad_input(L, S, exc, match):
    with pytest.raises(exc, match=match):
        causal_mask(L, S)


def test_key_padding_to_attention_mask_masks_padded_keys():
    key_padding = padding_mask(torch.tensor([3, 1]))  # (2, 3)
    mask = key_padding_to_attention_mask(key_padding)
    assert mask.shape == (2, 1, 3)
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 4, 5, generator=g)
    k = torch.randn(2, 3, 5, generator=g)
    v = torch.randn(2, 3, 6, generator=g)
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.equal(weights[1, :, 1:], torch.zeros(4, 2))
    torch.testing.assert_close(weights[1, :, 0], torch.ones(4))


@pytest.mark.parametrize(
    "key_padding,exc",
    [(torch.ones(2, 3), TypeError), (torch.ones(2, 3, 1, dtype=torch.bool), ValueError), ([[True]], TypeError)],
)
def test_key_padding_to_attention_mask_bad_input(key_padding, exc):
    with pytest.raises(exc, match="key_padding"):
        key_padding_to_attention_mask(key_padding)


# --------------------------------------------------------------------------- graphs and grids


def test_adjacency_mask_adds_self_loops_and_accepts_any_dtype():
    from atencion.masks import adjacency_mask

    adjacency = torch.tensor([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    with_loops = adjacency_mask(adjacency)
    assert with_loops.dtype == torch.bool
    assert torch.equal(with_loops, (adjacency != 0) | torch.eye(3, dtype=torch.bool))
    assert torch.equal(adjacency_mask(adjacency.float() * 0.3, self_loops=False), adjacency != 0)
    assert torch.equal(adjacency_mask(adjacency.bool()), with_loops)
    batched = adjacency_mask(torch.zeros(2, 4, 4))
    assert torch.equal(batched, torch.eye(4, dtype=torch.bool).expand(2, 4, 4))


def test_adjacency_mask_restricts_attention_to_neighbours():
    from atencion.masks import adjacency_mask

    g = torch.Generator().manual_seed(0)
    adjacency = torch.rand(5, 5, generator=g) < 0.4
    q, k, v = (torch.randn(2, 5, 3, generator=g, dtype=torch.float64) for _ in range(3))
    _, weights = scaled_dot_product_attention(q, k, v, adjacency_mask(adjacency))
    allowed = adjacency | torch.eye(5, dtype=torch.bool)
    assert (weights[:, ~allowed] == 0).all()
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 5, dtype=torch.float64))


@pytest.mark.parametrize(
    ("adjacency", "error", "match"),
    [
        ([[1]], TypeError, "adjacency: expected a torch.Tensor"),
        (torch.ones(3, 4), ValueError, r"adjacency: expected a square matrix"),
        (torch.ones(3), ValueError, "square"),
        (torch.ones(2, 2, dtype=torch.complex64), TypeError, "adjacency"),
    ],
)
def test_adjacency_mask_bad_input(adjacency, error, match):
    from atencion.masks import adjacency_mask

    with pytest.raises(error, match=match):
        adjacency_mask(adjacency)


@settings(max_examples=30, deadline=None)
@given(height=st.integers(1, 6), width=st.integers(1, 6), radius=st.integers(0, 3))
def test_grid_mask_matches_its_definition(height, width, radius):
    from atencion.masks import grid_mask

    mask = grid_mask(height, width, radius=radius)
    expected = torch.zeros(height * width, height * width, dtype=torch.bool)
    for i in range(height * width):  # the definition, pixel pair by pixel pair
        for j in range(height * width):
            ri, ci, rj, cj = i // width, i % width, j // width, j % width
            expected[i, j] = abs(ri - rj) <= radius and abs(ci - cj) <= radius
    assert torch.equal(mask, expected)


def test_grid_mask_window_sizes():
    from atencion.masks import grid_mask

    counts = grid_mask(5, 5).sum(-1).view(5, 5)
    assert counts[2, 2] == 9 and counts[0, 0] == 4 and counts[0, 2] == 6
    assert torch.equal(grid_mask(3, 4, radius=0), torch.eye(12, dtype=torch.bool))
    with pytest.raises(ValueError, match="radius"):
        grid_mask(3, 3, radius=-1)
    with pytest.raises(TypeError, match="height"):
        grid_mask(3.0, 3)
    with pytest.raises(ValueError, match="width"):
        grid_mask(3, 0)
