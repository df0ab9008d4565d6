"""Subword tokenizers trained on a split of the book's data, with Hugging Face ``tokenizers``.

:func:`train_tokenizer` learns a BPE (Sennrich et al., 2016), unigram (Kudo, 2018)
or WordPiece vocabulary from the texts it is given -- a page passes its training
split only, so that no test sentence shapes the vocabulary. Text is normalised to
Unicode NFC (a letter with a macron written as one code point or as two becomes
the same string) and split at spaces, which are kept in the tokens as ``▁``
(SentencePiece's convention), so decoding gives the text back. A character never
seen in training becomes ``<unk>``: it does not stop the tokenizer.

The special tokens come first, with the ids of :mod:`atencion.data`:
``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2, ``<unk>`` = 3.

:func:`train_bert_tokenizer` builds BERT's kind of tokenizer instead (Devlin et al., 2019):
WordPiece with its own special tokens (:data:`BERT_SPECIALS`), ``[CLS] … [SEP]`` added
around every text, and optionally lower-cased (as in BETO's ``uncased`` models);
:func:`to_transformers_tokenizer` wraps it for ``transformers`` (``save_pretrained``,
``AutoTokenizer``, ``pipeline("fill-mask")``).
"""

from __future__ import annotations

import os

# Tokenizers' Rust thread pool keeps its workers busy after a batch call and slows
# down PyTorch's threads on a small CPU (measured: an epoch of chapter 11's model
# took 7 times longer on 2 threads); the book's texts are small enough for one thread.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collections.abc import Iterable, Sequence
from typing import Literal

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from torch import Tensor

from ._checks import check_bool, check_int, check_texts
from .data import BOS, EOS, PAD, SPECIALS, UNK

__all__ = ["train_tokenizer", "encode", "decode", "SUBWORD_MODELS", "BERT_SPECIALS", "train_bert_tokenizer",
           "to_transformers_tokenizer"]

SUBWORD_MODELS = ("bpe", "unigram", "wordpiece")
BERT_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")  # ids 0, 1, 2, 3, 4


