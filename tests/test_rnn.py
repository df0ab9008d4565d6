"""Tests for atencion.rnn: score formulas, masking, padding invariance, decoding, training."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.masks import padding_mask
from atencion.rnn import (
    AdditiveScore,
    Decoder,
    DotScore,
    Encoder,
    GeneralScore,
    LocalAttention,
    RNNAttention,
    Seq2Seq,
    make_score,
    make_seq2seq,
    sequence_loss,
    shift_right,
    teacher_forcing_loss,
)

PAD, BOS, EOS = 0, 1, 2
SCORES = [None, "dot", "general", "additive"]


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def make_model(score, *, style="bahdanau", local=None, V_src=9, V_tgt=8, E=6, H=5, seed=0,
               dtype=torch.float64):
    torch.manual_seed(seed)
    encoder = Encoder(V_src, E, H, pad_id=PAD)
    decoder = Decoder(V_tgt, E, 2 * H, 2 * H, score=score, style=style, local=local,
                      attention_dim=7, pad_id=PAD)
    return Seq2Seq(encoder, decoder, pad_id=PAD, bos_id=BOS, eos_id=EOS).to(dtype)


def make_src(B=4, S=6, V=9, seed=0, min_len=1):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(min_len, S + 1, (B,), generator=g)
    lengths[0] = S  # the longest fixes the padded width
    src = torch.randint(3, V, (B, S), generator=g)
    src = src.masked_fill(~padding_mask(lengths, max_len=S), PAD)
    return src, lengths


# --------------------------------------------------------------------------- scores


def test_dot_score_formula():
    q, k = randn(3, 4, seed=1), randn(3, 5, 4, seed=2)
    expected = torch.tensor([[float(q[b] @ k[b, j]) for j in range(5)] for b in range(3)],
                            dtype=torch.float64)
    torch.testing.assert_close(DotScore()(q, k), expected)


def test_general_score_formula():
    score = GeneralScore(4, 6).double()
    q, k = randn(3, 4, seed=1), randn(3, 5, 6, seed=2)
    W = score.W.detach()
    expected = torch.einsum("bq,qk,bsk->bs", q, W, k)
    loop = torch.tensor([[float(q[b] @ W @ k[b, j]) for j in range(5)] for b in range(3)],
                        dtype=torch.float64)
    torch.testing.assert_close(score(q, k), expected)
    torch.testing.assert_close(score(q, k), loop)


@pytest.mark.parametrize("bias", [False, True])
def test_additive_score_matches_hand_computation(bias):
    Dq, Dk, Dh = 3, 4, 5
    score = AdditiveScore(Dq, Dk, Dh, bias=bias).double()
    # Copy the weights out and recompute v^T tanh(W s + U h + b) by hand.
    W = randn(Dh, Dq, seed=3)
    U = randn(Dh, Dk, seed=4)
    v = randn(Dh, seed=5)
    b = randn(Dh, seed=6) if bias else torch.zeros(Dh, dtype=torch.float64)
    with torch.no_grad():
        score.W.weight.copy_(W)
        score.U.weight.copy_(U)
        score.v.weight.copy_(v[None, :])
        if bias:
            score.U.bias.copy_(b)
    q, k = randn(2, Dq, seed=1), randn(2, 3, Dk, seed=2)
    hand = torch.empty(2, 3, dtype=torch.float64)
    for i, j in itertools.product(range(2), range(3)):
        pre = [sum(W[h, a] * q[i, a] for a in range(Dq)) + sum(U[h, c] * k[i, j, c] for c in range(Dk))
               + b[h] for h in range(Dh)]
        hand[i, j] = sum(v[h] * torch.tanh(pre[h]) for h in range(Dh))
    torch.testing.assert_close(score(q, k), hand)
    # The same score as v^T tanh(W_a [s; h] + b) with W_a = [W U]: the bias is outside the concatenation.
    Wa = torch.cat([W, U], dim=1)  # (Dh, Dq + Dk)
    concat = torch.cat([q[:, None, :].expand(2, 3, Dq), k], dim=-1)  # (B, S, Dq + Dk)
    torch.testing.assert_close(score(q, k), torch.tanh(concat @ Wa.T + b) @ v)


def test_additive_score_has_no_bias_by_default():
    score = AdditiveScore(3, 4, 5)
    assert score.U.bias is None and score.W.bias is None and score.v.bias is None


@pytest.mark.parametrize("score", [DotScore(), GeneralScore(4, 6), AdditiveScore(4, 6, 3)])
def test_score_shapes(score):
    Dk = 4 if isinstance(score, DotScore) else 6
    out = score.double()(randn(3, 4), randn(3, 7, Dk))
    assert out.shape == (3, 7)


@pytest.mark.parametrize("score", [DotScore(), GeneralScore(3, 4), AdditiveScore(3, 4, 2, bias=True)])
def test_score_gradcheck(score):
    score = score.double()
    Dq, Dk = (4, 4) if isinstance(score, DotScore) else (3, 4)
    q = randn(2, Dq, seed=1).requires_grad_()
    k = randn(2, 3, Dk, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(score, (q, k))
    if list(score.parameters()):
        params = list(score.parameters())

        def as_function(*ps):
            return torch.func.functional_call(
                score, dict(zip([n for n, _ in score.named_parameters()], ps)), (q, k))

        assert torch.autograd.gradcheck(as_function, tuple(p.detach().requires_grad_() for p in params))


@pytest.mark.parametrize("score", [DotScore(), GeneralScore(4, 4), AdditiveScore(4, 4, 3)])
@pytest.mark.parametrize("local", [None, "monotonic", "predictive"])
def test_all_steps_at_once_equal_one_step_at_a_time(score, local):
    """A (B, T, Dq) query gives the same scores, weights and contexts as T (B, Dq) queries."""
    score = score.double()
    q, k = randn(2, 3, 4, seed=1), randn(2, 5, 4, seed=2)
    torch.testing.assert_close(score(q, k), torch.stack([score(q[:, t], k) for t in range(3)], 1))
    if local is None:
        attention = RNNAttention(score)
    else:
        attention = LocalAttention(score, window=1, mode=local, query_dim=4).double()
    mask = padding_mask(torch.tensor([5, 2]), max_len=5)
    context, weights = attention(q, k, mask=mask)
    steps = [attention(q[:, t], k, mask=mask, step=t) for t in range(3)]
    torch.testing.assert_close(context, torch.stack([c for c, _ in steps], 1))
    torch.testing.assert_close(weights, torch.stack([w for _, w in steps], 1))


def test_make_score():
    assert isinstance(make_score("dot", 4, 4), DotScore)
    assert isinstance(make_score("general", 4, 6), GeneralScore)
    additive = make_score("additive", 4, 6, 3)
    assert isinstance(additive, AdditiveScore) and additive.hidden_dim == 3
    assert make_score("additive", 4, 6).hidden_dim == 4
    with pytest.raises(ValueError, match="name"):
        make_score("cosine", 4, 4)
    with pytest.raises(ValueError, match="key_dim"):
        make_score("dot", 4, 6)


def test_parameter_counts():
    Dq, Dk, Dh = 4, 6, 3
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(DotScore()) == 0
    assert count(GeneralScore(Dq, Dk)) == Dq * Dk
    assert count(AdditiveScore(Dq, Dk, Dh)) == Dh * (Dq + Dk + 1)


# --------------------------------------------------------------------------- attention


@pytest.mark.parametrize("name", ["dot", "general", "additive"])
def test_attention_weights_masked_and_normalised(name):
    attention = RNNAttention(make_score(name, 4, 4, 3)).double()
    lengths = torch.tensor([5, 2, 1, 4])
    mask = padding_mask(lengths, max_len=5)
    keys, values = randn(4, 5, 4, seed=1), randn(4, 5, 3, seed=2)
    context, weights = attention(randn(4, 4), keys, values, mask)
    assert context.shape == (4, 3) and weights.shape == (4, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(4, dtype=torch.float64))
    assert (weights[~mask] == 0).all()
    assert (weights[mask] > 0).all()
    torch.testing.assert_close(context, torch.einsum("bs,bsd->bd", weights, values))
    # values default to the keys
    c_keys, _ = attention(randn(4, 4), keys, mask=mask)
    torch.testing.assert_close(c_keys, torch.einsum("bs,bsd->bd", _, keys))


def test_attention_prepared_keys_give_same_result():
    attention = RNNAttention(AdditiveScore(4, 6, 3)).double()
    q, k = randn(2, 4), randn(2, 5, 6)
    a = attention(q, k)
    b = attention(q, k, prepared_keys=attention.score.prepare(k))
    torch.testing.assert_close(a, b)


# --------------------------------------------------------------------------- local attention


def test_local_monotonic_window():
    attention = LocalAttention(DotScore(), window=1, mode="monotonic").double()
    lengths = torch.tensor([6, 3])
    mask = padding_mask(lengths, max_len=6)
    q, k = randn(2, 4), randn(2, 6, 4)
    _, w = attention(q, k, mask=mask, step=4)
    # p_t = min(t, S_b - 1): row 0 at 4 (keys 3..5), row 1 clipped to 2 (keys 1..2)
    assert (w[0, :3] == 0).all() and (w[0, 3:] > 0).all()
    assert (w[1, [0, 3, 4, 5]] == 0).all() and (w[1, 1:3] > 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match="step"):
        attention(q, k, mask=mask)


def test_local_monotonic_with_wide_window_is_global():
    score = GeneralScore(4, 4).double()
    local = LocalAttention(score, window=50, mode="monotonic")
    mask = padding_mask(torch.tensor([6, 3]), max_len=6)
    q, k = randn(2, 4), randn(2, 6, 4)
    torch.testing.assert_close(local(q, k, mask=mask, step=2), RNNAttention(score)(q, k, mask=mask))


def test_local_predictive_matches_formula():
    D = 2
    attention = LocalAttention(DotScore(), window=D, mode="predictive", query_dim=4).double()
    lengths = torch.tensor([7, 4])
    mask = padding_mask(lengths, max_len=7)
    q, k = randn(2, 4, seed=3), randn(2, 7, 4, seed=4)
    context, w = attention(q, k, mask=mask)
    p = (lengths - 1) * torch.sigmoid(attention.v_p(torch.tanh(attention.W_p(q)))).squeeze(-1)
    for b in range(2):
        j = torch.arange(7, dtype=torch.float64)
        inside = ((j - p[b]).abs() <= D) & mask[b]
        e = (k[b] @ q[b]).masked_fill(~inside, float("-inf"))
        expected = torch.softmax(e, 0) * torch.exp(-((j - p[b]) ** 2) / (2 * (D / 2) ** 2))
        torch.testing.assert_close(w[b], expected)
    torch.testing.assert_close(context, torch.einsum("bs,bsd->bd", w, k))
    # p_t is learnt: the loss reaches W_p and v_p through the Gaussian
    context.sum().backward()
    assert attention.W_p.weight.grad.abs().sum() > 0 and attention.v_p.weight.grad.abs().sum() > 0


def test_local_attention_bad_arguments():
    with pytest.raises(ValueError, match="window"):
        LocalAttention(DotScore(), window=0)
    with pytest.raises(ValueError, match="mode"):
        LocalAttention(DotScore(), window=2, mode="gaussian")
    with pytest.raises(ValueError, match="query_dim"):
        LocalAttention(DotScore(), window=2, mode="predictive")


# --------------------------------------------------------------------------- model


@pytest.mark.parametrize("style", ["bahdanau", "luong"])
@pytest.mark.parametrize("score", SCORES)
def test_teacher_forced_shapes(score, style):
    model = make_model(score, style=style)
    src, lengths = make_src(B=4, S=6)
    tgt_in = torch.randint(3, 8, (4, 5))
    logits, weights = model(src, lengths, tgt_in)
    assert logits.shape == (4, 5, 8)
    if score is None:
        assert weights is None
    else:
        assert weights.shape == (4, 5, 6)
        assert (weights[~padding_mask(lengths)[:, None, :].expand(4, 5, 6)] == 0).all()
        torch.testing.assert_close(weights.sum(-1), torch.ones(4, 5, dtype=torch.float64))


@pytest.mark.parametrize("style", ["bahdanau", "luong"])
@pytest.mark.parametrize("score,local", [(s, None) for s in SCORES] + [("general", "p"), ("dot", "m")])
def test_teacher_forcing_equals_step_by_step(score, local, style):
    """The all-steps-at-once paths of Decoder.forward compute what step() computes."""
    model = make_model(score, style=style, local=local)
    src, lengths = make_src(B=3, S=5)
    tgt_in = torch.randint(3, 8, (3, 4))
    logits, weights = model(src, lengths, tgt_in)
    states, final, mask = model.encode(src, lengths)
    state, memory = model.decoder.start(states, final, mask)
    for t in range(4):
        step_logits, state, alpha = model.decoder.step(tgt_in[:, t], state, memory, t)
        torch.testing.assert_close(logits[:, t], step_logits)
        if score is not None:
            torch.testing.assert_close(weights[:, t], alpha)


def test_encoder_states_zero_on_padding_and_final_state():
    encoder = Encoder(9, 6, 5).double()
    src, lengths = make_src(B=4, S=6)
    states, final = encoder(src, lengths)
    assert states.shape == (4, 6, 10) and final.shape == (4, 10)
    assert (states[~padding_mask(lengths)] == 0).all()
    for b in range(4):  # final = [forward state at the last real token; backward state at 0]
        n = int(lengths[b])
        torch.testing.assert_close(final[b], torch.cat([states[b, n - 1, :5], states[b, 0, 5:]]))


@pytest.mark.parametrize("style", ["bahdanau", "luong"])
@pytest.mark.parametrize("score,local", [(s, None) for s in SCORES] + [("general", "p"), ("dot", "m")])
def test_extra_padding_changes_nothing(score, local, style):
    model = make_model(score, style=style, local=local)
    src, lengths = make_src(B=3, S=5)
    tgt_in = torch.randint(3, 8, (3, 4))
    padded = torch.cat([src, torch.full((3, 4), PAD)], dim=1)  # (B, S + 4)
    logits, weights = model(src, lengths, tgt_in)
    logits_p, weights_p = model(padded, lengths, tgt_in)
    torch.testing.assert_close(logits_p, logits)
    if score is not None:
        torch.testing.assert_close(weights_p[..., :5], weights)
        assert (weights_p[..., 5:] == 0).all()
    tokens, _ = model.greedy_decode(src, lengths, max_len=6)
    tokens_p, _ = model.greedy_decode(padded, lengths, max_len=6)
    assert torch.equal(tokens, tokens_p)


def test_no_attention_sees_only_the_final_state():
    decoder = Decoder(8, 6, 10, 10, score=None).double()
    tgt_in = torch.randint(3, 8, (2, 4))
    final, mask = randn(2, 10, seed=3), torch.ones(2, 5, dtype=torch.bool)
    a, wa = decoder(tgt_in, randn(2, 5, 10, seed=1), final, mask)
    b, _ = decoder(tgt_in, randn(2, 5, 10, seed=2), final, mask)
    torch.testing.assert_close(a, b)
    assert wa is None


@pytest.mark.parametrize("score", ["dot", "general", "additive"])
def test_bahdanau_scores_previous_state_luong_current_state(score):
    """alpha_1 depends on y_0 = <bos> only in Luong's wiring (query s_1, after the GRU step)."""
    src, lengths = make_src(B=3, S=5)
    tgt_in = torch.full((3, 2), BOS)
    for style, changes in (("bahdanau", False), ("luong", True)):
        model = make_model(score, style=style)
        _, before = model(src, lengths, tgt_in)
        with torch.no_grad():
            model.decoder.embedding.weight[BOS] += 1.0
        _, after = model(src, lengths, tgt_in)
        assert torch.allclose(before[:, 0], after[:, 0]) is not changes


