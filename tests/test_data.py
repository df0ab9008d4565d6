"""Tests for atencion.data: Spanish numbers, dates, splits, vocabulary, batches, metric."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion.data import (
    BOS,
    EOS,
    PAD,
    UNK,
    Vocab,
    batches,
    date_pairs,
    detokenize_en,
    encode_pairs,
    english_date,
    english_range,
    exact_match,
    greedy_exact_match,
    make_batch,
    source_sorted_batches,
    spanish_date,
    spanish_number,
    spanish_range,
    split_dates,
    tokenize,
)

# --------------------------------------------------------------------------- numbers

KNOWN = {
    0: "cero", 1: "uno", 10: "diez", 11: "once", 15: "quince", 16: "dieciséis",
    17: "diecisiete", 20: "veinte", 21: "veintiuno", 22: "veintidós", 23: "veintitrés",
    26: "veintiséis", 29: "veintinueve", 30: "treinta", 31: "treinta y uno",
    45: "cuarenta y cinco", 99: "noventa y nueve", 100: "cien", 101: "ciento uno",
    116: "ciento dieciséis", 200: "doscientos", 321: "trescientos veintiuno",
    500: "quinientos", 700: "setecientos", 777: "setecientos setenta y siete",
    900: "novecientos", 999: "novecientos noventa y nueve", 1000: "mil", 1001: "mil uno",
    1100: "mil cien", 1492: "mil cuatrocientos noventa y dos",
    1999: "mil novecientos noventa y nueve", 2000: "dos mil", 2001: "dos mil uno",
    2026: "dos mil veintiséis", 5500: "cinco mil quinientos",
    9999: "nueve mil novecientos noventa y nueve",
}
APOCOPE = {1: "un", 21: "veintiún", 31: "treinta y un", 101: "ciento un",
           1021: "mil veintiún", 2026: "dos mil veintiséis"}


@pytest.mark.parametrize("n,words", KNOWN.items())
def test_spanish_number_known_values(n, words):
    assert spanish_number(n) == words


@pytest.mark.parametrize("n,words", APOCOPE.items())
def test_spanish_number_apocope(n, words):
    assert spanish_number(n, apocope=True) == words


_VALUES = {
    "cero": 0, "uno": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13,
    "catorce": 14, "quince": 15, "dieciséis": 16, "diecisiete": 17, "dieciocho": 18,
    "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintiún": 21, "veintidós": 22,
    "veintitrés": 23, "veinticuatro": 24, "veinticinco": 25, "veintiséis": 26,
    "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "treinta": 30, "cuarenta": 40,
    "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
    "cien": 100, "ciento": 100, "doscientos": 200, "trescientos": 300,
    "cuatrocientos": 400, "quinientos": 500, "seiscientos": 600, "setecientos": 700,
    "ochocientos": 800, "novecientos": 900,
}


def parse_spanish(words: str) -> int:
    """An independent reader of Spanish numerals, as an oracle."""
    total, current = 0, 0
    for word in words.split(" "):
        if word == "mil":
            total += (current or 1) * 1000
            current = 0
        elif word != "y":
            current += _VALUES[word]
    return total + current


@pytest.mark.parametrize("apocope", [False, True])
def test_spanish_number_all_values_read_back(apocope):
    words = [spanish_number(n, apocope=apocope) for n in range(10000)]
    assert [parse_spanish(w) for w in words] == list(range(10000))
    assert len(set(words)) == 10000


@given(st.integers(0, 9999))
def test_spanish_number_well_formed(n):
    words = spanish_number(n).split(" ")
    assert "" not in words
    # «y» only joins tens (30..90) and units, never after «cien(to)» or «mil»
    for i, word in enumerate(words):
        if word == "y":
            assert 30 <= _VALUES[words[i - 1]] <= 90 and 1 <= _VALUES[words[i + 1]] <= 9
    assert words[0] != "uno" or n == 1  # «mil», never «uno mil»
    assert "un" not in words and "veintiún" not in words  # no apocope by default
    assert ("cien" in words) == (n % 1000 == 100)


def test_spanish_number_bad_input():
    with pytest.raises(ValueError, match="n"):
        spanish_number(10000)
    with pytest.raises(ValueError, match="n"):
        spanish_number(-1)
    with pytest.raises(TypeError, match="n"):
        spanish_number(2.0)


# --------------------------------------------------------------------------- dates


def test_dates_known_values():
    d = dt.date(2026, 11, 23)  # a Monday
    assert spanish_date(d) == "el 23 de noviembre de 2026"
    assert spanish_date(d, weekday=True, day_words=True, year_words=True) == (
        "el lunes veintitrés de noviembre de dos mil veintiséis")
    assert english_date(d) == "November 23, 2026"
    assert english_date(d, weekday=True) == "Monday, November 23, 2026"
    first = dt.date(1999, 5, 1)
    assert spanish_date(first, day_words=True, ordinal_first=True) == "el primero de mayo de 1999"
    assert spanish_date(first, day_words=True) == "el uno de mayo de 1999"
    assert spanish_date(first, ordinal_first=True) == "el 1 de mayo de 1999"
    assert spanish_date(dt.date(2024, 2, 29), weekday=True) == "el jueves 29 de febrero de 2024"


def test_ranges_known_values():
    a, b, c = dt.date(2026, 5, 3), dt.date(2026, 11, 23), dt.date(2027, 1, 2)
    assert spanish_range(a, b) == "del 3 de mayo al 23 de noviembre de 2026"
    assert english_range(a, b) == "from May 3 to November 23, 2026"
    assert spanish_range(b, c, weekday=True) == (
        "del lunes 23 de noviembre de 2026 al sábado 2 de enero de 2027")
    assert english_range(b, c, weekday=True) == (
        "from Monday, November 23, 2026 to Saturday, January 2, 2027")


@given(st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)), st.booleans(), st.booleans(),
       st.booleans())
def test_date_rendering_properties(date, weekday, day_words, year_words):
    es = spanish_date(date, weekday=weekday, day_words=day_words, year_words=year_words)
    en = english_date(date, weekday=weekday)
    assert dt.datetime.strptime(en, "%A, %B %d, %Y" if weekday else "%B %d, %Y").date() == date
    words = es.split(" ")
    weekdays = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
    assert words[0] == "el"
    assert (words[1] in weekdays) == weekday
    if weekday:
        assert words[1] == weekdays[date.weekday()]
    if year_words:
        assert es.endswith(spanish_number(date.year))
    else:
        assert es.endswith(str(date.year))


def test_tokenize_and_detokenize():
    assert tokenize("el 23 de noviembre de 2026") == ["el", "2", "3", "de", "noviembre", "de",
                                                      "2", "0", "2", "6"]
    tokens = tokenize("from Monday, May 3 to Friday, November 23, 2026")
    assert tokens[:5] == ["from", "Monday", ",", "May", "3"]
    assert detokenize_en(tokens) == "from Monday, May 3 to Friday, November 23, 2026"
    assert tokenize("el miércoles dieciséis") == ["el", "miércoles", "dieciséis"]


# --------------------------------------------------------------------------- splits


def test_split_dates_partition_and_reproducible():
    start, end = dt.date(2000, 1, 1), dt.date(2003, 12, 31)
    train, val, test = split_dates(seed=0, start=start, end=end)
    days = (end - start).days + 1
    assert len(train) + len(val) + len(test) == days
    assert not set(train) & set(val) and not set(train) & set(test) and not set(val) & set(test)
    assert abs(len(test) - 0.1 * days) <= 1
    assert split_dates(seed=0, start=start, end=end) == (train, val, test)
    assert split_dates(seed=1, start=start, end=end) != (train, val, test)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DATE = re.compile(rf"({'|'.join(_MONTHS)}) (\d{{1,2}})(?:, (\d{{4}}))?")


def _dates_in(text: str) -> list[dt.date]:
    """The dates named by an English target; a range's first year defaults to its last."""
    found = _DATE.findall(text)
    last_year = int(found[-1][2])
    return [dt.date(int(y or last_year), _MONTHS.index(m) + 1, int(d)) for m, d, y in found]


