"""Tests for atencion.bert against transformers' BertForMaskedLM: the same weights give the same
logits, hidden states, attention weights and gradients, in both directions; save_pretrained and
AutoModelForMaskedLM from a local folder; padding; bad inputs."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForMaskedLM, BertConfig, BertForMaskedLM, BertForSequenceClassification

from atencion.bert import BertClassifier, BertMaskedLM, bert_state_dict_from_hf, bert_state_dict_to_hf, to_transformers

SIZES = dict(d_model=32, num_heads=4, num_layers=2, d_ff=64, max_len=24)


def config():
    return BertConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=64, max_position_embeddings=24, type_vocab_size=2,
                      hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=0,
                      attn_implementation="eager")


def ours_into_theirs():
    torch.manual_seed(0)
    ours = BertMaskedLM(60, **SIZES).eval()
    with torch.no_grad():
        for p in ours.parameters():  # nothing left at an init value of zero or one
            p.add_(0.1 * torch.randn_like(p))
    theirs = BertForMaskedLM(config()).eval()
    missing, unexpected = theirs.load_state_dict(bert_state_dict_to_hf(ours.state_dict()), strict=False)
    assert not unexpected and all("position_ids" in k or "token_type_ids" in k for k in missing)
    return ours, theirs


def batch():
    ids = torch.randint(4, 60, (3, 9), generator=torch.Generator().manual_seed(1))
    ids[1, 6:] = 0  # padding
    ids[2, 4:] = 0
    types = torch.zeros_like(ids)
    types[:, 5:] = 1  # a second segment
    return ids, types


def test_the_books_weights_give_the_same_outputs_in_transformers():
    ours, theirs = ours_into_theirs()
    ids, types = batch()
    real = ids != 0
    logits, weights = ours(ids, token_type_ids=types, need_weights=True)
    out = theirs(input_ids=ids, attention_mask=real.long(), token_type_ids=types, output_attentions=True)
    torch.testing.assert_close(logits[real], out.logits[real], atol=1e-5, rtol=1e-5)
    for w, a in zip(weights, out.attentions, strict=True):
        torch.testing.assert_close(w.transpose(1, 2)[real], a.transpose(1, 2)[real], atol=1e-6, rtol=1e-5)
    grad_out = torch.randn_like(logits) * real[..., None]
    (logits * grad_out).sum().backward()
    (out.logits * grad_out).sum().backward()
    grads = bert_state_dict_from_hf({k: p.grad if p.grad is not None else torch.zeros_like(p)
                                     for k, p in theirs.named_parameters()} | {
        "cls.predictions.decoder.weight": theirs.bert.embeddings.word_embeddings.weight.grad})
    for name, p in ours.named_parameters():
        key = name.replace("ff.linear", "linear")
        torch.testing.assert_close(p.grad, grads[key], atol=1e-5, rtol=1e-4, msg=name)


def test_round_trip_and_save_pretrained(tmp_path):
    ours, theirs = ours_into_theirs()
    back = BertMaskedLM(60, **SIZES).eval()
    back.load_state_dict(bert_state_dict_from_hf(theirs.state_dict()))
    ids, types = batch()
    torch.testing.assert_close(back(ids)[0], ours(ids)[0])
    theirs.save_pretrained(tmp_path)
    loaded = AutoModelForMaskedLM.from_pretrained(tmp_path).eval()
    real = ids != 0
    torch.testing.assert_close(loaded(input_ids=ids, attention_mask=real.long()).logits[real], ours(ids)[0][real],
                               atol=1e-5, rtol=1e-5)


def test_cls_classifier_equals_transformers_sequence_classification():
    torch.manual_seed(0)
    ours = BertClassifier(60, 3, **SIZES).eval()
    with torch.no_grad():
        for p in ours.parameters():
            p.add_(0.1 * torch.randn_like(p))
    cfg = config()
    cfg.num_labels = 3
    theirs = BertForSequenceClassification(cfg).eval()
    missing, unexpected = theirs.load_state_dict(bert_state_dict_to_hf(ours.state_dict()), strict=False)
    assert not unexpected and all("position_ids" in k or "token_type_ids" in k for k in missing)
    ids, types = batch()
    logits, _ = ours(ids, token_type_ids=types)
    out = theirs(input_ids=ids, attention_mask=(ids != 0).long(), token_type_ids=types)
    torch.testing.assert_close(logits, out.logits, atol=1e-5, rtol=1e-5)
    back = BertClassifier(60, 3, **SIZES).eval()
    back.load_state_dict(bert_state_dict_from_hf(theirs.state_dict()))
    torch.testing.assert_close(back(ids)[0], ours(ids)[0])


def test_mean_pooling_averages_the_real_tokens_only():
    torch.manual_seed(0)
    model = BertClassifier(60, 3, pool="mean", **SIZES).eval()
    ids, _ = batch()
    h, _ = model.encoder(ids)
    real = ids != 0
    expected = torch.stack([h[b][real[b]].mean(0) for b in range(len(ids))])
    torch.testing.assert_close(model(ids)[0], model.classifier(expected))
    longer = torch.cat([ids, torch.zeros(3, 4, dtype=torch.long)], dim=1)  # more padding changes nothing
    torch.testing.assert_close(model(longer)[0], model(ids)[0], atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="pool"):
        BertClassifier(60, 3, pool="max", **SIZES)


def test_padding_changes_nothing_at_real_tokens():
    ours, _ = ours_into_theirs()
    ids, _ = batch()
    real = ids != 0
    other = ids.masked_fill(~real, 7)  # other tokens under the padding, hidden by an explicit key_mask
    torch.testing.assert_close(ours(other, key_mask=real)[0][real], ours(ids)[0][real], atol=1e-5, rtol=1e-5)
    longer = torch.cat([ids, torch.zeros(3, 4, dtype=torch.long)], dim=1)  # more padding
    torch.testing.assert_close(ours(longer)[0][:, :9][real], ours(ids)[0][real], atol=1e-5, rtol=1e-5)


def test_bad_inputs():
    model = BertMaskedLM(60, **SIZES)
    with pytest.raises(ValueError, match="ids"):
        model(torch.zeros(1, 30, dtype=torch.long) + 5)  # longer than max_len
    with pytest.raises(TypeError, match="ids"):
        model(torch.zeros(1, 5))
    with pytest.raises(ValueError, match="token_type_ids"):
        model(torch.ones(1, 5, dtype=torch.long), token_type_ids=torch.zeros(1, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="pad_id"):
        BertMaskedLM(60, pad_id=60, **SIZES)


def test_to_transformers_gives_the_same_outputs():
    ours, _ = ours_into_theirs()
    theirs = to_transformers(ours)
    assert not theirs.training and theirs.config.hidden_act == "gelu"
    ids, types = batch()
    real = ids != 0
    out = theirs(input_ids=ids, attention_mask=real.long(), token_type_ids=types)
    torch.testing.assert_close(out.logits[real], ours(ids, token_type_ids=types)[0][real], atol=1e-5, rtol=1e-5)
    torch.manual_seed(1)
    clf = BertClassifier(60, 3, **SIZES).eval()
    with torch.no_grad():
        for p in clf.parameters():
            p.add_(0.1 * torch.randn_like(p))
    torch.testing.assert_close(to_transformers(clf)(input_ids=ids, attention_mask=real.long()).logits, clf(ids)[0],
                               atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="pool"):
        to_transformers(BertClassifier(60, 3, pool="mean", **SIZES))
    with pytest.raises(TypeError, match="model"):
        to_transformers(torch.nn.Linear(2, 2))


def test_fill_mask_pipeline_from_a_local_folder_agrees_with_the_books_model(tmp_path):
    from transformers import AutoTokenizer, pipeline

    from atencion.tokenization import to_transformers_tokenizer, train_bert_tokenizer

    texts = ["la casa es grande", "el perro come pan", "la niña come pan", "el gato es negro",
             "la casa es blanca", "el niño come fruta"] * 4
    tok = train_bert_tokenizer(texts, 60)
    torch.manual_seed(0)
    ours = BertMaskedLM(tok.get_vocab_size(), **SIZES).eval()
    with torch.no_grad():
        for p in ours.parameters():
            p.add_(0.3 * torch.randn_like(p))
    to_transformers(ours).save_pretrained(tmp_path)
    to_transformers_tokenizer(tok).save_pretrained(tmp_path)
    assert AutoTokenizer.from_pretrained(tmp_path)("la casa")["input_ids"] == tok.encode("la casa").ids
    fill = pipeline("fill-mask", model=str(tmp_path), tokenizer=str(tmp_path), top_k=5)
    got = fill("el perro [MASK] pan")
    ids = torch.tensor([tok.encode("el perro [MASK] pan").ids])
    where = ids[0].tolist().index(4)
    probs = ours(ids)[0][0, where].softmax(-1)
    top = probs.topk(5)
    assert [g["token"] for g in got] == top.indices.tolist()
    torch.testing.assert_close(torch.tensor([g["score"] for g in got]), top.values, atol=1e-5, rtol=1e-4)


def test_head_on_chosen_positions_equals_the_full_logits():
    ours, _ = ours_into_theirs()
    ids, _ = batch()
    chosen = torch.zeros_like(ids, dtype=torch.bool)
    chosen[0, 2] = chosen[1, 5] = chosen[2, 0] = True
    hidden, _ = ours.encoder(ids)
    torch.testing.assert_close(ours.head(hidden[chosen]), ours(ids)[0][chosen])
