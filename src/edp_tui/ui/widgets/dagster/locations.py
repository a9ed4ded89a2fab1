"""Code locations: load state, the real load error, reload on a key; connectivity pushed by a subscription."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.errors import DagsterError
from edp_tui.dagster.models import LocationEvent, LocationInfo
from edp_tui.dagster.reload import ReloadOutcome, reload_location
from edp_tui.text import printable, safe_text
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.notify import literal
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key
from edp_tui.util.backoff import Backoff
from edp_tui.util.fmt import timestamp

log = logging.getLogger("edp_tui")
# How long a reload is waited for before it is shown as "still loading" (the CLI's default too).
RELOAD_WAIT_S = 300.0
STATE_STYLE = {"loaded": "bold green", "error": "bold red", "loading": "yellow", "unknown": "dim"}
# Fixed widths: the table must not jump when a state or a count changes.
COLUMNS = (
    ("location", "Location", 24),
    ("state", "State", 11),
    ("server", "Server", 8),
    ("updated", "Updated", 14),
    ("defs", "Definitions", 40),
)


class LocationsPanel(PollingPanel):
    """One row per code location of the webserver's workspace; the selected location's error below."""

    BINDINGS = [Binding("r", "reload", "Reload location", id="dagster.reload_location")]

    HELP = """\
## Code locations

Each code location the webserver knows, with its state: **loaded**, **error** (the Python error that stopped
the code from loading, e.g. a SyntaxError with file and line, is shown under the table), **loading**.
Connectivity changes (code server down or back) arrive by subscription, without a refresh key.

