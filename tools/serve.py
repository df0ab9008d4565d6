"""Live preview while writing: serve ``_build/html`` and rebuild what changes.

    python tools/serve.py [--port 8000]

Builds both editions once, serves the site on http://127.0.0.1:PORT, then watches
``book/``, ``src/``, ``_ext/`` and the configuration files. A change under
``book/es`` or ``book/en`` rebuilds that edition incrementally; a change anywhere
else rebuilds both. Reload the page in the browser to see the result. Stop with Ctrl+C.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ["book", "src", "_ext", "_config.yml", "_toc.yml", "tools/landing"]


def snapshot() -> dict[Path, float]:
    files: dict[Path, float] = {}
    for entry in WATCHED:
        path = ROOT / entry
        candidates = path.rglob("*") if path.is_dir() else [path]
        for file in candidates:
            if file.is_file() and "__pycache__" not in file.parts:
                files[file] = file.stat().st_mtime
    return files


def editions_for(changed: set[Path]) -> list[str]:
    langs = set()
    for file in changed:
        relative = file.relative_to(ROOT).parts
        if relative[:2] in {("book", "es"), ("book", "en")} and file.name not in {"_config.yml", "_toc.yml"}:
            langs.add(relative[1])
        else:
            return ["es", "en"]
    return sorted(langs)


def rebuild(langs: list[str]) -> None:
    command = [sys.executable, str(ROOT / "tools" / "build.py"), "--incremental"]
    for lang in langs:
        command += ["--lang", lang]
    subprocess.run(command, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    rebuild(["es", "en"])
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(ROOT / "_build" / "html"))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"Serving http://127.0.0.1:{args.port}/  (es/ and en/) — Ctrl+C to stop")
    before = snapshot()
    try:
        while True:
            time.sleep(1.0)
            now = snapshot()
            changed = {f for f in now.keys() | before.keys() if now.get(f) != before.get(f)}
            if changed:
                rebuild(editions_for(changed))
                now = snapshot()
            before = now
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
