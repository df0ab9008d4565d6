"""Spanish dates to English dates, the translation task of chapter 1.

«el lunes veintitrés de noviembre de dos mil veintiséis» -> "Monday, November 23, 2026",
«del 3 de mayo al 23 de noviembre de 2026» -> "from May 3 to November 23, 2026".
The month moves to the front, so the alignment between source and target is
not monotone. Sources are tokenised into words with numbers split into digits
(``"2026" -> 2 0 2 6``); targets likewise (``"November", "2", "3", ",", ...``).

Everything is seeded: :func:`split_dates` splits the days of the calendar into
disjoint train/validation/test pools (a test date never occurs in training),
and :func:`date_pairs` renders dates and ranges from one pool in random
Spanish surface forms.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .._checks import check_date, check_int, check_int_type, check_optional_int
from .sequences import shift_right

__all__ = [
    "PAD", "BOS", "EOS", "UNK", "SPECIALS", "WEEKDAYS_ES", "WEEKDAYS_EN", "MONTHS_ES", "MONTHS_EN",
    "spanish_number", "spanish_date", "english_date", "spanish_range", "english_range",
    "tokenize", "detokenize_en",
    "split_dates", "date_pairs", "Vocab", "Batch", "encode_pairs", "make_batch", "batches",
    "source_sorted_batches",
    "exact_match", "greedy_exact_match",
]

# Special tokens and their fixed ids (the same in every vocabulary).
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
PAD, BOS, EOS, UNK = 0, 1, 2, 3

# --------------------------------------------------------------------------- numbers

_BELOW_30 = (
    "cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
    "diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete",
    "dieciocho", "diecinueve", "veinte", "veintiuno", "veintidós", "veintitrés",
    "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve",
)
_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta",
         8: "ochenta", 9: "noventa"}
_HUNDREDS = {1: "ciento", 2: "doscientos", 3: "trescientos", 4: "cuatrocientos",
             5: "quinientos", 6: "seiscientos", 7: "setecientos", 8: "ochocientos",
             9: "novecientos"}


def _below_100(n: int, apocope: bool) -> str:
    if n < 30:
        if apocope and n == 1:
            return "un"
        if apocope and n == 21:
            return "veintiún"
        return _BELOW_30[n]
    tens, units = divmod(n, 10)
    if units == 0:
        return _TENS[tens]
    return f"{_TENS[tens]} y {'un' if apocope and units == 1 else _BELOW_30[units]}"


def _below_1000(n: int, apocope: bool) -> str:
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    words = [_HUNDREDS[hundreds]] if hundreds else []
    if rest:
        words.append(_below_100(rest, apocope))
    return " ".join(words)


def spanish_number(n: int, *, apocope: bool = False) -> str:
    """Spanish words for an integer ``0 <= n <= 9999`` (RAE spelling).

    ``apocope=True`` gives the form used before a masculine noun
    (``21 -> "veintiún"``, ``31 -> "treinta y un"``); the default is the
    form used when counting or naming a day or a year (``"veintiuno"``).
    """
    check_int_type(n, "n")
    if not 0 <= n <= 9999:
        raise ValueError(f"n: expected 0 <= n <= 9999, got {n}")
    if n == 0:
        return "cero"
    thousands, rest = divmod(n, 1000)
    words = []
    if thousands == 1:
        words.append("mil")  # «mil», never «un mil»
    elif thousands > 1:
        words.append(f"{_below_100(thousands, apocope=True)} mil")
    if rest:
        words.append(_below_1000(rest, apocope))
    return " ".join(words)


# --------------------------------------------------------------------------- dates

WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")




def spanish_date(
    date: dt.date,
    *,
    weekday: bool = False,
    day_words: bool = False,
    year_words: bool = False,
    ordinal_first: bool = False,
) -> str:
    """Render ``date`` in Spanish: «el [lunes] 23 de noviembre de 2026».

    ``day_words``/``year_words`` write the day/year in words («veintitrés»,
    «dos mil veintiséis»); ``ordinal_first`` writes day 1 in words as «primero»
    instead of «uno».
    """
    date = check_date(date)
    if date.day == 1 and day_words and ordinal_first:
        day = "primero"
    else:
        day = spanish_number(date.day) if day_words else str(date.day)
    year = spanish_number(date.year) if year_words else str(date.year)
    words = ["el"]
    if weekday:
        words.append(WEEKDAYS_ES[date.weekday()])
    words += [day, "de", MONTHS_ES[date.month - 1], "de", year]
    return " ".join(words)


def english_date(date: dt.date, *, weekday: bool = False) -> str:
    """Render ``date`` in English: ``"[Monday, ]November 23, 2026"``."""
    date = check_date(date)
    text = f"{MONTHS_EN[date.month - 1]} {date.day}, {date.year}"
    return f"{WEEKDAYS_EN[date.weekday()]}, {text}" if weekday else text


_TOKEN = re.compile(r"\d|[^\W\d]+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words, single digits and punctuation marks.

    >>> tokenize("el 23 de noviembre")
    ['el', '2', '3', 'de', 'noviembre']
    >>> tokenize("November 23, 2026")
    ['November', '2', '3', ',', '2', '0', '2', '6']
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    return _TOKEN.findall(text)


def detokenize_en(tokens: Iterable[str]) -> str:
    """Inverse of :func:`tokenize` for English dates: digits are joined, commas attach."""
    text = ""
    previous = ""
    for token in tokens:
        if token == "," or (token.isdigit() and previous.isdigit()):
            text += token
        else:
            text += (" " if text else "") + token
        previous = token
    return text


def split_dates(
    *,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int,
    start: dt.date = dt.date(1900, 1, 1),
    end: dt.date = dt.date(2099, 12, 31),
) -> tuple[list[dt.date], list[dt.date], list[dt.date]]:
    """Split every day in ``[start, end]`` at random into train/validation/test pools.

    The pools are disjoint, so a test date never occurs in training; each is
    sorted. ``fractions`` are the pools' shares of the days.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions: expected three non-negative shares summing to 1, got {fractions}")
    start, end = check_date(start), check_date(end)
    days = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
    if len(days) < 3:
        raise ValueError(f"end: expected at least 3 days in [start, end], got {len(days)}")
    random.Random(seed).shuffle(days)
    n_train = round(fractions[0] * len(days))
    n_val = round(fractions[1] * len(days))
    pools = days[:n_train], days[n_train:n_train + n_val], days[n_train + n_val:]
    return tuple(sorted(pool) for pool in pools)  # type: ignore[return-value]


