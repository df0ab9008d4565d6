"""Citations and the bibliography speak each edition's language; the "open issue" link says
which edition and page it comes from.

The words that pybtex and sphinxcontrib-bibtex write around the authors' names and the
titles (not the titles themselves, which stay as published) are checked: in-text citations
("Hochreiter y Schmidhuber [1997]"), the bibliography's entries and the tooltips of the
citation links, which hold the same formatted entries.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.site

# The authors of an entry end at the first full stop that does not close an initial ("E.").
_END_OF_AUTHORS = re.compile(r"(?<=[^\s.][^\s.])\. ")

# Words that pybtex's plain style and sphinxcontrib-bibtex's author_year style write in English,
# and their Spanish forms in the Spanish edition's styles (_ext/bibtex_es.py).
ENTRY_WORDS = {
    "en": [r"\. In ", r"\bpages \d", r"\bvolume \d", r"\bTechnical Report\b", r"\bPhD thesis\b",
           r"\bMaster's thesis\b", r"\bvisited on\b", r"\b(editors?|edition)\b"],
    "es": [r"\. En ", r"\bpp\. \d", r"\bvol\. \d", r"\bInforme técnico\b", r"\bTesis doctoral\b",
           r"\bTesis de maestría\b", r"\bconsultado el\b", r"\b(eds?\.|edición)"],
}
AND = {"en": " and ", "es": " y "}
OTHER = {"es": "en", "en": "es"}


def _authors(entry: str) -> str:
    match = _END_OF_AUTHORS.search(entry)
    return entry[: match.start()] if match else entry


def _citations(tree) -> tuple[list[str], list[str]]:
    """(in-text citations, formatted entries: the bibliography's and the citation links' tooltips)."""
    in_text, entries = [], []
    for node in tree.iter():
        if "bibtex-citation" in node.classes:
            in_text.append(" ".join(node.text().split()))
        elif (node.tag == "div" and "citation" in node.classes
              and node.parent is not None and "citation-list" in node.parent.classes):
            paragraph = next((c for c in node.children if not isinstance(c, str) and c.tag == "p"), None)
            if paragraph is not None:
                entries.append(" ".join(paragraph.text().split()))
        elif (node.tag == "a" and "reference" in node.classes
              and node.attrs.get("href", "").startswith("bibliografia.html#")):
            entries.append(" ".join(node.attrs.get("title", "").split()))
    return in_text, [e for e in entries if e]


def _problems(lang: str, in_text: list[str], entries: list[str]) -> list[str]:
    other = OTHER[lang]
    problems = []
    for citation in in_text:
        if AND[other] in citation:
            problems.append(f"in-text citation {citation!r} joins authors with {AND[other].strip()!r}")
    for entry in entries:
        if AND[other] in _authors(entry) or _authors(entry).endswith(AND[other].rstrip()):
            problems.append(f"entry joins authors with {AND[other].strip()!r}: {entry[:140]!r}")
        for pattern in ENTRY_WORDS[other]:
            if re.search(pattern, entry):
                problems.append(f"entry has {pattern!r} ({other}): {entry[:140]!r}")
    return problems


@pytest.mark.parametrize("lang", ["es", "en"])
def test_citations_and_bibliography_speak_the_editions_language(lang, pages, site_dir, html_tree):
    findings, seen_in_text, seen_entries = {}, [], []
    for name in pages[lang]:
        in_text, entries = _citations(html_tree(site_dir / lang / name))
        seen_in_text += in_text
        seen_entries += entries
        problems = _problems(lang, in_text, entries)
        if problems:
            findings[name] = sorted(set(problems))
    if findings:
        lines = [f"  {lang}/{name}: {len(items)} problems, e.g.\n" + "\n".join(f"      {p}" for p in items[:4])
                 for name, items in findings.items()]
        pytest.fail(f"citation words in the wrong language on {lang} pages:\n" + "\n".join(lines), pytrace=False)
    # The check had something to look at, in the edition's own words.
    assert any(AND[lang] in c for c in seen_in_text), f"{lang}: no in-text citation of two authors found"
    assert any(re.search(ENTRY_WORDS[lang][0], e) for e in seen_entries), f"{lang}: no entry in proceedings found"


ISSUE_WORDS = {"es": ("Problema en la página", "Edición: española"), "en": ("Issue on the page", "Edition: English")}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_open_issue_link_names_the_edition_and_the_page(lang, pages, site_dir, html_tree):
    """The issue that the "open issue" button starts says, in the edition's language, which
    edition and which page (with its address) it is about."""
    problems = []
    for name in pages[lang]:
        links = [n for n in html_tree(site_dir / lang / name).iter() if "btn-source-issues-button" in n.classes]
        if name in {"search.html", "genindex.html"} and not links:
            continue
        if len(links) != 1:
            problems.append(f"{name}: {len(links)} open-issue links")
            continue
        query = parse_qs(urlsplit(links[0].attrs.get("href", "")).query)
        title, body = query.get("title", [""])[0], query.get("body", [""])[0]
        heading, edition = ISSUE_WORDS[lang]
        if not title.startswith(f"[{lang}] {heading}") or f"{lang}/{name}" not in title:
            problems.append(f"{name}: issue title {title!r}")
        if edition not in body or not re.search(rf"https?://\S+/{lang}/{re.escape(name)}\b", body):
            problems.append(f"{name}: issue body {body!r}")
    if problems:
        pytest.fail(f"{lang}: open-issue links:\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)
