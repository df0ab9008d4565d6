"""Measuring time and memory of tensor computations on the CPU.

:func:`peak_memory` runs a function and returns the largest number of bytes held
at once by the tensors it creates (its inputs and anything alive before the call
are not counted). It watches every PyTorch operation through a dispatch mode, so it
measures the tensors the computation allocates, whatever the device, without an
external profiler: an ``(L, L)`` score matrix shows up as ``4 L^2`` bytes in float32.
Working memory that a fused kernel allocates inside its own implementation is not a
tensor and is not seen (cross-check such kernels with ``torch.profiler``).
"""

from __future__ import annotations

import statistics
import time
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ._checks import check_int

__all__ = ["peak_memory", "timings", "median_time"]


class _MemoryTracker(TorchDispatchMode):
    """Counts the bytes of every storage created by an operation until it is freed."""

    def __init__(self) -> None:
        super().__init__()
        self.current = self.peak = 0
        self._live: dict[int, list] = {}  # storage address -> [bytes, number of live tensors]

    def _release(self, key: int) -> None:
        entry = self._live.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            self.current -= entry[0]
            del self._live[key]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {a.untyped_storage().data_ptr() for a in tree_flatten((args, kwargs))[0]
                  if isinstance(a, torch.Tensor) and a.device.type != "meta"}
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.device.type != "meta":
                storage = t.untyped_storage()
                key = storage.data_ptr()
                if key == 0 or (key in inputs and key not in self._live):
                    continue  # a view (or in-place result) of a tensor that existed before
                if key in self._live:
                    self._live[key][1] += 1
                else:
                    self._live[key] = [storage.nbytes(), 1]
                    self.current += storage.nbytes()
                    self.peak = max(self.peak, self.current)
                weakref.finalize(t, self._release, key)
        return out


def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes held by the tensors that ``fn()`` allocates while it runs.

    Views count once (they share a storage); a tensor is freed when its last
    reference dies. Storages created before the call (the inputs) are not counted.

    Only tensors returned by an operation through PyTorch's dispatcher are seen.
    Memory that a kernel allocates and frees inside its own implementation is
    invisible: for example, the per-thread working buffers of the fused
    ``F.scaled_dot_product_attention`` kernels (flash or memory-efficient) are
    not counted, so for a fused kernel the result is a lower bound (its output
    and saved statistics). To see every allocation, use ``torch.profiler.profile``
    with ``profile_memory=True`` (on the CPU its native logging goes to file
    descriptor 2, not to ``sys.stderr``).
    """
    if not callable(fn):
        raise TypeError(f"fn: expected a callable with no arguments, got {type(fn).__name__}")
    tracker = _MemoryTracker()
    with tracker:
        result = fn()
    del result
    return tracker.peak


def timings(fn: Callable[[], Any], *, repeats: int = 7, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of each of ``repeats`` calls of ``fn()``, after ``warmup``
    calls (not timed): report their median and spread, not one call."""
    check_int(repeats, "repeats", minimum=1)
    check_int(warmup, "warmup", minimum=0)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median_time(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls, after ``warmup`` calls."""
    return statistics.median(timings(fn, repeats=repeats, warmup=warmup))
