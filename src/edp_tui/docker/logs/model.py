"""What a log source offers the logs pane: how far back to start, events about the streams, the protocols."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from edp_tui.text import LogLine


@dataclass(frozen=True)
class Backlog:
    """How far back to start: the last ``tail`` lines of each container, or ``since_seconds`` back, or all."""

    key: str
    label: str
    tail: int | None = None
    since_seconds: float | None = None


BACKLOGS: tuple[Backlog, ...] = (
    Backlog("tail200", "last 200 lines", tail=200),
    Backlog("tail1000", "last 1000 lines", tail=1000),
    Backlog("5m", "last 5 minutes", since_seconds=300),
    Backlog("1h", "last hour", since_seconds=3600),
    Backlog("all", "everything"),
)
DEFAULT_BACKLOG = BACKLOGS[1]


def backlog_by_key(key: str) -> Backlog:
    """The `Backlog` named ``key`` (ValueError listing the valid keys otherwise)."""
    for b in BACKLOGS:
        if b.key == key:
            return b
    raise ValueError(f"unknown log start {key!r}; choose one of: {', '.join(b.key for b in BACKLOGS)}")


EventKind = Literal["attached", "stopped", "removed", "waiting", "engine_unreachable", "engine_back", "error"]


@dataclass(frozen=True)
class LogEvent:
    """Something about the streams themselves (not a log line), for the pane to show."""

    kind: EventKind
    message: str
    service: str | None = None
    container: str | None = None


class LogSource(Protocol):
    """What the logs pane needs: a follower per (service, backlog). A fake one drives TUI tests."""

    def follow(
        self,
        service: str | None,
        backlog: Backlog,
        on_lines: Callable[[list[LogLine]], None],
        on_event: Callable[[LogEvent], None],
    ) -> Follower: ...


class Follower(Protocol):
    def run(self) -> None: ...

    def stop(self) -> None: ...
