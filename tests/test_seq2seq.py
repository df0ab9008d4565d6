"""The encoder–decoder transformer against torch.nn.Transformer, and its decoding."""

import math
import re

import pytest
import torch
from torch import nn

from atencion.heads import KVCache
from atencion.masks import causal_mask
from atencion.seq2seq import DecoderStack, EncoderDecoder, EncoderStack, beam_search, greedy_decode
from atencion.transformer import DecoderBlock, xavier_init_

D, H, FF = 16, 4, 32


def torch_names(name: str) -> str:
    """Our parameter names in torch.nn.Transformer's naming (the feed-forward sits in ``ff``)."""
    return re.sub(r"(^|\.)ff\.linear", r"\1linear", name)


def padded_batch():
    src_keep = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0]]).bool()  # (B, S)
    tgt_keep = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 0]]).bool()  # (B, T)
    return src_keep, tgt_keep


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_block_equals_torch_layer(norm_first):
    torch.manual_seed(0)
    ref = nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, batch_first=True, norm_first=norm_first)
    ours = DecoderBlock(D, H, FF, norm_first=norm_first)
    assert sorted(ours.state_dict()) == sorted(ref.state_dict())
    ours.load_state_dict(ref.state_dict())
    src_keep, tgt_keep = padded_batch()
    x = torch.randn(3, 4, D, requires_grad=True)
    memory = torch.randn(3, 5, D, requires_grad=True)
    expected = ref(x, memory, tgt_mask=~causal_mask(4), tgt_key_padding_mask=~tgt_keep,
                   memory_key_padding_mask=~src_keep)
    got, w_self, w_cross = ours(x, memory, mask=causal_mask(4), key_mask=tgt_keep, memory_key_mask=src_keep)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert w_self.shape == (3, H, 4, 4) and w_cross.shape == (3, H, 4, 5)
    assert (w_cross[1, :, :, 3:] == 0).all() and (w_self[0].triu(1) == 0).all()
    g = torch.randn_like(got)
    grads_ref = torch.autograd.grad((expected * g).sum(), [x, memory, *ref.parameters()])
    grads = dict(zip(["x", "memory", *(torch_names(n) for n, _ in ours.named_parameters())],
                     torch.autograd.grad((got * g).sum(), [x, memory, *ours.parameters()])))
    for name, expected_grad in zip(["x", "memory", *(n for n, _ in ref.named_parameters())], grads_ref):
        torch.testing.assert_close(grads[name], expected_grad, atol=1e-5, rtol=1e-5, msg=name)
    ref.load_state_dict(ours.state_dict())  # and back


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_stacks_equal_torch_transformer(norm_first, training):
    """Forward and backward of nn.Transformer with copied weights and converted masks
    (the book's True = allowed is PyTorch's False = not masked)."""
    torch.manual_seed(1)
    ref = nn.Transformer(D, H, 2, 3, FF, dropout=0.0, batch_first=True, norm_first=norm_first)
    model = EncoderDecoder(11, 11, d_model=D, num_heads=H, num_encoder_layers=2, num_decoder_layers=3,
                           d_ff=FF, dropout=0.0, norm_first=norm_first)
    model.encoder.load_state_dict(ref.encoder.state_dict())
    model.decoder.load_state_dict(ref.decoder.state_dict())
    ref.train(training), model.train(training)
    src_keep, tgt_keep = padded_batch()
    src, tgt = torch.randn(3, 5, D, requires_grad=True), torch.randn(3, 4, D, requires_grad=True)
    expected = ref(src, tgt, tgt_mask=~causal_mask(4), src_key_padding_mask=~src_keep,
                   tgt_key_padding_mask=~tgt_keep, memory_key_padding_mask=~src_keep)
    memory, _ = model.encoder(src, key_mask=src_keep)
    got, cross = model.decoder(tgt, memory, mask=causal_mask(4), key_mask=tgt_keep, memory_key_mask=src_keep,
                               need_weights=True)
    assert len(cross) == 3 and cross[0].shape == (3, H, 4, 5)
    real = tgt_keep  # PyTorch's eval fast path may write anything at padded positions
    torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=1e-5)
    if training:
        g = torch.randn_like(got) * real[..., None]
        grads_ref = torch.autograd.grad((expected * g).sum(), [src, tgt, *ref.parameters()])
        ours = [*model.encoder.named_parameters(prefix="encoder"), *model.decoder.named_parameters(prefix="decoder")]
        grads = dict(zip(["src", "tgt", *(torch_names(n) for n, _ in ours)],
                         torch.autograd.grad((got * g).sum(), [src, tgt, *(p for _, p in ours)])))
        names = ["src", "tgt", *(n for n, _ in ref.named_parameters())]
        assert sorted(names) == sorted(grads)
        for name, expected_grad in zip(names, grads_ref):
            torch.testing.assert_close(grads[name], expected_grad, atol=1e-5, rtol=1e-5, msg=name)


