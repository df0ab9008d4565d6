"""The encoder–decoder transformer (Vaswani et al., 2017) and its decoding.

:class:`EncoderStack` and :class:`DecoderStack` are stacks of
:class:`~atencion.transformer.EncoderBlock` / :class:`~atencion.transformer.DecoderBlock`
with a final layer normalisation, laid out as ``torch.nn.Transformer``'s
``encoder`` and ``decoder`` (``layers.{i}.*``, ``norm.*``), so weights move
between the two with ``load_state_dict``. :class:`EncoderDecoder` adds token
embeddings (scaled by ``sqrt(d_model)``), sinusoidal positions and the output
layer, and trains with teacher forcing on shifted targets::

    memory = encoder(embed(src))                       # (B, S, d_model)
    logits = output(decoder(embed(tgt_in), memory))    # (B, T, V); tgt_in = <bos> y_1 ... y_{T-1}
    loss   = cross_entropy(logits, tgt_out)            # tgt_out = y_1 ... y_{T-1} <eos>

:func:`greedy_decode` and :func:`beam_search` translate from ``<bos>`` until
``<eos>``, with a key-value cache (each step computes only the new position) or
by recomputing the whole prefix; both give the same tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._checks import check_bool, check_dropout, check_int, check_key_mask, check_nonnegative_float, check_tokens
from .heads import KVCache
from .masks import causal_mask
from .norm import Activation
from .positional import SinusoidalPositionalEncoding, embed_tokens
from .transformer import DecoderBlock, EncoderBlock, xavier_init_

__all__ = ["EncoderStack", "DecoderStack", "EncoderDecoder", "greedy_decode", "beam_search"]


class _Stack(nn.Module):
    """``num_layers`` blocks of type ``block`` and a final ``LayerNorm``, as PyTorch's stacks."""

    block: type[nn.Module]

    def __init__(self, d_model: int, num_heads: int, d_ff: int, num_layers: int, *, norm_first: bool = False,
                 activation: Activation = "relu", dropout: float = 0.0, eps: float = 1e-5) -> None:
        super().__init__()
        check_int(num_layers, "num_layers")
        self.layers = nn.ModuleList(
            self.block(d_model, num_heads, d_ff, norm_first=norm_first, activation=activation, dropout=dropout, eps=eps)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model, eps=eps)


class EncoderStack(_Stack):
    """``num_layers`` encoder blocks and a final ``LayerNorm``: ``(B, S, d) -> (B, S, d)``.

    ``forward(x, *, key_mask=None, need_weights=False) -> (y, [weights (B, h, S, S)])``
    with ``key_mask (B, S)`` ``True`` at real tokens. Keys as ``torch.nn.TransformerEncoder``.
    """

    block = EncoderBlock

    def forward(self, x: Tensor, *, key_mask: Tensor | None = None,
                need_weights: bool = False) -> tuple[Tensor, list[Tensor | None]]:
        weights = []
        for layer in self.layers:
            x, w = layer(x, key_mask=key_mask, need_weights=need_weights)
            weights.append(w)
        return self.norm(x), weights


class DecoderStack(_Stack):
    """``num_layers`` decoder blocks and a final ``LayerNorm``: ``(B, T, d), memory -> (B, T, d)``.

    ``forward(x, memory, *, mask=None, key_mask=None, memory_key_mask=None,
    caches=None, need_weights=False) -> (y, [cross-attention weights (B, h, T, S)])``.
    ``mask`` defaults to nothing: pass ``causal_mask(T)`` for training (or use
    :class:`EncoderDecoder`, which does). ``caches`` is one
    :class:`~atencion.heads.KVCache` per layer. Keys as ``torch.nn.TransformerDecoder``.
    """

    block = DecoderBlock

    def forward(self, x: Tensor, memory: Tensor, *, mask: Tensor | None = None, key_mask: Tensor | None = None,
                memory_key_mask: Tensor | None = None, caches: list[KVCache] | None = None,
                need_weights: bool = False) -> tuple[Tensor, list[Tensor | None]]:
        if caches is not None and (len(caches) != len(self.layers) or not all(isinstance(c, KVCache) for c in caches)):
            raise ValueError(f"caches: expected a list of {len(self.layers)} KVCache, one per layer")
        cross = []
        for i, layer in enumerate(self.layers):
            x, _, w = layer(x, memory, mask=mask, key_mask=key_mask, memory_key_mask=memory_key_mask,
                            cache=None if caches is None else caches[i], need_weights=need_weights)
            cross.append(w)
        return self.norm(x), cross


