"""Sphinx extension for the two editions of the book (Spanish source, English translation).

It adds to every page:

* a language switch in the article header that goes to the same page in the other
  edition, and ``<link rel="alternate" hreflang=...>`` tags in ``<head>``;
* on English pages, a visible notice when the Spanish source has changed since the
  translation was last brought up to date (see ``tools/i18n.py``);
* MathJax served from the site itself (``_static/mathjax``), so no page needs a CDN.

Each edition is built from its own folder (``book/es``, ``book/en``) into
``<site>/es/`` and ``<site>/en/``, so a page ``X`` lives at ``<site>/<lang>/X.html``.
"""

from __future__ import annotations

import html
import shutil
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import i18n  # noqa: E402  (tools/i18n.py: hashes and front matter of the two editions)

LANGUAGES = {"es": "Español", "en": "English"}
SWITCH_TITLE = {"es": "Read this page in English", "en": "Leer esta página en español"}
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
    options = dict(config.html_theme_options)
    items = list(options.get("article_header_end", ["article-header-buttons.html"]))
    if "lang-switch.html" not in items:
        items.append("lang-switch.html")
    options["article_header_end"] = items
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


# sphinx-book-theme's header buttons (header_buttons/source.py) ask its "booktheme" catalog
# for msgids that its Spanish catalog lacks.
HEADER_BUTTONS_ES = {
    "Repository": "Repositorio",
    "Suggest edit": "Sugerir un cambio",
    "Open issue": "Abrir un problema",
    "Source repositories": "Repositorios de origen",
}


def translate_header_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if app.config.bilingual_language != "es":
        return

    def fix(buttons: list[dict]) -> None:
        for button in buttons:
            for key in ("tooltip", "text", "label"):
                if isinstance(button.get(key), str) and button[key] in HEADER_BUTTONS_ES:
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
    'aria-label="Toggle hidden content"': 'aria-label="Mostrar u ocultar"',
    '<div class="proof admonition" id="proof">\n<p>Proof. ': '<div class="proof admonition" id="proof">\n<p>Demostración. ',
}


def translate_body(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
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


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("bilingual_language", "es", "env")
    app.connect("config-inited", config_inited)
    app.connect("html-page-context", html_page_context)
    app.connect("html-page-context", translate_header_buttons, priority=900)
    app.connect("html-page-context", translate_body)
    app.connect("builder-inited", add_spanish_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
