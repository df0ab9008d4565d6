"""Tests for atencion.gradients: the hand-written backward of attention against autograd."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.functional import scaled_dot_product_attention
from atencion.gradients import attention, attention_backward, softmax_jacobian


def qkv(B=2, L=4, S=5, E=3, Ev=2, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    make = lambda *shape: torch.randn(*shape, generator=g, dtype=dtype, requires_grad=True)  # noqa: E731
    return make(B, L, E), make(B, S, E), make(B, S, Ev)


def test_softmax_jacobian_equals_autograds():
    e = torch.randn(3, 6, dtype=torch.float64)
    a = torch.softmax(e, dim=-1)
    for row in range(3):
        expected = torch.autograd.functional.jacobian(lambda x: torch.softmax(x, -1), e[row])
        torch.testing.assert_close(softmax_jacobian(a)[row], expected)


@pytest.mark.parametrize("recompute", [False, True])
@pytest.mark.parametrize("masked", ["none", "bool", "float", "empty_row"])
def test_gradcheck(recompute, masked):
    q, k, v = qkv()
    mask = None
    if masked == "bool":
        mask = torch.rand(4, 5, generator=torch.Generator().manual_seed(1)) > 0.3
        mask[:, 0] = True
    elif masked == "float":
        mask = torch.randn(4, 5, dtype=torch.float64)
    elif masked == "empty_row":
        mask = torch.ones(4, 5, dtype=torch.bool)
        mask[2] = False  # query 2 sees nothing: zero output, zero gradient
    assert torch.autograd.gradcheck(lambda a, b, c: attention(a, b, c, mask, recompute=recompute), (q, k, v))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), st.integers(0, 1000))
def test_hand_written_gradients_equal_autograd_through_the_library_kernel(B, L, S, E, seed):
    q, k, v = qkv(B, L, S, E, 3, seed)
    out = attention(q, k, v)
    grad = torch.randn_like(out)
    mine = torch.autograd.grad(out, (q, k, v), grad)
    reference, _ = scaled_dot_product_attention(q, k, v)
    theirs = torch.autograd.grad(reference, (q, k, v), grad)
    torch.testing.assert_close(out, reference)
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a, b)


def test_attention_backward_by_formula_and_the_index_of_each_term():
    """dK takes the *query* rows and dQ the *key* rows (the course swapped them)."""
    q, k, v = qkv(1, 2, 3, 2, 2)
    scale = 0.5
    w = torch.softmax(q @ k.mT * scale, dim=-1)
    grad = torch.ones(1, 2, 2, dtype=torch.float64)
    dq, dk, dv = attention_backward(q, k, v, w, grad, scale)
    de = torch.autograd.grad((w @ v * grad).sum(), q)[0]
    torch.testing.assert_close(dq, de)
    dk_auto, dv_auto = torch.autograd.grad((torch.softmax(q @ k.mT * scale, -1) @ v).sum(), (k, v))
    torch.testing.assert_close(dk, dk_auto)
    torch.testing.assert_close(dv, dv_auto)


def test_recompute_keeps_fewer_tensors_and_gives_the_same_gradients():
    q, k, v = qkv(2, 64, 64, 8, 8, dtype=torch.float32)
    saved = {}
    for recompute in (False, True):
        out = attention(q, k, v, recompute=recompute)
        saved[recompute] = sum(t.numel() for t in out.grad_fn.saved_tensors)
        saved[recompute, "grads"] = torch.autograd.grad(out.sum(), (q, k, v))
    assert saved[True] < saved[False]  # the (B, L, S) weights are not kept
    for a, b in zip(saved[False, "grads"], saved[True, "grads"]):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: attention([1.0], torch.zeros(2, 3), torch.zeros(2, 3)), TypeError, "query"),
        (lambda: attention(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 3)), ValueError, "query, key, value"),
        (lambda: attention(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3, 3)),
         ValueError, "mask"),
        (lambda: attention(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 3), recompute=1), TypeError,
         "recompute"),
        (lambda: softmax_jacobian(torch.tensor(1.0)), ValueError, "weights"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
