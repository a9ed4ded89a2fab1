"""The services panel: one row per expected compose service, driven by Docker events.

On a short terminal (``compact``) the panel is a one-line strip (a mark, the name and, when not fine, the
state of each service) that expands into the full table while it has the focus.

The panel owns the service actions (restart, stop, start: `ActionGuard`), the detail screen and the manual
refresh, as the runs panel owns the run actions; the App only routes what the Docker watcher learns.

Long module: the strip and the table are two views of the same rows and share their repaint rules; split,
each half would need the other's private state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import DataTable, Static

from edp_tui.docker.errors import DockerError
from edp_tui.docker.models import EngineStatus, ServiceState
from edp_tui.docker.services import ServiceSource
from edp_tui.text import printable
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.messages import ServiceStatesChanged
from edp_tui.ui.notify import report
from edp_tui.ui.widgets.service_rows import row_cells, strip_item
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key, update_changed_cells
from edp_tui.util import fmt

COLUMNS = (
    ("service", "Service"),
    ("state", "State"),
    ("health", "Health"),
    ("streak", "Streak"),
    ("probe", "Last probe"),
    ("restarts", "Restarts"),
    ("uptime", "Uptime"),
    ("image", "Image"),
    ("ports", "Ports"),
)

# action -> (verb, under way, done)
ACTIONS = {
    "restart": ("Restart", "Restarting", "restarted"),
    "stop": ("Stop", "Stopping", "stopped"),
    "start": ("Start", "Starting", "started"),
}
# Asks first: both interrupt a running service.
CONFIRM = {
    "restart": "Restart service {service}? Whatever runs in its container is interrupted.",
    "stop": "Stop service {service}? Its container stops until started again.",
}


class ServicesTable(NavTable):
    """The table itself; its bindings act on the highlighted service."""

    BINDINGS = [
        Binding("enter", "details", "Details", id="services.details"),
        # Restart and stop interrupt a service: capitals no viewer uses, and both ask first.
        Binding("R", "service_action('restart')", "Restart", id="services.restart"),
        Binding("S", "service_action('stop')", "Stop", id="services.stop"),
        Binding("u", "service_action('start')", "Start", id="services.start"),
        Binding("a", "all_logs", "All logs", id="services.all_logs"),
        # Not in the footer (it is full at 80 columns): in the help (?) and the palette.
        Binding("E", "shell", "Shell", id="services.shell", show=False),
        Binding("c", "resource_graphs", "CPU/memory graphs", id="services.graphs", show=False),
    ]

    HELP = """\
## Services

One row per service the compose file declares, including services that have no container yet (**missing**).
The rows follow the Docker engine's events live (start, die, health_status, restart, destroy...).

