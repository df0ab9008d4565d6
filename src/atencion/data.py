"""Data generated in code or shipped by a package.

- Spanish dates to English dates (chapter 1), below;
- sets of scikit-learn's digit images with an odd one out (:func:`digit_split`,
  :func:`odd_one_out`);
- Zachary's karate club graph, as shipped by networkx (:func:`karate_club`);
- copying a sequence with an offset, a task that needs positions (:func:`offset_copy`);
- Spanish sentences from the Spanish side of the parallel corpora that the
  ``elotl`` package ships (:func:`spanish_corpus`), cut into windows for
  language modelling (:func:`lm_windows`).

Spanish dates to English dates:

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
from typing import Any, NamedTuple

import torch
from torch import Tensor

from .rnn import shift_right

__all__ = [
    "PAD", "BOS", "EOS", "UNK", "SPECIALS",
    "spanish_number", "spanish_date", "english_date", "spanish_range", "english_range",
    "tokenize", "detokenize_en",
    "split_dates", "date_pairs", "Vocab", "Batch", "encode_pairs", "make_batch", "batches",
    "exact_match", "greedy_exact_match",
    "DigitSplit", "digit_split", "odd_one_out", "Graph", "karate_club", "IGNORE", "offset_copy",
    "spanish_corpus", "lm_windows",
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
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n: expected an int, got {type(n).__name__}")
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


def _check_int(value: object, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return value


def _check_date(date: object) -> dt.date:
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise TypeError(f"date: expected a datetime.date, got {type(date).__name__}")
    if not 1000 <= date.year <= 9999:
        raise ValueError(f"date: expected a year in [1000, 9999], got {date.year}")
    return date


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
    date = _check_date(date)
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
    date = _check_date(date)
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
    start, end = _check_date(start), _check_date(end)
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
    _check_int(n, "n", minimum=0)
    _check_int(max_span, "max_span", minimum=1)
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
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    if bucket is not None and (isinstance(bucket, bool) or not isinstance(bucket, int) or bucket < 1):
        raise ValueError(f"bucket: expected a positive int or None, got {bucket!r}")
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


# --------------------------------------------------------------------------- sets of digits


class DigitSplit(NamedTuple):
    """scikit-learn's 8x8 digit images, split into disjoint pools of images."""

    images: dict[str, Tensor]  # split -> (n, 64) floats in [0, 1]
    labels: dict[str, Tensor]  # split -> (n,) digit classes 0..9


def digit_split(
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    *,
    seed: int = 0,
    names: Sequence[str] = ("train", "val", "test"),
) -> DigitSplit:
    """Split scikit-learn's digits (1797 images of 8x8 pixels, shipped with the
    package) into disjoint pools, stratified by class.

    Pixel values are scaled from 0..16 to [0, 1]. Returns a :class:`DigitSplit`
    whose dicts are keyed by ``names``; an image belongs to one pool only.
    """
    from sklearn.datasets import load_digits

    if len(fractions) != len(names):
        raise ValueError(f"fractions: expected {len(names)} numbers (one per name in {list(names)}), got {len(fractions)}")
    if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions: expected positive numbers summing to 1, got {list(fractions)}")
    digits = load_digits()
    images = torch.tensor(digits.data, dtype=torch.float32) / 16.0  # (1797, 64)
    labels = torch.tensor(digits.target, dtype=torch.long)  # (1797,)
    g = torch.Generator().manual_seed(seed)
    parts: dict[str, list[Tensor]] = {n: [] for n in names}
    bounds = torch.tensor([0.0, *fractions]).cumsum(0)
    for c in range(10):  # ten classes: stratify each one
        idx = (labels == c).nonzero()[:, 0]
        idx = idx[torch.randperm(len(idx), generator=g)]
        cuts = (bounds * len(idx)).round().long().tolist()
        for n, a, b in zip(names, cuts[:-1], cuts[1:]):
            parts[n].append(idx[a:b])
    chosen = {n: torch.cat(p).sort().values for n, p in parts.items()}
    return DigitSplit({n: images[i] for n, i in chosen.items()}, {n: labels[i] for n, i in chosen.items()})


