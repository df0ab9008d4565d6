"""Each page with code, as an executed notebook to download or open in Colab or Binder.

After a build, every page that myst-nb executed is written to
``<edition>/_notebooks/<page>.ipynb``: the executed notebook (outputs included, the glued
figures and tables shown where their cell made them), with two cells put first:

* a header in the page's language: which page and edition it is, the commit that built it
  and its date, and that its prose is MyST Markdown (roles such as ``{glue:text}`` read
  best on the site);
* an install cell (tagged ``atencion-install``): when ``atencion`` is missing it installs it
  from the repository at the exact commit that built the page, without its dependencies,
  and then installs only those of the library's dependencies (and myst-nb, which ``glue``
  comes from) that are missing, so a hosted service keeps its own PyTorch.

Each page's header gets a ".ipynb" entry in its download menu and a launch menu: Colab
opens the page's notebook from the repository's ``notebooks`` branch (the workflow pushes
there the notebooks of each build of ``main``), and Binder builds that branch, whose
``requirements.txt`` installs the library's dependencies with PyTorch's CPU build.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import buildinfo
import nbformat
from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "_notebooks"
BRANCH = "notebooks"  # the branch the workflow pushes the notebooks of main to (Colab and Binder open it)
INSTALL_TAG = "atencion-install"
MODULES = {"scikit-learn": "sklearn", "myst-nb": "myst_nb"}  # distribution -> module, where they differ

TEXT = {
    "es": {
        "header": (
            "# {title}\n\n"
            "Cuaderno **ejecutado** del capítulo «{title}» del libro *Mecanismos de atención* (edición en español): "
            "<{url}>. Lo construyó el commit [`{short}`]({commit_url}) el {date}, y sus salidas son las de esa "
            "construcción.\n\n"
            "La primera celda instala lo que falte para ejecutarlo (en Colab, en Binder o en tu máquina): la "
            "biblioteca `atencion` en ese mismo commit y las dependencias que no estén ya instaladas. El texto "
            "está en MyST Markdown: las referencias, las citas y los valores calculados (`{{glue:text}}`) se leen "
            "mejor en la página web."
        ),
        "install": "# Instala la biblioteca del libro en el commit que construyó esta página, si falta,\n"
                   "# y solo las dependencias que falten (un servicio como Colab conserva su PyTorch).",
        "root": "# con permisos de root, como en Colab",
        "espeak": "# Este capítulo sintetiza voz con eSpeak NG (un programa, no un paquete de Python).",
        "espeak_missing": "Falta eSpeak NG: instálalo (Debian/Ubuntu: apt-get install espeak-ng) y vuelve a ejecutar.",
        "download": "Descargar el cuaderno ejecutado",
        "launch": "Ejecutar el cuaderno en línea",
        "launch_on": "Abrir en",
    },
    "en": {
        "header": (
            "# {title}\n\n"
            "The **executed** notebook of the chapter \"{title}\" of the book *Attention Mechanisms* (English "
            "edition): <{url}>. It was built by commit [`{short}`]({commit_url}) on {date}, and its outputs are "
            "that build's.\n\n"
            "The first cell installs what is missing to run it (on Colab, on Binder or on your machine): the "
            "`atencion` library at that same commit and whichever dependencies are not installed yet. The text "
            "is MyST Markdown: references, citations and computed values (`{{glue:text}}`) read best on the web "
            "page."
        ),
        "install": "# Installs the book's library at the commit that built this page, if it is missing,\n"
                   "# and only the dependencies that are missing (a service such as Colab keeps its PyTorch).",
        "root": "# as root, as on Colab",
        "espeak": "# This chapter synthesises speech with eSpeak NG (a program, not a Python package).",
        "espeak_missing": "eSpeak NG is missing: install it (Debian/Ubuntu: apt-get install espeak-ng) and run again.",
        "download": "Download the executed notebook",
        "launch": "Run the notebook online",
        "launch_on": "Open in",
    },
}


def requirements() -> dict[str, str]:
    """``module -> requirement`` for what a page's code imports beyond the standard library:
    the library's dependencies (pyproject.toml) and myst-nb (``glue``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    specs += [s for s in project["optional-dependencies"]["book"] if s.startswith("myst-nb")]
    out = {}
    for spec in specs:
        name = re.match(r"[A-Za-z0-9_.-]+", spec).group()
        out[MODULES.get(name, name.replace("-", "_"))] = spec
    return out