def small_model(**kwargs) -> EncoderDecoder:
    torch.manual_seed(0)
    return EncoderDecoder(13, 13, d_model=D, num_heads=H, d_ff=FF, dropout=0.0, **kwargs)


def test_padding_is_masked_in_all_three_attentions():
    model = small_model().eval()
    src = torch.tensor([[5, 6, 7, 0, 0]])
    tgt_in = torch.tensor([[1, 8, 9, 0]])
    logits = model(src, tgt_in)
    other = model(torch.tensor([[5, 6, 7, 4, 9]]), torch.tensor([[1, 8, 9, 4]]),
                  src_key_mask=torch.tensor([[True, True, True, False, False]]),
                  tgt_key_mask=torch.tensor([[True, True, True, False]]))
    torch.testing.assert_close(logits[:, :3], other[:, :3])  # what sits under the padding does not matter
    unmasked = model(src, tgt_in, src_key_mask=torch.ones(1, 5, dtype=torch.bool))
    assert not torch.allclose(unmasked[:, :3], logits[:, :3])  # and the default mask is what hides it


def test_decoder_is_causal_so_targets_must_be_shifted():
    """Position t's logits do not depend on later target tokens: training on
    unshifted targets would ask the model to copy its input."""
    model = small_model().eval()
    src = torch.tensor([[5, 6, 7]])
    a = model(src, torch.tensor([[1, 8, 9, 10]]))
    b = model(src, torch.tensor([[1, 8, 4, 4]]))
    torch.testing.assert_close(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 2:], b[:, 2:])


def test_shared_embeddings_and_tied_output():
    model = small_model(share_embeddings=True)
    assert model.src_embedding is model.tgt_embedding and model.output.weight is model.tgt_embedding.weight
    untied = small_model(tie_output=False)
    assert untied.src_embedding is not untied.tgt_embedding and untied.output.weight is not untied.tgt_embedding.weight


def test_cached_decoding_equals_recomputation():
    model = small_model()
    src = torch.randint(3, 13, (4, 6))
    src[1, 4:] = 0
    memory, keep, _ = model.encode(src)
    tgt = torch.cat([torch.ones(4, 1, dtype=torch.long), torch.randint(3, 13, (4, 5))], dim=1)
    full, _ = model.decode(tgt, memory, keep)
    caches = model.new_caches()
    steps = [model.decode(tgt[:, t:t + 1], memory, keep, caches=caches)[0] for t in range(6)]
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)
    assert len(caches[0]) == 6
    assert torch.equal(greedy_decode(model, src, max_len=8), greedy_decode(model, src, max_len=8, use_cache=False))


def test_beam_search_cached_equals_recomputed_and_beam_one_is_greedy():
    model = small_model()
    src = torch.randint(3, 13, (5, 7))
    src[2, 3:] = 0
    greedy = greedy_decode(model, src, max_len=9)
    one, _ = beam_search(model, src, beam_size=1, max_len=9)
    assert torch.equal(one, greedy)
    for k in (2, 3):
        a, sa = beam_search(model, src, beam_size=k, max_len=9)
        b, sb = beam_search(model, src, beam_size=k, max_len=9, use_cache=False)
        assert torch.equal(a, b)
        torch.testing.assert_close(sa, sb)


class Toy(nn.Module):
    """Next-token probabilities that depend on the last token only (ids: pad 0, bos 1,
    eos 2, a 3, b 4). Greedy follows a forever; the most probable sentence is "b <eos>"."""

    pad_id, bos_id, eos_id = 0, 1, 2
    TABLE = {1: {3: 0.55, 4: 0.45}, 3: {3: 0.4, 4: 0.3, 2: 0.3}, 4: {2: 0.9, 3: 0.05, 4: 0.05}}

    def __init__(self):
        super().__init__()
        logits = torch.full((5, 5), float("-inf"))
        for prev, nxt in self.TABLE.items():
            for token, p in nxt.items():
                logits[prev, token] = math.log(p)
        self.register_buffer("logits", logits)

    def encode(self, src, src_key_mask=None):
        return torch.zeros(src.shape[0], 1, 1), torch.ones(src.shape[0], 1, dtype=torch.bool), []

    def decode(self, tgt, memory, memory_key_mask=None, *, caches=None, need_weights=False):
        return self.logits[tgt], []

    def new_caches(self):
        return []


