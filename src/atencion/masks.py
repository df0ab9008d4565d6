"""Boolean attention masks (``True`` = attention allowed): padding, causal, graphs, grids,
and the sparse patterns of Child et al. (2019):

- :func:`local_mask`: query ``i`` sees keys ``j`` with ``i - window < j <= i``
  (causal) -- exactly ``window`` keys, itself included -- or ``|i - j| < window``;
- :func:`strided_mask` / :func:`fixed_mask`: the two factorised patterns of the
  Sparse Transformer, each the union of a local and a "summary" component.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import check_bool, check_int, check_int_type

__all__ = [
    "padding_mask", "causal_mask", "key_padding_to_attention_mask", "adjacency_mask", "grid_mask",
    "local_mask", "strided_mask", "fixed_mask",
]


def padding_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """Mask of real (non-padding) tokens.

    Args:
        lengths: ``(B,)`` integer tensor of sequence lengths.
        max_len: padded length ``S``; defaults to ``max(lengths)``.

    Returns:
        ``(B, S)`` bool tensor, ``True`` at positions ``< lengths[b]``.
    """
    if not isinstance(lengths, Tensor):
        raise TypeError(f"lengths: expected a 1-D integer torch.Tensor (B,), got {type(lengths).__name__}")
    if lengths.dim() != 1:
        raise ValueError(f"lengths: expected a 1-D tensor (B,), got shape {tuple(lengths.shape)}")
    if lengths.dtype == torch.bool or lengths.is_floating_point() or lengths.is_complex():
        raise TypeError(f"lengths: expected an integer dtype, got {lengths.dtype}")
    if (lengths < 0).any():
        raise ValueError(f"lengths: expected non-negative lengths, got {lengths.tolist()}")
    longest = int(lengths.max()) if lengths.numel() > 0 else 0
    if max_len is None:
        max_len = longest
    elif check_int_type(max_len, "max_len") < longest:
        raise ValueError(f"max_len: expected max_len >= max(lengths) = {longest}, got {max_len}")
    positions = torch.arange(max_len, device=lengths.device)  # (S,)
    return positions[None, :] < lengths[:, None]  # (B, S)


def causal_mask(L: int, S: int | None = None, *, device: torch.device | str | None = None) -> Tensor:
    """Causal mask: query ``i`` may attend to key ``j`` iff ``j <= i + (S - L)``.

    With ``S > L`` the queries are the *last* ``L`` positions of the ``S`` keys
    (as when decoding with a KV cache). ``S`` defaults to ``L``.

    Returns:
        ``(L, S)`` bool tensor.
    """
    if S is None:
        S = L
    for name, n in (("L", L), ("S", S)):
        check_int_type(n, name)
        if n < 0:
            raise ValueError(f"{name}: expected a non-negative int, got {n}")
    i = torch.arange(L, device=device)[:, None]  # (L, 1)
    j = torch.arange(S, device=device)[None, :]  # (1, S)
    return j <= i + (S - L)  # (L, S)


def key_padding_to_attention_mask(key_padding: Tensor) -> Tensor:
    """Turn a ``(B, S)`` key mask (``True`` = real key) into ``(B, 1, S)``,
    which broadcasts over the ``L`` queries of a ``(B, L, S)`` score matrix."""
    if not isinstance(key_padding, Tensor) or key_padding.dtype != torch.bool:
        got = key_padding.dtype if isinstance(key_padding, Tensor) else type(key_padding).__name__
        raise TypeError(f"key_padding: expected a bool tensor (B, S), got {got}")
    if key_padding.dim() != 2:
        raise ValueError(f"key_padding: expected shape (B, S), got {tuple(key_padding.shape)}")
    return key_padding[:, None, :]  # (B, 1, S)


def adjacency_mask(adjacency: Tensor, *, self_loops: bool = True) -> Tensor:
    """Attention mask of a graph: node ``i`` may attend to node ``j`` iff
    ``adjacency[..., i, j]`` is non-zero (or ``i == j`` when ``self_loops``).

    Args:
        adjacency: ``(..., N, N)`` bool, integer or floating tensor; row ``i``
            lists the nodes whose messages node ``i`` receives.
        self_loops: also let every node attend to itself.

    Returns:
        ``(..., N, N)`` bool tensor, ``True`` where attention is allowed.
    """
    if not isinstance(adjacency, Tensor):
        raise TypeError(f"adjacency: expected a torch.Tensor (..., N, N), got {type(adjacency).__name__}")
    if adjacency.dim() < 2 or adjacency.shape[-1] != adjacency.shape[-2]:
        raise ValueError(f"adjacency: expected a square matrix (..., N, N), got shape {tuple(adjacency.shape)}")
    if adjacency.is_complex():
        raise TypeError(f"adjacency: expected a bool, integer or floating dtype, got {adjacency.dtype}")
    if not isinstance(self_loops, bool):
        raise TypeError(f"self_loops: expected a bool, got {type(self_loops).__name__}")
    mask = adjacency != 0
    if self_loops:
        N = adjacency.shape[-1]
        mask = mask | torch.eye(N, dtype=torch.bool, device=adjacency.device)
    return mask


def grid_mask(height: int, width: int, *, radius: int = 1, device: torch.device | str | None = None) -> Tensor:
    """Neighbourhood attention on a ``height x width`` grid, pixels in row-major order.

    Pixel ``i`` may attend to pixel ``j`` iff both their row and their column
    differ by at most ``radius`` (a ``(2 radius + 1)^2`` window, clipped at the
    borders, the pixel itself included).

    Returns:
        ``(height * width, height * width)`` bool tensor.
    """
    for name, n, minimum in (("height", height, 1), ("width", width, 1), ("radius", radius, 0)):
        check_int_type(n, name)
        if n < minimum:
            raise ValueError(f"{name}: expected an int >= {minimum}, got {n}")
    rows = torch.arange(height, device=device).repeat_interleave(width)  # (HW,)
    cols = torch.arange(width, device=device).repeat(height)  # (HW,)
    near_rows = (rows[:, None] - rows[None, :]).abs() <= radius  # (HW, HW)
    near_cols = (cols[:, None] - cols[None, :]).abs() <= radius  # (HW, HW)
    return near_rows & near_cols


def _positions(L: int, device) -> tuple[Tensor, Tensor]:
    check_int(L, "L")
    i = torch.arange(L, device=device)[:, None]  # (L, 1)
    j = torch.arange(L, device=device)[None, :]  # (1, L)
    return i, j


def local_mask(L: int, window: int, *, causal: bool = True, S: int | None = None,
               device: torch.device | str | None = None) -> Tensor:
    """Local (sliding-window) attention: ``(L, S)`` bool, ``S = L`` by default.

    Causal: query ``i`` sees the ``window`` positions ``i - window + 1 .. i``
    (itself included, fewer at the start). Otherwise it sees ``|i - j| < window``:
    ``2 window - 1`` positions centred on itself. With ``S > L`` the queries are
    the last ``L`` of ``S`` positions (decoding with a key-value cache).
    """
    check_int(window, "window")
    check_bool(causal, "causal")
    if S is None:
        i, j = _positions(L, device)
    else:
        check_int(S, "S")
        if S < L:
            raise ValueError(f"S: expected at least L = {L} key positions, got {S}")
        i = torch.arange(S - L, S, device=device)[:, None]  # (L, 1) absolute query positions
        j = torch.arange(S, device=device)[None, :]  # (1, S)
    if causal:
        return (j <= i) & (j > i - window)
    return (i - j).abs() < window


def strided_mask(L: int, stride: int, *, device: torch.device | str | None = None) -> Tensor:
    """Child et al.'s strided pattern (causal): the ``stride`` positions ending at
    the query, itself included (``0 <= i - j < stride``), plus every ``stride``-th
    one before them (``(i - j) % stride == 0``)."""
    check_int(stride, "stride")
    i, j = _positions(L, device)
    causal = j <= i
    return causal & (((i - j) < stride) | ((i - j) % stride == 0))


def fixed_mask(L: int, stride: int, summary: int = 1, *, device: torch.device | str | None = None) -> Tensor:
    """Child et al.'s fixed pattern (causal): keys in the query's own block of
    ``stride`` positions, plus the last ``summary`` positions of every block."""
    check_int(stride, "stride")
    check_int(summary, "summary")
    if summary > stride:
        raise ValueError(f"summary: expected at most stride = {stride} positions, got {summary}")
    i, j = _positions(L, device)
    causal = j <= i
    same_block = (i // stride) == (j // stride)
    summary_cols = (j % stride) >= stride - summary
    return causal & (same_block | summary_cols)
