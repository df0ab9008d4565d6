"""Search, through each edition's own search page, as a reader uses it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

pytestmark = pytest.mark.site

SEARCH_DONE = """() => {
  const summary = document.querySelector("#search-results p.search-summary");
  return summary !== null && summary.innerText.trim().length > 0;
}"""

# The search form in the article of search.html; the first input[name=q] in the DOM is
# the hidden Ctrl+K dialog.
VISIBLE_SEARCH_BOX = ".bd-search-container form.bd-search input[name=q]"

# Sphinx's searchtools.js messages as they read in English (what a Spanish page must not show).
ENGLISH_SEARCH_UI = re.compile(
    r"Search Results|Search finished|page\(s\)|matching the search|Your search did not match|Searching|Preparing search"
)


UI_TEXTS = """() => ({
  title: document.querySelector("#search-results h2")?.innerText ?? "",
  summary: document.querySelector("#search-results p.search-summary").innerText,
  heading: document.querySelector("article h1, main h1")?.innerText ?? "",
  lang: document.documentElement.lang,
})"""


def search(page, server: str, lang: str, query: str) -> tuple[set[str], dict]:
    """Run ``query`` on ``<lang>/search.html``; return the pages found and the page's UI texts."""
    page.goto(f"{server}/{lang}/search.html?q={quote(query)}", wait_until="load")
    page.wait_for_function(SEARCH_DONE, timeout=15_000)
    hrefs = page.eval_on_selector_all("#search-results ul.search li",
                                      "items => items.map(li => li.querySelector('a')?.href ?? '')")
    found = {urlsplit(href).path.rsplit("/", 1)[-1] for href in hrefs if href}
    return found, page.evaluate(UI_TEXTS)


def test_spanish_search_ignores_accents_case_and_plural(page, server):
    """"atencion", "atenciones", "atención" and "ATENCIÓN" all find pages, and the same ones."""
    results = {q: search(page, server, "es", q)[0] for q in ("atencion", "atenciones", "atención", "ATENCIÓN")}
    shown = "\n".join(f"  {q!r}: {sorted(found)}" for q, found in results.items())
    if not all(results.values()):
        pytest.fail(f"Spanish queries that find nothing:\n{shown}", pytrace=False)
    if len({frozenset(found) for found in results.values()}) != 1:
        pytest.fail(f"accented/unaccented, upper/lower case or singular/plural queries find different pages:\n{shown}",
                    pytrace=False)


STEMMER_STATE = """(words) => ({
  lang: document.documentElement.lang,
  option: DOCUMENTATION_OPTIONS.LANGUAGE,
  spanish: typeof SpanishStemmer !== "undefined",
  stems: Object.fromEntries(words.map((w) => [w, new Stemmer().stemWord(w)])),
})"""
# Snowball Spanish strips plural endings and acute accents; Porter (English) only drops
# the plural "s" of a Spanish word and keeps the accent.
STEMS = {
    "es": {"atenciones": "atencion", "atención": "atencion", "cabezas": "cabez"},
    "en": {"running": "run", "atención": "atención", "cabezas": "cabeza"},
}


def _stemmer_problems(page, lang: str) -> list[str]:
    state = page.evaluate(STEMMER_STATE, list(STEMS[lang]))
    problems = []
    if state["lang"] != lang or state["option"] != lang:
        problems.append(f"<html lang={state['lang']!r}>, DOCUMENTATION_OPTIONS.LANGUAGE={state['option']!r}")
    if state["spanish"] != (lang == "es"):
        problems.append(f"the Spanish stemmer is {'' if state['spanish'] else 'not '}loaded")
    if state["stems"] != STEMS[lang]:
        problems.append(f"stems {state['stems']}, expected {STEMS[lang]}")
    return problems


def test_english_edition_searches_in_english(page, server):
    """'attention' finds pages on the English edition, whose search page stems queries in English
    (so a Spanish query there is stemmed by Porter, not by the Spanish stemmer)."""
    found, ui = search(page, server, "en", "attention")
    problems = [] if found else ["the query 'attention' finds nothing"]
    problems += _stemmer_problems(page, "en")
    if problems:
        pytest.fail("en/search.html: " + "; ".join(problems), pytrace=False)


