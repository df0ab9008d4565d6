"""Fixtures for the site tests: the built site, a local web server, one browser.

The site tests check the site that ``make book`` writes to ``_build/html`` (or the copy
named by the ``SITE_DIR`` environment variable), served over HTTP from 127.0.0.1 and
opened in Debian's chromium through Playwright's sync API (``CHROMIUM`` overrides the
path of the executable). Every browser context aborts and records any request that
does not go to the local server, so a test can check that the site never needs a third
party.

Pages are visited once per session (``site_visits``), in a fresh browser context per
edition, and what each visit saw (third-party requests, JavaScript errors, MathJax's work, the
rendered HTML, axe-core's findings) is shared by the tests that need it: that keeps the whole suite fast
while every page of both editions is checked.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
LANGS = ("es", "en")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# TeX commands as a page's source writes them: outside math (a link's text, a PDF's text),
# MathJax leaves them as typed. Code writes them with a doubled backslash ("$\\mathbf{v}$").
RAW_TEX = re.compile(
    r"(?<!\\)\\(?:sqrt|frac|math[a-z]+|boldsymbol|operatorname|sum|prod|alpha|beta|delta|varepsilon|epsilon|"
    r"theta|lambda|sigma|mu|left|right|begin|end|cdot|ldots|dots|times|top|infty|partial|nabla|hat|tilde)(?![a-zA-Z])")
# How long a page may take to load and MathJax to typeset it (ms).
NAVIGATION_TIMEOUT_MS = 30_000
MATHJAX_TIMEOUT_MS = 20_000


def site_root() -> Path:
    return Path(os.environ.get("SITE_DIR") or REPO / "_build" / "html").resolve()


def edition_pages(site: Path, lang: str) -> list[str]:
    """Every HTML page of one edition, as paths relative to the edition folder.

    Folders whose name starts with ``_`` (``_static``, ``_sources``, ``_images``) hold
    assets, not pages: ``_static/*webpack-macros.html`` are Jinja macro files that the
    theme copies there, never linked from the site.
    """
    folder = site / lang
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(folder).parts)
    )


# --------------------------------------------------------------------------- the site


@pytest.fixture(scope="session")
def site_dir() -> Path:
    site = site_root()
    missing = [p for p in ("index.html", "es/index.html", "en/index.html") if not (site / p).is_file()]
    if missing:
        pytest.fail(
            f"The built site is missing or incomplete at {site} (no {', '.join(missing)}): "
            "run `make book` first (or point SITE_DIR at a built site).",
            pytrace=False,
        )
    return site


@pytest.fixture(scope="session")
def pages(site_dir: Path) -> dict[str, list[str]]:
    """``{"es": [...], "en": [...]}``: the pages of each edition (``index.html``, ``search.html``...)."""
    found = {lang: edition_pages(site_dir, lang) for lang in LANGS}
    for lang, names in found.items():
        if "index.html" not in names:
            pytest.fail(f"{site_dir / lang} has no index.html: run `make book` first.", pytrace=False)
    return found


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # The browser drops connections it no longer needs (a page left before it finished
        # loading); anything else is still printed.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def server(site_dir: Path):
    """Base URL (``http://127.0.0.1:<port>``) of a server for the site, for the whole session."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(
            f"No chromium at {executable}: install Debian's (sudo apt-get install chromium) "
            "or set CHROMIUM to its path.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _is_local(url: str, base: str) -> bool:
    parts, local = urlsplit(url), urlsplit(base)
    if parts.scheme in {"data", "blob", "about"}:  # never leave the browser
        return True
    return parts.scheme in {"http", "https"} and parts.netloc == local.netloc


def new_guarded_context(browser, base: str, **options):
    """A fresh browser context that aborts every request not for the local server.

    ``options`` are Playwright's context options; the viewport is a desktop's (1280×900)
    unless ``viewport`` says otherwise.

    The aborted URLs are recorded in ``context.third_party`` (a list). Every request goes
    through the router; the pattern leaves requests for the local server to Playwright's
    driver (no round trip to Python), and hands everything else to ``block``.
    """
    options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(**options)
    context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
    context.third_party = []

    def block(route):
        url = route.request.url
        if _is_local(url, base):  # data:, blob: (never reach a router, but to be safe)
            route.continue_()
        else:
            context.third_party.append(url)
            route.abort()

    context.route(re.compile("^(?!" + re.escape(base) + "/)"), block)
    return context


@pytest.fixture
def make_context(browser, server):
    """``make_context(**options)``: a fresh guarded context with Playwright context options
    (e.g. ``java_script_enabled=False``), closed after the test."""
    made = []

    def make(**options):
        made.append(new_guarded_context(browser, server, **options))
        return made[-1]

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def context(browser, server):
    """A fresh, guarded browser context for one test."""
    ctx = new_guarded_context(browser, server)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context):
    """A fresh page (in a fresh guarded context) for one test."""
    return context.new_page()


# --------------------------------------------------------------------------- one visit per page

# Run once the page has loaded: wait for MathJax's first typeset (if MathJax is on the
# page), then report what the math tests need.
_AFTER_LOAD_JS = r"""
async (timeoutMs) => {
  let mathjax = "absent";
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    const timeout = new Promise((resolve) => setTimeout(() => resolve("timed out"), timeoutMs));
    mathjax = await Promise.race([
      window.MathJax.startup.promise.then(() => "typeset", (e) => "failed: " + e),
      timeout,
    ]);
  }
  const RAW_TEX = /\\\(|\\\[|\$\$/;
  const math = [...document.querySelectorAll(".math")];
  // Visible text outside code: raw TeX delimiters there mean an equation was not typeset.
  const proseTex = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("pre, code, script, style, textarea, mjx-container, .highlight")) continue;
    if (!RAW_TEX.test(node.textContent)) continue;
    if (parent.checkVisibility && !parent.checkVisibility()) continue;
    proseTex.push(node.textContent.trim().slice(0, 120));
  }
  return {
    mathjax,
    version: (window.MathJax && window.MathJax.version) || null,
    scripts: [...document.scripts].map((s) => s.src).filter((src) => /mathjax/i.test(src)),
    mathNodes: math.length,
    containers: document.querySelectorAll("mjx-container").length,
    unrendered: math.filter((m) => !m.querySelector("mjx-container")).map((m) => m.textContent.trim().slice(0, 120)),
    rawInMath: math.filter((m) => RAW_TEX.test(m.innerText)).map((m) => m.innerText.trim().slice(0, 120)),
    mathErrors: [...document.querySelectorAll("mjx-merror")].map(
      (e) => e.getAttribute("data-mjx-error") || e.textContent.slice(0, 120)
    ),
    proseTex,
    lang: document.documentElement.lang,
    html: document.documentElement.outerHTML,
  };
}
"""


# axe-core, pinned in package.json (npm ci installs it), run on every page the sweep visits.
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices; only violations come back.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
_AXE_RUN_JS = r"""
async (options) => {
  const results = await axe.run(document, options);
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), impact: n.impact,
                               html: n.html.slice(0, 160), summary: (n.failureSummary || "").slice(0, 300)})),
  }));
}
"""

# Controls whose visible label is not part of their accessible name (WCAG 2.5.3, label in
# name): a speech-input user says what they see, a screen reader announces something else.
_LABEL_IN_NAME_JS = r"""
() => {
  const found = [];
  const controls = document.querySelectorAll(
    "a[aria-label], button[aria-label], summary[aria-label], [role=button][aria-label], [role=link][aria-label]");
  for (const el of controls) {
    if (el.checkVisibility && !el.checkVisibility()) continue;
    const visible = el.innerText.replace(/\s+/g, " ").trim();
    const name = el.getAttribute("aria-label").replace(/\s+/g, " ").trim();
    if (visible && !name.toLowerCase().includes(visible.toLowerCase())) {
      found.push({visible, name, html: el.outerHTML.slice(0, 160)});
    }
  }
  return found;
}
"""


@dataclass
class Visit:
    """What one load of one page saw."""

    url: str
    third_party: list[str] = field(default_factory=list)
    # (kind, text, url of the script or resource that produced it); kind is
    # "pageerror" or "console.error".
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    report: dict = field(default_factory=dict)


class _Tab:
    """A page of the sweep's context, reused from one visit to the next.

    Its own route (which takes precedence over the context's) and event handlers file
    what happens under the visit it is on.
    """

    def __init__(self, context, base: str) -> None:
        self.base, self.visit = base, None
        self.page = context.new_page()
        self.page.route(re.compile("^(?!" + re.escape(base) + "/)"), self._block)
        self.page.on("pageerror", lambda error: self._error("pageerror", str(error), self.page.url))
        self.page.on("console", lambda msg: msg.type == "error"
                     and self._error("console.error", msg.text, msg.location.get("url", "")))

    def _block(self, route) -> None:
        url = route.request.url
        if _is_local(url, self.base):
            route.continue_()
            return
        if self.visit is not None:
            self.visit.third_party.append(url)
        route.abort()

    def _error(self, kind: str, text: str, source: str) -> None:
        if self.visit is not None:
            self.visit.errors.append((kind, text, source))

    def start(self, url: str) -> None:
        """Go to ``url``; return once the navigation has committed."""
        self.visit = Visit(url)
        self.page.goto(url, wait_until="commit")

    def finish(self) -> Visit:
        visit = self.visit
        self.page.wait_for_load_state("load")
        visit.report = self.page.evaluate(_AFTER_LOAD_JS, MATHJAX_TIMEOUT_MS)
        visit.report["label_not_in_name"] = self.page.evaluate(_LABEL_IN_NAME_JS)
        if AXE_JS.is_file():  # else test_site_a11y.py fails and says to run `npm ci`
            self.page.add_script_tag(path=str(AXE_JS))
            visit.report["axe"] = self.page.evaluate(_AXE_RUN_JS, AXE_OPTIONS)
        return visit


class SiteVisits:
    """Loads each page of the site at most once per session.

    The first test that asks for pages of an edition loads them in a fresh context, through
    ``PARALLEL_VISITS`` tabs that go from page to page (a new tab per page would cost a new
    renderer process each time, the largest part of a page load), and the other tests reuse
    what those visits saw. So pages are visited the way a reader goes through the book.
    """

    PARALLEL_VISITS = 2

    def __init__(self, browser, base: str) -> None:
        self.browser, self.base = browser, base
        self._cache: dict[str, Visit] = {}

    def url(self, lang: str, name: str) -> str:
        return f"{self.base}/{lang}/{name}"

    def get(self, lang: str, name: str) -> Visit:
        return self.get_all(lang, [name])[0]

    def get_all(self, lang: str, names: list[str]) -> list[Visit]:
        urls = [self.url(lang, name) for name in names]
        todo = [url for url in dict.fromkeys(urls) if url not in self._cache]
        if todo:
            context = new_guarded_context(self.browser, self.base)
            try:
                tabs = [_Tab(context, self.base) for _ in range(min(self.PARALLEL_VISITS, len(todo)))]
                for start in range(0, len(todo), len(tabs)):
                    batch = list(zip(tabs, todo[start : start + len(tabs)]))
                    for tab, url in batch:
                        tab.start(url)
                    for tab, _ in batch:
                        visit = tab.finish()
                        self._cache[visit.url] = visit
            finally:
                context.close()
        return [self._cache[url] for url in urls]


@pytest.fixture(scope="session")
def site_visits(browser, server, pages) -> SiteVisits:
    return SiteVisits(browser, server)


# --------------------------------------------------------------------------- static HTML


class Node:
    """A minimal DOM node for the static checks (``html.parser`` underneath)."""

    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def iter(self):
        """This node and every element below it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def text(self, skip=lambda node: False) -> str:
        parts = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif not skip(child):
                parts.append(child.text(skip))
        return "".join(parts)

    def describe(self) -> str:
        """``<tag id=... class=...>`` to say where a finding is."""
        shown = " ".join(f'{k}="{v}"' for k, v in self.attrs.items() if k in {"id", "class"} and v)
        return f"<{self.tag}{' ' + shown if shown else ''}>"


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: (v or "") for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:  # a stray end tag closes nothing
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


@pytest.fixture(scope="session")
def html_tree():
    """``html_tree(path)``: the parsed page (cached), a :class:`Node` tree."""
    return functools.lru_cache(maxsize=None)(lambda path: parse_html(Path(path).read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def parse():
    """``parse(text)``: parse an HTML string (e.g. a rendered page) into a :class:`Node` tree."""
    return parse_html
