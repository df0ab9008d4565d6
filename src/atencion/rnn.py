"""Attention in recurrent encoder–decoders.

Score functions (Luong et al., 2015, names in brackets): :class:`DotScore`
(``s^T h``, "dot"), :class:`GeneralScore` (``s^T W h``, "general") and
:class:`AdditiveScore` (``v^T tanh(W s + U h)``, Bahdanau et al.'s score,
Luong's "concat"). :class:`RNNAttention` turns scores into weights and a
context vector; :class:`LocalAttention` restricts them to a window (Luong's
local-m and local-p). :class:`Encoder` (bidirectional GRU), :class:`Decoder`
(GRU, Bahdanau or Luong wiring, or no attention at all) and
:class:`Seq2Seq` (teacher forcing, batched greedy decoding) complete the model.

Axis names: ``B`` batch, ``S`` source length, ``T`` target length, ``V``
vocabulary size, ``Dq``/``Dk``/``Dv`` query/key/value sizes. A query is
``(B, Dq)`` (one decoder step) or ``(B, T, Dq)`` (all steps at once, when the
wiring allows it); scores, weights and contexts then gain the same ``T`` axis.
"""

from __future__ import annotations

import math
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ._checks import check_dropout as _check_dropout
from ._checks import check_int as _check_int
from ._checks import check_key_mask, check_lengths, check_query_keys, check_tokens
from .data.sequences import shift_right
from .functional import masked_softmax
from .masks import padding_mask

__all__ = [
    "Score", "DotScore", "GeneralScore", "AdditiveScore", "make_score",
    "RNNAttention", "LocalAttention", "Encoder", "Decoder", "Seq2Seq",
    "shift_right", "sequence_loss", "teacher_forcing_loss", "make_seq2seq",
]

ScoreName = Literal["dot", "general", "additive"]


def _bmm_keys(query: Tensor, keys: Tensor) -> Tensor:
    """``query (B, [T,] D) . keys (B, S, D)`` -> ``(B, [T,] S)``, one batched matmul."""
    q = query if query.dim() == 3 else query[:, None, :]  # (B, T, D), T = 1 for one step
    scores = q @ keys.transpose(1, 2)  # (B, T, S)
    return scores if query.dim() == 3 else scores[:, 0]


# --------------------------------------------------------------------------- scores


class Score(nn.Module):
    """Base class of the score functions ``e(query, key)``.

    ``forward(query (B, [T,] Dq), keys (B, S, Dk)) -> scores (B, [T,] S)``. The work that
    depends on the keys only is split out into :meth:`prepare`, so that a
    decoder can do it once per source sentence instead of once per step.
    """

    query_dim: int | None
    key_dim: int | None

    def prepare(self, keys: Tensor) -> Tensor:
        """Per-sentence precomputation on ``keys (B, S, Dk)`` (identity by default)."""
        return keys

    def score(self, query: Tensor, prepared: Tensor) -> Tensor:
        """Scores ``(B, [T,] S)`` from ``query (B, [T,] Dq)`` and ``prepare(keys)``."""
        raise NotImplementedError

    def forward(self, query: Tensor, keys: Tensor) -> Tensor:
        Dq, Dk = check_query_keys(query, keys)
        if self.query_dim is not None and Dq != self.query_dim:
            raise ValueError(
                f"query: expected shape (B, [T,] {self.query_dim}), got {tuple(query.shape)}"
            )
        if self.key_dim is not None and Dk != self.key_dim:
            raise ValueError(f"keys: expected shape (B, S, {self.key_dim}), got {tuple(keys.shape)}")
        return self.score(query, self.prepare(keys))


class DotScore(Score):
    """Dot-product score ``e = s^T h`` (Luong's "dot"); needs ``Dq == Dk``. No parameters."""

    query_dim = key_dim = None

    def forward(self, query: Tensor, keys: Tensor) -> Tensor:
        Dq, Dk = check_query_keys(query, keys)
        if Dq != Dk:
            raise ValueError(
                f"keys: expected shape (B, S, {Dq}) (dot score needs Dk == Dq), got {tuple(keys.shape)}"
            )
        return self.score(query, keys)

    def score(self, query: Tensor, prepared: Tensor) -> Tensor:
        return _bmm_keys(query, prepared)  # (B, [T,] S): s^T h_j


