"""LogsPanel: container logs of the selected compose service, or of all services interleaved.

A `LogView` plus a title line and the "how far back" choice. The follower (edp_tui.docker.logs) runs in a
Textual thread worker and hands batches over with ``call_from_thread``, which blocks until the event loop took
them: that is the backpressure (a flood cannot queue up unbounded work on the screen). Stream ends,
removed containers and an unreachable engine are shown inline (a line in the log and the title line).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Select, Static

from edp_tui.docker.logs import (
    BACKLOGS,
    DEFAULT_BACKLOG,
    Backlog,
    Follower,
    LogEvent,
    LogSource,
)
from edp_tui.text import LogLine
from edp_tui.ui.widgets.log_view import LogView

# Bounds of the container log view: k9s keeps 5,000 lines; a few MB hold far more context at little cost.
MAX_LINES = 20_000
MAX_BYTES = 16 * 1024 * 1024


class LogsPanel(Vertical):
    """Container logs. The shell calls `show_service` when the selected service changes."""

    # The focus inside makes `m` maximize the whole panel (Textual's Screen.maximize).
    ALLOW_MAXIMIZE = True

    HELP = """\
## Container logs

The logs of the service selected in the services panel, or of **all services** interleaved by time with
each line tagged by its service (`a`). The choice above the log (`b` cycles it) says how far back to start:
the last 200 or 1000 lines of each container, the last 5 minutes, the last hour, or everything.

A container that stops is reported in the log and followed again when it starts; a removed container and an
unreachable Docker engine are reported too, and the logs resume by themselves when the engine is back.

| key | what it does |
|---|---|
| `a` | logs of all services |
| `b` | how far back to start (cycles) |
""" + LogView.HELP.split("\n", 2)[2]

    DEFAULT_CSS = """
    LogsPanel {
        height: 1fr;
        & > #logs-bar { height: 3; dock: top; }
        & > #logs-bar > #logs-title { width: 1fr; padding: 1 1 0 1; }
        & > #logs-bar > #logs-title.-problem { color: $error; text-style: bold; }
        & > #logs-bar > #logs-backlog { width: 26; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "all_services", "All services", id="logs.all_services"),
        Binding("b", "cycle_backlog", "From", id="logs.backlog"),
    ]

    def __init__(
        self,
        source: LogSource,
        *,
        service: str | None = None,
        backlog: Backlog = DEFAULT_BACKLOG,
        max_lines: int = MAX_LINES,
        max_bytes: int = MAX_BYTES,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.source = source
        self.service = service
        self.backlog = backlog
        self._view = LogView(max_lines=max_lines, max_bytes=max_bytes, id="logs-view")
        self._follower: Follower | None = None
        self._generation = 0
        self._problem: str | None = None
        self._started = False

    def compose(self) -> ComposeResult:
        # The log comes first in the DOM (docked bar above it) so that tab from the services lands on the log.
        yield self._view
        with Horizontal(id="logs-bar"):
            yield Static(id="logs-title", markup=False)
            yield Select(
                [(b.label, b.key) for b in BACKLOGS],
                value=self.backlog.key,
                allow_blank=False,
                id="logs-backlog",
                tooltip="How far back to start",
            )

    def on_mount(self) -> None:
        # Out of the tab order: tab from the services goes straight to the log; `b` changes the choice.
        self.query_one("#logs-backlog", Select).can_focus = False
        self._started = True
        self._restart()

    def on_unmount(self) -> None:
        self._stop_follower()

    @property
    def view(self) -> LogView:
        return self._view

    # --- public API ---------------------------------------------------------------------------------------
    def show_service(self, name: str | None) -> None:
        """Follow ``name``'s logs (None: all services interleaved). No-op when it is already shown."""
        if name == self.service and self._follower is not None:
            return
        self.service = name
        if self._started:
            self._restart()

    def set_backlog(self, backlog: Backlog) -> None:
        """Start again from ``backlog`` (how far back)."""
        if backlog == self.backlog and self._follower is not None:
            return
        self.backlog = backlog
        select = self.query("#logs-backlog")
        if select and select.first(Select).value != backlog.key:
            select.first(Select).value = backlog.key
        if self._started:
            self._restart()

    def action_all_services(self) -> None:
        self.show_service(None)

    def action_cycle_backlog(self) -> None:
        i = BACKLOGS.index(self.backlog) if self.backlog in BACKLOGS else 0
        self.set_backlog(BACKLOGS[(i + 1) % len(BACKLOGS)])

    @on(Select.Changed, "#logs-backlog")
    def _backlog_chosen(self, event: Select.Changed) -> None:
        event.stop()
        for b in BACKLOGS:
            if b.key == event.value:
                self.set_backlog(b)

    # --- follower -----------------------------------------------------------------------------------------
    def _restart(self) -> None:
        self._stop_follower()
        self._generation += 1
        generation = self._generation
        self._problem = None
        view = self._view
        view.clear()
        view.show_service_tags = self.service is None
        what = self.service or "all services"
        view.set_source_label(f"{what} · {self.backlog.label}")
        self._update_title()

        def on_lines(lines: list[LogLine]) -> None:
            if self._generation == generation:
                self.app.call_from_thread(self._deliver, generation, lines)

        def on_event(event: LogEvent) -> None:
            if self._generation == generation:
                self.app.call_from_thread(self._on_log_event, generation, event)

        follower = self.source.follow(self.service, self.backlog, on_lines, on_event)
        self._follower = follower
        self._run_follower(follower)

    @work(thread=True, exclusive=True, group="container-logs", exit_on_error=False)
    def _run_follower(self, follower: Follower) -> None:
        follower.run()

    def _stop_follower(self) -> None:
        follower, self._follower = self._follower, None
        self._generation += 1
        if follower is not None:
            follower.stop()  # unblocks its readers; the worker thread returns on its own (never joined here)

    def _deliver(self, generation: int, lines: list[LogLine]) -> None:
        if generation == self._generation:
            self._view.append_lines(lines)

    def _on_log_event(self, generation: int, event: LogEvent) -> None:
        if generation != self._generation:
            return
        if event.kind in ("engine_unreachable", "removed", "error"):
            self._problem = event.message
        elif event.kind in ("engine_back", "attached"):
            self._problem = None
        elif event.kind == "stopped":
            self._problem = event.message
        self._update_title()

    @property
    def problem(self) -> str | None:
        """What is wrong with the stream right now (shown in the title line), or None."""
        return self._problem

    def _update_title(self) -> None:
        if not self.is_mounted:
            return
        title = self.query_one("#logs-title", Static)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("Logs: ", "bold")
        text.append(self.service or "all services (interleaved)", "bold")
        if self._problem:
            text.append("  ⚠ ")
            text.append(self._problem)  # outside text: appended plain, never parsed as markup
        title.update(text)
        title.set_class(self._problem is not None, "-problem")
