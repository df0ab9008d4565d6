"""Argument checks shared by the modules: each names the argument and what was expected."""

from __future__ import annotations

from torch import Tensor


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
