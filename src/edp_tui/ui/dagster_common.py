"""Shared pieces of the Dagster panels: a poll loop that never overlaps and pauses off screen, formatting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text
from textual import events
from textual.containers import Vertical
from textual.widgets import Static

from edp_tui.dagster.errors import DagsterError, DagsterUnreachable
from edp_tui.logtext import visible

RUN_STATUS_STYLE = {
    "SUCCESS": "bold green",
    "FAILURE": "bold red",
    "CANCELED": "magenta",
    "CANCELING": "magenta",
    "STARTED": "bold cyan",
    "STARTING": "cyan",
    "QUEUED": "yellow",
    "NOT_STARTED": "dim",
    "MANAGED": "dim",
}
TICK_STATUS_STYLE = {"SUCCESS": "green", "FAILURE": "bold red", "SKIPPED": "yellow", "STARTED": "cyan"}

Clock = Callable[[], float]


def status_text(status: str, styles: dict[str, str] = RUN_STATUS_STYLE) -> Text:
    return Text(status, style=styles.get(status, ""))


def format_ts(ts: float | None) -> str:
    """Epoch seconds as UTC ``MM-DD HH:MM:SS``; the year adds nothing on a dashboard."""
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%m-%d %H:%M:%S")


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def error_banner_text(prefix: str, error: Exception, retry_in: float | None = None) -> Text:
    """A one-line (or multi-line for Python errors) explanation, outside text shown literally."""
    kind = "webserver unreachable" if isinstance(error, DagsterUnreachable) else type(error).__name__
    text = Text.assemble((f"{prefix}: ", "bold"), (kind, "bold red"), " · ", visible(str(error)))
    if retry_in is not None:
        text.append(f" · retrying in {retry_in:.0f}s", style="italic")
    return text


class PollingPanel(Vertical):
    """A panel fed by ``poll_once`` in a loop.

    One worker per panel runs the loop: the next poll starts only once the previous one has finished, and the
    loop sleeps while the panel is not on screen (another tab is shown) unless ``needs_polling_offscreen``.
    ``wake()`` asks for an immediate poll (after an action, on a push event). Failures are shown in a banner
    and retried with backoff; they never end the loop.
    """

    poll_interval: float = 2.0
    max_backoff: float = 10.0

    DEFAULT_CSS = """
    PollingPanel {
        border: round $primary-darken-2;
        border-title-color: $text;
    }
    PollingPanel:focus-within {
        border: round $accent;
    }
    PollingPanel > .banner {
        display: none;
        background: $error 30%;
        padding: 0 1;
        height: auto;
    }
    PollingPanel.-failing > .banner {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None, clock: Clock = time.time) -> None:
        super().__init__(id=id)
        self._wake = asyncio.Event()
        self.clock = clock
        self.last_error: Exception | None = None
        self.polls = 0

    def banner(self) -> Static:
        return Static(classes="banner")

    def on_mount(self) -> None:
        # After the first refresh: the app has mounted (its initial header states are set) by then.
        self.call_after_refresh(self._start_loop)

    def _start_loop(self) -> None:
        self.run_worker(self._loop(), exclusive=True, group=f"poll-{id(self)}", exit_on_error=False)

    def on_show(self, event: events.Show) -> None:
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    @property
    def needs_polling_offscreen(self) -> bool:
        return False

    async def poll_once(self) -> None:
        raise NotImplementedError

    def show_error(self, error: Exception | None, retry_in: float | None = None) -> None:
        self.last_error = error
        banners = self.query(".banner")
        if error is None:
            self.remove_class("-failing")
            return
        self.add_class("-failing")
        for b in banners:
            if isinstance(b, Static):
                b.update(error_banner_text(self.border_title or type(self).__name__, error, retry_in))

    def current_interval(self) -> float:
        return self.poll_interval

    async def _loop(self) -> None:
        failures = 0
        while True:
            # The first poll always runs, so every panel is populated at start even in a hidden tab.
            if self.polls and not (self.is_on_screen or self.needs_polling_offscreen):
                # Nothing on screen needs this data: wait for Show or an explicit wake().
                self._wake.clear()
                await self._wake.wait()
            self._wake.clear()
            delay = self.current_interval()
            try:
                await self.poll_once()
            except (DagsterError, ValueError, KeyError, TypeError) as exc:
                # Backend failures, and payloads of a shape we did not expect: shown, retried, never fatal.
                failures += 1
                delay = min(self.max_backoff, self.current_interval() * (2 ** min(failures, 4)))
                self.show_error(exc, delay)
            else:
                if failures or self.last_error is not None:
                    self.show_error(None)
                failures = 0
            self.polls += 1
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
