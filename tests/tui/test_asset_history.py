"""The Assets tab's history (`h`): the asset's last materializations, their numeric metadata as Sparklines
(oldest to newest) and a table; literal text; snapshots at 80x24 and 200x60."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Sparkline

sys.path.insert(0, str(Path(__file__).parent))
from dagster_fake import T0, FakeDagster  # noqa: E402
from shell_fakes import dashboard_on, highlight_asset  # noqa: E402

from edp_tui.dagster.asset_history import MaterializationRecord  # noqa: E402
from edp_tui.ui.app import EdpApp  # noqa: E402
from edp_tui.ui.screens.asset_history import AssetHistoryScreen  # noqa: E402
from tests.support.pilot import below_text, until, wait_shown  # noqa: E402

KEY = ("staging", "stg_orders")
ROWS = [1000, 1200, 1150, 1400, 1600, 1580]


def history() -> list[MaterializationRecord]:
    records = [
        MaterializationRecord(
            f"{i:08d}-run",
            T0 - 3600 * (len(ROWS) - i),
            "dbt_build",
            "2026-01-0[b]x[/b]" if i == 2 else None,
            (("dagster/row_count", rows), ("Execution Duration", 1.5 + i), ("unique_id", "model.retail.stg")),
        )
        for i, rows in enumerate(ROWS)
    ]
    # One without a row count: a gap in that series only.
    records.append(
        MaterializationRecord("gap-run", T0 - 60, "dbt_build", None, (("Execution Duration", 9.25),))
    )
    return list(reversed(records))  # newest first, as Dagster answers


async def open_history(pilot: Pilot[Any], app: EdpApp) -> AssetHistoryScreen:
    await highlight_asset(pilot, app, KEY)
    await pilot.press("h")
    await until(pilot, lambda: isinstance(app.screen, AssetHistoryScreen))
    screen = app.screen
    assert isinstance(screen, AssetHistoryScreen)
    await until(pilot, lambda: screen.loaded)
    return screen


async def test_the_history_plots_each_numeric_series_oldest_first() -> None:
    fake = FakeDagster()
    fake.histories[KEY] = history()
    app = dashboard_on(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot, app)
        assert ("asset_history", KEY) in fake.calls
        # Execution Duration is in all seven, the row count in six: it comes second; text is not plotted.
        assert [s.label for s in screen.series] == ["Execution Duration", "dagster/row_count"]
        plots = list(screen.query(Sparkline))
        assert [list(p.data or []) for p in plots] == [[1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 9.25], ROWS]
        text = await wait_shown(pilot, "dagster/row_count  last 1,580 · min 1,000 · max 1,600 · 6 values")
        assert "Execution Duration  last 9.25" in text
        table = screen.query_one("#history-table", DataTable)
        assert table.row_count == 7
        # Newest first in the table; the one without a row count says so; a partition is literal text.
        assert [str(c) for c in table.get_row_at(0)][1:] == ["gap-run", "-", "9.25", "-"]
        await wait_shown(pilot, "2026-01-0[b]x[/b]")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AssetHistoryScreen))


async def test_an_asset_never_materialized_says_so() -> None:
    app = dashboard_on(FakeDagster())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_history(pilot, app)
        await wait_shown(pilot, "never materialized")
        assert not list(screen.query(Sparkline))


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_snapshot(snap_compare: Any, size: tuple[int, int]) -> None:
    fake = FakeDagster()
    fake.histories[KEY] = history()

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, EdpApp)
        await open_history(pilot, app)
        await wait_shown(pilot, "dagster/row_count")
        # The snapshot shows the dashboard under the modal: once seen blank in CI (the screen below not
        # painted yet), so wait for its header too.
        await until(pilot, lambda: "project edp" in below_text(app), what="the dashboard under the history")
        await pilot.pause()

    assert snap_compare(dashboard_on(fake), terminal_size=size, run_before=run_before)
