"""Generating text with a causal language model: greedy decoding and sampling.

:func:`filter_logits` applies a temperature and keeps the ``top_k`` most
probable tokens and/or the smallest set whose probability reaches ``top_p``
(nucleus sampling, Holtzman et al., 2020); :func:`generate` extends a prompt
token by token, with a key-value cache (each step projects only the new
token) or by recomputing the whole prefix -- the two give the same tokens.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._checks import check_bool, check_int, check_positive_float, check_probability

__all__ = ["filter_logits", "sample_next", "generate"]


def filter_logits(logits: Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> Tensor:
    """``logits (B, V) / temperature`` with the excluded tokens set to ``-inf``.

    ``top_k`` keeps the ``k`` largest logits (ties at the threshold are kept);
    ``top_p`` keeps the most probable tokens, in order, until their cumulative
    probability reaches ``top_p`` (the token that crosses it is kept, so at
    least one token always survives).
    """
    if not isinstance(logits, Tensor) or not logits.is_floating_point() or logits.dim() != 2:
        raise ValueError(
            f"logits: expected a floating tensor (B, V), got {getattr(logits, 'shape', type(logits).__name__)}"
        )
    check_positive_float(temperature, "temperature")
    if top_p is not None:
        check_probability(top_p, "top_p")
    logits = logits / temperature
    if top_k is not None:
        check_int(top_k, "top_k")
        k = min(top_k, logits.shape[-1])
        threshold = logits.topk(k, dim=-1).values[..., -1:]  # (B, 1): k-th largest
        logits = logits.masked_fill(logits < threshold, float("-inf"))
    if top_p is not None and top_p < 1:  # p = 1 keeps every token: the identity
        sorted_logits, order = logits.sort(dim=-1, descending=True)  # (B, V)
        # float64: a float32 cumulative sum reaches 1 before the tail and would drop it
        probs = sorted_logits.double().softmax(dim=-1)
        before = probs.cumsum(dim=-1) - probs  # probability of the tokens ranked above
        drop_sorted = before >= top_p  # the nucleus is complete before this token
        drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
        logits = logits.masked_fill(drop, float("-inf"))
    return logits


def sample_next(logits: Tensor, *, greedy: bool = False, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None) -> Tensor:
    """One token per row of ``logits (B, V)``: the argmax, or a sample from the
    filtered distribution. Returns ``(B,)`` token ids."""
    check_bool(greedy, "greedy")
    if greedy:
        return logits.argmax(dim=-1)
    probs = filter_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p).softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


@torch.no_grad()
def generate(
    model: nn.Module,
    prompt: Tensor,
    max_new_tokens: int,
    *,
    greedy: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    use_cache: bool = True,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Extend ``prompt (B, L0)`` by ``max_new_tokens`` tokens: ``(B, L0 + max_new_tokens)``.

    ``model(tokens, caches=..., need_weights=False) -> (logits, _)`` must be
    causal, like :class:`~atencion.transformer.SequenceTransformer`. With
    ``use_cache`` the prompt is encoded once and each step feeds only the
    newest token; otherwise every step recomputes the whole sequence.
    """
    if not isinstance(prompt, Tensor) or prompt.dim() != 2 or prompt.shape[1] == 0:
        raise ValueError(
            "prompt: expected a non-empty integer tensor (B, L0), "
            f"got {getattr(prompt, 'shape', type(prompt).__name__)}"
        )
    check_int(max_new_tokens, "max_new_tokens", minimum=0)
    check_bool(use_cache, "use_cache")
    was_training = model.training
    model.eval()
    tokens = prompt
    caches = model.new_caches() if use_cache else None
    step_input = prompt
    try:
        for _ in range(max_new_tokens):
            if use_cache:
                logits, _ = model(step_input, caches=caches, need_weights=False)
            else:
                logits, _ = model(tokens, need_weights=False)
            nxt = sample_next(logits[:, -1], greedy=greedy, temperature=temperature, top_k=top_k,
                              top_p=top_p, generator=generator)  # (B,)
            tokens = torch.cat([tokens, nxt[:, None]], dim=1)
            step_input = nxt[:, None]  # with a cache, only the new token goes in
    finally:
        model.train(was_training)
    return tokens
