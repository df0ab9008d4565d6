"""Tests for atencion.ctc: the CTC loss against F.ctc_loss (values and gradients), a hand count,
impossible alignments, greedy decoding, bad inputs."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from atencion.ctc import ctc_greedy_decode, ctc_nll


def batch(seed=0, B=5, T=12, C=6, U=5):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, C, generator=g).requires_grad_()
    targets = torch.randint(1, C, (B, U), generator=g)
    targets[0, :3] = torch.tensor([2, 2, 3])  # a repeated label needs a blank between its copies
    input_lengths = torch.tensor([12, 12, 9, 7, 3])[:B]
    target_lengths = torch.tensor([5, 3, 4, 0, 1])[:B]  # one empty target
    return logits, targets, input_lengths, target_lengths


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ctc_nll_equals_torch_ctc_loss_and_its_gradient(seed):
    """Gradients are compared with respect to the logits: PyTorch's backward returns, for
    ``log_probs``, ``softmax - posterior`` instead of ``-posterior`` (it assumes a
    ``log_softmax`` before it); through ``log_softmax`` both give the same gradient."""
    logits, targets, input_lengths, target_lengths = batch(seed)
    log_probs = logits.log_softmax(-1)
    ours = ctc_nll(log_probs, targets, input_lengths, target_lengths)
    theirs = F.ctc_loss(log_probs.transpose(0, 1), targets, input_lengths, target_lengths, reduction="none")
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    weights = torch.rand(len(ours), generator=torch.Generator().manual_seed(seed))
    (g_ours,) = torch.autograd.grad((ours * weights).sum(), logits, retain_graph=True)
    (g_theirs,) = torch.autograd.grad((theirs * weights).sum(), logits)
    torch.testing.assert_close(g_ours, g_theirs, atol=1e-5, rtol=1e-4)


def test_ctc_nll_by_counting_alignments():
    """T = 3 frames, C = 2 (blank 0, label 1), target "1": the alignments are 1__, _1_, __1,
    11_, _11, 111, each with probability 1/8 for uniform frames: p = 6/8."""
    log_probs = torch.full((1, 3, 2), math.log(0.5))
    nll = ctc_nll(log_probs, torch.tensor([[1]]), torch.tensor([3]), torch.tensor([1]))
    torch.testing.assert_close(nll, torch.tensor([-math.log(6 / 8)]))


def test_impossible_alignment_is_infinite():
    """"1 1" needs a blank between the two 1s: 3 frames at least; with 2 it cannot be emitted."""
    log_probs = torch.full((1, 2, 2), math.log(0.5))
    nll = ctc_nll(log_probs, torch.tensor([[1, 1]]), torch.tensor([2]), torch.tensor([2]))
    assert torch.isinf(nll).all()
    assert torch.isinf(F.ctc_loss(log_probs.transpose(0, 1), torch.tensor([[1, 1]]), [2], [2], reduction="none")).all()


def test_greedy_decoding_merges_repeats_then_drops_blanks():
    path = torch.tensor([[1, 1, 0, 1, 2, 2, 0, 0, 3]])  # best label per frame
    log_probs = F.one_hot(path, 4).float().log_softmax(-1)
    assert ctc_greedy_decode(log_probs, torch.tensor([9])) == [[1, 1, 2, 3]]
    assert ctc_greedy_decode(log_probs, torch.tensor([4])) == [[1, 1]]  # only the first 4 frames


def test_bad_inputs():
    logits, targets, input_lengths, target_lengths = batch()
    log_probs = logits.detach().log_softmax(-1)
    with pytest.raises(ValueError, match="log_probs"):
        ctc_nll(log_probs[0], targets, input_lengths, target_lengths)
    with pytest.raises(ValueError, match="input_lengths"):
        ctc_nll(log_probs, targets, input_lengths + 1, target_lengths)
    with pytest.raises(ValueError, match="target_lengths"):
        ctc_nll(log_probs, targets, input_lengths, target_lengths + 1)
    with pytest.raises(ValueError, match="targets"):
        ctc_nll(log_probs, targets * 0, input_lengths, target_lengths)  # blank as a label
    with pytest.raises(ValueError, match="blank"):
        ctc_greedy_decode(log_probs, input_lengths, blank=6)
