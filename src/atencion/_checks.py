"""Argument checks shared by the modules: each names the argument and what was expected."""

from __future__ import annotations

import datetime as dt
import math

import torch
from torch import Tensor

LANGS = ("es", "en")  # the book's editions


def check_lang(lang: object) -> str:
    """``lang`` if it is one of the book's editions, else a ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"lang: expected one of {LANGS!r}, got {lang!r}")
    return lang  # type: ignore[return-value]


def check_tensor(x: object, name: str) -> Tensor:
    """``x`` if it is a tensor, else a ``TypeError`` naming ``name``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    return x


def check_mask(mask: object, target: torch.Size, axes: str, name: str = "mask") -> Tensor:
    """``mask`` if it is a bool (``True`` = allowed) or floating (added to the scores)
    tensor broadcastable to ``target``; ``axes`` names the target's dimensions."""
    mask = check_tensor(mask, name)
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise TypeError(
            f"{name}: expected dtype torch.bool (True = allowed) or a floating dtype "
            f"(added to the scores), got {mask.dtype}"
        )
    try:
        ok = torch.broadcast_shapes(mask.shape, target) == target
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name}: expected a tensor broadcastable to {tuple(target)} {axes}, got shape {tuple(mask.shape)}"
        )
    return mask


def check_key_mask(key_mask: object, B: int, S: int, name: str = "key_mask") -> Tensor:
    """``key_mask`` if it is a ``(B, S)`` bool tensor (``True`` = real key)."""
    if not isinstance(key_mask, Tensor) or key_mask.dtype != torch.bool:
        got = key_mask.dtype if isinstance(key_mask, Tensor) else type(key_mask).__name__
        raise TypeError(f"{name}: expected a bool tensor (B, S) with True = real key, got {got}")
    if key_mask.shape != (B, S):
        raise ValueError(f"{name}: expected shape ({B}, {S}), got {tuple(key_mask.shape)}")
    return key_mask


def check_int_type(value: object, name: str) -> int:
    """``value`` if it is an int (not a bool), else a ``TypeError``; the range is the caller's."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
    return value


def check_positive_float(value: object, name: str) -> float:
    """``value`` as a float if it is a real number > 0, else a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}: expected a positive float, got {value!r}")
    return float(value)


def check_real(value: object, name: str) -> float:
    """``value`` as a float if it is a finite real number (not a bool), else a ``TypeError``
    (not a number) or ``ValueError`` (NaN or infinite)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def check_int(value: object, name: str, *, minimum: int = 1) -> int:
    """``value`` if it is an int (not a bool) ``>= minimum``, else a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return value


def check_optional_int(value: object, name: str, *, minimum: int = 1) -> int | None:
    """Like :func:`check_int`, but ``None`` passes through."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum} or None, got {value!r}")
    return value


def check_dropout(p: object) -> float:
    """``p`` as a float if it is a probability in [0, 1), else a ``ValueError``."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {p!r}")
    return float(p)


def check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: expected a bool, got {type(value).__name__}")
    return value


def check_sequence(x: object, name: str, features: int, shape: str = "(B, L, d_model)") -> Tensor:
    """``x`` if it is a floating 3-D tensor whose last dimension is ``features``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor {shape}, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating tensor {shape}, got dtype {x.dtype}")
    if x.dim() != 3 or x.shape[-1] != features:
        raise ValueError(f"{name}: expected shape {shape} with last dim {features}, got {tuple(x.shape)}")
    return x


def reject_key_padding_mask(key_padding_mask: object) -> None:
    """Raise if a PyTorch-style ``key_padding_mask`` (``True`` = padding) is passed:
    the book's masks say where attention is *allowed*, so the argument is ``key_mask``."""
    if key_padding_mask is not None:
        raise TypeError(
            "key_padding_mask: not accepted. PyTorch's key_padding_mask is True at padding; atencion's "
            "key_mask (B, S) is True at real keys, like every mask in the book. Convert with "
            "key_mask=~key_padding_mask"
        )


def check_tokens(x: object, name: str, shape: str) -> Tensor:
    """``x`` if it is a 2-D ``torch.long`` tensor of token ids (``shape`` names its axes)."""
    if not isinstance(x, Tensor) or x.dtype != torch.long:
        got = x.dtype if isinstance(x, Tensor) else type(x).__name__
        raise TypeError(f"{name}: expected a torch.long tensor {shape}, got {got}")
    if x.dim() != 2:
        raise ValueError(f"{name}: expected shape {shape}, got {tuple(x.shape)}")
    return x


