"""Bilingual (Spanish/English) plots: attention heatmaps, training curves and graphs.

Nothing here calls ``plt.show()`` or sets a background colour, so the figures
work in the book's light and dark themes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ._checks import check_lang

__all__ = ["PALETTE", "LABELS", "label", "attention_heatmap", "plot_history", "plot_band", "plot_training",
           "draw_graph"]

# Okabe & Ito's colour-blind-safe palette (https://jfly.uni-koeln.de/color/), legible on
# the light and the dark theme; grey ("0.55") is left for baselines and chance.
PALETTE: dict[str, str] = {
    "blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73", "pink": "#CC79A7",
    "orange": "#E69F00", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000",
}

LABELS: dict[str, dict[str, str]] = {
    "es": {
        "query": "Consulta",
        "key": "Clave",
        "value": "Valor",
        "weight": "Peso de atención",
        "epoch": "Época",
        "loss": "Pérdida",
        "accuracy": "Exactitud",
        "source": "Fuente",
        "target": "Objetivo",
        "output": "Salida",
        "train": "entrenamiento",
        "validation": "validación",
        "train_loss": "Pérdida de entrenamiento",
        "val_accuracy": "Exactitud en validación",
        "chance": "azar",
    },
    "en": {
        "query": "Query",
        "key": "Key",
        "value": "Value",
        "weight": "Attention weight",
        "epoch": "Epoch",
        "loss": "Loss",
        "accuracy": "Accuracy",
        "source": "Source",
        "target": "Target",
        "output": "Output",
        "train": "training",
        "validation": "validation",
        "train_loss": "Training loss",
        "val_accuracy": "Validation accuracy",
        "chance": "chance",
    },
}


def label(key: str, lang: str) -> str:
    """The label for ``key`` in ``lang`` (``"es"`` or ``"en"``)."""
    check_lang(lang)
    if key not in LABELS[lang]:
        raise ValueError(f"key: expected one of {sorted(LABELS[lang])!r}, got {key!r}")
    return LABELS[lang][key]


def _to_numpy(weights: object) -> np.ndarray:
    if isinstance(weights, torch.Tensor):
        return weights.detach().cpu().to(torch.float64).numpy()
    return np.asarray(weights, dtype=np.float64)


def attention_heatmap(
    weights: torch.Tensor | np.ndarray,
    *,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    lang: str = "es",
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    annotate: bool = False,
    vmax: float | None = None,
) -> Axes:
    """Heatmap of an ``(L, S)`` attention matrix: queries on rows, keys on columns.

    ``x_labels`` (length ``S``) and ``y_labels`` (length ``L``) are the key and
    query tokens. Axis labels default to "Clave"/"Consulta" (``lang="es"``) or
    "Key"/"Query" (``lang="en"``). ``annotate`` writes each weight in its cell.
    The colour scale runs from 0 to ``vmax`` (default: the largest weight).
    """
    check_lang(lang)
    w = _to_numpy(weights)
    if w.ndim != 2:
        raise ValueError(f"weights: expected a 2-D array (L, S), got shape {w.shape}")
    L, S = w.shape
    for name, ticks, n, axis in (("x_labels", x_labels, S, "S"), ("y_labels", y_labels, L, "L")):
        if ticks is not None and len(ticks) != n:
            raise ValueError(
                f"{name}: expected {n} labels ({axis} of weights with shape {w.shape}), got {len(ticks)}"
            )
    if ax is None:
        _, ax = plt.subplots()

    top = max(float(w.max(initial=0.0)), 1e-12) if vmax is None else float(vmax)
    image = ax.imshow(w, cmap=cmap, vmin=0.0, vmax=top)
    if x_labels is not None:
        ax.set_xticks(np.arange(S), labels=[str(t) for t in x_labels], rotation=45, ha="right",
                      rotation_mode="anchor")
    if y_labels is not None:
        ax.set_yticks(np.arange(L), labels=[str(t) for t in y_labels])
    ax.set_xlabel(label("key", lang) if xlabel is None else xlabel)
    ax.set_ylabel(label("query", lang) if ylabel is None else ylabel)
    if title is not None:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=label("weight", lang))
    if annotate:
        threshold = 0.5 * (image.norm.vmin + image.norm.vmax)
        for (i, j), value in np.ndenumerate(w):  # one text per cell: plotting, not maths
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize="small",
                    color="black" if value > threshold else "white")
    return ax


def _history_label(key: str, lang: str, keys: Sequence[str]) -> str:
    """'loss' -> 'Pérdida', 'val_loss' -> 'Pérdida (validación)'; unknown keys as is."""
    for prefix, split in (("val_", "validation"), ("train_", "train")):
        if key.startswith(prefix) and key[len(prefix):] in LABELS[lang]:
            return f"{LABELS[lang][key[len(prefix):]]} ({LABELS[lang][split]})"
    if key in LABELS[lang]:
        if f"val_{key}" in keys:  # e.g. fit's "loss" plotted next to "val_loss"
            return f"{LABELS[lang][key]} ({LABELS[lang]['train']})"
        return LABELS[lang][key]
    return key


def plot_history(
    history: Mapping[str, Sequence[float]],
    *,
    keys: Sequence[str] = ("loss",),
    ax: Axes | None = None,
    lang: str = "es",
    labels: Mapping[str, str] | None = None,
) -> Axes:
    """Plot ``history[key]`` against the epoch (1, 2, ...) for each of ``keys``.

    Legend entries come from ``labels`` if given, else from :data:`LABELS`
    (``"val_loss"`` becomes e.g. "Pérdida (validación)").
    """
    check_lang(lang)
    if isinstance(keys, str):
        keys = (keys,)
    missing = [k for k in keys if k not in history]
    if missing:
        raise ValueError(f"keys: {missing!r} not in history (available: {sorted(history)!r})")
    if ax is None:
        _, ax = plt.subplots()
    for key in keys:
        values = list(history[key])
        name = labels[key] if labels is not None and key in labels else _history_label(key, lang, keys)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o" if len(values) < 30 else None,
                label=name)
    bases = {k.removeprefix("val_").removeprefix("train_") for k in keys}
    if len(bases) == 1 and (base := bases.pop()) in LABELS[lang]:
        ax.set_ylabel(LABELS[lang][base])
    ax.set_xlabel(label("epoch", lang))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend()
    return ax


def plot_band(ax: Axes, x: Sequence[float], curves: object, *, color: str, label: str | None = None,
              alpha: float = 0.15, **line_kwargs: object) -> Axes:
    """The mean of ``curves`` (``(runs, len(x))``, e.g. one row per seed) against ``x``,
    with a band from their minimum to their maximum; ``line_kwargs`` go to ``ax.plot``."""
    values = _to_numpy(curves)
    if values.ndim == 1:
        values = values[None]
    if values.ndim != 2 or values.shape[1] != len(x):
        raise ValueError(f"curves: expected shape (runs, {len(x)}) (one value per x), got {values.shape}")
    ax.plot(x, values.mean(axis=0), color=color, label=label, **line_kwargs)
    if len(values) > 1:
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=color, alpha=alpha, lw=0)
    return ax


def _runs(value: object, name: str) -> list[Mapping[str, Sequence[float]]]:
    """One history, or a sequence of histories (one per seed), as a list."""
    if isinstance(value, Mapping):
        return [value]
    if isinstance(value, Sequence) and value and all(isinstance(h, Mapping) for h in value):
        return list(value)
    raise TypeError(f"histories[{name!r}]: expected a history dict or a non-empty list of them (one per seed)")


def plot_training(
    histories: Mapping[str, Mapping[str, Sequence[float]] | Sequence[Mapping[str, Sequence[float]]]],
    *,
    labels: Mapping[str, str],
    colors: Mapping[str, str] | None = None,
    lang: str = "es",
    loss_key: str = "loss",
    metric_key: str = "val_accuracy",
    loss_title: str | None = None,
    metric_title: str | None = None,
    log_loss: bool = True,
    chance: float | None = None,
    figsize: tuple[float, float] = (11, 3.8),
):
    """The two-panel training figure: loss (left) and a held-out metric (right) per epoch.

    Args:
        histories: ``{name: history}`` as returned by :func:`atencion.train.fit`, or
            ``{name: [history, ...]}`` over seeds: then the mean is drawn with a
            min–max band.
        labels: the legend entry of each name (every name needs one).
        colors: a colour per name (default: :data:`PALETTE` in order).
        loss_key, metric_key: the history entries of the two panels.
        loss_title, metric_title: panel titles (default: "Pérdida de entrenamiento" /
            "Exactitud en validación", or the English ones, by ``lang``).
        log_loss: a logarithmic loss axis.
        chance: the metric of a random guess (e.g. ``1 / C``): a dashed line on the
            right panel, and ``ln(1 / chance)`` (a uniform prediction's cross-entropy)
            on the left one.

    Returns the figure; one legend, outside the panels on the right.
    """
    check_lang(lang)
    missing = [name for name in histories if name not in labels]
    if missing:
        raise ValueError(f"labels: no label for {missing!r}")
    if colors is None:
        colors = dict(zip(histories, list(PALETTE.values()) * 2))
    elif missing := [name for name in histories if name not in colors]:
        raise ValueError(f"colors: no colour for {missing!r}")
    if chance is not None and not 0 < chance < 1:
        raise ValueError(f"chance: expected a probability in (0, 1), got {chance!r}")
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=figsize, layout="constrained")
    for name, value in histories.items():
        runs = _runs(value, name)
        for ax, key in ((ax_loss, loss_key), (ax_metric, metric_key)):
            if any(key not in h for h in runs):
                raise ValueError(f"histories[{name!r}]: no {key!r} entry")
            curves = np.array([list(h[key]) for h in runs], dtype=np.float64)  # (runs, epochs)
            epochs = np.arange(1, curves.shape[1] + 1)
            plot_band(ax, epochs, curves, color=colors[name], label=labels[name], lw=1.8,
                      marker="o" if len(epochs) < 30 else None, ms=4)
    if chance is not None:
        ax_metric.axhline(chance, color="0.5", ls="--", lw=1, label=label("chance", lang))
        ax_loss.axhline(float(np.log(1 / chance)), color="0.5", ls="--", lw=1)
    if log_loss:
        ax_loss.set_yscale("log")
    ax_loss.set_title(label("train_loss", lang) if loss_title is None else loss_title)
    ax_metric.set_title(label("val_accuracy", lang) if metric_title is None else metric_title)
    for ax in (ax_loss, ax_metric):
        ax.set_xlabel(label("epoch", lang))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, names = ax_metric.get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right center")
    return fig


def draw_graph(
    positions: torch.Tensor | np.ndarray,
    edge_weights: torch.Tensor | np.ndarray,
    *,
    ax: Axes | None = None,
    node_colors: Sequence[str] | None = None,
    node_labels: Sequence[str] | None = None,
    cmap: str = "viridis",
    colorbar: bool = True,
    colorbar_label: str | None = None,
    lang: str = "es",
    node_size: float = 300.0,
    max_width: float = 5.0,
) -> Axes:
    """Draw a graph whose edges are coloured and thickened by a weight.

    Args:
        positions: ``(N, 2)`` node coordinates.
        edge_weights: ``(N, N)`` non-negative weights, e.g. attention weights
            ``alpha[i, j]`` (0 = no edge). An undirected edge ``{i, j}`` is drawn
            once, with the mean of ``w[i, j]`` and ``w[j, i]``; self-loops are
            not drawn.
        node_colors: one colour per node (default: all grey).
        node_labels: one label per node, written on it.
        colorbar_label: the colour bar's label (default: "Peso de atención" /
            "Attention weight", by ``lang``).
    """
    check_lang(lang)
    from matplotlib.collections import LineCollection

    pos = _to_numpy(positions)
    w = _to_numpy(edge_weights)
    N = pos.shape[0]
    if pos.shape != (N, 2):
        raise ValueError(f"positions: expected shape (N, 2), got {pos.shape}")
    if w.shape != (N, N):
        raise ValueError(f"edge_weights: expected shape ({N}, {N}) (N from positions), got {w.shape}")
    if (w < 0).any():
        raise ValueError("edge_weights: expected non-negative weights")
    for name, values in (("node_colors", node_colors), ("node_labels", node_labels)):
        if values is not None and len(values) != N:
            raise ValueError(f"{name}: expected {N} entries (one per node), got {len(values)}")
    if ax is None:
        _, ax = plt.subplots()
    sym = 0.5 * (w + w.T)
    i, j = np.triu_indices(N, k=1)
    keep = sym[i, j] > 0
    i, j, values = i[keep], j[keep], sym[i, j][keep]
    top = max(float(values.max(initial=0.0)), 1e-12)
    lines = LineCollection(np.stack([pos[i], pos[j]], axis=1), array=values, cmap=cmap,
                           norm=plt.Normalize(0.0, top), linewidths=0.5 + max_width * values / top,
                           zorder=1)
    ax.add_collection(lines)
    colors = list(node_colors) if node_colors is not None else ["0.6"] * N
    ax.scatter(pos[:, 0], pos[:, 1], s=node_size, c=colors, edgecolors="black", linewidths=0.8,
               zorder=2)
    if node_labels is not None:
        for (x, y), text in zip(pos, node_labels):
            ax.text(x, y, str(text), ha="center", va="center", fontsize="x-small", zorder=3)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.axis("off")
    if colorbar:
        text = label("weight", lang) if colorbar_label is None else colorbar_label
        ax.figure.colorbar(lines, ax=ax, label=text, shrink=0.8)
    return ax
