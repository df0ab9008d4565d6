"""The speech recogniser's pieces: subsampling lengths, padding that never leaks,
SpecAugment's masks, CTC training end to end, the edit distance and the character
error rate, and their errors on bad input."""

import itertools
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from atencion.asr import ConvSubsampler, CTCTransformer, spec_augment
from atencion.ctc import ctc_greedy_decode
from atencion.metrics import character_error_rate, edit_distance


def small_model(**kw):
    torch.manual_seed(0)
    return CTCTransformer(12, 6, d_model=16, num_heads=2, num_layers=2, d_ff=32, **kw).eval()


@pytest.mark.parametrize("T", [1, 2, 3, 4, 5, 8, 9, 17, 100])
def test_output_lengths_equal_the_convolutions_frames(T):
    sub = ConvSubsampler(12, 16)
    y, n = sub(torch.randn(1, T, 12), torch.tensor([T]))
    expected = math.ceil(math.ceil(T / 2) / 2)
    assert y.shape[1] == int(n) == int(ConvSubsampler.output_lengths(torch.tensor([T]))) == expected


def test_an_utterance_gives_the_same_outputs_alone_and_padded_in_a_batch():
    model = small_model()
    torch.manual_seed(1)
    # 21 frames: 11 after the first convolution, whose last output frame reads one frame past them
    long, short = torch.randn(41, 12), torch.randn(21, 12)
    batch = torch.nn.utils.rnn.pad_sequence([long, short], batch_first=True, padding_value=7.0)  # junk padding
    lp, n, _ = model(batch, torch.tensor([41, 21]))
    alone, m, _ = model(short[None], torch.tensor([21]))
    assert int(n[1]) == int(m[0]) == 6
    torch.testing.assert_close(lp[1, :6], alone[0], atol=1e-5, rtol=1e-5)


def test_log_probs_are_normalised_and_weights_are_masked():
    model = small_model()
    lp, n, weights = model(torch.randn(2, 30, 12), torch.tensor([30, 10]), need_weights=True)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(2, lp.shape[1]))
    assert len(weights) == 2 and weights[0].shape == (2, 2, 8, 8)
    assert weights[1][1, :, :, int(n[1]):].abs().max() == 0  # no attention to padded frames
    assert model(torch.randn(1, 30, 12), torch.tensor([30]))[2] == [None, None]


