"""One run's event log as the dashboard keeps it: the newest events in order, bounded in count and size, and
the filter the event-log view applies (event type, step, minimum level, a case-insensitive search)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from edp_tui.dagster.models import RunEvent

# Events kept per run (the oldest dropped first; the full log stays in Dagster), and the characters kept of
# one event's message or error: a run of 100,000 events costs the same as one of MAX_EVENTS.
MAX_EVENTS = 5000
MAX_TEXT_CHARS = 8000
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def kind_of(event: RunEvent) -> str:
    """The event's type as Dagster names it (``STEP_FAILURE``); a user's log line is ``LOG``."""
    if event.event_type:
        return event.event_type
    if event.typename == "LogMessageEvent":
        return "LOG"
    return event.typename or "EVENT"


def level_rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT_CHARS:
        return text
    return text[: MAX_TEXT_CHARS - 1] + "…"


@dataclass(frozen=True)
class EventFilter:
    """What the view shows: None means any type or step; ``min_level`` keeps that level and above."""

    kind: str | None = None
    step: str | None = None
    min_level: str | None = None
    search: str = ""

    def matches(self, event: RunEvent) -> bool:
        if self.kind is not None and kind_of(event) != self.kind:
            return False
        if self.step is not None and event.step_key != self.step:
            return False
        if self.min_level is not None and level_rank(event.level) < level_rank(self.min_level):
            return False
        if self.search:
            needle = self.search.casefold()
            haystack = (event.message, event.error or "", event.step_key or "", kind_of(event))
            return any(needle in text.casefold() for text in haystack)
        return True

    @property
    def active(self) -> bool:
        return self != EventFilter()


class EventLog:
    """The newest ``cap`` events of a run, each with a sequence number that stays its own (a row key)."""

    def __init__(self, cap: int = MAX_EVENTS) -> None:
        self.cap = cap
        self._events: deque[tuple[int, RunEvent]] = deque()
        self.total = 0  # events seen, dropped ones included
        self.kinds: set[str] = set()
        self.steps: set[str] = set()

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[tuple[int, RunEvent]]:
        return iter(self._events)

    @property
    def dropped(self) -> int:
        return self.total - len(self._events)

    def add(self, events: Iterable[RunEvent]) -> tuple[list[tuple[int, RunEvent]], list[int]]:
        """Append events: (the ones added with their numbers, the numbers of the ones dropped for room)."""
        added: list[tuple[int, RunEvent]] = []
        dropped: list[int] = []
        for event in events:
            if len(event.message) > MAX_TEXT_CHARS or len(event.error or "") > MAX_TEXT_CHARS:
                event = replace(event, message=_cut(event.message) or "", error=_cut(event.error))
            entry = (self.total, event)
            self.total += 1
            self._events.append(entry)
            added.append(entry)
            self.kinds.add(kind_of(event))
            if event.step_key:
                self.steps.add(event.step_key)
            if len(self._events) > self.cap:
                dropped.append(self._events.popleft()[0])
        # Added and dropped in the same call: the caller never shows them.
        gone = set(dropped)
        return [e for e in added if e[0] not in gone], [
            n for n in dropped if n < added[0][0]
        ] if added else []

    def get(self, number: int) -> RunEvent | None:
        if not self._events or number < self._events[0][0]:
            return None
        index = number - self._events[0][0]
        return self._events[index][1] if index < len(self._events) else None

    def matching(self, wanted: EventFilter) -> list[tuple[int, RunEvent]]:
        return [entry for entry in self._events if wanted.matches(entry[1])]
