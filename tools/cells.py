"""The code cells of the book's pages, as Python: one program per page.

A page ``book/<lang>/X.md`` and its twin run the same program: their code cells are
identical once comments, docstrings and the text of string literals are set aside
(the only thing that may differ is what a reader reads). Commands, from the
repository root::

    python tools/cells.py parity            # compare every page's cells with its twin's
    python tools/cells.py extract DIR       # write each page's cells to DIR/<lang>/<page>.py
    python tools/cells.py lint              # ruff over every page's cells, reported as page:line

``extract`` is what ``duplicates`` and ruff read; ``lint`` maps ruff's findings back to
the line of the Markdown page.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
LANGS = ("es", "en")

_FENCE = re.compile(r"^(`{3,})\{code-cell\}[^\n]*$")


@dataclass
class Cell:
    page: Path
    index: int  # 0-based among the page's code cells
    line: int  # 1-based line of the page where the code starts
    source: str


def code_cells(page: Path) -> list[Cell]:
    """The code cells of a MyST page, their options (``:key: value`` lines or a
    ``---`` block) removed."""
    lines = page.read_text(encoding="utf-8").split("\n")
    cells, i = [], 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, i = match.group(1), i + 1
        if i < len(lines) and lines[i].strip() == "---":  # YAML options block
            i += 1
            while i < len(lines) and lines[i].strip() != "---":
                i += 1
            i += 1
        while i < len(lines) and re.match(r"^:[\w-]+:", lines[i]):
            i += 1
        start = i
        while i < len(lines) and lines[i].rstrip() != fence:
            i += 1
        cells.append(Cell(page, len(cells), start + 1, "\n".join(lines[start:i])))
        i += 1
    return cells


class _SetAsideText(ast.NodeTransformer):
    """Blank every string literal and drop docstrings; keep f-strings' expressions."""

    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # a docstring or a bare string: text for the reader
        return self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str):
            return ast.copy_location(ast.Constant(value=""), node)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        # The words around the values may change place in a translation; the values may not
        # change: keep the expressions formatted (their order set aside) and their conversions.
        values = [self.visit(v.value) for v in node.values if isinstance(v, ast.FormattedValue)]
        values.sort(key=ast.dump)
        return ast.copy_location(ast.Tuple(elts=values, ctx=ast.Load()), node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        node = super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            if isinstance(getattr(node, field, None), list) and not getattr(node, field):
                setattr(node, field, [ast.Pass()])  # a body left empty by a dropped docstring
        return node


def program(source: str) -> str:
    """A cell's code with its text set aside, as an AST dump."""
    tree = _SetAsideText().visit(ast.parse(source))
    return ast.dump(tree, annotate_fields=False)


def twin(page: Path) -> Path:
    lang = page.relative_to(BOOK).parts[0]
    return BOOK / ("en" if lang == "es" else "es") / page.name


def pages(lang: str) -> list[Path]:
    return sorted(p for p in (BOOK / lang).glob("*.md") if code_cells(p))


def _first_difference(a: str, b: str) -> str:
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"es …{a[max(0, i - 60):i + 60]}… / en …{b[max(0, i - 60):i + 60]}…"


def compare(spanish: Path) -> list[str]:
    """How the program of ``spanish`` differs from its English twin's, cell by cell."""
    english = twin(spanish)
    name = spanish.relative_to(BOOK / "es").as_posix()
    if not english.exists():
        return [f"{name}: no English page"]
    es_cells, en_cells = code_cells(spanish), code_cells(english)
    if len(es_cells) != len(en_cells):
        return [f"{name}: {len(es_cells)} code cells in es, {len(en_cells)} in en"]
    problems = []
    for a, b in zip(es_cells, en_cells):
        where = f"{name}: cell {a.index + 1} (es line {a.line}, en line {b.line})"
        try:
            pa, pb = program(a.source), program(b.source)
        except SyntaxError as error:
            problems.append(f"{where}: does not parse: {error}")
            continue
        if pa != pb:
            problems.append(f"{where}: the code differs beyond comments and strings: {_first_difference(pa, pb)}")
    return problems


def parity_problems() -> list[str]:
    problems = []
    for page in pages("es"):
        problems += compare(page)
    for page in pages("en"):
        if not twin(page).exists():
            problems.append(f"{page.relative_to(BOOK / 'en').as_posix()}: English page with no Spanish source")
    return problems


def extract(out: Path, langs: tuple[str, ...] = LANGS) -> dict[Path, list[tuple[int, Cell]]]:
    """Write each page's cells to ``out/<lang>/<page>.py``; return, per file, the line at
    which each cell starts."""
    written = {}
    for lang in langs:
        (out / lang).mkdir(parents=True, exist_ok=True)
        for page in pages(lang):
            target = out / lang / (page.stem.replace("-", "_") + ".py")
            chunks, starts, line = [], [], 1
            for cell in code_cells(page):
                header = f"# %% {page.relative_to(ROOT).as_posix()}, cell {cell.index + 1} (line {cell.line})"
                chunks.append(header + "\n" + cell.source.rstrip("\n") + "\n")
                starts.append((line + 1, cell))
                line += 1 + len(cell.source.rstrip("\n").split("\n"))
            target.write_text("".join(chunks), encoding="utf-8")
            written[target] = starts
    return written


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def lint(ruff: str = "ruff", fix: bool = False) -> int:
    """Ruff over every page's cells (the ``[tool.ruff]`` configuration of pyproject.toml,
    with the per-file rules for ``book/``); findings reported at the page's lines."""
    out = ROOT / "_build" / "cells"  # per-file rules in pyproject.toml name this folder
    with tempfile.TemporaryDirectory(dir=_mkdir(out)) as tmp:
        written = extract(Path(tmp))
        command = [ruff, "check", "--output-format=json", "--config", str(ROOT / "pyproject.toml"),
                   *(str(p) for p in written)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
        if result.returncode not in (0, 1):
            print(result.stderr, file=sys.stderr)
            return result.returncode
        findings = json.loads(result.stdout or "[]")
        for finding in findings:
            path = Path(finding["filename"])
            row, col = finding["location"]["row"], finding["location"]["column"]
            starts = written[path]
            first, cell = max(((s, c) for s, c in starts if s <= row), key=lambda sc: sc[0])
            page_line = cell.line + row - first
            where = cell.page.relative_to(ROOT).as_posix()
            print(f"{where}:{page_line}:{col}: {finding['code']} {finding['message']}")
        print(f"{len(findings)} finding(s) in the code cells of {len(written)} page(s)", file=sys.stderr)
        return 1 if findings else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The book's code cells as programs.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("parity", help="compare each page's code with its twin's")
    extract_parser = sub.add_parser("extract", help="write each page's cells to DIR/<lang>/<page>.py")
    extract_parser.add_argument("out", type=Path)
    extract_parser.add_argument("--lang", choices=LANGS, action="append")
    lint_parser = sub.add_parser("lint", help="ruff over the cells, reported at page lines")
    lint_parser.add_argument("--ruff", default=str(Path(sys.executable).parent / "ruff"))
    args = parser.parse_args(argv)
    if args.command == "parity":
        problems = parity_problems()
        print("\n".join(problems) if problems else "every page runs the same code as its twin")
        return 1 if problems else 0
    if args.command == "extract":
        for path in extract(args.out, tuple(args.lang or LANGS)):
            print(path)
        return 0
    return lint(args.ruff)


if __name__ == "__main__":
    sys.exit(main())
