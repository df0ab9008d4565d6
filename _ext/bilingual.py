"""Sphinx extension for the two editions of the book (Spanish source, English translation).

It adds to every page:

* a language switch in the article header that goes to the same page in the other
  edition, and ``<link rel="alternate" hreflang=...>`` tags in ``<head>``;
* on English pages, a visible notice when the Spanish source has changed since the
  translation was last brought up to date (see ``tools/i18n.py``);
* MathJax served from the site itself (``_static/mathjax``), so no page needs a CDN;
* citations and a bibliography in Spanish on Spanish pages (``bibtex_es.py``: the styles
  ``plain_es`` and ``author_year_es``, which the Spanish configuration names);
* MathJax only on the pages that hold math of their own (:func:`mathjax_only_with_math`);
* an "open issue" link that names the edition and page it comes from;
* on the search page, excerpts without the page's furniture and one result per page and
  section (``static/search-results.js``);
* on Spanish pages, a search that ignores accents: "codificacion" finds what
  "codificación" finds (:class:`SpanishSearch`, ``static/spanish-search.js``).

It also backports a Sphinx 8.2 fix (:func:`_add_inline_js_once`): under Sphinx 7.4 every
inline script that an extension adds after the builder starts (sphinx-togglebutton's,
this extension's) is written twice into every page.

Each edition is built from its own folder (``book/es``, ``book/en``) into
``<site>/es/`` and ``<site>/en/``, so a page ``X`` lives at ``<site>/<lang>/X.html``.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import sphinx
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.search import es as sphinx_search_es
from sphinx.transforms import SphinxTransform

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import i18n  # noqa: E402  (tools/i18n.py: hashes and front matter of the two editions)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bibtex_es  # noqa: E402  (the Spanish edition's citation and bibliography styles)
import buildinfo  # noqa: E402  (the build's commit; the PDF's name)

LANGUAGES = {"es": "Español", "en": "English"}
SWITCH_TITLE = {"es": "Read this page in English", "en": "Leer esta página en español"}
EXECUTION_STATUS_LABEL = {"es": "Estado de la ejecución de cada página", "en": "Execution status of every page"}
MATHJAX_SOURCE = ROOT / "node_modules" / "mathjax" / "es5"
MATHJAX_PARTS = ["tex-chtml-full.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y"]
STALE_NOTICE = {
    "title": "This translation may be out of date",
    "body": (
        "The Spanish source of this page (<a href=\"{url}\" hreflang=\"es\" lang=\"es\">{name}</a>) "
        "has changed since this translation was last checked against it."
    ),
}


def _other(lang: str) -> str:
    return "en" if lang == "es" else "es"


def _copy_mathjax(app: Sphinx) -> Path:
    """Copy the parts of MathJax 3 the site needs into the build folder; return that folder."""
    target = Path(app.outdir).parent / "vendor"
    if not MATHJAX_SOURCE.is_dir():
        raise RuntimeError(
            "MathJax is missing: run `npm ci` in the repository root (the Makefile does it)."
        )
    for part in MATHJAX_PARTS:
        src, dst = MATHJAX_SOURCE / part, target / "mathjax" / part
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    return target


def config_inited(app: Sphinx, config: Any) -> None:
    lang = config.bilingual_language
    if lang not in LANGUAGES:
        raise ValueError(f"bilingual_language: expected one of {sorted(LANGUAGES)}, got {lang!r}")
    here = Path(__file__).resolve().parent
    config.templates_path = [str(here / "templates"), *config.templates_path]  # before the themes' components
    config.html_static_path = [*config.html_static_path, str(here / "static"), str(_copy_mathjax(app))]
    config.html_css_files = [*config.html_css_files, "bilingual.css"]
    config.mathjax_path = "mathjax/tex-chtml-full.js"
    # html_baseurl names the site, the same in both configurations; each edition lives in its
    # own folder of it (Sphinx then writes <link rel="canonical"> to <site>/<lang>/<page>.html).
    if config.html_baseurl:
        base = config.html_baseurl.rstrip("/") + "/"
        config.html_baseurl = base if base.endswith(f"/{lang}/") else f"{base}{lang}/"
    # Sphinx resolves locale_dirs against the source folder for its message catalogs but
    # looks for the scripts' catalog (LC_MESSAGES/sphinx.js, which searchtools.js speaks
    # through) relative to the working directory: make them absolute so both find ours.
    config.locale_dirs = [str((Path(app.srcdir) / d).resolve()) for d in config.locale_dirs]
    options = dict(config.html_theme_options)
    items = list(options.get("article_header_end", ["article-header-buttons.html"]))
    if "lang-switch.html" not in items:
        items.append("lang-switch.html")
    options["article_header_end"] = items
    # The foot of every page links to the execution status page (status.py).
    footer = list(options.get("footer_content_items",
                              ["author.html", "copyright.html", "last-updated.html", "extra-footer.html"]))
    if "execution-status-link.html" not in footer:
        footer.append("execution-status-link.html")
    options["footer_content_items"] = footer
    config.html_theme_options = options


def html_page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    lang = app.config.bilingual_language
    other = _other(lang)
    depth = pagename.count("/")
    to_site_root = "../" * (depth + 1)
    if pagename not in app.env.found_docs:  # generated pages (search, genindex) exist in both
        other_page = pagename
    elif (ROOT / "book" / other / f"{pagename}.md").exists():
        other_page = pagename
    else:
        other_page = "index"
    other_url = f"{to_site_root}{other}/{other_page}.html"
    own_url = f"{to_site_root}{lang}/{pagename}.html"
    context["lang_switch_url"] = other_url
    context["lang_switch_code"] = other
    context["lang_switch_label"] = LANGUAGES[other]
    context["lang_switch_title"] = SWITCH_TITLE[lang]
    context["execution_status_label"] = EXECUTION_STATUS_LABEL[lang]
    alternates = [
        f'<link rel="alternate" hreflang="{lang}" href="{html.escape(own_url)}" />',
        f'<link rel="alternate" hreflang="{other}" href="{html.escape(other_url)}" />',
    ]
    context["metatags"] = context.get("metatags", "") + "\n" + "\n".join(alternates)

    if lang == "en" and "body" in context:
        page = ROOT / "book" / "en" / f"{pagename}.md"
        if page.exists() and i18n.is_stale(page):
            source = f"{to_site_root}es/{pagename}.html"
            notice = (
                '<div class="admonition warning translation-stale" role="note">'
                f'<p class="admonition-title">{STALE_NOTICE["title"]}</p>'
                f'<p>{STALE_NOTICE["body"].format(url=html.escape(source), name=html.escape(pagename))}</p>'
                "</div>"
            )
            context["body"] = notice + context["body"]


MONTHS = {"es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                  "octubre", "noviembre", "diciembre"],
          "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                 "October", "November", "December"]}


def format_date(date: datetime, lang: str) -> str:
    """A date as each edition writes it: «3 de diciembre de 2026», "3 December 2026"."""
    month = MONTHS[lang][date.month - 1]
    return f"{date.day} de {month} de {date.year}" if lang == "es" else f"{date.day} {month} {date.year}"


def git_dates(folder: Path) -> dict[str, datetime]:
    """The date of the last commit that changed each file under ``folder`` (paths relative to it,
    without the suffix): one ``git log`` for the whole edition. Empty outside a git checkout, and
    a shallow clone dates every file by its one commit (the workflow checks out the whole history)."""
    try:
        out = subprocess.run(["git", "log", "--format=%x00%cI", "--name-only", "--relative", "--", "."],
                             cwd=folder, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    dates: dict[str, datetime] = {}
    for commit in out.split("\x00")[1:]:
        stamp, *files = commit.strip().splitlines()
        for name in files:
            if name.strip():
                dates.setdefault(str(Path(name.strip()).with_suffix("")), datetime.fromisoformat(stamp))
    return dates


def add_last_updated(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """"Last updated" at the foot of each page: the date of the last commit that changed the page's
    own source, in the page's language (the theme's footer shows ``last_updated``)."""
    if not hasattr(app, "_bilingual_dates"):
        app._bilingual_dates = git_dates(Path(app.srcdir))
    date = app._bilingual_dates.get(pagename)
    if date is not None and pagename in app.env.found_docs:
        context["last_updated"] = format_date(date, app.config.bilingual_language)


OG_LOCALE = {"es": "es_ES", "en": "en_US"}
DESCRIPTION_LENGTH = 200  # characters, about what search engines show


def page_description(doctree: Any) -> str:
    """The page's first paragraph of prose (no math, no lead-in to a list; not in a list, a
    table, a note or a code cell's output), cut at a word within ``DESCRIPTION_LENGTH``
    characters."""
    if doctree is None:
        return ""
    skip = (nodes.table, nodes.footnote, nodes.citation, nodes.Admonition, nodes.container, nodes.sidebar,
            nodes.list_item, nodes.definition_list, nodes.field_list, nodes.topic)
    for para in doctree.findall(nodes.paragraph):
        if any(isinstance(parent, skip) for parent in _ancestors(para)) or next(iter(para.findall(nodes.math)), None):
            continue
        text = " ".join(para.astext().split())
        if len(text) < 40 or text.endswith(":"):  # too short to say anything, or a list's lead-in
            continue
        if len(text) > DESCRIPTION_LENGTH:
            text = text[: DESCRIPTION_LENGTH - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return text
    return ""


def _ancestors(node: Any):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def add_page_metadata(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """<meta name="description"> and OpenGraph's og:* (link previews) in every page's <head>."""
    lang = app.config.bilingual_language
    title = html.unescape(re.sub(r"<[^>]+>", "", context.get("title") or "")).strip()
    site = app.config.html_title or context.get("docstitle", "")
    description = page_description(doctree)
    tags = [("og:type", "website"), ("og:site_name", site), ("og:title", title or site),
            ("og:locale", OG_LOCALE[lang]), ("og:locale:alternate", OG_LOCALE[_other(lang)])]
    if context.get("pageurl"):
        tags.append(("og:url", context["pageurl"]))
    lines = [f'<meta property="{key}" content="{html.escape(value)}" />' for key, value in tags if value]
    if description:
        lines.insert(0, f'<meta name="description" content="{html.escape(description)}" />')
        lines.append(f'<meta property="og:description" content="{html.escape(description)}" />')
    context["metatags"] = context.get("metatags", "") + "\n" + "\n".join(lines)


# sphinx-book-theme's header buttons (header_buttons/source.py) ask its "booktheme" catalog
# for msgids that its Spanish catalog lacks.
HEADER_BUTTONS_ES = {
    "Repository": "Repositorio",
    "Suggest edit": "Sugerir un cambio",
    "Open issue": "Abrir un problema",
    "Source repositories": "Repositorios de origen",
    # ... and its Spanish catalog writes this one without its accent ("Descarga esta pagina").
    "Download this page": "Descargar esta página",
    "Descarga esta pagina": "Descargar esta página",
}


# The issue that the "open issue" button starts names the edition and the page it comes from
# (sphinx-book-theme's own says "Issue on page /X.html", in English, with no edition).
ISSUE = {
    "es": ("[es] Problema en la página «{title}» ({page})",
           "Edición: española\nPágina: {url}\n\nDescribe aquí el problema."),
    "en": ("[en] Issue on the page «{title}» ({page})",
           "Edition: English\nPage: {url}\n\nDescribe the issue here."),
}


def _issue_url(app: Sphinx, pagename: str, context: dict, url: str) -> str:
    lang = app.config.bilingual_language
    page = f"{lang}/{pagename}.html"
    title = html.unescape(re.sub(r"<[^>]+>", "", context.get("title") or "")).strip() or pagename
    address = context.get("pageurl") or page
    issue_title, body = (text.format(title=title, page=page, url=address) for text in ISSUE[lang])
    return f"{url.split('?', 1)[0]}?{urlencode({'title': issue_title, 'body': body}, quote_via=quote)}"


PDF_TOOLTIP = {"es": "Descargar el libro entero en PDF", "en": "Download the whole book as a PDF"}


def fix_header_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """The header buttons in the page's language, and an issue link that names the edition and page."""
    spanish = app.config.bilingual_language == "es"

    def fix(buttons: list[dict]) -> None:
        for button in buttons:
            if button.get("label") == "source-issues-button" and isinstance(button.get("url"), str):
                button["url"] = _issue_url(app, pagename, context, button["url"])
            if button.get("label") == "download-pdf-button":  # the book's PDF, not the print dialog
                lang = app.config.bilingual_language
                button.update(type="link", url=context["pathto"](buildinfo.PDF_NAME[lang], 1),
                              tooltip=PDF_TOOLTIP[lang])
                button.pop("javascript", None)
            for key in ("tooltip", "text", "label"):
                if spanish and isinstance(button.get(key), str) and button[key] in HEADER_BUTTONS_ES:
                    button[key] = HEADER_BUTTONS_ES[button[key]]
            fix(button.get("buttons", []))

    fix(context.get("header_buttons", []))


