"""Tests for atencion.metrics."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from atencion import data
from atencion.metrics import (
    IGNORE_INDEX,
    accuracy,
    count_parameters,
    exact_match,
    sequence_cross_entropy,
    smoothed_cross_entropy,
)


def test_ignore_index_is_cross_entropys_and_the_datas():
    import inspect

    default = inspect.signature(F.cross_entropy).parameters["ignore_index"].default
    assert IGNORE_INDEX == data.IGNORE == default == -100


def test_accuracy_from_scores_and_from_ids():
    scores = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    targets = torch.tensor([1, 1, 1])
    assert accuracy(scores, targets) == pytest.approx(2 / 3)
    assert accuracy(scores.argmax(-1), targets) == pytest.approx(2 / 3)


def test_accuracy_skips_ignored_targets():
    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    targets = torch.tensor([[1, IGNORE_INDEX, 0], [IGNORE_INDEX, 5, 6]])
    assert accuracy(ids, targets) == pytest.approx(3 / 4)
    assert accuracy(ids, targets, ignore_index=None) == pytest.approx(3 / 6)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_accuracy_equals_the_mean_over_counted_positions(B, L, C, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, L, C, generator=g)
    targets = torch.randint(C, (B, L), generator=g)
    targets[0, 0] = IGNORE_INDEX if B * L > 1 else targets[0, 0]
    keep = targets != IGNORE_INDEX
    expected = (logits.argmax(-1)[keep] == targets[keep]).float().mean().item()
    assert accuracy(logits, targets) == pytest.approx(expected)


def test_exact_match_per_sequence():
    predictions = torch.tensor([[1, 2, 3], [1, 2, 4], [7, 2, 3]])
    targets = torch.tensor([[1, 2, 3], [1, 2, IGNORE_INDEX], [1, 2, 3]])
    assert exact_match(predictions, targets).tolist() == [True, True, False]
    assert exact_match(F.one_hot(predictions, 8).float(), targets).tolist() == [True, True, False]


def test_sequence_cross_entropy_matches_flattened_cross_entropy():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 5, generator=g, requires_grad=True)
    targets = torch.randint(5, (3, 4), generator=g)
    targets[1, 2] = IGNORE_INDEX
    got = sequence_cross_entropy(logits, targets)
    expected = F.cross_entropy(logits.reshape(12, 5), targets.reshape(12))
    torch.testing.assert_close(got, expected)
    got.backward()
    assert logits.grad[1, 2].abs().sum() == 0  # an ignored position gets no gradient


def test_count_parameters_counts_shared_parameters_once():
    shared = nn.Linear(3, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)  # the same layer twice
    assert count_parameters(model) == 3 * 4 + 4
    model[0].bias.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 12


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: accuracy([1, 2], torch.tensor([1, 2])), TypeError, "predictions"),
        (lambda: accuracy(torch.tensor([1]), torch.tensor([1.0])), TypeError, "targets"),
        (lambda: accuracy(torch.zeros(2, 3, 4), torch.tensor([1, 2])), ValueError, "predictions"),
        (lambda: accuracy(torch.tensor([1]), torch.tensor([IGNORE_INDEX])), ValueError, "no target"),
        (lambda: exact_match(torch.tensor([1]), torch.tensor([1])), ValueError, "targets"),
        (lambda: sequence_cross_entropy(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long)),
         ValueError, "logits"),
        (lambda: count_parameters("model"), TypeError, "module"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.5, 1.0])
def test_smoothed_cross_entropy_equals_pytorchs_label_smoothing(smoothing):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 6, 7, generator=g, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(7, (4, 6), generator=g)
    targets[0, :3] = IGNORE_INDEX
    ours = smoothed_cross_entropy(logits, targets, smoothing)
    theirs = F.cross_entropy(logits.reshape(-1, 7), targets.reshape(-1), label_smoothing=smoothing)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(*(torch.autograd.grad(x, logits)[0] for x in (ours, theirs)))


def test_smoothed_cross_entropy_bad_input():
    with pytest.raises(ValueError, match="smoothing"):
        smoothed_cross_entropy(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), 1.5)
