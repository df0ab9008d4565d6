"""Spanish text shipped by a package: the Spanish side of the parallel corpora of
``elotl`` (Spanish–Nahuatl, Spanish–Otomí, Spanish–Mixtec), for language modelling."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["CORPORA", "spanish_corpus"]

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
        raise ValueError(
            f"fractions: expected {len(names)} numbers (one per name in {list(names)}), got {len(fractions)}"
        )
    if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions: expected positive numbers summing to 1, got {list(fractions)}")
    text = importlib.resources.files("elotl.corpora").joinpath(f"{corpus}.csv").read_text(encoding="utf-8")
    rows = csv.reader(io.StringIO(text))  # columns: Spanish, the other language, variant, document, ...
    sentences = list(dict.fromkeys(s for row in rows if row and (s := row[0].strip())))
    order = torch.randperm(len(sentences), generator=torch.Generator().manual_seed(seed)).tolist()
    cuts = (torch.tensor([0.0, *fractions]).cumsum(0) * len(sentences)).round().long().tolist()
    return {n: [sentences[i] for i in order[a:b]] for n, a, b in zip(names, cuts[:-1], cuts[1:])}


