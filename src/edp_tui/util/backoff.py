"""The one exponential backoff every retry loop uses (engine watcher, log follower, poll loops, subscriptions,
CLI waits), so that "retrying in N s" means the same thing everywhere."""

from __future__ import annotations


class Backoff:
    """Delays ``base``, ``base*factor``, ... capped at ``cap``; `reset` after a success.

    ``limit``: how many consecutive failures are tolerated (`exhausted` turns true past it); None for ever.
    """

    def __init__(self, base: float, cap: float, *, factor: float = 2.0, limit: int | None = None) -> None:
        if base <= 0 or cap < base or factor < 1:
            raise ValueError("Backoff needs 0 < base <= cap and factor >= 1")
        self.base = base
        self.cap = cap
        self.factor = factor
        self.limit = limit
        self.failures = 0

    def failed(self) -> float:
        """Count one more consecutive failure; the delay to wait before the next attempt."""
        self.failures += 1
        return self.delay

    @property
    def delay(self) -> float:
        """The delay for the current streak of failures (``base`` before the first)."""
        exponent = max(self.failures - 1, 0)
        # Bounded exponent: no float overflow after a night of failures.
        return min(self.cap, self.base * self.factor ** min(exponent, 64))

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.failures > self.limit

    def reset(self) -> None:
        self.failures = 0
