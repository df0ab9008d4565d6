"""Sets of scikit-learn's 8x8 digit images with an odd one out (chapter 2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from .._checks import check_int

__all__ = ["DigitSplit", "digit_split", "odd_one_out"]

class DigitSplit(NamedTuple):
    """scikit-learn's 8x8 digit images, split into disjoint pools of images."""

    images: dict[str, Tensor]  # split -> (n, 64) floats in [0, 1]
    labels: dict[str, Tensor]  # split -> (n,) digit classes 0..9


def digit_split(
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    *,
    seed: int = 0,
    names: Sequence[str] = ("train", "val", "test"),
) -> DigitSplit:
    """Split scikit-learn's digits (1797 images of 8x8 pixels, shipped with the
    package) into disjoint pools, stratified by class.

    Pixel values are scaled from 0..16 to [0, 1]. Returns a :class:`DigitSplit`
    whose dicts are keyed by ``names``; an image belongs to one pool only.
    """
    from sklearn.datasets import load_digits

    if len(fractions) != len(names):
        raise ValueError(
            f"fractions: expected {len(names)} numbers (one per name in {list(names)}), got {len(fractions)}"
        )
    if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions: expected positive numbers summing to 1, got {list(fractions)}")
    digits = load_digits()
    images = torch.tensor(digits.data, dtype=torch.float32) / 16.0  # (1797, 64)
    labels = torch.tensor(digits.target, dtype=torch.long)  # (1797,)
    g = torch.Generator().manual_seed(seed)
    parts: dict[str, list[Tensor]] = {n: [] for n in names}
    bounds = torch.tensor([0.0, *fractions]).cumsum(0)
    for c in range(10):  # ten classes: stratify each one
        idx = (labels == c).nonzero()[:, 0]
        idx = idx[torch.randperm(len(idx), generator=g)]
        cuts = (bounds * len(idx)).round().long().tolist()
        for n, a, b in zip(names, cuts[:-1], cuts[1:]):
            parts[n].append(idx[a:b])
    chosen = {n: torch.cat(p).sort().values for n, p in parts.items()}
    return DigitSplit({n: images[i] for n, i in chosen.items()}, {n: labels[i] for n, i in chosen.items()})


def odd_one_out(
    images: Tensor,
    labels: Tensor,
    num_sets: int,
    set_size: int = 10,
    *,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Sets of ``set_size`` images, all of one class but one: find the odd one out.

    For each set a majority class and a different odd class are drawn at
    random; ``set_size - 1`` images are drawn (with replacement) from the
    majority class and one from the odd class, at a random position.

    Args:
        images: ``(n, D)`` pool of images.
        labels: ``(n,)`` their classes; every class that occurs must have at
            least one image, and at least two classes must occur.

    Returns:
        ``(sets, odd, classes)``: ``sets (num_sets, set_size, D)``, the index of
        the odd element ``odd (num_sets,)``, and the class of every element
        ``classes (num_sets, set_size)``.
    """
    if not isinstance(images, Tensor) or images.dim() != 2:
        raise ValueError(f"images: expected a 2-D tensor (n, D), got {getattr(images, 'shape', type(images).__name__)}")
    if not isinstance(labels, Tensor) or labels.shape != images.shape[:1]:
        raise ValueError(
            f"labels: expected a tensor of shape ({images.shape[0]},), "
            f"got {getattr(labels, 'shape', type(labels).__name__)}"
        )
    for name, n, minimum in (("num_sets", num_sets, 1), ("set_size", set_size, 3)):
        check_int(n, name, minimum=minimum)
    classes, counts = labels.unique(return_counts=True)  # (K,), (K,)
    if len(classes) < 2:
        raise ValueError(f"labels: expected at least 2 classes, got {classes.tolist()}")
    order = labels.argsort(stable=True)  # images grouped by class
    starts = counts.cumsum(0) - counts  # (K,) first position of each class in order
    K = len(classes)
    major = torch.randint(K, (num_sets,), generator=generator)  # (num_sets,)
    odd_class = (major + torch.randint(1, K, (num_sets,), generator=generator)) % K  # != major
    member = major[:, None].expand(num_sets, set_size).clone()  # (num_sets, set_size)
    odd = torch.randint(set_size, (num_sets,), generator=generator)  # (num_sets,)
    member[torch.arange(num_sets), odd] = odd_class
    offset = (torch.rand(num_sets, set_size, generator=generator) * counts[member]).long()
    chosen = order[starts[member] + offset]  # (num_sets, set_size) image indices
    return images[chosen], odd, labels[chosen]
