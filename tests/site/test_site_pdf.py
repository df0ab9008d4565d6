"""The book's PDF, one per edition (tools/pdf.py): linked from every page, every chapter in it, in
order and bookmarked, figures embedded, the math typeset (no TeX left as typed), and the title page
naming the commit that built it."""

from __future__ import annotations

import html as html_lib
import re
import subprocess
import sys
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from conftest import RAW_TEX

pytestmark = pytest.mark.site

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "_ext"))
import buildinfo  # noqa: E402  (the PDF's name)


def _squash(text: str) -> str:
    """Text without whitespace (a PDF's bookmarks and lines join a wrapped title without its space)
    or ligatures (the PDF's text writes "eﬃcient" with one glyph for "ffi")."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@cache
def _pdf(site: Path, lang: str):
    pypdf = pytest.importorskip("pypdf")
    path = site / lang / buildinfo.PDF_NAME[lang]
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make pdf` after `make book`", pytrace=False)
    reader = pypdf.PdfReader(path)
    return reader, [page.extract_text() or "" for page in reader.pages]


def _chapters(site: Path, lang: str) -> list[str]:
    """The numbered chapters' titles as their pages show them ("6. Cabezas de atención"), in order."""
    import yaml

    toc = yaml.safe_load((REPO / ("_toc.yml" if lang == "es" else "book/en/_toc.yml")).read_text(encoding="utf-8"))
    titles = []
    for part in toc["parts"]:
        for chapter in part["chapters"] if part.get("numbered") else []:
            page = (site / lang / f"{chapter['file']}.html").read_text(encoding="utf-8")
            # the article's own h1, numbered (the page's print header has the title without its number)
            h1 = re.search(r'<h1><span class="section-number">(.*?)<a class="headerlink"', page, flags=re.S).group(1)
            titles.append(" ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", h1)).split()))
    return titles


def _bookmarks(reader) -> list[tuple[str, int]]:
    found = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found.append((item.title, reader.get_destination_page_number(item)))

    walk(reader.outline)
    return found


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_links_to_the_pdf(lang, pages, site_dir):
    """The ".pdf" entry of each page's download menu opens the edition's PDF (not the print dialog)."""
    assert (site_dir / lang / buildinfo.PDF_NAME[lang]).exists(), "no PDF: run `make pdf` after `make book`"
    problems, pdf = [], (site_dir / lang / buildinfo.PDF_NAME[lang]).resolve()
    for name in pages[lang]:
        page = site_dir / lang / name
        if not (REPO / "book" / lang / name).with_suffix(".md").exists():
            continue  # generated pages (search) have no download menu
        links = re.findall(r'<a href="([^"]+)"[^>]*\n?[^>]*class="btn btn-sm btn-download-pdf-button',
                           page.read_text(encoding="utf-8"))
        if [(page.parent / link).resolve() for link in links] != [pdf]:
            problems.append(f"  {lang}/{name}: {links}")
    if problems:
        pytest.fail("PDF links:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_pdf_has_every_chapter_in_order(lang, site_dir):
    """Every numbered chapter is a bookmark, at its own page, in the book's order; the pages number
    at least ten per chapter; each chapter's title is printed on the page its bookmark opens."""
    reader, texts = _pdf(site_dir, lang)
    chapters = _chapters(site_dir, lang)
    bookmarks = {_squash(title): page for title, page in _bookmarks(reader)}
    problems = []
    missing = [title for title in chapters if _squash(title) not in bookmarks]
    if missing:
        problems.append(f"  no bookmark for {missing}")
    else:
        starts = [bookmarks[_squash(title)] for title in chapters]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            problems.append(f"  chapters start at pages {starts}: not one after the other")
        for title, start in zip(chapters, starts):
            if _squash(title) not in _squash(texts[start]):
                problems.append(f"  {title!r} is not printed on page {start + 1}, where its bookmark goes")
    if len(reader.pages) < 10 * len(chapters):
        problems.append(f"  {len(reader.pages)} pages for {len(chapters)} chapters")
    if problems:
        pytest.fail(f"{lang} PDF:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_pdf_math_is_typeset_and_figures_embedded(lang, site_dir):
    """No TeX command is left as typed in the PDF's text (MathJax typeset every equation; code writes
    TeX with a doubled backslash), and it embeds at least as many images as the chapters have figures."""
    reader, texts = _pdf(site_dir, lang)
    raw = [(number + 1, match.group()) for number, text in enumerate(texts) for match in RAW_TEX.finditer(text)]
    figures = set()
    for page in sorted((site_dir / lang).glob("[0-9][0-9]-*.html")):
        figures |= set(re.findall(r'<figure[^>]*>\s*<img[^>]*src="([^"]+)"', page.read_text(encoding="utf-8")))
    images = set()
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for name, ref in (resources.get("/XObject") or {}).items():
            if ref.get_object().get("/Subtype") == "/Image":
                images.add(ref.idnum if hasattr(ref, "idnum") else name)
    problems = [f"  page {number}: {command}" for number, command in raw[:20]]
    if len(images) < len(figures):
        problems.append(f"  {len(images)} images embedded, {len(figures)} figures in the chapters")
    if problems:
        pytest.fail(f"{lang} PDF:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_pdf_title_page_names_the_commit(lang, site_dir):
    reader, texts = _pdf(site_dir, lang)
    head = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert head in texts[0], f"the {lang} PDF's first page does not name commit {head}:\n{texts[0][:500]}"
    assert reader.metadata.title == {"es": "Mecanismos de atención", "en": "Attention Mechanisms"}[lang]
