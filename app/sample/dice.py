"""Dice: the generator's source of randomness, reproducible from a seed and quick.

random.Random's choice() and randrange() run several Python frames per call; the large sample
hotel makes millions of draws, so Dice derives every draw from one random() call instead. The
streams are reproducible on any CPython or Pyodide (Mersenne Twister and IEEE doubles).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class Dice:
    """Draws from random.Random(`seed`): chance, pick, between, pick_some."""

    def __init__(self, seed: str) -> None:
        self._rng = random.Random(seed)
        self.random = self._rng.random

    def chance(self, probability: float) -> bool:
        """True with `probability`."""
        return self.random() < probability

    def pick(self, options: Sequence[T]) -> T:
        """One of `options` (non-empty), uniformly."""
        return options[int(self.random() * len(options))]

    def between(self, low: int, high: int, step: int = 1) -> int:
        """A multiple of `step` above `low`, in [low, high) (low when the range is empty)."""
        slots = (high - low) // step
        return low + int(self.random() * slots) * step if slots > 0 else low

    def upto(self, high: int) -> int:
        """An integer in [0, high] inclusive."""
        return int(self.random() * (high + 1))

    def pick_some(self, options: Sequence[T], count: int) -> list[T]:
        """`count` distinct items of `options`, in the order drawn (count <= len(options))."""
        pool = list(options)
        chosen: list[T] = []
        for _ in range(min(count, len(pool))):
            chosen.append(pool.pop(int(self.random() * len(pool))))
        return chosen

    def shuffle(self, items: list[T]) -> None:
        """Shuffle `items` in place."""
        for index in range(len(items) - 1, 0, -1):
            other = int(self.random() * (index + 1))
            items[index], items[other] = items[other], items[index]

    def exponential(self, mean: float) -> float:
        """A draw of the exponential distribution with `mean`."""
        return self._rng.expovariate(1 / mean)
