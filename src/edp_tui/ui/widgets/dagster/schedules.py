"""Schedules and sensors of every loaded location: status, cadence, next tick, last tick; a key toggles."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.changes import tick_due, without_ticks
from edp_tui.dagster.errors import DagsterError
from edp_tui.dagster.models import InstigatorInfo
from edp_tui.text import printable, safe_text
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.notify import report
from edp_tui.ui.widgets.dagster.status import TICK_STATUS_STYLE, status_text
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key, update_changed_cells
from edp_tui.util.cadence import Cadence
from edp_tui.util.fmt import timestamp

# A tick is looked for this long after it is due: the daemon's loop and its write take a moment.
TICK_MARGIN_S = 2.0
# The repositories (from the Workspace query) are re-read this often, on a key, on Show and after an error.
WORKSPACE_EVERY_S = 60.0

# Fixed widths: the table must not jump when a status or a tick changes.
COLUMNS = (
    ("kind", "Kind", 8),
    ("name", "Name", 30),
    ("location", "Location", 16),
    ("status", "Status", 8),
    ("cadence", "Cron / interval", 18),
    ("next", "Next tick", 14),
    ("last", "Last tick", 23),
    ("info", "Last tick says", 50),
)
INSTIGATOR_STYLE = {"RUNNING": "bold green", "STOPPED": "dim", "DECLARED_IN_CODE": "cyan"}


def row_key(item: InstigatorInfo) -> str:
    return f"{item.kind}:{item.location}:{item.repository}:{item.name}"


def instigator_cells(item: InstigatorInfo) -> dict[str, Text]:
    tick = item.last_tick
    if tick is None:
        last, info = Text("-", style="dim"), Text("")
    else:
        last = Text.assemble(status_text(tick.status, TICK_STATUS_STYLE), f" {timestamp(tick.timestamp)}")
        if tick.error:
            info = Text(" ".join(printable(tick.error).split())[:80], style="red")
        elif tick.skip_reason:
            info = Text(" ".join(printable(tick.skip_reason).split())[:80])
        elif tick.run_ids:
            info = Text(f"{len(tick.run_ids)} run(s): {tick.run_ids[0][:8]}")
        else:
            info = Text("")
    return {
        "kind": Text(item.kind),
        "name": Text(printable(item.name), style="bold"),
        "location": Text(printable(item.location)),
        "status": status_text(item.status, INSTIGATOR_STYLE),
        "cadence": Text(printable(item.cadence)),
        "next": Text(timestamp(item.next_tick)),
        "last": last,
        "info": info,
    }


class SchedulesPanel(PollingPanel):
    """Every schedule and sensor; the highlighted one's last tick error in full below the table."""

    BINDINGS = [Binding("s", "toggle_running", "Start/stop", id="dagster.toggle_instigator")]

    HELP = """\
## Schedules and sensors

Every schedule and sensor of the loaded code locations: status (RUNNING / STOPPED), cron expression or
minimum interval, next tick, and the last tick's status with its error, skip reason or runs.

Keys: **s** starts a stopped schedule/sensor or stops a running one.
"""

    DEFAULT_CSS = """
    SchedulesPanel { height: 1fr; }
    SchedulesPanel > DataTable { height: auto; max-height: 70%; }
    SchedulesPanel > #instigator-status { height: auto; padding: 0 1; }
    SchedulesPanel > #instigator-error { height: auto; padding: 0 1; background: $error 15%; }
    """

    # A poll just after the next tick is due (when it lands, the table changes); between ticks only a toggle
    # or a reload elsewhere changes it: looked for less and less often, down to slowest_interval.
    poll_interval = 3.0
    slowest_interval = 30.0
    tick_margin_s = TICK_MARGIN_S

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.read_only = read_only
        # Start/stop: refused in read-only mode, one at a time.
        self.actions = ActionGuard(self, read_only=read_only)
        self.items: dict[str, InstigatorInfo] = {}
        self.location_errors: list[str] = []
        self.populated = False
        self.cadence = Cadence(self.poll_interval, self.slowest_interval)
        # The loaded repositories and the locations not loaded, as of the last Workspace read.
        self._repos: list[tuple[str, str]] = []
        self._not_loaded: list[str] = []
        self._workspace_at: float | None = None
        self._tick_timer: Timer | None = None
        # How long to wait before looking again for a tick that is due and not landed (None: not late).
        self._late_wait: float | None = None
        # The kinds whose tick the timer was armed for, and whether the poll under way is the timer's.
        self._due_kinds: set[str] = set()
        self._tick_poll = False

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield NavTable(cursor_type="row", id="instigators-table")
        yield Static(id="instigator-status")
        yield Static(id="instigator-error")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#instigators-table", DataTable)

    def on_mount(self) -> None:
        self.border_title = "Schedules & sensors"
        for key, label, width in COLUMNS:
            self.table.add_column(label, key=key, width=width)

    def current_interval(self) -> float:
        # Changes nobody can predict (a toggle or a reload elsewhere): looked for less and less often. Ticks
        # are predicted: a timer wakes the loop just after the next one is due (`_arm_tick_timer`).
        return self.cadence.interval

    def wake(self) -> None:
        self._workspace_at = None
        super().wake()

    def _arm_tick_timer(self) -> None:
        if self._tick_timer is not None:
            self._tick_timer.stop()
            self._tick_timer = None
        dues = [(d, i.kind) for i in self.items.values() if (d := tick_due(i)) is not None]
        if not dues:
            return
        due = min(d for d, _ in dues)
        # Only sensors due (no schedule within the margin): the Sensors query alone will do.
        self._due_kinds = {kind for d, kind in dues if d <= due + self.tick_margin_s}
        wait = due - self.clock() + self.tick_margin_s
        if wait <= 0:
            # Due and not landed yet (the daemon is late): look again, less and less often.
            wait = self._late_wait or 2 * self.tick_margin_s
            self._late_wait = min(wait * 2, self.slowest_interval)
        else:
            self._late_wait = None
        self._tick_timer = self.set_timer(wait, self._tick_due)

    def _tick_due(self) -> None:
        # Off screen nobody looks: the poll on Show re-arms the timer.
        if self.is_on_screen:
            self._tick_poll = True
            self.poller.wake()

    async def poll_once(self) -> None:
        now = self.clock()
        tick_poll, self._tick_poll = self._tick_poll, False
        workspace_fresh = self._workspace_at is not None and now - self._workspace_at < WORKSPACE_EVERY_S
        if tick_poll and workspace_fresh and self._due_kinds == {"sensor"}:
            # Only sensors' ticks are due: the sensors alone are read again, the schedules stay as they were.
            await self._read(self.client.sensors, [i for i in self.items.values() if i.kind == "schedule"])
            return
        if not workspace_fresh:
            locations = await self.client.locations()
            self._repos = [
                (loc.name, r.name) for loc in locations if loc.state == "loaded" for r in loc.repositories
            ]
            self._not_loaded = [
                f"{loc.name}: not loaded ({loc.state})" for loc in locations if loc.state != "loaded"
            ]
            self._workspace_at = now
        await self._read(self.client.instigators, [])

    async def _read(
        self, fetch: Callable[[str, str], Awaitable[list[InstigatorInfo]]], kept: list[InstigatorInfo]
    ) -> None:
        """``fetch`` for every loaded repository, shown with ``kept`` (what was not read again)."""
        repos = list(self._repos)
        results = await asyncio.gather(*(fetch(*repo) for repo in repos), return_exceptions=True)
        items = list(kept)
        errors = list(self._not_loaded)
        for repo, result in zip(repos, results, strict=True):
            if isinstance(result, DagsterError):
                errors.append(f"{repo[0]}: {result}")
                self._workspace_at = None  # reloaded or gone: read the workspace again next time
            elif isinstance(result, BaseException):
                raise result
            else:
                items.extend(result)
        self.show_items(items, errors)

    def show_items(self, items: list[InstigatorInfo], errors: list[str] | None = None) -> None:
        table = self.table
        fresh = {row_key(i): i for i in items}
        # Only what no tick explains brings the cadence back to fast.
        unpredicted = {k: without_ticks(i) for k, i in fresh.items()} != {
            k: without_ticks(i) for k, i in self.items.items()
        }
        self.cadence.observe(unpredicted or list(errors or []) != self.location_errors)
        for key, item in fresh.items():
            cells = instigator_cells(item)
            if key in table.rows:
                update_changed_cells(table, key, cells, update_width=True)
            else:
                table.add_row(*cells.values(), key=key)
        for existing in list(table.rows):
            if existing.value not in fresh:
                table.remove_row(existing)
        self.items = fresh
        self.location_errors = list(errors or [])
        status = self.query_one("#instigator-status", Static)
        status.update(safe_text("\n".join(self.location_errors)) if self.location_errors else Text(""))
        self.populated = True
        self._show_selected()
        self._arm_tick_timer()

    @property
    def selected(self) -> InstigatorInfo | None:
        key = cursor_row_key(self.table)
        return None if key is None else self.items.get(key)

    def _show_selected(self) -> None:
        item = self.selected
        box = self.query_one("#instigator-error", Static)
        if item is not None and item.last_tick is not None and item.last_tick.error:
            box.display = True
            box.update(
                Text.assemble(
                    (f"{printable(item.name)} last tick failed:\n", "bold red"),
                    safe_text(item.last_tick.error),
                )
            )
        else:
            box.display = False

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_selected()

    def action_toggle_running(self) -> None:
        item = self.selected
        if item is None:
            return
        verb = "stop" if item.running else "start"

        def toggled(status: str) -> None:
            report(self, f"{item.kind} {item.name}: {status}", title=verb.capitalize())
            self.cadence.hurry()
            self.wake()

        self.actions.start(
            f"{verb} of {item.kind} {item.name}",
            lambda: self.client.set_running(item, not item.running),
            done=toggled,
        )
