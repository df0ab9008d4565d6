"""What a build ran with: the commit of the checkout and the versions of the library and PyTorch.

The execution status page (``status.py``) and the downloadable notebooks (``notebooks.py``)
both name the commit that built a page; they take it from here, once per build.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Commit:
    sha: str  # 40 hex digits, or "" outside a git checkout
    dirty: bool  # the working tree differs from it (a local build with uncommitted changes)

    @property
    def short(self) -> str:
        return self.sha[:7]


@cache
def commit(root: Path = ROOT) -> Commit:
    """The checkout's HEAD and whether tracked files differ from it."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip() != ""
    except (OSError, subprocess.CalledProcessError):
        return Commit("", False)
    return Commit(sha, dirty)


def version(distribution: str) -> str:
    """The installed version of a distribution, or "?" when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


# The book as one PDF per edition (tools/pdf.py), at the root of each edition's folder.
PDF_NAME = {"es": "mecanismos-de-atencion.pdf", "en": "attention-mechanisms.pdf"}


def now():
    """The build's date (UTC)."""
    from datetime import UTC, datetime

    return datetime.now(UTC)