def spanish_range(first: dt.date, last: dt.date, **style: bool) -> str:
    """«del 3 de mayo [de 2025] al 23 de noviembre de 2026»; the first year only if it differs.

    ``style`` holds :func:`spanish_date`'s options, applied to both dates.
    """
    a = spanish_date(first, **style).split(" ")[1:]  # drop «el»
    if first.year == last.year:
        a = a[: a.index("de", a.index("de") + 1)]  # drop «de <year>»
    b = spanish_date(last, **style).split(" ")[1:]
    return " ".join(["del", *a, "al", *b])


def english_range(first: dt.date, last: dt.date, *, weekday: bool = False) -> str:
    """``"from May 3[, 2025] to November 23, 2026"``; the first year only if it differs."""
    a = english_date(first, weekday=weekday)
    if first.year == last.year:
        a = a.rsplit(",", 1)[0]
    return f"from {a} to {english_date(last, weekday=weekday)}"


def date_pairs(
    pool: Sequence[dt.date],
    n: int,
    *,
    seed: int,
    p_range: float = 0.5,
    max_span: int = 400,
    p_weekday: float = 0.5,
    p_day_words: float = 0.5,
    p_year_words: float = 0.5,
) -> list[tuple[str, str]]:
    """``n`` (Spanish source, English target) pairs built from the dates of ``pool``.

    Each pair is a single date or, with probability ``p_range``, a range whose
    end is the first date of the pool at least ``1..max_span`` days (uniform)
    after its start. Independently, it gets weekdays with probability
    ``p_weekday`` (then the English target has them too), days in words with
    probability ``p_day_words`` (day 1 as «primero» or «uno», half and half)
    and years in words with probability ``p_year_words``.
    """
    for name, p in (("p_range", p_range), ("p_weekday", p_weekday),
                    ("p_day_words", p_day_words), ("p_year_words", p_year_words)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name}: expected a probability in [0, 1], got {p}")
    check_int(n, "n", minimum=0)
    check_int(max_span, "max_span", minimum=1)
    pool = sorted(pool)
    if len(pool) < 2:
        raise ValueError(f"pool: expected at least 2 dates, got {len(pool)}")
    rng = random.Random(seed)
    pairs = []
    while len(pairs) < n:
        i = rng.randrange(len(pool) - 1)  # the last date cannot start a range
        weekday = rng.random() < p_weekday
        style = dict(weekday=weekday, day_words=rng.random() < p_day_words,
                     year_words=rng.random() < p_year_words, ordinal_first=rng.random() < 0.5)
        if rng.random() < p_range:
            target = pool[i] + dt.timedelta(days=rng.randint(1, max_span))
            j = min(bisect.bisect_left(pool, target), len(pool) - 1)
            pairs.append((spanish_range(pool[i], pool[j], **style),
                          english_range(pool[i], pool[j], weekday=weekday)))
        else:
            pairs.append((spanish_date(pool[i], **style), english_date(pool[i], weekday=weekday)))
    return pairs


