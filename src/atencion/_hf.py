"""Renaming Hugging Face ``transformers`` state dicts into the library's layout (shared by
:mod:`atencion.vision` and :mod:`atencion.bert`)."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

__all__ = ["layers_from_hf"]


def layers_from_hf(state_dict: Mapping[str, Tensor], *, theirs: str, ours: str, qkv: tuple[str, str, str],
                   names: Mapping[str, str]) -> dict[str, Tensor]:
    """The encoder layers of a ``transformers`` state dict under the library's keys: layer
    ``i`` goes from ``{theirs}{i}.`` to ``{ours}{i}.``; the query, key and value projections
    ``qkv`` (their module names) are stacked into ``self_attn.in_proj_*``, and every other
    module is renamed by ``names`` (ours -> theirs)."""
    depth = theirs.count(".")
    layers = sorted({int(k.split(".")[depth]) for k in state_dict if k.startswith(theirs)})
    out = {}
    for i in layers:
        src, dst = f"{theirs}{i}.", f"{ours}{i}."
        for kind in ("weight", "bias"):
            out[dst + f"self_attn.in_proj_{kind}"] = torch.cat([state_dict[src + f"{p}.{kind}"] for p in qkv])
            for mine, theirs_name in names.items():
                out[dst + f"{mine}.{kind}"] = state_dict[src + f"{theirs_name}.{kind}"]
    return out
