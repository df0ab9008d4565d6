"""Benchmark atencion's attention against PyTorch's, on the CPU.

    python benchmarks/attention.py            # the full grid (a few minutes on 2 cores)
    python benchmarks/attention.py --quick    # a smaller grid

Part 1 times ``atencion.heads.MultiHeadAttention`` against ``torch.nn.MultiheadAttention``
with the same weights, forward (under ``torch.no_grad``) and forward + backward, for
several batch sizes B, lengths L, widths d_model and head counts h; both without
returned weights (each library's fast path) and, for ours, also with per-head weights.
Part 2 times the sparse and efficient variants of ``atencion.sparse`` against dense
attention. Every time is the median of several repetitions after a warm-up; the
ratio column is ours / PyTorch's (below 1 = faster). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Callable

import torch
import torch.nn.functional as F

from atencion.heads import MultiHeadAttention
from atencion.masks import local_mask
from atencion.profiling import timings
from atencion.sparse import LinformerSelfAttention, sliding_window_attention, tiled_attention

MIN_SECONDS = 0.25  # a short call is repeated until the timed calls add up to this


def median_time(fn, repeats: int) -> float:
    """Median seconds of ``fn()``: three warm-up calls, then at least ``repeats`` timed
    calls, more for a short call (a few sub-millisecond calls measure the warm-up, not
    the steady state)."""
    first = min(timings(fn, repeats=1, warmup=3))
    return statistics.median(timings(fn, repeats=max(repeats, math.ceil(MIN_SECONDS / max(first, 1e-6))), warmup=0))


def paired(d_model: int, heads: int) -> tuple[MultiHeadAttention, torch.nn.MultiheadAttention]:
    ours = MultiHeadAttention(d_model, heads)
    ref = torch.nn.MultiheadAttention(d_model, heads, batch_first=True)
    ref.load_state_dict(ours.state_dict())
    return ours.eval(), ref.eval()


def multihead_rows(B: int, L: int, d: int, h: int) -> list[tuple[str, Callable[[], None], Callable[[], None]]]:
    """The (mode, PyTorch's call, our call) rows timed for one configuration of part 1."""
    ours, ref = paired(d, h)
    x = torch.randn(B, L, d)
    xg = x.clone().requires_grad_()

    def fwd(m, weights=False):
        with torch.no_grad():
            if m is ref:
                m(x, x, x, need_weights=weights, average_attn_weights=False)
            else:
                m(x, need_weights=weights)

    def fwd_bwd(m):
        y = m(xg, xg, xg, need_weights=False)[0] if m is ref else m(xg, need_weights=False)[0]
        y.sum().backward()

    return [("forward", lambda: fwd(ref), lambda: fwd(ours)),
            ("forward+backward", lambda: fwd_bwd(ref), lambda: fwd_bwd(ours)),
            ("fwd, weights", lambda: fwd(ref, True), lambda: fwd(ours, True))]


def multihead(grid, repeats: int) -> list[float]:
    print("Part 1: atencion.heads.MultiHeadAttention / torch.nn.MultiheadAttention (same weights)")
    header = f"{'B':>3} {'L':>5} {'d':>4} {'h':>3} | {'mode':<16} | {'torch ms':>9} {'ours ms':>9} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    ratios = []
    for B, L, d, h in grid:
        for mode, f_ref, f_ours in multihead_rows(B, L, d, h):
            t_ref, t_ours = median_time(f_ref, repeats), median_time(f_ours, repeats)
            ratio = t_ours / t_ref
            if mode != "fwd, weights":
                ratios.append(ratio)
            print(f"{B:>3} {L:>5} {d:>4} {h:>3} | {mode:<16} | {1e3 * t_ref:9.3f} {1e3 * t_ours:9.3f} {ratio:6.2f}")
    geo = statistics.geometric_mean(ratios)
    print(f"geometric mean of the ratios (forward and forward+backward, no weights): {geo:.3f}; "
          f"worst: {max(ratios):.3f}")
    return ratios


def efficient_calls(L: int, window: int, block: int, k: int) -> list[tuple[str, Callable[[], object]]]:
    """The (name, call) pairs timed for one length of part 2: dense attention first."""
    q, kk, v = (torch.randn(1, 4, L, 32) for _ in range(3))
    lin = LinformerSelfAttention(128, 4, max_len=L, k=k).eval()
    x = torch.randn(1, L, 128)
    mask = local_mask(L, window)

    def dense():
        scores = q @ kk.transpose(-1, -2) / 32 ** 0.5
        torch.softmax(scores.masked_fill(~mask, float("-inf")), -1) @ v

    return [
        ("dense", dense),
        ("fused", lambda: F.scaled_dot_product_attention(q, kk, v, attn_mask=mask)),
        ("window", lambda: sliding_window_attention(q, kk, v, window)),
        ("tiled", lambda: tiled_attention(q, kk, v, block=block, causal=True)),
        ("linformer", lambda: lin(x)),
    ]


def efficient(lengths, repeats: int) -> None:
    print("\nPart 2: sparse and efficient attention / dense attention (B=1, h=4, d_head=32, forward)")
    header = f"{'L':>6} | {'dense ms':>9} {'fused ms':>9} {'window ms':>10} {'tiled ms':>9} {'linformer ms':>13} | " \
             f"{'fused':>6} {'window':>7} {'tiled':>6} {'linf.':>6}"
    print(header)
    print("-" * len(header))
    window, block, k = 64, 128, 64
    for L in lengths:
        calls = efficient_calls(L, window, block, k)
        with torch.no_grad():
            t = {name: median_time(fn, repeats) for name, fn in calls}
        r = {n: t[n] / t["dense"] for n in t}
        print(f"{L:>6} | {1e3 * t['dense']:9.2f} {1e3 * t['fused']:9.2f} {1e3 * t['window']:10.2f} "
              f"{1e3 * t['tiled']:9.2f} {1e3 * t['linformer']:13.2f} | {r['fused']:6.2f} {r['window']:7.2f} "
              f"{r['tiled']:6.2f} {r['linformer']:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.quick:
        grid = [(8, 64, 64, 4), (4, 256, 128, 8)]
        lengths, repeats = [256, 1024], args.repeats or 5
    else:
        grid = [(B, L, d, h) for B, L in ((32, 32), (8, 128), (2, 512)) for d, h in ((64, 4), (256, 8))]
        lengths, repeats = [256, 512, 1024, 2048, 4096], args.repeats or 9
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    multihead(grid, repeats)
    efficient(lengths, repeats)


if __name__ == "__main__":
    main()
