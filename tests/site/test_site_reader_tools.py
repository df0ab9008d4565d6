"""What the site gives a reader beyond the pages: the execution status page (``_ext/status.py``)."""

from __future__ import annotations

import html as html_lib
import json
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

REPO = Path(__file__).resolve().parents[2]
STATUS = {"es": {"ok": "✓ sin errores", "now": "en esta construcción", "link": "Estado de la ejecución de cada página"},
          "en": {"ok": "✓ no errors", "now": "in this build", "link": "Execution status of every page"}}


def _text(fragment: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _status_rows(page: str) -> dict[str, list[str]]:
    """``{page: [cell texts]}`` from the status table, in the table's order."""
    rows = re.findall(r'<tr class="[^"]*" id="execution-([^"]+)">(.*?)</tr>', page, flags=re.S)
    return {name: [_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)] for name, row in rows}


def _toc_order(lang: str) -> list[str]:
    import yaml

    toc = yaml.safe_load((REPO / ("_toc.yml" if lang == "es" else "book/en/_toc.yml")).read_text(encoding="utf-8"))
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


@pytest.mark.parametrize("lang", ["es", "en"])
def test_execution_status_page_lists_every_page_with_code(lang, site_dir):
    """ejecucion.html: one row per notebook page (a kernel in its front matter), in the table of contents' order, each
    run without errors, with the time the build recorded (execution.json) and, for the pages
    executed in this build, the commit of this checkout; the build line names the commit and
    atencion's version."""
    import importlib.metadata

    page = (site_dir / lang / "ejecucion.html").read_text(encoding="utf-8")
    rows = _status_rows(page)
    with_code = [name for name in _toc_order(lang)
                 if "\nkernelspec:" in (REPO / "book" / lang / f"{name}.md").read_text(encoding="utf-8")]
    problems = []
    if list(rows) != with_code:
        problems.append(f"  rows {list(rows)}\n  expected the notebook pages, in order: {with_code}")
    report = REPO / "_build" / lang / "execution.json"
    times = json.loads(report.read_text(encoding="utf-8"))["pages"] if report.exists() else {}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    for name, cells in rows.items():
        status, seconds, executed, commit = cells[1], cells[2], cells[3], cells[4]
        if status != STATUS[lang]["ok"]:
            problems.append(f"  {name}: status {status!r}")
        recorded = times.get(name, {}).get("seconds")
        if recorded is not None and not re.fullmatch(r"\d+\.\d", seconds):  # the book's decimal point
            problems.append(f"  {name}: {seconds!r} is not written as the book writes numbers (12.3)")
        elif recorded is not None and abs(float(seconds) - recorded) > 0.051:
            problems.append(f"  {name}: {seconds} s on the page, {recorded} s in execution.json")
        if STATUS[lang]["now"] in executed and not commit.startswith(head[:7]):
            problems.append(f"  {name}: executed in this build at commit {commit!r}, but HEAD is {head[:7]}")
    build = _text(re.search(r'<p class="execution-build">(.*?)</p>', page, flags=re.S).group(1))
    version = importlib.metadata.version("atencion")
    if head[:7] not in build or f"atencion {version}" not in build:
        problems.append(f"  build line {build!r} does not name commit {head[:7]} and atencion {version}")
    if problems:
        pytest.fail(f"{lang}/ejecucion.html:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_links_to_the_execution_status_page(lang, pages, site_dir):
    """The foot of every page links, in the page's language, to the execution status page."""
    problems = []
    for name in pages[lang]:
        page = site_dir / lang / name
        links = re.findall(r'<p class="execution-status-link"><a href="([^"]+)">([^<]+)</a>',
                           page.read_text(encoding="utf-8"))
        href = links[0][0].split("#")[0] if links else ""
        target = (page.parent / href).resolve() if href else page.resolve()  # "#": the status page itself
        if len(links) != 1 or links[0][1] != STATUS[lang]["link"] or target != (site_dir / lang / "ejecucion.html"):
            problems.append(f"  {lang}/{name}: {links}")
    if problems:
        pytest.fail("execution status links:\n" + "\n".join(problems), pytrace=False)