| column | meaning |
|---|---|
| State | running, exited(code), restarting, created, paused, missing |
| Health | the healthcheck's verdict: starting, healthy, unhealthy, `-` without a healthcheck |
| Streak | consecutive failed probes (Docker's FailingStreak) |
| Last probe | exit code and output of the most recent probe |
| Restarts | restarts made by the restart policy |

Keys: **enter** details with the health log · **R** restart (asks first) · **S** stop (asks first) ·
**u** start · **a** logs of all services · **E** a shell in its container (the dashboard returns when it
ends) · **c** CPU and memory graphs of every service and run container over the last minutes ·
**home**/**g**, **end**/**G** first/last row. Moving the cursor shows that service's logs. On a short
terminal the panel is a one-line strip that opens while focused.
"""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_service(self) -> str | None:
        return cursor_row_key(self)

    def action_details(self) -> None:
        service = self.selected_service
        if service is not None:
            self.post_message(ServicesPanel.DetailsRequested(service))

    def action_service_action(self, action: str) -> None:
        service = self.selected_service
        if service is not None:
            self.post_message(ServicesPanel.ActionRequested(action, service))

    def action_all_logs(self) -> None:
        self.post_message(ServicesPanel.ServiceHighlighted(None))

    def action_resource_graphs(self) -> None:
        from edp_tui.ui.screens.resources import open_resource_graphs

        open_resource_graphs(self.app)

    def action_shell(self) -> None:
        from edp_tui.ui.container_shell import open_shell  # the app: its terminal, config, read-only mode

        service = self.selected_service
        if service is not None:
            open_shell(self.app, service)  # type: ignore[arg-type]


class ServicesPanel(Vertical):
    """Banner (engine state when it is not fine) above the services table."""

    # The focus inside makes `m` maximize the whole panel (Textual's Screen.maximize).
    ALLOW_MAXIMIZE = True
    # A one-line strip (short terminal) instead of the full table.
    compact: var[bool] = var(False, init=False, toggle_class="-compact")

    @dataclass
    class ServiceHighlighted(Message):
        """The service whose logs should be shown (None: all services)."""

        service: str | None

        def can_replace(self, message: Message) -> bool:
            # The cursor ran over several rows: only where it stopped opens a log stream.
            return isinstance(message, ServicesPanel.ServiceHighlighted)

    @dataclass
    class ActionRequested(Message):
        action: str
        service: str

    @dataclass
    class DetailsRequested(Message):
        service: str

    DEFAULT_CSS = """
    ServicesPanel {
        height: auto;
        max-height: 50%;
    }
    ServicesPanel > #services-strip {
        display: none;
        height: auto;
        padding: 0 1;
    }
    ServicesPanel.-compact > #services-strip {
        display: block;
    }
    ServicesPanel.-compact > ServicesTable {
        display: none;
    }
    ServicesPanel.-compact.-expanded > #services-strip {
        display: none;
    }
    ServicesPanel.-compact.-expanded > ServicesTable {
        display: block;
    }
    ServicesPanel > #engine-banner {
        display: none;
        background: $error 30%;
        padding: 0 1;
    }
    ServicesPanel.-unreachable > #engine-banner {
        display: block;
    }
    ServicesPanel.-unreachable > ServicesTable {
        color: $text-muted;
    }
    ServicesPanel > ServicesTable {
        height: auto;
        max-height: 100%;
    }
    """

    def __init__(
        self,
        source: ServiceSource,
        *,
        read_only: bool = False,
        now: Callable[[], datetime] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.source = source
        self._expected = tuple(source.services)
        self._states: dict[str, ServiceState] = {s: ServiceState.missing(s) for s in self._expected}
        self._now = now or (lambda: datetime.now(UTC))
        self.engine_status: EngineStatus | None = None
        self._populated = False
        self._last_announced: str | None = None
        self._uptime_timer: Timer | None = None
        self.uptimes_due_in: float | None = None  # seconds until the uptime clock wakes (when it was set)
        # One action per service at a time (restart, stop, start), none in read-only mode.
        self.actions = ActionGuard(self, read_only=read_only)

    def compose(self) -> ComposeResult:
        yield Static(id="engine-banner")
        yield ServicesStrip(id="services-strip")
        yield ServicesTable(id="services-table")

    @property
    def table(self) -> ServicesTable:
        return self.query_one(ServicesTable)

    def on_mount(self) -> None:
        self.border_title = "Services"
        # Expected services get a row at once (state unknown until the engine answers).
        now = self._now()
        for state in self._states.values():
            self._add_row(state, now, placeholder=True)
        self._update_strip()

    @property
    def populated(self) -> bool:
        """True once the engine has reported at least once."""
        return self._populated

    def state_of(self, service: str) -> ServiceState | None:
        return self._states.get(service)

    @property
    def states(self) -> tuple[ServiceState, ...]:
        return tuple(self._states.values())

    @property
    def selected_service(self) -> str | None:
        return self.table.selected_service

    def _add_row(self, state: ServiceState, now: datetime, placeholder: bool = False) -> None:
        cells = row_cells(state, now)
        if placeholder:
            cells["state"] = Text("…", style="dim")
        self.table.add_row(*(cells[key] for key, _ in COLUMNS), key=state.service)

    def update_states(self, states: Iterable[ServiceState]) -> None:
        """Apply fresh states (and to an open detail screen); only cells whose text changed are touched."""
        states = tuple(states)
        # The service detail screen, when open (imported when first opened: not at every start).
        update_detail = getattr(self.app.screen, "update_state", None)
        if callable(update_detail):
            for state in states:
                update_detail(state)
        table = self.table
        now = self._now()
        self._populated = True
        for state in states:
            known = state.service in self._states
            self._states[state.service] = state
            if not known or state.service not in table.rows:
                self._add_row(state, now)
                continue
            update_changed_cells(table, state.service, row_cells(state, now), update_width=True)
        self._update_strip()
        self._schedule_uptimes(now)  # a (re)started service's uptime reads per second again

    # --- actions -------------------------------------------------------------------------------------------
    def on_services_panel_action_requested(self, message: ServicesPanel.ActionRequested) -> None:
        message.stop()
        self.request_action(message.action, message.service)

    def on_services_panel_details_requested(self, message: ServicesPanel.DetailsRequested) -> None:
        message.stop()
        self.show_details(message.service)

    def request_action(self, action: str, service: str) -> None:
        """Every service action (keys, palette): read-only and in-flight refusals, a question, a worker."""
        _, under_way, past = ACTIONS[action]

        def done(state: ServiceState) -> None:
            # Not applied here: the source hands the new state to the watch's sink, ordered with the events.
            report(self, f"{service} {past} ({state.state_label})", title="Done")

        self.actions.start(
            f"{action} {service}",
            lambda: asyncio.to_thread(getattr(self.source, action), service),
            key=service,
            confirm=CONFIRM[action].format(service=service) if action in CONFIRM else None,
            done=done,
            started=f"{under_way} {service}…",
        )

    def show_details(self, service: str | None = None) -> None:
        """The detail screen (state, health log) of ``service``, else of the highlighted one."""
        from edp_tui.ui.screens.service_detail import ServiceDetailScreen

        service = service or self.selected_service
        if service is not None:
            state = self.state_of(service) or ServiceState.missing(service)
            self.app.push_screen(ServiceDetailScreen(state, now=self._now))

    @work(thread=True, exclusive=True, group="docker-refresh", exit_on_error=False)
    def _refresh_worker(self) -> None:
        try:
            states = self.source.refresh()  # ordered with the watch's events (None: delivered there)
        except DockerError as exc:
            return self.app.call_from_thread(report, self, exc, title="Refresh failed")
        if states is not None:
            self.post_message(ServiceStatesChanged(tuple(states)))

    def refresh_services(self) -> None:
        """Ask the engine for every service's state now (ctrl+l, the palette)."""
        self._refresh_worker()

    # --- compact strip ---------------------------------------------------------------------------------
    def watch_compact(self, compact: bool) -> None:
        # The strip opens into the table while it has the focus.
        self.set_class(compact and self.table.has_focus, "-expanded")
        self._update_strip()

    def _update_strip(self) -> None:
        # Only while it is shown (a short terminal), and only when its text changed: a healthcheck probe
        # delivers a new state every few seconds that changes nothing on screen.
        if not self.compact:
            return
        try:
            strip = self.query_one(ServicesStrip)
        except NoMatches:
            return
        text = Text("  ").join(strip_item(self._states[s]) for s in self._states)
        if self.engine_status is not None and not self.engine_status.connected:
            text.append("  · engine unreachable", style="bold red")
        if text != strip.shown:
            strip.shown = text
            strip.update(text)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if not self.compact:
            return
        self.add_class("-expanded")
        if isinstance(event.widget, ServicesStrip):
            self.call_after_refresh(self.table.focus)

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if isinstance(event.widget, ServicesTable):
            self.remove_class("-expanded")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        service = event.row_key.value
        if service is not None and service != self._last_announced:
            self._last_announced = service
            self.post_message(self.ServiceHighlighted(service))

    def refresh_uptimes(self) -> None:
        """Write the uptimes that changed, and sleep until the next one does: an uptime reads per second in
        its first minute, then per minute, so at rest this wakes once a minute, not every second."""
        self._uptime_timer = None
        try:
            table = self.table
        except NoMatches:  # the timer can fire during shutdown, after the table was removed
            return
        now = self._now()
        for service, state in self._states.items():
            uptime = Text(fmt.duration(state.uptime(now), coarse=True))
            update_changed_cells(table, service, {"uptime": uptime})
        self._schedule_uptimes(now)

    def _schedule_uptimes(self, now: datetime) -> None:
        uptimes = [u.total_seconds() for s in self._states.values() if (u := s.uptime(now)) is not None]
        if self._uptime_timer is not None:
            self._uptime_timer.stop()
            self._uptime_timer = None
        if uptimes:
            # A little after the change: the text is read with the clock of that moment.
            delay = min(fmt.coarse_change_in(u) for u in uptimes) + 0.05
            self._uptime_timer = self.set_timer(delay, self.refresh_uptimes)
            self.uptimes_due_in = delay

    def set_engine_status(self, status: EngineStatus) -> None:
        self.engine_status = status
        banner = self.query_one("#engine-banner", Static)
        if status.connected:
            self.remove_class("-unreachable")
            banner.update("")
            self._update_strip()
            return
        self.add_class("-unreachable")
        text = Text.assemble(
            ("Docker engine unreachable", "bold"),
            f" at {printable(status.endpoint)}: ",
            printable(status.message or "no answer"),
        )
        if status.retry_in is not None:
            text.append(f" (attempt {status.attempt}, next in {status.retry_in:.1f} s)")
        if self._populated:
            text.append(" · rows show the last known state", style="italic")
        banner.update(text)
        self._update_strip()


class ServicesStrip(Static, can_focus=True):
    """The compact panel: one line for every service. Focusing it (tab, click) opens the full table."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: Text | None = None  # what it shows (a repaint only when that changes)

    def on_click(self) -> None:
        self.focus()
