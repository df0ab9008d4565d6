"""The whole book as one PDF per edition, printed by Chromium from a single-page build.

    python tools/pdf.py                # both editions (after tools/build.py: reuses its execution cache)
    python tools/pdf.py --lang es      # one edition

Each edition is built once more with Sphinx's ``singlehtml`` builder (every chapter in one
page, with the same numbering, cross-references, citations and bibliography), served from
127.0.0.1, typeset by the site's own MathJax and printed to A4 by the Chromium the site
tests use (Debian's ``chromium``, or ``CHROMIUM=/path``) through Playwright: figures,
equations and tables come out as on the site, with PDF bookmarks for the headings. No
LaTeX toolchain is needed, and the PDF cannot disagree with the pages.

The PDF goes to ``_build/<lang>/_build/html/<name>.pdf`` (so the edition's artifact and
``tools/build.py --assemble`` carry it) and, when the site is assembled, to
``_build/html/<lang>/<name>.pdf``; each page's ".pdf" download entry links to it.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))

import buildinfo  # noqa: E402  (_ext/buildinfo.py: the commit, the PDF's name)
from build import BUILD, CONFIG, SITE  # noqa: E402

TITLE_PAGE = {
    "es": ("Edición en español", "Construido desde el commit {commit} el {date}.", "Léelo en línea: {url}"),
    "en": ("English edition", "Built from commit {commit} on {date}.", "Read it online: {url}"),
}
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;color:#555">'
          '<span class="pageNumber"></span> / <span class="totalPages"></span></div>')
MATHJAX_TIMEOUT_MS = PAGE_TIMEOUT_MS = 300_000  # the whole book in one page: tens of MB, hundreds of equations


def single_page(lang: str) -> Path:
    """Build the edition as one page (strict, like the site); return its folder."""
    config, toc = CONFIG[lang]
    out = BUILD / lang / "_build" / "singlehtml"
    shutil.rmtree(out, ignore_errors=True)
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", f"book/{lang}", "--config", str(config),
               "--toc", str(toc), "--path-output", f"_build/{lang}", "--builder", "singlehtml", "-W", "-n",
               "--keep-going"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, encoding="utf-8", errors="replace")
    if result.returncode != 0:
        sys.exit(f"[pdf] the single-page {lang} build failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}")
    return out


def _serve(folder: Path) -> tuple[subprocess.Popen, str]:
    """A local web server for ``folder``, in a process of its own (the page and its images weigh
    tens of MB, and a thread of this process would compete with the browser's driver)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    for _ in range(100):  # until it answers
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, base
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit(f"[pdf] the local server for {folder} did not start")


def chromium() -> str:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        sys.exit(f"[pdf] no Chromium at {path}: apt-get install chromium, or set CHROMIUM=/path/to/chromium")
    return path


def print_pdf(lang: str, folder: Path, target: Path) -> None:
    """Open the single page, wait for MathJax, add the title page's lines and print to ``target``."""
    from bilingual import format_date
    from playwright.sync_api import sync_playwright

    server, base = _serve(folder)
    commit = buildinfo.commit()
    edition, built, online = TITLE_PAGE[lang]
    import yaml

    url = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["html"]["baseurl"].rstrip("/")
    lines = [edition, built.format(commit=commit.short or "?", date=format_date(buildinfo.now(), lang)),
             online.format(url=f"{url}/{lang}/")]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
            page = browser.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(base + "index.html", wait_until="load")
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                   timeout=MATHJAX_TIMEOUT_MS)
            page.evaluate("() => MathJax.startup.promise")
            page.evaluate("""(lines) => {
                const title = document.querySelector('#jb-print-docs-body h1');
                const block = document.createElement('div');
                block.className = 'pdf-title-page';
                title.replaceWith(block);
                block.appendChild(title);
                for (const text of lines) {
                    const p = document.createElement('p');
                    p.textContent = text;
                    block.appendChild(p);
                }
                // <details> (hidden code) print closed; the PDF has no way to open them
            }""", lines)
            page.emulate_media(media="print")
            page.pdf(path=str(target), format="A4", print_background=True, outline=True, tagged=True,
                     display_header_footer=True, header_template="<span></span>", footer_template=FOOTER,
                     margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})
            browser.close()
    finally:
        server.terminate()
        server.wait()


def make_pdf(lang: str) -> Path:
    start = time.perf_counter()
    folder = single_page(lang)
    name = buildinfo.PDF_NAME[lang]
    target = BUILD / lang / "_build" / "html" / name
    if not target.parent.is_dir():
        sys.exit(f"[pdf] build the {lang} edition first (tools/build.py --lang {lang}): {target.parent} is missing")
    print_pdf(lang, folder, target)
    if (SITE / lang).is_dir():
        shutil.copy2(target, SITE / lang / name)
    print(f"[pdf] {lang}: {target.relative_to(ROOT)} ({target.stat().st_size / 1e6:.1f} MB) "
          f"in {time.perf_counter() - start:.0f} s")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=["es", "en"], action="append", help="edition(s)")
    langs = parser.parse_args().lang or ["es", "en"]
    with concurrent.futures.ThreadPoolExecutor(len(langs)) as pool:
        list(pool.map(make_pdf, langs))


if __name__ == "__main__":
    main()
