"""tools/cells.py: a page and its twin must run the same program."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import cells  # noqa: E402

ES = '''LANG = "es"  # idioma
TEXT = {"loss": "Pérdida", "acc": "Exactitud"}


def train(seed):
    """Entrena un modelo."""
    return seed + 1  # la semilla siguiente


print(f"{TEXT['loss']}: {train(0):.2f} de {LANG}")
'''


def same(a: str, b: str) -> bool:
    return cells.program(a) == cells.program(b)


def test_text_comments_and_docstrings_are_set_aside():
    en = ES.replace('"es"', '"en"').replace("# idioma", "# language").replace("Pérdida", "Loss")
    en = en.replace("Exactitud", "Accuracy").replace("Entrena un modelo.", "Trains a model.")
    en = en.replace("# la semilla siguiente", "# the next seed").replace(" de {LANG}", " in {LANG}")
    assert same(ES, en)
    # a translation may move the words around the values of an f-string
    assert same('print(f"{a} de {b}")', "print(f\"{b}'s {a}\")")


@pytest.mark.parametrize(
    "change",
    [
        ("seed + 1", "seed + 2"),  # a number
        ("def train(seed)", "def train(semilla)"),  # an identifier
        ("return seed + 1", "return seed - 1"),  # an operator
        ('"acc": "Exactitud"}', '"acc": "Exactitud", "x": "y"}'),  # one more label
        (":.2f}", ":.2f} {seed}"),  # another value printed
    ],
)
def test_a_difference_in_the_program_is_found(change):
    assert not same(ES, ES.replace(*change))


def test_code_cells_skip_options_and_yaml_blocks(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "# T\n\n```{code-cell} python\n:tags: [remove-cell]\nx = 1\n```\n\ntext\n\n"
        "````{code-cell} python\n---\ntags: [hide-input]\n---\ny = 2\n````\n",
        encoding="utf-8",
    )
    found = cells.code_cells(page)
    assert [c.source for c in found] == ["x = 1", "y = 2"]
    assert [c.line for c in found] == [5, 14]


def test_every_page_runs_the_same_code_as_its_twin():
    assert cells.parity_problems() == []
