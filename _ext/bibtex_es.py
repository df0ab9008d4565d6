"""Spanish citations and bibliography for the Spanish edition (sphinxcontrib-bibtex, pybtex).

pybtex's styles and sphinxcontrib-bibtex's reference styles write their own words in English:
"Hochreiter and Schmidhuber [1997]" in the text, "In Proceedings of ...", "pages", "Technical
Report" in the bibliography. This module registers two plugins that say them in Spanish, which
the Spanish configuration (``_config.yml``) names and the English one does not:

* ``plain_es`` (``bibtex_default_style``): pybtex's ``plain`` with its words translated;
* ``author_year_es`` (``bibtex_reference_style``): sphinxcontrib-bibtex's ``author_year``
  joining authors with «y» and no serial comma.

«et al.» is Latin and stays, as Spanish style guides write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pybtex.plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.formatting.unsrt import pages
from pybtex.style.template import Node, optional, words
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

# Every English string that pybtex's plain (unsrt) templates write, as the templates write it.
WORDS_ES = {
    " and ": " y ",
    ", and ": " y ",
    "In": "En",
    "pages": "pp.",
    "chapter": "cap.",
    "editor": "ed.",
    "editors": "eds.",
    "Volume": "Vol.",
    "volume": "vol.",
    "of": "de",
    "Number": "Núm.",
    "number": "núm.",
    "in": "en",
    "edition": "edición",
    "Technical Report": "Informe técnico",
    "PhD thesis": "Tesis doctoral",
    "Master's thesis": "Tesis de maestría",
    " (visited on ": " (consultado el ",
}


def _translate(template: Any) -> Any:
    """``template`` (a pybtex template) with its literal words in Spanish; field names (the
    arguments of ``field(...)``) are left as they are. The pages of a paper in proceedings or
    a collection, bare numbers in English ("volume 30, 5998–6008"), take «pp.» as an
    article's do ("vol. 30, pp. 5998–6008")."""
    if isinstance(template, Node) and template.name == "optional" and template.children == [pages]:
        return optional[words["pp.", pages]]
    if isinstance(template, str):
        return WORDS_ES.get(template, template)
    if isinstance(template, Node):
        copy = Node(template.name, template.f)
        copy.args = list(template.args)
        copy.kwargs = {key: _translate(value) for key, value in template.kwargs.items()}
        copy.children = [_translate(child) for child in template.children]
        return copy
    return template


class SpanishPlainStyle(PlainStyle):
    """pybtex's ``plain`` style in Spanish: «y», «En», «pp.», «Informe técnico»..."""

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if name.startswith("get_") and name.endswith("_template") and callable(attribute):
            return lambda entry: _translate(attribute(entry))
        return attribute


@dataclass
class SpanishAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year citations with «y»: "Hochreiter y Schmidhuber [1997]"."""

    person: PersonStyle = field(default_factory=lambda: PersonStyle(sep2=" y ", last_sep=" y "))


def register() -> None:
    pybtex.plugin.register_plugin("pybtex.style.formatting", "plain_es", SpanishPlainStyle)
    register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_es", SpanishAuthorYearReferenceStyle)
