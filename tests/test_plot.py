"""Tests for atencion.plot (Agg backend, see conftest.py)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from atencion.plot import LABELS, attention_heatmap, label, plot_history

REQUIRED = {
    "query": ("Consulta", "Query"),
    "key": ("Clave", "Key"),
    "weight": ("Peso de atención", "Attention weight"),
    "epoch": ("Época", "Epoch"),
    "loss": ("Pérdida", "Loss"),
    "accuracy": ("Exactitud", "Accuracy"),
    "source": ("Fuente", "Source"),
    "output": ("Salida", "Output"),
    "train": ("entrenamiento", "training"),
    "validation": ("validación", "validation"),
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("key", list(REQUIRED))
def test_labels_in_both_languages(key):
    es, en = REQUIRED[key]
    assert label(key, "es") == es == LABELS["es"][key]
    assert label(key, "en") == en == LABELS["en"][key]


def test_label_tables_have_the_same_keys():
    assert set(LABELS["es"]) == set(LABELS["en"])


@pytest.mark.parametrize("key,lang,match", [("query", "fr", "lang"), ("nope", "es", "key")])
def test_label_bad_input(key, lang, match):
    with pytest.raises(ValueError, match=match):
        label(key, lang)


def weights_3x4():
    return torch.softmax(torch.randn(3, 4, generator=torch.Generator().manual_seed(0)), -1)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_heatmap_default_labels_follow_lang(lang):
    ax = attention_heatmap(weights_3x4(), lang=lang)
    assert ax.get_xlabel() == label("key", lang)
    assert ax.get_ylabel() == label("query", lang)
    colorbar_ax = ax.figure.axes[-1]
    assert colorbar_ax is not ax
    assert colorbar_ax.get_ylabel() == label("weight", lang)


def test_heatmap_tokens_title_and_overrides():
    src, tgt = ["el", "gato", "come", "<eos>"], ["the", "cat", "eats"]
    fig, ax0 = plt.subplots()
    ax = attention_heatmap(weights_3x4().numpy(), x_labels=src, y_labels=tgt, ax=ax0, lang="en",
                           xlabel="Source", ylabel="Output", title="Bahdanau", colorbar=False)
    assert ax is ax0 and len(fig.axes) == 1
    assert [t.get_text() for t in ax.get_xticklabels()] == src
    assert [t.get_text() for t in ax.get_yticklabels()] == tgt
    assert all(t.get_rotation() != 0 for t in ax.get_xticklabels())
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("Source", "Output", "Bahdanau")


def test_heatmap_image_data_cmap_and_vmin():
    w = weights_3x4()
    ax = attention_heatmap(w.requires_grad_())  # a tensor that requires grad is fine
    (image,) = ax.get_images()
    np.testing.assert_allclose(image.get_array(), w.detach().numpy(), rtol=1e-6)
    assert image.get_cmap().name == "viridis"
    assert image.norm.vmin == 0.0


def test_heatmap_annotate_writes_each_weight():
    ax = attention_heatmap(weights_3x4(), annotate=True, colorbar=False)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 12
    assert texts[0] == f"{weights_3x4()[0, 0].item():.2f}"


def test_heatmap_sets_no_background_colour():
    fig, ax = plt.subplots()
    default_fig, default_ax = fig.get_facecolor(), ax.get_facecolor()
    attention_heatmap(weights_3x4(), ax=ax)
    assert fig.get_facecolor() == default_fig and ax.get_facecolor() == default_ax


@pytest.mark.parametrize(
    "weights,kwargs,match",
    [
        (torch.rand(2, 3, 4), {}, r"weights: .*\(L, S\)"),
        (np.ones(5), {}, "weights"),
        (torch.rand(3, 4), {"x_labels": ["a", "b"]}, r"x_labels: expected 4"),
        (torch.rand(3, 4), {"y_labels": ["a", "b", "c", "d"]}, r"y_labels: expected 3"),
        (torch.rand(3, 4), {"lang": "de"}, "lang"),
    ],
)
def test_heatmap_bad_input(weights, kwargs, match):
    with pytest.raises(ValueError, match=match):
        attention_heatmap(weights, **kwargs)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_plot_history_labels_follow_lang(lang):
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.4], "time": [0.1, 0.2, 0.3]}
    ax = plot_history(history, keys=("loss", "val_loss"), lang=lang)
    assert ax.get_xlabel() == label("epoch", lang)
    assert ax.get_ylabel() == label("loss", lang)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        f"{label('loss', lang)} ({label('train', lang)})",
        f"{label('loss', lang)} ({label('validation', lang)})",
    ]
    (line, _) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), history["loss"])


def test_plot_history_single_key_custom_labels_and_ax():
    fig, ax0 = plt.subplots()
    history = {"loss": [1.0, 0.5], "accuracy": [0.3, 0.9]}
    ax = plot_history(history, keys=("accuracy",), ax=ax0, lang="en")
    assert ax is ax0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Accuracy"]
    ax = plot_history(history, keys=("loss", "accuracy"), labels={"loss": "L"}, lang="es")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["L", "Exactitud"]


@pytest.mark.parametrize("kwargs,match", [({"keys": ("nope",)}, "keys"), ({"lang": "fr"}, "lang")])
def test_plot_history_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_history({"loss": [1.0]}, **kwargs)


# --------------------------------------------------------------------------- graphs


def test_draw_graph_draws_each_undirected_edge_once():
    from matplotlib.collections import LineCollection

    from atencion.plot import draw_graph

    positions = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    w = torch.zeros(4, 4)
    w[0, 1], w[1, 0], w[2, 3], w[1, 1] = 0.2, 0.6, 1.0, 0.9  # the self-loop is not drawn
    fig, ax = plt.subplots()
    draw_graph(positions, w, ax=ax, node_labels=list("abcd"), node_colors=["red"] * 4, lang="en")
    lines = [c for c in ax.collections if isinstance(c, LineCollection)][0]
    assert len(lines.get_segments()) == 2
    np.testing.assert_allclose(sorted(lines.get_array()), [0.4, 0.5])  # mean of both directions
    assert [t.get_text() for t in ax.texts] == list("abcd")
    assert fig.axes[-1].get_ylabel() == "Attention weight"
    plt.close(fig)
    fig, ax = plt.subplots()
    draw_graph(positions, w, ax=ax, colorbar_label="mean weight")
    assert fig.axes[-1].get_ylabel() == "mean weight"
    plt.close(fig)


@pytest.mark.parametrize(
    ("positions", "weights", "kwargs", "match"),
    [
        (np.zeros((3, 3)), np.zeros((3, 3)), {}, "positions"),
        (np.zeros((3, 2)), np.zeros((2, 2)), {}, r"edge_weights: expected shape \(3, 3\)"),
        (np.zeros((2, 2)), -np.ones((2, 2)), {}, "non-negative"),
        (np.zeros((2, 2)), np.ones((2, 2)), {"node_labels": ["a"]}, "node_labels"),
        (np.zeros((2, 2)), np.ones((2, 2)), {"lang": "fr"}, "lang"),
    ],
)
def test_draw_graph_bad_input(positions, weights, kwargs, match):
    from atencion.plot import draw_graph

    with pytest.raises(ValueError, match=match):
        draw_graph(positions, weights, **kwargs)
    plt.close("all")



def test_attention_heatmap_vmax_sets_the_scale_and_the_text_colours():
    fig, ax = plt.subplots()
    attention_heatmap(np.array([[0.2, 0.4]]), ax=ax, vmax=1.0, annotate=True, colorbar=False)
    assert ax.images[0].norm.vmax == 1.0
    assert [t.get_color() for t in ax.texts] == ["white", "white"]  # both below half of vmax
    plt.close(fig)


def test_plot_training_two_panels_with_seed_bands_and_chance():
    from atencion.plot import PALETTE, plot_training

    one = {"loss": [2.0, 1.0, 0.5], "val_accuracy": [0.3, 0.6, 0.9]}
    seeds = [{"loss": [2.0, 1.5, 1.0], "val_accuracy": [0.2, 0.4, 0.5]},
             {"loss": [2.0, 1.1, 0.8], "val_accuracy": [0.3, 0.5, 0.7]}]
    fig = plot_training({"a": one, "b": seeds}, labels={"a": "A", "b": "B"}, chance=0.1, lang="en")
    ax_loss, ax_metric = fig.axes
    assert ax_loss.get_yscale() == "log"
    assert [ax_loss.get_title(), ax_metric.get_title()] == ["Training loss", "Validation accuracy"]
    lines = {line.get_label(): line for line in ax_metric.get_lines()}
    np.testing.assert_allclose(lines["B"].get_ydata(), [0.25, 0.45, 0.6])  # mean over seeds
    assert lines["A"].get_color() == PALETTE["blue"]
    assert len(ax_metric.collections) == 1  # a min–max band for the seeds only
    np.testing.assert_allclose(ax_loss.get_lines()[-1].get_ydata(), np.log(10))  # uniform prediction
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["A", "B", "chance"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"labels": {}}, ValueError, "labels"),
        ({"labels": {"a": "A"}, "colors": {}}, ValueError, "colors"),
        ({"labels": {"a": "A"}, "chance": 1.5}, ValueError, "chance"),
        ({"labels": {"a": "A"}, "metric_key": "val_bleu"}, ValueError, "val_bleu"),
        ({"labels": {"a": "A"}, "lang": "fr"}, ValueError, "lang"),
    ],
)
def test_plot_training_bad_input(kwargs, error, match):
    from atencion.plot import plot_training

    with pytest.raises(error, match=match):
        plot_training({"a": {"loss": [1.0], "val_accuracy": [0.5]}}, **kwargs)


def test_plot_band_draws_the_mean_and_the_spread():
    from atencion.plot import plot_band

    _, ax = plt.subplots()
    plot_band(ax, [1, 2, 3], torch.tensor([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]]), color="C0", label="m", marker="o")
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [1.0, 2.0, 3.0])
    assert line.get_label() == "m" and line.get_marker() == "o"
    assert len(ax.collections) == 1
    with pytest.raises(ValueError, match="curves"):
        plot_band(ax, [1, 2], np.zeros((2, 3)), color="C0")
