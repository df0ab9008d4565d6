"""The two editions point at each other: the language switch, hreflang alternates, the landing page."""

from __future__ import annotations

import urllib.request
from urllib.error import HTTPError
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = pytest.mark.site

SWITCH_TIMEOUT_MS = 5_000


def _path(url: str) -> str:
    return urlsplit(url).path


def _fetch_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except HTTPError as error:
        return error.code


def _alternates(tree) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for node in tree.iter():
        if node.tag == "link" and "alternate" in node.attrs.get("rel", "").split() and "hreflang" in node.attrs:
            found.setdefault(node.attrs["hreflang"], []).append(node.attrs.get("href", ""))
    return found


@pytest.fixture
def plain_page(make_context):
    """A page in a fresh guarded context with JavaScript off: the switch is a plain link and
    must work without scripts (and the round trips cost a fraction of the time)."""
    return make_context(java_script_enabled=False).new_page()


def test_language_switch_round_trip(plain_page, server, pages):
    """On every Spanish page, the switch leads to the same page in English, and back."""
    from playwright.sync_api import Error as PlaywrightError

    page, problems = plain_page, []
    for name in pages["es"]:
        start = f"{server}/es/{name}"
        page.goto(start, wait_until="domcontentloaded")
        for lang in ("en", "es"):
            here = _path(page.url)
            try:
                # Playwright's click fails unless exactly one a.lang-switch is there and visible.
                with page.expect_navigation(wait_until="domcontentloaded", timeout=SWITCH_TIMEOUT_MS):
                    page.locator("a.lang-switch").click(timeout=SWITCH_TIMEOUT_MS)
            except PlaywrightError as error:
                count = page.locator("a.lang-switch").count()
                problems.append(
                    f"  {here}: cannot follow a.lang-switch ({count} on the page, expected one visible): "
                    + str(error).splitlines()[0]
                )
                break
            expected = f"/{lang}/{name}"
            got, html_lang = _path(page.url), page.evaluate("document.documentElement.lang")
            if got != expected or html_lang != lang:
                problems.append(f"  {here}: the switch led to {got} (lang={html_lang!r}), "
                                f"expected {expected} (lang={lang!r})")
                break
    if problems:
        pytest.fail("language switch:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_hreflang_alternates(lang, server, pages, site_dir, html_tree):
    """Each page's <head> names itself and its twin with <link rel=alternate hreflang>; both load."""
    problems, statuses = [], {}
    for name in pages[lang]:
        url = f"{server}/{lang}/{name}"
        alternates = _alternates(html_tree(site_dir / lang / name))
        for code in ("es", "en"):
            hrefs = alternates.get(code, [])
            if len(hrefs) != 1:
                problems.append(f"  {lang}/{name}: {len(hrefs)} <link rel=alternate hreflang={code}> (expected 1)")
                continue
            target = urljoin(url, hrefs[0])
            expected = f"/{code}/{name}"
            if _path(target) != expected:
                problems.append(f"  {lang}/{name}: hreflang={code} points to {_path(target)}, expected {expected}")
                continue
            if target not in statuses:
                statuses[target] = _fetch_status(target)
            if statuses[target] != 200:
                problems.append(f"  {lang}/{name}: hreflang={code} {target} answers HTTP {statuses[target]}")
    if problems:
        pytest.fail("hreflang alternates:\n" + "\n".join(problems), pytrace=False)


def test_landing_page_links_both_editions(server, site_dir, html_tree):
    """The bilingual landing page links to both editions and declares them as hreflang alternates."""
    tree = html_tree(site_dir / "index.html")
    base = f"{server}/index.html"
    editions = {"es": {"/es/", "/es/index.html"}, "en": {"/en/", "/en/index.html"}}
    links = {urlsplit(urljoin(base, n.attrs["href"])).path for n in tree.iter() if n.tag == "a" and n.attrs.get("href")}
    alternates = _alternates(tree)
    problems = []
    for code, targets in editions.items():
        if not links & targets:
            problems.append(f"  no <a href> to the {code} edition ({' or '.join(sorted(targets))}); "
                            f"links found: {sorted(links)}")
        hrefs = alternates.get(code, [])
        if len(hrefs) != 1:
            problems.append(f"  {len(hrefs)} <link rel=alternate hreflang={code}> (expected 1)")
        elif urlsplit(urljoin(base, hrefs[0])).path not in targets:
            problems.append(f"  hreflang={code} points to {hrefs[0]!r}, not to the {code} edition")
        else:
            status = _fetch_status(urljoin(base, hrefs[0]))
            if status != 200:
                problems.append(f"  hreflang={code} {hrefs[0]!r} answers HTTP {status}")
    if problems:
        pytest.fail("landing page (index.html):\n" + "\n".join(problems), pytrace=False)