# --------------------------------------------------------------------------- training helpers


def test_shift_right():
    tgt = torch.tensor([[5, 6, 7, EOS], [5, EOS, PAD, PAD]])
    expected = torch.tensor([[BOS, 5, 6, 7], [BOS, 5, EOS, PAD]])
    assert torch.equal(shift_right(tgt, BOS), expected)


def test_sequence_loss_ignores_padding_and_takes_raw_logits():
    logits = randn(2, 3, 5)
    targets = torch.tensor([[1, 4, PAD], [2, PAD, PAD]])
    log_p = torch.log_softmax(logits, dim=-1)
    expected = -(log_p[0, 0, 1] + log_p[0, 1, 4] + log_p[1, 0, 2]) / 3
    torch.testing.assert_close(sequence_loss(logits, targets, pad_id=PAD), expected)
    with pytest.raises(ValueError, match="logits"):
        sequence_loss(logits[:, :2], targets, pad_id=PAD)


# --------------------------------------------------------------------------- properties


@settings(max_examples=15, deadline=None)
@given(perm=st.permutations(range(5)), score=st.sampled_from(SCORES), seed=st.integers(0, 100))
def test_permuting_the_batch_permutes_the_outputs(perm, score, seed):
    model = make_model(score)
    src, lengths = make_src(B=5, S=6, seed=seed)
    tgt_in = torch.randint(3, 8, (5, 4), generator=torch.Generator().manual_seed(seed))
    perm = torch.tensor(perm)
    logits, weights = model(src, lengths, tgt_in)
    logits_p, weights_p = model(src[perm], lengths[perm], tgt_in[perm])
    torch.testing.assert_close(logits_p, logits[perm])
    if score is not None:
        torch.testing.assert_close(weights_p, weights[perm])