def test_pairs_use_only_their_pool_and_are_reproducible():
    train, val, test = split_dates(seed=0, start=dt.date(1990, 1, 1), end=dt.date(2009, 12, 31))
    pairs = date_pairs(test, 400, seed=5)
    assert pairs == date_pairs(test, 400, seed=5)
    assert pairs != date_pairs(test, 400, seed=6)
    seen = {d for _, t in pairs for d in _dates_in(t)}
    assert seen <= set(test) and not seen & set(train)
    ranges = [t for _, t in pairs if t.startswith("from")]
    assert 100 < len(ranges) < 300  # p_range = 0.5
    for source, target in pairs:  # the source says the same dates as the target
        assert source.startswith("del" if target.startswith("from") else "el")


POOLS = split_dates(seed=0)  # the default range, 1900-2099
_MESES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")
_DIAS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


def _read_spanish(source: str) -> list[dt.date]:
    """Read the dates back from a Spanish source, checking any weekday named."""
    parts = source.removeprefix("del ").removeprefix("el ").split(" al ")
    read = []
    for part in parts:
        day, month, *year = part.split(" de ")
        weekday = None
        if day.split(" ")[0] in _DIAS:
            weekday, day = day.split(" ", 1)
        day = 1 if day == "primero" else int(day) if day.isdigit() else parse_spanish(day)
        read.append((weekday, day, _MESES.index(month) + 1, year))
    last_year = read[-1][3][0]
    dates = []
    for weekday, day, month, year in read:
        y = (year or [last_year])[0]
        date = dt.date(int(y) if y.isdigit() else parse_spanish(y), month, day)
        assert weekday is None or weekday == _DIAS[date.weekday()]
        dates.append(date)
    return dates


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_source_and_target_name_the_same_dates(seed):
    for source, target in date_pairs(POOLS[1], 50, seed=seed):
        assert _read_spanish(source) == _dates_in(target)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_range_order_and_years(seed):
    for _, target in date_pairs(POOLS[2], 20, seed=seed, p_range=1.0):
        dates = _dates_in(target)
        assert len(dates) == 2 and dates[0] < dates[1]
        head = target.split(" to ")[0]
        assert (str(dates[0].year) in head) == (dates[0].year != dates[1].year)


