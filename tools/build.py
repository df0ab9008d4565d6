"""Build the whole site: both editions, every cell executed, into ``_build/html``.

    python tools/build.py                # both languages at once (one per core), strict
    python tools/build.py --sequential   # one after the other
    python tools/build.py --lang es      # one edition (the landing page is rebuilt too)
    python tools/build.py --incremental  # skip Sphinx's ``--all`` (for live preview only)
    python tools/build.py --assemble     # only put editions built before into _build/html
                                         # (CI builds each edition in its own job)

Strict means: a failing cell, a Sphinx warning, a broken cross-reference or an unknown
citation key fails the build (``-W -n --keep-going --all`` and ``raise_on_error``).

Executed notebooks are cached by jupyter-cache, which keys on each page's code cells
only. It cannot see the library or the installed packages, so this script keeps a key
of ``src/``, ``pyproject.toml`` and ``requirements/constraints.txt`` beside the cache
and empties the cache whenever that key changes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
SITE = BUILD / "html"
CONFIG = {"es": (ROOT / "_config.yml", ROOT / "_toc.yml"),
          "en": (ROOT / "book/en/_config.yml", ROOT / "book/en/_toc.yml")}
KEYED = ["src", "pyproject.toml", "requirements/constraints.txt"]
THREAD_VARIABLES = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]
# The book's time budgets (CONTRIBUTING.md): each page executes in 2 minutes with one thread, and
# the whole site, both editions at once on 2 cores, builds in 15. Timings vary with the machine, so
# going over is reported, not failed.
PAGE_BUDGET_S = 120
SITE_BUDGET_S = 15 * 60


def execution_key() -> str:
    digest = hashlib.sha256()
    for entry in KEYED:
        path = ROOT / entry
        files = sorted(
            p for p in path.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and not any(part.endswith(".egg-info") for part in p.parts)
        ) if path.is_dir() else [path]  # the installer's metadata is not the library
        for file in files:
            digest.update(file.relative_to(ROOT).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def invalidate_stale_cache(lang: str) -> None:
    cache = BUILD / lang / "_build" / ".jupyter_cache"
    key_file = BUILD / lang / "execution-key.txt"
    key = execution_key()
    if cache.exists() and (not key_file.exists() or key_file.read_text() != key):
        print(f"[build] src/ or dependencies changed: clearing the {lang} execution cache")
        shutil.rmtree(cache)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)


def build(lang: str, *, strict: bool = True, prefix: bool = False) -> str | None:
    """Build one edition; ``None`` on success, else the reason it failed. With ``prefix``,
    each line of the build's output is printed as ``[lang] ...`` (editions built at once)."""
    config, toc = CONFIG[lang]
    invalidate_stale_cache(lang)
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", f"book/{lang}",
        "--config", str(config), "--toc", str(toc),
        "--path-output", f"_build/{lang}", "-W", "-n", "--keep-going",
    ]
    if strict:
        command.append("--all")
        # Sphinx never deletes pages from its output folder: start from an empty one so
        # that a renamed or deleted page cannot survive in the site.
        shutil.rmtree(BUILD / lang / "_build" / "html", ignore_errors=True)
    start = time.perf_counter()
    # One thread per notebook for the libraries under NumPy and scikit-learn too (the pages set
    # PyTorch's themselves): two editions build at once on two cores, and two threads per kernel
    # made them wait on each other (a cell of chapter 12 went from 9 s to 65 s). A variable
    # already set is left alone.
    env = {**{name: "1" for name in THREAD_VARIABLES}, **os.environ}
    if prefix:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, encoding="utf-8", errors="replace", env=env)
        for line in process.stdout:
            print(f"[{lang}] {line}", end="", flush=True)
        returncode = process.wait()
    else:
        returncode = subprocess.run(command, cwd=ROOT, env=env).returncode
    elapsed = time.perf_counter() - start
    write_execution_report(lang)
    if returncode != 0:
        reports = BUILD / lang / "_build" / "html" / "reports"
        hint = f" Execution reports: {reports}" if reports.exists() else ""
        return f"[build] the {lang} edition failed (exit {returncode}).{hint}"
    print(f"[build] {lang} edition built in {elapsed:.0f} s")
    return None


