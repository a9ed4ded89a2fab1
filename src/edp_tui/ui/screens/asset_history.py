"""An asset's history (`h` on the Assets tab): its last materializations with their metadata, the numeric
series among them (row counts, dbt's execution duration, whatever the code attaches) as Textual's own
Sparklines, oldest to newest, and a table of the materializations. Every value is outside text: shown
literally."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Sparkline, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.asset_history import MaterializationRecord, Series, numeric_series
from edp_tui.dagster.assets import AssetInfo
from edp_tui.dagster.errors import DagsterError
from edp_tui.ui.notify import literal, report
from edp_tui.util.fmt import timestamp

if TYPE_CHECKING:
    from edp_tui.ui.widgets.dagster.assets import AssetsPanel


def number_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


def series_caption(series: Series) -> Text:
    values = series.present
    return Text.assemble(
        (series.label, "bold"),
        f"  last {number_text(values[-1])}",
        (f" · min {number_text(min(values))} · max {number_text(max(values))} · {len(values)} values", "dim"),
    )


class AssetHistoryScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,h", "close", "Close", id="asset_history.close")]

    HELP = """\
## Asset history

The asset's last materializations (up to 50), oldest to newest left to right: each numeric value the code
attached to them (a row count, dbt's execution duration...) as a small plot with its last, smallest and
largest value, and below them every materialization with its run, partition and values. **escape** closes.
"""

    DEFAULT_CSS = """
    AssetHistoryScreen { align: center middle; }
    AssetHistoryScreen > Vertical {
        width: 95%;
        height: 95%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    AssetHistoryScreen #history-plots { height: auto; max-height: 60%; }
    AssetHistoryScreen .series-caption { height: 1; }
    AssetHistoryScreen Sparkline { height: 2; margin-bottom: 1; }
    AssetHistoryScreen #history-table { height: 1fr; }
    """

    def __init__(self, client: DagsterApi, asset: AssetInfo) -> None:
        super().__init__()
        self.client = client
        self.asset = asset
        self.records: list[MaterializationRecord] = []
        self.series: list[Series] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = literal(f"History of {self.asset.name}")
            yield Static(Text("loading the materializations…", style="dim"), id="history-status")
            yield VerticalScroll(id="history-plots")
            yield DataTable(id="history-table", cursor_type="row")

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        status = self.query_one("#history-status", Static)
        try:
            records = await self.client.asset_history(self.asset.key)
        except DagsterError as exc:
            status.update(Text.assemble(("cannot read the materializations: ", "bold red"), literal(exc)))
            return
        self.records = records
        self.series = numeric_series(records)
        if not records:
            status.update(Text("never materialized", style="dim"))
        else:
            span = f"{timestamp(records[-1].timestamp)} → {timestamp(records[0].timestamp)}"
            status.update(Text(f"last {len(records)} materializations, oldest to newest: {span}"))
            if not self.series:
                status.update(Text(f"last {len(records)} materializations · no numeric metadata to plot"))
        plots = self.query_one("#history-plots", VerticalScroll)
        for series in self.series:
            await plots.mount(Static(series_caption(series), classes="series-caption"))
            await plots.mount(Sparkline(series.present, summary_function=max))
        self._fill_table(records)
        self.loaded = True

    def _fill_table(self, records: list[MaterializationRecord]) -> None:
        table = self.query_one("#history-table", DataTable)
        table.add_column("When", key="when")
        table.add_column("Run", key="run")
        table.add_column("Partition", key="partition")
        for series in self.series:
            table.add_column(literal(series.label), key=f"m:{series.label}")
        for record in records:  # newest first, as Dagster answers
            table.add_row(
                Text(timestamp(record.timestamp)),
                literal(record.run_id[:8]),
                literal(record.partition or "-"),
                *(Text(number_text(record.number(s.label)), justify="right") for s in self.series),
            )

    def action_close(self) -> None:
        self.dismiss(None)


def open_asset_history(panel: AssetsPanel) -> None:
    asset = panel.selected
    if asset is None:
        report(panel, "no asset highlighted", severity="warning")
        return
    panel.app.push_screen(AssetHistoryScreen(panel.client, asset))