def test_training_with_ctc_learns_to_transcribe_a_toy_signal():
    # each label is a burst of its own channel, 6 frames long; the model must read the bursts in order
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)

    def example(labels):
        x = 0.1 * torch.randn(6 * len(labels) + 4, 12, generator=gen)
        for i, c in enumerate(labels):
            x[2 + 6 * i: 2 + 6 * i + 5, c] += 3.0
        return x

    data = [[int(c) for c in torch.randint(1, 6, (int(torch.randint(2, 5, (), generator=gen)),), generator=gen)]
            for _ in range(64)]
    data = [[c for c, _ in itertools.groupby(d)] for d in data]  # no repeats: no blank needed between them
    X = torch.nn.utils.rnn.pad_sequence([example(d) for d in data], batch_first=True)
    lengths = torch.tensor([6 * len(d) + 4 for d in data])
    Y = torch.nn.utils.rnn.pad_sequence([torch.tensor(d) for d in data], batch_first=True)
    model = CTCTransformer(12, 6, d_model=32, num_heads=2, num_layers=1, d_ff=64)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(150):
        lp, n, _ = model(X, lengths)
        loss = F.ctc_loss(lp.transpose(0, 1), Y, n, torch.tensor([len(d) for d in data]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        lp, n, _ = model(X, lengths)
    decoded = ctc_greedy_decode(lp, n)
    hyps = ["".join(map(str, d)) for d in decoded]
    assert character_error_rate(hyps, ["".join(map(str, d)) for d in data]) < 0.1


def test_spec_augment_masks_bands_and_spans_inside_the_lengths():
    x = torch.ones(4, 50, 20)
    lengths = torch.tensor([50, 40, 20, 10])
    y = spec_augment(x, lengths, freq_width=5, time_masks=2, time_fraction=0.1,
                     generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, torch.ones(4, 50, 20))  # input untouched
    for b in range(4):
        cols = (y[b] == 0).all(0)  # masked mel channels: one band of at most 5
        idx = cols.nonzero().flatten().tolist()
        assert len(idx) <= 5 and idx == list(range(idx[0], idx[0] + len(idx))) if idx else True
        rows = (y[b] == 0).all(1)  # masked frames: inside the length, at most 2 spans of ⌊0.1 · n⌋
        assert not rows[int(lengths[b]):].any()
        assert int(rows.sum()) <= 2 * int(0.1 * lengths[b])
    z = spec_augment(x, lengths, freq_width=5, time_masks=2, time_fraction=0.1,
                     generator=torch.Generator().manual_seed(0))
    assert torch.equal(y, z)  # seeded: the same masks
    assert torch.equal(spec_augment(x, lengths, freq_width=0, time_masks=0), x)


def test_spec_augment_masks_something_in_a_large_batch():
    y = spec_augment(torch.ones(64, 100, 40), torch.full((64,), 100), generator=torch.Generator().manual_seed(0))
    assert (y == 0).all(1).any(1).float().mean() > 0.8  # most rows lose a band
    assert (y == 0).all(2).any(1).float().mean() > 0.8  # and some frames


def test_edit_distance_examples():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "") == 3
    assert edit_distance("dose", "doce") == 1
    assert edit_distance(["el", "doce"], ["el", "dose"]) == 1  # over words


@settings(max_examples=200, deadline=None)
@given(st.text("abc", max_size=7), st.text("abc", max_size=7), st.text("abc", max_size=7))
def test_edit_distance_is_a_metric(a, b, c):
    assert edit_distance(a, b) == edit_distance(b, a)
    assert (edit_distance(a, b) == 0) == (a == b)
    assert edit_distance(a, c) <= edit_distance(a, b) + edit_distance(b, c)
    assert abs(len(a) - len(b)) <= edit_distance(a, b) <= max(len(a), len(b))


@settings(max_examples=100, deadline=None)
@given(st.text("ab", max_size=5), st.text("ab", max_size=5))
def test_edit_distance_equals_brute_force(a, b):
    # the fewest single edits: breadth-first search over strings of a and b
    frontier, seen, steps = {a}, {a}, 0
    while b not in frontier:
        nxt = set()
        for s in frontier:
            for i in range(len(s) + 1):
                for ch in "ab":
                    nxt.add(s[:i] + ch + s[i:])
                    if i < len(s):
                        nxt.add(s[:i] + ch + s[i + 1:])
                if i < len(s):
                    nxt.add(s[:i] + s[i + 1:])
        frontier = {s for s in nxt if s not in seen and len(s) <= 6}
        seen |= frontier
        steps += 1
    assert edit_distance(a, b) == steps


def test_character_error_rate_sums_over_the_corpus_and_keeps_its_order():
    assert character_error_rate(["el dose", "la una"], ["el doce", "la una"]) == 1 / 13
    assert character_error_rate([""], ["abcd"]) == 1.0  # nothing written: every character deleted
    assert character_error_rate(["abcdef"], ["ab"]) == 2.0  # insertions can take it past 1
    # the denominator is the references' length: swapping the arguments changes it
    assert character_error_rate(["a"], ["abcd"]) == 0.75 and character_error_rate(["abcd"], ["a"]) == 3.0


@pytest.mark.parametrize("call, error, match", [
    (lambda: character_error_rate(["a"], ["a", "b"]), ValueError, "as many"),
    (lambda: character_error_rate("abc", ["abc"]), TypeError, "hypotheses"),
    (lambda: character_error_rate([""], [""]), ValueError, "references"),
    (lambda: edit_distance(3, "a"), TypeError, "hypothesis"),
    (lambda: ConvSubsampler(12, 16)(torch.randn(2, 10, 11), torch.tensor([10, 10])), ValueError, "x"),
    (lambda: ConvSubsampler(12, 16)(torch.randn(2, 10, 12), torch.tensor([10, 11])), ValueError, "lengths"),
    (lambda: ConvSubsampler(12, 16)(torch.randn(2, 10, 12), [10, 10]), TypeError, "lengths"),
    (lambda: CTCTransformer(12, 6, d_model=16, num_heads=2, num_layers=1, d_ff=8, blank=6), ValueError, "blank"),
    (lambda: spec_augment(torch.ones(1, 5, 4), torch.tensor([5]), freq_width=5), ValueError, "freq_width"),
    (lambda: spec_augment(torch.ones(5, 4), torch.tensor([5])), ValueError, "features"),
    (lambda: spec_augment(torch.ones(1, 5, 4), torch.tensor([6])), ValueError, "lengths"),
    (lambda: spec_augment(torch.ones(1, 5, 4), torch.tensor([5]), time_fraction=1.5), ValueError, "time_fraction"),
])
def test_bad_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
