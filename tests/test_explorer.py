"""atencion.explorer: the data and HTML of the attention explorer a page shows."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest
import torch

from atencion.explorer import attention_explorer
from atencion.heads import MultiHeadAttention


def _payload(markup: str) -> dict:
    text = re.search(r'<script type="application/json" class="ae-data">(.*?)</script>', markup, flags=re.S).group(1)
    return json.loads(text)


def test_weights_of_a_model_round_trip_through_the_page():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2)
    x = torch.randn(1, 5, 8)
    _, weights = mha(x)  # (1, h, L, L)
    tokens = ["el", "gato", "<bos>", "</script>", "a&b"]
    explorer = attention_explorer(weights[0], tokens, lang="en", title="A <title>")
    markup = explorer.to_html()
    data = _payload(markup)
    assert np.allclose(np.array(data["weights"]), weights[0][None].detach().numpy(), atol=5e-4)
    assert data["queries"] == tokens and data["keys"] == tokens
    assert data["head_labels"] == ["1", "2"] and data["layer_labels"] == ["1"]
    # tokens are text, never markup: escaped in the HTML, and "</script>" cannot end the data block
    assert "&lt;bos&gt;" in markup and "A &lt;title&gt;" in markup and "a&amp;b" in markup
    assert markup.count("</script>") == 1
    # one select for the heads, none for a single layer
    assert 'data-role="head"' in markup and 'data-role="layer"' not in markup
    # the table shows the first query's row of the first head, rounded as the data
    shown = [float(v) for v in re.findall(r'<span class="ae-value">([^<]+)</span>', markup)]
    assert shown == data["weights"][0][0][0]
    assert explorer._repr_html_() == markup


def test_cross_attention_has_its_own_keys_and_labels():
    weights = torch.softmax(torch.randn(2, 3, 4, 6), dim=-1)
    explorer = attention_explorer(weights, list("abcd"), list("uvwxyz"), layer_labels=["enc", "dec"],
                                  head_labels=["h1", "h2", "h3"], decimals=2)
    data = explorer.data
    assert len(data["weights"]) == 2 and len(data["weights"][0]) == 3 and len(data["weights"][0][0][0]) == 6
    assert data["keys"] == list("uvwxyz") and data["layer_labels"] == ["enc", "dec"]
    assert all(round(v, 2) == v for v in data["weights"][1][2][3])


def test_a_query_that_sees_no_key_may_sum_to_zero():
    weights = torch.tensor([[0.0, 0.0], [0.25, 0.75]])
    assert attention_explorer(weights, ["<pad>", "a"]).data["weights"][0][0][0] == [0.0, 0.0]


@pytest.mark.parametrize(("weights", "queries", "keys", "error", "match"), [
    (torch.ones(2, 3) / 3, ["a", "b", "c"], None, ValueError, "queries: 3 tokens for 2 rows"),
    (torch.ones(2, 3) / 3, ["a", "b"], ["x", "y"], ValueError, "keys: 2 tokens for 3 columns"),
    (torch.ones(2, 2), ["a", "b"], None, ValueError, "each row must sum to 1"),
    (torch.tensor([[1.5, -0.5], [0.5, 0.5]]), ["a", "b"], None, ValueError, "non-negative"),
    (torch.tensor([[float("nan"), 1.0], [0.5, 0.5]]), ["a", "b"], None, ValueError, "finite"),
    (torch.ones(1, 1, 1, 2, 2) / 2, ["a", "b"], None, ValueError, "weights: expected shape"),
    ([[0.5, 0.5]], ["a"], None, TypeError, "weights: expected a torch.Tensor"),
    (torch.ones(1, 2) / 2, "a", ["x", "y"], TypeError, "queries: expected a sequence of str"),
    (torch.ones(1, 2) / 2, ["a"], ["x", 2], TypeError, "keys: expected a sequence of str"),
])
def test_bad_input_names_the_argument(weights, queries, keys, error, match):
    with pytest.raises(error, match=match):
        attention_explorer(weights, queries, keys)


def test_bad_labels_and_language():
    weights = torch.ones(2, 1, 2, 2) / 2
    with pytest.raises(ValueError, match="layer_labels: 1 labels for 2"):
        attention_explorer(weights, ["a", "b"], layer_labels=["x"])
    with pytest.raises(ValueError, match="lang"):
        attention_explorer(weights, ["a", "b"], lang="fr")
    with pytest.raises((ValueError, TypeError), match="decimals"):
        attention_explorer(weights, ["a", "b"], decimals=0)


def test_both_editions_share_the_markup_but_not_the_words():
    weights = torch.ones(3, 3) / 3
    es, en = (attention_explorer(weights, list("abc"), lang=lang).to_html() for lang in ("es", "en"))
    assert "Consultas" in es and "Queries" in en
    assert _payload(es)["weights"] == _payload(en)["weights"]
    assert html.unescape(es) != html.unescape(en)
