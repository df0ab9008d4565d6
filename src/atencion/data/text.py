"""Text shipped by a package: the parallel corpora of ``elotl`` (Spanish–Nahuatl,
Spanish–Otomí, Spanish–Mixtec): their Spanish side for language modelling
(:func:`spanish_corpus`), and their sentence pairs for translation
(:func:`parallel_corpus`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import torch

from .._checks import check_fractions

__all__ = ["CORPORA", "spanish_corpus", "parallel_corpus", "corpus_rows"]

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
    rows = corpus_rows(corpus)  # columns: Spanish, the other language, variant, document, ...
    check_fractions(fractions, names)
    sentences = list(dict.fromkeys(s for row in rows if row and (s := row[0].strip())))
    order = torch.randperm(len(sentences), generator=torch.Generator().manual_seed(seed)).tolist()
    cuts = (torch.tensor([0.0, *fractions]).cumsum(0) * len(sentences)).round().long().tolist()
    return {n: [sentences[i] for i in order[a:b]] for n, a, b in zip(names, cuts[:-1], cuts[1:])}


def corpus_rows(corpus: str) -> list[list[str]]:
    """The rows of one of ``elotl``'s corpora as shipped: Spanish, the other language,
    variety, source document, file name, id."""
    import csv
    import importlib.resources
    import io

    if corpus not in CORPORA:
        raise ValueError(f"corpus: expected one of {CORPORA}, got {corpus!r}")
    text = importlib.resources.files("elotl.corpora").joinpath(f"{corpus}.csv").read_text(encoding="utf-8")
    return [row for row in csv.reader(io.StringIO(text)) if row]


def _clean(text: str) -> str:
    """NFC, one space between words, no spaces at the ends."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def parallel_corpus(
    corpus: str = "tsunkua",
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    *,
    varieties: Sequence[str] | None = None,
    seed: int = 0,
    names: Sequence[str] = ("train", "dev", "test"),
) -> dict[str, list[tuple[str, str]]]:
    """Sentence pairs (Spanish, other language) of one of ``elotl``'s corpora, split.

    ``varieties`` keeps only the rows whose variety field contains one of the given
    strings (e.g. ``["(ote)"]``: Otomí del Mezquital). Both sides are normalised
    to Unicode NFC with single spaces; pairs with an empty side and repeated pairs
    are dropped. Pairs are grouped by their Spanish sentence and the groups are
    shuffled (seeded) into the splits, so a Spanish sentence of the test split
    never occurs in training, not even with another translation.
    """
    rows = corpus_rows(corpus)
    check_fractions(fractions, names)
    if varieties is not None and (isinstance(varieties, str) or not all(isinstance(v, str) for v in varieties)):
        raise TypeError(f"varieties: expected a list of strings, got {varieties!r}")
    pairs = list(dict.fromkeys(
        (_clean(row[0]), _clean(row[1])) for row in rows
        if len(row) > 2 and (varieties is None or any(v in row[2] for v in varieties))
    ))
    pairs = [(a, b) for a, b in pairs if a and b]
    if not pairs:
        raise ValueError(f"varieties: no pair of {corpus!r} has a variety containing any of {list(varieties)}")
    groups: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        groups.setdefault(pair[0], []).append(pair)
    keys = list(groups)
    order = torch.randperm(len(keys), generator=torch.Generator().manual_seed(seed)).tolist()
    cuts = (torch.tensor([0.0, *fractions]).cumsum(0) * len(keys)).round().long().tolist()
    return {n: [p for i in order[a:b] for p in groups[keys[i]]] for n, a, b in zip(names, cuts[:-1], cuts[1:])}