# --------------------------------------------------------------------------- vocabulary


def test_vocab_specials_round_trip_and_unknown():
    vocab = Vocab.from_texts(["el 23 de mayo", "el 1 de junio"])
    assert vocab.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id, vocab.unk_id) == (PAD, BOS, EOS, UNK) == (0, 1, 2, 3)
    tokens = tokenize("el 23 de junio")
    ids = vocab.encode(tokens, eos=True)
    assert ids[-1] == EOS and vocab.decode(ids) == tokens
    size = len(vocab)
    assert vocab.encode(["julio"]) == [UNK]
    assert len(vocab) == size  # frozen: unknown tokens never grow it
    assert vocab.decode([BOS, *vocab.encode(tokens), EOS, PAD, 5]) == tokens  # stops at <eos>
    assert vocab.decode(torch.tensor(ids), strip=False)[-1] == "<eos>"
    with pytest.raises(TypeError, match="tokens"):
        vocab.encode("el 23")
    with pytest.raises(ValueError, match="ids"):
        vocab.decode([size])


@given(st.lists(st.sampled_from(["el", "de", "mayo", "2", "3", "x", "<pad>"]), min_size=1))
def test_vocab_round_trip_property(tokens):
    vocab = Vocab(["el", "de", "mayo", "2", "3"])
    decoded = vocab.decode(vocab.encode(tokens), strip=False)
    assert decoded == [t if t in ("el", "de", "mayo", "2", "3", "<pad>") else "<unk>" for t in tokens]


# --------------------------------------------------------------------------- batches and metric