def write_execution_report(lang: str) -> dict:
    """``_build/<lang>/execution.json``: each page's status ("ok", "failed" or "no code"),
    execution time (s) and date, from jupyter-cache (a page that failed has no cache
    record). Printed as a line too."""
    from jupyter_cache import get_cache

    cache = BUILD / lang / "_build" / ".jupyter_cache"
    pages = {}
    if cache.exists():
        for record in get_cache(str(cache)).list_cache_records():
            pages[Path(record.uri).stem] = {"status": "ok",
                                           "seconds": round(record.data.get("execution_seconds", 0.0), 1),
                                           "executed": record.created.isoformat(timespec="seconds")}
    for page in sorted((ROOT / "book" / lang).glob("*.md")):
        has_code = "{code-cell}" in page.read_text(encoding="utf-8")
        # a page with code but no cache record did not execute to the end
        pages.setdefault(page.stem, {"status": "failed" if has_code else "no code", "seconds": None,
                                     "executed": None})
    report = {"edition": lang, "pages": dict(sorted(pages.items()))}
    (BUILD / lang / "execution.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    timed = {name: p["seconds"] for name, p in report["pages"].items() if p["seconds"] is not None}
    if timed:
        print(f"[build] {lang} execution times (s): "
              + ", ".join(f"{name} {seconds:.0f}" for name, seconds in timed.items())
              + f"; {sum(timed.values()):.0f} in all")
    for line in over_budget(report):
        print(f"[build] warning: {line}")
    return report


def over_budget(report: dict) -> list[str]:
    """The pages of an execution report that took longer than :data:`PAGE_BUDGET_S`."""
    return [f"{report['edition']}/{name} executed in {page['seconds']:.0f} s, over the page budget of "
            f"{PAGE_BUDGET_S} s" for name, page in report["pages"].items()
            if page["seconds"] is not None and page["seconds"] > PAGE_BUDGET_S]


def site_url() -> str:
    """The site's address, from ``html.baseurl`` in the configuration (ends with ``/``)."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["html"]["baseurl"].rstrip("/") + "/"


def edition_pages(site: Path, lang: str) -> list[str]:
    """The pages of one edition that a search engine should know (not search, not the index)."""
    folder = site / lang
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(folder).parts)
        and p.name not in {"search.html", "genindex.html"}
    )


def sitemap(site: Path, base: str) -> str:
    """sitemap.xml: every page of both editions, each with its twin as an hreflang alternate."""
    pages = {lang: set(edition_pages(site, lang)) for lang in CONFIG if (site / lang).is_dir()}
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for lang, names in pages.items():
        for name in sorted(names):
            lines += ["  <url>", f"    <loc>{escape(base + lang + '/' + name)}</loc>"]
            for other, other_names in pages.items():
                if name in other_names:
                    href = escape(base + other + "/" + name)
                    lines.append(f'    <xhtml:link rel="alternate" hreflang="{other}" href="{href}"/>')
            lines.append("  </url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


# What the notebooks branch holds besides the notebooks: Binder builds its environment from these
# files (repo2docker); Colab ignores them and keeps its own packages.
BINDER_PACKAGES = ["torch", "numpy", "matplotlib", "tqdm", "scikit-learn", "networkx", "elotl", "tokenizers",
                   "sacrebleu", "myst-nb"]
NOTEBOOKS_README = """# Executed notebooks of «Mecanismos de atención» / «Attention Mechanisms»

This branch is written by the book's workflow at every build of `main`: do not edit it.
`es/` and `en/` hold each chapter's executed notebook, as the site offers it for download;
its first cell installs the `atencion` library at the commit that built it ({commit}).

- Colab: https://colab.research.google.com/github/{org_repo}/blob/notebooks/es/01-atencion-recurrente.ipynb
- Binder: https://mybinder.org/v2/gh/{org_repo}/notebooks?labpath=es/01-atencion-recurrente.ipynb
"""


def pins(names: list[str], constraints: Path = ROOT / "requirements" / "constraints.txt") -> list[str]:
    """``name==version`` of each distribution, as requirements/constraints.txt pins it."""
    pinned = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if version:
            pinned[name.strip().lower()] = version.strip()
    missing = [name for name in names if name.lower() not in pinned]
    if missing:
        raise ValueError(f"requirements/constraints.txt pins no version of {missing}")
    return [f"{name}=={pinned[name.lower()]}" for name in names]


def notebooks_branch(site: Path, target: Path, commit: str) -> None:
    """The tree of the ``notebooks`` branch (Colab and Binder open it): each edition's executed
    notebooks (``site/<lang>/_notebooks``) in ``<lang>/``, and Binder's environment: Python 3.11,
    the pinned dependencies with PyTorch's CPU build, and eSpeak NG."""
    import yaml

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for lang in CONFIG:
        if (site / lang / "_notebooks").is_dir():
            shutil.copytree(site / lang / "_notebooks", target / lang)
    (target / "requirements.txt").write_text(
        "# Binder's environment for these notebooks (written by tools/build.py from requirements/constraints.txt).\n"
        "# PyTorch's CPU build: PyPI's Linux wheels of torch carry CUDA (several GB).\n"
        "--index-url https://download.pytorch.org/whl/cpu\n--extra-index-url https://pypi.org/simple\n"
        + "\n".join(pins(BINDER_PACKAGES)) + "\n", encoding="utf-8")
    (target / "runtime.txt").write_text("python-3.11\n", encoding="utf-8")  # atencion requires Python 3.11
    (target / "apt.txt").write_text("espeak-ng\n", encoding="utf-8")  # the speech chapter's synthesiser
    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    org_repo = url.rstrip("/").removeprefix("https://github.com/")
    (target / "README.md").write_text(NOTEBOOKS_README.format(commit=commit, org_repo=org_repo), encoding="utf-8")


def assemble(langs: list[str], build: Path = BUILD, site: Path = SITE) -> None:
    """Put the editions built under ``build/<lang>`` into ``site/<lang>``, with the landing
    pages (tools/landing), the favicon, robots.txt and a sitemap of both editions; and the
    tree of the ``notebooks`` branch into ``build/notebooks``."""
    site.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        target = site / lang
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(build / lang / "_build" / "html", target, ignore=shutil.ignore_patterns("reports"))
    for page in (ROOT / "tools" / "landing").iterdir():
        shutil.copy2(page, site / page.name)
    shutil.copy2(ROOT / "_ext" / "static" / "favicon.svg", site / "favicon.svg")
    base = site_url()
    (site / "sitemap.xml").write_text(sitemap(site, base), encoding="utf-8")
    (site / "robots.txt").write_text(f"User-agent: *\nAllow: /\n\nSitemap: {base}sitemap.xml\n", encoding="utf-8")
    (site / ".nojekyll").touch()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    notebooks_branch(site, build / "notebooks", head)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["es", "en"], action="append", help="edition(s) to build")
    parser.add_argument("--incremental", action="store_true", help="reuse Sphinx's environment")
    parser.add_argument("--sequential", action="store_true", help="one edition after the other")
    parser.add_argument("--assemble", action="store_true", help="only assemble editions already built")
    args = parser.parse_args()
    langs = args.lang or ["es", "en"]
    if args.assemble:
        missing = [lang for lang in langs if not (BUILD / lang / "_build" / "html").is_dir()]
        if missing:
            sys.exit(f"[build] no built edition to assemble for {missing}: run tools/build.py --lang ... first")
        assemble(langs)
        print(f"[build] site assembled from the built editions: {SITE}")
        return
    start = time.perf_counter()
    strict = not args.incremental
    if len(langs) > 1 and not args.sequential:
        # Each notebook runs on one thread: the two editions build at once, one per core.
        with concurrent.futures.ThreadPoolExecutor(len(langs)) as pool:
            failures = [f for f in pool.map(lambda lang: build(lang, strict=strict, prefix=True), langs) if f]
    else:
        failures = [f for f in (build(lang, strict=strict) for lang in langs) if f]
    if failures:
        sys.exit("\n".join(failures))
    assemble(langs)
    elapsed = time.perf_counter() - start
    print(f"[build] site ready in {elapsed:.0f} s: {SITE}")
    if elapsed > SITE_BUDGET_S and strict and len(langs) == 2 and not args.sequential:
        print(f"[build] warning: over the site budget of {SITE_BUDGET_S} s (a build that executed every page)")
    print("[build] view it with: make serve   (or: python -m http.server -d _build/html 8000)")


if __name__ == "__main__":
    main()
