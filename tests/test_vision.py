"""Tests for atencion.vision: patches, patch embedding, the ViT against transformers' ViTModel,
attention rollout."""

from __future__ import annotations

import pytest
import torch
from transformers import ViTConfig, ViTForImageClassification

from atencion.vision import PatchEmbedding, VisionTransformer, attention_rollout, patchify, vit_state_dict_from_hf


def test_patchify_cuts_patches_row_by_row():
    image = torch.arange(2 * 4 * 6, dtype=torch.float32).view(1, 2, 4, 6)  # C=2, H=4, W=6
    patches = patchify(image, 2)  # N = 4·6 / 2² = 6
    assert patches.shape == (1, 6, 2 * 2 * 2)
    # patch 4 is row 1, column 1: pixels (2..3, 2..3) of channel 0, then of channel 1
    expected = torch.cat([image[0, c, 2:4, 2:4].flatten() for c in range(2)])
    assert torch.equal(patches[0, 4], expected)
    assert patchify(torch.zeros(3, 1, 12, 8), 4).shape == (3, 6, 16)  # N = HW / P² = 96 / 16


def test_patch_embedding_is_a_linear_map_of_flattened_patches():
    torch.manual_seed(0)
    embed = PatchEmbedding(3, 4, 16)
    images = torch.randn(2, 3, 8, 12)
    conv = embed(images)  # (B, N, d)
    linear = patchify(images, 4) @ embed.projection.weight.flatten(1).T + embed.projection.bias
    assert conv.shape == (2, 6, 16)
    torch.testing.assert_close(conv, linear, atol=1e-5, rtol=1e-5)


def small_pair(num_layers=2, **kw):
    config = ViTConfig(image_size=8, patch_size=2, num_channels=1, hidden_size=32, num_hidden_layers=num_layers,
                       num_attention_heads=4, intermediate_size=64, hidden_act="gelu", layer_norm_eps=1e-12,
                       num_labels=10, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                       attn_implementation="eager")
    torch.manual_seed(0)
    theirs = ViTForImageClassification(config).eval()
    ours = VisionTransformer(8, 2, 1, 10, d_model=32, num_heads=4, num_layers=num_layers, d_ff=64, **kw).eval()
    with torch.no_grad():
        for p in theirs.parameters():  # nothing left at its init value of zero or one
            p.add_(0.1 * torch.randn_like(p))
    ours.load_state_dict(vit_state_dict_from_hf(theirs.state_dict()))
    return ours, theirs


def test_vit_equals_transformers_vit_with_the_same_weights():
    ours, theirs = small_pair()
    images = torch.rand(5, 1, 8, 8)
    out = theirs(pixel_values=images, output_hidden_states=True, output_attentions=True)
    logits, weights = ours(images, need_weights=True)
    hidden, _ = ours.hidden_states(images)
    torch.testing.assert_close(hidden, theirs.vit(pixel_values=images).last_hidden_state, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logits, out.logits, atol=1e-5, rtol=1e-5)
    for w, a in zip(weights, out.attentions, strict=True):
        torch.testing.assert_close(w, a, atol=1e-6, rtol=1e-5)
    # backward: every converted parameter gets the same gradient
    grad_out = torch.randn_like(logits)
    (logits * grad_out).sum().backward()
    (theirs(pixel_values=images).logits * grad_out).sum().backward()
    converted = vit_state_dict_from_hf({k: p.grad for k, p in theirs.named_parameters()})
    for name, p in ours.named_parameters():
        key = name.replace("ff.linear", "linear")  # the feed-forward lives in .ff, state-dict keys as torch
        torch.testing.assert_close(p.grad, converted[key], atol=1e-5, rtol=1e-4, msg=name)


def test_mean_pooling_reads_the_patches_only():
    ours, _ = small_pair(pool="mean")
    images = torch.rand(3, 1, 8, 8)
    hidden, _ = ours.hidden_states(images)
    logits, _ = ours(images)
    torch.testing.assert_close(logits, ours.head(hidden[:, 1:].mean(1)))
    cls_logits = torch.nn.functional.linear(hidden[:, 0], ours.head.weight, ours.head.bias)
    assert not torch.allclose(logits, cls_logits)


def test_attention_rollout_by_hand():
    g = torch.Generator().manual_seed(0)
    weights = [torch.rand(2, 3, 5, 5, generator=g).softmax(-1) for _ in range(3)]
    eye = torch.eye(5)
    expected = torch.stack([
        ((w3[b].mean(0) + eye) / 2) @ ((w2[b].mean(0) + eye) / 2) @ ((w1[b].mean(0) + eye) / 2)
        for b, (w1, w2, w3) in enumerate([tuple(weights)] * 2)])
    rollout = attention_rollout(weights)
    torch.testing.assert_close(rollout, expected)
    torch.testing.assert_close(rollout.sum(-1), torch.ones(2, 5))  # rows stay distributions
    torch.testing.assert_close(attention_rollout(weights[:1], residual=False), weights[0].mean(1))


def test_bad_inputs():
    vit = VisionTransformer(8, 2, 1, 10, d_model=16, num_heads=2, num_layers=1, d_ff=32)
    with pytest.raises(ValueError, match="images"):
        vit(torch.rand(2, 1, 6, 6))  # not the configured size
    with pytest.raises(ValueError, match="images"):
        vit(torch.rand(2, 3, 8, 8))  # three channels for a one-channel model
    with pytest.raises(ValueError, match="images"):
        patchify(torch.rand(1, 1, 7, 8), 2)  # 7 is not a multiple of 2
    with pytest.raises(ValueError, match="images"):
        patchify(torch.rand(8, 8), 2)
    with pytest.raises(ValueError, match="image_size"):
        VisionTransformer(9, 2, 1, 10, d_model=16, num_heads=2, num_layers=1, d_ff=32)
    with pytest.raises(ValueError, match="pool"):
        VisionTransformer(8, 2, 1, 10, d_model=16, num_heads=2, num_layers=1, d_ff=32, pool="max")
    with pytest.raises(ValueError, match="weights"):
        attention_rollout([])
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        attention_rollout([torch.rand(1, 2, 4, 4), torch.rand(1, 2, 5, 5)])
