"""Attention on graphs: graph attention networks and convolution as aggregation.

A graph with ``N`` nodes is given by a boolean adjacency ``(N, N)`` (or
``(B, N, N)``) whose row ``i`` marks the neighbours ``j`` whose messages node
``i`` receives -- exactly an attention mask (``True`` = allowed), see
:func:`atencion.masks.adjacency_mask`.

:class:`GraphAttention` is the layer of Veličković et al. (2018)::

    z_j = W x_j                                             # (heads, F') per node
    e_ij = LeakyReLU(a_dst . z_i + a_src . z_j)             # = LeakyReLU(a^T [z_i || z_j])
    alpha_ij = softmax over the neighbours j of i of e_ij
    y_i = ||_heads sum_j alpha_ij z_j   (or the mean over heads)

computed densely and batched (no loop over heads, nodes or edges). Its
parameters are laid out as in ``torch_geometric.nn.GATConv`` (``lin.weight``,
``att_src``, ``att_dst``, ``bias``), which the tests use as an oracle.

:func:`conv2d_as_aggregation` writes a 2-D convolution as the aggregation
``y_i = sum_{j in N(i)} W_{j - i} x_j`` over a grid neighbourhood: a
position-specific matrix per offset instead of attention's content-based
scalar ``alpha_ij`` times one shared ``W_v``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import check_bool, check_dropout, check_graph, check_int, check_nonnegative_float
from .functional import masked_softmax
from .masks import adjacency_mask

__all__ = ["edges_to_adjacency", "GraphAttention", "GAT", "freeze_uniform_attention", "conv2d_as_aggregation"]


def edges_to_adjacency(
    edges: Tensor | Iterable[Sequence[int]], num_nodes: int, *, symmetric: bool = True
) -> Tensor:
    """Boolean adjacency ``(N, N)`` from a list of edges ``(i, j)``.

    ``adjacency[i, j]`` is ``True`` for every edge ``(i, j)`` (node ``i``
    receives from ``j``) and, if ``symmetric``, also ``adjacency[j, i]``.
    ``edges`` is an ``(E, 2)`` integer tensor or an iterable of pairs.
    """
    check_int(num_nodes, "num_nodes")
    if not isinstance(edges, Tensor):
        edges = torch.tensor([tuple(e) for e in edges], dtype=torch.long).reshape(-1, 2)
    if edges.is_floating_point() or edges.dtype == torch.bool or edges.is_complex():
        raise TypeError(f"edges: expected integer node indices, got dtype {edges.dtype}")
    if edges.dim() != 2 or edges.shape[1] != 2:
        raise ValueError(f"edges: expected pairs (i, j), shape (E, 2), got {tuple(edges.shape)}")
    if edges.numel() and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValueError(
            f"edges: expected node indices in [0, {num_nodes - 1}], got values in "
            f"[{int(edges.min())}, {int(edges.max())}]"
        )
    adjacency = torch.zeros(num_nodes, num_nodes, dtype=torch.bool)
    adjacency[edges[:, 0], edges[:, 1]] = True
    if symmetric:
        adjacency[edges[:, 1], edges[:, 0]] = True
    return adjacency


class GraphAttention(nn.Module):
    """Graph attention layer (GAT, Veličković et al., 2018), dense and batched.

    Args:
        in_features: size ``F`` of each node's input vector.
        out_features: size ``F'`` of each head's output.
        heads: number of attention heads.
        concat: concatenate the heads' outputs (``heads * F'`` features) or
            average them (``F'`` features).
        negative_slope: slope of the LeakyReLU for negative scores.
        dropout: dropout on the attention coefficients (training only).
        add_self_loops: let every node attend to itself.
        bias: add a learned bias to the output.

    ``forward(x, adjacency) -> (y, weights)``: ``x`` is ``(B, N, F)`` (or
    ``(N, F)``), ``adjacency`` is ``(N, N)`` or ``(B, N, N)`` (non-zero where
    node ``i`` receives from node ``j``); ``y`` is ``(B, N, heads * F')`` or
    ``(B, N, F')`` and ``weights`` is ``(B, heads, N, N)`` (without the batch
    axis for an unbatched input). A node with no neighbour (and no self-loop)
    gets zero weights, never NaN.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        add_self_loops: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        self.heads = check_int(heads, "heads")
        for name, flag in (("concat", concat), ("add_self_loops", add_self_loops), ("bias", bias)):
            check_bool(flag, name)
        check_nonnegative_float(negative_slope, "negative_slope")
        self.concat, self.add_self_loops = concat, add_self_loops
        self.negative_slope = float(negative_slope)
        self.dropout = check_dropout(dropout)
        self.lin = nn.Linear(in_features, heads * out_features, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_features))  # a for the neighbour j
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_features))  # a for the receiver i
        size = heads * out_features if concat else out_features
        self.bias = nn.Parameter(torch.empty(size)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def scores(self, z: Tensor) -> Tensor:
        """Raw scores ``e_ij = LeakyReLU(a_dst . z_i + a_src . z_j)`` from the
        projected nodes ``z (B, heads, N, F')``: ``(B, heads, N, N)``."""
        e_dst = (z * self.att_dst[0, :, None, :]).sum(-1)  # (B, heads, N)
        e_src = (z * self.att_src[0, :, None, :]).sum(-1)  # (B, heads, N)
        return F.leaky_relu(e_dst[..., :, None] + e_src[..., None, :], self.negative_slope)

    def forward(self, x: Tensor, adjacency: Tensor) -> tuple[Tensor, Tensor]:
        x, adjacency, unbatched = check_graph(x, adjacency, self.in_features)
        B, N, _ = x.shape
        H, Fo = self.heads, self.out_features
        z = self.lin(x).view(B, N, H, Fo).transpose(1, 2)  # (B, H, N, F')
        mask = adjacency_mask(adjacency, self_loops=self.add_self_loops)  # (B or 1, N, N)
        weights = masked_softmax(self.scores(z), mask[:, None], dim=-1)  # (B, H, N, N)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, p=self.dropout)
        y = weights @ z  # (B, H, N, F')
        if self.concat:
            y = y.transpose(1, 2).reshape(B, N, H * Fo)  # (B, N, H F')
        else:
            y = y.mean(dim=1)  # (B, N, F')
        if self.bias is not None:
            y = y + self.bias
        if unbatched:
            return y[0], weights[0]
        return y, weights

    def extra_repr(self) -> str:
        return (f"{self.in_features}, {self.out_features}, heads={self.heads}, concat={self.concat}, "
                f"dropout={self.dropout}")


class GAT(nn.Module):
    """Two graph-attention layers for node classification (Veličković et al., 2018).

    ``x -> dropout -> GraphAttention(heads, concat) -> ELU -> dropout ->
    GraphAttention(1 head) -> logits``. ``forward(x, adjacency) -> (logits,
    [weights of layer 1, weights of layer 2])`` with the shapes of
    :class:`GraphAttention`; ``logits`` are ``(B, N, num_classes)`` (or
    ``(N, num_classes)``), to be fed to ``F.cross_entropy``.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        num_classes: int,
        *,
        heads: int = 4,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.dropout = check_dropout(dropout)
        self.layer1 = GraphAttention(in_features, hidden_features, heads=heads, concat=True,
                                     dropout=attention_dropout)
        self.layer2 = GraphAttention(heads * hidden_features, num_classes, heads=1, concat=False,
                                     dropout=attention_dropout)

    def forward(self, x: Tensor, adjacency: Tensor) -> tuple[Tensor, list[Tensor]]:
        h = F.dropout(x, self.dropout, self.training)
        h, w1 = self.layer1(h, adjacency)  # (B, N, heads * hidden)
        h = F.dropout(F.elu(h), self.dropout, self.training)
        logits, w2 = self.layer2(h, adjacency)  # (B, N, num_classes)
        return logits, [w1, w2]


def freeze_uniform_attention(module: nn.Module) -> nn.Module:
    """Turn every :class:`GraphAttention` inside ``module`` into a mean over neighbourhoods.

    Sets ``att_src`` and ``att_dst`` to zero and stops their gradients, so that
    every score ``e_ij`` is 0 and ``alpha_ij = 1 / |N(i)|`` (self-loop included):
    the same network with uniform instead of learned attention, the control that
    measures what learning the attention adds. Returns ``module`` (changed in place).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    layers = [m for m in module.modules() if isinstance(m, GraphAttention)]
    if not layers:
        raise ValueError(f"module: expected a module containing GraphAttention layers, got {type(module).__name__}")
    with torch.no_grad():
        for layer in layers:
            for a in (layer.att_src, layer.att_dst):
                a.zero_()
                a.requires_grad_(False)
    return module


def conv2d_as_aggregation(x: Tensor, weight: Tensor) -> Tensor:
    """A 2-D convolution written as message passing on the pixel grid.

    For each pixel ``i`` and each offset ``delta`` of a ``k x k`` window
    (``k`` odd, zero padding ``k // 2``), the neighbour ``j = i + delta``
    sends ``W_delta x_j``, and ``y_i = sum_delta W_delta x_{i + delta}``:
    one weight matrix per *relative position*. Equal to
    ``F.conv2d(x, weight, padding=k // 2)`` (without bias).

    Args:
        x: ``(B, C, H, W)``.
        weight: ``(C_out, C, k, k)``.

    Returns:
        ``(B, C_out, H, W)``.
    """
    for name, t in (("x", x), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
        if not t.is_floating_point():
            raise TypeError(f"{name}: expected a floating tensor, got dtype {t.dtype}")
    if x.dim() != 4:
        raise ValueError(f"x: expected shape (B, C, H, W), got {tuple(x.shape)}")
    B, C, H, W = x.shape
    if weight.dim() != 4 or weight.shape[1] != C or weight.shape[2] != weight.shape[3] or weight.shape[2] % 2 == 0:
        raise ValueError(
            f"weight: expected shape (C_out, {C}, k, k) with k odd, got {tuple(weight.shape)}"
        )
    if weight.dtype != x.dtype:
        raise TypeError(f"weight: expected dtype {x.dtype} (same as x), got {weight.dtype}")
    C_out, _, k, _ = weight.shape
    neighbours = F.unfold(x, k, padding=k // 2).view(B, C, k * k, H * W)  # (B, C, k², HW): x_{i+δ}
    per_offset = weight.reshape(C_out, C, k * k)  # (C_out, C, k²): W_δ
    y = torch.einsum("ocd,bcdn->bon", per_offset, neighbours)  # sum over δ and channels
    return y.view(B, C_out, H, W)