def test_batches_padding_shift_and_shuffle():
    pairs = date_pairs(POOLS[0], 50, seed=0)
    src_vocab = Vocab.from_texts(s for s, _ in pairs)
    tgt_vocab = Vocab.from_texts(t for _, t in pairs)
    examples = encode_pairs(pairs, src_vocab, tgt_vocab)
    batch = make_batch(examples[:7])
    assert batch.src.dtype == batch.tgt_in.dtype == torch.long and len(batch) == 7
    assert batch.src.shape == (7, int(batch.src_lengths.max()))
    for b, (s, t) in enumerate(examples[:7]):
        assert batch.src[b, :len(s)].tolist() == s and (batch.src[b, len(s):] == PAD).all()
        assert batch.tgt_out[b, :len(t)].tolist() == t and t[-1] == EOS
        assert batch.tgt_in[b, 0] == BOS and batch.tgt_in[b, 1:len(t)].tolist() == t[:-1]
    ordered = list(batches(examples, batch_size=16))
    assert [len(b) for b in ordered] == [16, 16, 16, 2]
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a = [b.src_lengths.tolist() for b in batches(examples, batch_size=16, generator=g1)]
    b = [b.src_lengths.tolist() for b in batches(examples, batch_size=16, generator=g2)]
    assert a == b and sorted(sum(a, [])) == sorted(len(s) for s, _ in examples)
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(examples, batch_size=0))
    with pytest.raises(ValueError, match="examples"):
        make_batch([])


def test_exact_match():
    targets = torch.tensor([[5, 6, EOS, PAD], [5, EOS, PAD, PAD], [7, 7, 7, EOS]])
    predictions = torch.tensor([[5, 6, EOS], [5, 6, EOS], [7, 7, 7]])  # the last never ends
    assert exact_match(predictions, targets).tolist() == [True, False, False]
    assert exact_match(targets, targets).all()
    with pytest.raises(ValueError, match="predictions"):
        exact_match(predictions[:2], targets)


def test_bucketed_batches_cover_every_example_once():
    pairs = date_pairs(POOLS[0], 300, seed=1)
    vocab_s, vocab_t = Vocab.from_texts(s for s, _ in pairs), Vocab.from_texts(t for _, t in pairs)
    examples = encode_pairs(pairs, vocab_s, vocab_t)
    g = torch.Generator().manual_seed(0)
    out = list(batches(examples, batch_size=32, generator=g, bucket=4))
    seen = sorted(tuple(b.tgt_out[i, :int((b.tgt_out[i] != PAD).sum())].tolist())
                  for b in out for i in range(len(b)))
    assert seen == sorted(tuple(t) for _, t in examples)
    plain = list(batches(examples, batch_size=32, generator=torch.Generator().manual_seed(0)))
    steps = lambda bs: sum(b.tgt_in.shape[1] for b in bs)  # noqa: E731
    assert steps(out) < steps(plain)  # sorting by length saves decoder steps
    with pytest.raises(ValueError, match="bucket"):
        next(batches(examples, batch_size=32, bucket=0))


def test_source_sorted_batches_cover_every_example_once_in_source_order():
    pairs = date_pairs(POOLS[0], 100, seed=2)
    vocab_s, vocab_t = Vocab.from_texts(s for s, _ in pairs), Vocab.from_texts(t for _, t in pairs)
    examples = encode_pairs(pairs, vocab_s, vocab_t)
    out = list(source_sorted_batches(examples, batch_size=16))
    assert [len(index) for index, _ in out] == [16] * 6 + [4]
    assert sorted(i for index, _ in out for i in index) == list(range(len(examples)))
    lengths = [len(examples[i][0]) for index, _ in out for i in index]
    assert lengths == sorted(lengths)  # shortest sources first
    for index, batch in out:  # each row is the example its index names
        assert batch.src.shape[1] == max(len(examples[i][0]) for i in index)
        for row, i in enumerate(index):
            assert batch.src[row, :len(examples[i][0])].tolist() == examples[i][0]
            assert batch.tgt_out[row, :len(examples[i][1])].tolist() == examples[i][1]
    with pytest.raises(ValueError, match="batch_size"):
        next(source_sorted_batches(examples, batch_size=0))