Keys: **r** reloads the highlighted location (re-imports its code) and shows the outcome.
"""

    DEFAULT_CSS = """
    LocationsPanel { height: 1fr; }
    LocationsPanel > DataTable { height: auto; max-height: 50%; }
    LocationsPanel > #location-status { height: auto; padding: 0 1; }
    LocationsPanel > #location-error { height: auto; padding: 0 1; color: $text; background: $error 15%; }
    """

    # State changes are pushed (locationStateChangeEvents wakes the loop); the poll is a safety net.
    poll_interval = 30.0

    @dataclass
    class LocationSelected(Message):
        """The location highlighted in the table (None: none): the hot-reload panel shows its details."""

        name: str | None

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LocationsPanel.LocationSelected)

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.read_only = read_only
        self.locations: dict[str, LocationInfo] = {}
        self.reloading: str | None = None
        # Reload: refused in read-only mode, one at a time; refusals and failures also on the status line.
        self.actions = ActionGuard(self, read_only=read_only, on_message=self.set_status)
        # The outcome of the last reload and the last pushed location event, shown on two lines.
        self.status_message = ""
        self.event_message = ""
        self.last_event_error: Exception | None = None
        self._announced: str | None = None

    def compose(self) -> ComposeResult:
        yield self.banner()
        table: DataTable[Text] = NavTable(cursor_type="row", id="locations-table")
        yield table
        yield Static(id="location-status")
        yield Static(id="location-error")

    def on_mount(self) -> None:
        self.border_title = "Code locations"
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        self.watch_events()

    @property
    def needs_polling_offscreen(self) -> bool:
        return self.reloading is not None

    async def poll_once(self) -> None:
        self.show_locations(await self.client.locations())

    def show_locations(self, locations: list[LocationInfo]) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        self.locations = {loc.name: loc for loc in locations}
        for loc in locations:
            cells = self._cells(loc)
            if loc.name in table.rows:
                for key, value in cells.items():
                    table.update_cell(loc.name, key, value, update_width=True)
            else:
                table.add_row(*cells.values(), key=loc.name)
        for row_key in list(table.rows):
            if row_key.value not in self.locations:
                table.remove_row(row_key)
        self._show_selected()

    def _cells(self, loc: LocationInfo) -> dict[str, Text]:
        state = loc.state
        if self.reloading == loc.name:
            state = "reloading…"
        if loc.state == "loaded":
            repos = loc.repositories
            jobs = sum(len([j for j in r.jobs if not j.hidden]) for r in repos)
            defs = f"{jobs} jobs, {sum(len(r.schedules) for r in repos)} schedules, "
            defs += f"{sum(len(r.sensors) for r in repos)} sensors"
        elif loc.error is not None:
            defs = printable(loc.error.class_name)
        else:
            defs = "-"
        return {
            "location": Text(printable(loc.name), style="bold"),
            "state": Text(state, style=STATE_STYLE.get(loc.state, "")),
            "server": Text(printable((loc.server_id or "-")[:8])),
            "updated": Text(timestamp(loc.updated)),
            "defs": Text(defs),
        }

    @property
    def selected(self) -> LocationInfo | None:
        key = cursor_row_key(self.query_one(DataTable))
        return None if key is None else self.locations.get(key)

    def _show_selected(self) -> None:
        loc = self.selected
        name = loc.name if loc is not None else None
        if name != self._announced:
            self._announced = name
            self.post_message(self.LocationSelected(name))
        error = self.query_one("#location-error", Static)
        if loc is not None and loc.error is not None:
            error.display = True
            error.update(
                Text.assemble(
                    (f"{printable(loc.name)} failed to load:\n", "bold red"), safe_text(loc.error.text)
                )
            )
        else:
            error.display = False
            error.update("")
        self._show_status()

    def _show_status(self) -> None:
        lines = [m for m in (self.status_message, self.event_message) if m]
        self.query_one("#location-status", Static).update(literal("\n".join(lines)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_selected()

    def set_status(self, message: str) -> None:
        self.status_message = message
        self._show_status()

    def action_reload(self) -> None:
        loc = self.selected
        if loc is None:
            return
        name = loc.name

        async def reload() -> tuple[ReloadOutcome, list[LocationInfo]]:
            self.reloading = name
            self.set_status(f"reloading {name}…")
            self.show_locations(list(self.locations.values()))
            try:
                outcome = await reload_location(
                    self.client,
                    name,
                    timeout=RELOAD_WAIT_S,
                    before=self.locations.get(name),
                    on_progress=self.set_status,
                )
                return outcome, await self.client.locations()
            finally:
                self.reloading = None
                self.show_locations(list(self.locations.values()))

        def reloaded(result: tuple[ReloadOutcome, list[LocationInfo]]) -> None:
            outcome, fresh = result
            self.set_status(f"reloaded {outcome.summary(RELOAD_WAIT_S)}")
            self.show_locations(fresh)

        self.actions.start(f"reload of {name}", reload, done=reloaded)

    @work(exclusive=True, group="location-events", exit_on_error=False)
    async def watch_events(self) -> None:
        """Follow locationStateChangeEvents; resubscribe with backoff after any failure (webserver gone, a
        frame of an unexpected shape, a bug), saying so under the table."""
        backoff = Backoff(1.0, 10.0)
        while True:
            try:
                async for event in self.client.location_events():
                    backoff.reset()
                    self.on_location_event(event)
                error: Exception = DagsterError("the webserver ended the subscription")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the subscription must outlive any one failure
                error = exc
                if not isinstance(exc, DagsterError):
                    log.error("location events subscription failed: %s", exc, exc_info=exc)
            self.last_event_error = error
            delay = backoff.failed()
            self.event_message = (
                f"location events: {type(error).__name__}: {error}; resubscribing in {delay:.0f}s"
            )
            self._show_status()
            await asyncio.sleep(delay)
            # Resubscribing: the message goes; a new failure puts it back at once.
            self.event_message = ""
            self._show_status()
            self.wake()

    def on_location_event(self, event: LocationEvent) -> None:
        what = event.event_type.removeprefix("LOCATION_").lower()
        self.event_message = f"last event: {event.location_name} {what}: {event.message}"
        self._show_status()
        self.wake()
