"""Runs: a live, paged list (lean fields only) with launch, terminate and re-execute keys.

``RunsTab`` puts the list, the selected run's detail and its compute logs together and routes messages
between them.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellDoesNotExist, RowDoesNotExist

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.changes import RunChangeProbe
from edp_tui.dagster.errors import DagsterError
from edp_tui.dagster.models import RunSummary
from edp_tui.text import printable
from edp_tui.ui.notify import report
from edp_tui.ui.screens.confirm import ConfirmScreen
from edp_tui.ui.screens.launch_dialog import LaunchDialog
from edp_tui.ui.widgets.dagster.compute_logs import ComputeLogsPanel
from edp_tui.ui.widgets.dagster.run_detail import RunDetailPanel
from edp_tui.ui.widgets.dagster.status import status_text
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.util.fmt import duration, timestamp

# Fixed widths: a column must not jump when a status grows (QUEUED -> SUCCESS) or a start time appears.
COLUMNS = (
    ("run", "Run", 8),
    ("job", "Job", 28),
    ("status", "Status", 9),
    ("created", "Created", 14),
    ("started", "Started", 14),
    ("duration", "Duration", 8),
)
PAGE_SIZE = 50
REEXECUTABLE = frozenset({"FAILURE", "CANCELED"})


def run_cells(run: RunSummary, now: float) -> dict[str, Text]:
    return {
        "run": Text(run.run_id[:8]),
        "job": Text(printable(run.job_name), style="bold"),
        "status": status_text(run.status),
        "created": Text(timestamp(run.creation_time)),
        "started": Text(timestamp(run.start_time)),
        "duration": Text(duration(run.duration(now))),
    }


class RunsPanel(PollingPanel):
    """The newest runs, ``PAGE_SIZE`` per page, refreshed while on screen."""

    BINDINGS = [
        Binding("l", "launch", "Launch", id="dagster.launch"),
        Binding("t", "terminate", "Terminate", id="dagster.terminate"),
        Binding("e", "reexecute", "Re-execute", id="dagster.reexecute"),
        Binding("right_square_bracket", "older", "Older", id="dagster.runs_older"),
        Binding("left_square_bracket", "newer", "Newer", id="dagster.runs_newer"),
    ]

    HELP = """\
## Runs

The newest runs (50 per page, only lean fields so a long history costs nothing), refreshed twice a second
while visible. Status colours: green success, red failure, cyan started, yellow queued, magenta canceled.