def test_greedy_exact_match_keeps_the_order_of_examples():
    class Echo:
        """Decodes every source as itself followed by <eos>: right only when target == source."""

        def greedy_decode(self, src, src_lengths, *, max_len):
            out = torch.full((src.shape[0], src.shape[1] + 1), PAD)
            for b, n in enumerate(src_lengths.tolist()):
                out[b, :n] = src[b, :n]
                out[b, n] = EOS
            return out[:, :max_len], None

    examples = [([5, 6], [5, 6, EOS]), ([7], [8, EOS]), ([4, 4, 4], [4, 4, 4, EOS])]
    assert greedy_exact_match(Echo(), examples, max_len=10, batch_size=2).tolist() == [True, False, True]
    assert greedy_exact_match(Echo(), examples, max_len=2).tolist() == [False, False, False]


# --------------------------------------------------------------------------- digit sets


def test_digit_split_is_disjoint_stratified_and_seeded():
    from atencion.data import digit_split

    split = digit_split(seed=0)
    sizes = {k: len(v) for k, v in split.images.items()}
    assert sum(sizes.values()) == 1797
    for name in ("train", "val", "test"):
        assert split.images[name].shape == (sizes[name], 64)
        assert 0.0 <= split.images[name].min() and split.images[name].max() <= 1.0
        counts = torch.bincount(split.labels[name], minlength=10)
        assert (counts > 0).all()
        assert counts.max() - counts.min() <= 0.1 * sizes[name]  # stratified
    again = digit_split(seed=0)
    assert torch.equal(again.images["test"], split.images["test"])
    assert not torch.equal(digit_split(seed=1).images["test"][:50], split.images["test"][:50])


def test_digit_split_pools_share_no_image():
    from sklearn.datasets import load_digits

    from atencion.data import digit_split

    split = digit_split((0.5, 0.5), names=("a", "b"), seed=3)
    all_images = torch.tensor(load_digits().data, dtype=torch.float32) / 16
    # map each image back to its index (duplicated images in the data set are counted once)
    index = {tuple(row.tolist()): i for i, row in enumerate(all_images)}
    a = {index[tuple(r.tolist())] for r in split.images["a"]}
    b = {index[tuple(r.tolist())] for r in split.images["b"]}
    assert len(split.images["a"]) + len(split.images["b"]) == 1797
    assert len(a & b) <= 2  # only byte-identical duplicates of the data set could meet


def test_digit_split_bad_input():
    from atencion.data import digit_split

    with pytest.raises(ValueError, match="fractions"):
        digit_split((0.5, 0.6, -0.1))
    with pytest.raises(ValueError, match="fractions"):
        digit_split((0.5, 0.5))


@settings(max_examples=20, deadline=None)
@given(set_size=st.integers(3, 12), seed=st.integers(0, 10_000))
def test_odd_one_out_sets(set_size, seed):
    from atencion.data import odd_one_out

    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(4, (60,), generator=g)
    labels[:4] = torch.arange(4)  # every class occurs
    images = torch.randn(60, 5, generator=g)
    sets, odd, classes = odd_one_out(images, labels, 40, set_size, generator=g)
    assert sets.shape == (40, set_size, 5) and odd.shape == (40,) and classes.shape == (40, set_size)
    rows = torch.arange(40)
    odd_class = classes[rows, odd]
    others = classes.clone()
    others[rows, odd] = -1
    majority = others.max(dim=1).values
    assert ((others == majority[:, None]) | (others == -1)).all()  # all the others share a class
    assert (odd_class != majority).all()
    # every element is an image of the pool with the class it claims
    matches = (sets[:, :, None, :] == images[None, None]).all(-1)  # (40, set_size, 60)
    assert matches.any(-1).all()
    assert (matches.float() @ labels.float()[:, None]).squeeze(-1).div(matches.sum(-1)).eq(classes).all()