# Strings that myst-nb (sphinx_.py: hidden cells) and sphinx-proof (directive.py: prf:proof)
# write into the article in English whatever the language.
BODY_ES = {
    ">Show code cell source<": ">Mostrar el código<",
    ">Hide code cell source<": ">Ocultar el código<",
    ">Show code cell output<": ">Mostrar la salida<",
    ">Hide code cell output<": ">Ocultar la salida<",
    ">Show code cell outputs<": ">Mostrar las salidas<",
    ">Hide code cell outputs<": ">Ocultar las salidas<",
    ">Show code cell content<": ">Mostrar la celda<",
    ">Hide code cell content<": ">Ocultar la celda<",
    '<div class="proof admonition" id="proof">\n<p>Proof. ':
        '<div class="proof admonition" id="proof">\n<p>Demostración. ',
}


# myst-nb names the <summary> of a hidden cell "Toggle hidden content" whatever it shows
# ("Show code cell source"): a screen reader then announces a name unlike the visible label
# (WCAG 2.5.3). Without aria-label its name is the visible label, in the page's language.
SUMMARY_LABEL = '<summary aria-label="Toggle hidden content">'


# docutils gives each bibliography entry the role doc-biblioentry, which DPUB-ARIA 1.1
# deprecates: assistive technology (and axe-core) then sees no items in the bibliography's
# role="list", only the links inside its entries. listitem is the role that replaces it.
BIBLIOENTRY_ROLE = ('role="doc-biblioentry"', 'role="listitem"')


