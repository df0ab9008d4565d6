"""Execute one MyST chapter outside the book build and time each cell.

Usage: python tools/exec_page.py book/es/01-atencion-recurrente.md [--save out.ipynb]

The book build remains the reference; this is a quick check while writing a page.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
from myst_nb.core.read import read_myst_markdown_notebook
from nbclient import NotebookClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("--save", type=Path, default=None, help="write the executed notebook here")
    args = parser.parse_args()
    nb = read_myst_markdown_notebook(args.page.read_text(encoding="utf-8"))
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(args.page.parent)}})
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t0 = time.perf_counter()
            client.execute_cell(cell, index)
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            print(f"cell {index:3d}  {time.perf_counter() - t0:7.2f} s  {first[:70]}")
    print(f"total {time.perf_counter() - start:.1f} s")
    if args.save:
        nbformat.write(nb, args.save)


if __name__ == "__main__":
    main()
