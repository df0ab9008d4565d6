"""Tests for atencion.graph: GraphAttention against torch_geometric's GATConv, its
invariants, GAT, edges_to_adjacency and convolution as aggregation."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from atencion import data
from atencion.graph import (
    GAT,
    GraphAttention,
    conv2d_as_aggregation,
    edges_to_adjacency,
    freeze_uniform_attention,
)

TOL64 = dict(atol=1e-10, rtol=1e-8)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from torch_geometric.nn import GATConv


def random_graph(N, *, p=0.4, seed=0, symmetric=False):
    g = torch.Generator().manual_seed(seed)
    adjacency = torch.rand(N, N, generator=g) < p
    if symmetric:
        adjacency = adjacency | adjacency.T
    return adjacency & ~torch.eye(N, dtype=torch.bool)


def layer(in_f=5, out_f=3, *, seed=0, **kwargs):
    torch.manual_seed(seed)
    m = GraphAttention(in_f, out_f, **kwargs).double()
    with torch.no_grad():  # a non-zero bias, so that the oracle checks it too
        if m.bias is not None:
            m.bias.normal_()
    return m


# --------------------------------------------------------------------------- oracle


@pytest.mark.parametrize("heads", [1, 3])
@pytest.mark.parametrize("concat", [True, False])
@pytest.mark.parametrize("negative_slope", [0.2, 0.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_torch_geometric_gatconv(heads, concat, negative_slope, seed):
    """Same weights, same graph: same output, same attention, same gradients.

    adjacency[i, j] (node i receives from j) is PyG's edge j -> i."""
    N = 7
    adjacency = random_graph(N, seed=seed)
    ours = layer(5, 3, heads=heads, concat=concat, negative_slope=negative_slope, seed=seed)
    ref = GATConv(5, 3, heads=heads, concat=concat, negative_slope=negative_slope).double()
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight)
        ref.att_src.copy_(ours.att_src)
        ref.att_dst.copy_(ours.att_dst)
        ref.bias.copy_(ours.bias)
    target, source = adjacency.nonzero().T
    edge_index = torch.stack([source, target])  # (2, E): messages j -> i
    x1 = torch.randn(N, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    x1.requires_grad_()
    x2 = x1.detach().clone().requires_grad_()
    y, w = ours(x1, adjacency)
    y_ref, (edges, alpha) = ref(x2, edge_index, return_attention_weights=True)
    torch.testing.assert_close(y, y_ref, **TOL64)
    dense = torch.zeros(heads, N, N, dtype=torch.float64)
    dense[:, edges[1], edges[0]] = alpha.T  # alpha[e, h] for the edge source -> target
    torch.testing.assert_close(w, dense, **TOL64)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    (y_ref * g).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad, **TOL64)
    torch.testing.assert_close(ours.att_src.grad, ref.att_src.grad, **TOL64)
    torch.testing.assert_close(ours.lin.weight.grad, ref.lin.weight.grad, **TOL64)


def test_scores_are_the_split_concatenation():
    """a^T [z_i || z_j] = a_dst . z_i + a_src . z_j, before the LeakyReLU."""
    m = layer(4, 3, heads=2)
    z = torch.randn(1, 2, 5, 3, dtype=torch.float64)
    a = torch.cat([m.att_dst[0], m.att_src[0]], dim=-1)  # (heads, 2F')
    pairs = torch.cat([z[..., :, None, :].expand(1, 2, 5, 5, 3),
                       z[..., None, :, :].expand(1, 2, 5, 5, 3)], dim=-1)  # (1, h, N, N, 2F')
    expected = F.leaky_relu(torch.einsum("hf,bhijf->bhij", a, pairs), 0.2)
    torch.testing.assert_close(m.scores(z), expected, **TOL64)


# --------------------------------------------------------------------------- properties


@settings(max_examples=25, deadline=None)
@given(N=st.integers(2, 8), heads=st.integers(1, 3), seed=st.integers(0, 10_000))
def test_weights_live_on_the_graph_and_sum_to_one(N, heads, seed):
    adjacency = random_graph(N, seed=seed)
    m = layer(4, 2, heads=heads, seed=seed)
    _, w = m(torch.randn(N, 4, dtype=torch.float64), adjacency)
    allowed = adjacency | torch.eye(N, dtype=torch.bool)
    assert (w[:, ~allowed] == 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(heads, N, dtype=torch.float64))


@settings(max_examples=25, deadline=None)
@given(N=st.integers(2, 8), seed=st.integers(0, 10_000))
def test_permutation_equivariance(N, seed):
    adjacency = random_graph(N, seed=seed)
    m = layer(4, 2, heads=2, seed=seed)
    x = torch.randn(N, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(seed + 1))
    y, w = m(x, adjacency)
    y_p, w_p = m(x[perm], adjacency[perm][:, perm])
    torch.testing.assert_close(y_p, y[perm], **TOL64)
    torch.testing.assert_close(w_p, w[:, perm][:, :, perm], **TOL64)


