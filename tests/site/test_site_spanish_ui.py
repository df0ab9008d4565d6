"""The Spanish edition's interface is in Spanish: no English left by Sphinx, the theme or extensions.

What counts as interface: the page chrome (header, sidebars, footer, buttons), the
tooltips and accessible labels of every element (``title``, ``aria-label``,
``data-bs-title``...), and the labels that Sphinx and its extensions write into the
article (admonition titles, caption numbers, "show/hide cell" prompts, the "Proof."
of a proof). Pages with no source of their own (search, index, domain indices) are
interface through and through. What authors write (headings, prose, captions,
citations, cross-reference texts) is not checked here, and neither is anything inside
an element marked with another language (``lang="en"``, like the switch to the English
edition, whose label is rightly in English).

A string is reported when it matches ``ENGLISH_UI`` below: the words and phrases that
Sphinx 7, pydata-sphinx-theme, sphinx-book-theme, myst-nb, sphinx-proof, sphinx-exercise,
sphinx-togglebutton and sphinx-copybutton show in English (collected from their
templates, message catalogs and scripts, and from a probe build of a Spanish page that
used every feature the book uses).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

ENGLISH_UI = [
    re.compile(p)
    for p in (
        r"\bToggle\b", r"\b[Ss]idebar\b", r"\b[Ss]earch", r"\bLink to\b", r"\bContents\b",
        r"\b[Dd]ownload\b", r"\bsource file\b", r"\bPrint to PDF\b", r"\bFullscreen\b",
        r"\bSkip to\b", r"\bBack to top\b", r"^By\b", r"\bLast updated\b", r"\bCopyright\b",
        r"\bTheme\b", r"\bColor mode\b", r"^(Light|Dark|System)$", r"\b[Rr]epositor(y|ies)\b",
        r"\b[Ss]uggest edit\b", r"\b[Ee]dit this page\b", r"\b[Oo]pen (an )?issue\b",
        r"^(Main|Page|Index|Home|Menu|Close)$", r"\b[Pp]revious\b", r"\b[Nn]ext\b",
        r"\b[Nn]avigation\b", r"\bOn this page\b", r"\b(Show|Hide)\b", r"\bhidden content\b",
        r"\bcode cell\b", r"\bCop(y|ied)\b", r"\b[Cc]lick\b", r"\bVersion warning\b",
        r"\bLaunch\b", r"^Proof\b", r"\bProof Index\b", r"\bSolution\b", r"\bExercise\b",
        r"^(Definition|Theorem|Lemma|Corollary|Proposition|Axiom|Conjecture|Remark|Example"
        r"|Algorithm|Assumption|Observation|Property|Criterion|Notation)\b",
        r"^(Figure|Fig\.|Table|Listing|Equation)\s*\d",
        # ("Error" is also Spanish, so it is not in the list.)
        r"^(Note|Warning|Tip|Hint|Important|See also|Caution|Danger|Attention)$",
        r"\bpage\(s\)", r"\bSearching\b", r"\bYour search\b", r"\bPlease activate\b",
    )
]
# Attributes whose text a reader sees (tooltip) or hears (screen reader).
UI_ATTRIBUTES = ("title", "aria-label", "data-bs-title", "data-bs-original-title", "placeholder", "data-tooltip")
# Labels that Sphinx and the extensions write inside the article.
ARTICLE_LABEL_CLASSES = {"admonition-title", "caption-number", "collapsed", "expanded", "prev-next-subtitle"}


def _english(text: str) -> str | None:
    text = " ".join(text.split())
    return text if text and any(p.search(text) for p in ENGLISH_UI) else None


def _other_language(node) -> bool:
    """Marked as another language (the walk stops there, so ancestors need no look)."""
    lang = node.attrs.get("lang")
    return lang is not None and not lang.lower().startswith("es")


def _authored(node) -> bool:
    """Text that comes from what authors wrote rather than from the software."""
    classes = node.classes
    return bool(
        node.tag == "title"
        or (node.tag == "a" and "reference" in classes)  # cross-references, citations, the tables of contents
        or classes & {"caption-text", "prev-next-title", "logo__title", "sidebar-title"}
        or (node.tag == "h1" and node.parent is not None and node.parent.attrs.get("id") == "jb-print-docs-body")
        or (node.tag == "link" and node.attrs.get("rel") in {"next", "prev"})
    )


def english_ui_strings(tree, generated_page: bool) -> list[tuple[str, str]]:
    """(where, string) for every English interface string of a parsed page."""
    found = []

    def visit(node, in_article: bool, label: bool) -> None:
        if node.tag in {"script", "style", "template"} or _other_language(node) or _authored(node):
            return
        in_article = in_article or (node.tag == "article" and "bd-article" in node.classes)
        label = label or bool(node.classes & ARTICLE_LABEL_CLASSES) or node.tag == "summary"
        for attribute in UI_ATTRIBUTES:
            if (hit := _english(node.attrs.get(attribute, ""))) is not None:
                found.append((f"{node.describe()} [{attribute}]", hit))
        checked_text = generated_page or not in_article or label
        if checked_text:
            own = "".join(c for c in node.children if isinstance(c, str))
            if (hit := _english(own)) is not None:
                found.append((f"{node.describe()} text", hit))
        # sphinx-proof writes "Proof. " in front of the first paragraph of a prf:proof.
        if in_article and "proof" in node.classes and node.attrs.get("id", "").startswith("proof"):
            first = next((c for c in node.children if not isinstance(c, str) and c.tag == "p"), None)
            if first is not None and (hit := _english(first.text()[:40].split(".")[0])) is not None:
                found.append((f"{first.describe()} in {node.describe()} text", hit))
        for child in node.children:
            if not isinstance(child, str):
                visit(child, in_article, label)

    visit(tree, False, False)
    return found


def _is_generated(site: Path, name: str) -> bool:
    """A page with no source file of its own (search, genindex, a domain index)."""
    stem = name[: -len(".html")]
    return not any((site / "es" / "_sources").glob(f"{stem}.*"))


def _report(findings: dict[str, list[tuple[str, str]]]) -> str:
    lines = []
    for page, items in findings.items():
        lines.append(f"  {page}:")
        lines.extend(f"      {text!r}  at {where}" for where, text in sorted(set(items), key=lambda i: (i[1], i[0])))
    return "\n".join(lines)


def test_pages_declare_their_language(site_dir, pages, html_tree):
    """<html lang> says which language each page is in."""
    wrong = []
    for lang in ("es", "en"):
        for name in pages[lang]:
            root = next((n for n in html_tree(site_dir / lang / name).iter() if n.tag == "html"), None)
            declared = root.attrs.get("lang") if root is not None else None
            if declared != lang:
                wrong.append(f"  {lang}/{name}: <html lang={declared!r}>")
    if wrong:
        pytest.fail("pages that declare the wrong language:\n" + "\n".join(wrong), pytrace=False)


def test_no_english_ui_in_spanish_html(site_dir, pages, html_tree):
    """The built Spanish HTML holds no English interface strings."""
    findings = {}
    for name in pages["es"]:
        found = english_ui_strings(html_tree(site_dir / "es" / name), _is_generated(site_dir, name))
        if found:
            findings[f"es/{name}"] = found
    if findings:
        pytest.fail("English interface strings on Spanish pages (built HTML):\n" + _report(findings), pytrace=False)


def test_no_english_ui_added_by_javascript(site_dir, pages, html_tree, parse, site_visits):
    """Nor do the scripts add any once the page has loaded (tooltips, buttons, labels)."""
    findings = {}
    for name, visit in zip(pages["es"], site_visits.get_all("es", pages["es"])):
        generated = _is_generated(site_dir, name)
        static = {text for _, text in english_ui_strings(html_tree(site_dir / "es" / name), generated)}
        added = [(w, t) for w, t in english_ui_strings(parse(visit.report["html"]), generated) if t not in static]
        if added:
            findings[f"es/{name}"] = added
    if findings:
        pytest.fail("English interface strings added by JavaScript on Spanish pages:\n" + _report(findings),
                    pytrace=False)


# Spanish words of the interface that lose their accent in some catalogs ("Descarga esta
# pagina" in sphinx-book-theme's): written without it, they are misspelt.
UNACCENTED_ES = re.compile(
    r"\b(pagina|paginas|busqueda|busquedas|codigo|indice|navegacion|seccion|ecuacion|informacion|version|ultima|mas)\b",
    re.I,
)


def test_spanish_ui_words_keep_their_accents(site_dir, pages, html_tree):
    """Tooltips and accessible labels of the Spanish pages write «página», «búsqueda»... with their accents."""
    findings = {}
    for name in pages["es"]:
        found = []
        for node in html_tree(site_dir / "es" / name).iter():
            if _other_language(node):
                continue
            for attribute in UI_ATTRIBUTES:
                value = node.attrs.get(attribute, "")
                if UNACCENTED_ES.search(value):
                    found.append((f"{node.describe()} [{attribute}]", value))
        if found:
            findings[f"es/{name}"] = found
    if findings:
        pytest.fail("Spanish interface words without their accents:\n" + _report(findings), pytrace=False)
