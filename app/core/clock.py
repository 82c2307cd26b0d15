"""Clocks: the system clock, and a manual one for tests."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the epoch, by the system clock."""
    return time.time_ns() // 1_000_000


class SystemClock:
    def now_ms(self) -> int:
        return now_ms()


class ManualClock:
    """A clock that moves only when told (``advance``) or set."""

    def __init__(self, start_ms: int = 1_700_000_000_000, step_ms: int = 0) -> None:
        self.current_ms = start_ms
        self.step_ms = step_ms

    def now_ms(self) -> int:
        now = self.current_ms
        self.current_ms += self.step_ms
        return now

    def advance(self, ms: int) -> None:
        self.current_ms += ms
