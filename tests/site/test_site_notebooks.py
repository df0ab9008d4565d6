"""The executed notebooks the site offers (``_ext/notebooks.py``): valid, pinned to the commit that
built them, linked from each page, and runnable outside the book.

``test_a_notebook_runs_in_a_clean_environment`` executes one chapter's notebook in a new virtual
environment that does not have ``atencion``: the notebook's own install cell installs it, from this
checkout at the commit the notebook names, and the glued results must equal the page's. ``make
notebooks`` runs it for every page of both editions (``ATENCION_NOTEBOOKS=all``; several minutes).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest
import yaml

pytestmark = pytest.mark.site

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import glue_parity  # noqa: E402  (glued_values, declared_patterns)

CONFIG = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
REPOSITORY = CONFIG["repository"]["url"].rstrip("/")
QUICK = [("es", "09-gradiente-atencion")]  # the chapter make test runs in a clean environment


def _head() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.strip()


def _pages_with_code(lang: str) -> list[str]:
    return sorted(p.stem for p in (REPO / "book" / lang).glob("*.md") if "{code-cell}" in p.read_text(encoding="utf-8"))


def _built(lang: str, page: str) -> Path:
    return REPO / "_build" / lang / "_build" / "jupyter_execute" / f"{page}.ipynb"


def _has_output(outputs: list, output: dict) -> bool:
    """``output`` is among ``outputs``; a stream's text, within the same stream's text."""
    if output.get("output_type") != "stream":
        return output in outputs
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream"
                   and o.get("name") == output.get("name"))
    return output.get("text", "").strip() in text


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_with_code_has_its_executed_notebook(lang, site_dir):
    """_notebooks/<page>.ipynb for every page with code: valid nbformat, a header that names the page,
    an install cell pinned to this checkout's commit, then the page's executed cells with the build's
    outputs, and every glued value in its cell: figures and tables shown, values as hidden records."""
    head, problems = _head(), []
    for page in _pages_with_code(lang):
        path = site_dir / lang / "_notebooks" / f"{page}.ipynb"
        if not path.exists():
            problems.append(f"  {lang}/{page}: no notebook")
            continue
        nb = nbformat.read(path, as_version=4)
        try:
            nbformat.validate(nb)
        except nbformat.ValidationError as error:
            problems.append(f"  {lang}/{page}: not valid nbformat: {error.message}")
        header, install, *cells = nb.cells
        if f"/{lang}/{page}.html" not in header.source or head[:7] not in header.source:
            problems.append(f"  {lang}/{page}: the header does not name the page and commit {head[:7]}")
        if ("atencion-install" not in install.metadata.get("tags", []) or f'COMMIT = "{head}"' not in install.source
                or f"git+{REPOSITORY}@{{COMMIT}}" not in install.source):
            problems.append(f"  {lang}/{page}: the install cell does not install {REPOSITORY} at {head}")
        built = nbformat.read(_built(lang, page), as_version=4)
        if [(c.cell_type, c.source) for c in cells] != [(c.cell_type, c.source) for c in built.cells]:
            problems.append(f"  {lang}/{page}: the cells after the install cell are not the page's")
        outputs = [o for c in cells for o in c.get("outputs", [])]
        glued = {o.metadata["atencion"]["glue"] for o in outputs if "glue" in o.get("metadata", {}).get("atencion", {})}
        hidden = {o.metadata["scrapbook"]["name"] for o in outputs if "scrapbook" in o.get("metadata", {})}
        plain = [[o for o in c.get("outputs", []) if not ({"atencion", "scrapbook"} & set(o.get("metadata", {})))]
                 for c in cells if c.cell_type == "code"]
        # myst-nb's own copy holds outputs only for pages executed in this build, its streams partly merged
        # (a stream's text may appear twice there); the notebook has every output, streams in one block
        built_outputs = [c.get("outputs") for c in built.cells if c.cell_type == "code"]
        if len(plain) != len(built_outputs) or not all(_has_output(ours, o) for ours, theirs in
                                                       zip(plain, built_outputs) for o in theirs):
            problems.append(f"  {lang}/{page}: the outputs are not the build's")
        store = json.loads(_built(lang, page).with_suffix(".glue.json").read_text(encoding="utf-8"))
        shown = {name for name, o in store.items()
                 if any(re.match(r"(image/|text/(markdown|html))", key) for key in o["data"])}
        if glued | hidden != set(store) or glued != shown:
            problems.append(f"  {lang}/{page}: glued outputs {sorted(glued)} shown, {len(hidden)} hidden; "
                            f"the build glued {sorted(shown)} figures and tables of {len(store)} values")
        if nb.metadata.get("atencion", {}).get("build", {}).get("commit") != head:
            problems.append(f"  {lang}/{page}: metadata.atencion.build.commit is not {head}")
    if problems:
        pytest.fail("notebooks:\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_page_with_code_offers_its_notebook_colab_and_binder(lang, site_dir):
    """The header's download menu has ".ipynb" (the file above) and a launch menu opens the page's
    notebook in Colab and Binder (from the repository's notebooks branch)."""
    org_repo = REPOSITORY.removeprefix("https://github.com/")
    problems = []
    for page in _pages_with_code(lang):
        html = (site_dir / lang / f"{page}.html").read_text(encoding="utf-8")
        download = re.findall(r'<a href="([^"]+)"[^>]*\n?[^>]*class="btn btn-sm btn-download-notebook-button', html)
        if len(download) != 1 or (site_dir / lang / download[0]).resolve() != (
                site_dir / lang / "_notebooks" / f"{page}.ipynb").resolve():
            problems.append(f"  {lang}/{page}: download links {download}")
        expected = {
            "colab": f"https://colab.research.google.com/github/{org_repo}/blob/notebooks/{lang}/{page}.ipynb",
            "binder": f"https://mybinder.org/v2/gh/{org_repo}/notebooks?labpath={lang}/{page}.ipynb",
        }
        for name, url in expected.items():
            found = re.findall(rf'<a href="([^"]+)"[^>]*\n?[^>]*class="btn btn-sm btn-launch-{name}-button', html)
            if found != [url]:
                problems.append(f"  {lang}/{page}: {name} links {found} (expected [{url!r}])")
    for page in ("bibliografia", "glosario"):  # no code, no notebook
        if "btn-download-notebook-button" in (site_dir / lang / f"{page}.html").read_text(encoding="utf-8"):
            problems.append(f"  {lang}/{page}: offers a notebook but has no code")
    if problems:
        pytest.fail("notebook links:\n" + "\n".join(problems), pytrace=False)


def _clean_environment(folder: Path) -> Path:
    """A new virtual environment that sees the packages of the book's environment except atencion
    (a hosted service's preinstalled packages); returns its python."""
    venv.EnvBuilder(with_pip=True).create(folder)
    python = folder / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # A path in a .pth file is added as it is: its own .pth files (atencion's editable finder) are not run.
    (Path(site) / "book-packages.pth").write_text(sysconfig_purelib() + "\n", encoding="utf-8")
    # venv's own setuptools (from ensurepip) is older than the one pyproject.toml needs and would shadow it
    subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"], check=True,
                   capture_output=True)
    return python


