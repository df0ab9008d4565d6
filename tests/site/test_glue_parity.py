"""The two builds print the same results: every glued value of a page has the same numbers
in the Spanish and the English edition, except those the page declares machine-dependent
(``tools/glue_parity.py`` says how)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.site

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

import glue_parity  # noqa: E402


def test_both_editions_glue_the_same_numbers():
    build = Path(os.environ.get("BUILD_DIR") or REPO / "_build")
    problems, compared, _ = glue_parity.check(build)
    assert not problems, "\n".join(problems)
    assert compared > 300, f"only {compared} glued values compared: is the build complete?"
