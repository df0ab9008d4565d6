"""Build the whole site: both editions, every cell executed, into ``_build/html``.

    python tools/build.py                # both languages, strict
    python tools/build.py --lang es      # one edition (the landing page is rebuilt too)
    python tools/build.py --incremental  # skip Sphinx's ``--all`` (for live preview only)

Strict means: a failing cell, a Sphinx warning, a broken cross-reference or an unknown
citation key fails the build (``-W -n --keep-going --all`` and ``raise_on_error``).

Executed notebooks are cached by jupyter-cache, which keys on each page's code cells
only. It cannot see the library or the installed packages, so this script keeps a key
of ``src/``, ``pyproject.toml`` and ``requirements/constraints.txt`` beside the cache
and empties the cache whenever that key changes.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
SITE = BUILD / "html"
CONFIG = {"es": (ROOT / "_config.yml", ROOT / "_toc.yml"), "en": (ROOT / "book/en/_config.yml", ROOT / "book/en/_toc.yml")}
KEYED = ["src", "pyproject.toml", "requirements/constraints.txt"]


def execution_key() -> str:
    digest = hashlib.sha256()
    for entry in KEYED:
        path = ROOT / entry
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if path.is_dir() else [path]
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


def build(lang: str, *, strict: bool = True) -> None:
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
    result = subprocess.run(command, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        reports = BUILD / lang / "_build" / "html" / "reports"
        hint = f" Execution reports: {reports}" if reports.exists() else ""
        sys.exit(f"[build] the {lang} edition failed (exit {result.returncode}).{hint}")
    print(f"[build] {lang} edition built in {elapsed:.0f} s")


def assemble(langs: list[str]) -> None:
    SITE.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        target = SITE / lang
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(BUILD / lang / "_build" / "html", target, ignore=shutil.ignore_patterns("reports"))
    shutil.copy2(ROOT / "tools" / "landing" / "index.html", SITE / "index.html")
    shutil.copy2(ROOT / "tools" / "landing" / "404.html", SITE / "404.html")
    (SITE / ".nojekyll").touch()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["es", "en"], action="append", help="edition(s) to build")
    parser.add_argument("--incremental", action="store_true", help="reuse Sphinx's environment")
    args = parser.parse_args()
    langs = args.lang or ["es", "en"]
    start = time.perf_counter()
    for lang in langs:
        build(lang, strict=not args.incremental)
    assemble(langs)
    print(f"[build] site ready in {time.perf_counter() - start:.0f} s: {SITE}")
    print("[build] view it with: make serve   (or: python -m http.server -d _build/html 8000)")


if __name__ == "__main__":
    main()