def sysconfig_purelib() -> str:
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def _cases() -> list[tuple[str, str]]:
    if os.environ.get("ATENCION_NOTEBOOKS") == "all":
        return [(lang, page) for lang in ("es", "en") for page in _pages_with_code(lang)]
    return QUICK


@pytest.mark.parametrize(("lang", "page"), _cases())
def test_a_notebook_runs_in_a_clean_environment(lang, page, site_dir, tmp_path):
    """The downloaded notebook, run top to bottom in an environment without atencion, installs the
    library at the commit it names (from this checkout instead of GitHub: no network) and glues the
    same values as the page (less those its front matter declares machine-dependent)."""
    python = _clean_environment(tmp_path / "venv")
    check = subprocess.run([str(python), "-c", "import atencion"], capture_output=True, text=True)
    assert check.returncode != 0, "the clean environment already has atencion"

    nb = nbformat.read(site_dir / lang / "_notebooks" / f"{page}.ipynb", as_version=4)
    install = nb.cells[1]
    assert f"git+{REPOSITORY}@" in install.source
    install.source = install.source.replace(f"git+{REPOSITORY}@", f"git+file://localhost{REPO}@")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    source = tmp_path / f"{page}.ipynb"
    nbformat.write(nb, source)
    executed = tmp_path / f"{page}.executed.ipynb"
    runner = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "client = NotebookClient(nb, timeout=600, kernel_name='python3',\n"
        "                        resources={'metadata': {'path': sys.argv[3]}})\n"
        "client.execute()\n"
        "nbformat.write(nb, sys.argv[2])\n"
    )
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "false", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
           "PYTHONNOUSERSITE": "1"}
    env.pop("VIRTUAL_ENV", None)
    run = subprocess.run([str(python), "-c", runner, str(source), str(executed), str(REPO / "book" / lang)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, f"the notebook failed in a clean environment:\n{run.stderr[-4000:]}"

    origin = subprocess.run([str(python), "-c", "import importlib.metadata as m; "
                             "print(m.distribution('atencion').read_text('direct_url.json'))"],
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(origin)["vcs_info"]["commit_id"] == nb.metadata["atencion"]["build"]["commit"]

    ours, theirs = glue_parity.glued_values(executed), glue_parity.glued_values(_built(lang, page))
    patterns = glue_parity.declared_patterns(REPO / "book" / lang / f"{page}.md")
    import fnmatch

    different = [f"  {name}: {ours.get(name)!r} here, {value!r} on the page" for name, value in theirs.items()
                 if not any(fnmatch.fnmatch(name, p) for p in patterns) and ours.get(name) != value]
    assert theirs, f"{lang}/{page} glues nothing"
    if different:
        pytest.fail(f"{lang}/{page} in a clean environment:\n" + "\n".join(different), pytrace=False)