def check_date(date: object, name: str = "date") -> dt.date:
    """``date`` if it is a ``datetime.date`` (not a datetime) with a four-digit year."""
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise TypeError(f"{name}: expected a datetime.date, got {type(date).__name__}")
    if not 1000 <= date.year <= 9999:
        raise ValueError(f"{name}: expected a year in [1000, 9999], got {date.year}")
    return date


def check_graph(x: object, adjacency: object, in_features: int) -> tuple[Tensor, Tensor, bool]:
    """Validate ``x (B, N, F)`` or ``(N, F)`` and a matching adjacency; return batched
    tensors and whether the input was unbatched."""
    if not isinstance(x, Tensor):
        raise TypeError(f"x: expected a torch.Tensor (B, N, in_features) or (N, in_features), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x: expected a floating tensor, got dtype {x.dtype}")
    if x.dim() not in (2, 3) or x.shape[-1] != in_features:
        raise ValueError(
            f"x: expected shape (B, N, {in_features}) or (N, {in_features}), got {tuple(x.shape)}"
        )
    if not isinstance(adjacency, Tensor):
        raise TypeError(f"adjacency: expected a torch.Tensor (N, N) or (B, N, N), got {type(adjacency).__name__}")
    unbatched = x.dim() == 2
    N = x.shape[-2]
    if adjacency.dim() not in (2, 3) or adjacency.shape[-2:] != (N, N) or (
        adjacency.dim() == 3 and adjacency.shape[0] not in (1, x.shape[0] if not unbatched else 1)
    ):
        raise ValueError(
            f"adjacency: expected shape ({N}, {N}) or (B, {N}, {N}) matching x of shape "
            f"{tuple(x.shape)}, got {tuple(adjacency.shape)}"
        )
    if unbatched:
        x = x[None]
    if adjacency.dim() == 2:
        adjacency = adjacency[None]
    return x, adjacency, unbatched


def check_features(x: object, d: int) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"x: expected a torch.Tensor (..., {d}), got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"x: expected a floating tensor (..., {d}), got dtype {x.dtype}")
    if x.dim() == 0 or x.shape[-1] != d:
        raise ValueError(f"x: expected shape (..., {d}) (last dim = features), got {tuple(x.shape)}")
    return x


def check_even(d: object, name: str) -> int:
    check_int(d, name)
    if d % 2:
        raise ValueError(f"{name}: expected an even size (components come in sin/cos pairs), got {d}")
    return d


def check_query_keys(query: object, keys: object) -> tuple[int, int]:
    """Validate ``query (B, [T,] Dq)`` and ``keys (B, S, Dk)``; return ``(Dq, Dk)``."""
    for name, x, dims, shape in (("query", query, (2, 3), "(B, Dq) or (B, T, Dq)"),
                                 ("keys", keys, (3,), "(B, S, Dk)")):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor {shape}, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name}: expected a floating tensor {shape}, got dtype {x.dtype}")
        if x.dim() not in dims:
            raise ValueError(f"{name}: expected shape {shape}, got {tuple(x.shape)}")
    if query.shape[0] != keys.shape[0]:
        raise ValueError(
            f"keys: expected batch size B = {query.shape[0]} (as query), got shape {tuple(keys.shape)}"
        )
    return query.shape[-1], keys.shape[2]


def check_lengths(lengths: object, B: int, S: int, name: str = "src_lengths") -> Tensor:
    if not isinstance(lengths, Tensor) or lengths.dtype != torch.long:
        got = lengths.dtype if isinstance(lengths, Tensor) else type(lengths).__name__
        raise TypeError(f"{name}: expected a torch.long tensor ({B},), got {got}")
    if lengths.shape != (B,):
        raise ValueError(f"{name}: expected shape ({B},), got {tuple(lengths.shape)}")
    if B > 0 and (int(lengths.min()) < 1 or int(lengths.max()) > S):
        raise ValueError(f"{name}: expected values in [1, {S}], got {lengths.tolist()}")
    return lengths


def check_qkv(query: object, key: object, value: object) -> tuple[int, int]:
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise TypeError(
                f"{name}: expected a floating torch.Tensor (..., L, d), got {getattr(t, 'dtype', type(t).__name__)}"
            )
        if t.dim() < 2:
            raise ValueError(f"{name}: expected at least 2 dimensions (..., L, d), got {tuple(t.shape)}")
    if key.shape[:-1] != query.shape[:-1] or key.shape[-1] != query.shape[-1] or value.shape[:-1] != key.shape[:-1]:
        raise ValueError(
            f"query, key, value: expected (..., L, d), (..., L, d), (..., L, d_v) with the same L, got "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        )
    return query.shape[-2], query.shape[-1]


