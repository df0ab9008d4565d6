"""Slides for each chapter, in each edition, made from the chapter's own page.

After the HTML build, every numbered chapter gets ``_slides/<chapter>.html``: a reveal.js deck
(reveal.js from npm, served by the site; MathJax the site's own; no request leaves the site)
whose slides are taken from the built page itself, so there is no second copy to keep in sync:

* the title (with its number), the edition and a link to the chapter;
* the learning objectives (the first list of the first section);
* for each section, every numbered equation and every figure in it, under the section's title;
* anything the chapter marks for slides: an element with the class ``slide`` (in MyST, a
  ``:::{container} slide`` block, or ``:class: slide`` on a directive that takes one);
* the summary (the list of the section that holds the word of ``SUMMARY``).

The deck navigates by keyboard (arrows, space, Home/End), shows slide numbers and keeps the
slide in the address (``#/3``), so an instructor can link to one.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
REVEAL = ROOT / "node_modules" / "reveal.js" / "dist"
REVEAL_FILES = ["reveal.js", "reveal.css", "theme/serif.css"]
FOLDER = "_slides"
CHAPTER = re.compile(r"^\d\d-")
TEXT = {
    "es": {"edition": "Mecanismos de atención · edición en español", "read": "Leer el capítulo",
           "summary": "Resumen", "objectives": "Objetivos de aprendizaje", "slides": "Diapositivas",
           "tooltip": "Diapositivas del capítulo", "label": "Diapositivas: {title}"},
    "en": {"edition": "Attention Mechanisms · English edition", "read": "Read the chapter",
           "summary": "Summary", "objectives": "Learning objectives", "slides": "Slides",
           "tooltip": "Slides of the chapter", "label": "Slides: {title}"},
}
STYLE = """
.reveal { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 30px; }
.reveal h1, .reveal h2, .reveal h3 { font-family: inherit; text-transform: none; }
.reveal h1 { font-size: 1.9em; margin-top: 2em; } .reveal h2 { font-size: 1.3em; } .reveal h3 { font-size: 1em; }
.reveal .slides section { text-align: left; padding: 0 48px; box-sizing: border-box; }
.reveal figure { margin: 0; text-align: center; }
.reveal figure img { max-height: 560px; max-width: 100%; width: auto; margin: 0 auto; }
.reveal figcaption { font-size: .5em; text-align: left; line-height: 1.35; }
.reveal .math { font-size: .9em; overflow-x: auto; padding-top: 1em; }
.reveal .eqno { display: block; text-align: right; font-size: .7em; color: #555; }
.reveal .headerlink { display: none; }
.reveal ul { font-size: .75em; } .reveal li { margin-bottom: .35em; }
.reveal .deck-meta { font-size: .6em; color: #444; }
.reveal .slide-context { font-size: .5em; color: #555; margin-bottom: .2em; }
"""


def _relink(fragment: str) -> str:
    """URLs of a page fragment, for a deck one folder deeper (``_slides/``)."""

    def fix(match: re.Match) -> str:
        attribute, quote, url = match.group(1), match.group(2), match.group(3)
        if re.match(r"^(?:[a-z]+:|//|#|/)", url):
            return match.group(0)
        return f"{attribute}={quote}../{url}{quote}"

    fragment = re.sub(r'\b(href|src)=(["\'])([^"\']*)\2', fix, fragment)
    return fragment


def _slide(content: str, context: str = "") -> str:
    head = f'<p class="slide-context">{html.escape(context)}</p>' if context else ""
    return f"<section>{head}{content}</section>"


def deck(page: str, docname: str, lang: str, commit: str = "") -> tuple[str, int, int]:
    """The deck of one chapter from its built page: ``(html, equations, figures)``."""
    from bs4 import BeautifulSoup

    words = TEXT[lang]
    soup = BeautifulSoup(page, "html.parser")
    article = soup.select_one("article.bd-article")
    chapter = article.find("section")
    h1 = chapter.find("h1")
    for link in soup.select("a.headerlink"):
        link.decompose()
    title = " ".join(h1.get_text(" ").split())
    slides = [_slide(f"<h1>{html.escape(title)}</h1>"
                     f'<p class="deck-meta">{html.escape(words["edition"])}'
                     + (f" · commit <code>{html.escape(commit[:7])}</code>" if commit else "")
                     + f'</p><p class="deck-meta"><a href="../{docname}.html">{html.escape(words["read"])}</a></p>')]
    equations = figures = 0
    sections = chapter.find_all("section", recursive=False)
    for index, section in enumerate(sections):
        heading = section.find(["h2"])
        name = " ".join(heading.get_text(" ").split()) if heading else ""
        lists = section.find_all(["ul", "ol"], recursive=False)
        if index == 0 and lists:  # the learning objectives
            slides.append(_slide(f"<h2>{html.escape(name)}</h2>{_relink(str(lists[0]))}"))
            continue
        if words["summary"].lower() in name.lower() and lists:
            slides.append(_slide(f"<h2>{html.escape(name)}</h2>{_relink(str(lists[0]))}"))
            continue
        for element in section.find_all(["div", "figure", "table", "section"]):
            classes = element.get("class") or []
            sub = element.find_parent("section")
            sub_heading = sub.find(["h2", "h3", "h4"]) if sub is not None else None
            context = " ".join(sub_heading.get_text(" ").split()) if sub_heading else name
            if element.name == "div" and "math" in classes and element.find("span", class_="eqno"):
                equations += 1
                slides.append(_slide(_relink(str(element)), context))
            elif element.name == "figure" and element.find("img") and not element.find_parent("figure"):
                figures += 1
                slides.append(_slide(_relink(str(element)), context))
            elif "slide" in classes:
                slides.append(_slide(_relink(str(element)), context))
    body = "\n".join(slides)
    label = words["label"].format(title=title)
    document = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(label)}</title>
<link rel="icon" href="../_static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="../_static/reveal/reveal.css">
<link rel="stylesheet" href="../_static/reveal/theme/serif.css">
<style>{STYLE}</style>
</head>
<body>
<div class="reveal" role="region" aria-label="{html.escape(label)}"><div class="slides">
{body}
</div></div>
<script src="../_static/reveal/reveal.js"></script>
<script>window.MathJax = {{"options": {{"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}},
  "startup": {{"pageReady": () => MathJax.startup.defaultPageReady().then(() => Reveal.layout())}}}};</script>
<script defer src="../_static/mathjax/tex-chtml-full.js"></script>
<script>
Reveal.initialize({{hash: true, slideNumber: "c/t", keyboard: true, center: false, width: 1280, height: 800}});
</script>
</body>
</html>
"""
    return document, equations, figures


def copy_reveal(outdir: Path) -> None:
    if not REVEAL.is_dir():
        raise RuntimeError("reveal.js is missing: run `npm ci` in the repository root (the Makefile does it).")
    for name in REVEAL_FILES:
        target = outdir / "_static" / "reveal" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REVEAL / name, target)


def chapters(app: Sphinx) -> list[str]:
    return sorted(doc for doc in app.env.found_docs if CHAPTER.match(doc))


def write_decks(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "html":
        return
    import buildinfo

    outdir = Path(app.outdir)
    copy_reveal(outdir)
    lang = app.config.bilingual_language
    for doc in chapters(app):
        page = (outdir / f"{doc}.html").read_text(encoding="utf-8")
        document, _, _ = deck(page, doc, lang, buildinfo.commit().sha)
        target = outdir / FOLDER / f"{doc}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(document, encoding="utf-8")


def add_button(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """A "slides" entry in each chapter's download menu."""
    if not CHAPTER.match(pagename):
        return
    words = TEXT[app.config.bilingual_language]
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].append({"type": "link", "url": f"{context['pathto'](FOLDER, 1)}/{pagename}.html",
                                     "text": words["slides"], "icon": "fas fa-person-chalkboard",
                                     "tooltip": words["tooltip"], "label": "slides-button"})


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", add_button, priority=850)
    app.connect("build-finished", write_decks)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