# --------------------------------------------------------------------------- vocabulary


class Vocab:
    """Token <-> id map with fixed special ids: ``<pad>`` 0, ``<bos>`` 1, ``<eos>`` 2, ``<unk>`` 3.

    The vocabulary is frozen at construction: unknown tokens map to ``<unk>``.
    """

    pad_id, bos_id, eos_id, unk_id = PAD, BOS, EOS, UNK

    def __init__(self, tokens: Iterable[str]) -> None:
        if isinstance(tokens, str):
            raise TypeError("tokens: expected an iterable of token strings, got a single str")
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(SPECIALS)}
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"tokens: expected str tokens, got {type(token).__name__}")
            self.stoi.setdefault(token, len(self.stoi))
        self.itos: list[str] = list(self.stoi)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocab:
        """Vocabulary of every token of ``texts`` (in order of first appearance)."""
        return cls(token for text in texts for token in tokenize(text))

    def __len__(self) -> int:
        return len(self.itos)

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)})"

    def encode(self, tokens: Sequence[str], *, eos: bool = False) -> list[int]:
        """Ids of ``tokens`` (``<unk>`` for unknown ones), followed by ``<eos>`` if ``eos``."""
        if isinstance(tokens, str):
            raise TypeError("tokens: expected a sequence of tokens, got a str (tokenize it first)")
        ids = [self.stoi.get(t, UNK) for t in tokens]
        return ids + [EOS] if eos else ids

    def decode(self, ids: Iterable[int] | Tensor, *, strip: bool = True) -> list[str]:
        """Tokens of ``ids``. With ``strip``, stop at ``<eos>`` and drop ``<pad>``/``<bos>``."""
        if isinstance(ids, Tensor):
            ids = ids.tolist()
        tokens = []
        for i in ids:
            if not 0 <= i < len(self):
                raise ValueError(f"ids: expected ids in [0, {len(self) - 1}], got {i}")
            if strip and i == EOS:
                break
            if strip and i in (PAD, BOS):
                continue
            tokens.append(self.itos[i])
        return tokens


# --------------------------------------------------------------------------- batches


@dataclass(frozen=True)
class Batch:
    """A padded batch: ``src (B, S)``, ``src_lengths (B,)``, ``tgt_in``/``tgt_out (B, T)``.

    ``tgt_out`` is the target followed by ``<eos>``; ``tgt_in`` is ``tgt_out``
    shifted one step to the right, starting with ``<bos>`` (teacher forcing).
    """

    src: Tensor
    src_lengths: Tensor
    tgt_in: Tensor
    tgt_out: Tensor

    def __len__(self) -> int:
        return self.src.shape[0]