Keys: **l** launch a job · **t** terminate the highlighted run (asks first) · **e** re-execute a failed or
canceled run from its failure · **]** / **[** older / newer page. Highlighting a run shows its steps, events
and compute logs.
"""

    DEFAULT_CSS = """
    RunsPanel { height: 1fr; }
    RunsPanel > DataTable { height: 1fr; }
    RunsPanel > #runs-status { height: auto; padding: 0 1; }
    """

    poll_interval = 0.5
    # Once every run is terminal and unchanged: one tiny "anything new?" query this often (a key wakes it).
    quiet_interval = 2.0

    class RunSelected(Message):
        def __init__(self, run: RunSummary | None) -> None:
            super().__init__()
            self.run = run

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.read_only = read_only
        # The run action (terminate, re-execute) in flight: a second one is refused until it is answered.
        self._acting: str | None = None
        self.runs: dict[str, RunSummary] = {}
        self.order: list[str] = []
        # Cursors of the pages before the current one (a cursor is the last run id of the previous page).
        self._page_cursors: list[str | None] = [None]
        self._select_next: str | None = None
        self._announced: RunSummary | None = None
        self.populated = False
        # While every run is terminal and unchanged, each poll only asks whether anything changed.
        self.changes = RunChangeProbe()

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield DataTable(cursor_type="row", id="runs-table")
        yield Static(id="runs-status")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#runs-table", DataTable)

    def on_mount(self) -> None:
        self.border_title = "Runs"
        for key, label, width in COLUMNS:
            self.table.add_column(label, key=key, width=width)

    def current_interval(self) -> float:
        return self.poll_interval if self.changes.needs_full_read(self.clock()) else self.quiet_interval

    async def poll_once(self) -> None:
        started = self.clock()
        if not self.changes.needs_full_read(started) and not await self.changes.changed(self.client):
            return
        runs = await self.client.runs(limit=PAGE_SIZE, cursor=self._page_cursors[-1])
        self.changes.full_read(started, runs)
        self.show_runs(runs)

    def wake(self) -> None:
        # A key (page, launch, terminate) or a push: read the full page at once.
        self.changes.hurry()
        super().wake()

    def show_runs(self, runs: list[RunSummary]) -> None:
        table = self.table
        now = self.clock()
        ids = [r.run_id for r in runs]
        selected = self._select_next or self.selected_id
        self.runs = {r.run_id: r for r in runs}
        if ids != self.order:
            # Order changed (new run on top): rebuild this page, keep the highlighted run highlighted.
            table.clear()
            for run in runs:
                table.add_row(*run_cells(run, now).values(), key=run.run_id)
            self.order = ids
        else:
            for run in runs:
                for key, value in run_cells(run, now).items():
                    try:
                        if table.get_cell(run.run_id, key) != value:
                            table.update_cell(run.run_id, key, value, update_width=True)
                    except (CellDoesNotExist, RowDoesNotExist):
                        pass
        if selected in self.runs:
            if self._select_next == selected:
                self._select_next = None
            table.move_cursor(row=table.get_row_index(selected))
        page = len(self._page_cursors)
        self.query_one("#runs-status", Static).update(
            Text(f"page {page} · {len(runs)} runs shown · ] older  [ newer", style="dim")
        )
        self.populated = True
        self._announce()

    @property
    def selected_id(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    @property
    def selected(self) -> RunSummary | None:
        return self.runs.get(self.selected_id or "")

    def _announce(self) -> None:
        run = self.selected
        if run != self._announced:
            self._announced = run
            self.post_message(self.RunSelected(run))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._announce()

    # ---- paging --------------------------------------------------------------------------------------------
    def action_older(self) -> None:
        if len(self.order) < PAGE_SIZE:
            return
        self._page_cursors.append(self.order[-1])
        self.wake()

    def action_newer(self) -> None:
        if len(self._page_cursors) > 1:
            self._page_cursors.pop()
            self.wake()

    # ---- actions -------------------------------------------------------------------------------------------
    def _refuse(self, what: str) -> bool:
        if self.read_only:
            report(self, f"Read-only mode: {what} refused", title="Read-only", severity="warning")
            return True
        if self._acting is not None:
            report(self, f"{self._acting} already in progress: {what} refused", severity="warning")
            return True
        return False

    def action_launch(self) -> None:
        if self._refuse("launch"):
            return

        def launched(run: RunSummary | None) -> None:
            if run is not None:
                self.select_run(run)

        self.app.push_screen(LaunchDialog(self.client), launched)

    def select_run(self, run: RunSummary) -> None:
        """Show the first page and highlight ``run`` as soon as the list contains it."""
        self._page_cursors = [None]
        self._select_next = run.run_id
        report(self, f"Launched {run.job_name} ({run.run_id[:8]})", title="Launch")
        self.wake()

    def action_terminate(self) -> None:
        run = self.selected
        if run is None or self._refuse("terminate"):
            return
        if not run.can_terminate:
            report(self, f"Run {run.run_id[:8]} is {run.status}: nothing to terminate", severity="warning")
            return

        def confirmed(answer: bool | None) -> None:
            if answer and not self._refuse("terminate"):
                self._acting = f"terminate of {run.run_id[:8]}"
                self._terminate(run.run_id)

        self.app.push_screen(ConfirmScreen(f"Terminate run {run.run_id[:8]} of {run.job_name}?"), confirmed)

    @work(group="run-actions", exit_on_error=False)
    async def _terminate(self, run_id: str) -> None:
        try:
            await self.client.terminate_run(run_id)
        except DagsterError as exc:
            report(self, exc, title="Terminate failed", severity="error")
            return
        finally:
            self._acting = None
        report(self, f"Terminating {run_id[:8]}…", title="Terminate")
        self.wake()

    def action_reexecute(self) -> None:
        run = self.selected
        if run is None or self._refuse("re-execute"):
            return
        if run.status not in REEXECUTABLE:
            report(
                self,
                f"Only failed or canceled runs are re-executed (this one is {run.status})",
                severity="warning",
            )
            return
        self._acting = f"re-execution of {run.run_id[:8]}"
        self._reexecute(run.run_id)

    @work(group="run-actions", exit_on_error=False)
    async def _reexecute(self, run_id: str) -> None:
        try:
            new_run = await self.client.reexecute_run(run_id)
        except DagsterError as exc:
            report(self, exc, title="Re-execute failed", severity="error")
            return
        finally:
            self._acting = None
        self.select_run(new_run)


class RunsTab(Vertical):
    """Runs list on top; the highlighted run's detail and compute logs side by side below."""

    DEFAULT_CSS = """
    RunsTab { height: 1fr; }
    RunsTab > RunsPanel { height: 2fr; }
    RunsTab > Horizontal { height: 3fr; }
    RunsTab RunDetailPanel { width: 2fr; }
    RunsTab ComputeLogsPanel { width: 3fr; }
    """

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield RunsPanel(self.client, read_only=self.read_only, id="runs")
        with Horizontal():
            yield RunDetailPanel(self.client, id="run-detail")
            yield ComputeLogsPanel(self.client, id="compute-logs")

    def on_runs_panel_run_selected(self, message: RunsPanel.RunSelected) -> None:
        message.stop()
        self.query_one(RunDetailPanel).show_run(message.run)
        self.query_one(ComputeLogsPanel).show_run(message.run)

    def on_run_detail_panel_log_keys(self, message: RunDetailPanel.LogKeys) -> None:
        message.stop()
        self.query_one(ComputeLogsPanel).set_log_keys(message.run_id, message.keys, message.finished)

    def on_run_detail_panel_step_selected(self, message: RunDetailPanel.StepSelected) -> None:
        message.stop()
        self.query_one(ComputeLogsPanel).select_step(message.run_id, message.step_key)
