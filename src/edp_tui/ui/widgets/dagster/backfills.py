"""The Backfills tab: the partitions of every partitioned asset, the backfills (status, progress,
partitions, runs; cancel, re-execute the failed partitions, backfill a job) and the run queue explained."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.assets import key_text
from edp_tui.dagster.backfills import BACKFILL_TAG, BackfillInfo
from edp_tui.dagster.models import RunSummary
from edp_tui.dagster.partitions import partition_of
from edp_tui.text import printable
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.notify import literal, report
from edp_tui.ui.widgets.dagster.partition_bar import LEGEND
from edp_tui.ui.widgets.dagster.partitions_panel import (
    BUSY_S,
    REST_FAST_S,
    REST_SLOW_S,
    PartitionsOverview,
    launch_backfill,
)
from edp_tui.ui.widgets.dagster.queue_panel import QueuePanel
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.static_text import show_text
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key, update_changed_cells
from edp_tui.util import fmt
from edp_tui.util.cadence import Cadence

BACKFILLS_SHOWN = 20
RUNS_SHOWN = 50
STATUS_STYLE = {
    "REQUESTED": "bold yellow",
    "CANCELING": "yellow",
    "FAILING": "bold red",
    "COMPLETED_SUCCESS": "green",
    "COMPLETED": "green",
    "COMPLETED_FAILED": "bold red",
    "FAILED": "bold red",
    "CANCELED": "dim",
}
RUN_STYLE = {
    "SUCCESS": "green",
    "FAILURE": "bold red",
    "CANCELED": "dim",
    "QUEUED": "yellow",
    "STARTED": "cyan",
}
PROGRESS_WIDTH = 8


def progress_text(info: BackfillInfo) -> Text:
    p = info.progress
    filled = round(PROGRESS_WIDTH * p.fraction)
    text = Text.assemble(
        ("█" * filled, "green"), ("░" * (PROGRESS_WIDTH - filled), "grey50"), f" {p.done}/{p.targeted}"
    )
    if p.failed:
        text.append(f" ✖{p.failed}", style="bold red")
    if p.in_progress:
        text.append(f" ▶{p.in_progress}", style="bold yellow")
    return text


def backfill_cells(info: BackfillInfo) -> list[Text]:
    return [
        Text(info.backfill_id),
        Text(info.status, style=STATUS_STYLE.get(info.status, "")),
        progress_text(info),
        Text(printable(info.partitions_text(limit=2)), no_wrap=True, overflow="ellipsis"),
    ]


def backfill_detail(info: BackfillInfo) -> Text:
    text = Text(no_wrap=False)
    title = f" {printable(info.title)}" if info.title else ""
    text.append(f"{info.backfill_id}{title}: ", style="bold")
    text.append(info.status, style=STATUS_STYLE.get(info.status, ""))
    text.append(f" · partitions {printable(info.partitions_text(limit=6))} ({info.num_partitions or 0})")
    text.append(f" · asked {fmt.timestamp(info.created)}", style="dim")
    if info.ended:
        text.append(f" · took {fmt.duration(info.ended - info.created)}", style="dim")
    for asset in info.assets:
        done = (
            f"{asset.materialized}/{asset.targeted}"
            if asset.partitioned
            else ("done" if asset.materialized else "once")
        )
        text.append(f"\n  {printable(key_text(asset.key))}  {done}")
        if asset.failed:
            text.append(f"  ✖ {asset.failed} failed", style="bold red")
        if asset.in_progress:
            text.append(f"  ▶ {asset.in_progress} in progress", style="bold yellow")
    if info.error:
        text.append("\n")
        text.append(literal(info.error))
    return text


def run_cells(run: RunSummary) -> list[Text]:
    return [
        Text(printable(partition_of(run.tags) or "-")),
        Text(run.run_id[:8]),
        Text(run.status, style=RUN_STYLE.get(run.status, "")),
        Text(fmt.timestamp(run.start_time)),
    ]


class BackfillsPanel(PollingPanel):
    """The newest backfills; the highlighted one's progress per asset and its runs with their partitions."""

    BINDINGS = [
        Binding("l", "launch", "Backfill a job", id="backfills.launch"),
        Binding("X", "cancel", "Cancel", id="backfills.cancel"),
        Binding("e", "reexecute", "Re-execute failed", id="backfills.reexecute"),
    ]

    HELP = """\
## Backfills

The newest backfills: status, progress (partitions done of those targeted, ✖ failed, ▶ in progress), their
partitions and when they were asked for; below, the highlighted one's progress per asset and its runs with
the partition of each. **l** backfills a job (a range, the missing or the failed partitions), **X** cancels
the highlighted backfill (no new runs; its runs are canceled), **e** re-executes its failed partitions as a
new backfill. All ask first and are refused in read-only mode.
"""

    DEFAULT_CSS = """
    BackfillsPanel { height: 1fr; }
    BackfillsPanel > #backfills-table { height: 1fr; min-height: 4; max-height: 50%; }
    BackfillsPanel > #backfill-detail { height: auto; max-height: 6; padding: 0 1; overflow-y: auto; }
    BackfillsPanel > #backfill-runs { height: auto; max-height: 6; }
    """

    # 78 columns inside the border at 80: when it was asked for is in the detail below.
    COLUMNS = (
        ("id", "backfill", 8),
        ("status", "status", 17),
        ("progress", "progress", 20),
        ("partitions", "partitions", 25),
    )

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.add_class("backfills-watch")  # woken when a backfill is launched from another panel
        self.client = client
        self.backfills: dict[str, BackfillInfo] = {}
        self.runs: list[RunSummary] = []
        # The backfill runs table's rows as last drawn (run id, cells).
        self._runs_shown: list[tuple[str, tuple[Text, ...]]] | None = None
        self.populated = False
        self.cadence = Cadence(REST_FAST_S, REST_SLOW_S)
        self.actions = ActionGuard(self, read_only=read_only)

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield NavTable(cursor_type="row", id="backfills-table")
        yield Static(Text("loading backfills…", style="dim"), id="backfill-detail")
        yield NavTable(cursor_type="row", show_header=False, id="backfill-runs")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#backfills-table", DataTable)

    def on_mount(self) -> None:
        self.border_title = "Backfills"
        for key, label, width in self.COLUMNS:
            self.table.add_column(label, key=key, width=width)
        runs = self.query_one("#backfill-runs", DataTable)
        for key, width in (("partition", 23), ("run", 9), ("status", 10), ("started", 15)):
            runs.add_column(key, key=key, width=width)

    def current_interval(self) -> float:
        return BUSY_S if any(not b.is_finished for b in self.backfills.values()) else self.cadence.interval

    async def poll_once(self) -> None:
        found = await self.client.backfills(limit=BACKFILLS_SHOWN)
        fresh = {b.backfill_id: b for b in found}
        self.cadence.observe(fresh != self.backfills)
        self.backfills = fresh
        selected = self.selected
        self.runs = (
            await self.client.runs(limit=RUNS_SHOWN, tags={BACKFILL_TAG: selected.backfill_id})
            if selected
            else []
        )
        self.populated = True
        self.redraw()

    def redraw(self) -> None:
        table = self.table
        ids = list(self.backfills)
        if ids != [str(k.value) for k in table.rows]:
            selected = cursor_row_key(table)
            table.clear()
            for backfill_id, info in self.backfills.items():
                table.add_row(*backfill_cells(info), key=backfill_id)
            if selected in self.backfills:
                table.move_cursor(row=ids.index(selected))
        else:
            for backfill_id, info in self.backfills.items():
                cells = dict(zip((c[0] for c in self.COLUMNS), backfill_cells(info), strict=True))
                update_changed_cells(table, backfill_id, cells)
        self.show_selected()

    @property
    def selected(self) -> BackfillInfo | None:
        key = cursor_row_key(self.table)
        return self.backfills.get(key) if key else (next(iter(self.backfills.values()), None))

    def show_selected(self) -> None:
        info = self.selected
        detail = self.query_one("#backfill-detail", Static)
        none = Text("no backfills yet: l backfills a job", style="dim")
        show_text(detail, backfill_detail(info) if info else none)
        runs = self.query_one("#backfill-runs", DataTable)
        wanted = [r for r in self.runs if info is not None and r.tag(BACKFILL_TAG) == info.backfill_id]
        rows = [(run.run_id, tuple(run_cells(run))) for run in wanted]
        if rows == self._runs_shown:
            return  # the same rows: no rebuild (a rebuild repaints the table)
        self._runs_shown = rows
        runs.clear()
        for run_id, cells in rows:
            runs.add_row(*cells, key=run_id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.data_table is self.table:
            self.show_selected()
            self.wake()  # its runs

    def action_launch(self) -> None:
        launch_backfill(self, self.actions, self.client, ())

    def action_cancel(self) -> None:
        info = self.selected
        if info is None:
            return
        what = f"cancel of backfill {info.backfill_id}"
        if not info.can_cancel:
            if not self.actions.refused(what, info.backfill_id):
                report(
                    self,
                    f"backfill {info.backfill_id} is {info.status}: nothing to cancel",
                    severity="warning",
                )
            return

        async def cancel() -> None:
            await self.client.cancel_backfill(info.backfill_id)

        self.actions.start(
            what,
            cancel,
            key=info.backfill_id,
            confirm=f"Cancel backfill {info.backfill_id}? No new runs; its runs in progress are canceled.",
            done=lambda _: self._done(f"backfill {info.backfill_id}: canceling"),
        )

    def action_reexecute(self) -> None:
        info = self.selected
        if info is None:
            return
        what = f"re-execution of backfill {info.backfill_id}"
        problem = None
        if not info.is_finished:
            problem = f"backfill {info.backfill_id} is still {info.status}: re-execute once it has ended"
        elif not info.progress.failed:
            problem = f"backfill {info.backfill_id} has no failed partitions: nothing to re-execute"
        if problem is not None:
            if not self.actions.refused(what, info.backfill_id):
                report(self, problem, severity="warning")
            return

        async def reexecute() -> str:
            return await self.client.reexecute_backfill(info.backfill_id, "FROM_FAILURE")

        self.actions.start(
            what,
            reexecute,
            key=info.backfill_id,
            confirm=f"Re-execute the failed partitions of backfill {info.backfill_id} as a new backfill?",
            done=lambda new_id: self._done(f"backfill {new_id}: the failed partitions of {info.backfill_id}"),
        )

    def _done(self, message: str) -> None:
        report(self, message, title="Backfills")
        self.wake()


class BackfillsTab(Vertical):
    """The partitions, the backfills and the queue, one above the other."""

    DEFAULT_CSS = (
        "BackfillsTab { height: 1fr; } BackfillsTab > #partitions-legend { height: 1; padding: 0 1; }"
    )

    def __init__(self, client: DagsterApi, *, read_only: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield PartitionsOverview(self.client, read_only=self.read_only, id="partitions")
        yield BackfillsPanel(self.client, read_only=self.read_only, id="backfills")
        yield QueuePanel(self.client, read_only=self.read_only, id="queue")
        yield Static(LEGEND, id="partitions-legend")
