"""The two editions, their configuration, citations and build plumbing (no build needed)."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "_ext"))

import build  # noqa: E402
import i18n  # noqa: E402

PAGE = """---
kernelspec:
  name: python3
{extra}---

({label})=
# Title

```{{code-cell}} python
:tags: [{tags}]
from myst_nb import glue
glue("{glue}", 1, display=False)
```

$$ x = 1 $$ (eq-{label})

See {{cite:p}}`{cite}`.
"""


def page(label="cap", tags="hide-input", glue="value", cite="bahdanau2015neural", extra="") -> str:
    return PAGE.format(label=label, tags=tags, glue=glue, cite=cite, extra=extra)


@pytest.fixture
def editions(tmp_path, monkeypatch):
    """Two tiny editions in a temporary folder, with i18n pointed at them."""
    es, en = tmp_path / "book" / "es", tmp_path / "book" / "en"
    es.mkdir(parents=True)
    en.mkdir(parents=True)
    monkeypatch.setattr(i18n, "ES", es)
    monkeypatch.setattr(i18n, "EN", en)
    toc = "format: jb-book\nroot: index\nparts:\n  - caption: {c}\n    chapters:\n      - file: cap\n"
    (tmp_path / "_toc.yml").write_text(toc.format(c="Parte"))
    (en / "_toc.yml").write_text(toc.format(c="Part"))
    monkeypatch.setattr(i18n, "TOC", {"es": tmp_path / "_toc.yml", "en": en / "_toc.yml"})
    (es / "cap.md").write_text(page(), encoding="utf-8")
    (en / "cap.md").write_text(page(extra="translation:\n  source_sha256: x\n"), encoding="utf-8")
    return es, en


# --- the real editions ------------------------------------------------------------------


def test_every_spanish_page_has_an_english_twin_with_the_same_structure():
    assert i18n.parity_problems() == []


def test_no_english_page_is_stale():
    stale = [p.relative_to(ROOT).as_posix() for p in i18n.stale_pages()]
    assert stale == [], f"update these translations, then run `python tools/i18n.py stamp`: {stale}"


def test_both_tables_of_contents_list_every_page_once():
    for lang, toc in i18n.TOC.items():
        files = re.findall(r"(?:root|file):\s*(\S+)", toc.read_text(encoding="utf-8"))
        assert len(files) == len(set(files)), f"{toc}: a page is listed twice"
        on_disk = {p.stem for p in i18n.pages(ROOT / "book" / lang)}
        assert set(files) == on_disk, f"{toc}: pages on disk and in the TOC differ"


def test_configurations_differ_only_in_language_keys():
    def load(path: Path) -> dict:
        return yaml.safe_load(path.read_text(encoding="utf-8"))

    es, en = load(ROOT / "_config.yml"), load(ROOT / "book" / "en" / "_config.yml")
    language_keys = [
        ("title",), ("author",), ("repository", "path_to_book"), ("sphinx", "local_extensions", "bilingual"),
        ("sphinx", "config", "language"), ("sphinx", "config", "bilingual_language"),
        ("sphinx", "config", "html_theme_options", "search_bar_text"),
        # The citations' and the bibliography's own words ("and"/"y", "In"/"En"): the Spanish
        # edition names the Spanish versions of the styles (_ext/bibtex_es.py).
        ("sphinx", "config", "bibtex_reference_style"), ("sphinx", "config", "bibtex_default_style"),
    ]
    for keys in language_keys:
        a, b = es, en
        for key in keys[:-1]:
            a, b = a[key], b[key]
        assert a[keys[-1]] != b[keys[-1]] or keys[-1] == "bilingual", keys
        del a[keys[-1]], b[keys[-1]]
    assert es == en
    assert load(ROOT / "_config.yml")["sphinx"]["config"]["language"] == "es"
    assert load(ROOT / "book" / "en" / "_config.yml")["sphinx"]["config"]["language"] == "en"


def test_build_is_strict():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["raise_on_error"] is True
    assert config["execute"]["allow_errors"] is False
    source = (ROOT / "tools" / "build.py").read_text(encoding="utf-8")
    for flag in ['"-W"', '"-n"', '"--keep-going"', '"--all"']:
        assert flag in source


def _bib_keys() -> list[str]:
    text = (ROOT / "book" / "referencias.bib").read_text(encoding="utf-8")
    return re.findall(r"^@\w+\{([^,\s]+),", text, re.M)


def test_bibliography_keys_are_unique():
    keys = _bib_keys()
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert duplicates == []


def test_every_citation_resolves():
    keys = set(_bib_keys())
    cited = set()
    for path in (ROOT / "book").rglob("*.md"):
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text(encoding="utf-8")):
            cited.update(k.strip() for k in group.split(","))
    assert cited, "no citation found: the pattern is wrong"
    assert sorted(cited - keys) == []


def test_bibliography_entries_have_author_title_year():
    import pybtex.database

    database = pybtex.database.parse_file(str(ROOT / "book" / "referencias.bib"))
    for key, entry in database.entries.items():
        assert entry.persons.get("author") or entry.persons.get("editor"), key
        assert entry.fields.get("title"), key
        assert entry.fields.get("year"), key


def test_citation_files_agree():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    bib = (ROOT / "CITATION.bib").read_text(encoding="utf-8")
    assert f"title        = {{{cff['title']}}}" in bib
    assert f"version      = {{{cff['version']}}}" in bib
    assert f"year         = {{{cff['date-released'][:4]}}}" in bib
    assert f"url          = {{{cff['url']}}}" in bib
    import atencion

    assert cff["version"] == atencion.__version__


def test_glossaries_have_the_same_number_of_terms():
    def terms(lang: str) -> list[str]:
        text = (ROOT / "book" / lang / "glosario.md").read_text(encoding="utf-8")
        block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
        return re.findall(r"^(\S[^\n]*)\n  \S", block, re.M)

    es, en = terms("es"), terms("en")
    assert len(es) == len(en) > 0
    assert len(set(es)) == len(es)


def test_readme_example_runs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has no python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


# --- the tools, on tiny editions: they must fail when they should --------------------------


def test_stamped_translation_is_fresh_until_its_source_changes(editions):
    es, en = editions
    assert i18n.is_stale(en / "cap.md")
    i18n.stamp(en / "cap.md")
    assert not i18n.is_stale(en / "cap.md")
    assert i18n.main(["stale"]) == 0
    (es / "cap.md").write_text(page() + "\nUna frase nueva.\n", encoding="utf-8")
    assert i18n.is_stale(en / "cap.md")
    assert i18n.main(["stale"]) == 1
    i18n.stamp(en / "cap.md")
    assert i18n.stale_pages() == []
    assert (en / "cap.md").read_text(encoding="utf-8").count("source_sha256") == 1


def test_parity_accepts_twins(editions):
    assert i18n.parity_problems() == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (dict(label="otro"), "labels differ"),
        (dict(tags="remove-cell"), "code-cell tags differ"),
        (dict(glue="otro"), "glue names differ"),
        (dict(cite="vaswani2017attention"), "citations differ"),
    ],
)
def test_parity_reports_structural_differences(editions, change, problem):
    es, en = editions
    (en / "cap.md").write_text(page(**change), encoding="utf-8")
    assert any(problem in p for p in i18n.parity_problems())


def test_parity_reports_missing_pages_cells_and_toc_shape(editions):
    es, en = editions
    (es / "nueva.md").write_text(page(), encoding="utf-8")
    (en / "cap.md").write_text(page() + "\n```{code-cell} python\n1\n```\n", encoding="utf-8")
    (en / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: cap\n")
    problems = "\n".join(i18n.parity_problems())
    assert "nueva.md: no English page" in problems
    assert "1 code cells in es, 2 in en" in problems
    assert "differ in shape" in problems


def test_stale_notice_is_shown_on_stale_english_pages(monkeypatch):
    import bilingual

    def render(lang: str, stale: bool) -> dict:
        monkeypatch.setattr(bilingual.i18n, "is_stale", lambda page: stale)
        app = SimpleNamespace(config=SimpleNamespace(bilingual_language=lang),
                              env=SimpleNamespace(found_docs={"index"}))
        context = {"body": "<p>texto</p>", "metatags": ""}
        bilingual.html_page_context(app, "index", "page.html", context, None)
        return context

    stale = render("en", True)
    assert "translation-stale" in stale["body"] and stale["body"].endswith("<p>texto</p>")
    assert "translation-stale" not in render("en", False)["body"]
    assert "translation-stale" not in render("es", True)["body"]
    es = render("es", False)
    assert es["lang_switch_url"] == "../en/index.html"
    assert 'hreflang="en" href="../en/index.html"' in es["metatags"]
    assert 'hreflang="es" href="../es/index.html"' in es["metatags"]


def test_last_updated_is_the_sources_last_commit_in_the_pages_language(tmp_path):
    """add_last_updated dates a page by the last commit that changed its own source file, written
    as its edition writes dates; a page with no commit gets no date."""
    import subprocess

    import bilingual

    def git(*args: str, date: str = "") -> None:
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b",
                            "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b", **env})

    git("init", "-q")
    (tmp_path / "uno.md").write_text("1")
    (tmp_path / "dos.md").write_text("2")
    git("add", ".")
    git("commit", "-qm", "first", date="2025-03-09T10:00:00+00:00")
    (tmp_path / "dos.md").write_text("2, changed")
    git("commit", "-qam", "second", date="2026-12-01T10:00:00+00:00")
    (tmp_path / "tres.md").write_text("3, never committed")

    def shown(lang: str, page: str) -> str | None:
        app = SimpleNamespace(srcdir=str(tmp_path), config=SimpleNamespace(bilingual_language=lang),
                              env=SimpleNamespace(found_docs={"uno", "dos", "tres"}))
        context: dict = {}
        bilingual.add_last_updated(app, page, "page.html", context, None)
        return context.get("last_updated")

    assert shown("es", "uno") == "9 de marzo de 2025" and shown("en", "uno") == "9 March 2025"
    assert shown("es", "dos") == "1 de diciembre de 2026"
    assert shown("es", "tres") is None


def test_execution_cache_is_cleared_when_the_library_changes(tmp_path, monkeypatch):
    for entry in ["src/atencion", "_build/es/_build/.jupyter_cache"]:
        (tmp_path / entry).mkdir(parents=True)
    (tmp_path / "src/atencion/core.py").write_text("x = 1\n")
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements/constraints.txt").write_text("torch==2.13.0\n")
    monkeypatch.setattr(build, "ROOT", tmp_path)
    monkeypatch.setattr(build, "BUILD", tmp_path / "_build")
    cache = tmp_path / "_build/es/_build/.jupyter_cache"
    build.invalidate_stale_cache("es")  # no key yet: a cache of unknown origin is dropped
    assert not cache.exists()
    cache.mkdir()
    build.invalidate_stale_cache("es")  # same sources: kept
    assert cache.exists()
    (tmp_path / "src/atencion/core.py").write_text("x = 2\n")
    build.invalidate_stale_cache("es")  # library changed: dropped
    assert not cache.exists()
    cache.mkdir()
    (tmp_path / "requirements/constraints.txt").write_text("torch==2.13.0\nnumpy==2.4.6\n")
    build.invalidate_stale_cache("es")  # dependencies changed: dropped
    assert not cache.exists()
    shutil.rmtree(tmp_path / "_build")


# --------------------------------------------------------------------------- glue parity

import glue_parity  # noqa: E402


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("0.8341", "es", [0.8341]), ("0,83", "es", [0.83]), ("12\u202f345 pasos", "es", [12345.0]),
    ("96,5 % y 3", "es", [96.5, 3.0]), ("12,345 steps", "en", [12345.0]), ("96.5% and 3", "en", [96.5, 3.0]),
    ("(1, 2)", "en", [1.0, 2.0]), ("(1, 2)", "es", [1.0, 2.0]), ("1e-05", "en", [1e-05]), ("−2,5", "es", [-2.5]),
    ("nan", "en", [float("nan")]),
])
def test_glue_parity_reads_numbers_in_each_editions_notation(text, lang, expected):
    assert glue_parity.same_numbers(glue_parity.numbers(text, lang), expected)


def _notebook(path: Path, values: dict) -> Path:
    import json
    outputs = []
    for name, text in values.items():
        data = {"image/png": "iVBOR", "text/plain": text} if name.startswith("fig") else {"text/plain": text}
        scrapbook = {"name": name, "mime_prefix": glue_parity.RECORD_PREFIX}
        outputs.append({"output_type": "display_data", "metadata": {"scrapbook": scrapbook},
                        "data": {glue_parity.RECORD_PREFIX + k: v for k, v in data.items()}})
    path.write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": outputs}]}))
    return path


def test_glue_parity_catches_a_value_that_differs_between_editions(tmp_path):
    front = "---\natencion:\n  machine_dependent_glue: [\"t_*\"]\n---\n"
    es_page, en_page = tmp_path / "es.md", tmp_path / "en.md"
    es_page.write_text(front)
    en_page.write_text(front)
    es = _notebook(tmp_path / "es.ipynb",
                   {"acc": "0.965", "words": "'más rápido: 0,5'", "t_ms": "3.1", "fig-a": "<Figure>"})
    en = _notebook(tmp_path / "en.ipynb", {"acc": "0.965", "words": "'faster: 0.5'", "t_ms": "2.9", "fig-a": "<Fig>"})
    assert glue_parity.compare_page("p", es, en, es_page, en_page)[:2] == ([], 2)
    en = _notebook(tmp_path / "en.ipynb", {"acc": "0.964", "words": "'faster: 0.5'", "t_ms": "2.9", "fig-a": "<Fig>"})
    problems = glue_parity.compare_page("p", es, en, es_page, en_page)[0]
    assert problems == ["p: glue 'acc' differs: es '0.965' vs en '0.964'"]
    en_page.write_text("---\n---\n")
    problems = glue_parity.compare_page("p", es, en, es_page, en_page)[0]
    assert any("declare different" in p for p in problems)
    es_page.write_text(front.replace("t_*", "time_*"))
    assert any("matches no glued value" in p for p in glue_parity.compare_page("p", es, en, es_page, es_page)[0])


def test_glue_parity_reads_back_the_repr_of_a_glued_string():
    assert glue_parity._unrepr("'4\\u202f224'") == "4\u202f224"
    assert glue_parity.numbers(glue_parity._unrepr("'4\\u202f224'"), "es") == [4224.0]
    assert glue_parity._unrepr("0.5") == "0.5"


def test_glue_parity_reads_myst_nbs_glue_store(tmp_path):
    """myst-nb keeps a page's glue outputs in <page>.glue.json, keys without the prefix."""
    import json
    (tmp_path / "p.ipynb").write_text(json.dumps({"cells": []}))
    record = {"scrapbook": {"name": "acc", "mime_prefix": glue_parity.RECORD_PREFIX}}
    (tmp_path / "p.glue.json").write_text(json.dumps({
        "acc": {"output_type": "display_data", "metadata": record, "data": {"text/plain": "0.965"}},
        "fig-a": {"output_type": "display_data", "metadata": {"scrapbook": {"name": "fig-a", "mime_prefix": ""}},
                  "data": {"image/png": "iVBOR", "text/plain": "<Figure>"}},
    }))
    assert glue_parity.glued_values(tmp_path / "p.ipynb") == {"acc": "0.965", "fig-a": None}