class GeneralScore(Score):
    """Bilinear score ``e = s^T W h`` with ``W`` of shape ``(Dq, Dk)`` (Luong's "general")."""

    def __init__(self, query_dim: int, key_dim: int) -> None:
        super().__init__()
        self.query_dim = _check_int(query_dim, "query_dim")
        self.key_dim = _check_int(key_dim, "key_dim")
        self.W = nn.Parameter(torch.empty(query_dim, key_dim))
        nn.init.uniform_(self.W, -1 / math.sqrt(key_dim), 1 / math.sqrt(key_dim))

    def score(self, query: Tensor, prepared: Tensor) -> Tensor:
        projected = query @ self.W  # (B, [T,] Dk): s^T W, then one dot product per key
        return _bmm_keys(projected, prepared)  # (B, [T,] S)


class AdditiveScore(Score):
    """Additive score ``e = v^T tanh(W s + U h)`` (Bahdanau et al.; Luong's "concat").

    Equivalently ``v^T tanh(W_a [s; h])`` with ``W_a = [W U]``. With ``bias=True``
    a single bias goes *inside* the tanh, after the sum: ``v^T tanh(W s + U h + b)``.
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int, *, bias: bool = False) -> None:
        super().__init__()
        self.query_dim = _check_int(query_dim, "query_dim")
        self.key_dim = _check_int(key_dim, "key_dim")
        self.hidden_dim = _check_int(hidden_dim, "hidden_dim")
        self.W = nn.Linear(query_dim, hidden_dim, bias=False)
        self.U = nn.Linear(key_dim, hidden_dim, bias=bias)  # carries b, if any
        self.v = nn.Linear(hidden_dim, 1, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.U(keys)  # (B, S, H): U h_j (+ b) does not depend on the decoder step

    def score(self, query: Tensor, prepared: Tensor) -> Tensor:
        keys = prepared if query.dim() == 2 else prepared[:, None]  # (B, [1,] S, H)
        hidden = torch.tanh(self.W(query).unsqueeze(-2) + keys)  # (B, [T,] S, H)
        return self.v(hidden).squeeze(-1)  # (B, [T,] S)


def make_score(
    name: ScoreName, query_dim: int, key_dim: int, hidden_dim: int | None = None
) -> Score:
    """Build a score by name: ``"dot"``, ``"general"`` or ``"additive"``.

    ``hidden_dim`` is the size of the additive score's hidden layer (default
    ``query_dim``); the other scores do not use it.
    """
    if name == "dot":
        if query_dim != key_dim:
            raise ValueError(
                f"key_dim: expected key_dim == query_dim = {query_dim} for the dot score, got {key_dim}"
            )
        return DotScore()
    if name == "general":
        return GeneralScore(query_dim, key_dim)
    if name == "additive":
        return AdditiveScore(query_dim, key_dim, query_dim if hidden_dim is None else hidden_dim)
    raise ValueError(f"name: expected 'dot', 'general' or 'additive', got {name!r}")


# --------------------------------------------------------------------------- attention


def _weighted_sum(weights: Tensor, values: Tensor) -> Tensor:
    """``sum_j weights[..., j] values[:, j]``: ``(B, [T,] S), (B, S, Dv) -> (B, [T,] Dv)``."""
    if weights.dim() == 3:
        return weights @ values  # (B, T, Dv)
    return (weights[:, None, :] @ values)[:, 0]  # (B, Dv)


class RNNAttention(nn.Module):
    """Global attention: ``alpha = softmax(e(query, keys))``, ``c = sum_j alpha_j v_j``.

    ``forward(query (B, [T,] Dq), keys (B, S, Dk), values (B, S, Dv) = keys,
    mask (B, S)) -> (context (B, [T,] Dv), weights (B, [T,] S))``. ``mask`` is
    True at real (non-padding) keys; padded keys get weight exactly 0.
    ``prepared_keys`` (the output of ``score.prepare(keys)``) skips that step.
    """

    def __init__(self, score: Score) -> None:
        super().__init__()
        if not isinstance(score, Score):
            raise TypeError(f"score: expected an atencion.rnn.Score, got {type(score).__name__}")
        self.score = score

    def _check(self, query: Tensor, keys: Tensor, values: Tensor | None,
               mask: Tensor | None) -> tuple[Tensor, Tensor | None]:
        check_query_keys(query, keys)
        B, S, _ = keys.shape
        if values is None:
            values = keys
        elif not isinstance(values, Tensor) or values.dim() != 3 or values.shape[:2] != (B, S):
            raise ValueError(
                f"values: expected shape ({B}, {S}, Dv), got {tuple(getattr(values, 'shape', ()))}"
            )
        if mask is not None:
            mask = check_key_mask(mask, B, S, name="mask")
            if query.dim() == 3:
                mask = mask[:, None, :]  # (B, 1, S): the same keys for every step
        return values, mask

    def _scores(self, query: Tensor, keys: Tensor, prepared_keys: Tensor | None) -> Tensor:
        if prepared_keys is None:
            return self.score(query, keys)  # (B, [T,] S)
        return self.score.score(query, prepared_keys)  # (B, [T,] S)

    def forward(
        self,
        query: Tensor,
        keys: Tensor,
        values: Tensor | None = None,
        mask: Tensor | None = None,
        *,
        prepared_keys: Tensor | None = None,
        step: int | None = None,
    ) -> tuple[Tensor, Tensor]:
        values, mask = self._check(query, keys, values, mask)
        scores = self._scores(query, keys, prepared_keys)  # (B, [T,] S)
        weights = masked_softmax(scores, mask, dim=-1)  # (B, [T,] S)
        return _weighted_sum(weights, values), weights  # (B, [T,] Dv), (B, [T,] S)


class LocalAttention(RNNAttention):
    """Luong et al.'s local attention: only keys within ``window`` (D) of a position ``p_t``.

    ``mode="monotonic"`` (local-m): ``p_t = t``, clipped to the last real key
    (``t`` is ``step`` for a one-step query, ``0..T-1`` for a ``(B, T, Dq)``
    one). ``mode="predictive"`` (local-p): ``p_t = (S_b - 1) sigmoid(v_p^T
    tanh(W_p s_t))`` with ``S_b`` the sentence's length, and the softmax weights
    inside the window are multiplied by ``exp(-(j - p_t)^2 / (2 sigma^2))``,
    ``sigma = D / 2`` (so they sum to less than 1). Positions are 0-based.
    """

    def __init__(
        self,
        score: Score,
        *,
        window: int,
        mode: Literal["monotonic", "predictive"] = "predictive",
        query_dim: int | None = None,
        hidden_dim: int | None = None,
    ) -> None:
        super().__init__(score)
        self.window = _check_int(window, "window")
        if mode not in ("monotonic", "predictive"):
            raise ValueError(f"mode: expected 'monotonic' or 'predictive', got {mode!r}")
        self.mode = mode
        if mode == "predictive":
            if query_dim is None:
                raise ValueError("query_dim: expected an int for mode='predictive', got None")
            query_dim = _check_int(query_dim, "query_dim")
            hidden_dim = query_dim if hidden_dim is None else _check_int(hidden_dim, "hidden_dim")
            self.W_p = nn.Linear(query_dim, hidden_dim, bias=False)
            self.v_p = nn.Linear(hidden_dim, 1, bias=False)

    def position(self, query: Tensor, lengths: Tensor, step: int | None = None) -> Tensor:
        """Aligned source position ``p_t``, ``(B, [T])`` floating."""
        last = (lengths - 1).to(query.dtype)  # (B,)
        if self.mode == "predictive":
            return torch.sigmoid(self.v_p(torch.tanh(self.W_p(query)))).squeeze(-1) * (
                last if query.dim() == 2 else last[:, None])  # (B, [T])
        if query.dim() == 3:
            t = torch.arange(query.shape[1], device=query.device, dtype=query.dtype)  # (T,)
            return torch.minimum(t[None, :], last[:, None])  # (B, T)
        if step is None:
            raise ValueError("step: expected the decoding step t (an int) for mode='monotonic'")
        return last.clamp(max=float(step))  # (B,)

    def forward(
        self,
        query: Tensor,
        keys: Tensor,
        values: Tensor | None = None,
        mask: Tensor | None = None,
        *,
        prepared_keys: Tensor | None = None,
        step: int | None = None,
    ) -> tuple[Tensor, Tensor]:
        values, mask = self._check(query, keys, values, mask)  # mask: (B, [1,] S) or None
        B, S, _ = keys.shape
        if mask is None:
            mask = torch.ones(B, S, dtype=torch.bool, device=keys.device)
        lengths = mask.reshape(B, S).sum(dim=-1)  # (B,): S_b
        p = self.position(query, lengths, step)  # (B, [T])
        j = torch.arange(S, device=keys.device, dtype=query.dtype)  # (S,)
        distance = j - p[..., None]  # (B, [T,] S)
        allowed = mask & (distance.abs() <= self.window)  # (B, [T,] S)
        scores = self._scores(query, keys, prepared_keys)  # (B, [T,] S)
        weights = masked_softmax(scores, allowed, dim=-1)  # (B, [T,] S)
        if self.mode == "predictive":
            sigma = self.window / 2
            weights = weights * torch.exp(-distance**2 / (2 * sigma**2))  # (B, [T,] S)
        return _weighted_sum(weights, values), weights


# --------------------------------------------------------------------------- model


class Encoder(nn.Module):
    """Embedding + GRU over the source; padding never enters the recurrence.

    ``forward(src (B, S) long, lengths (B,)) -> (states (B, S, H_enc), final (B, H_enc))``
    with ``H_enc = 2 * hidden_dim`` if bidirectional (``h_j = [h_j^fwd; h_j^bwd]``),
    zeros at padded positions, and ``final`` the last forward state concatenated
    with the first backward state.
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int,
        hidden_dim: int,
        *,
        bidirectional: bool = True,
        pad_id: int = 0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, n in (("vocab_size", vocab_size), ("emb_dim", emb_dim), ("hidden_dim", hidden_dim)):
            _check_int(n, name)
        if not 0 <= pad_id < vocab_size:
            raise ValueError(f"pad_id: expected an id in [0, {vocab_size - 1}], got {pad_id}")
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout) if _check_dropout(dropout) > 0 else nn.Identity()
        self.rnn = nn.GRU(emb_dim, hidden_dim, batch_first=True, bidirectional=bidirectional)
        self.output_dim = hidden_dim * (2 if bidirectional else 1)

    def forward(self, src: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        B, S = check_tokens(src, "src", "(B, S)").shape
        lengths = check_lengths(lengths, B, S)
        x = self.dropout(self.embedding(src))  # (B, S, d_e)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, h_n = self.rnn(packed)  # h_n: (directions, B, H)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # (B, S, H_enc)
        final = torch.cat(list(h_n), dim=-1)  # (B, H_enc): [fwd at S_b - 1; bwd at 0]
        return states, final


class Memory(NamedTuple):
    """What the decoder reads from the encoder: ``states (B, S, H_enc)``, ``mask (B, S)``,
    ``prepared`` (``score.prepare(states)`` or None) and ``final (B, H_enc)``."""

    states: Tensor
    mask: Tensor
    prepared: Tensor | None
    final: Tensor


class Decoder(nn.Module):
    """GRU decoder with attention over the encoder states.

    ``style="bahdanau"``: the score uses the previous state ``s_{t-1}``; the
    context ``c_t`` enters the GRU input with the embedding of ``y_{t-1}``, and
    the output layer reads ``[s_t; c_t; e(y_{t-1})]``.
    ``style="luong"``: the GRU steps first; the score uses the current state
    ``s_t``, and the output layer reads ``h~_t = tanh(W_c [c_t; s_t])``.
    ``score=None``: no attention; ``c_t = c`` = the encoder's final state at every
    step (the fixed-size bottleneck of Cho et al., 2014), wired as ``style`` says.
    ``local="m"``/``"p"``: Luong's local attention with half-width ``window``.
    The initial state is ``s_0 = tanh(W_init final)``. With teacher forcing,
    only Bahdanau's wiring with attention must step through ``t`` in Python
    (``c_t`` depends on ``s_{t-1}`` and enters the GRU); the other wirings run the
    GRU over all steps at once and attend with a ``(B, T, H)`` query.
    """

    def __init__(
        self,
        vocab_size: int,
        emb_dim: int,
        hidden_dim: int,
        enc_dim: int,
        *,
        score: ScoreName | None = "additive",
        style: Literal["bahdanau", "luong"] = "bahdanau",
        attention_dim: int | None = None,
        local: Literal["m", "p"] | None = None,
        window: int = 2,
        pad_id: int = 0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, n in (("vocab_size", vocab_size), ("emb_dim", emb_dim),
                        ("hidden_dim", hidden_dim), ("enc_dim", enc_dim)):
            _check_int(n, name)
        if style not in ("bahdanau", "luong"):
            raise ValueError(f"style: expected 'bahdanau' or 'luong', got {style!r}")
        if local not in (None, "m", "p"):
            raise ValueError(f"local: expected None, 'm' or 'p', got {local!r}")
        if not 0 <= pad_id < vocab_size:
            raise ValueError(f"pad_id: expected an id in [0, {vocab_size - 1}], got {pad_id}")
        self.style = style
        self.embedding = nn.Embedding(vocab_size, emb_dim, padding_idx=pad_id)
        self.dropout = nn.Dropout(dropout) if _check_dropout(dropout) > 0 else nn.Identity()
        self.init = nn.Linear(enc_dim, hidden_dim)
        self.attention: RNNAttention | None = None
        if score is not None:
            scorer = make_score(score, hidden_dim, enc_dim, attention_dim)
            if local is None:
                self.attention = RNNAttention(scorer)
            else:
                mode = "monotonic" if local == "m" else "predictive"
                self.attention = LocalAttention(scorer, window=window, mode=mode, query_dim=hidden_dim)
        elif local is not None:
            raise ValueError("local: expected None when score is None (no attention)")
        rnn_input = emb_dim + enc_dim if style == "bahdanau" else emb_dim  # [e; c_t] or e
        self.rnn = nn.GRU(rnn_input, hidden_dim, batch_first=True)
        if style == "bahdanau":
            self.out = nn.Linear(hidden_dim + enc_dim + emb_dim, vocab_size)
        else:
            self.combine = nn.Linear(enc_dim + hidden_dim, hidden_dim, bias=False)  # W_c
            self.out = nn.Linear(hidden_dim, vocab_size)  # W_s

    def start(self, states: Tensor, final: Tensor, mask: Tensor) -> tuple[Tensor, Memory]:
        """Initial state ``s_0 (B, H)`` and the encoder memory for :meth:`step`."""
        prepared = None if self.attention is None else self.attention.score.prepare(states)
        s0 = torch.tanh(self.init(final))  # (B, H)
        return s0, Memory(states, mask, prepared, final)

    def _attend(self, query: Tensor, memory: Memory, t: int) -> tuple[Tensor, Tensor | None]:
        if self.attention is None:
            return memory.final, None  # c_t = c for every t
        return self.attention(query, memory.states, mask=memory.mask,
                              prepared_keys=memory.prepared, step=t)

    def _gru_step(self, x: Tensor, state: Tensor) -> Tensor:
        """``s_t = GRU(x_t, s_{t-1})`` for one step: ``(B, In), (B, H) -> (B, H)``."""
        _, h = self.rnn(x[:, None, :], state[None])  # h: (1, B, H)
        return h[0]

    def _advance(
        self, e: Tensor, state: Tensor, memory: Memory, t: int
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """Recurrence and attention for one step: ``e = e(y_{t-1}) (B, d_e)``, ``s_{t-1} (B, H)``
        -> ``(s_t (B, H), c_t (B, H_enc), alpha_t (B, S) | None)``."""
        if self.style == "bahdanau":
            context, weights = self._attend(state, memory, t)  # query s_{t-1}
            state = self._gru_step(torch.cat([e, context], dim=-1), state)  # s_t
        else:
            state = self._gru_step(e, state)  # s_t
            context, weights = self._attend(state, memory, t)  # query s_t
        return state, context, weights

    def _output(self, state: Tensor, context: Tensor, e: Tensor) -> Tensor:
        """Logits ``(..., V)`` from ``s_t``, ``c_t`` and ``e(y_{t-1})`` (any leading dims)."""
        if self.style == "bahdanau":
            return self.out(torch.cat([state, context, e], dim=-1))
        attentional = torch.tanh(self.combine(torch.cat([context, state], dim=-1)))  # h~_t
        return self.out(self.dropout(attentional))

    def step(
        self, y_prev: Tensor, state: Tensor, memory: Memory, t: int
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """One step: ``y_prev (B,)``, ``s_{t-1} (B, H)`` -> ``(logits (B, V), s_t, alpha_t (B, S) | None)``."""
        e = self.dropout(self.embedding(y_prev))  # (B, d_e)
        state, context, weights = self._advance(e, state, memory, t)
        return self._output(state, context, e), state, weights

    def forward(
        self, tgt_in: Tensor, states: Tensor, final: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        """Teacher forcing: ``tgt_in (B, T)`` -> ``(logits (B, T, V), weights (B, T, S) | None)``."""
        state, memory = self.start(states, final, mask)
        e = self.dropout(self.embedding(tgt_in))  # (B, T, d_e)
        B, T, _ = e.shape
        if self.attention is not None and self.style == "bahdanau":
            decoder_states, contexts, weights = [], [], []
            for t in range(T):  # c_t depends on s_{t-1} and feeds s_t: sequential in t
                state, context, alpha = self._advance(e[:, t], state, memory, t)
                decoder_states.append(state)
                contexts.append(context)
                weights.append(alpha)
            s_all = torch.stack(decoder_states, dim=1)  # (B, T, H)
            c_all = torch.stack(contexts, dim=1)  # (B, T, H_enc)
            alphas = torch.stack(weights, dim=1)  # (B, T, S)
        else:
            # Attention does not feed the recurrence: one GRU call for all steps.
            c_fixed = final[:, None, :].expand(B, T, final.shape[-1])  # (B, T, H_enc): c_t = c
            x = torch.cat([e, c_fixed], dim=-1) if self.style == "bahdanau" else e
            s_all, _ = self.rnn(x, state[None])  # (B, T, H)
            if self.attention is None:
                c_all, alphas = c_fixed, None
            else:
                c_all, alphas = self.attention(s_all, memory.states, mask=memory.mask,
                                               prepared_keys=memory.prepared)  # (B, T, ·)
        # The output layer does not feed back: apply it to all steps at once.
        return self._output(s_all, c_all, e), alphas  # (B, T, V), (B, T, S) | None


def sequence_loss(logits: Tensor, targets: Tensor, *, pad_id: int) -> Tensor:
    """Mean cross-entropy over non-padding target tokens; ``logits (B, T, V)`` are raw
    (no softmax before: ``F.cross_entropy`` applies ``log_softmax`` itself)."""
    if logits.dim() != 3 or logits.shape[:2] != targets.shape:
        raise ValueError(
            f"logits: expected shape (B, T, V) with (B, T) = {tuple(targets.shape)}, "
            f"got {tuple(logits.shape)}"
        )
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=pad_id)


class Seq2Seq(nn.Module):
    """Encoder–decoder: ``forward`` with teacher forcing and batched :meth:`greedy_decode`."""

    def __init__(self, encoder: Encoder, decoder: Decoder, *, pad_id: int, bos_id: int,
                 eos_id: int) -> None:
        super().__init__()
        if len({pad_id, bos_id, eos_id}) != 3:
            raise ValueError(
                f"pad_id, bos_id, eos_id: expected three different ids, got {pad_id}, {bos_id}, {eos_id}"
            )
        self.encoder, self.decoder = encoder, decoder
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id

    def encode(self, src: Tensor, src_lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(states (B, S, H_enc), final (B, H_enc), mask (B, S))``."""
        states, final = self.encoder(src, src_lengths)
        return states, final, padding_mask(src_lengths, max_len=src.shape[1])

    def forward(
        self, src: Tensor, src_lengths: Tensor, tgt_in: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        """``(logits (B, T, V), weights (B, T, S) | None)``; ``tgt_in`` starts with ``bos_id``."""
        tgt_in = check_tokens(tgt_in, "tgt_in", "(B, T)")
        if tgt_in.shape[0] != src.shape[0]:
            raise ValueError(
                f"tgt_in: expected batch size {src.shape[0]} (as src), got shape {tuple(tgt_in.shape)}"
            )
        states, final, mask = self.encode(src, src_lengths)
        return self.decoder(tgt_in, states, final, mask)

    @torch.no_grad()
    def greedy_decode(
        self, src: Tensor, src_lengths: Tensor, *, max_len: int
    ) -> tuple[Tensor, Tensor | None]:
        """Greedy decoding from ``bos_id`` (in eval mode, restored afterwards).

        Returns ``(tokens (B, T'), weights (B, T', S) | None)`` with ``T' <= max_len``:
        it stops once every sequence has produced ``eos_id``; after its ``eos_id``
        a sequence gets ``pad_id`` tokens and zero weights.
        """
        max_len = _check_int(max_len, "max_len")
        was_training = self.training
        self.eval()
        try:
            states, final, mask = self.encode(src, src_lengths)
            B = src.shape[0]
            state, memory = self.decoder.start(states, final, mask)
            y = torch.full((B,), self.bos_id, dtype=torch.long, device=src.device)  # (B,)
            done = torch.zeros(B, dtype=torch.bool, device=src.device)  # (B,)
            tokens, weights = [], []
            for t in range(max_len):
                logits, state, alpha = self.decoder.step(y, state, memory, t)
                y = logits.argmax(dim=-1).masked_fill(done, self.pad_id)  # (B,)
                tokens.append(y)
                if alpha is not None:
                    weights.append(alpha.masked_fill(done[:, None], 0.0))
                done = done | (y == self.eos_id)
                if bool(done.all()):
                    break
        finally:
            self.train(was_training)
        stacked = torch.stack(weights, dim=1) if weights else None  # (B, T', S)
        return torch.stack(tokens, dim=1), stacked  # (B, T')


def teacher_forcing_loss(model: Seq2Seq, batch: Any) -> Tensor:
    """Loss of ``model`` on ``batch`` (with ``src``, ``src_lengths``, ``tgt_in``, ``tgt_out``):
    teacher-forced raw logits, cross-entropy against ``tgt_out``, padding ignored."""
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    return sequence_loss(logits, batch.tgt_out, pad_id=model.pad_id)


def make_seq2seq(
    src_vocab_size: int,
    tgt_vocab_size: int,
    *,
    emb_dim: int = 32,
    hidden_dim: int = 32,
    score: ScoreName | None = "additive",
    style: Literal["bahdanau", "luong"] = "bahdanau",
    attention_dim: int | None = None,
    local: Literal["m", "p"] | None = None,
    window: int = 2,
    dropout: float = 0.0,
    pad_id: int = 0,
    bos_id: int = 1,
    eos_id: int = 2,
) -> Seq2Seq:
    """A bidirectional GRU encoder (``hidden_dim`` per direction) and a decoder of size
    ``2 * hidden_dim``, so that encoder and decoder states have the same size (as the
    dot score needs). ``attention_dim`` (the additive score's hidden size) defaults to
    ``hidden_dim``. Special ids default to :mod:`atencion.data`'s."""
    encoder = Encoder(src_vocab_size, emb_dim, hidden_dim, pad_id=pad_id, dropout=dropout)
    decoder = Decoder(
        tgt_vocab_size, emb_dim, 2 * hidden_dim, encoder.output_dim, score=score, style=style,
        attention_dim=hidden_dim if attention_dim is None else attention_dim, local=local,
        window=window, pad_id=pad_id, dropout=dropout,
    )
    return Seq2Seq(encoder, decoder, pad_id=pad_id, bos_id=bos_id, eos_id=eos_id)