def test_odd_one_out_is_seeded_and_covers_every_position():
    from atencion.data import odd_one_out

    labels, images = torch.arange(30) % 3, torch.randn(30, 2)
    a = odd_one_out(images, labels, 500, 5, generator=torch.Generator().manual_seed(7))
    b = odd_one_out(images, labels, 500, 5, generator=torch.Generator().manual_seed(7))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert set(a[1].tolist()) == set(range(5))


def test_odd_one_out_bad_input():
    from atencion.data import odd_one_out

    with pytest.raises(ValueError, match="labels: expected at least 2 classes"):
        odd_one_out(torch.ones(4, 2), torch.zeros(4, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="set_size"):
        odd_one_out(torch.ones(4, 2), torch.arange(4), 3, 2)
    with pytest.raises(ValueError, match="images"):
        odd_one_out(torch.ones(4), torch.arange(4), 3)
    with pytest.raises(ValueError, match=r"labels: expected a tensor of shape \(4,\)"):
        odd_one_out(torch.ones(4, 2), torch.arange(5), 3)


# --------------------------------------------------------------------------- karate club


def test_karate_club():
    from atencion.data import karate_club

    club = karate_club()
    assert club.adjacency.shape == (34, 34) and club.adjacency.dtype == torch.bool
    assert torch.equal(club.adjacency, club.adjacency.T)
    assert not club.adjacency.diagonal().any()
    assert int(club.adjacency.sum()) == 2 * 78
    assert club.class_names == ("Mr. Hi", "Officer")
    assert club.labels[0] == 0 and club.labels[33] == 1  # the two leaders
    assert torch.bincount(club.labels).tolist() == [17, 17]


# --------------------------------------------------------------------------- offset copy


def test_offset_copy():
    from atencion.data import IGNORE, offset_copy

    tokens, targets = offset_copy(50, 12, offset=3, vocab_size=7, generator=torch.Generator().manual_seed(0))
    assert tokens.shape == targets.shape == (50, 12)
    assert tokens.max() < 7 and tokens.min() >= 0
    assert (targets[:, :3] == IGNORE).all()
    assert torch.equal(targets[:, 3:], tokens[:, :-3])
    again = offset_copy(50, 12, offset=3, vocab_size=7, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again[0], tokens)
    same, copy = offset_copy(2, 5, offset=0)
    assert torch.equal(same, copy)  # offset 0: copy each token in place
    with pytest.raises(ValueError, match="offset: expected offset < length"):
        offset_copy(2, 3, offset=3)
    with pytest.raises(ValueError, match="vocab_size"):
        offset_copy(2, 5, vocab_size=1)


# --------------------------------------------------------------------------- Spanish text


def test_spanish_corpus_splits_distinct_sentences():
    from atencion.data import spanish_corpus

    splits = spanish_corpus("kolo", seed=0)
    sizes = {k: len(v) for k, v in splits.items()}
    assert sizes["train"] > 10 * sizes["test"] > 0
    seen = set(splits["train"])
    assert not seen & set(splits["val"]) and not seen & set(splits["test"])
    assert all(s == s.strip() and s for v in splits.values() for s in v)
    assert spanish_corpus("kolo", seed=0) == splits
    with pytest.raises(ValueError, match="corpus"):
        spanish_corpus("nahuatl")


def test_lm_windows_are_shifted_by_one():
    from atencion.data import lm_windows

    ids = torch.arange(100)
    x, y = lm_windows(ids, 8, 5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1)  # the next token of an arange is itself + 1
    assert torch.equal(x[:, 1:], y[:, :-1])
    with pytest.raises(ValueError, match="ids"):
        lm_windows(ids[:5], 8, 1)


# --------------------------------------------------------------------------- masked language model


def test_mlm_corrupt_labels_specials_and_the_80_10_10_rule():
    from atencion.data import IGNORE, mlm_corrupt

    g = torch.Generator().manual_seed(0)
    V, MASK = 1000, 4
    ids = torch.randint(5, V, (400, 250), generator=g)  # 100 000 ordinary tokens ...
    ids[:, 0], ids[:, -50:] = BOS, PAD  # ... after <bos> and before the padding
    inputs, labels = mlm_corrupt(ids, mask_id=MASK, vocab_size=V, generator=g)
    chosen = labels != IGNORE
    assert torch.equal(labels[chosen], ids[chosen])  # a chosen position predicts its own id
    assert torch.equal(inputs[~chosen], ids[~chosen])  # nothing else changes
    assert not chosen[:, 0].any() and not chosen[:, -50:].any()  # specials are never chosen
    n = int(chosen.sum())
    assert abs(n / (400 * 199) - 0.15) < 0.005  # 15 % of the ordinary tokens
    masked = float((inputs[chosen] == MASK).sum()) / n
    kept = float((inputs[chosen] == ids[chosen]).sum()) / n
    assert abs(masked - 0.8) < 0.01 and abs(kept - 0.1) < 0.01  # 80 % <mask>, 10 % unchanged ...
    replaced = inputs[chosen & (inputs != MASK) & (inputs != ids)]
    assert abs(len(replaced) / n - 0.1) < 0.01 and replaced.min() >= 5  # ... 10 % a random ordinary id
    again = mlm_corrupt(ids, mask_id=MASK, vocab_size=V, generator=torch.Generator().manual_seed(1))
    same = mlm_corrupt(ids, mask_id=MASK, vocab_size=V, generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(a, b) for a, b in zip(again, same))


def test_mlm_corrupt_rejects_bad_input():
    from atencion.data import mlm_corrupt

    ids = torch.tensor([[5, 6, 7]])
    for kwargs, name in ((dict(p=0.0), "p"), (dict(p_mask=0.95, p_random=0.1), "p_mask"),
                         (dict(mask_id=20), "mask_id"), (dict(special_ids=[30]), "special_ids"),
                         (dict(vocab_size=7), "ids")):
        with pytest.raises(ValueError, match=name):
            mlm_corrupt(ids, **{"mask_id": 4, "vocab_size": 10, **kwargs})
    with pytest.raises(TypeError, match="ids"):
        mlm_corrupt(ids.float(), mask_id=4, vocab_size=10)
    with pytest.raises(ValueError, match="special_ids"):  # nothing left to draw a random id from
        mlm_corrupt(torch.tensor([[1, 2, 0]]), mask_id=4, vocab_size=5, special_ids=[0, 1, 2, 3])


def test_padded_batches_cover_every_sequence_once_and_pad():
    from atencion.data import padded_batches

    seqs = [[5] * n for n in (3, 1, 4, 1, 5, 9, 2, 6, 5, 3)]
    labels = list(range(10))
    out = padded_batches(seqs, batch_size=3, labels=labels, generator=torch.Generator().manual_seed(0), bucket=2)
    seen = []
    for ids, lab in out:
        assert ids.shape[0] == len(lab) <= 3
        lengths = (ids != 0).sum(1)
        assert lengths.max() == ids.shape[1]  # padded to the batch's longest only
        assert all(lengths[b] == len(seqs[int(lab[b])]) for b in range(len(lab)))  # labels travel with their rows
        seen += lab.tolist()
    assert sorted(seen) == labels
    plain = padded_batches(seqs, batch_size=4)
    assert [ids.shape for (ids,) in plain] == [(4, 4), (4, 9), (2, 5)]  # in order without a generator
    again = padded_batches(seqs, batch_size=3, labels=labels, generator=torch.Generator().manual_seed(0), bucket=2)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(out, again))


def test_padded_batches_bad_inputs():
    from atencion.data import padded_batches

    with pytest.raises(TypeError, match="seqs"):
        padded_batches("abc", batch_size=2)
    with pytest.raises(ValueError, match="seqs"):
        padded_batches([[1], []], batch_size=2)
    with pytest.raises(ValueError, match="labels"):
        padded_batches([[1], [2]], batch_size=2, labels=[0])
    with pytest.raises(ValueError, match="batch_size"):
        padded_batches([[1]], batch_size=0)
    with pytest.raises(TypeError, match="generator"):
        padded_batches([[1]], batch_size=1, generator=0)
