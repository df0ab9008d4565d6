"""Page weight: what each page makes the browser download, within a budget.

The weight of a page here is its HTML plus every file it names to load at once: scripts,
stylesheets, preloads, images and icons, counted once each, at their size on disk (before
the server's compression). Files that those load in turn (web fonts, MathJax's own
extensions) are not counted: they are small beside the scripts themselves.

``BUDGET`` is the budget of a page without math; a page with math may add MathJax's one
bundle (``_static/mathjax/tex-chtml-full.js``, 1.3 MB), and nothing else.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.site

# What a page weighs without MathJax: about 0.6 MB for a page of prose (the themes' scripts and
# stylesheets, 0.4 MB of it pydata-sphinx-theme's stylesheet), up to 1.6 MB for an executed
# chapter (its HTML and the figures its notebook draws, 0.5 MB and more). 2 MB leaves room for
# a few more figures and fails on the return of a script the size of fontawesome.js (1.5 MB),
# which every page loaded until the theme's web fonts drew its icons.
BUDGET = 2_000_000
MATHJAX = "_static/mathjax/tex-chtml-full.js"
MATHJAX_BUDGET = BUDGET + 1_400_000  # tex-chtml-full.js is 1.33 MB


def _loaded_files(page: Path, tree) -> set[Path]:
    """The local files that ``page`` names to load at once."""
    found = set()
    for node in tree.iter():
        url = None
        if node.tag in {"script", "img", "source", "iframe", "embed"}:
            url = node.attrs.get("src")
        elif (node.tag == "link"
              and set(node.attrs.get("rel", "").split()) & {"stylesheet", "preload", "icon", "modulepreload"}):
            url = node.attrs.get("href")
        elif node.tag == "object":
            url = node.attrs.get("data")
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        target = (page.parent / unquote(parts.path)).resolve()
        if target.is_file():
            found.add(target)
    return found


def page_weight(page: Path, tree) -> tuple[int, dict[str, int]]:
    files = _loaded_files(page, tree)
    sizes = {posixpath.relpath(f.as_posix(), page.parent.as_posix()): f.stat().st_size for f in files}
    return page.stat().st_size + sum(sizes.values()), sizes


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_is_within_its_weight_budget(lang, pages, site_dir, html_tree):
    over = []
    for name in pages[lang]:
        path = site_dir / lang / name
        weight, sizes = page_weight(path, html_tree(path))
        budget = MATHJAX_BUDGET if any(f.endswith(MATHJAX) for f in sizes) else BUDGET
        if weight > budget:
            heaviest = sorted(sizes.items(), key=lambda item: -item[1])[:4]
            over.append(f"  {lang}/{name}: {weight / 1e6:.2f} MB > {budget / 1e6:.2f} MB; heaviest: "
                        + ", ".join(f"{f} {s / 1e6:.2f} MB" for f, s in heaviest))
    if over:
        pytest.fail("pages over their weight budget:\n" + "\n".join(over), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_mathjax_only_on_pages_with_math(lang, pages, site_dir, html_tree):
    """MathJax's bundle is loaded by the pages that hold math, and by no other."""
    wrong = []
    for name in pages[lang]:
        path = site_dir / lang / name
        tree = html_tree(path)
        has_math = any("math" in node.classes for node in tree.iter())
        loads = any(f.as_posix().endswith(MATHJAX) for f in _loaded_files(path, tree))
        if has_math != loads:
            wrong.append(f"  {lang}/{name}: {'math without MathJax' if has_math else 'MathJax without math'}")
    if wrong:
        pytest.fail("MathJax where it is not needed, or missing where it is:\n" + "\n".join(wrong), pytrace=False)


# The header's icons, drawn by the theme's stylesheet from Font Awesome's web fonts.
HEADER_ICONS = [".primary-toggle .fa-bars", ".dropdown-source-buttons .fa-github",
                ".dropdown-download-buttons .fa-download", ".search-button__button .fa-magnifying-glass",
                ".secondary-toggle .fa-list", ".lang-switch .fa-language"]
ICON_DRAWN = """(selectors) => selectors.map((selector) => {
  const el = document.querySelector(".bd-header-article " + selector);
  if (!el) return [selector, "missing"];
  if (!el.closest("a, button").checkVisibility()) return [selector, "hidden"];  // not at this width
  const svg = el.tagName.toLowerCase() === "svg";
  const before = getComputedStyle(el, "::before");
  const box = el.getBoundingClientRect();
  const glyph = svg || (before.content && before.content !== "none" && before.content !== "normal");
  const font = svg || /Font Awesome/.test(before.fontFamily || getComputedStyle(el).fontFamily);
  return [selector, glyph && font && box.width > 4 && box.height > 4
    ? "ok" : `not drawn (${before.content}, ${before.fontFamily}, ${box.width}x${box.height})`];
})"""


def test_header_icons_show(page, server):
    """The header's icons show (the web fonts load) without Font Awesome's 1.5 MB script."""
    page.goto(f"{server}/es/01-atencion-recurrente.html", wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    fonts = page.evaluate("[...document.fonts].filter((f) => /Font Awesome/.test(f.family) && f.status === 'loaded')"
                          ".map((f) => f.family)")
    states = page.evaluate(ICON_DRAWN, HEADER_ICONS)
    problems = [f"{selector}: {state}" for selector, state in states if state not in {"ok", "hidden"}]
    if sum(state == "ok" for _, state in states) < 4:
        problems.append(f"fewer than 4 header icons shown: {states}")
    if not fonts and not page.evaluate("document.querySelector('.bd-header-article svg.svg-inline--fa') !== null"):
        problems.append("no Font Awesome font loaded")
    if problems:
        pytest.fail("header icons:\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)