# --------------------------------------------------------------------------- validation


def test_bad_inputs_name_the_argument():
    model = make_model("additive")
    src, lengths = make_src(B=2, S=4)
    tgt_in = torch.randint(3, 8, (2, 3))
    with pytest.raises(TypeError, match="src"):
        model(src.float(), lengths, tgt_in)
    with pytest.raises(ValueError, match="src"):
        model(src[0], lengths, tgt_in)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, lengths[:1], tgt_in)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, torch.tensor([5, 1]), tgt_in)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, torch.tensor([0, 1]), tgt_in)
    with pytest.raises(TypeError, match="src_lengths"):
        model(src, lengths.float(), tgt_in)
    with pytest.raises(ValueError, match="tgt_in"):
        model(src, lengths, tgt_in[:1])
    with pytest.raises(TypeError, match="tgt_in"):
        model(src, lengths, tgt_in.double())
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(src, lengths, max_len=0)
    with pytest.raises(ValueError, match="keys"):
        DotScore()(randn(2, 4), randn(2, 3, 5))
    with pytest.raises(ValueError, match="query"):
        GeneralScore(4, 5).double()(randn(2, 3), randn(2, 3, 5))
    with pytest.raises(ValueError, match="keys"):
        GeneralScore(4, 5).double()(randn(2, 4), randn(3, 3, 5))
    with pytest.raises(TypeError, match="query"):
        DotScore()(torch.ones(2, 4, dtype=torch.long), randn(2, 3, 4))
    attention = RNNAttention(DotScore())
    with pytest.raises(TypeError, match="mask"):
        attention(randn(2, 4), randn(2, 3, 4), mask=torch.ones(2, 3))
    with pytest.raises(ValueError, match="mask"):
        attention(randn(2, 4), randn(2, 3, 4), mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="values"):
        attention(randn(2, 4), randn(2, 3, 4), randn(2, 2, 4))
    with pytest.raises(TypeError, match="score"):
        RNNAttention(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="style"):
        Decoder(8, 4, 6, 6, style="vaswani")
    with pytest.raises(ValueError, match="local"):
        Decoder(8, 4, 6, 6, local="q")
    with pytest.raises(ValueError, match="local"):
        Decoder(8, 4, 6, 6, score=None, local="p")
    with pytest.raises(ValueError, match="key_dim"):
        Decoder(8, 4, 6, 10, score="dot")
    with pytest.raises(ValueError, match="dropout"):
        Encoder(8, 4, 6, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_dim"):
        Encoder(8, 4, 0)
    with pytest.raises(ValueError, match="pad_id"):
        Encoder(8, 4, 6, pad_id=8)
    with pytest.raises(ValueError, match="eos_id"):
        Seq2Seq(Encoder(8, 4, 3), Decoder(8, 4, 6, 6), pad_id=0, bos_id=1, eos_id=1)


# --------------------------------------------------------------------------- training and decoding

COPY_VOCAB = 8  # 4 specials + 4 symbols


def copy_examples():
    """Every sequence of 1 to 3 symbols, to copy; targets end with <eos>."""
    seqs = [list(s) for n in (1, 2, 3) for s in itertools.product(range(4, COPY_VOCAB), repeat=n)]
    src = torch.full((len(seqs), 3), PAD)
    tgt = torch.full((len(seqs), 4), PAD)
    for i, s in enumerate(seqs):
        src[i, :len(s)] = torch.tensor(s)
        tgt[i, :len(s) + 1] = torch.tensor(s + [EOS])
    return src, torch.tensor([len(s) for s in seqs]), tgt


@pytest.fixture(scope="module", params=SCORES)
def copy_model(request):
    """A tiny model trained (seeded) to copy sequences of up to 3 tokens."""
    torch.manual_seed(0)
    encoder = Encoder(COPY_VOCAB, 8, 16)
    decoder = Decoder(COPY_VOCAB, 8, 32, 32, score=request.param, attention_dim=16)
    model = Seq2Seq(encoder, decoder, pad_id=PAD, bos_id=BOS, eos_id=EOS)
    src, lengths, tgt = copy_examples()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        logits, _ = model(src, lengths, shift_right(tgt, BOS))
        loss = sequence_loss(logits, tgt, pad_id=PAD)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def test_copy_task_is_learnt(copy_model):
    src, lengths, tgt = copy_examples()
    tokens, weights = copy_model.greedy_decode(src, lengths, max_len=6)
    assert tokens.shape == tgt.shape  # stops as soon as every sequence has emitted <eos>
    assert torch.equal(tokens, tgt)


def test_greedy_decode_pads_after_eos_and_matches_teacher_forcing(copy_model):
    model = copy_model  # trained: emits <eos> after 1, 2 or 3 tokens
    src, lengths, _ = copy_examples()
    tokens, weights = model.greedy_decode(src, lengths, max_len=8)
    is_eos = tokens == EOS
    assert is_eos.any(dim=1).all()
    first = is_eos.float().argmax(dim=1)  # (B,)
    after = torch.arange(tokens.shape[1])[None, :] > first[:, None]  # (B, T')
    assert (tokens[after] == PAD).all()
    assert tokens.shape[1] == int(first.max()) + 1
    if weights is not None:
        assert (weights[after] == 0).all()
        torch.testing.assert_close(weights[~after].sum(-1), torch.ones(int((~after).sum())))
    # Feeding the greedy output back with teacher forcing reproduces it: same <bos>, same steps.
    logits, tf_weights = model(src, lengths, shift_right(tokens, BOS))
    assert torch.equal(logits.argmax(-1)[~after], tokens[~after])
    if weights is not None:
        torch.testing.assert_close(tf_weights[~after], weights[~after])


@pytest.mark.parametrize("score", SCORES)
def test_batched_greedy_equals_one_by_one(score):
    model = make_model(score, seed=3)
    with torch.no_grad():  # make <eos> likely enough that rows stop at different steps
        model.decoder.out.bias[EOS] += 1.5
    src, lengths = make_src(B=6, S=6, seed=2)
    tokens, weights = model.greedy_decode(src, lengths, max_len=7)
    for b in range(6):
        n = int(lengths[b])
        one, one_w = model.greedy_decode(src[b:b + 1, :n], lengths[b:b + 1], max_len=7)
        T1 = one.shape[1]
        assert torch.equal(tokens[b, :T1], one[0])
        assert (tokens[b, T1:] == PAD).all()
        if score is not None:
            torch.testing.assert_close(weights[b, :T1, :n], one_w[0])
    stopped = (tokens == EOS).any(dim=1)
    assert stopped.any() and tokens.shape[1] <= 7


def test_greedy_decode_restores_training_mode():
    model = make_model("dot")
    src, lengths = make_src()
    model.train()
    model.greedy_decode(src, lengths, max_len=3)
    assert model.training


def test_make_seq2seq_and_teacher_forcing_loss():
    from types import SimpleNamespace

    for score in SCORES:
        model = make_seq2seq(9, 8, emb_dim=4, hidden_dim=3, score=score,
                             style="luong" if score == "dot" else "bahdanau")
        assert model.encoder.output_dim == 6 and model.decoder.init.out_features == 6
        assert (model.pad_id, model.bos_id, model.eos_id) == (0, 1, 2)
        src, lengths = make_src(B=2, S=4)
        tgt = torch.tensor([[5, 6, EOS], [7, EOS, PAD]])
        batch = SimpleNamespace(src=src, src_lengths=lengths, tgt_in=shift_right(tgt, BOS),
                                tgt_out=tgt)
        logits, _ = model(src, lengths, batch.tgt_in)
        torch.testing.assert_close(teacher_forcing_loss(model, batch),
                                   sequence_loss(logits, tgt, pad_id=PAD))
    additive = make_seq2seq(9, 8, hidden_dim=3)
    assert additive.decoder.attention.score.hidden_dim == 3  # attention_dim defaults to hidden_dim