@settings(max_examples=25, deadline=None)
@given(N=st.integers(3, 8), seed=st.integers(0, 10_000))
def test_non_neighbours_cannot_change_a_node(N, seed):
    adjacency = random_graph(N, seed=seed)
    m = layer(4, 2, heads=2, seed=seed)
    x = torch.randn(N, 4, dtype=torch.float64)
    j = seed % N
    x2 = x.clone()
    x2[j] += 3.0
    unaffected = ~adjacency[:, j]
    unaffected[j] = False
    torch.testing.assert_close(m(x, adjacency)[0][unaffected], m(x2, adjacency)[0][unaffected], **TOL64)


def test_batched_equals_one_graph_at_a_time():
    m = layer(4, 3, heads=2)
    xs = torch.randn(3, 6, 4, dtype=torch.float64)
    adjs = torch.stack([random_graph(6, seed=s) for s in range(3)])
    y, w = m(xs, adjs)
    assert y.shape == (3, 6, 6) and w.shape == (3, 2, 6, 6)
    for b in range(3):
        y_b, w_b = m(xs[b], adjs[b])
        torch.testing.assert_close(y[b], y_b, **TOL64)
        torch.testing.assert_close(w[b], w_b, **TOL64)
    shared, _ = m(xs, adjs[0])  # one adjacency for the whole batch
    torch.testing.assert_close(shared[0], y[0], **TOL64)


def test_concat_and_average_shapes():
    x, adjacency = torch.randn(2, 5, 4), random_graph(5)
    assert GraphAttention(4, 3, heads=4)(x, adjacency)[0].shape == (2, 5, 12)
    assert GraphAttention(4, 3, heads=4, concat=False)(x, adjacency)[0].shape == (2, 5, 3)
    m = layer(4, 3, heads=4, concat=False)
    x64 = x.double()
    concat = layer(4, 3, heads=4, concat=True)
    with torch.no_grad():
        concat.bias.zero_()
        m.bias.zero_()
        for name in ("att_src", "att_dst"):
            getattr(concat, name).copy_(getattr(m, name))
        concat.lin.weight.copy_(m.lin.weight)
    averaged = concat(x64, adjacency)[0].view(2, 5, 4, 3).mean(2)
    torch.testing.assert_close(m(x64, adjacency)[0], averaged, **TOL64)


def test_isolated_node_without_self_loop_gets_zeros_not_nan():
    m = layer(3, 2, add_self_loops=False)
    adjacency = torch.tensor([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=torch.bool)
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    y, w = m(x, adjacency)
    assert (w[0, 2] == 0).all()
    torch.testing.assert_close(y[2], m.bias, **TOL64)
    y.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_gradcheck():
    m = layer(3, 2, heads=2)
    adjacency = random_graph(4, seed=3)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: m(t, adjacency)[0], (x,))


def test_attention_dropout_only_in_training():
    torch.manual_seed(0)
    m = GraphAttention(4, 3, heads=2, dropout=0.5)
    x, adjacency = torch.randn(6, 4), random_graph(6, p=0.9)
    m.eval()
    torch.testing.assert_close(m(x, adjacency)[1], m(x, adjacency)[1])
    m.train()
    assert not torch.allclose(m(x, adjacency)[1], m(x, adjacency)[1])


def test_gat_learns_the_karate_club_from_its_two_leaders():
    club = data.karate_club()
    torch.manual_seed(0)
    model = GAT(34, 8, 2, heads=4, dropout=0.5)
    x, labelled = torch.eye(34), torch.tensor([0, 33])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    for _ in range(200):
        logits, _ = model(x, club.adjacency)
        loss = F.cross_entropy(logits[labelled], club.labels[labelled])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    logits, (w1, w2) = model(x, club.adjacency)
    assert w1.shape == (4, 34, 34) and w2.shape == (1, 34, 34)
    accuracy = (logits.argmax(-1) == club.labels)[1:33].float().mean()
    assert accuracy > 0.75


