"""`PollingPanel`: a panel fed by a poll loop that never overlaps, pauses off screen, backs off on failure."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.containers import Vertical
from textual.widgets import Static

from edp_tui.dagster.errors import DagsterUnreachable
from edp_tui.errors import EdpError
from edp_tui.text import printable
from edp_tui.util.backoff import Backoff

Clock = Callable[[], float]
log = logging.getLogger("edp_tui")
# Failures a panel expects (backend down, payloads of an unexpected shape): shown and retried, not logged.
EXPECTED_ERRORS = (EdpError, ValueError, KeyError, TypeError)


def error_banner_text(prefix: str, error: Exception, retry_in: float | None = None) -> Text:
    """A one-line (or multi-line for Python errors) explanation, outside text shown literally."""
    kind = "webserver unreachable" if isinstance(error, DagsterUnreachable) else type(error).__name__
    text = Text.assemble((f"{prefix}: ", "bold"), (kind, "bold red"), " · ", printable(str(error)))
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
        # The first retry after twice the panel's interval, doubling up to max_backoff.
        backoff = Backoff(min(self.current_interval() * 2, self.max_backoff), self.max_backoff)
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
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - nothing may end the loop: the panel would freeze
                if not isinstance(exc, EXPECTED_ERRORS):
                    # A bug, or a payload of a shape nobody foresaw: in the log file with its traceback.
                    log.error("%s: poll failed: %s", type(self).__name__, exc, exc_info=exc)
                backoff.base = min(self.current_interval() * 2, backoff.cap)
                delay = backoff.failed()
                self.show_error(exc, delay)
            else:
                if backoff.failures or self.last_error is not None:
                    self.show_error(None)
                backoff.reset()
            self.polls += 1
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
