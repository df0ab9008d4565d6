"""Keep the English edition a faithful twin of the Spanish one.

Every English page ``book/en/X.md`` records, in its front matter, the SHA-256 of the
Spanish page ``book/es/X.md`` it translates::

    translation:
      source_sha256: 3f5a...

Commands (run from the repository root)::

    python tools/i18n.py stale            # list English pages whose Spanish source changed
    python tools/i18n.py parity           # list structural differences between the editions
    python tools/i18n.py stamp book/en/X.md [...]   # record the current Spanish hash

Run ``stamp`` only after the English page has been brought up to date with its source.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ES, EN = ROOT / "book" / "es", ROOT / "book" / "en"
TOC = {"es": ROOT / "_toc.yml", "en": EN / "_toc.yml"}

_FRONT = re.compile(r"\A---\n(.*?\n)---\n", re.S)
_PATTERNS = {
    "labels": re.compile(r"^\(([^()\s]+)\)=\s*$", re.M),
    "equations": re.compile(r"\$\$\s*\((eq-[^)\s]+)\)"),
    "directive labels": re.compile(r"^:label:\s*(\S+)\s*$", re.M),
    "names": re.compile(r"^:name:\s*(\S+)\s*$", re.M),
    "glue names": re.compile(r"""\bglue\(\s*["']([^"']+)["']"""),
    "glue references": re.compile(r"\{glue(?::\w+)?\}`([^`:]+)"),
    "solutions": re.compile(r"^```+\{solution(?:-start)?\}\s+(\S+)", re.M),
}
_CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")
_CELL = re.compile(r"^```+\{code-cell\}[^\n]*\n((?::[^\n]*\n)*)", re.M)


def source_hash(path: Path) -> str:
    """SHA-256 of a page's bytes, as recorded by ``stamp``."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def front_matter(path: Path) -> dict:
    match = _FRONT.match(path.read_text(encoding="utf-8"))
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def twin(page: Path) -> Path:
    """The page with the same name in the other edition."""
    page = page.resolve()
    if page.is_relative_to(ES):
        return EN / page.relative_to(ES)
    if page.is_relative_to(EN):
        return ES / page.relative_to(EN)
    raise ValueError(f"page: expected a file under {ES} or {EN}, got {page}")


def recorded_hash(english: Path) -> str | None:
    return (front_matter(english).get("translation") or {}).get("source_sha256")


def is_stale(english: Path) -> bool:
    """True when the Spanish source changed since ``english`` was stamped (or never was)."""
    spanish = twin(english)
    return not spanish.exists() or recorded_hash(english) != source_hash(spanish)


def pages(edition: Path) -> list[Path]:
    return sorted(p for p in edition.rglob("*.md") if not p.name.startswith("_"))


def stale_pages() -> list[Path]:
    return [p for p in pages(EN) if is_stale(p)]


def stamp(english: Path) -> None:
    """Record the current hash of the Spanish source in ``english``'s front matter."""
    text = english.read_text(encoding="utf-8")
    digest = source_hash(twin(english))
    match = _FRONT.match(text)
    if not match:
        raise ValueError(f"{english}: expected YAML front matter between '---' lines")
    head = match.group(1)
    if re.search(r"^\s+source_sha256:", head, re.M):
        head = re.sub(r"^(\s+source_sha256:).*$", rf"\g<1> {digest}", head, flags=re.M)
    else:
        head += f"translation:\n  source_sha256: {digest}\n"
    english.write_text(f"---\n{head}---\n" + text[match.end():], encoding="utf-8")


@dataclass
class Structure:
    """What must be identical between a page and its translation."""

    cells: list[tuple[str, ...]] = field(default_factory=list)  # tags of each code cell
    keys: dict[str, Counter] = field(default_factory=dict)


def structure(page: Path) -> Structure:
    text = page.read_text(encoding="utf-8")
    body = _FRONT.sub("", text, count=1)
    out = Structure()
    for match in _CELL.finditer(body):
        options = match.group(1)
        tags = re.search(r"^:tags:\s*\[([^\]]*)\]", options, re.M)
        out.cells.append(tuple(t.strip().strip("'\"") for t in tags.group(1).split(",")) if tags else ())
    for name, pattern in _PATTERNS.items():
        out.keys[name] = Counter(pattern.findall(body))
    cites: Counter = Counter()
    for group in _CITE.findall(body):
        cites.update(k.strip() for k in group.split(","))
    out.keys["citations"] = cites
    return out


def compare(spanish: Path, english: Path) -> list[str]:
    """Differences in structure between a Spanish page and its English twin."""
    a, b = structure(spanish), structure(english)
    problems = []
    name = spanish.relative_to(ES).as_posix()
    if len(a.cells) != len(b.cells):
        problems.append(f"{name}: {len(a.cells)} code cells in es, {len(b.cells)} in en")
    elif a.cells != b.cells:
        problems.append(f"{name}: code-cell tags differ: es {a.cells} / en {b.cells}")
    for key in a.keys:
        if a.keys[key] != b.keys[key]:
            only_es = sorted((a.keys[key] - b.keys[key]).elements())
            only_en = sorted((b.keys[key] - a.keys[key]).elements())
            problems.append(f"{name}: {key} differ: only in es {only_es}, only in en {only_en}")
    return problems


def toc_shape(path: Path) -> object:
    """The table of contents with captions and titles removed: files and nesting only."""

    def strip(node: object) -> object:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in {"caption", "title"}}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(yaml.safe_load(path.read_text(encoding="utf-8")))


def parity_problems() -> list[str]:
    problems = []
    es_names = {p.relative_to(ES).as_posix() for p in pages(ES)}
    en_names = {p.relative_to(EN).as_posix() for p in pages(EN)}
    problems += [f"{n}: no English page" for n in sorted(es_names - en_names)]
    problems += [f"{n}: English page with no Spanish source" for n in sorted(en_names - es_names)]
    for name in sorted(es_names & en_names):
        problems += compare(ES / name, EN / name)
    if toc_shape(TOC["es"]) != toc_shape(TOC["en"]):
        problems.append("_toc.yml and book/en/_toc.yml differ in shape")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Parity and freshness of the two editions.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("stale", help="list English pages whose Spanish source has changed")
    sub.add_parser("parity", help="list structural differences between the editions")
    stamp_parser = sub.add_parser("stamp", help="record the Spanish source's hash in English pages")
    stamp_parser.add_argument("pages", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.command == "stale":
        stale = stale_pages()
        for page in stale:
            print(page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else page)
        print(f"{len(stale)} stale page(s)", file=sys.stderr)
        return 1 if stale else 0
    if args.command == "parity":
        problems = parity_problems()
        print("\n".join(problems) if problems else "the two editions have the same structure")
        return 1 if problems else 0
    for page in args.pages:
        stamp(page)
        print(f"stamped {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
