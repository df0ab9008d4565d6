"""Compare every glued value of the Spanish and English builds: same program, same numbers.

    python tools/glue_parity.py          # after `make book`; exit 1 on any difference

Both editions execute the same code, so every value a page glues must print the same
numbers in both. Words may differ (they are translated), so values are compared by the
numbers they contain, read in each edition's notation: ``0,83`` and ``12 345`` (thin
space) in Spanish, ``0.83`` and ``12,345`` in English, and Python's own ``repr`` in both.
Figures are not compared.

Values that depend on the machine (timings, memory, ratios of timings, words chosen from
them) are declared in the front matter of both twins, as glob patterns over glue names::

    atencion:
      machine_dependent_glue: ["sa_time_*", "ef_speedup_*"]

A declared pattern must match at least one glued value, and both twins must declare the
same patterns.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import math
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
FRONT_KEY = ("atencion", "machine_dependent_glue")
RECORD_PREFIX = "application/papermill.record/"
TEXT_MIMES = ("text/markdown", "text/plain", "text/html")

_SEP = "[\u2009\u202f\u00a0]"  # thin, narrow no-break and no-break spaces
_EXP = r"(?:[eE][-+]?\d+)?"
_NUMBER = {
    # Spanish: thin-space thousands, decimal comma (or a repr's decimal point)
    "es": re.compile(rf"[-−]?(?:\d{{1,3}}(?:{_SEP}\d{{3}})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?{_EXP}|[.,]\d+{_EXP})"),
    # English: comma thousands, decimal point
    "en": re.compile(rf"[-−]?(?:\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?{_EXP}|\.\d+{_EXP})"),
}
_SPECIAL = re.compile(r"[-−]?\b(?:nan|inf)\b", re.IGNORECASE)


def numbers(text: str, lang: str) -> list[float]:
    """The numbers in ``text``, in order, read in ``lang``'s notation (``nan``/``inf`` too)."""
    found = []
    for match in _NUMBER[lang].finditer(text):
        token = match.group().replace("−", "-")
        token = re.sub(_SEP, "", token)
        token = token.replace(",", "." if lang == "es" else "")
        found.append((match.start(), float(token)))
    found += [(m.start(), float(m.group().replace("−", "-"))) for m in _SPECIAL.finditer(text)]
    return [value for _, value in sorted(found)]


def same_numbers(a: list[float], b: list[float]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if math.isnan(x) and math.isnan(y):
            continue
        if not (x == y or math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-300)):
            return False
    return True


def _glue_outputs(notebook: Path) -> list[dict]:
    """The glue outputs of an executed page: myst-nb keeps them in ``<page>.glue.json``
    beside the executed notebook (``name -> output``); a plain executed notebook
    (``tools/exec_page.py --save``) has them among its cells' outputs."""
    store = notebook.with_suffix(".glue.json")
    if store.exists():
        return list(json.loads(store.read_text(encoding="utf-8")).values())
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return [output for cell in nb.get("cells", []) for output in cell.get("outputs", [])]


def glued_values(notebook: Path) -> dict[str, str | None]:
    """``name -> text`` of every value glued in an executed page; ``None`` for figures."""
    values: dict[str, str | None] = {}
    for output in _glue_outputs(notebook):
        record = output.get("metadata", {}).get("scrapbook")
        if not record:
            continue
        prefix = record.get("mime_prefix", "")
        # in a notebook the data keys carry the prefix; in myst-nb's glue.json they do not
        data = {k.removeprefix(prefix) if prefix else k: v for k, v in output.get("data", {}).items()}
        if any(mime.startswith("image/") for mime in data):
            values[record["name"]] = None
            continue
        text = next((data[m] for m in TEXT_MIMES if m in data), "")
        values[record["name"]] = _unrepr("".join(text) if isinstance(text, list) else str(text))
    return values


def _unrepr(text: str) -> str:
    """A glued string's ``text/plain`` is its ``repr``, which escapes the thin spaces
    that separate Spanish thousands (``'4\\u202f224'``): read it back."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        return value if isinstance(value, str) else text
    return text


def declared_patterns(page: Path) -> list[str]:
    text = page.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return []
    meta = yaml.safe_load(text.split("---", 2)[1]) or {}
    patterns = (meta.get(FRONT_KEY[0]) or {}).get(FRONT_KEY[1]) or []
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ValueError(f"{page}: {'.'.join(FRONT_KEY)} must be a list of glob patterns")
    return patterns


def compare_page(name: str, es_nb: Path, en_nb: Path, es_page: Path, en_page: Path) -> tuple[list[str], int, int]:
    """Problems found on one page, and how many values were compared and skipped."""
    problems: list[str] = []
    patterns = declared_patterns(es_page)
    if sorted(patterns) != sorted(declared_patterns(en_page)):
        problems.append(f"{name}: the twins declare different machine-dependent glue: "
                        f"{patterns} (es) vs {declared_patterns(en_page)} (en)")
    es, en = glued_values(es_nb), glued_values(en_nb)
    for missing in sorted(set(es) ^ set(en)):
        problems.append(f"{name}: glue '{missing}' exists only in the {'es' if missing in es else 'en'} build")
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(g, pattern) for g in es):
            problems.append(f"{name}: machine-dependent pattern '{pattern}' matches no glued value")
    compared = skipped = 0
    for glue_name in sorted(set(es) & set(en)):
        if es[glue_name] is None or en[glue_name] is None:
            continue  # a figure
        if any(fnmatch.fnmatchcase(glue_name, p) for p in patterns):
            skipped += 1
            continue
        compared += 1
        if not es[glue_name].strip() or not en[glue_name].strip():
            problems.append(f"{name}: glue '{glue_name}' has no text to compare (is the glue store read right?)")
            continue
        a, b = numbers(es[glue_name], "es"), numbers(en[glue_name], "en")
        if not same_numbers(a, b):
            problems.append(f"{name}: glue '{glue_name}' differs: es {es[glue_name]!r} vs en {en[glue_name]!r}")
    return problems, compared, skipped


def notebooks(lang: str, build: Path = BUILD) -> dict[str, Path]:
    folder = build / lang / "_build" / "jupyter_execute"
    return {p.stem: p for p in folder.glob("*.ipynb")}


def check(build: Path = BUILD, book: Path = ROOT / "book") -> tuple[list[str], int, int]:
    es, en = notebooks("es", build), notebooks("en", build)
    if not es or not en:
        return [f"no executed notebooks under {build}/<lang>/_build/jupyter_execute: run `make book` first"], 0, 0
    problems = [f"{page}: executed in only one edition" for page in sorted(set(es) ^ set(en))]
    compared = skipped = 0
    for page in sorted(set(es) & set(en)):
        found, c, s = compare_page(page, es[page], en[page], book / "es" / f"{page}.md", book / "en" / f"{page}.md")
        problems += found
        compared, skipped = compared + c, skipped + s
    return problems, compared, skipped


def main() -> int:
    problems, compared, skipped = check()
    for problem in problems:
        print(problem)
    print(f"glue parity: {compared} values compared, {skipped} machine-dependent skipped, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
