"""The page layout as readers use it, on a phone and on a desktop: the table of contents opens,
the page's contents open, nothing is wider than the screen, one header only."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.site

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# A chapter with equations, code and a table of contents of its own.
CHAPTER = "02-auto-atencion.html"
# How long a sidebar may take to slide in (ms).
OPEN_TIMEOUT_MS = 3_000

# Wider than the viewport: the element, its width and what it holds, to say which content
# makes a page scroll sideways. (A phone's browser may instead widen its layout to the widest
# content, which then fits: the page is reported without culprits, as the bibliography's
# long URLs were.)
OVERFLOW_JS = r"""
() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("article *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1) continue;
    // A scrolling container (a code block, a wide table) may be wider inside, not outside.
    if (el.closest("pre, .highlight, .table-wrapper, .pst-scrollable-table-container, mjx-container, " +
                   ".cell_output, .output")) continue;
    // report the innermost
    if ([...el.children].some((child) => child.getBoundingClientRect().right > width + 1)) continue;
    wide.push(`<${el.tagName.toLowerCase()}${el.className ? ' class="' + el.className + '"' : ""}> ` +
              `${Math.round(box.right - width)} px too wide: ${JSON.stringify(el.textContent.trim().slice(0, 60))}`);
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
}
"""


def _appears(page, selector: str, state: str = "visible") -> bool:
    """Whether ``selector`` becomes visible (or ``state``) within ``OPEN_TIMEOUT_MS``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(selector, state=state, timeout=OPEN_TIMEOUT_MS)
    except PlaywrightTimeout:
        return False
    return True


@pytest.fixture
def phone(make_context):
    return make_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_phone_menu_opens_the_table_of_contents_and_a_chapter_link_navigates(lang, phone, server):
    """At 390×844, tapping ☰ opens the book's table of contents; a chapter link in it leads to the chapter."""
    page = phone
    page.goto(f"{server}/{lang}/{CHAPTER}", wait_until="load")
    toggle = page.locator("button.primary-toggle:visible")
    assert toggle.count() == 1, f"{toggle.count()} visible ☰ buttons on a phone (expected 1)"
    toggle.tap()
    dialog = page.locator("dialog#pst-primary-sidebar-modal")
    if not _appears(page, "dialog#pst-primary-sidebar-modal[open] nav.bd-docs-nav a.reference"):
        tooltip = page.locator(".tooltip:visible").all_inner_texts()
        pytest.fail(
            f"{lang}/{CHAPTER}: tapping ☰ does not open the table of contents "
            f"(dialog open: {dialog.evaluate('d => d.open')}; tooltip shown: {tooltip})",
            pytrace=False,
        )
    link = dialog.locator('nav.bd-docs-nav a.reference[href$="03-atencion-grafos.html"]')
    assert link.count() == 1, "no link to chapter 3 in the opened table of contents"
    with page.expect_navigation(wait_until="load"):
        link.tap()
    assert urlsplit(page.url).path == f"/{lang}/03-atencion-grafos.html", f"the chapter link led to {page.url}"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_phone_page_contents_button_opens(lang, phone, server):
    """At 390×844, the page-contents button opens the list of the page's sections."""
    page = phone
    page.goto(f"{server}/{lang}/{CHAPTER}", wait_until="load")
    toggle = page.locator("button.secondary-toggle:visible")
    assert toggle.count() == 1, f"{toggle.count()} visible page-contents buttons on a phone (expected 1)"
    toggle.tap()
    if not _appears(page, "dialog#pst-secondary-sidebar-modal[open] nav.page-toc a"):
        pytest.fail(f"{lang}/{CHAPTER}: tapping the page-contents button does not open the page's contents",
                    pytrace=False)


def test_desktop_menu_collapses_the_sidebar(make_context, server):
    """On a desktop, ☰ hides the table of contents (the sidebar) and shows it again."""
    page = make_context(viewport=DESKTOP).new_page()
    page.goto(f"{server}/es/{CHAPTER}", wait_until="load")
    sidebar = page.locator("#pst-primary-sidebar")
    assert sidebar.is_visible(), "the table of contents is not shown on a desktop"
    toggle = page.locator("button.primary-toggle:visible")
    assert toggle.count() == 1, f"{toggle.count()} visible ☰ buttons on a desktop (expected 1)"
    toggle.click()
    assert _appears(page, "#pst-primary-sidebar nav.bd-docs-nav", state="hidden"), (
        "☰ does not hide the sidebar on a desktop"
    )
    toggle.click()
    assert _appears(page, "#pst-primary-sidebar nav.bd-docs-nav"), "a second ☰ does not bring the sidebar back"


def test_desktop_has_one_header_and_one_search_box(make_context, server):
    """No second (empty) header band above the article, and one search field, not two."""
    page = make_context(viewport=DESKTOP).new_page()
    page.goto(f"{server}/es/{CHAPTER}", wait_until="load")
    problems = []
    bands = page.locator("header.bd-header:visible")
    if bands.count():
        height = bands.first.bounding_box()["height"]
        problems.append(f"a site header band ({height:.0f} px high) above the article header")
    searches = page.locator(".search-button-field:visible, .search-button:visible")
    if searches.count() != 1:
        problems.append(f"{searches.count()} visible search buttons/fields (expected 1)")
    if problems:
        pytest.fail("desktop layout: " + "; ".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_no_horizontal_scroll_on_a_phone(lang, pages, make_context, server):
    """At 390 px, no page is wider than the screen (code blocks and wide tables scroll inside)."""
    page = make_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    problems = []
    for name in pages[lang]:
        page.goto(f"{server}/{lang}/{name}", wait_until="load")
        found = page.evaluate(OVERFLOW_JS)
        if found["scrollWidth"] > found["width"]:
            problems.append(f"  {lang}/{name}: {found['scrollWidth']} px wide at {found['width']} px")
            problems.extend(f"      {item}" for item in found["wide"])
    if problems:
        pytest.fail("pages that scroll sideways on a phone:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_previous_and_next_links_are_not_cut_off_on_a_phone(lang, pages, make_context, server):
    """At 390 px, the titles of the previous/next links at a page's foot fit in their links (the
    links hide what overflows, so a long title on one side used to cut the other off)."""
    page = make_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    problems = []
    for name in pages[lang]:
        page.goto(f"{server}/{lang}/{name}", wait_until="load")
        cut = page.evaluate("""() => [...document.querySelectorAll('.prev-next-area a')]
            .filter((a) => a.scrollWidth > a.clientWidth + 1 || a.getBoundingClientRect().right > innerWidth + 1)
            .map((a) => a.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60))""")
        problems.extend(f"  {lang}/{name}: {text!r}" for text in cut)
    if problems:
        pytest.fail("previous/next links cut off on a phone:\n" + "\n".join(problems), pytrace=False)
