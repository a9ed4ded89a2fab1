"""`Cadence`: a poll interval that is short while things change and grows while nothing does.

A panel calls `observe(changed)` after each poll and sleeps `interval` before the next one; an action that
is bound to change something calls `hurry()` (and wakes the poll loop).
"""

from __future__ import annotations


class Cadence:
    def __init__(self, fast: float, slow: float, factor: float = 2.0) -> None:
        if not 0 < fast <= slow or factor <= 1:
            raise ValueError("need 0 < fast <= slow and factor > 1")
        self.fast = fast
        self.slow = slow
        self.factor = factor
        self.interval = fast

    def observe(self, changed: bool) -> float:
        """After a poll: back to ``fast`` if it saw a change, else one step slower (up to ``slow``)."""
        self.interval = self.fast if changed else min(self.interval * self.factor, self.slow)
        return self.interval

    def hurry(self) -> None:
        self.interval = self.fast
