"""An attention explorer for a page: a trained model's weights, layer by layer and head by head.

:func:`attention_explorer` turns weights of shape ``(layers, heads, L, S)`` and their tokens into
an HTML block that a page displays as a cell's output. The weights travel inside it as JSON; the
site's own script (``_ext/static/attention-explorer.js``) lets a reader choose a layer and a head
and hover or focus a query token to read its row of weights over the keys, by mouse, keyboard
or screen reader. Without the script (a notebook, a printed page) the block still shows the first
query's row of the first layer and head, as a table.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Sequence

import numpy as np
import torch

from ._checks import check_int, check_lang

__all__ = ["AttentionExplorer", "attention_explorer"]

_COUNTER = itertools.count()
TEXT = {
    "es": {"layer": "Capa", "head": "Cabeza", "queries": "Consultas", "key": "Clave", "weight": "Peso",
           "row": "Pesos de la consulta «{token}» (posición {position}) sobre cada clave",
           "help": "Pasa el puntero por una consulta, o llega a ella con el tabulador y muévete con las flechas, "
                   "para ver su fila de pesos; cada fila suma 1.",
           "top": "«{token}» atiende sobre todo a «{key}» ({weight})."},
    "en": {"layer": "Layer", "head": "Head", "queries": "Queries", "key": "Key", "weight": "Weight",
           "row": "Weights of the query \u201c{token}\u201d (position {position}) over each key",
           "help": "Point at a query, or reach it with the Tab key and move with the arrow keys, to see its row "
                   "of weights; each row sums to 1.",
           "top": "\u201c{token}\u201d attends mostly to \u201c{key}\u201d ({weight})."},
}


class AttentionExplorer:
    """The explorer's data and its HTML (``_repr_html_``: Jupyter and myst-nb display it)."""

    def __init__(self, data: dict, title: str) -> None:
        self.data = data
        self.title = title
        self.id = f"attention-explorer-{next(_COUNTER)}"

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        data, words = self.data, TEXT[self.data["lang"]]
        uid, esc = self.id, html.escape
        weights = data["weights"]
        layers, heads = len(weights), len(weights[0])

        def select(role: str, count: int, labels: list[str]) -> str:
            if count == 1:
                return ""
            options = "".join(f'<option value="{i}">{esc(label)}</option>' for i, label in enumerate(labels))
            return (f'<label class="ae-choice">{esc(words[role])} '
                    f'<select data-role="{role}">{options}</select></label>')

        queries = "".join(
            f'<button type="button" class="ae-query" data-index="{i}" aria-pressed="{str(i == 0).lower()}" '
            f'tabindex="{0 if i == 0 else -1}">{esc(token)}</button>' for i, token in enumerate(data["queries"]))
        row = weights[0][0][0]
        rows = "".join(
            f'<tr><th scope="row">{esc(key)}</th><td><span class="ae-bar" style="--ae-weight:{w}"></span>'
            f'<span class="ae-value">{w:.{data["decimals"]}f}</span></td></tr>' for key, w in zip(data["keys"], row))
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
        caption = words["row"].format(token=data["queries"][0], position=1)
        return (
            f'<figure class="attention-explorer" id="{uid}" data-attention-explorer>'
            f'<figcaption class="ae-title">{esc(self.title)}</figcaption>'
            f'<div class="ae-controls">{select("layer", layers, data["layer_labels"])}'
            f'{select("head", heads, data["head_labels"])}</div>'
            f'<p class="ae-help" id="{uid}-help">{esc(words["help"])}</p>'
            f'<div class="ae-queries" role="toolbar" aria-label="{esc(words["queries"])}" '
            f'aria-describedby="{uid}-help">{queries}</div>'
            f'<table class="ae-row"><caption>{esc(caption)}</caption>'
            f'<thead><tr><th scope="col">{esc(words["key"])}</th><th scope="col">{esc(words["weight"])}</th></tr>'
            f'</thead><tbody>{rows}</tbody></table>'
            f'<p class="ae-live" aria-live="polite"></p>'
            f'<script type="application/json" class="ae-data">{payload}</script>'
            f"</figure>"
        )


def attention_explorer(weights: torch.Tensor | np.ndarray, queries: Sequence[str], keys: Sequence[str] | None = None,
                       *, title: str = "", lang: str = "es", layer_labels: Sequence[str] | None = None,
                       head_labels: Sequence[str] | None = None, decimals: int = 3) -> AttentionExplorer:
    """An explorer of attention weights for a page.

    ``weights``: ``(L, S)``, ``(heads, L, S)`` or ``(layers, heads, L, S)``, each row a distribution
    over the ``S`` keys (non-negative, summing to 1, or to 0 for a query that sees no key);
    ``queries``: the ``L`` query tokens; ``keys``: the ``S`` key tokens (default: ``queries``, as in
    self-attention). Labels of the layers and heads default to their numbers, from 1. The weights
    are rounded to ``decimals`` places, which is what the page shows.
    """
    check_lang(lang)
    check_int(decimals, "decimals", minimum=1)
    if isinstance(weights, torch.Tensor):
        weights = weights.detach().cpu().double().numpy()
    if not isinstance(weights, np.ndarray):
        raise TypeError(f"weights: expected a torch.Tensor or numpy.ndarray, got {type(weights).__name__}")
    if weights.ndim not in (2, 3, 4):
        raise ValueError(f"weights: expected shape (L, S), (heads, L, S) or (layers, heads, L, S), "
                         f"got {tuple(weights.shape)}")
    weights = weights.reshape((1,) * (4 - weights.ndim) + weights.shape).astype(np.float64)
    keys = queries if keys is None else keys
    for name, tokens, size in (("queries", queries, weights.shape[2]), ("keys", keys, weights.shape[3])):
        if isinstance(tokens, str) or not all(isinstance(t, str) for t in tokens):
            raise TypeError(f"{name}: expected a sequence of str tokens")
        if len(tokens) != size:
            raise ValueError(f"{name}: {len(tokens)} tokens for {size} {'rows' if name == 'queries' else 'columns'} "
                             f"of weights {tuple(weights.shape)}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("weights: expected finite, non-negative attention weights")
    sums = weights.sum(-1)
    if not (np.isclose(sums, 1, atol=1e-4) | np.isclose(sums, 0, atol=1e-6)).all():
        raise ValueError(f"weights: each row must sum to 1 (or 0 where a query sees no key); sums range "
                         f"{sums.min():.4g}..{sums.max():.4g}")
    labels = {}
    for name, given, count in (("layer_labels", layer_labels, weights.shape[0]),
                               ("head_labels", head_labels, weights.shape[1])):
        given = [str(i + 1) for i in range(count)] if given is None else list(given)
        if len(given) != count:
            raise ValueError(f"{name}: {len(given)} labels for {count}")
        labels[name] = given
    data = {"lang": lang, "decimals": decimals, "queries": list(queries), "keys": list(keys),
            "weights": np.round(weights, decimals).tolist(), **labels, "text": TEXT[lang]}
    return AttentionExplorer(data, title)
