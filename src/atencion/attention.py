"""Self-attention: one head, queries, keys and values projected from the same sequence.

For an input ``X (B, L, d_model)``::

    Q = X W_q^T,  K = X W_k^T,  V = X W_v^T              # (B, L, d_k), (B, L, d_k), (B, L, d_v)
    A = softmax(Q K^T / sqrt(d_k) [masked])              # (B, L, L), row i: query i over keys j
    Y = A V                                              # (B, L, d_v)

so that ``A[b, i, j]`` is the weight of position ``j`` in the output at
position ``i``. Without biases the score is the bilinear form
``x_i^T (W_q^T W_k / sqrt(d_k)) x_j`` (:meth:`SelfAttention.bilinear_form`).

:class:`SetScorer` stacks self-attention on a per-element network to score
the elements of a set (e.g. to find the odd one out); with
``attention=False`` it is the per-element baseline that cannot compare
elements.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from ._checks import check_bool, check_dropout, check_int, check_optional_int
from ._checks import check_sequence as _check_sequence
from .functional import scaled_dot_product_attention

__all__ = ["SelfAttention", "SetScorer"]


class SelfAttention(nn.Module):
    """Single-head scaled dot-product self-attention.

    Args:
        d_model: size of each input vector.
        d_k: size of queries and keys (default ``d_model``); the scores are
            divided by ``sqrt(d_k)``.
        d_v: size of values and outputs (default ``d_k``).
        bias: whether the three projections have biases (default ``False``).
        dropout: dropout probability on the attention weights (training only).

    ``forward(x, mask=None) -> (y, weights)`` with ``x (B, L, d_model)``, an
    optional mask broadcastable to ``(B, L, L)`` (boolean ``True`` = query
    ``i`` may attend to key ``j``, or floating, added to the scores),
    ``y (B, L, d_v)`` and ``weights (B, L, L)``.
    """

    def __init__(
        self,
        d_model: int,
        d_k: int | None = None,
        d_v: int | None = None,
        *,
        bias: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.d_model = check_int(d_model, "d_model")
        self.d_k = check_optional_int(d_k, "d_k") or d_model
        self.d_v = check_optional_int(d_v, "d_v") or self.d_k
        check_bool(bias, "bias")
        self.dropout = check_dropout(dropout)
        self.W_q = nn.Linear(d_model, self.d_k, bias=bias)
        self.W_k = nn.Linear(d_model, self.d_k, bias=bias)
        self.W_v = nn.Linear(d_model, self.d_v, bias=bias)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        _check_sequence(x, "x", self.d_model, "(B, L, d_model)")
        q, k, v = self.W_q(x), self.W_k(x), self.W_v(x)  # (B, L, d_k), (B, L, d_k), (B, L, d_v)
        return scaled_dot_product_attention(  # (B, L, d_v), (B, L, L)
            q, k, v, mask, dropout_p=self.dropout, training=self.training
        )

    def scores(self, x: Tensor) -> Tensor:
        """The scaled scores ``Q K^T / sqrt(d_k)`` before the softmax: ``(B, L, L)``."""
        _check_sequence(x, "x", self.d_model, "(B, L, d_model)")
        return self.W_q(x) @ self.W_k(x).transpose(1, 2) / math.sqrt(self.d_k)

    def bilinear_form(self) -> Tensor:
        """``W_q^T W_k / sqrt(d_k)``, ``(d_model, d_model)``: without biases,
        ``scores(x)[b, i, j] == x[b, i] @ bilinear_form() @ x[b, j]``."""
        return self.W_q.weight.T @ self.W_k.weight / math.sqrt(self.d_k)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, d_k={self.d_k}, d_v={self.d_v}, dropout={self.dropout}"


class SetScorer(nn.Module):
    """One score per element of a set: ``(B, N, in_features) -> (B, N)``.

    An element-wise network embeds each element into ``d_model``; each of
    ``layers`` self-attention layers then adds ``SelfAttention(h)`` to ``h``
    and applies an element-wise feed-forward layer (also with a residual); a
    final linear layer gives one score per element. A softmax over the ``N``
    scores is a distribution over the elements (e.g. "which one is the odd one
    out?"), so the scores are logits for ``F.cross_entropy``.

    With ``attention=False`` the attention layers are left out: every score
    depends on its own element only, the per-element baseline.

    ``forward(x, mask=None) -> (scores, weights)``: ``weights`` is the list of
    ``(B, N, N)`` attention matrices, one per layer (empty without attention).
    Permuting the elements of ``x`` permutes the scores and the rows and
    columns of every weight matrix in the same way (permutation equivariance).
    """

    def __init__(
        self,
        in_features: int,
        d_model: int = 64,
        *,
        layers: int = 1,
        attention: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.d_model = check_int(d_model, "d_model")
        check_int(layers, "layers")
        dropout = check_dropout(dropout)
        self.embed = nn.Sequential(
            nn.Linear(in_features, d_model), nn.ReLU(), nn.Linear(d_model, d_model)
        )
        n_attention = layers if attention else 0
        self.attention = nn.ModuleList(
            SelfAttention(d_model, dropout=dropout) for _ in range(n_attention)
        )
        self.feedforward = nn.ModuleList(
            nn.Sequential(nn.Linear(d_model, d_model), nn.ReLU(), nn.Linear(d_model, d_model))
            for _ in range(layers)
        )
        self.out = nn.Linear(d_model, 1)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> tuple[Tensor, list[Tensor]]:
        _check_sequence(x, "x", self.in_features, "(B, N, in_features)")
        h = self.embed(x)  # (B, N, d_model)
        weights = []
        for i, ff in enumerate(self.feedforward):
            if self.attention:
                update, w = self.attention[i](h, mask)  # (B, N, d_model), (B, N, N)
                h = h + update
                weights.append(w)
            h = h + ff(h)  # (B, N, d_model)
        return self.out(h).squeeze(-1), weights  # (B, N)
