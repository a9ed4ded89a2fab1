"""Assets: every asset by group with its state (missing / stale / a failed check / fresh), last
materialization and checks; the highlighted asset's upstream, downstream and checks below; materialize it (or
it and everything downstream) on a key, after a confirmation."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from edp_tui.dagster.api import DagsterApi
from edp_tui.dagster.assets import (
    AssetCheck,
    AssetInfo,
    AssetKey,
    by_group,
    downstream_closure,
    key_text,
    with_op_siblings,
)
from edp_tui.dagster.changes import AssetChangeProbe
from edp_tui.dagster.errors import DagsterRequestRejected
from edp_tui.dagster.models import RunSummary
from edp_tui.text import printable
from edp_tui.ui import long_lived
from edp_tui.ui.actions import ActionGuard
from edp_tui.ui.notify import literal, report
from edp_tui.ui.widgets.polling import PollingPanel
from edp_tui.ui.widgets.static_text import update_keeping_height
from edp_tui.ui.widgets.tables import NavTable, cursor_row_key, update_changed_cells
from edp_tui.util.cadence import Cadence
from edp_tui.util.fmt import timestamp

# Fixed widths: the table must not jump when a state or a time appears.
# At 80 columns the group, asset, state and checks fit.
COLUMNS = (
    ("group", "Group", 9),
    ("asset", "Asset", 28),
    ("state", "State", 7),
    ("checks", "Checks", 14),
    ("last", "Materialized", 14),
    ("run", "Run", 8),
)
STATE_STYLE = {
    "missing": "yellow",
    "stale": "yellow",
    "failed": "bold red",
    "fresh": "green",
    "unknown": "dim",
}
CHECK_STYLE = {
    "SUCCEEDED": "green",
    "FAILED": "bold red",
    "EXECUTION_FAILED": "bold red",
    "IN_PROGRESS": "cyan",
}
CHECK_COLUMNS = (
    ("outcome", "Outcome", 16),
    ("check", "Check", 44),
    ("severity", "Severity", 8),
    ("run", "Run", 8),
    ("when", "When", 14),
)
# The Assets query is the costliest read the dashboard makes (an event-log read and a staleness computation
# per asset): at rest only a cheap "could anything have changed?" is asked (`AssetChangeProbe`), every
# PROBE_FAST_S after a change, slowing down to PROBE_SLOW_S while nothing does; a full read when it says so
# (a run changed, one is in progress, a location reloaded), on a key, or every couple of minutes regardless.
PROBE_FAST_S = 5.0
PROBE_SLOW_S = 15.0
# A materialization launched from here (or a check) still running: full reads this often.
ACTIVE_INTERVAL_S = 2.0
# A launched run that never materializes (it failed) stops the quick poll after this long.
PENDING_MAX_S = 600.0
# Rows added to the table between two turns of the event loop while it is built (thousands of assets).
FILL_CHUNK = 200


def asset_cells(asset: AssetInfo) -> dict[str, Text]:
    mat = asset.last_materialization
    checks_style = "bold red" if asset.failed_checks else ("green" if asset.checks else "dim")
    return {
        "group": Text(printable(asset.group), style="dim"),
        "asset": Text(printable(asset.name), style="bold"),
        "state": Text(asset.state, style=STATE_STYLE.get(asset.state, "")),
        "checks": Text(asset.checks_summary, style=checks_style),
        "last": Text(timestamp(mat.timestamp) if mat else "never", style="" if mat else "dim"),
        "run": Text(printable(mat.run_id[:8]) if mat else "-"),
    }


def keys_text(keys: tuple[AssetKey, ...]) -> str:
    return ", ".join(printable(key_text(k)) for k in keys) or "-"


def asset_detail(asset: AssetInfo) -> Text:
    """Upstream, downstream, why it is stale (its checks are rows of a table of their own)."""
    text = Text.assemble((printable(asset.name), "bold"), f"  ({printable(asset.location)})")
    if not asset.materializable:
        text.append("  external: not materializable here", style="dim")
    text.append("\nupstream: ", style="bold")
    text.append(keys_text(asset.upstream))
    text.append("\ndownstream: ", style="bold")
    text.append(keys_text(asset.downstream))
    if asset.stale_causes:
        text.append("\nstale: ", style="bold yellow")
        text.append(printable("; ".join(asset.stale_causes)))
    if asset.checks_error:
        text.append(f"\nchecks unavailable: {printable(asset.checks_error)}", style="red")
    return text


def check_cells(check: AssetCheck) -> dict[str, Text]:
    """One check as cells: its outcome and its name never run into each other (EXECUTION_FAILED is as wide
    as a fixed-width column of 16 was)."""
    status = check.status or "not run"
    return {
        "outcome": Text(status, style=CHECK_STYLE.get(status, "dim")),
        "check": Text(printable(check.name)),
        "severity": Text(check.severity or "", style="red" if check.failed else "dim"),
        "run": Text(printable((check.run_id or "-")[:8])),
        "when": Text(timestamp(check.timestamp) if check.timestamp else "-"),
    }


class AssetsPanel(PollingPanel):
    """One row per asset, grouped; the highlighted asset's graph neighbours and checks below the table."""

    BINDINGS = [
        # l/L as in the runs list (l launches): m is maximize everywhere.
        Binding("l", "materialize(False)", "Materialize", id="dagster.materialize_asset"),
        Binding("L", "materialize(True)", "Materialize + downstream", id="dagster.materialize_downstream"),
        Binding("d", "check_detail", "Check detail", id="dagster.check_detail", show=False),
        Binding("b", "backfill", "Backfill", id="dagster.backfill_asset"),
        Binding("h", "history", "History", id="dagster.asset_history"),
    ]

    HELP = """\
## Assets

Every asset of the loaded code locations, by group: its state (**missing**: never materialized, **stale**:
code or an upstream asset changed since, **failed**: a check failed on the last materialization, **fresh**),
when it was last materialized and by which run, and its checks (the dbt tests are asset checks). The
highlighted asset's upstream and downstream assets are shown below the table, and its checks in a table of
their own: outcome against the latest materialization, check, severity, run and when.

Keys: **l** materializes the highlighted asset, **L** it and everything downstream of it; both ask
first (for partitioned assets: which partition, one run) and are refused in read-only mode. **b**
backfills the highlighted partitioned asset (with the assets of its step): a range, its missing or its
failed partitions (asks; refused in read-only mode; the Backfills tab follows it). **d** shows why a check
failed (a dbt test's failing rows, SQL and file): the check highlighted below, else the asset's first
failed one. **h** shows the asset's last materializations and their metadata (row counts, durations) as
small plots. **home**/**g**, **end**/**G** first/last row.
"""

    DEFAULT_CSS = """
    AssetsPanel { height: 1fr; }
    AssetsPanel > #assets-table { height: 1fr; }
    AssetsPanel > #asset-status { height: auto; padding: 0 1; display: none; }
    AssetsPanel > #asset-status.-shown { display: block; }
    AssetsPanel > #asset-detail { height: auto; max-height: 30%; padding: 0 1; overflow-y: auto; }
    AssetsPanel > #asset-checks { height: auto; max-height: 30%; overflow-x: hidden; }
    AssetsPanel > #asset-checks.-none { display: none; }
    """

    poll_interval = PROBE_FAST_S

    def __init__(self, client: DagsterApi, *, read_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.read_only = read_only
        self.assets: dict[AssetKey, AssetInfo] = {}
        # By the key text the table rows carry, and those keys in row order (no scan per key press or poll).
        self.by_text: dict[str, AssetInfo] = {}
        self._row_keys: list[str] = []
        self._checks_running = False
        self._shown: tuple[AssetInfo | None] | None = None  # the asset detailed below (None: none yet)
        # Runs launched from this tab whose outcome is not on screen yet: poll quickly until they are.
        self.pending_runs: dict[str, float] = {}
        self.populated = False
        self.changes = AssetChangeProbe()
        self.cadence = Cadence(PROBE_FAST_S, PROBE_SLOW_S)
        # Materialize: refused in read-only mode, one at a time (two confirmations launched two runs);
        # refusals and failures also on the status line.
        self.actions = ActionGuard(self, read_only=read_only, on_message=self.set_status)

    def compose(self) -> ComposeResult:
        yield self.banner()
        yield NavTable(cursor_type="row", id="assets-table")
        yield Static(id="asset-status")
        yield Static(Text("loading assets…", style="dim"), id="asset-detail")
        yield NavTable(cursor_type="row", id="asset-checks", classes="-none")

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#assets-table", DataTable)

    @property
    def checks_table(self) -> DataTable[Text]:
        return self.query_one("#asset-checks", DataTable)

    def on_mount(self) -> None:
        self.border_title = "Assets"
        for key, label, width in COLUMNS:
            self.table.add_column(label, key=key, width=width)
        for key, label, width in CHECK_COLUMNS:
            self.checks_table.add_column(label, key=key, width=width)

    def current_interval(self) -> float:
        busy = self.pending_runs or self._checks_running
        return ACTIVE_INTERVAL_S if busy else self.cadence.interval

    async def poll_once(self) -> None:
        started = self.clock()
        if not await self.changes.should_read(self.client, started):
            self.cadence.observe(False)
            return
        await self.show_assets(await self.client.assets())
        self.changes.full_read(started)
        self.cadence.observe(True)

    def wake(self) -> None:
        # A key, an action: read fully at once, whatever the probe would say.
        self.changes.hurry()
        self.cadence.hurry()
        super().wake()

    def wake_on_show(self) -> None:
        # Shown again: look now, but read fully only if the probe says something may have changed (or the
        # full read is due): thousands of assets cost the webserver seconds to answer on every tab switch.
        self.cadence.hurry()
        self.poller.wake()

    async def show_assets(self, assets: list[AssetInfo]) -> None:
        """Show a full read. Cheap at thousands of assets: rows are rebuilt only when the set or the order of
        assets changed, ``FILL_CHUNK`` at a time with the event loop free in between (keys are answered while
        the table fills); otherwise only the rows of assets that changed are touched (an unchanged asset
        costs one comparison, no cells)."""
        table = self.table
        ordered = [a for group in by_group(assets).values() for a in group]
        keys = [key_text(a.key) for a in ordered]
        previous = self.assets
        if keys != self._row_keys:
            # The set or the order of assets changed: rebuild, keeping the highlighted asset.
            selected = cursor_row_key(table)
            table.clear()
            for start in range(0, len(ordered), FILL_CHUNK):
                if start:
                    await asyncio.sleep(0)
                for asset, key in zip(ordered[start : start + FILL_CHUNK], keys[start:], strict=False):
                    table.add_row(*asset_cells(asset).values(), key=key)
            self._row_keys = keys
            if len(keys) >= long_lived.FREEZE_MIN_ROWS:  # once the rows are painted
                self.call_after_refresh(long_lived.freeze_long_lived)
            if selected is not None and selected in self.by_text:
                index = {k: i for i, k in enumerate(keys)}.get(selected)
                if index is not None:
                    table.move_cursor(row=index)
        else:
            for asset, key in zip(ordered, keys, strict=True):
                if previous.get(asset.key) != asset:
                    update_changed_cells(table, key, asset_cells(asset))
        self.assets = {a.key: a for a in ordered}
        self.by_text = dict(zip(keys, ordered, strict=True))
        self._checks_running = any(c.status == "IN_PROGRESS" for a in ordered for c in a.checks)
        materialized_by = {a.last_materialization.run_id for a in ordered if a.last_materialization}
        now = self.clock()
        self.pending_runs = {
            run_id: at
            for run_id, at in self.pending_runs.items()
            if run_id not in materialized_by and now - at < PENDING_MAX_S
        }
        self.populated = True
        self._show_selected()

    @property
    def selected(self) -> AssetInfo | None:
        value = cursor_row_key(self.table)
        return None if value is None else self.by_text.get(value)

    def _show_selected(self) -> None:
        """The highlighted asset's detail and checks, on every cursor move: neither asks for a layout of the
        screen unless its height changed (a reflow of the whole dashboard per key was most of a key's cost at
        thousands of assets), and nothing is touched when the asset shown is the same (a poll)."""
        asset = self.selected
        if self._shown is not None and asset == self._shown[0]:
            return
        self._shown = (asset,)
        detail = self.query_one("#asset-detail", Static)
        if asset is None:
            update_keeping_height(detail, Text("no assets in the loaded code locations", style="dim"))
        else:
            update_keeping_height(detail, asset_detail(asset))
        # Rows keyed by position: the next asset's checks of the same number overwrite these cells (another
        # asset's checks have other names), with no clear, no new rows and so no new height.
        checks = self.checks_table
        rows = [check_cells(c) for c in asset.checks] if asset is not None else []
        if len(rows) != checks.row_count:
            checks.clear()
            for index, cells in enumerate(rows):
                checks.add_row(*cells.values(), key=str(index))
        else:
            for index, cells in enumerate(rows):
                update_changed_cells(checks, str(index), cells)
        checks.set_class(not rows, "-none")

    def set_status(self, message: str) -> None:
        """The outcome of the last action, on a line of its own (toasts go away)."""
        status = self.query_one("#asset-status", Static)
        status.update(literal(message))
        status.set_class(bool(message), "-shown")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.data_table is self.table:  # not a row of the checks below it
            self._show_selected()

    def action_check_detail(self) -> None:
        from edp_tui.ui.screens.check_detail import open_check_detail  # its Syntax (pygments): when opened

        open_check_detail(self)

    def action_history(self) -> None:
        from edp_tui.ui.screens.asset_history import open_asset_history

        open_asset_history(self)

    def action_materialize(self, downstream: bool) -> None:
        asset = self.selected
        if asset is None:
            return
        what = f"materialization of {asset.name}"
        if self.actions.refused(what):
            return
        if not asset.materializable:
            report(self, f"{asset.name} is not materializable from here", severity="warning")
            return
        keys = self._selection(asset, [asset.key], downstream)
        which = asset.name if len(keys) == 1 else f"{asset.name} and {len(keys) - 1} downstream asset(s)"

        def launched(result: tuple[RunSummary, list[AssetKey]]) -> None:
            run, chosen = result
            self.pending_runs[run.run_id] = self.clock()
            message = f"materializing {len(chosen)} asset(s) from {asset.name}: run {run.run_id[:8]}"
            self.set_status(message)
            report(self, message, title="Materialize")
            self.wake()

        partitioned = [k for k in keys if (a := self.assets.get(k)) and a.partitioned]
        if not partitioned:
            self.actions.start(
                what,
                lambda: self._materialize(asset, keys, downstream),
                confirm=f"Materialize {which}?",
                done=launched,
            )
            return
        # One run materializes one partition (as Dagster's own Materialize): the prompt asks which.
        # Imported when first used: the dashboard's start imports no dialog it has not opened.
        from edp_tui.ui.screens.partition_prompt import PartitionPrompt

        prompt = PartitionPrompt(self.client, partitioned[0], f"Materialize {which}")
        self.actions.choose(
            what, prompt, lambda day: self._materialize(asset, keys, downstream, day), done=launched
        )

    def action_backfill(self) -> None:
        asset = self.selected
        if asset is None:
            return
        # Imported when first used: the dashboard's start imports no dialog it has not opened.
        from edp_tui.ui.widgets.dagster.partitions_panel import launch_backfill

        launch_backfill(self, self.actions, self.client, (asset.key,))

    def _selection(self, asset: AssetInfo, roots: list[AssetKey], downstream: bool) -> list[AssetKey]:
        """``roots`` (and what is downstream of them), only what this location can run (an external
        downstream asset would make the launch fail)."""
        keys = list(roots)
        if downstream:
            keys = list(dict.fromkeys(k for root in roots for k in downstream_closure(self.assets, root)))
        return [
            k for k in keys if (a := self.assets.get(k)) and a.materializable and a.location == asset.location
        ]

    async def _materialize(
        self, asset: AssetInfo, keys: list[AssetKey], downstream: bool, partition: str | None = None
    ) -> tuple[RunSummary, list[AssetKey]]:
        try:
            return await self.client.materialize(asset.location, asset.repository, keys, partition), keys
        except DagsterRequestRejected as exc:
            # Part of a multi-asset that cannot be subset: Dagster wants all of its assets at once (and, when
            # asked, what is downstream of each of them).
            wider = self._selection(asset, with_op_siblings(self.assets, keys), downstream)
            if exc.typename != "InvalidSubsetError" or set(wider) <= set(keys):
                raise
            self.set_status(f"{asset.name} is computed with {len(wider) - len(keys)} other asset(s)")
            return await self.client.materialize(asset.location, asset.repository, wider, partition), wider
