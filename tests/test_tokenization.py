"""Subword tokenizers trained on a split, and the Spanish–Otomí pairs they are trained on."""

import unicodedata

import pytest
import torch

from atencion import data
from atencion.tokenization import SUBWORD_MODELS, decode, encode, train_tokenizer

TEXTS = ["la casa grande", "las casas grandes", "el perro come", "los perros comen", "ra ngu̱ ne ra zi'ñö"] * 5


@pytest.mark.parametrize("model", SUBWORD_MODELS)
def test_specials_have_the_data_ids(model):
    tok = train_tokenizer(TEXTS, 60, model=model)
    assert [tok.token_to_id(s) for s in data.SPECIALS] == [data.PAD, data.BOS, data.EOS, data.UNK]
    assert tok.get_vocab_size() <= 60


@pytest.mark.parametrize("model", ["bpe", "unigram"])
def test_round_trip_and_nfc(model):
    tok = train_tokenizer(TEXTS, 60, model=model)
    decomposed = unicodedata.normalize("NFD", "las casas ngu̱ zi'ñö")
    ids = encode(tok, [decomposed], bos=True, eos=True)[0]
    assert ids[0] == data.BOS and ids[-1] == data.EOS
    assert decode(tok, [ids + [data.PAD, data.PAD]]) == [unicodedata.normalize("NFC", decomposed)]


@pytest.mark.parametrize("model", SUBWORD_MODELS)
def test_unseen_characters_become_unk_without_crashing(model):
    tok = train_tokenizer(TEXTS, 60, model=model)
    ids = encode(tok, ["casa ☃"])[0]
    assert data.UNK in ids


def test_decode_stops_at_eos_and_max_len_keeps_eos():
    tok = train_tokenizer(TEXTS, 60)
    ids = encode(tok, ["la casa grande"], eos=True, max_len=3)[0]
    assert len(ids) == 3 and ids[-1] == data.EOS
    row = torch.tensor([[*encode(tok, ["la casa"])[0], data.EOS, *encode(tok, ["perro"])[0]]])
    assert decode(tok, row) == ["la casa"]


def test_training_is_deterministic_and_sees_only_its_texts():
    a, b = train_tokenizer(TEXTS, 60), train_tokenizer(list(TEXTS), 60)
    assert a.get_vocab() == b.get_vocab()
    assert "▁perro" not in train_tokenizer(TEXTS[:2] * 5, 60).get_vocab()


def test_bad_inputs():
    with pytest.raises(TypeError, match="texts"):
        train_tokenizer("la casa", 60)
    with pytest.raises(TypeError, match="texts"):
        train_tokenizer(["la casa", 3], 60)
    with pytest.raises(ValueError, match="texts"):
        train_tokenizer([], 60)
    with pytest.raises(ValueError, match="vocab_size"):
        train_tokenizer(TEXTS, 4)
    with pytest.raises(ValueError, match="model"):
        train_tokenizer(TEXTS, 60, model="chars")
    with pytest.raises(TypeError, match="tokenizer"):
        encode("tok", ["a"])
    with pytest.raises(ValueError, match="max_len"):
        encode(train_tokenizer(TEXTS, 60), ["a"], bos=True, eos=True, max_len=2)


def test_parallel_corpus_split_by_spanish_sentence():
    splits = data.parallel_corpus("tsunkua", varieties=["(ote)"])
    assert list(splits) == ["train", "dev", "test"]
    n = sum(len(v) for v in splits.values())
    assert 3000 < n <= 3448
    spanish = {name: {es for es, _ in pairs} for name, pairs in splits.items()}
    assert not spanish["train"] & spanish["test"] and not spanish["train"] & spanish["dev"]
    pairs = [p for v in splits.values() for p in v]
    assert len(set(pairs)) == len(pairs)
    assert all(unicodedata.is_normalized("NFC", a + b) and a == " ".join(a.split()) for a, b in pairs)
    assert splits == data.parallel_corpus("tsunkua", varieties=["(ote)"])  # seeded
    everything = data.parallel_corpus("tsunkua")
    assert sum(len(v) for v in everything.values()) > n
    with pytest.raises(ValueError, match="varieties"):
        data.parallel_corpus("tsunkua", varieties=["(xyz)"])
    with pytest.raises(TypeError, match="varieties"):
        data.parallel_corpus("tsunkua", varieties="(ote)")
    with pytest.raises(ValueError, match="corpus"):
        data.parallel_corpus("nahuatl")