def encode_pairs(
    pairs: Sequence[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab
) -> list[tuple[list[int], list[int]]]:
    """Tokenise and encode (source, target) pairs; targets end with ``<eos>``."""
    return [(src_vocab.encode(tokenize(s)), tgt_vocab.encode(tokenize(t), eos=True))
            for s, t in pairs]


def _pad(seqs: Sequence[Sequence[int]]) -> Tensor:
    out = torch.full((len(seqs), max(len(s) for s in seqs)), PAD, dtype=torch.long)  # (B, S)
    for b, s in enumerate(seqs):
        out[b, :len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


def make_batch(examples: Sequence[tuple[Sequence[int], Sequence[int]]]) -> Batch:
    """Pad encoded ``(source ids, target ids + <eos>)`` examples into a :class:`Batch`."""
    if len(examples) == 0:
        raise ValueError("examples: expected at least one example, got none")
    if any(len(s) == 0 or len(t) == 0 for s, t in examples):
        raise ValueError("examples: expected non-empty sources and targets")
    src = _pad([s for s, _ in examples])  # (B, S)
    lengths = torch.tensor([len(s) for s, _ in examples], dtype=torch.long)  # (B,)
    tgt_out = _pad([t for _, t in examples])  # (B, T)
    return Batch(src, lengths, shift_right(tgt_out, BOS), tgt_out)


def batches(
    examples: Sequence[tuple[Sequence[int], Sequence[int]]],
    *,
    batch_size: int,
    generator: torch.Generator | None = None,
    bucket: int | None = None,
) -> Iterator[Batch]:
    """Split ``examples`` into padded batches; shuffled with ``generator`` if given.

    With ``bucket = k``, each run of ``k * batch_size`` examples is sorted by
    target length before being cut into batches (whose order is then shuffled
    too), so that a batch wastes few decoder steps on padding.
    """
    check_int(batch_size, "batch_size", minimum=1)
    check_optional_int(bucket, "bucket", minimum=1)
    order = (torch.randperm(len(examples), generator=generator).tolist()
             if generator is not None else list(range(len(examples))))
    if bucket is not None:
        run = bucket * batch_size
        order = [i for k in range(0, len(order), run)
                 for i in sorted(order[k:k + run], key=lambda i: len(examples[i][1]))]
    cuts = list(range(0, len(order), batch_size))
    if bucket is not None and generator is not None:
        cuts = [cuts[i] for i in torch.randperm(len(cuts), generator=generator).tolist()]
    for i in cuts:
        yield make_batch([examples[j] for j in order[i:i + batch_size]])


def source_sorted_batches(
    examples: Sequence[tuple[Sequence[int], Sequence[int]]], *, batch_size: int
) -> Iterator[tuple[list[int], Batch]]:
    """Batches for decoding: ``(indices, batch)`` pairs, the examples sorted by source length
    (stable, so ties keep their order), so that a batch pads few source positions and
    can stop at a length set by its own longest source. ``indices`` are the positions in
    ``examples`` of the batch's rows, to put the outputs back in their order."""
    check_int(batch_size, "batch_size", minimum=1)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    for k in range(0, len(order), batch_size):
        index = order[k:k + batch_size]
        yield index, make_batch([examples[i] for i in index])


def exact_match(predictions: Tensor, targets: Tensor, *, pad_id: int = PAD) -> Tensor:
    """Whether each predicted sequence equals its target exactly, ``<eos>`` included.

    Args:
        predictions: ``(B, T')`` token ids, ``pad_id`` after each sequence's ``<eos>``
            (as returned by greedy decoding).
        targets: ``(B, T)`` token ids ending with ``<eos>`` and padded with ``pad_id``.

    Returns:
        ``(B,)`` bool tensor.
    """
    for name, x in (("predictions", predictions), ("targets", targets)):
        if not isinstance(x, Tensor) or x.dim() != 2:
            raise ValueError(f"{name}: expected a 2-D tensor (B, T), got {getattr(x, 'shape', x)}")
    if predictions.shape[0] != targets.shape[0]:
        raise ValueError(
            f"predictions: expected batch size {targets.shape[0]} (as targets), "
            f"got {predictions.shape[0]}"
        )
    T = max(predictions.shape[1], targets.shape[1])
    pred = torch.nn.functional.pad(predictions, (0, T - predictions.shape[1]), value=pad_id)
    tgt = torch.nn.functional.pad(targets, (0, T - targets.shape[1]), value=pad_id)
    return (pred == tgt).all(dim=1)  # (B,)


def greedy_exact_match(
    model: Any,
    examples: Sequence[tuple[Sequence[int], Sequence[int]]],
    *,
    max_len: int,
    batch_size: int = 500,
) -> Tensor:
    """Greedy-decode every example with ``model.greedy_decode`` and compare with its target.

    Returns ``(N,)`` bool, in the order of ``examples``; its mean is the exact-match accuracy.
    """
    results = []
    for batch in batches(examples, batch_size=batch_size):
        tokens, _ = model.greedy_decode(batch.src, batch.src_lengths, max_len=max_len)
        results.append(exact_match(tokens, batch.tgt_out))
    return torch.cat(results)  # (N,)
