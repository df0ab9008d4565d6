"""The chapters' slides (_ext/slides.py): a reveal.js deck per chapter and edition, linked from the
chapter, that opens without errors or third-party requests, shows the chapter's numbered equations
typeset and its figures loaded, and moves by keyboard."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.site


def _chapters(site_dir, lang):
    return sorted(p.stem for p in (site_dir / lang).glob("[0-9][0-9]-*.html"))


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_chapter_links_to_its_deck(lang, site_dir):
    problems = []
    for name in _chapters(site_dir, lang):
        page = site_dir / lang / f"{name}.html"
        links = re.findall(r'<a href="([^"]+)"[^>]*\n?[^>]*class="btn btn-sm btn-slides-button',
                           page.read_text(encoding="utf-8"))
        deck = (site_dir / lang / "_slides" / f"{name}.html").resolve()
        if [(page.parent / link).resolve() for link in links] != [deck] or not deck.exists():
            problems.append(f"  {lang}/{name}: {links}")
    if problems:
        pytest.fail("slides links:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_decks_open_render_and_move_by_keyboard(lang, site_dir, context, server):
    problems = []
    for name in _chapters(site_dir, lang):
        page_html = (site_dir / lang / f"{name}.html").read_text(encoding="utf-8")
        equations = len(re.findall(r'<span class="eqno">', page_html))
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.on("console", lambda message, errors=errors: errors.append(message.text)
                if message.type == "error" else None)
        page.goto(f"{server}/{lang}/_slides/{name}.html")
        page.wait_for_function("() => window.Reveal && Reveal.isReady()")
        if equations:
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("() => MathJax.startup.promise")
        typeset = page.evaluate("document.querySelectorAll('.slides .math mjx-container').length")
        raw = page.evaluate("document.querySelectorAll('.slides .math').length")
        images = page.evaluate("[...document.querySelectorAll('.slides figure img')]"
                               ".map(image => image.complete && image.naturalWidth)")
        total = page.evaluate("Reveal.getTotalSlides()")
        title = page.evaluate("document.querySelector('.slides section h1').textContent")
        page.keyboard.press("ArrowRight")
        second = page.evaluate("Reveal.getIndices().h")
        page.keyboard.press("End")
        last = page.evaluate("Reveal.getIndices().h")
        page.keyboard.press("Home")
        first = page.evaluate("Reveal.getIndices().h")
        if equations and (typeset < equations or raw < equations):
            problems.append(f"  {lang}/{name}: {typeset} equations typeset of {equations} numbered in the chapter")
        if not images or not all(images):
            problems.append(f"  {lang}/{name}: figures {images} (each must load)")
        if title.strip() not in page_html:
            problems.append(f"  {lang}/{name}: the first slide's title {title!r} is not the chapter's")
        if (second, last, first) != (1, total - 1, 0):
            problems.append(f"  {lang}/{name}: keys moved to slides {second}, {last}, {first} of {total}")
        if errors:
            problems.append(f"  {lang}/{name}: errors {errors}")
        page.close()
    if context.third_party:
        problems.append(f"  third-party requests: {context.third_party}")
    if problems:
        pytest.fail("slides:\n" + "\n".join(problems), pytrace=False)