def repository(app: Sphinx) -> str:
    return app.config.html_theme_options.get("repository_url", "").rstrip("/")


def install_source(app: Sphinx, lang: str, sha: str, speech: bool) -> str:
    """The install cell: ``atencion`` at ``sha`` when missing, then the missing dependencies."""
    words = TEXT[lang]
    needed = json.dumps(requirements(), indent=4, ensure_ascii=False).replace("\n}", ",\n}")
    lines = [
        words["install"],
        "import importlib.util",
        "import subprocess",
        "import sys",
        "",
        f'COMMIT = "{sha}"',
        f'LIBRARY = f"atencion @ git+{repository(app)}@{{COMMIT}}"',
        f"NEEDED = {needed}",
        "if importlib.util.find_spec(\"atencion\") is None:",
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"--quiet\", \"--no-deps\", LIBRARY], "
        "check=True)",
        "missing = [spec for module, spec in NEEDED.items() if importlib.util.find_spec(module) is None]",
        "if missing:",
        "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"--quiet\", *missing], check=True)",
    ]
    if speech:
        lines += [
            "",
            words["espeak"],
            "import os",
            "import shutil",
            "",
            "if shutil.which(\"espeak-ng\") is None:",
            f"    if shutil.which(\"apt-get\") and os.geteuid() == 0:  {words['root']}",
            "        subprocess.run(\"apt-get update -qq && apt-get install -y -qq espeak-ng\", shell=True,",
            "                       check=True)",
            "    else:",
            f"        print({json.dumps(words['espeak_missing'], ensure_ascii=False)})",
        ]
    return "\n".join(lines)


def page_url(app: Sphinx, docname: str) -> str:
    return f"{app.config.html_baseurl}{docname}.html"


SHOWN = ("image/", "text/markdown", "text/html")  # glued figures and tables: shown where their cell made them


def with_glue_outputs(app: Sphinx, docname: str, executed: Path) -> nbformat.NotebookNode:
    """myst-nb's executed notebook lacks the outputs of ``glue`` (it keeps them apart, in
    ``<page>.glue.json``), and the book glues every figure and table: take the executed notebook
    from the execution cache instead, where every output is in its cell. A glued figure or table
    becomes an ordinary output (shown in Jupyter, marked ``metadata.atencion.glue``); a glued
    value stays a hidden record, as ``glue(..., display=False)`` left it."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook
    from myst_nb.core.utils import coalesce_streams

    source = read_myst_markdown_notebook(Path(app.env.doc2path(docname)).read_text(encoding="utf-8"))
    try:
        _, nb = get_cache(app.env.mystnb_config.execution_cache_path).merge_match_into_notebook(source)
    except KeyError as error:
        raise RuntimeError(f"{docname}: its executed notebook is not in the execution cache") from error
    reference = nbformat.read(executed, as_version=4)
    nb.metadata = reference.metadata
    for cell in nb.cells:
        if cell.cell_type == "code":  # printed text in one block per stream, as the page shows it
            cell.outputs = coalesce_streams(cell.outputs)
        for index, output in enumerate(cell.get("outputs", [])):
            record = output.get("metadata", {}).get("scrapbook")
            prefix = (record or {}).get("mime_prefix", "")
            data = {key.removeprefix(prefix): value for key, value in output.get("data", {}).items()}
            if record and any(key.startswith(SHOWN) for key in data):
                cell.outputs[index] = nbformat.v4.new_output("display_data", data=data,
                                                             metadata={"atencion": {"glue": record["name"]}})
    return nb


def make_notebook(app: Sphinx, docname: str, executed: Path) -> nbformat.NotebookNode:
    """The downloadable notebook of one page, from myst-nb's executed notebook and its glued outputs."""
    lang = app.config.bilingual_language
    nb = with_glue_outputs(app, docname, executed)
    head = buildinfo.commit()
    title = app.env.titles[docname].astext()
    date = datetime.now(UTC)
    from bilingual import format_date

    header = nbformat.v4.new_markdown_cell(TEXT[lang]["header"].format(
        title=title, url=page_url(app, docname), short=head.short, commit_url=f"{repository(app)}/commit/{head.sha}",
        date=format_date(date, lang)))
    speech = any("synthesize" in cell.source for cell in nb.cells if cell.cell_type == "code")
    install = nbformat.v4.new_code_cell(install_source(app, lang, head.sha, speech))
    install.metadata["tags"] = [INSTALL_TAG]
    out = copy.deepcopy(nb)
    out.cells = [header, install, *out.cells]
    out.nbformat_minor = max(out.nbformat_minor, 5)
    for index, cell in enumerate(out.cells):  # stable ids: a rebuild of the same page gives the same file
        cell["id"] = f"cell-{index}"
    meta = dict(out.metadata.get("atencion", {}))
    meta["build"] = {"commit": head.sha, "dirty": head.dirty, "edition": lang, "page": page_url(app, docname),
                     "built": date.isoformat(timespec="seconds")}
    out.metadata["atencion"] = meta
    for key in ("jupytext", "source_map"):  # not paired with a text file any more; myst-nb's own line numbers
        out.metadata.pop(key, None)
    nbformat.validate(out)
    return out