def translate_body(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if "body" in context:
        context["body"] = context["body"].replace(SUMMARY_LABEL, "<summary>").replace(*BIBLIOENTRY_ROLE)
    if app.config.bilingual_language == "es" and "body" in context:
        for english, spanish in BODY_ES.items():
            context["body"] = context["body"].replace(english, spanish)


# sphinx-togglebutton's togglebutton.js gives its buttons aria-label="Toggle hidden content".
RELABEL_TOGGLES_ES = (
    "document.addEventListener('DOMContentLoaded', () => document.querySelectorAll("
    "'button.toggle-button[aria-label=\"Toggle hidden content\"]').forEach("
    "(b) => b.setAttribute('aria-label', 'Mostrar u ocultar')));"
)


def add_spanish_scripts(app: Sphinx) -> None:
    if app.config.bilingual_language == "es":
        app.add_js_file(None, body=RELABEL_TOGGLES_ES)
        app.add_js_file("spanish-search.js")


# --------------------------------------------------------------------------- Spanish search

# Readers often type Spanish without its accents. Folding them (á → a, ü → u; ñ stays ñ)
# before stemming, on the words indexed and on the words typed alike, makes "codificacion"
# and "codificación" one term. Snowball's Spanish stemmer strips some suffixes only with
# their accent ("-ación", "-ución", "-logía"): those are put back on the folded word, so
# that "codificación" and "codificaciones" still share their stem. SPANISH_STEMMER_JS does
# the same in the browser (foldSpanish, canonicalSpanish, in language_data.js): the two must
# agree, and tests/site/test_site_search.py checks that they do. static/spanish-search.js
# folds accents in the rest of the search (titles, glossary entries, excerpts).
_FOLD_ES = str.maketrans("áéíóúàèìòùäëïöüâêîôû", "aeiouaeiouaeiouaeiou")
_REACCENT_ES = ((re.compile(r"cion$"), "ción"), (re.compile(r"logia(s?)$"), r"logía\1"))


def canonical_spanish(word: str) -> str:
    """``word`` lower-cased, without accents, with the accent of a stemmed suffix put back."""
    word = word.lower().translate(_FOLD_ES)
    for pattern, replacement in _REACCENT_ES:
        word = pattern.sub(replacement, word)
    return word


_SPANISH_JS_DIR = Path(sphinx.__file__).parent / "search" / "minified-js"
SPANISH_STEMMER_JS = """
/* Spanish search: accents folded before Snowball's Spanish stemmer (see _ext/bilingual.py). */
var foldSpanish = (text) => text.replace(/[áéíóúàèìòùäëïöüâêîôû]/g,
  (c) => "aeiouaeiouaeiouaeiou"["áéíóúàèìòùäëïöüâêîôû".indexOf(c)]);
var canonicalSpanish = (word) =>
  foldSpanish(word.toLowerCase()).replace(/cion$/, "ción").replace(/logia(s?)$/, "logía$1");
var Stemmer = function () {
  const spanish = new SpanishStemmer();
  this.stemWord = (word) => spanish.stemWord(canonicalSpanish(word));
};
"""


class SpanishSearch(sphinx_search_es.SearchSpanish):
    """Sphinx's Spanish search language, blind to accents (see ``canonical_spanish``)."""

    js_stemmer_rawcode = ""  # the stemmer's code is js_stemmer_code: Snowball's, then the wrapper
    js_stemmer_code = "\n".join(
        [(_SPANISH_JS_DIR / name).read_text(encoding="utf-8") for name in ("base-stemmer.js", "spanish-stemmer.js")]
        + [SPANISH_STEMMER_JS]
    )

    def stem(self, word: str) -> str:
        return self.stemmer.stemWord(canonical_spanish(word))


# --------------------------------------------------------------------------- page weight

def mathjax_only_with_math(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """MathJax (1.3 MB) only on pages with math of their own.

    Sphinx's mathjax extension adds it where the math domain's ``has_equations(page)`` holds,
    which counts the pages of the page's toctree too: the home page, whose toctree lists the
    chapters, loaded MathJax to typeset nothing. Runs after it (priority 600 > 500).
    """
    if app.builder.format != "html" or app.builder.name == "singlehtml" or "script_files" not in context:
        return  # (the single page holds every chapter's math)
    own = app.env.get_domain("math").data["has_equations"].get(pagename, False)
    if own:
        return
    mathjax = {app.config.mathjax_path, f"_static/{app.config.mathjax_path}"}  # as given, as the builder files it
    context["script_files"][:] = [
        js for js in context["script_files"]
        if not (getattr(js, "filename", None) in mathjax
                or (not getattr(js, "filename", None)
                    and str(getattr(js, "attributes", {}).get("body", "")).startswith("window.MathJax")))
    ]


# --------------------------------------------------------------------------- attention explorer

def add_attention_explorer(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """The explorer's script and style (static/attention-explorer.*) on the pages that show one
    (atencion.explorer writes ``data-attention-explorer`` into a cell's output)."""
    if "data-attention-explorer" not in context.get("body", ""):
        return
    from sphinx.builders.html._assets import _CascadingStyleSheet, _JavaScript

    context["css_files"] = [*context.get("css_files", []), _CascadingStyleSheet("_static/attention-explorer.css")]
    context["script_files"] = [*context.get("script_files", []),
                               _JavaScript("_static/attention-explorer.js", defer="defer")]


# --------------------------------------------------------------------------- search results

def add_search_results_script(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """``search-results.js`` on the search page: excerpts from the article, not the page's
    furniture, and one result per page and section."""
    if pagename == "search":
        app.builder.add_js_file("search-results.js")


# --------------------------------------------------------------------------- Sphinx backport

def _add_inline_js_once() -> None:
    """Backport of Sphinx 8.2's fix (sphinx-doc/sphinx#13402) to Sphinx 7.4.

    ``Sphinx.add_js_file(None, body=...)`` after the builder is initialised hands the builder
    a script whose file name is ``None``; when the builder prepares writing it adds the
    registry's copy again as ``""``, which it does not recognise as the same script. Every
    such inline script is then written twice into every page (sphinx-thebe's ``const
    THEBE_JS_URL`` then threw on its second copy).
    """
    if sphinx.version_info >= (8, 2) or getattr(StandaloneHTMLBuilder.add_js_file, "_inline_once", False):
        return
    original = StandaloneHTMLBuilder.add_js_file

    def add_js_file(self: StandaloneHTMLBuilder, filename: str | None, **kwargs: Any) -> None:
        original(self, filename or "", **kwargs)

    add_js_file._inline_once = True  # type: ignore[attr-defined]
    StandaloneHTMLBuilder.add_js_file = add_js_file  # type: ignore[method-assign]


class VerbatimText(SphinxTransform):
    """Text quoted from a corpus keeps its characters: inside a ``container`` with the class
    ``verbatim-text`` smart quotes are off, so an apostrophe that is a letter (the glottal
    stop of Hñähñu's orthography) stays ``'`` and ``...`` stays three dots, exactly the
    string a metric scored. Runs before Sphinx's smart quotes (priority 750)."""

    default_priority = 740

    def apply(self, **kwargs: Any) -> None:
        for node in self.document.findall(nodes.container):
            if "verbatim-text" in node["classes"]:
                node["support_smartquotes"] = False


def singlehtml_handlers(app: Sphinx) -> None:
    """The single-page build (the PDF's source) writes every node the HTML build writes.

    Sphinx looks up a node's visitors by the builder's name and falls back to its format
    ("html") only when no extension registered any for that name; sphinx-exercise registers
    its nodes for "singlehtml", so myst-nb's, sphinx-proof's, ... were missing there."""
    handlers = app.registry.translation_handlers
    if "singlehtml" in handlers:
        for node, visitors in handlers.get("html", {}).items():
            handlers["singlehtml"].setdefault(node, visitors)


def setup(app: Sphinx) -> dict[str, Any]:
    _add_inline_js_once()
    bibtex_es.register()
    app.setup_extension("status")  # the execution status page (status.py)
    app.setup_extension("notebooks")  # executed notebooks to download, Colab and Binder (notebooks.py)
    app.setup_extension("slides")  # a reveal.js deck per chapter (slides.py)
    app.add_search_language(SpanishSearch)
    app.add_transform(VerbatimText)
    app.add_config_value("bilingual_language", "es", "env")
    app.connect("config-inited", config_inited)
    app.connect("html-page-context", html_page_context)
    app.connect("html-page-context", add_page_metadata)
    app.connect("html-page-context", fix_header_buttons, priority=900)
    app.connect("html-page-context", mathjax_only_with_math, priority=600)
    app.connect("html-page-context", add_search_results_script)
    app.connect("html-page-context", translate_body)
    app.connect("html-page-context", add_last_updated)
    app.connect("html-page-context", add_attention_explorer)
    app.connect("builder-inited", add_spanish_scripts)
    app.connect("builder-inited", singlehtml_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
