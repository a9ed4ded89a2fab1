"""`PollingPanel`: a bordered panel with an error banner, fed by a composed `PollLoop` (util/poll.py) that
never overlaps, pauses while the panel is off screen and backs off on failure."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from edp_tui.errors import EdpError
from edp_tui.text import printable
from edp_tui.util.poll import PollLoop

Clock = Callable[[], float]


def error_banner_text(prefix: str, error: Exception, retry_in: float | None = None) -> Text:
    """One line (several for a Python error's text) saying what failed, outside text shown literally."""
    kind = (error.kind if isinstance(error, EdpError) else None) or type(error).__name__
    text = Text.assemble((f"{prefix}: ", "bold"), (kind, "bold red"), " · ", printable(str(error)))
    if retry_in is not None:
        text.append(f" · retrying in {retry_in:.0f}s", style="italic")
    return text


class PollingPanel(Vertical):
    """A panel fed by ``poll_once``, run by its `PollLoop` (``self.poller``).

    The loop starts once the panel is mounted; it sleeps while the panel is not on screen (another tab is
    shown, or a screen of its own covers the dashboard) unless ``needs_polling_offscreen``. ``wake()`` asks
    for an immediate poll (after an action, on a push event). Failures are shown in a banner and retried with
    backoff; they never end the loop.
    """

    # The focus inside a panel makes `m` maximize the whole panel (Textual's Screen.maximize).
    ALLOW_MAXIMIZE = True

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
        self.clock = clock
        self.poller = PollLoop(
            self.poll_once,
            interval=self.current_interval,
            wanted=lambda: self.shown or self.needs_polling_offscreen,
            on_error=self.show_error,
            max_backoff=self.max_backoff,
            name=type(self).__name__,
        )

    @property
    def shown(self) -> bool:
        """On its screen, and that screen in view: a screen of its own (the graphs, a log, the event log)
        covers the dashboard whole and what it covers need not be polled, while a modal dialog shows it.
        (Textual's Screen.is_current counts the screen under the top one as current whatever covers it.)"""
        if not self.is_on_screen:
            return False
        stack = self.app.screen_stack
        above = stack[stack.index(self.screen) + 1 :] if self.screen in stack else []
        return all(isinstance(screen, ModalScreen) for screen in above)

    @property
    def polls(self) -> int:
        return self.poller.polls

    @property
    def last_error(self) -> Exception | None:
        return self.poller.last_error

    def banner(self) -> Static:
        return Static(classes="banner")

    def on_mount(self) -> None:
        # After the first refresh: the app has mounted (its initial header states are set) by then.
        self.call_after_refresh(self._start_loop)
        # A screen popped off the dashboard sends no Show to the panels it uncovers: their loops, parked
        # while covered, would wait for a key. The app's own screen-change signal wakes them.
        self.app.screen_change_signal.subscribe(self, self._on_screen_change)

    def _on_screen_change(self, screen: object) -> None:
        if self.shown:
            self.wake_on_show()

    def _start_loop(self) -> None:
        self.run_worker(self.poller.run(), exclusive=True, group=f"poll-{id(self)}", exit_on_error=False)

    def on_show(self, event: events.Show) -> None:
        self.wake_on_show()

    def wake_on_show(self) -> None:
        """Shown again (its tab, or the app after a screen): poll now, as a key would ask."""
        self.wake()

    def wake(self) -> None:
        self.poller.wake()

    @property
    def needs_polling_offscreen(self) -> bool:
        return False

    async def poll_once(self) -> None:
        raise NotImplementedError

    def show_error(self, error: Exception | None, retry_in: float | None = None) -> None:
        if error is None:
            self.remove_class("-failing")
            return
        self.add_class("-failing")
        for banner in self.query(".banner").results(Static):
            banner.update(error_banner_text(self.border_title or type(self).__name__, error, retry_in))

    def current_interval(self) -> float:
        return self.poll_interval
