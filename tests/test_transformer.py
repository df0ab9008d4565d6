"""Tests for atencion.transformer: EncoderBlock against torch.nn.TransformerEncoderLayer
(both norm_first settings), the parallel block, and SequenceTransformer's causality."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.masks import causal_mask, padding_mask
from atencion.transformer import POSITIONS, EncoderBlock, SequenceTransformer, xavier_init_

TOL64 = dict(atol=1e-9, rtol=1e-7)


def block_pair(norm_first, activation="relu", seed=0):
    torch.manual_seed(seed)
    ours = EncoderBlock(8, 2, 16, norm_first=norm_first, activation=activation).double()
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_(std=0.4)
    ref = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation,
                                           batch_first=True, norm_first=norm_first).double()
    ref.load_state_dict(ours.state_dict())
    return ours, ref


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_torch_transformer_encoder_layer(norm_first, activation, masked):
    ours, ref = block_pair(norm_first, activation)
    ref.eval()  # no dropout; also keeps torch off its fused inference path only when grads are on
    x = torch.randn(3, 5, 8, dtype=torch.float64, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    mask = causal_mask(5) if masked else None
    keep = padding_mask(torch.tensor([5, 4, 2]), 5) if masked else None
    y, w = ours(x, mask=mask, key_mask=keep)
    y_ref = ref(x2, src_mask=None if mask is None else ~mask,
                src_key_padding_mask=None if keep is None else ~keep)
    assert w.shape == (3, 2, 5, 5)
    torch.testing.assert_close(y, y_ref, **TOL64)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    (y_ref * g).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, **TOL64)
    torch.testing.assert_close(ours.linear1.weight.grad, ref.linear1.weight.grad, **TOL64)
    torch.testing.assert_close(ours.norm1.weight.grad, ref.norm1.weight.grad, **TOL64)


def test_block_formulas():
    """Post-norm: norm(x + f(x)); pre-norm: x + f(norm(x)); parallel: x + attn(n(x)) + ff(n(x))."""
    torch.manual_seed(0)
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    for kind in ("post", "pre", "parallel"):
        block = EncoderBlock(8, 2, 16, norm_first=kind != "post", parallel=kind == "parallel").double()

        def attn(h, block=block):
            return block.self_attn(h)[0]

        if kind == "post":
            h = block.norm1(x + attn(x))
            expected = block.norm2(h + block.ff(h))
        elif kind == "pre":
            h = x + attn(block.norm1(x))
            expected = h + block.ff(block.norm2(h))
        else:
            n = block.norm1(x)
            expected = x + attn(n) + block.ff(n)
            assert block.norm2 is None
        torch.testing.assert_close(block(x)[0], expected, **TOL64)
    with pytest.raises(ValueError, match="parallel"):
        EncoderBlock(8, 2, 16, parallel=True)


def test_rms_norm_and_swiglu_blocks_run():
    block = EncoderBlock(8, 2, 16, norm_first=True, norm="rms", activation="swiglu")
    y, _ = block(torch.randn(2, 3, 8))
    assert y.shape == (2, 3, 8)
    assert type(block.norm1).__name__ == "RMSNorm" and block.ff.gate is not None


@settings(max_examples=12, deadline=None)
@given(position=st.sampled_from(POSITIONS), cut=st.integers(1, 9), seed=st.integers(0, 100))
def test_causal_model_never_sees_the_future(position, cut, seed):
    torch.manual_seed(seed)
    model = SequenceTransformer(11, 16, 2, 2, 32, position=position, max_len=10).double().eval()
    tokens = torch.randint(11, (2, 10))
    changed = tokens.clone()
    changed[:, cut:] = torch.randint(11, (2, 10 - cut))
    a, _ = model(tokens)
    b, _ = model(changed)
    torch.testing.assert_close(a[:, :cut], b[:, :cut], **TOL64)


@pytest.mark.parametrize("position", POSITIONS)
def test_sequence_transformer_shapes_and_positions(position):
    torch.manual_seed(0)
    model = SequenceTransformer(7, 16, 4, 2, 32, position=position, max_len=12, causal=False).double().eval()
    tokens = torch.randint(7, (3, 12))
    logits, weights = model(tokens)
    assert logits.shape == (3, 12, 7) and len(weights) == 2 and weights[0].shape == (3, 4, 12, 12)
    perm = torch.tensor([3, 0, 7, 1, 11, 5, 2, 9, 4, 10, 6, 8])  # not a reversal: ALiBi's |i - j| would survive it
    permuted, _ = model(tokens[:, perm])
    same = torch.allclose(permuted, logits[:, perm])
    assert same is (position == "none")  # without positions the model is permutation equivariant


def test_weight_tying_and_bad_input():
    model = SequenceTransformer(9, 16, 2, 1, 32, tie_weights=True)
    assert model.output.weight is model.embedding.weight
    with pytest.raises(ValueError, match="position"):
        SequenceTransformer(9, 16, 2, 1, 32, position="absolute")
    with pytest.raises(ValueError, match="max_len"):
        SequenceTransformer(9, 16, 2, 1, 32, position="learned")
    with pytest.raises(ValueError, match="tokens"):
        model(torch.zeros(3, dtype=torch.long))


def test_xavier_init_touches_only_the_block_matrices():
    torch.manual_seed(0)
    model = SequenceTransformer(9, 64, 4, 2, 256, activation="swiglu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert xavier_init_(model) is model
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    expected = {f"blocks.{i}.{name}" for i in range(2) for name in (
        "self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "ff.gate.weight",
        "linear2.weight")}  # the state dict names the feed-forward matrices as PyTorch's layer does
    assert changed == expected
    w = model.blocks[0].ff.linear1.weight  # (256, 64): variance 2 / (64 + 256)
    assert abs(w.var().item() - 2 / 320) < 0.1 * 2 / 320
    with pytest.raises(ValueError, match="EncoderBlock"):
        xavier_init_(torch.nn.Linear(2, 2))


@settings(max_examples=8, deadline=None)
@given(window=st.integers(1, 4), seed=st.integers(0, 100))
def test_windowed_model_forgets_what_the_window_cannot_reach(window, seed):
    torch.manual_seed(seed)
    layers = 2
    model = SequenceTransformer(11, 16, 2, layers, 32, position="rope", window=window).double().eval()
    tokens = torch.randint(11, (1, 14))
    horizon = layers * (window - 1)  # position i sees i - horizon .. i
    changed = tokens.clone()
    changed[0, 0] = (tokens[0, 0] + 1) % 11  # change the first token only
    a, _ = model(tokens)
    b, _ = model(changed)
    torch.testing.assert_close(a[0, horizon + 1:], b[0, horizon + 1:], atol=1e-10, rtol=1e-8)
    assert not torch.allclose(a[0, horizon], b[0, horizon])
    wide = SequenceTransformer(11, 16, 2, layers, 32, position="rope", window=14)
    plain = SequenceTransformer(11, 16, 2, layers, 32, position="rope")
    plain.load_state_dict(wide.state_dict())
    torch.testing.assert_close(wide(tokens)[0], plain(tokens)[0])
    narrow = SequenceTransformer(11, 16, 2, layers, 32, position="rope", window=window)
    narrow.load_state_dict(plain.state_dict())
    torch.testing.assert_close(plain(tokens, window=window)[0], narrow(tokens)[0])  # per-call override
    with pytest.raises(ValueError, match="window"):
        SequenceTransformer(11, 16, 2, layers, 32, window=3, causal=False)


@pytest.mark.parametrize("norm_first", [False, True])
def test_state_dict_loads_directly_both_ways_with_torch_encoder_layer(norm_first):
    """The docstring promises that weights move between EncoderBlock and
    torch.nn.TransformerEncoderLayer with load_state_dict, unchanged, in both directions."""
    torch.manual_seed(0)
    ours = EncoderBlock(8, 2, 16, norm_first=norm_first).double()
    ref = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first).double()
    ref.load_state_dict(ours.state_dict())  # strict: same keys, same shapes
    x = torch.randn(2, 5, 8, dtype=torch.float64)
    torch.testing.assert_close(ours(x)[0], ref.eval()(x), **TOL64)
    other = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, norm_first=norm_first).double()
    ours.load_state_dict(other.state_dict())  # and back
    torch.testing.assert_close(ours(x)[0], other.eval()(x), **TOL64)
    # the block's own submodule names still work, through the same keys
    assert ours.ff.linear1.weight is ours.linear1.weight
    torch.testing.assert_close(ours.ff.linear1.weight, other.linear1.weight)
    inner = torch.nn.Sequential(EncoderBlock(8, 2, 16)).double()  # keys under a prefix
    inner.load_state_dict({f"0.{k}": v for k, v in other.state_dict().items()})


def test_swiglu_block_keeps_its_gate_in_the_state_dict():
    block = EncoderBlock(8, 2, 16, activation="swiglu")
    state = block.state_dict()
    assert {"linear1.weight", "ff.gate.weight", "linear2.weight"} <= set(state)
    EncoderBlock(8, 2, 16, activation="swiglu").load_state_dict(state)