def check_prediction_pair(predictions: object, targets: object) -> None:
    for name, x in (("predictions", predictions), ("targets", targets)):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if targets.is_floating_point():
        raise TypeError(f"targets: expected integer class ids, got dtype {targets.dtype}")


def check_nonnegative_float(value: object, name: str) -> float:
    """``value`` as a float if it is a real number >= 0, else a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name}: expected a float >= 0, got {value!r}")
    return float(value)


def check_probability(value: object, name: str) -> float:
    """``value`` as a float if it is a probability in (0, 1], else a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError(f"{name}: expected a probability in (0, 1], got {value!r}")
    return float(value)


def check_indices(values: object, n: int, name: str) -> list[int]:
    """``values`` as a list if every one is an int index in ``[0, n)``, else a ``ValueError``."""
    values = list(values)  # type: ignore[call-overload]
    bad = [i for i in values if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n]
    if bad:
        raise ValueError(f"{name}: expected indices in [0, {n - 1}], got {bad}")
    return values


def check_betas(betas: object) -> tuple[float, float]:
    """``(b1, b2)`` as floats if both are numbers in [0, 1), else a ``ValueError``."""
    if (not isinstance(betas, (tuple, list)) or len(betas) != 2
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in betas)):
        raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}")
    return float(betas[0]), float(betas[1])


def check_unit_interval(value: object, name: str) -> float:
    """``value`` as a float if it is a number in [0, 1], else a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}")
    return float(value)


def check_texts(texts: object, name: str = "texts") -> list[str]:
    """``texts`` as a list if it is an iterable of strings (not one string), else a ``TypeError``."""
    from collections.abc import Iterable

    if isinstance(texts, str) or not isinstance(texts, Iterable):
        raise TypeError(f"{name}: expected a list of strings, got {type(texts).__name__}")
    texts = list(texts)
    if not all(isinstance(t, str) for t in texts):
        bad = next(type(t).__name__ for t in texts if not isinstance(t, str))
        raise TypeError(f"{name}: expected a list of strings, got an element of type {bad}")
    return texts


def check_fractions(fractions: object, names: object) -> None:
    """``fractions``: one positive number per name in ``names``, summing to 1."""
    if len(fractions) != len(names):
        raise ValueError(
            f"fractions: expected {len(names)} numbers (one per name in {list(names)}), got {len(fractions)}"
        )
    if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions: expected positive numbers summing to 1, got {list(fractions)}")


def check_images(images: object, channels: int | None, patch_size: int) -> Tensor:
    """``images`` if it is a float ``(B, C, H, W)`` tensor (``C = channels`` unless ``None``)
    whose height and width are multiples of ``patch_size``."""
    images = check_tensor(images, "images")
    if images.dim() != 4 or not images.is_floating_point():
        raise ValueError(f"images: expected a float tensor (B, C, H, W), got {images.dtype} {tuple(images.shape)}")
    if channels is not None and images.shape[1] != channels:
        raise ValueError(f"images: expected {channels} channels (B, {channels}, H, W), got {tuple(images.shape)}")
    H, W = images.shape[-2:]
    if H % patch_size or W % patch_size:
        raise ValueError(f"images: height and width must be multiples of patch_size = {patch_size}, got {H}x{W}")
    return images


def check_ctc_inputs(log_probs: object, input_lengths: object, blank: int) -> tuple[Tensor, Tensor]:
    """``(log_probs (B, T, C), input_lengths (B,) long)`` if they are valid CTC inputs and
    ``blank`` is a class index."""
    log_probs = check_tensor(log_probs, "log_probs")
    if log_probs.dim() != 3 or not log_probs.is_floating_point():
        raise ValueError(f"log_probs: expected a float tensor (B, T, C), got {log_probs.dtype} "
                         f"{tuple(log_probs.shape)}")
    B, T, C = log_probs.shape
    input_lengths = torch.as_tensor(input_lengths)
    if input_lengths.shape != (B,) or input_lengths.is_floating_point():
        raise ValueError(f"input_lengths: expected {B} integer lengths, got {tuple(input_lengths.shape)}")
    if ((input_lengths < 1) | (input_lengths > T)).any():
        raise ValueError(f"input_lengths: expected lengths in [1, {T}], got {input_lengths.tolist()}")
    check_int_type(blank, "blank")
    if not 0 <= blank < C:
        raise ValueError(f"blank: expected an index in [0, {C - 1}], got {blank}")
    return log_probs, input_lengths.long()
