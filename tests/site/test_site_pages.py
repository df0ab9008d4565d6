"""Every page of both editions, loaded in the browser: no third party, no JS errors, math typeset;
and in the HTML: each script written once, no live-code scripts while live code is off.

Each page is loaded once per session in a fresh browser context (see ``site_visits`` in
conftest.py); the three browser checks here read what that visit saw (the sweep records both
uncaught exceptions and console errors: a canary test checks that it does).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.site

REPO = Path(__file__).resolve().parents[2]
CONFIG = {"es": REPO / "_config.yml", "en": REPO / "book" / "en" / "_config.yml"}

# Known harmless messages, each as (kind, regex matched against the whole message,
# regex matched against the URL of the script that produced it).
# Never allow an error on the grounds that the code before it already ran: the allowed
# "Identifier 'THEBE_JS_URL' has already been declared" hid, for a while, that every inline
# script was written twice into every page (test_scripts_are_written_once_... below).
ALLOWED_JS_ERRORS = [
    # pydata-sphinx-theme's inline <head> script copies localStorage "mode" into
    # <html data-mode>; in a fresh profile that is "", and the theme's JS reports it with
    # console.error before falling back to "auto" (light/dark from the system setting).
    # Every first visit does this; nothing fails.
    ("console.error", r"Got invalid theme mode: \. Resetting to auto\.",
     r".*/_static/scripts/pydata-sphinx-theme\.js(\?.*)?"),
]


def _allowed(kind: str, text: str, source: str) -> bool:
    return any(
        kind == k and re.fullmatch(message, text) and re.fullmatch(where, source or "")
        for k, message, where in ALLOWED_JS_ERRORS
    )


def _inline_scripts(tree) -> list[str]:
    """The text of every inline ``<script>`` (no ``src``) that the browser runs."""
    return [
        node.text().strip()
        for node in tree.iter()
        if node.tag == "script" and "src" not in node.attrs
        and node.attrs.get("type", "text/javascript") in {"text/javascript", "module", ""}
    ]


def _has_math_in_html(path) -> bool:
    """Static: does the built page hold math (``.math`` nodes or raw TeX delimiters)?"""
    html = path.read_text(encoding="utf-8")
    if re.search(r'class="[^"]*\bmath\b', html):
        return True
    # Raw TeX in the article outside code blocks (unparsed $$...$$ or \(...\)).
    article = re.search(r'<article class="bd-article[^"]*"[^>]*>(.*?)</article>', html, re.S)
    if not article:
        return False
    prose = re.sub(r"<(pre|code|script|style)\b.*?</\1>", "", article.group(1), flags=re.S)
    return bool(re.search(r"\\\(|\\\[|\$\$", prose))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_third_party_requests(lang, pages, site_visits):
    """No page asks anything of another server: no CDN, no fonts, no analytics, no images."""
    requested = {}
    for name, visit in zip(pages[lang], site_visits.get_all(lang, pages[lang])):
        if visit.third_party:
            requested[f"{lang}/{name}"] = sorted(set(visit.third_party))
    if requested:
        pytest.fail(
            "pages that request third-party URLs (the site must work offline):\n"
            + "\n".join(f"  {page}: {', '.join(urls)}" for page, urls in requested.items()),
            pytrace=False,
        )


@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_javascript_errors(lang, pages, site_visits):
    """No uncaught exception and no console error, apart from the allow-listed ones."""
    problems = []
    for name, visit in zip(pages[lang], site_visits.get_all(lang, pages[lang])):
        blocked = set(visit.third_party)
        for kind, text, source in visit.errors:
            if _allowed(kind, text, source):
                continue
            # A blocked third-party request also logs "Failed to load resource";
            # test_no_third_party_requests reports those.
            if kind == "console.error" and source in blocked:
                continue
            problems.append(f"  {lang}/{name}: {kind}: {text}" + (f"  [{source}]" if source else ""))
    if problems:
        pytest.fail("JavaScript errors:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_equations_render(lang, pages, site_dir, site_visits, server):
    """MathJax, served by the site itself, typesets every equation; no raw TeX is left visible."""
    problems, math_pages = [], 0
    for name, visit in zip(pages[lang], site_visits.get_all(lang, pages[lang])):
        report, found = visit.report, []
        # Wherever MathJax is loaded, it comes from the site itself.
        for src in report["scripts"]:
            parts = urlsplit(src)
            if (f"{parts.scheme}://{parts.netloc}" != server
                    or not parts.path.endswith("/_static/mathjax/tex-chtml-full.js")):
                found.append(f"MathJax is loaded from {src}, not from the site's _static/mathjax/tex-chtml-full.js")
        if not _has_math_in_html(site_dir / lang / name):
            problems.extend(f"  {lang}/{name}: {line}" for line in found)
            continue
        math_pages += 1
        if report["mathjax"] != "typeset":
            found.append(f"MathJax did not typeset the page ({report['mathjax']}; MathJax version {report['version']})")
        if not report["scripts"]:
            found.append("no MathJax <script> on the page")
        if report["containers"] == 0:
            found.append("no <mjx-container>: MathJax rendered nothing")
        for label, items in (
            ("math nodes not rendered", report["unrendered"]),
            ("math nodes showing raw TeX", report["rawInMath"]),
            ("raw TeX visible in the text", report["proseTex"]),
            ("MathJax errors", report["mathErrors"]),
        ):
            if items:
                examples = ", ".join(repr(i) for i in items[:3]) + (", ..." if len(items) > 3 else "")
                found.append(f"{len(items)} {label}: {examples}")
        problems.extend(f"  {lang}/{name}: {line}" for line in found)
    assert math_pages, f"no page of the {lang} edition contains math: the check ran on nothing"
    if problems:
        pytest.fail("equations that do not render:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_scripts_are_written_once_and_thebe_only_when_on(lang, pages, site_dir, html_tree):
    """No inline script is written twice into a page (the second copy of a `const` throws, the
    second copy of anything else runs twice), and live code (thebe) loads nothing while
    ``launch_buttons.thebe`` is off in the configuration."""
    import yaml

    config = yaml.safe_load(CONFIG[lang].read_text(encoding="utf-8"))
    thebe_on = bool((config.get("launch_buttons") or {}).get("thebe"))
    problems = []
    for name in pages[lang]:
        tree = html_tree(site_dir / lang / name)
        inline = [text for text in _inline_scripts(tree) if text]
        twice = sorted({text for text in inline if inline.count(text) > 1})
        problems.extend(f"  {lang}/{name}: written {inline.count(t)} times: {t[:100]!r}" for t in twice)
        if not thebe_on:
            thebe = [
                node.attrs.get("src") or node.attrs.get("href") or node.attrs.get("type") or node.text().strip()[:60]
                for node in tree.iter()
                if node.tag in {"script", "link"}
                and re.search(r"thebe", " ".join([node.attrs.get("src", ""), node.attrs.get("href", ""),
                                                  node.attrs.get("type", ""), node.text()]), re.I)
            ]
            problems.extend(f"  {lang}/{name}: thebe is off but the page loads {item!r}" for item in thebe)
    if problems:
        pytest.fail("scripts:\n" + "\n".join(problems), pytrace=False)


def test_the_sweep_hears_uncaught_exceptions_and_console_errors(browser, server):
    """A canary for test_no_javascript_errors: a tab of the page sweep records both an uncaught
    exception (``pageerror``) and a ``console.error`` raised while a page loads."""
    from conftest import _Tab, new_guarded_context

    context = new_guarded_context(browser, server)
    try:
        context.add_init_script(
            "window.addEventListener('DOMContentLoaded', () => {"
            " console.error('canary: console'); setTimeout(() => { throw new Error('canary: uncaught'); }, 0); });"
        )
        tab = _Tab(context, server)
        tab.start(f"{server}/es/index.html")
        visit = tab.finish()
        tab.page.wait_for_timeout(200)
    finally:
        context.close()
    kinds = {kind for kind, text, _ in visit.errors if "canary" in text}
    assert kinds == {"pageerror", "console.error"}, f"the sweep recorded {visit.errors}"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_corpus_text_keeps_its_characters(lang, pages, site_dir):
    """Text quoted from a corpus (a ``container`` of class ``verbatim-text``) is shown exactly
    as the metric scored it: no typographic quotes or ellipsis from Sphinx's smart quotes.
    In Hñähñu the apostrophe is a letter (the glottal stop). Chapter 11's table of example
    translations is such a container; its Otomí has apostrophes, so the check bites."""
    found = {}
    for name in pages[lang]:
        html = (site_dir / lang / name).read_text(encoding="utf-8")
        for block in re.findall(r'<div class="verbatim-text[^"]*">(.*?)</table>', html, flags=re.S):
            found.setdefault(name, []).append(block)
    assert "11-transformador.html" in found, "chapter 11's examples table is not a verbatim-text container"
    text = "".join(block for blocks in found.values() for block in blocks)
    assert "'" in text or "&#39;" in text or "&#x27;" in text  # the check has something to check
    assert not set("\u2018\u2019\u201c\u201d\u2026") & set(text), f"typographic characters in corpus text: {found}"