def odd_one_out(
    images: Tensor,
    labels: Tensor,
    num_sets: int,
    set_size: int = 10,
    *,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Sets of ``set_size`` images, all of one class but one: find the odd one out.

    For each set a majority class and a different odd class are drawn at
    random; ``set_size - 1`` images are drawn (with replacement) from the
    majority class and one from the odd class, at a random position.

    Args:
        images: ``(n, D)`` pool of images.
        labels: ``(n,)`` their classes; every class that occurs must have at
            least one image, and at least two classes must occur.

    Returns:
        ``(sets, odd, classes)``: ``sets (num_sets, set_size, D)``, the index of
        the odd element ``odd (num_sets,)``, and the class of every element
        ``classes (num_sets, set_size)``.
    """
    if not isinstance(images, Tensor) or images.dim() != 2:
        raise ValueError(f"images: expected a 2-D tensor (n, D), got {getattr(images, 'shape', type(images).__name__)}")
    if not isinstance(labels, Tensor) or labels.shape != images.shape[:1]:
        raise ValueError(f"labels: expected a tensor of shape ({images.shape[0]},), got {getattr(labels, 'shape', type(labels).__name__)}")
    for name, n, minimum in (("num_sets", num_sets, 1), ("set_size", set_size, 3)):
        if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
            raise ValueError(f"{name}: expected an int >= {minimum}, got {n!r}")
    classes, counts = labels.unique(return_counts=True)  # (K,), (K,)
    if len(classes) < 2:
        raise ValueError(f"labels: expected at least 2 classes, got {classes.tolist()}")
    order = labels.argsort(stable=True)  # images grouped by class
    starts = counts.cumsum(0) - counts  # (K,) first position of each class in order
    K = len(classes)
    major = torch.randint(K, (num_sets,), generator=generator)  # (num_sets,)
    odd_class = (major + torch.randint(1, K, (num_sets,), generator=generator)) % K  # != major
    member = major[:, None].expand(num_sets, set_size).clone()  # (num_sets, set_size)
    odd = torch.randint(set_size, (num_sets,), generator=generator)  # (num_sets,)
    member[torch.arange(num_sets), odd] = odd_class
    offset = (torch.rand(num_sets, set_size, generator=generator) * counts[member]).long()
    chosen = order[starts[member] + offset]  # (num_sets, set_size) image indices
    return images[chosen], odd, labels[chosen]


# --------------------------------------------------------------------------- graphs


class Graph(NamedTuple):
    """A small graph for node classification."""

    adjacency: Tensor  # (N, N) bool, symmetric, no self-loops
    labels: Tensor  # (N,) node classes
    class_names: tuple[str, ...]


def karate_club() -> Graph:
    """Zachary's karate club (34 members, 78 friendships), as shipped by networkx.

    The labels are the two groups the club split into: 0 = "Mr. Hi" (the
    instructor's), 1 = "Officer" (the administrator's).
    """
    import networkx as nx

    g = nx.karate_club_graph()
    N = g.number_of_nodes()
    edges = torch.tensor(list(g.edges()), dtype=torch.long)  # (78, 2)
    adjacency = torch.zeros(N, N, dtype=torch.bool)
    adjacency[edges[:, 0], edges[:, 1]] = True
    adjacency[edges[:, 1], edges[:, 0]] = True
    names = ("Mr. Hi", "Officer")
    labels = torch.tensor([names.index(g.nodes[i]["club"]) for i in range(N)])
    return Graph(adjacency, labels, names)


# --------------------------------------------------------------------------- positions

IGNORE = -100  # target id ignored by F.cross_entropy (its default ignore_index)


def offset_copy(
    num: int,
    length: int,
    *,
    offset: int = 3,
    vocab_size: int = 10,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Random sequences and, at each position ``i``, the token from ``offset`` steps back.

    The answer at position ``i`` is ``x[i - offset]``: which token that is depends
    only on positions, not on contents, so a model without positional information
    cannot solve it. The first ``offset`` targets have no answer and are
    :data:`IGNORE`.

    Returns:
        ``(tokens, targets)``, both ``(num, length)`` long tensors.
    """
    for name, n, minimum in (("num", num, 1), ("length", length, 1), ("offset", offset, 0), ("vocab_size", vocab_size, 2)):
        if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
            raise ValueError(f"{name}: expected an int >= {minimum}, got {n!r}")
    if offset >= length:
        raise ValueError(f"offset: expected offset < length = {length}, got {offset}")
    tokens = torch.randint(vocab_size, (num, length), generator=generator)  # (num, L)
    targets = torch.full((num, length), IGNORE, dtype=torch.long)
    targets[:, offset:] = tokens[:, : length - offset]
    return tokens, targets


# --------------------------------------------------------------------------- Spanish text

CORPORA = ("axolotl", "tsunkua", "kolo")  # Spanish-Nahuatl, Spanish-Otomí, Spanish-Mixtec


def spanish_corpus(
    corpus: str = "axolotl",
    fractions: Sequence[float] = (0.9, 0.05, 0.05),
    *,
    seed: int = 0,
    names: Sequence[str] = ("train", "val", "test"),
) -> dict[str, list[str]]:
    """The Spanish side of one of ``elotl``'s parallel corpora, split by sentence.

    ``corpus`` is ``"axolotl"`` (Spanish-Nahuatl), ``"tsunkua"`` (Spanish-Otomí)
    or ``"kolo"`` (Spanish-Mixtec); the data ship with the package. Sentences are
    stripped, empty and repeated ones dropped, and the distinct sentences shuffled
    (seeded) into disjoint splits: no test sentence occurs in training.
    """
    import csv
    import importlib.resources
    import io

    if corpus not in CORPORA:
        raise ValueError(f"corpus: expected one of {CORPORA}, got {corpus!r}")
    if len(fractions) != len(names):
        raise ValueError(f"fractions: expected {len(names)} numbers (one per name in {list(names)}), got {len(fractions)}")
    if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions: expected positive numbers summing to 1, got {list(fractions)}")
    text = importlib.resources.files("elotl.corpora").joinpath(f"{corpus}.csv").read_text(encoding="utf-8")
    rows = csv.reader(io.StringIO(text))  # columns: Spanish, the other language, variant, document, ...
    sentences = list(dict.fromkeys(s for row in rows if row and (s := row[0].strip())))
    order = torch.randperm(len(sentences), generator=torch.Generator().manual_seed(seed)).tolist()
    cuts = (torch.tensor([0.0, *fractions]).cumsum(0) * len(sentences)).round().long().tolist()
    return {n: [sentences[i] for i in order[a:b]] for n, a, b in zip(names, cuts[:-1], cuts[1:])}


def lm_windows(
    ids: Tensor, length: int, num: int, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """``num`` random windows of a token stream for next-token prediction.

    Args:
        ids: ``(N,)`` token ids of a long text.
        length: window length ``L``.

    Returns:
        ``(inputs, targets)``, both ``(num, length)``: ``targets`` is ``inputs``
        shifted one token to the left (the next token at every position).
    """
    if not isinstance(ids, Tensor) or ids.dim() != 1 or ids.is_floating_point():
        raise ValueError(f"ids: expected a 1-D integer tensor (N,), got {getattr(ids, 'shape', type(ids).__name__)}")
    for name, n in (("length", length), ("num", num)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name}: expected a positive int, got {n!r}")
    if len(ids) < length + 1:
        raise ValueError(f"ids: expected at least length + 1 = {length + 1} tokens, got {len(ids)}")
    starts = torch.randint(len(ids) - length, (num,), generator=generator)  # (num,)
    index = starts[:, None] + torch.arange(length + 1)[None, :]  # (num, L + 1)
    windows = ids[index]
    return windows[:, :-1], windows[:, 1:]
