"""The execution status page: how each page's code ran in the build that made the site.

The directive ``{execution-status}`` (in ``book/<lang>/ejecucion.md``) becomes, once every
page has been read and executed, a line on the build (its commit, the versions of
``atencion``, PyTorch and Python, and when it ran) and a table with one row per page with
code: its status, execution time, when it ran, whether in this build or reused from the
execution cache, and the commit it ran at.

myst-nb records each page's execution (``NbMetadataCollector``); a page reused from the
cache keeps the date of its execution. The commit a page ran at is not in the cache:
this extension keeps it in ``atencion-commits.json`` inside the cache folder, so that it is
emptied and restored with the cache (tools/build.py empties the cache when the library or
the pinned dependencies change, so a reused page ran the same code as this commit).
"""

from __future__ import annotations

import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import buildinfo
from docutils import nodes
from myst_nb.sphinx_ import NbMetadataCollector
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

MARK = "has_execution_status"
RECORD = "atencion-commits.json"

TEXT = {
    "es": {
        "build": "Esta construcción: commit {commit}, atencion {atencion}, PyTorch {torch}, Python {python}, "
                 "el {date} a las {time} UTC.",
        "total": "Tiempo de ejecución de todas las páginas: {seconds} s.",
        "headers": ["Página", "Estado", "Tiempo (s)", "Ejecutada (UTC)", "Commit"],
        "ok": "✓ sin errores", "failed": "✗ falló ({error})",
        "now": "en esta construcción", "cache": "de la caché",
        "dirty": "con cambios sin confirmar", "unknown": "desconocido",
        "caption": "Ejecución de cada página con código",
    },
    "en": {
        "build": "This build: commit {commit}, atencion {atencion}, PyTorch {torch}, Python {python}, "
                 "on {date} at {time} UTC.",
        "total": "Execution time of all pages: {seconds} s.",
        "headers": ["Page", "Status", "Time (s)", "Executed (UTC)", "Commit"],
        "ok": "✓ no errors", "failed": "✗ failed ({error})",
        "now": "in this build", "cache": "from the cache",
        "dirty": "with uncommitted changes", "unknown": "unknown",
        "caption": "Execution of each page with code",
    },
}


class ExecutionStatusNode(nodes.General, nodes.Element):
    """Placeholder for the status table, filled once every page has executed."""


class ExecutionStatus(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        NbMetadataCollector.set_doc_data(self.env, self.env.docname, MARK, True)
        return [ExecutionStatusNode()]


def _record_path(app: Sphinx) -> Path | None:
    config = getattr(app.env, "mystnb_config", None)  # myst-nb resolves the cache's folder at builder-inited
    cache = getattr(config, "execution_cache_path", "") if config is not None else ""
    return Path(cache) / RECORD if cache else None


def builder_inited(app: Sphinx) -> None:
    app._status_started = time.time()


def record_commits(app: Sphinx, env: Any) -> list[str]:
    """After every page is read: note the commit of each page executed in this build (beside the
    cache), and have the status page rewritten."""
    path = _record_path(app)
    record: dict[str, dict] = {}
    if path is not None and path.exists():
        record = json.loads(path.read_text(encoding="utf-8"))
    head = buildinfo.commit()
    started = getattr(app, "_status_started", 0.0)
    metadata = NbMetadataCollector.get_doc_data(env)
    for docname, data in metadata.items():
        run = data.get("exec_data")
        if run and run["mtime"] >= started:  # executed now, not reused from the cache
            record[docname] = {"commit": head.sha, "dirty": head.dirty, "mtime": run["mtime"]}
    if path is not None and path.parent.is_dir():
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    app._status_record = record
    return [docname for docname, data in metadata.items() if data.get(MARK)]


def _commit_reference(app: Sphinx, sha: str, dirty: bool, lang: str) -> list[nodes.Node]:
    if not sha:
        return [nodes.Text(TEXT[lang]["unknown"])]
    repository = app.config.html_theme_options.get("repository_url", "").rstrip("/")
    label = nodes.literal(text=sha[:7])
    out: list[nodes.Node] = [nodes.reference("", "", label, refuri=f"{repository}/commit/{sha}")
                             if repository else label]
    if dirty:
        out.append(nodes.Text(f" ({TEXT[lang]['dirty']})"))
    return out


def _date(stamp: float, lang: str) -> tuple[str, str]:
    from bilingual import format_date

    moment = datetime.fromtimestamp(stamp, UTC)
    return format_date(moment, lang), moment.strftime("%H:%M")


def _reading_order(app: Sphinx) -> list[str]:
    """Every page in the order of the table of contents (the root first), then any other."""
    includes = app.env.toctree_includes
    order: list[str] = []

    def visit(docname: str) -> None:
        if docname not in order:
            order.append(docname)
            for child in includes.get(docname, []):
                visit(child)

    visit(app.config.root_doc)
    return order + sorted(set(app.env.found_docs) - set(order))


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}"  # a decimal point in both editions, as atencion.fmt.number writes every number


