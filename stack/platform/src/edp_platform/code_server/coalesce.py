"""When to reload: a pure state machine over change times, so debounce and coalescing are testable.

- A batch fires once no new change arrived for `quiet_s` (a save often touches several files: temp file,
  rename, the file itself), or `max_wait_s` after its first change, so a steady stream of saves still reloads.
- Never while a reload runs: changes seen meanwhile pile up and fire as one more reload after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Coalescer:
    quiet_s: float = 0.3
    max_wait_s: float = 2.0
    pending: set[str] = field(default_factory=set)
    first_change: float | None = None
    last_change: float | None = None
    reloading: bool = False

    def add(self, paths: set[str] | list[str], now: float) -> None:
        if not paths:
            return
        self.pending.update(paths)
        if self.first_change is None:
            self.first_change = now
        self.last_change = now

    def due_at(self) -> float | None:
        """The monotonic time at which the pending batch fires (None: nothing pending, or a reload runs)."""
        if not self.pending or self.reloading or self.first_change is None or self.last_change is None:
            return None
        return min(self.last_change + self.quiet_s, self.first_change + self.max_wait_s)

    def take(self, now: float) -> tuple[list[str], float] | None:
        """The batch (sorted paths, time of its first change) if due at `now`; marks a reload running."""
        due = self.due_at()
        if due is None or now < due:
            return None
        batch = (sorted(self.pending), self.first_change if self.first_change is not None else now)
        self.pending = set()
        self.first_change = self.last_change = None
        self.reloading = True
        return batch

    def finished(self) -> None:
        """The reload is over: changes seen during it fire as soon as they are due (often at once)."""
        self.reloading = False
