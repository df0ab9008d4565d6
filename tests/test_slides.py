"""_ext/slides.py without a build: what a chapter's deck takes from its page, and its links."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "_ext"))

import slides  # noqa: E402

PAGE = """<html><body><article class="bd-article">
<section id="cap"><h1><span class="section-number">6. </span>Cabezas<a class="headerlink" href="#cap">#</a></h1>
<p>Intro.</p>
<section id="obj"><h2>6.1. Objetivos de aprendizaje</h2><p>Podremos:</p><ul><li>explicar</li></ul></section>
<section id="form"><h2>6.2. Formalismo</h2><p>Texto que no va.</p>
<div class="math notranslate nohighlight" id="equation-a"><span class="eqno">(6.1)</span>\\[x = y\\]</div>
<div class="math notranslate nohighlight">\\[sin número\\]</div>
<section id="sub"><h3>6.2.1. Una figura</h3>
<figure id="fig-a"><img src="_images/a.png" alt="a"><figcaption>Figura 6.1 <a href="#form">ver</a>
<a href="07-x.html#b">otro</a> <a href="https://example.org">fuera</a></figcaption></figure>
<div class="slide docutils container"><table><tr><td>0.91</td></tr></table></div>
</section></section>
<section id="res"><h2>6.3. Resumen</h2><ul><li>lo dicho</li></ul></section>
</section></article></body></html>"""


def test_deck_takes_title_objectives_numbered_equations_figures_marked_blocks_and_summary():
    document, equations, figures = slides.deck(PAGE, "06-cabezas", "es", "0123456789abcdef")
    sections = re.findall(r"<section>(.*?)</section>", document, flags=re.S)
    assert (equations, figures) == (1, 1)
    assert len(sections) == 6  # title, objectives, equation, figure, marked table, summary
    assert "6. Cabezas" in sections[0] and "0123456" in sections[0] and 'href="../06-cabezas.html"' in sections[0]
    assert "explicar" in sections[1] and "Podremos" not in sections[1]
    assert "(6.1)" in sections[2] and "sin número" not in document and "Texto que no va" not in document
    assert "6.2.1. Una figura" in sections[3]  # the figure under its own section's title
    assert 'src="../_images/a.png"' in sections[3]
    assert 'href="../#form"' not in document and 'href="#form"' in sections[3]  # in-page anchors left alone
    assert 'href="../07-x.html#b"' in sections[3] and 'href="https://example.org"' in sections[3]
    assert "0.91" in sections[4] and "lo dicho" in sections[5]
    assert "headerlink" not in document.split("<body>")[1]
    assert '<html lang="es">' in document and "../_static/reveal/reveal.js" in document
    assert "http" not in re.sub(r'href="https://example.org"', "", document.split("<body>")[0])  # no CDN


def test_english_deck_finds_its_summary():
    page = PAGE.replace("Resumen", "Summary")
    document, _, _ = slides.deck(page, "06-cabezas", "en")
    assert "lo dicho" in document and '<html lang="en">' in document