@pytest.mark.parametrize("use_cache", [True, False])
def test_beam_search_hand_checked_toy(use_cache):
    toy, src = Toy(), torch.zeros(1, 1, dtype=torch.long)
    assert greedy_decode(toy, src, max_len=4, use_cache=use_cache).tolist() == [[3, 3, 3, 3]]
    # beam 2, step 1: a (.55), b (.45); step 2: "b <eos>" (.405) finishes, "a a" (.22) and "a b" (.165) live;
    # step 3: "a b <eos>" (.1485) finishes: two hypotheses, done. Best: "b <eos>".
    tokens, score = beam_search(toy, src, beam_size=2, max_len=4, length_penalty=0.0, use_cache=use_cache)
    assert tokens.tolist() == [[4, 2]]
    assert score.item() == pytest.approx(math.log(0.45 * 0.9))
    tokens, score = beam_search(toy, src, beam_size=2, max_len=4, length_penalty=1.0, use_cache=use_cache)
    assert tokens.tolist() == [[4, 2]] and score.item() == pytest.approx(math.log(0.405) / 2)
    tokens, _ = beam_search(toy, src, beam_size=1, max_len=4, use_cache=use_cache)
    assert tokens.tolist() == [[3, 3, 3, 3]]  # beam 1 = greedy, open at max_len


def test_length_penalty_prefers_longer_sentences():
    """Unnormalised, "a <eos>" (.35) beats "a b <eos>" (.25 x .9 = .225); divided by the
    length they are -0.52 and -0.50: the longer one wins."""

    class Short(Toy):
        TABLE = {1: {3: 1.0}, 3: {2: 0.35, 4: 0.25, 3: 0.4}, 4: {2: 0.9, 3: 0.1}}

    toy, src = Short(), torch.zeros(1, 1, dtype=torch.long)
    raw, _ = beam_search(toy, src, beam_size=3, max_len=5, length_penalty=0.0)
    normalised, _ = beam_search(toy, src, beam_size=3, max_len=5, length_penalty=1.0)
    assert raw.tolist() == [[3, 2]] and normalised.tolist() == [[3, 4, 2]]
    # beam 1: <eos> is only the second candidate after "a", so it must not end the sentence
    assert beam_search(toy, src, beam_size=1, max_len=4)[0].tolist() == greedy_decode(toy, src, max_len=4).tolist()


def test_only_an_eos_among_the_beam_size_best_candidates_ends_a_hypothesis():
    """Beam 2, step 2, candidates: "a <eos>" .30, "a c" .21, "b <eos>" .18, "b a" .12. The first
    <eos> ends a hypothesis; the second is third, outside the beam, and must not: a sentence
    stopped there would return "a <eos>" (log .30 / 2 = -0.60). Step 3 finishes "a c <eos>"
    (.1995, -0.54) and "b a <eos>" (.06): the best is "a c <eos>". Ids: a 3, b 4, c 5."""

    class Three(Toy):
        TABLE = {1: {3: 0.6, 4: 0.4}, 3: {2: 0.5, 5: 0.35, 4: 0.15}, 4: {2: 0.45, 3: 0.3, 5: 0.25},
                 5: {2: 0.95, 3: 0.05}}

        def __init__(self):
            nn.Module.__init__(self)
            logits = torch.full((6, 6), float("-inf"))
            for prev, nxt in self.TABLE.items():
                for token, p in nxt.items():
                    logits[prev, token] = math.log(p)
            self.register_buffer("logits", logits)

    for use_cache in (True, False):
        tokens, score = beam_search(Three(), torch.zeros(1, 1, dtype=torch.long), beam_size=2, max_len=5,
                                    length_penalty=1.0, use_cache=use_cache)
        assert tokens.tolist() == [[3, 5, 2]]
        torch.testing.assert_close(score, torch.tensor([math.log(0.6 * 0.35 * 0.95) / 3]))