def executed_notebooks(app: Sphinx) -> dict[str, Path]:
    """``docname -> executed notebook`` for every page with code that myst-nb executed (or took from
    its cache)."""
    from myst_nb.sphinx_ import NbMetadataCollector

    if getattr(app, "_notebooks_executed", None) is not None:  # every page is read before any is written
        return app._notebooks_executed
    folder = Path(app.outdir).parent / "jupyter_execute"
    data = NbMetadataCollector.get_doc_data(app.env)
    app._notebooks_executed = {doc: folder / f"{doc}.ipynb" for doc in sorted(app.env.found_docs)
            if data.get(doc, {}).get("exec_data") and (folder / f"{doc}.ipynb").exists()
            and "{code-cell}" in Path(app.env.doc2path(doc)).read_text(encoding="utf-8")}
    return app._notebooks_executed


def write_notebooks(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "html":  # not the single page the PDF is printed from
        return
    target = Path(app.outdir) / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    for docname, executed in executed_notebooks(app).items():
        path = target / f"{docname}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(make_notebook(app, docname, executed), path)


def launch_urls(app: Sphinx, docname: str) -> dict[str, str]:
    """Colab and Binder addresses of a page's notebook on the ``notebooks`` branch."""
    match = re.match(r"https://github\.com/([^/]+)/([^/]+)$", repository(app))
    if not match:
        return {}
    org, repo = match.groups()
    path = f"{app.config.bilingual_language}/{docname}.ipynb"
    return {
        "Colab": f"https://colab.research.google.com/github/{org}/{repo}/blob/{BRANCH}/{path}",
        "Binder": f"https://mybinder.org/v2/gh/{org}/{repo}/{BRANCH}?labpath={path}",
    }


def add_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """The ".ipynb" download entry and the launch menu, on pages with an executed notebook."""
    if pagename not in executed_notebooks(app):
        return
    words = TEXT[app.config.bilingual_language]
    buttons = context.get("header_buttons", [])
    for group in buttons:
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, {
                "type": "link", "url": f"{context['pathto'](FOLDER, 1)}/{pagename}.ipynb", "text": ".ipynb",
                "icon": "fas fa-code", "tooltip": words["download"], "label": "download-notebook-button",
            })
            break
    icons = {"Colab": "_static/images/logo_colab.png", "Binder": "_static/images/logo_binder.svg"}
    launchers = [{"type": "link", "url": url, "text": name, "icon": icons[name],
                  "tooltip": f"{words['launch_on']} {name}", "label": f"launch-{name.lower()}-button"}
                 for name, url in launch_urls(app, pagename).items()]
    if launchers:
        buttons.insert(0, {"type": "group", "tooltip": words["launch"], "icon": "fas fa-rocket",
                           "buttons": launchers, "label": "launch-buttons"})


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", add_buttons, priority=800)  # after the theme fills header_buttons
    app.connect("build-finished", write_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