def train_tokenizer(texts: Iterable[str], vocab_size: int, *,
                    model: Literal["bpe", "unigram", "wordpiece"] = "bpe", min_frequency: int = 2) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` with at most ``vocab_size`` entries learned from ``texts``.

    ``min_frequency`` (BPE and WordPiece): a merge must occur at least this often.
    """
    texts = check_texts(texts)
    if not texts:
        raise ValueError("texts: expected at least one text to learn from")
    check_int(vocab_size, "vocab_size", minimum=len(SPECIALS) + 1)
    check_int(min_frequency, "min_frequency")
    specials = list(SPECIALS)
    unk = SPECIALS[UNK]
    if model == "bpe":
        tokenizer = Tokenizer(models.BPE(unk_token=unk))
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                      special_tokens=specials, show_progress=False)
    elif model == "unigram":
        tokenizer = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials, unk_token=unk,
                                          show_progress=False)
    elif model == "wordpiece":
        tokenizer = Tokenizer(models.WordPiece(unk_token=unk))
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                            special_tokens=specials, show_progress=False)
    else:
        raise ValueError(f"model: expected one of {SUBWORD_MODELS}, got {model!r}")
    tokenizer.normalizer = normalizers.NFC()
    if model == "wordpiece":  # words and punctuation apart; continuation pieces start with ##
        tokenizer.pre_tokenizer, tokenizer.decoder = pre_tokenizers.BertPreTokenizer(), decoders.WordPiece()
    else:  # spaces kept in the tokens as ▁, so decoding restores them
        tokenizer.pre_tokenizer, tokenizer.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
    tokenizer.train_from_iterator(texts, trainer)
    if model == "wordpiece":
        _renumber_wordpiece(tokenizer, SPECIALS, unk)
    return tokenizer


def _renumber_wordpiece(tokenizer: Tokenizer, specials: Sequence[str], unk: str) -> None:
    """Give a trained WordPiece vocabulary a canonical numbering, in place.

    The trainer learns the same pieces in every process but numbers them in an order that varies from one
    process to the next (hash-map iteration), so a model's embedding rows would differ between runs.
    WordPiece only looks pieces up, so renumbering changes no tokenization: the special tokens first, then
    shorter pieces first, alphabetically. (Where two merges tie at the very end of training, which of them
    makes the vocabulary can still vary; on the book's corpora it does not.)
    """
    pieces = sorted((t for t in tokenizer.get_vocab() if t not in specials),
                    key=lambda t: (len(t.removeprefix("##")), t))
    tokenizer.model = models.WordPiece({t: i for i, t in enumerate([*specials, *pieces])}, unk_token=unk)


def encode(tokenizer: Tokenizer, texts: Iterable[str], *, bos: bool = False, eos: bool = False,
           max_len: int | None = None) -> list[list[int]]:
    """Token ids of each text, with ``<bos>``/``<eos>`` added if asked, cut to ``max_len``
    ids (the cut keeps ``<eos>`` last)."""
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"tokenizer: expected a tokenizers.Tokenizer, got {type(tokenizer).__name__}")
    texts = check_texts(texts)
    check_bool(bos, "bos")
    check_bool(eos, "eos")
    if max_len is not None:
        check_int(max_len, "max_len", minimum=1 + bos + eos)
    out = []
    for encoding in tokenizer.encode_batch(texts):
        ids = encoding.ids
        if max_len is not None:
            ids = ids[:max_len - bos - eos]
        out.append([BOS] * bos + ids + [EOS] * eos)
    return out


def decode(tokenizer: Tokenizer, ids: Tensor | Sequence[Sequence[int]]) -> list[str]:
    """Texts from rows of ids ``(B, T)``: each row is read up to its first ``<eos>``,
    without ``<bos>`` or ``<pad>``."""
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"tokenizer: expected a tokenizers.Tokenizer, got {type(tokenizer).__name__}")
    rows = ids.tolist() if isinstance(ids, Tensor) else [list(r) for r in ids]
    texts = []
    for row in rows:
        row = row[:row.index(EOS)] if EOS in row else row
        texts.append(tokenizer.decode([i for i in row if i not in (PAD, BOS)], skip_special_tokens=False))
    return texts


def train_bert_tokenizer(texts: Iterable[str], vocab_size: int, *, lowercase: bool = True, min_frequency: int = 2,
                         max_len: int | None = None) -> Tokenizer:
    """A WordPiece ``tokenizers.Tokenizer`` as BERT's: at most ``vocab_size`` entries learned
    from ``texts``, :data:`BERT_SPECIALS` first (``[PAD]`` = 0 … ``[MASK]`` = 4), text
    normalised to NFC (and lower-cased if ``lowercase``), words and punctuation split apart,
    and ``[CLS] text [SEP]`` (``[CLS] a [SEP] b [SEP]`` for a pair, the second segment with
    type id 1) on every encoding. With ``max_len``, encodings are cut to ``max_len`` ids,
    ``[SEP]`` kept last."""
    texts = check_texts(texts)
    if not texts:
        raise ValueError("texts: expected at least one text to learn from")
    check_int(vocab_size, "vocab_size", minimum=len(BERT_SPECIALS) + 1)
    check_bool(lowercase, "lowercase")
    check_int(min_frequency, "min_frequency")
    if max_len is not None:
        check_int(max_len, "max_len", minimum=3)
    pad, unk, cls, sep, _ = BERT_SPECIALS
    tokenizer = Tokenizer(models.WordPiece(unk_token=unk))
    steps = [normalizers.NFC()] + ([normalizers.Lowercase()] if lowercase else [])
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer, tokenizer.decoder = pre_tokenizers.BertPreTokenizer(), decoders.WordPiece()
    tokenizer.train_from_iterator(texts, trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(BERT_SPECIALS), show_progress=False))
    _renumber_wordpiece(tokenizer, BERT_SPECIALS, unk)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} $B:1 {sep}:1",
        special_tokens=[(cls, BERT_SPECIALS.index(cls)), (sep, BERT_SPECIALS.index(sep))])
    if max_len is not None:
        tokenizer.enable_truncation(max_length=max_len)
    return tokenizer


def to_transformers_tokenizer(tokenizer: Tokenizer):
    """``tokenizer`` (from :func:`train_bert_tokenizer`) as a ``transformers``
    ``PreTrainedTokenizerFast`` that knows its special tokens, for ``save_pretrained``,
    ``AutoTokenizer.from_pretrained`` and ``pipeline("fill-mask")``."""
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"tokenizer: expected a tokenizers.Tokenizer, got {type(tokenizer).__name__}")
    vocab = tokenizer.get_vocab()
    if any(vocab.get(token) != i for i, token in enumerate(BERT_SPECIALS)):
        raise ValueError(f"tokenizer: expected BERT's special tokens {BERT_SPECIALS} at ids 0-4 "
                         "(a tokenizer from train_bert_tokenizer)")
    from transformers import PreTrainedTokenizerFast

    pad, unk, cls, sep, mask = BERT_SPECIALS
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token=pad, unk_token=unk, cls_token=cls,
                                   sep_token=sep, mask_token=mask, model_input_names=["input_ids", "token_type_ids",
                                                                                     "attention_mask"])
