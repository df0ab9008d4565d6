"""Numbers as each edition writes them, for glue, tables and figure labels.

Spanish groups thousands with a narrow no-break space from five digits on (``12 345``,
but ``2048``: the RAE's rule) and English with a comma (``12,345``, ``2,048``); both
editions write the decimal point, as the prose's ``{glue:text}`name:.2f``` does. Every
integer a page prints goes through :func:`integer`, so that a page never prints
``32768`` next to ``13 390``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from ._checks import LANGS, check_int, check_int_type, check_lang

__all__ = ["LANGS", "THOUSANDS", "number", "integer", "percent", "span", "join_words", "markdown_table"]

THOUSANDS = {"es": "\u202f", "en": ","}  # narrow no-break space / comma
_FOUR_DIGITS = re.compile("(?<![\\d\u202f])(\\d)\u202f(\\d{3})(?![\\d\u202f])")


def number(x: float, lang: str, spec: str = ",") -> str:
    """``format(x, spec)`` with the thousands separator of ``lang``.

    ``spec`` is a format specification with ``,`` where thousands are grouped
    (``","`` for integers, ``",.1f"``, ``".1%"``); a spec without ``,`` groups nothing.
    """
    check_lang(lang)
    if not isinstance(spec, str):
        raise TypeError(f"spec: expected a format specification str, got {type(spec).__name__}")
    text = format(x, spec).replace(",", THOUSANDS[lang])
    if lang == "es":  # a four-digit number is not split: 2048, but 32 768
        text = _FOUR_DIGITS.sub(r"\1\2", text)
    return text


def integer(n: int, lang: str) -> str:
    """``n`` with thousands grouped: ``integer(2099712, "es")`` is ``2 099 712``,
    ``integer(2048, "es")`` is ``2048`` and ``integer(2048, "en")`` is ``2,048``."""
    if isinstance(n, np.integer):
        n = int(n)
    check_int_type(n, "n")
    return number(n, lang, ",")


def percent(x: float, lang: str, digits: int = 1) -> str:
    """A fraction as a percentage: ``percent(0.9652, "es")`` is ``96.5%``, as
    ``{glue:text}`name:.1%``` writes it in both editions."""
    check_int(digits, "digits", minimum=0)
    return number(x, lang, f",.{digits}%")


def span(values: Iterable[float], lang: str, spec: str = ".1%") -> str:
    """``min–max`` of ``values`` formatted with ``spec``, or a single value when both
    ends print the same: the spread of a result over seeds."""
    values = list(values)
    if not values:
        raise ValueError("values: expected at least one value")
    low, high = number(min(values), lang, spec), number(max(values), lang, spec)
    return low if low == high else f"{low}–{high}"


def join_words(words: Iterable[object], lang: str) -> str:
    """``"a, b y c"`` (Spanish) or ``"a, b and c"`` (English); one word is itself."""
    check_lang(lang)
    words = [str(w) for w in words]
    if not words:
        raise ValueError("words: expected at least one word")
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {'y' if lang == 'es' else 'and'} {words[-1]}"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], *, align: str | None = None) -> str:
    """A Markdown table (for ``glue`` of an ``IPython.display.Markdown``).

    ``align`` has one letter per column, ``l`` or ``r`` (default: the first column
    left, the others right). Cells are written with ``str``: format numbers first.
    """
    header = [str(h) for h in header]
    align = align if align is not None else "l" + "r" * (len(header) - 1)
    if not isinstance(align, str) or len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align: expected {len(header)} letters 'l' or 'r' (one per column), got {align!r}")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
    for i, row in enumerate(rows):
        cells = [str(c) for c in row]
        if len(cells) != len(header):
            raise ValueError(f"rows: row {i} has {len(cells)} cells, expected {len(header)} (one per column)")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