def test_execution_report_gives_each_page_a_status(tmp_path, monkeypatch):
    """A page with code and no execution record failed; a page without code is said to have none."""
    monkeypatch.setattr(build, "BUILD", tmp_path)
    (tmp_path / "es").mkdir()
    report = build.write_execution_report("es")
    pages = report["pages"]
    assert pages["index"]["status"] == "failed" and pages["index"]["seconds"] is None
    assert pages["glosario"]["status"] == "no code"
    assert (tmp_path / "es" / "execution.json").exists()


# a value glued as IPython's Markdown (a table) must be shown with {glue:md} and :format: myst;
# {glue:} shows its text/plain as a paragraph, so the table's pipes reach the reader raw
_MARKDOWN_GLUE = re.compile(r"""glue\(\s*["']([\w-]+)["']\s*,\s*Markdown\(""")
_PLAIN_GLUE_DIRECTIVE = re.compile(r"^```\{glue(?::|:any)?\}\s+([\w-]+)\s*$", re.MULTILINE)


def markdown_glued_with_plain_directive(text: str) -> list[str]:
    """Names glued as ``Markdown(...)`` and shown with ``{glue:}`` / ``{glue}`` in one page."""
    markdown = set(_MARKDOWN_GLUE.findall(text))
    return sorted(name for name in _PLAIN_GLUE_DIRECTIVE.findall(text) if name in markdown)


@pytest.mark.parametrize("page", sorted((ROOT / "book").glob("*/*.md")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_glued_markdown_is_shown_as_markdown(page):
    assert markdown_glued_with_plain_directive(page.read_text(encoding="utf-8")) == []


def test_glued_markdown_check_catches_a_plain_directive():
    page = 'glue("t", Markdown(markdown_table(h, rows)), display=False)\n\n```{glue:} t\n```\n\n```{glue:md} u\n```\n'
    assert markdown_glued_with_plain_directive(page) == ["t"]
    assert markdown_glued_with_plain_directive(page.replace("{glue:} t", "{glue:md} t")) == []


def test_over_budget_names_only_the_pages_over_two_minutes():
    """The build reports each page that took longer than the page budget, and no other."""
    report = {"edition": "es", "pages": {
        "01-a": {"status": "ok", "seconds": 119.9, "executed": "x"},
        "02-b": {"status": "ok", "seconds": 121.0, "executed": "x"},
        "glosario": {"status": "no code", "seconds": None, "executed": None},
    }}
    assert build.PAGE_BUDGET_S == 120 and build.SITE_BUDGET_S == 900
    assert build.over_budget(report) == ["es/02-b executed in 121 s, over the page budget of 120 s"]