def test_freeze_uniform_attention_gives_the_mean_over_each_neighbourhood():
    torch.manual_seed(0)
    model = freeze_uniform_attention(GAT(5, 3, 2, heads=2))
    adjacency = random_graph(6, seed=4)
    x = torch.randn(6, 5)
    logits, (w1, w2) = model(x, adjacency)
    allowed = (adjacency | torch.eye(6, dtype=torch.bool)).float()
    uniform = allowed / allowed.sum(-1, keepdim=True)
    torch.testing.assert_close(w1, uniform.expand(2, 6, 6))
    torch.testing.assert_close(w2, uniform[None])
    logits.sum().backward()
    assert model.layer1.att_src.grad is None and model.layer2.att_dst.grad is None
    assert model.layer1.lin.weight.grad is not None
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert not any("att_" in n for n in trainable)
    with pytest.raises(ValueError, match="GraphAttention"):
        freeze_uniform_attention(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="module"):
        freeze_uniform_attention("gat")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: GraphAttention(0, 3), ValueError, "in_features"),
        (lambda: GraphAttention(3, 3, heads=0), ValueError, "heads"),
        (lambda: GraphAttention(3, 3, concat=1), TypeError, "concat"),
        (lambda: GraphAttention(3, 3, negative_slope=-1), ValueError, "negative_slope"),
        (lambda: GraphAttention(3, 3, dropout=2), ValueError, "dropout"),
        (lambda: GraphAttention(3, 2)(torch.ones(4, 5), torch.ones(4, 4)),
         ValueError, r"x: expected shape \(B, N, 3\)"),
        (lambda: GraphAttention(3, 2)(torch.ones(4, 3, dtype=torch.long), torch.ones(4, 4)),
         TypeError, "x: expected a floating"),
        (lambda: GraphAttention(3, 2)(torch.ones(4, 3), torch.ones(5, 5)),
         ValueError, r"adjacency: expected shape \(4, 4\)"),
        (lambda: GraphAttention(3, 2)(torch.ones(2, 4, 3), torch.ones(3, 4, 4)), ValueError, "adjacency"),
        (lambda: GraphAttention(3, 2)(torch.ones(4, 3), [[1]]), TypeError, "adjacency"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --------------------------------------------------------------------------- edges


def test_edges_to_adjacency():
    a = edges_to_adjacency([(0, 1), (2, 1)], 3)
    assert a.tolist() == [[False, True, False], [True, False, True], [False, True, False]]
    d = edges_to_adjacency(torch.tensor([[0, 1]]), 2, symmetric=False)
    assert d.tolist() == [[False, True], [False, False]]
    assert not edges_to_adjacency([], 2).any()
    with pytest.raises(ValueError, match=r"edges: expected node indices in \[0, 2\]"):
        edges_to_adjacency([(0, 3)], 3)
    with pytest.raises(ValueError, match=r"edges: expected pairs"):
        edges_to_adjacency(torch.tensor([0, 1, 2]), 3)
    with pytest.raises(TypeError, match="edges"):
        edges_to_adjacency(torch.tensor([[0.0, 1.0]]), 3)
    with pytest.raises(ValueError, match="num_nodes"):
        edges_to_adjacency([(0, 1)], 0)


# --------------------------------------------------------------------------- convolution


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("channels", [(1, 1), (3, 2)])
def test_conv2d_as_aggregation_matches_conv2d(k, channels):
    C, C_out = channels
    g = torch.Generator().manual_seed(k)
    x = torch.randn(2, C, 6, 5, generator=g, dtype=torch.float64)
    weight = torch.randn(C_out, C, k, k, generator=g, dtype=torch.float64)
    torch.testing.assert_close(conv2d_as_aggregation(x, weight), F.conv2d(x, weight, padding=k // 2), **TOL64)


def test_conv2d_as_aggregation_is_a_sum_of_offset_matrices():
    """y_i = sum_delta W_delta x_{i+delta}: a single offset is a shifted copy of x times W_delta."""
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    weight = torch.zeros(3, 2, 3, 3, dtype=torch.float64)
    weight[:, :, 0, 2] = torch.randn(3, 2, dtype=torch.float64)  # offset (-1, +1) only
    y = conv2d_as_aggregation(x, weight)
    shifted = F.pad(x, (1, 1, 1, 1))[:, :, 0:5, 2:7]  # x_{r-1, c+1}, zero outside
    torch.testing.assert_close(y, torch.einsum("oc,bchw->bohw", weight[:, :, 0, 2], shifted), **TOL64)


def test_conv2d_as_aggregation_bad_input():
    with pytest.raises(ValueError, match=r"x: expected shape \(B, C, H, W\)"):
        conv2d_as_aggregation(torch.ones(3, 4, 4), torch.ones(1, 3, 3, 3))
    with pytest.raises(ValueError, match="k odd"):
        conv2d_as_aggregation(torch.ones(1, 3, 4, 4), torch.ones(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"weight: expected shape \(C_out, 3, k, k\)"):
        conv2d_as_aggregation(torch.ones(1, 3, 4, 4), torch.ones(1, 2, 3, 3))
    with pytest.raises(TypeError, match="weight: expected dtype"):
        conv2d_as_aggregation(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3, dtype=torch.float64))
