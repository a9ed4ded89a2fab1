"""`AlertFeed`: every event once (by id), only the kinds switched on, at most ``max_per_minute`` shown."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from edp_tui.alerts.events import AlertEvent
from edp_tui.alerts.settings import AlertSettings

WINDOW_S = 60.0
# Ids remembered (oldest forgotten first): far more than a session sees, bounded all the same.
REMEMBERED_IDS = 10_000


@dataclass
class Offered:
    """What one `AlertFeed.offer` made of its events: ``new`` (first seen, kind on), of which ``shown`` were
    within the rate limit and ``suppressed`` were not."""

    new: list[AlertEvent] = field(default_factory=list)
    shown: list[AlertEvent] = field(default_factory=list)
    suppressed: list[AlertEvent] = field(default_factory=list)


class AlertFeed:
    def __init__(self, settings: AlertSettings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._shown_at: deque[float] = deque()
        self.suppressed_total = 0

    def offer(self, events: Iterable[AlertEvent]) -> Offered:
        offered = Offered()
        for event in sorted(events, key=lambda e: e.at):
            if event.id in self._seen or not self.settings.enabled(event.kind):
                continue
            self._seen[event.id] = None
            if len(self._seen) > REMEMBERED_IDS:
                self._seen.popitem(last=False)
            offered.new.append(event)
            if self._within_limit():
                offered.shown.append(event)
            else:
                offered.suppressed.append(event)
                self.suppressed_total += 1
        return offered

    def _within_limit(self) -> bool:
        now = self.clock()
        while self._shown_at and now - self._shown_at[0] >= WINDOW_S:
            self._shown_at.popleft()
        if len(self._shown_at) >= self.settings.max_per_minute:
            return False
        self._shown_at.append(now)
        return True
