"""Tests for atencion.fmt."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from atencion import fmt

NNBSP = "\u202f"


def test_integers_are_grouped_in_each_language():
    assert fmt.integer(2_099_712, "es") == f"2{NNBSP}099{NNBSP}712"
    assert fmt.integer(2_099_712, "en") == "2,099,712"
    assert fmt.integer(32768, "es") == f"32{NNBSP}768"
    assert fmt.integer(2048, "es") == "2048"  # four digits are not split in Spanish (RAE)
    assert fmt.integer(-2048, "es") == "-2048"
    assert fmt.integer(2048, "en") == "2,048"
    assert fmt.integer(999, "es") == "999"
    assert fmt.integer(np.int64(-1234), "en") == "-1,234"


def test_numbers_percentages_and_spans():
    assert fmt.number(1234.5, "es", ",.1f") == "1234.5"
    assert fmt.number(12345.5, "es", ",.1f") == f"12{NNBSP}345.5"
    assert fmt.number(1234.5, "en", ".1f") == "1234.5"  # no comma in the spec: no grouping
    assert fmt.percent(0.9652, "es") == "96.5%"
    assert fmt.percent(0.5, "en", digits=0) == "50%"
    assert fmt.span([0.951, 0.97, 0.96], "en") == "95.1%–97.0%"
    assert fmt.span([0.9651, 0.9649], "es") == "96.5%"  # both ends print the same


@given(st.integers(-10**12, 10**12))
def test_grouping_reads_back(n):
    assert int(fmt.integer(n, "es").replace(NNBSP, "")) == n
    assert int(fmt.integer(n, "en").replace(",", "")) == n


def test_join_words():
    assert fmt.join_words(["a", "b", "c"], "es") == "a, b y c"
    assert fmt.join_words([1, 2], "en") == "1 and 2"
    assert fmt.join_words(["solo"], "es") == "solo"


def test_markdown_table():
    table = fmt.markdown_table(["Model", "Accuracy"], [["a", "90%"], ["b", "80%"]])
    assert table.splitlines() == ["| Model | Accuracy |", "|---|---:|", "| a | 90% |", "| b | 80% |"]
    assert fmt.markdown_table(["x", "y"], [], align="rr").splitlines()[1] == "|---:|---:|"


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: fmt.integer(3, "fr"), ValueError, "lang"),
        (lambda: fmt.integer(3.5, "es"), TypeError, "n"),
        (lambda: fmt.integer(True, "es"), TypeError, "n"),
        (lambda: fmt.number(3, "es", 3), TypeError, "spec"),
        (lambda: fmt.percent(0.3, "es", digits=-1), ValueError, "digits"),
        (lambda: fmt.span([], "es"), ValueError, "values"),
        (lambda: fmt.join_words([], "es"), ValueError, "words"),
        (lambda: fmt.markdown_table(["a", "b"], [[1]]), ValueError, "row 0"),
        (lambda: fmt.markdown_table(["a", "b"], [], align="lc"), ValueError, "align"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
