"""Positions for permutation-equivariant attention.

Absolute encodings added to the token embeddings ``x (B, L, d_model)``:

- :func:`sinusoidal_encoding` / :class:`SinusoidalPositionalEncoding` (Vaswani
  et al., 2017): ``PE[p, 2i] = sin(p / base^(2i/d))``, ``PE[p, 2i+1] = cos(p / base^(2i/d))``,
  ``i = 0 .. d/2 - 1``; for every shift ``k`` there is a fixed matrix with
  ``PE[p + k] = PE[p] @ shift_matrix(k)^T`` (:func:`sinusoidal_shift_matrix`);
- :class:`LearnedPositionalEmbedding`: one trained vector per position.

Relative positions, inside attention (``q, k (B, h, L, d_head)``):

- :class:`RotaryEmbedding` (RoPE, Su et al., 2024): rotates each pair of
  query/key components by an angle proportional to the position, so that
  ``rope(q, m) . rope(k, n)`` depends on ``m - n`` only;
- :func:`alibi_slopes` / :func:`alibi_bias` (ALiBi, Press et al., 2022): a
  per-head penalty ``-slope * distance`` added to the scores;
- :class:`RelativePositionEmbedding` (Shaw et al., 2018): learned vectors
  ``a^K``, ``a^V`` for each clipped distance ``clip(j - i, -K, K)`` added to
  the keys and the values (:func:`relative_attention`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ._checks import check_even, check_int, check_int_type, check_positive_float, check_sequence
from .functional import relative_attention

__all__ = [
    "embed_tokens", "sinusoidal_encoding", "sinusoidal_shift_matrix", "SinusoidalPositionalEncoding",
    "LearnedPositionalEmbedding", "RotaryEmbedding", "alibi_slopes", "alibi_bias",
    "RelativePositionEmbedding", "relative_attention",
]


def embed_tokens(embedding: nn.Embedding, tokens: Tensor, *, scale: bool = True) -> Tensor:
    """Look up ``tokens (B, L)`` in ``embedding`` and multiply by ``sqrt(d_model)``
    (as Vaswani et al. do, so that embeddings and encodings have similar sizes)."""
    if not isinstance(embedding, nn.Embedding):
        raise TypeError(f"embedding: expected a torch.nn.Embedding, got {type(embedding).__name__}")
    if not isinstance(tokens, Tensor) or tokens.is_floating_point() or tokens.dtype == torch.bool:
        raise TypeError(
            f"tokens: expected an integer tensor of token ids, got {getattr(tokens, 'dtype', type(tokens).__name__)}"
        )
    e = embedding(tokens)  # (B, L, d_model)
    return e * math.sqrt(embedding.embedding_dim) if scale else e


# --------------------------------------------------------------------------- sinusoidal


def _frequencies(d: int, base: float, dtype: torch.dtype, device: torch.device | str | None) -> Tensor:
    """``omega_i = base^(-2i/d)``, ``i = 0 .. d/2 - 1``: ``(d/2,)``."""
    i = torch.arange(d // 2, dtype=torch.float64, device=device)
    return torch.pow(base, -2.0 * i / d).to(dtype)


def sinusoidal_encoding(
    length: int,
    d_model: int,
    *,
    base: float = 10000.0,
    offset: int = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """The sinusoidal encodings of positions ``offset .. offset + length - 1``: ``(length, d_model)``.

    ``PE[p, 2i] = sin(p * omega_i)`` and ``PE[p, 2i + 1] = cos(p * omega_i)`` with
    ``omega_i = base^(-2i / d_model)``: wavelengths from ``2 pi`` to ``2 pi base``.
    """
    check_int(length, "length", minimum=0)
    check_even(d_model, "d_model")
    base = check_positive_float(base, "base")
    check_int(offset, "offset", minimum=0)
    p = torch.arange(offset, offset + length, dtype=torch.float64, device=device)  # (L,)
    angles = p[:, None] * _frequencies(d_model, base, torch.float64, device)[None, :]  # (L, d/2)
    pe = torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(length, d_model)  # interleaved
    return pe.to(dtype)


def sinusoidal_shift_matrix(k: int, d_model: int, *, base: float = 10000.0,
                            dtype: torch.dtype = torch.float64) -> Tensor:
    """The ``(d_model, d_model)`` matrix ``T_k`` with ``PE[p + k] = T_k @ PE[p]`` for every ``p``.

    Block diagonal, one 2x2 rotation by ``k * omega_i`` per (sin, cos) pair: the
    encoding of a shifted position is a *linear*, position-independent function
    of the encoding, which is what lets attention read relative offsets.
    """
    check_int_type(k, "k")
    check_even(d_model, "d_model")
    theta = k * _frequencies(d_model, check_positive_float(base, "base"), torch.float64, None)  # (d/2,)
    c, s = theta.cos(), theta.sin()
    blocks = torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)  # (d/2, 2, 2)
    return torch.block_diag(*blocks).to(dtype)  # [sin(a+b), cos(a+b)] = [[c, s], [-s, c]] [sin a, cos a]


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the sinusoidal encoding of each position to ``x (B, L, d_model)``.

    Nothing is learned; any length works (the table grows on demand).
    ``forward(x, offset=0)`` encodes positions ``offset .. offset + L - 1``.
    """

    def __init__(self, d_model: int, *, base: float = 10000.0) -> None:
        super().__init__()
        self.d_model = check_even(d_model, "d_model")
        self.base = check_positive_float(base, "base")
        self.register_buffer("table", sinusoidal_encoding(0, d_model, base=base), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        check_sequence(x, "x", self.d_model)
        check_int(offset, "offset", minimum=0)
        L = x.shape[1]
        if self.table.shape[0] < offset + L:  # grow the cached table
            self.table = sinusoidal_encoding(2 * (offset + L), self.d_model, base=self.base,
                                             dtype=x.dtype, device=x.device)
        return x + self.table[offset:offset + L].to(x.dtype)  # (B, L, d_model)


class LearnedPositionalEmbedding(nn.Module):
    """Adds a trained vector per position (``0 .. max_len - 1``) to ``x (B, L, d_model)``.

    A sequence longer than ``max_len`` has no encoding: a ``ValueError``.
    """

    def __init__(self, max_len: int, d_model: int) -> None:
        super().__init__()
        self.max_len = check_int(max_len, "max_len")
        self.d_model = check_int(d_model, "d_model")
        self.embedding = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        check_sequence(x, "x", self.d_model)
        check_int(offset, "offset", minimum=0)
        L = x.shape[1]
        if offset + L > self.max_len:
            raise ValueError(
                f"x: positions up to {offset + L - 1} but only max_len = {self.max_len} "
                f"learned positions exist"
            )
        positions = torch.arange(offset, offset + L, device=x.device)  # (L,)
        return x + self.embedding(positions)  # (B, L, d_model)


# --------------------------------------------------------------------------- rotary


class RotaryEmbedding(nn.Module):
    """Rotary position embedding (RoPE) for queries and keys ``(..., L, d_head)``.

    Component pairs ``(x[2i], x[2i+1])`` of the vector at position ``m`` are
    rotated by the angle ``m * theta_i``, ``theta_i = base^(-2i / d_head)``. Then
    ``rotate(q, m) . rotate(k, n) = q^T R_{n-m} k`` depends on ``m - n`` only.
    """

    def __init__(self, d_head: int, *, base: float = 10000.0) -> None:
        super().__init__()
        self.d_head = check_even(d_head, "d_head")
        self.base = check_positive_float(base, "base")

    def rotate(self, x: Tensor, positions: Tensor | None = None) -> Tensor:
        """Rotate ``x (..., L, d_head)``; ``positions (L,)`` default to ``0 .. L - 1``."""
        if not isinstance(x, Tensor) or not x.is_floating_point():
            raise TypeError(
                f"x: expected a floating torch.Tensor (..., L, d_head), got {getattr(x, 'dtype', type(x).__name__)}"
            )
        if x.dim() < 2 or x.shape[-1] != self.d_head:
            raise ValueError(f"x: expected shape (..., L, {self.d_head}), got {tuple(x.shape)}")
        L = x.shape[-2]
        if positions is None:
            positions = torch.arange(L, device=x.device)
        elif not isinstance(positions, Tensor) or positions.shape != (L,):
            raise ValueError(
                f"positions: expected a tensor of shape ({L},), got {getattr(positions, 'shape', positions)}"
            )
        theta = _frequencies(self.d_head, self.base, torch.float64, x.device)  # (d/2,)
        angles = positions.to(torch.float64)[:, None] * theta[None, :]  # (L, d/2), in float64
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)  # (L, d/2)
        x1, x2 = x[..., 0::2], x[..., 1::2]  # (..., L, d/2): the pairs
        rotated = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)  # (..., L, d/2, 2)
        return rotated.flatten(-2)  # (..., L, d_head), pairs interleaved again

    def forward(self, q: Tensor, k: Tensor, *, q_positions: Tensor | None = None,
                k_positions: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Rotate queries ``(..., L, d_head)`` and keys ``(..., S, d_head)``."""
        return self.rotate(q, q_positions), self.rotate(k, k_positions)


# --------------------------------------------------------------------------- ALiBi


def alibi_slopes(num_heads: int) -> Tensor:
    """ALiBi's head-specific slopes: the geometric sequence ``2^(-8/n), 2^(-16/n), ...``
    for ``n`` = the power of two at or above ``num_heads`` (Press et al.'s recipe
    for head counts that are not powers of two): ``(num_heads,)``."""
    check_int(num_heads, "num_heads")

    def powers(n: int) -> list[float]:
        start = 2.0 ** (-8.0 / n)
        return [start ** (i + 1) for i in range(n)]

    n = 2 ** math.floor(math.log2(num_heads))
    slopes = powers(n)
    if n < num_heads:  # interleave slopes from the next power of two
        slopes += powers(2 * n)[0::2][: num_heads - n]
    return torch.tensor(slopes)


def alibi_bias(num_heads: int, L: int, S: int | None = None, *, causal: bool = True,
               device: torch.device | str | None = None) -> Tensor:
    """ALiBi's additive bias ``-slope_h * distance(i, j)``: ``(num_heads, L, S)``.

    Query ``i`` is at position ``i + S - L`` (the last ``L`` of ``S`` positions).
    With ``causal`` the distance is ``i - j`` (keys after the query get ``-inf``,
    the causal mask); otherwise ``|i - j|``.
    """
    S = L if S is None else S
    check_int(L, "L", minimum=0)
    check_int(S, "S", minimum=0)
    i = torch.arange(L, device=device)[:, None] + (S - L)  # (L, 1)
    j = torch.arange(S, device=device)[None, :]  # (1, S)
    distance = (i - j).to(torch.float32)  # (L, S)
    slopes = alibi_slopes(num_heads).to(device)[:, None, None]  # (h, 1, 1)
    if causal:
        bias = -slopes * distance
        return bias.masked_fill((distance < 0)[None], float("-inf"))
    return -slopes * distance.abs()


# --------------------------------------------------------------------------- Shaw et al.


class RelativePositionEmbedding(nn.Module):
    """Shaw et al.'s learned relative positions: ``a^K[j - i]`` and ``a^V[j - i]`` with
    the distance clipped to ``[-max_distance, max_distance]``.

    ``forward(L, S=None) -> (a_k, a_v)``, each ``(L, S, d_head)``.
    """

    def __init__(self, d_head: int, max_distance: int) -> None:
        super().__init__()
        self.d_head = check_int(d_head, "d_head")
        self.max_distance = check_int(max_distance, "max_distance")
        self.keys = nn.Embedding(2 * max_distance + 1, d_head)
        self.values = nn.Embedding(2 * max_distance + 1, d_head)

    def distances(self, L: int, S: int | None = None, *, device: torch.device | str | None = None) -> Tensor:
        """Clipped ``j - i`` shifted to ``0 .. 2 max_distance``: ``(L, S)`` indices."""
        S = L if S is None else S
        i = torch.arange(L, device=device)[:, None] + (S - L)
        j = torch.arange(S, device=device)[None, :]
        return (j - i).clamp(-self.max_distance, self.max_distance) + self.max_distance

    def forward(self, L: int, S: int | None = None) -> tuple[Tensor, Tensor]:
        index = self.distances(L, S, device=self.keys.weight.device)  # (L, S)
        return self.keys(index), self.values(index)  # (L, S, d_head) each
