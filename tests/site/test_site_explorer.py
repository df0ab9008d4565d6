"""The attention explorer in the pages (atencion.explorer, _ext/static/attention-explorer.js): the
numbers it shows are the exported weights, and it works with the keyboard alone, in both editions."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.site

PAGES = ["02-auto-atencion", "06-cabezas", "07-atencion-enmascarada", "11-transformador"]


def _shown(page, explorer) -> list[float]:
    return [float(text) for text in explorer.locator("table.ae-row .ae-value").all_inner_texts()]


def _row(data: dict, explorer) -> list[float]:
    layer, head, query = (int(explorer.get_attribute(f"data-{name}")) for name in ("layer", "head", "query"))
    return data["weights"][layer][head][query]


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_explorer_shows_the_exported_weights_and_works_by_keyboard(lang, name, context, server):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server}/{lang}/{name}.html")
    explorers = page.locator("[data-attention-explorer]")
    assert explorers.count() >= 1, f"{lang}/{name}: no attention explorer"
    explorer = explorers.first
    explorer.locator("table.ae-row").wait_for()
    page.wait_for_function("() => document.querySelector('[data-attention-explorer]').classList.contains('ae-ready')")
    data = json.loads(explorer.locator("script.ae-data").text_content())
    queries = explorer.locator(".ae-query")
    assert queries.count() == len(data["queries"]) and queries.all_inner_texts() == data["queries"]
    decimals = data["decimals"]

    def check(where: str) -> None:
        shown, expected = _shown(page, explorer), _row(data, explorer)
        assert shown == [round(w, decimals) for w in expected], f"{lang}/{name} ({where}): {shown} != {expected}"

    check("first query")
    # mouse: point at the last query
    queries.last.hover()
    assert explorer.get_attribute("data-query") == str(len(data["queries"]) - 1)
    check("hovered")
    # keyboard only: Tab reaches the chosen query (one tab stop), arrows and Home move
    page.mouse.move(0, 0)
    queries.first.click()
    page.keyboard.press("ArrowRight")
    assert explorer.get_attribute("data-query") == "1"
    assert page.evaluate("document.activeElement.dataset.index") == "1"
    check("ArrowRight")
    page.keyboard.press("End")
    assert explorer.get_attribute("data-query") == str(len(data["queries"]) - 1)
    page.keyboard.press("Home")
    assert explorer.get_attribute("data-query") == "0"
    assert queries.nth(0).get_attribute("tabindex") == "0" and queries.nth(1).get_attribute("tabindex") == "-1"
    # a screen reader hears where the query attends most
    assert data["queries"][0] in explorer.locator(".ae-live").inner_text()
    # the selectors: every layer and head, chosen by keyboard
    for role, count in (("layer", len(data["weights"])), ("head", len(data["weights"][0]))):
        select = explorer.locator(f'select[data-role="{role}"]')
        assert select.count() == (1 if count > 1 else 0), f"{lang}/{name}: {role} selector"
        if count > 1:
            select.focus()
            page.keyboard.press("ArrowDown")  # the next option, as a keyboard user picks it
            assert explorer.get_attribute(f"data-{role}") == "1", f"{lang}/{name}: {role} did not change by keyboard"
            check(f"{role} 2")
    assert not errors, errors
    assert not context.third_party, context.third_party


CONTRAST = """(root) => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => [r, g, b].map(channel).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (el) => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
    if (rgb(c).length < 4 || rgb(c)[3] > 0) return rgb(c).slice(0, 3); } return [255, 255, 255]; };
  return [...root.querySelectorAll('.ae-title, .ae-help, .ae-query, table.ae-row caption, table.ae-row th, .ae-value')]
    .map((el) => { const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
      return [el.className || el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_explorer_text_is_legible_in_light_and_dark_mode(scheme, make_context, server):
    """Every text of the explorer has a contrast of at least 4.5:1 with what is behind it (WCAG AA),
    with the reader's system in light or dark mode."""
    context = make_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(f"{server}/es/07-atencion-enmascarada.html")
    page.wait_for_function("() => document.querySelector('[data-attention-explorer].ae-ready')")
    low = [(name, round(ratio, 2)) for name, ratio in page.locator("[data-attention-explorer]").first.evaluate(CONTRAST)
           if ratio < 4.5]
    assert not low, f"{scheme} mode: contrast below 4.5:1 for {sorted(set(low))}"
