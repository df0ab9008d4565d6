"""Tests for atencion.norm against torch.nn.LayerNorm / RMSNorm, and their stated properties."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.norm import FeedForward, LayerNorm, RMSNorm, make_norm

TOL64 = dict(atol=1e-10, rtol=1e-8)


def randomise(module):
    with torch.no_grad():
        for p in module.parameters():
            p.normal_()
    return module


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("eps", [1e-5, 1e-1])
def test_layer_norm_matches_torch(bias, eps):
    ours = randomise(LayerNorm(6, eps=eps, bias=bias).double())
    ref = torch.nn.LayerNorm(6, eps=eps, bias=bias).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 6, dtype=torch.float64, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    torch.testing.assert_close(ours(x), ref(x2), **TOL64)
    ours(x).pow(2).sum().backward()
    ref(x2).pow(2).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad, **TOL64)


def test_layer_norm_puts_eps_inside_the_square_root_and_uses_the_biased_variance():
    x = torch.tensor([[1.0, 3.0]], dtype=torch.float64)  # mean 2, biased variance 1
    y = LayerNorm(2, eps=0.21).double()(x)
    torch.testing.assert_close(y, torch.tensor([[-1.0, 1.0]], dtype=torch.float64) / 1.1, **TOL64)


@pytest.mark.parametrize("eps", [1e-6, 1e-2])
def test_rms_norm_matches_torch(eps):
    ours = randomise(RMSNorm(5, eps=eps).double())
    ref = torch.nn.RMSNorm(5, eps=eps).double()
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(4, 5, dtype=torch.float64)
    torch.testing.assert_close(ours(x), ref(x), **TOL64)


@settings(max_examples=30, deadline=None)
@given(shift=st.floats(-100, 100), scale=st.floats(0.01, 100), seed=st.integers(0, 1000))
def test_layer_norm_ignores_shift_and_scale_of_each_position_rms_norm_only_scale(shift, scale, seed):
    x = torch.randn(3, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    ln, rms = LayerNorm(8, eps=1e-12).double(), RMSNorm(8, eps=1e-12).double()
    torch.testing.assert_close(ln(scale * x + shift), ln(x), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(rms(scale * x), rms(x), atol=1e-6, rtol=1e-6)


def test_layer_norm_is_independent_of_batch_and_padding():
    """Unlike batch norm: a position's output depends on that position only."""
    ln = randomise(LayerNorm(4).double())
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    padded = torch.cat([x, torch.full((2, 3, 4), 1e3, dtype=torch.float64)], dim=1)  # junk padding
    torch.testing.assert_close(ln(padded)[:, :5], ln(x), **TOL64)
    torch.testing.assert_close(ln(x[:1]), ln(x)[:1], **TOL64)
    bn = torch.nn.BatchNorm1d(4).double().train()
    assert not torch.allclose(bn(x.transpose(1, 2))[:1], bn(x[:1].transpose(1, 2)))


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_feed_forward_relu_gelu(activation):
    torch.manual_seed(0)
    ff = FeedForward(6, 12, activation=activation).double()
    x = torch.randn(2, 3, 6, dtype=torch.float64)
    act = F.relu if activation == "relu" else F.gelu
    expected = act(x @ ff.linear1.weight.T + ff.linear1.bias) @ ff.linear2.weight.T + ff.linear2.bias
    torch.testing.assert_close(ff(x), expected, **TOL64)
    assert ff.gate is None


def test_feed_forward_swiglu():
    torch.manual_seed(0)
    ff = FeedForward(6, 8, activation="swiglu", bias=False).double()
    x = torch.randn(5, 6, dtype=torch.float64)
    a, b = x @ ff.linear1.weight.T, x @ ff.gate.weight.T
    expected = (a * torch.sigmoid(a) * b) @ ff.linear2.weight.T
    torch.testing.assert_close(ff(x), expected, **TOL64)
    assert sum(p.numel() for p in ff.parameters()) == 3 * 6 * 8


def test_bad_input():
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(4, eps=0)
    with pytest.raises(ValueError, match=r"x: expected shape \(\.\.\., 4\)"):
        LayerNorm(4)(torch.zeros(2, 5))
    with pytest.raises(TypeError, match="x: expected a floating"):
        RMSNorm(4)(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="activation"):
        FeedForward(4, 8, activation="tanh")
    with pytest.raises(ValueError, match="norm"):
        make_norm("batch", 4)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_reduced_precision_statistics_are_computed_in_float32(dtype):
    """In float16 the variance of values past ~256 overflows (256**2 > 65504): the
    statistics must be taken in float32, as torch.nn.LayerNorm / RMSNorm do."""
    torch.manual_seed(0)
    x = (300 * torch.randn(3, 4, 16)).to(dtype)
    ln, ref_ln = randomise(LayerNorm(16)), torch.nn.LayerNorm(16)
    ref_ln.load_state_dict(ln.state_dict())
    rms, ref_rms = randomise(RMSNorm(16)), torch.nn.RMSNorm(16, eps=1e-6)
    ref_rms.load_state_dict(rms.state_dict())
    for ours, ref in [(ln, ref_ln), (rms, ref_rms)]:
        ours, ref = ours.to(dtype), ref.to(dtype)
        y = ours(x)
        assert y.dtype == dtype and y.isfinite().all()
        expected = copy.deepcopy(ref).float()(x.float())  # float32 all through: the most accurate answer
        torch.testing.assert_close(y.float(), expected, atol=0.05, rtol=0.02)
        torch.testing.assert_close(y, ref(x), atol=0.05, rtol=0.02)