class EncoderDecoder(nn.Module):
    """The transformer for translation: source ids ``(B, S)``, target ids ``(B, T)`` -> logits ``(B, T, V_tgt)``.

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes.
        d_model, num_heads, d_ff: widths; ``num_encoder_layers``, ``num_decoder_layers``: depths.
        norm_first: pre-norm blocks (``True``) or post-norm (``False``, Vaswani et al.).
        dropout: on embeddings + positions, attention weights and sublayer outputs.
        share_embeddings: one embedding matrix for both languages (a joint
            subword vocabulary; needs equal sizes).
        tie_output: the output layer reuses the target embedding matrix (Press and Wolf, 2017).
        pad_id, bos_id, eos_id: the special ids, the same at training and decoding.

    ``forward(src, tgt_in, *, src_key_mask=None, tgt_key_mask=None) -> logits``:
    ``tgt_in`` starts with ``bos_id`` (the targets shifted right); the key masks
    (``True`` at real tokens) default to ``ids != pad_id``, so padding is masked in
    the encoder's self-attention, the decoder's self-attention and the
    cross-attention; the decoder's self-attention is causal. Logits are raw:
    ``F.cross_entropy`` applies the log-softmax itself.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, *, d_model: int = 128, num_heads: int = 4,
                 num_encoder_layers: int = 2, num_decoder_layers: int = 2, d_ff: int = 256,
                 norm_first: bool = False, activation: Activation = "relu", dropout: float = 0.1,
                 share_embeddings: bool = False, tie_output: bool = True,
                 pad_id: int = 0, bos_id: int = 1, eos_id: int = 2) -> None:
        super().__init__()
        check_int(src_vocab_size, "src_vocab_size")
        check_int(tgt_vocab_size, "tgt_vocab_size")
        check_bool(share_embeddings, "share_embeddings")
        check_bool(tie_output, "tie_output")
        if share_embeddings and src_vocab_size != tgt_vocab_size:
            raise ValueError(f"share_embeddings: needs equal vocabularies, got {src_vocab_size} and {tgt_vocab_size}")
        for name, i in (("pad_id", pad_id), ("bos_id", bos_id), ("eos_id", eos_id)):
            check_int(i, name, minimum=0)
            if i >= min(src_vocab_size, tgt_vocab_size):
                raise ValueError(f"{name}: expected an id below both vocabulary sizes, got {i}")
        if len({pad_id, bos_id, eos_id}) != 3:
            raise ValueError(f"pad_id, bos_id, eos_id: expected three different ids, got {pad_id}, {bos_id}, {eos_id}")
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, d_model)
        self.src_embedding = self.tgt_embedding if share_embeddings else nn.Embedding(src_vocab_size, d_model)
        for emb in [self.tgt_embedding] + ([] if share_embeddings else [self.src_embedding]):
            nn.init.normal_(emb.weight, std=d_model ** -0.5)
        self.positions = SinusoidalPositionalEncoding(d_model)
        self.dropout = nn.Dropout(check_dropout(dropout))
        sizes = dict(norm_first=norm_first, activation=activation, dropout=dropout)
        self.encoder = EncoderStack(d_model, num_heads, d_ff, num_encoder_layers, **sizes)
        self.decoder = DecoderStack(d_model, num_heads, d_ff, num_decoder_layers, **sizes)
        xavier_init_(self)  # as torch.nn.Transformer does for its layers
        self.output = nn.Linear(d_model, tgt_vocab_size)
        if tie_output:
            self.output.weight = self.tgt_embedding.weight

    def _embed(self, embedding: nn.Embedding, ids: Tensor, offset: int = 0) -> Tensor:
        return self.dropout(self.positions(embed_tokens(embedding, ids), offset=offset))  # (B, L, d_model)

    def encode(self, src: Tensor, src_key_mask: Tensor | None = None, *,
               need_weights: bool = False) -> tuple[Tensor, Tensor, list[Tensor | None]]:
        """``(memory (B, S, d_model), src_key_mask (B, S), [encoder weights])``."""
        B, S = check_tokens(src, "src", "(B, S)").shape
        key_mask = (src != self.pad_id) if src_key_mask is None else check_key_mask(src_key_mask, B, S, "src_key_mask")
        memory, weights = self.encoder(self._embed(self.src_embedding, src), key_mask=key_mask,
                                       need_weights=need_weights)
        return memory, key_mask, weights

    def decode(self, tgt: Tensor, memory: Tensor, memory_key_mask: Tensor | None = None, *,
               tgt_key_mask: Tensor | None = None, caches: list[KVCache] | None = None,
               need_weights: bool = False) -> tuple[Tensor, list[Tensor | None]]:
        """``(logits (B, T, V), [cross-attention weights (B, h, T, S)])`` for target ids
        ``tgt (B, T)``; with ``caches`` (:meth:`new_caches`) they are the next ``T``
        positions after those already cached."""
        B, T = check_tokens(tgt, "tgt", "(B, T)").shape
        past = 0 if not caches else len(caches[0])
        x = self._embed(self.tgt_embedding, tgt, offset=past)
        if tgt_key_mask is not None:
            tgt_key_mask = check_key_mask(tgt_key_mask, B, past + T, "tgt_key_mask")
        y, cross = self.decoder(x, memory, mask=causal_mask(T, past + T, device=tgt.device), key_mask=tgt_key_mask,
                                memory_key_mask=memory_key_mask, caches=caches, need_weights=need_weights)
        return self.output(y), cross

    def forward(self, src: Tensor, tgt_in: Tensor, *, src_key_mask: Tensor | None = None,
                tgt_key_mask: Tensor | None = None) -> Tensor:
        tgt_in = check_tokens(tgt_in, "tgt_in", "(B, T)")
        if tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"tgt_in: expected batch size {src.shape[0]} (as src), got shape {tuple(tgt_in.shape)}")
        memory, key_mask, _ = self.encode(src, src_key_mask)
        tgt_key_mask = (tgt_in != self.pad_id) if tgt_key_mask is None else tgt_key_mask
        return self.decode(tgt_in, memory, key_mask, tgt_key_mask=tgt_key_mask)[0]  # (B, T, V)

    def new_caches(self) -> list[KVCache]:
        """One empty key-value cache per decoder layer."""
        return [KVCache() for _ in self.decoder.layers]


def _start(model: nn.Module, src: Tensor, src_key_mask: Tensor | None, max_len: int,
           use_cache: bool) -> tuple[Tensor, Tensor, bool]:
    check_int(max_len, "max_len")
    check_bool(use_cache, "use_cache")
    memory, key_mask, _ = model.encode(src, src_key_mask)
    return memory, key_mask, model.training


def _next_log_probs(model: nn.Module, tokens: Tensor, memory: Tensor, key_mask: Tensor,
                    caches: list[KVCache] | None) -> Tensor:
    """Log-probabilities of the next token after ``tokens (B, t)``: ``(B, V)``."""
    new = tokens[:, -1:] if caches is not None else tokens  # with a cache, only the new position
    logits, _ = model.decode(new, memory, key_mask, caches=caches)
    return F.log_softmax(logits[:, -1].float(), dim=-1)


@torch.no_grad()
def greedy_decode(model: nn.Module, src: Tensor, *, max_len: int, src_key_mask: Tensor | None = None,
                  use_cache: bool = True) -> Tensor:
    """The most probable token at each step, from ``bos_id``, in eval mode.

    Returns ``(B, T')`` generated ids (without ``<bos>``), ``T' <= max_len``; after
    its ``<eos>`` a row holds ``pad_id``. ``model`` is an :class:`EncoderDecoder`
    (or anything with its ``encode``/``decode``/``new_caches`` and special ids).
    """
    memory, key_mask, was_training = _start(model, src, src_key_mask, max_len, use_cache)
    model.eval()
    try:
        B = src.shape[0]
        tokens = torch.full((B, 1), model.bos_id, dtype=torch.long, device=src.device)  # (B, 1)
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        caches = model.new_caches() if use_cache else None
        for _ in range(max_len):
            y = _next_log_probs(model, tokens, memory, key_mask, caches).argmax(-1)  # (B,)
            y = y.masked_fill(done, model.pad_id)
            tokens = torch.cat([tokens, y[:, None]], dim=1)
            done |= y == model.eos_id
            if bool(done.all()):
                break
    finally:
        model.train(was_training)
    return tokens[:, 1:]


@torch.no_grad()
def beam_search(model: nn.Module, src: Tensor, *, beam_size: int, max_len: int, length_penalty: float = 1.0,
                src_key_mask: Tensor | None = None, use_cache: bool = True) -> tuple[Tensor, Tensor]:
    """Beam search from ``bos_id``, in eval mode: keep the ``beam_size`` most probable
    prefixes; a prefix that ends in ``<eos>`` among the ``beam_size`` best candidates
    of a step is finished; a sentence stops when ``beam_size`` hypotheses are
    finished (or after ``max_len`` tokens, when the unfinished ones join them).

    The best hypothesis maximises ``log p(y | x) / len(y) ** length_penalty``
    (``len`` counts ``<eos>``; ``0`` = no length normalisation). With
    ``beam_size=1`` it is :func:`greedy_decode`. Returns ``(tokens (B, T'),
    scores (B,))``: ids without ``<bos>``, ``pad_id`` after ``<eos>``.
    """
    K = check_int(beam_size, "beam_size")
    alpha = check_nonnegative_float(length_penalty, "length_penalty")
    memory, key_mask, was_training = _start(model, src, src_key_mask, max_len, use_cache)
    model.eval()
    try:
        B, dev = src.shape[0], src.device
        memory, key_mask = memory.repeat_interleave(K, dim=0), key_mask.repeat_interleave(K, dim=0)  # (B K, S, ...)
        tokens = torch.full((B * K, 1), model.bos_id, dtype=torch.long, device=dev)  # (B K, t)
        scores = torch.full((B, K), float("-inf"), device=dev)
        scores[:, 0] = 0.0  # one live prefix, <bos>, per sentence at the start
        finished: list[list[tuple[float, float, list[int]]]] = [[] for _ in range(B)]
        caches = model.new_caches() if use_cache else None
        live = torch.arange(B * K, device=dev)  # the rows the model computes: those of open sentences
        for t in range(1, max_len + 1):
            live_log_p = _next_log_probs(model, tokens[live], memory[live], key_mask[live], caches)  # (rows, V)
            V = live_log_p.shape[-1]
            log_p = live_log_p.new_full((B * K, V), float("-inf")).index_copy_(0, live, live_log_p)  # (B K, V)
            candidates = scores[..., None] + log_p.view(B, K, V)  # (B, K, V): extend every live prefix
            candidates = candidates.masked_fill(scores[..., None] == float("-inf"), float("-inf"))  # dead stay dead
            top, index = candidates.view(B, K * V).topk(min(2 * K, K * V), dim=-1)  # (B, 2K)
            rows = [[b * K + k for k in range(K)] for b in range(B)]  # default: finished sentences keep their rows
            new_tokens = [[model.pad_id] * K for _ in range(B)]
            new_scores = [[float("-inf")] * K for _ in range(B)]
            top_rows, index_rows = top.tolist(), index.tolist()  # one copy out of the tensors per step
            for b in range(B):
                if len(finished[b]) >= K:
                    continue
                kept = 0
                for rank, (s, i) in enumerate(zip(top_rows[b], index_rows[b])):
                    beam, token = divmod(i, V)
                    if s == float("-inf"):
                        break
                    if token == model.eos_id:
                        if rank < K:  # an <eos> among the K best candidates ends a hypothesis
                            finished[b].append((s / t**alpha, s, tokens[b * K + beam, 1:].tolist() + [token]))
                        continue
                    rows[b][kept], new_tokens[b][kept], new_scores[b][kept] = b * K + beam, token, s
                    kept += 1
                    if kept == K:
                        break
            if all(len(f) >= K for f in finished):
                break
            order = torch.tensor(rows, device=dev).view(-1)
            tokens = torch.cat([tokens[order], torch.tensor(new_tokens, device=dev).view(-1, 1)], dim=1)
            scores = torch.tensor(new_scores, device=dev)
            open_rows = [b * K + k for b in range(B) if len(finished[b]) < K for k in range(K)]
            if caches is not None:  # each open row's cache comes from the row its prefix extends
                position, source = {row: i for i, row in enumerate(live.tolist())}, order.tolist()
                moved = torch.tensor([position[source[r]] for r in open_rows], device=dev)
                for cache in caches:
                    cache.reorder(moved)
            live = torch.tensor(open_rows, device=dev)
        for b in range(B):  # sentences still open after max_len tokens: their live prefixes compete too
            if len(finished[b]) < K:
                finished[b] += [(s / max_len**alpha, s, tokens[b * K + k, 1:].tolist())
                                for k, s in enumerate(scores[b].tolist()) if s > float("-inf")]
    finally:
        model.train(was_training)
    best = [max(f, key=lambda h: h[0]) for f in finished]
    out = torch.full((B, max(len(h[2]) for h in best)), model.pad_id, dtype=torch.long, device=src.device)
    for b, (_, _, ids) in enumerate(best):
        out[b, :len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out, torch.tensor([h[0] for h in best])