def test_beam_scores_are_the_log_probabilities_of_the_returned_sentences():
    """Each returned score is log p(y | x) of the returned tokens, recomputed by one
    teacher-forced pass: the cache rows follow their hypotheses when beams are reordered."""
    model = small_model()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(2)  # sharper distributions: beams overtake each other
    src = torch.randint(3, 13, (6, 5), generator=torch.Generator().manual_seed(1))
    for use_cache in (True, False):
        tokens, scores = beam_search(model, src, beam_size=4, max_len=6, length_penalty=0.0, use_cache=use_cache)
        tgt_in = torch.cat([torch.ones(6, 1, dtype=torch.long), tokens[:, :-1]], dim=1)
        log_p = model.eval()(src, tgt_in, tgt_key_mask=torch.ones_like(tgt_in, dtype=torch.bool)).log_softmax(-1)
        picked = log_p.gather(-1, tokens[..., None])[..., 0]  # (B, T')
        ended = (tokens == 2).long().cumsum(1)
        keep = (ended == 0) | ((ended == 1) & (tokens == 2))  # up to and including the first <eos>
        torch.testing.assert_close((picked * keep).sum(1), scores, atol=1e-4, rtol=1e-4)


def test_decoding_pads_after_eos_and_restores_mode():
    class TwoSpeeds(Toy):
        """Sentence 0 ends at once; sentence 1 says "a a" first."""

        def encode(self, src, src_key_mask=None):
            return src[:, :1, None].float(), torch.ones(src.shape[0], 1, dtype=torch.bool), []

        def decode(self, tgt, memory, memory_key_mask=None, *, caches=None, need_weights=False):
            prefix = torch.arange(1, tgt.shape[1] + 1)  # (T,): length of the prefix at each position
            ends = (memory[:, 0, 0] == 0)[:, None] | (prefix >= 3)[None]  # (B, T)
            logits = torch.full((*tgt.shape, 5), -9.0)
            logits[..., 2] = torch.where(ends, 0.0, -9.0)
            logits[..., 3] = torch.where(ends, -9.0, 0.0)
            return logits, []

    out = greedy_decode(TwoSpeeds(), torch.tensor([[0], [1]]), max_len=6, use_cache=False)
    assert out.tolist() == [[2, 0, 0], [3, 3, 2]]
    model = small_model().train()
    greedy_decode(model, torch.randint(3, 13, (2, 4)), max_len=3)
    beam_search(model, torch.randint(3, 13, (2, 4)), beam_size=2, max_len=3)
    assert model.training  # decoding runs in eval mode and gives the mode back


def test_kv_cache_reorder():
    cache = KVCache()
    cache.reorder(torch.tensor([0, 0]))  # empty: nothing to move
    keys = torch.arange(3.0).view(3, 1, 1, 1).expand(3, 2, 4, 5)
    cache.append(keys, -keys)
    cache.reorder(torch.tensor([2, 2, 0]))
    assert cache.keys[:, 0, 0, 0].tolist() == [2.0, 2.0, 0.0] and cache.values[:, 0, 0, 0].tolist() == [-2.0, -2.0, 0.0]
    with pytest.raises(TypeError, match="index"):
        cache.reorder(torch.tensor([0.0]))


def test_xavier_init_reaches_decoder_blocks():
    torch.manual_seed(0)
    stack = DecoderStack(D, H, FF, 1)
    nn.init.zeros_(stack.layers[0].multihead_attn.in_proj_weight)
    xavier_init_(stack)
    assert stack.layers[0].multihead_attn.in_proj_weight.abs().sum() > 0
    assert isinstance(EncoderStack(D, H, FF, 1).norm, nn.LayerNorm)


def test_bad_inputs():
    with pytest.raises(ValueError, match="share_embeddings"):
        EncoderDecoder(10, 12, share_embeddings=True)
    with pytest.raises(ValueError, match="pad_id, bos_id, eos_id"):
        EncoderDecoder(10, 10, bos_id=0)
    with pytest.raises(ValueError, match="eos_id"):
        EncoderDecoder(10, 10, eos_id=10)
    model = small_model()
    with pytest.raises(TypeError, match="src"):
        model(torch.randn(2, 3), torch.ones(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="tgt_in"):
        model(torch.ones(2, 3, dtype=torch.long), torch.ones(3, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="src_key_mask"):
        model(torch.ones(2, 3, dtype=torch.long), torch.ones(2, 2, dtype=torch.long), src_key_mask=torch.ones(2, 3))
    src = torch.ones(1, 3, dtype=torch.long)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(model, src, beam_size=0, max_len=3)
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(model, src, beam_size=2, max_len=3, length_penalty=-1.0)
    with pytest.raises(ValueError, match="max_len"):
        greedy_decode(model, src, max_len=0)
    with pytest.raises(ValueError, match="caches"):
        model.decode(src, model.encode(src)[0], caches=[KVCache()])
