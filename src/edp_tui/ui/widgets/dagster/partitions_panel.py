"""Every partitioned asset on one line: its health bar over the whole range and the counts; **b** backfills
the highlighted one. `launch_backfill` is the one way the dashboard launches a backfill (here, the Assets
tab and the Backfills panel)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.assets import AssetKey, key_text
from edp_tui.dagster.backfills import BackfillRequest
from edp_tui.dagster.partitions import PartitionHealth
from edp_tui.text import printable
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.notify import report
from edp_tui.ui.screens.backfill_dialog import BackfillDialog
from edp_tui.ui.widgets.dagster.partition_bar import bar_text, counts_text
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.static_text import show_text
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key, update_changed_cells
from edp_tui.util.cadence import Cadence

# While something runs the figures move every few seconds; at rest they change only when someone acts.
BUSY_S, REST_FAST_S, REST_SLOW_S = 2.0, 5.0, 30.0


class PartitionsOverview(PollingPanel):
    """Every partitioned asset: its bar over the whole range and the counts."""

    BINDINGS = [Binding("b", "backfill", "Backfill", id="backfills.backfill_asset")]

    HELP = """\
## Partitions

Every partitioned asset on one line: its partitions from the oldest (left) to the newest, folded onto the
width (█ materialized, ▒ some of them, ✖ failed, ▶ in progress, ░ missing: a failure or a run in a cell is
never hidden by its neighbours), and the counts. **b** backfills the highlighted asset (a range, the missing
or the failed partitions; asks, refused in read-only mode).
"""

    DEFAULT_CSS = """
    PartitionsOverview { height: auto; max-height: 35%; }
    PartitionsOverview > DataTable { height: auto; max-height: 12; }
    PartitionsOverview > #partitions-counts { height: 1; padding: 0 1; }
    """

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.healths: dict[AssetKey, PartitionHealth] = {}
        self.populated = False
        self.cadence = Cadence(REST_FAST_S, REST_SLOW_S)
        self.actions = ActionGuard(self, read_only=read_only)

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield NavTable(cursor_type="row", show_header=False, id="partitions-table")
        yield Static(id="partitions-counts")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#partitions-table", DataTable)

    def on_mount(self) -> None:
        self.border_title = "Partitions"
        self.table.add_column("asset", key="asset")
        self.table.add_column("bar", key="bar")

    def current_interval(self) -> float:
        return BUSY_S if any(h.in_progress for h in self.healths.values()) else self.cadence.interval

    async def poll_once(self) -> None:
        found = await self.client.partition_health()
        healths = {k: h for k, h in found.items() if h is not None}
        self.cadence.observe(healths != self.healths)
        self.healths = healths
        self.populated = True
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        self.redraw()

    def bar_width(self) -> int:
        names = max((len(key_text(k)) for k in self.healths), default=10)
        return max(10, self.table.size.width - names - 4)

    def redraw(self) -> None:
        table = self.table
        names = max((len(key_text(k)) for k in self.healths), default=10)
        width = self.bar_width()
        rows = {key_text(k): h for k, h in sorted(self.healths.items())}
        columns = {str(k.value): c for k, c in table.columns.items()}
        if list(rows) != [str(k.value) for k in table.rows] or columns["bar"].width != width:
            selected = cursor_row_key(table)
            table.clear()
            columns["asset"].width = names
            columns["bar"].width = width
            for name, health in rows.items():
                table.add_row(Text(printable(name)), bar_text(health, width), key=name)
            if selected in rows:
                table.move_cursor(row=list(rows).index(selected))
        else:
            for name, health in rows.items():
                update_changed_cells(table, name, {"bar": bar_text(health, width)})
        self.show_counts()

    @property
    def selected(self) -> PartitionHealth | None:
        key = cursor_row_key(self.table)
        return next((h for k, h in self.healths.items() if key_text(k) == key), None)

    def show_counts(self) -> None:
        health = self.selected
        counts = self.query_one("#partitions-counts", Static)
        if health is None:
            show_text(counts, Text("no partitioned assets" if self.populated else "loading…", style="dim"))
        else:
            show_text(counts, Text.assemble(printable(key_text(health.key)), ": ", counts_text(health)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_counts()

    def action_backfill(self) -> None:
        health = self.selected
        if health is None:
            return
        launch_backfill(self, self.actions, self.client, (health.key,), health)


def launch_backfill(
    owner: PollingPanel,
    actions: ActionGuard,
    client: DagsterApi,
    assets: tuple[AssetKey, ...],
    health: PartitionHealth | None = None,
) -> None:
    """The backfill dialog for `assets` (or a job's, when empty), then the launch: the one path of the Assets
    tab, the partitions and the backfills panels."""
    what = f"backfill of {', '.join(key_text(k) for k in assets)}" if assets else "backfill of a job"

    async def launch(request: BackfillRequest) -> tuple[str, BackfillRequest]:
        return await client.launch_backfill(request), request

    def launched(result: tuple[str, BackfillRequest]) -> None:
        backfill_id, request = result
        report(owner, f"backfill {backfill_id}: {request.describe()}", title="Backfill launched")
        for panel in owner.app.query(".backfills-watch").results(PollingPanel):
            panel.wake()
        owner.wake()

    actions.choose(what, BackfillDialog(client, assets=assets, health=health), launch, done=launched)