def status_nodes(app: Sphinx, docname: str) -> list[nodes.Node]:
    lang = app.config.bilingual_language
    words = TEXT[lang]
    head = buildinfo.commit()
    metadata = NbMetadataCollector.get_doc_data(app.env)
    record = getattr(app, "_status_record", {})
    started = getattr(app, "_status_started", time.time())
    date, clock = _date(started, lang)

    build = nodes.paragraph(classes=["execution-build"])
    before, after = words["build"].split("{commit}")
    build += nodes.Text(before)
    build.extend(_commit_reference(app, head.sha, head.dirty, lang))
    build += nodes.Text(after.format(atencion=buildinfo.version("atencion"), torch=buildinfo.version("torch"),
                                     python=platform.python_version(), date=date, time=clock))

    table = nodes.table(classes=["execution-status", "colwidths-auto"], ids=["execution-status-table"])
    table += nodes.title(text=words["caption"])
    group = nodes.tgroup(cols=5)
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in range(5))
    header = nodes.row()
    header.extend(nodes.entry("", nodes.paragraph(text=text)) for text in words["headers"])
    group += nodes.thead("", header)
    body = nodes.tbody()
    group += body
    total = 0.0
    pages = [name for name in _reading_order(app) if metadata.get(name, {}).get("exec_data")]
    for page in pages:
        run = metadata[page]["exec_data"]
        total += run["runtime"] or 0.0
        link = pending_xref("", nodes.inline(text=page), refdoc=docname, reftarget="/" + page, reftype="doc",
                            refdomain="std", refexplicit=False, refwarn=True)
        status = words["ok"] if run["succeeded"] else words["failed"].format(error=run["error"] or "?")
        when = datetime.fromtimestamp(run["mtime"], UTC).strftime("%Y-%m-%d %H:%M")
        how = words["now"] if run["mtime"] >= started else words["cache"]
        ran = record.get(page, {})
        commit = (_commit_reference(app, ran["commit"], ran.get("dirty", False), lang)
                  if ran and abs(ran.get("mtime", 0) - run["mtime"]) < 1 else [nodes.Text(words["unknown"])])
        cells = [nodes.paragraph("", "", link), nodes.paragraph(text=status),
                 nodes.paragraph(text=_seconds(run["runtime"])),
                 nodes.paragraph(text=f"{when} ({how})"), nodes.paragraph("", "", *commit)]
        row = nodes.row(classes=["execution-ok" if run["succeeded"] else "execution-failed"])
        row.extend(nodes.entry("", cell) for cell in cells)
        row["ids"] = [f"execution-{page}"]
        body += row
    summary = nodes.paragraph(text=words["total"].format(seconds=_seconds(total)), classes=["execution-total"])
    return [build, table, summary]


class ExecutionStatusTransform(SphinxPostTransform):
    default_priority = 8  # before the references are resolved (10): the page links are pending_xref

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(ExecutionStatusNode)):
            node.replace_self(status_nodes(self.app, self.env.docname))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_node(ExecutionStatusNode)
    app.add_directive("execution-status", ExecutionStatus)
    app.add_post_transform(ExecutionStatusTransform)
    app.connect("builder-inited", builder_inited)
    app.connect("env-updated", record_commits)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
