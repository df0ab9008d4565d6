"""Static checks of the built HTML (no browser): internal links, anchors, image alt texts."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import RAW_TEX

pytestmark = pytest.mark.site

# Attributes that hold a URL the browser follows or loads (None: on any element).
URL_ATTRIBUTES = {"href": None, "src": None, "action": {"form"}, "poster": {"video"}, "data": {"object"}}


def _urls(node):
    """(attribute, url) for every URL in an element's attributes, ``srcset`` included."""
    for attribute, tags in URL_ATTRIBUTES.items():
        if attribute in node.attrs and (tags is None or node.tag in tags):
            yield attribute, node.attrs[attribute].strip()
    for candidate in node.attrs.get("srcset", "").split(","):
        if candidate.strip():
            yield "srcset", candidate.split()[0]


def site_pages(site: Path) -> list[Path]:
    """Every page of the site: the landing pages and both editions (not the theme's asset folders)."""
    return sorted(
        p for p in site.rglob("*.html") if not any(part.startswith("_") for part in p.relative_to(site).parts)
    )


def _target(site: Path, page: Path, url: str) -> tuple[Path, str] | None:
    """The file and fragment an internal URL points to; None for URLs this check ignores."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:  # http(s)://, mailto:, data:, javascript:, //host/...
        return None
    if not parts.path:
        return (page, unquote(parts.fragment)) if parts.fragment else None  # "#x" (same page); bare "#" is ignored
    if parts.path.startswith("/"):  # site-absolute
        rel = posixpath.normpath(unquote(parts.path).lstrip("/") or ".")
    else:
        rel = posixpath.normpath(posixpath.join(page.parent.relative_to(site).as_posix(), unquote(parts.path)))
    if rel == ".." or rel.startswith("../"):
        return site.parent / "(outside the site)" / rel, ""
    target = site / rel
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def _ids(tree) -> set[str]:
    ids = set()
    for node in tree.iter():
        if "id" in node.attrs:
            ids.add(node.attrs["id"])
        if node.tag == "a" and "name" in node.attrs:
            ids.add(node.attrs["name"])
    return ids


def _is_book_page(site: Path, path: Path) -> bool:
    rel = path.relative_to(site).parts
    return path.suffix == ".html" and not any(part.startswith("_") for part in rel)


def test_internal_links_and_anchors_resolve(site_dir, html_tree):
    """Every relative or site-absolute href/src names a file of the site; every #fragment into
    one of the book's pages names an id there (fragments into _static assets are not checked)."""
    site = site_dir.resolve()
    problems, ids = [], {}
    for page in site_pages(site):
        for node in html_tree(page).iter():
            for attribute, url in _urls(node):
                if not url or url == "#":
                    continue
                found = _target(site, page, url)
                if found is None:
                    continue
                target, fragment = found
                where = f"  {page.relative_to(site)}: {node.describe()} {attribute}={url!r}"
                if not target.is_relative_to(site):
                    problems.append(f"{where} leaves the site")
                    continue
                if not target.is_file():
                    problems.append(f"{where} -> missing {target.relative_to(site)}")
                elif fragment and _is_book_page(site, target):
                    if target not in ids:
                        ids[target] = _ids(html_tree(target))
                    if fragment not in ids[target]:
                        problems.append(f"{where} -> no id={fragment!r} in {target.relative_to(site)}")
    if problems:
        pytest.fail(f"{len(problems)} broken internal links:\n" + "\n".join(problems), pytrace=False)


# Pages that no link needs to reach: the 404 page, which the server shows for a missing address.
UNLINKED_BY_DESIGN = {"404.html"}


def test_every_page_is_reachable_from_the_landing_page(site_dir, html_tree):
    """Every page of the site can be reached from the landing page by links a reader can follow
    (``<a href>``, a form's action). Sphinx's genindex.html could not: only a ``<link
    rel="index">`` in each page's head and the language switch of its own twin led to it."""
    site = site_dir.resolve()
    all_pages = {p.resolve() for p in site_pages(site)}
    reached, todo = set(), [(site / "index.html").resolve()]
    while todo:
        page = todo.pop()
        if page in reached or page not in all_pages:
            continue
        reached.add(page)
        for node in html_tree(page).iter():
            if node.tag not in {"a", "area", "form"}:
                continue
            for _, url in _urls(node):
                found = _target(site, page, url) if url and url != "#" else None
                if found is not None and found[0].resolve() not in reached:
                    todo.append(found[0].resolve())
    orphans = sorted(p.relative_to(site).as_posix() for p in all_pages - reached)
    orphans = [o for o in orphans if o not in UNLINKED_BY_DESIGN]
    if orphans:
        pytest.fail("pages that no chain of links from the landing page reaches:\n"
                    + "\n".join(f"  {o}" for o in orphans), pytrace=False)


def test_images_have_alt_text(site_dir, html_tree):
    """Every <img> of the book's pages has a non-empty alt text."""
    site = site_dir.resolve()
    problems = [
        f"  {page.relative_to(site)}: <img src={node.attrs.get('src', '')!r}> has no alt text"
        for page in site_pages(site)
        for node in html_tree(page).iter()
        if node.tag == "img" and not node.attrs.get("alt", "").strip()
    ]
    if problems:
        pytest.fail("images without alt text:\n" + "\n".join(problems), pytrace=False)


def test_images_alt_text_is_not_the_file_name(site_dir, html_tree):
    """An image whose source gives no alt text gets its own path as alt from docutils
    (``alt = node.get('alt', uri)``): that is no description. Code-cell plots need
    ``mystnb: image: alt: ...`` in the cell metadata (or a ``{glue:figure}``/``{figure}``
    with ``:alt:``)."""
    site = site_dir.resolve()
    problems = [
        f"  {page.relative_to(site)}: <img src={src!r}> has its path as alt text"
        for page in site_pages(site)
        for node in html_tree(page).iter()
        if node.tag == "img"
        and (src := node.attrs.get("src", "").strip())
        and node.attrs.get("alt", "").strip() in {src, src.rsplit("/", 1)[-1]}
    ]
    if problems:
        pytest.fail("images without a real alt text:\n" + "\n".join(problems), pytrace=False)


def test_cross_reference_texts_have_no_raw_tex(site_dir):
    """A reference takes its text from the title it points to; a title with math then showed its TeX
    (``¿Por qué dividir entre \\sqrt{d_k}?``) in every link to it, where MathJax does not typeset."""
    problems = []
    for page in site_pages(site_dir):
        text = page.read_text(encoding="utf-8")
        for reference in re.findall(r'<span class="std std-(?:ref|numref)">(.*?)</span>', text, flags=re.S):
            if RAW_TEX.search(reference):
                problems.append(f"  {page.relative_to(site_dir)}: {reference!r}")
    if problems:
        pytest.fail("references with raw TeX:\n" + "\n".join(sorted(set(problems))), pytrace=False)
