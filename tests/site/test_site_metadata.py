"""What the site tells browsers and search engines: favicon, canonical address, description
and OpenGraph tags, robots.txt and a sitemap of both editions; landmarks of the landing pages."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.site

REPO = Path(__file__).resolve().parents[2]
SITE_URL = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["html"]["baseurl"].rstrip("/") + "/"
OG_LOCALE = {"es": "es_ES", "en": "en_US"}
# Pages that no search engine needs (and that have no prose to describe).
GENERATED = {"search.html", "genindex.html"}
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def _head(tree) -> dict[str, list[str]]:
    """``{"canonical": [...], "icon": [...], "og:url": [...], "description": [...]}`` from <head>."""
    found: dict[str, list[str]] = {}
    for node in tree.iter():
        if node.tag == "link":
            for rel in node.attrs.get("rel", "").split():
                found.setdefault(rel, []).append(node.attrs.get("href", ""))
        elif node.tag == "meta":
            key = node.attrs.get("property") or node.attrs.get("name")
            if key:
                found.setdefault(key, []).append(node.attrs.get("content", ""))
    return found


def test_landing_pages_have_a_main_landmark_and_a_favicon(site_dir, html_tree):
    """index.html and 404.html: one <main> (screen readers jump to it) and a favicon."""
    problems = []
    for name in ("index.html", "404.html"):
        tree = html_tree(site_dir / name)
        mains = [n for n in tree.iter() if n.tag == "main"]
        if len(mains) != 1:
            problems.append(f"  {name}: {len(mains)} <main> elements (expected 1)")
        if not _head(tree).get("icon"):
            problems.append(f"  {name}: no <link rel=icon>")
    if problems:
        pytest.fail("landing pages:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_has_a_favicon_that_exists(lang, pages, site_dir, html_tree):
    """Every page names an SVG favicon, and the file is there (no 404 for /favicon.ico)."""
    problems = []
    for name in pages[lang]:
        page = site_dir / lang / name
        icons = _head(html_tree(page)).get("icon", [])
        if len(icons) != 1:
            problems.append(f"  {lang}/{name}: {len(icons)} <link rel=icon>")
            continue
        target = (page.parent / icons[0]).resolve()
        if not target.is_file() or target.suffix != ".svg":
            problems.append(f"  {lang}/{name}: favicon {icons[0]!r} is not an SVG file of the site")
    if problems:
        pytest.fail("favicons:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_canonical_description_and_opengraph(lang, pages, site_dir, html_tree):
    """Each page names its own address as canonical and og:url (under html.baseurl), and has
    og:title, og:locale and, where it has prose, a description of at most 200 characters."""
    problems = []
    for name in pages[lang]:
        head = _head(html_tree(site_dir / lang / name))
        expected = f"{SITE_URL}{lang}/{name}"
        for key in ("canonical", "og:url"):
            if head.get(key) != [expected]:
                problems.append(f"  {lang}/{name}: {key} {head.get(key)} (expected [{expected!r}])")
        if not [t for t in head.get("og:title", []) if t.strip()]:
            problems.append(f"  {lang}/{name}: no og:title")
        if head.get("og:locale") != [OG_LOCALE[lang]]:
            problems.append(f"  {lang}/{name}: og:locale {head.get('og:locale')}")
        if name in GENERATED:
            continue
        descriptions = head.get("description", [])
        if len(descriptions) != 1 or not 40 <= len(descriptions[0]) <= 200:
            problems.append(f"  {lang}/{name}: description {descriptions}")
        elif head.get("og:description") != descriptions:
            problems.append(f"  {lang}/{name}: og:description differs from the description")
        elif re.search(r"\\[a-z]+\{|\$", descriptions[0]):
            problems.append(f"  {lang}/{name}: raw TeX in the description {descriptions[0]!r}")
    if problems:
        pytest.fail("page metadata:\n" + "\n".join(problems), pytrace=False)


def test_robots_txt_names_the_sitemap(site_dir):
    robots = site_dir / "robots.txt"
    assert robots.is_file(), "no robots.txt at the site's root"
    lines = robots.read_text(encoding="utf-8").splitlines()
    assert f"Sitemap: {SITE_URL}sitemap.xml" in lines, f"robots.txt does not name {SITE_URL}sitemap.xml:\n{lines}"
    assert "Disallow: /" not in lines, "robots.txt shuts search engines out"


def test_sitemap_lists_every_page_with_its_twin(site_dir, pages):
    """sitemap.xml lists every page of both editions (search and index pages aside) at its
    address under html.baseurl, each with hreflang alternates for itself and its twin."""
    path = site_dir / "sitemap.xml"
    assert path.is_file(), "no sitemap.xml at the site's root"
    root = ET.parse(path).getroot()
    listed, problems = {}, []
    for url in root.findall("s:url", SITEMAP_NS):
        loc = url.findtext("s:loc", namespaces=SITEMAP_NS)
        listed[loc] = {link.get("hreflang"): link.get("href") for link in url.findall("x:link", SITEMAP_NS)}
    expected = {f"{SITE_URL}{lang}/{name}" for lang in ("es", "en") for name in pages[lang] if name not in GENERATED}
    if missing := sorted(expected - listed.keys()):
        problems.append(f"  pages missing: {missing}")
    if extra := sorted(set(listed) - expected):
        problems.append(f"  addresses that are not pages of the site: {extra}")
    for loc, alternates in sorted(listed.items()):
        name = loc.rsplit("/", 1)[-1]
        for lang in ("es", "en"):
            twin = f"{SITE_URL}{lang}/{name}"
            if twin in expected and alternates.get(lang) != twin:
                problems.append(f"  {loc}: hreflang={lang} {alternates.get(lang)!r} (expected {twin!r})")
    if problems:
        pytest.fail("sitemap.xml:\n" + "\n".join(problems), pytrace=False)


# "Last updated" in each edition's words (the Spanish line comes from _ext/locale, the English one
# from the theme), with the date as each edition writes it.
LAST_UPDATED = {"es": "Última actualización: {}.", "en": "Last updated on {}."}
MONTHS = {"es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
          "en": "January February March April May June July August September October November December"}


def _written(date: str, lang: str) -> str:
    year, month, day = (int(part) for part in date[:10].split("-"))
    name = MONTHS[lang].split()[month - 1]
    return f"{day} de {name} de {year}" if lang == "es" else f"{day} {name} {year}"


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_says_when_its_source_last_changed(lang, pages, site_dir):
    """Each page built from a committed source shows at its foot, in its language, the date of the
    last commit that changed that source (not of the build, nor of the other edition's page)."""
    import html as html_lib
    import subprocess

    problems, checked = [], 0
    for name in pages[lang]:
        source = REPO / "book" / lang / name.replace(".html", ".md")
        if not source.exists():
            continue  # generated pages (search, index of terms)
        date = subprocess.run(["git", "log", "-1", "--format=%cI", "--", str(source)], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
        if not date:
            continue  # not committed yet
        checked += 1
        expected = LAST_UPDATED[lang].format(_written(date, lang))
        found = re.findall(r'<p class="last-updated">(.*?)</p>', (site_dir / lang / name).read_text(encoding="utf-8"),
                           flags=re.S)
        shown = [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", text)).split()) for text in found]
        if shown != [expected]:
            problems.append(f"  {lang}/{name}: {shown} (expected [{expected!r}])")
    if checked < 15:
        problems.append(f"  only {checked} pages have a committed source: is this a git checkout?")
    if problems:
        pytest.fail("last updated:\n" + "\n".join(problems), pytrace=False)