def test_spanish_search_page_speaks_spanish(page, server):
    """Typed in the visible search box, a query runs with the Spanish stemmer, and headings and
    messages of the Spanish search page are in Spanish, with and without results."""
    problems = []
    found, ui = search(page, server, "es", "zzqxjvw")  # finds nothing
    checks = [("zzqxjvw", ui)]
    box = page.locator(VISIBLE_SEARCH_BOX)
    box.fill("atenciones")
    with page.expect_navigation(wait_until="load"):
        box.press("Enter")
    page.wait_for_function(SEARCH_DONE, timeout=15_000)
    if "q=atenciones" not in page.url or not page.locator("#search-results ul.search li").count():
        problems.append(f"typing 'atenciones' + Enter in the search box finds nothing ({page.url})")
    checks.append(("atenciones", page.evaluate(UI_TEXTS)))
    problems += _stemmer_problems(page, "es")
    for query, ui in checks:
        texts = {k: v for k, v in ui.items() if k != "lang"}
        for where, text in texts.items():
            if ENGLISH_SEARCH_UI.search(text):
                problems.append(f"q={query!r}: the {where} is in English: {text!r}")
        if "búsqueda" not in " ".join(texts.values()).lower():
            problems.append(f"q={query!r}: no Spanish wording ('búsqueda') in {texts}")
    if problems:
        pytest.fail("es/search.html:\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)


def search_results(page, server: str, lang: str, query: str) -> list[dict]:
    """Run ``query``; return the results in the order shown: page, anchor, summary."""
    page.goto(f"{server}/{lang}/search.html?q={quote(query)}", wait_until="load")
    page.wait_for_function(SEARCH_DONE, timeout=15_000)
    return page.eval_on_selector_all(
        "#search-results ul.search li",
        """items => items.map((li) => {
          const a = li.querySelector('a');
          const url = new URL(a ? a.href : location.href);
          return {page: url.pathname.split('/').pop(), anchor: url.hash,
                  summary: (li.querySelector('p.context')?.innerText ?? '').replace(/\\s+/g, ' ')};
        })""",
    )


# Queries as readers type them without accents, and the words they mean.
UNACCENTED = {"codificacion": "codificación", "normalizacion": "normalización", "atencion": "atención"}


def test_spanish_queries_without_accents_find_what_accented_ones_find(page, server):
    """"codificacion", "normalizacion" and "atencion" give the results of "codificación",
    "normalización" and "atención": the same pages, in the same order."""
    problems = []
    for bare, accented in UNACCENTED.items():
        got, expected = search_results(page, server, "es", bare), search_results(page, server, "es", accented)
        if not expected:
            problems.append(f"{accented!r} finds nothing")
        elif [(r["page"], r["anchor"]) for r in got] != [(r["page"], r["anchor"]) for r in expected]:
            shown = lambda results: [r["page"] + r["anchor"] for r in results][:8]  # noqa: E731
            problems.append(f"{bare!r} finds {len(got)} results {shown(got)}, "
                            f"{accented!r} finds {len(expected)} {shown(expected)}")
    if problems:
        pytest.fail("es/search.html:\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)


def test_unaccented_query_shows_the_prose_not_code_imports(page, server):
    """The excerpts under the results of "atencion" show where the prose says «atención», not
    `from atencion import ...` lines of code."""
    results = [r for r in search_results(page, server, "es", "atencion") if r["summary"]]
    assert results, "'atencion' finds no result with an excerpt"
    # «atención», «atenciones», «atencional» as prose writes them; not the library's name atencion.
    prose = re.compile(r"\batenci(ón|ones|onal|onales)\b", re.I)
    code_only = [r for r in results if not prose.search(r["summary"])]
    if code_only:
        pytest.fail(
            "excerpts without the word «atención» (the code identifier atencion found instead):\n"
            + "\n".join(f"  {r['page']}{r['anchor']}: {r['summary'][:160]!r}" for r in code_only),
            pytrace=False,
        )


def test_spanish_no_results_message_is_grammatical(page, server):
    """The "no results" message agrees in number and speaks to the reader as the book does (tú)."""
    found, ui = search(page, server, "es", "zzqxjvw")
    assert not found
    wrong = [w for w in ("ningún documentos", "usted", "allá seleccionado", "categorías") if w in ui["summary"]]
    if wrong:
        pytest.fail(f"es/search.html, no results: {ui['summary']!r} ({', '.join(wrong)})", pytrace=False)


# Words with accents where Snowball's Spanish stemmer strips a suffix only with its accent
# (-ación, -ución, -logía), verb forms, ñ and ü, and words with none.
STEM_PROBES = [
    "atención", "atencion", "atenciones", "ATENCIÓN", "codificación", "codificacion", "codificaciones",
    "normalización", "normalizacion", "solución", "soluciones", "biología", "biologias", "tamaño",
    "pingüino", "podría", "podrias", "compresión", "cabezas", "máscara", "mascaras", "régimen", "índice",
]


def test_browser_and_index_stem_spanish_alike(page, server):
    """The stemmer of the Spanish search page (language_data.js) and the one that built the
    index (_ext/bilingual.py) give every word the same stem, with or without its accents."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "_ext"))
    import bilingual

    python = bilingual.SpanishSearch({})
    page.goto(f"{server}/es/search.html", wait_until="load")
    browser = page.evaluate("(words) => words.map((w) => new Stemmer().stemWord(w))", STEM_PROBES)
    differ = [(w, b, python.stem(w)) for w, b in zip(STEM_PROBES, browser) if b != python.stem(w)]
    assert not differ, "stems that differ (word, browser, index): " + repr(differ)
    folded = [(w, python.stem(w)) for w in STEM_PROBES if python.stem(w) != python.stem(bilingual.canonical_spanish(w))]
    assert not folded, "words whose stem depends on their accents: " + repr(folded)


# The page's furniture, as it reads in each edition: the header's buttons and language switch,
# the printed table of contents' title, the hidden cells' labels.
FURNITURE = {
    "es": re.compile(r"\bEnglish\b|\bContenido\b|Repositorio|Sugerir un cambio|Abrir un problema|"
                     r"Mostrar el código|Ocultar el código"),
    "en": re.compile(r"\bEspañol\b|\bContents\b|Repository|Suggest edit|Open issue|Show code cell|Hide code cell"),
}
EXCERPT_QUERIES = {"es": ["atencion", "posiciones", "cabezas"], "en": ["attention", "positions", "heads"]}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_search_excerpts_show_the_article_not_the_page_furniture(lang, page, server):
    """The excerpt under a result is prose from the page, not "English … Contenido" or "Repository
    Suggest edit" from its header."""
    problems = []
    for query in EXCERPT_QUERIES[lang]:
        results = search_results(page, server, lang, query)
        assert any(r["summary"] for r in results), f"{query!r} shows no excerpt"
        for r in results:
            if FURNITURE[lang].search(r["summary"]):
                problems.append(f"  {query!r} -> {r['page']}{r['anchor']}: {r['summary'][:120]!r}")
    if problems:
        pytest.fail(f"{lang}: excerpts showing page furniture:\n" + "\n".join(problems), pytrace=False)


TITLE_QUERIES = {"es": ["codificación posicional", "auto-atención enmascarada", "cabezas de atención"],
                 "en": ["positional encoding", "masked self-attention", "attention heads"]}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_page_is_listed_once_for_its_title(lang, page, server):
    """A query that matches a chapter's title lists the chapter once (not "4. X" and "4. X > X")."""
    problems = []
    for query in TITLE_QUERIES[lang]:
        results = search_results(page, server, lang, query)
        assert results, f"{query!r} finds nothing"
        seen = [(r["page"], r["anchor"]) for r in results]
        repeated = sorted({s for s in seen if seen.count(s) > 1})
        if repeated:
            problems.append(f"  {query!r}: listed more than once: {repeated}")
    if problems:
        pytest.fail(f"{lang}:\n" + "\n".join(problems), pytrace=False)