def test_bert_tokenizer_specials_template_and_normalisation():
    from atencion.tokenization import BERT_SPECIALS, train_bert_tokenizer

    tok = train_bert_tokenizer(TEXTS, 80)
    assert [tok.token_to_id(s) for s in BERT_SPECIALS] == [0, 1, 2, 3, 4]
    enc = tok.encode("La CASA grande.")
    assert enc.ids[0] == 2 and enc.ids[-1] == 3  # [CLS] … [SEP]
    assert enc.ids == tok.encode("la casa grande .").ids  # lower-cased; punctuation split off
    assert tok.encode(unicodedata.normalize("NFD", "zi'ñö")).ids == tok.encode("zi'ñö").ids  # NFC
    assert 1 in tok.encode("xyzq €").ids  # unseen characters become [UNK]
    pair = tok.encode("la casa", "el perro")
    assert pair.ids.count(3) == 2 and pair.type_ids[-1] == 1 and pair.type_ids[0] == 0
    cased = train_bert_tokenizer(TEXTS, 80, lowercase=False)
    assert cased.encode("La").ids != cased.encode("la").ids
    cut = train_bert_tokenizer(TEXTS, 80, max_len=5).encode("la casa grande el perro come")
    assert len(cut.ids) == 5 and cut.ids[0] == 2 and cut.ids[-1] == 3


def test_bert_tokenizer_bad_inputs():
    from atencion.tokenization import to_transformers_tokenizer, train_bert_tokenizer

    with pytest.raises(TypeError, match="texts"):
        train_bert_tokenizer("la casa", 80)
    with pytest.raises(ValueError, match="texts"):
        train_bert_tokenizer([], 80)
    with pytest.raises(ValueError, match="vocab_size"):
        train_bert_tokenizer(TEXTS, 5)
    with pytest.raises(ValueError, match="max_len"):
        train_bert_tokenizer(TEXTS, 80, max_len=2)
    with pytest.raises(ValueError, match="tokenizer"):
        to_transformers_tokenizer(train_tokenizer(TEXTS, 60))  # the book's <pad> <bos> <eos> <unk>, not BERT's
    with pytest.raises(TypeError, match="tokenizer"):
        to_transformers_tokenizer("tok")


def test_bert_tokenizer_ids_are_the_same_in_every_process():
    """The WordPiece trainer numbers its pieces in a different order in each process; the library
    renumbers them canonically, so a model trained with them has the same rows in every run (checked
    on the Spanish of the three corpora, as chapter 12 trains it)."""
    import subprocess
    import sys

    program = ("from atencion.tokenization import train_bert_tokenizer as t; from atencion import data; "
               "s = [r[0] for c in data.CORPORA for r in data.corpus_rows(c) if r and r[0].strip()]; "
               "v = t(s, 1000).get_vocab(); print(sorted(v, key=v.get))")
    runs = {subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
            for _ in range(3)}
    assert len(runs) == 1


def test_bert_tokenizer_numbers_pieces_canonically():
    from atencion.tokenization import BERT_SPECIALS, train_bert_tokenizer

    vocab = train_bert_tokenizer(TEXTS, 80).get_vocab()
    ordered = sorted(vocab, key=vocab.get)
    assert tuple(ordered[:5]) == BERT_SPECIALS and sorted(vocab.values()) == list(range(len(vocab)))
    rest = ordered[5:]
    assert rest == sorted(rest, key=lambda t: (len(t.removeprefix("##")), t))
