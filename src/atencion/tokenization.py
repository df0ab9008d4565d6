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
"""

from __future__ import annotations

import os

# Tokenizers' Rust thread pool keeps its workers busy after a batch call and slows
# down PyTorch's threads on a small CPU (measured: an epoch of chapter 11's model
# took 7 times longer on 2 threads); the book's texts are small enough for one thread.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from collections.abc import Iterable, Sequence
from typing import Literal

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from torch import Tensor

from ._checks import check_bool, check_int, check_texts
from .data import BOS, EOS, PAD, SPECIALS, UNK

__all__ = ["train_tokenizer", "encode", "decode", "SUBWORD_MODELS"]

SUBWORD_MODELS = ("bpe", "unigram", "wordpiece")


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
    return tokenizer


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
