"""The Assets tab with a dbt project of realistic size (2,000 assets): filled, navigable with every key, and
cheap at rest: a poll that finds nothing new touches no row, one asset that changed touches its row alone.
(Times are measured by bench/assets_scale.py, not asserted here.)"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from dagster_fake import FakeDagster, many_assets
from textual.widgets import Static

from edp_tui.dagster.assets import AssetInfo, Materialization, key_text
from edp_tui.ui import long_lived
from edp_tui.ui.widgets.dagster import assets as assets_module
from edp_tui.ui.widgets.dagster.assets import AssetsPanel, asset_cells
from tests.support.pilot import Host, until, wait_shown

COUNT = 2_000
SIZE = (160, 45)


@pytest.fixture(autouse=True)
def freezes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The freezes the panel asks for, recorded instead of done: this test process's heap stays its own."""
    asked: list[int] = []
    monkeypatch.setattr(long_lived, "freeze_long_lived", lambda: asked.append(1))
    return asked


def scaled() -> FakeDagster:
    fake = FakeDagster()
    fake.assets_list = many_assets(COUNT)
    return fake


async def test_thousands_of_assets_fill_the_table_and_every_key_moves_the_cursor() -> None:
    panel = AssetsPanel(scaled())
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated, timeout=20)
        table = panel.table
        assert table.row_count == COUNT
        table.focus()
        await pilot.press("G")
        await until(pilot, lambda: table.cursor_row == COUNT - 1)
        last = panel.selected
        # The last row's asset: the last of the last group, in key order.
        assert last is not None and last.group == "group_09" and last.name == "staging/model_01999"
        await wait_shown(pilot, last.name)  # the detail follows the cursor
        await pilot.press("g", "down", "down")
        await until(pilot, lambda: table.cursor_row == 2)
        assert panel.selected is not None and panel.checks_table.row_count == 2


async def test_a_poll_touches_only_the_rows_of_assets_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = scaled()
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated, timeout=20)
        built: list[str] = []  # the assets whose cells were made (the per-row work of a poll)
        touched: list[Any] = []  # the rows whose cells were written
        table = panel.table
        update_cell = table.update_cell

        def cells(asset: AssetInfo) -> dict[str, Any]:
            built.append(asset.name)
            return asset_cells(asset)

        def spy_update(row_key: Any, column_key: Any, value: Any, **kw: Any) -> None:
            touched.append(row_key)
            update_cell(row_key, column_key, value, **kw)

        monkeypatch.setattr(assets_module, "asset_cells", cells)
        table.update_cell = spy_update  # type: ignore[method-assign]

        async def full_read() -> None:
            polls = panel.polls
            panel.wake()  # a key or Show: a full read, whatever the probe says
            await until(pilot, lambda: panel.polls > polls)

        # Nothing new: no row's cells made or written.
        await full_read()
        assert built == [] and touched == [] and table.row_count == COUNT
        # One asset materialized: its row alone.
        index = 4  # a missing one
        changed = replace(
            fake.assets_list[index],
            last_materialization=Materialization("f00dfeed-0000", 1_767_355_000.0),
            stale_status="FRESH",
        )
        fake.assets_list = [changed if i == index else a for i, a in enumerate(fake.assets_list)]
        await full_read()
        assert built == [changed.name] and set(touched) == {key_text(changed.key)}


async def test_a_cursor_move_lays_nothing_out_unless_the_detail_changes_height() -> None:
    """Each move shows the asset's detail and checks below the table; that used to lay the whole screen out
    (the detail's update, the checks table cleared and refilled) on every key. Now only a detail of another
    height does. (A layout of the screen for other reasons, e.g. the focus's border, is not the panel's.)"""
    fake = scaled()
    stale = 3  # the fourth row (group_00 holds models 0, 10, 20, 30...): a line more in its detail
    ordered = sorted((a for a in fake.assets_list if a.group == "group_00"), key=lambda a: a.key)
    fake.assets_list = [
        replace(a, stale_causes=("code version changed",)) if a.key == ordered[stale].key else a
        for a in fake.assets_list
    ]
    panel = AssetsPanel(fake)
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated, timeout=20)
        table, checks = panel.table, panel.checks_table
        detail = panel.query_one("#asset-detail", Static)
        table.focus()
        # The first asset's detail shown and laid out (three lines): the start's layouts are done.
        await until(pilot, lambda: ordered[0].name in detail.content.plain and detail.size.height == 3)  # type: ignore[union-attr]
        await pilot.pause()
        # The layouts the panel asks for: the detail's (Static.update lays out by default) and, through a new
        # height, the checks table's clears (counted below).
        layouts: list[int] = []
        refresh = detail.refresh

        def counted(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("layout"):
                layouts.append(table.cursor_row)
            return refresh(*args, **kwargs)

        detail.refresh = counted  # type: ignore[method-assign]
        cleared: list[int] = []
        clear = checks.clear

        def counted_clear(*args: Any, **kwargs: Any) -> Any:
            cleared.append(table.cursor_row)
            return clear(*args, **kwargs)

        checks.clear = counted_clear  # type: ignore[method-assign]

        for row in range(1, stale):
            await pilot.press("down")
            asset = ordered[row]
            await until(pilot, lambda a=asset: a.name in detail.content.plain)  # type: ignore[union-attr]
            # The checks of this asset, written over the previous asset's rows.
            await until(pilot, lambda a=asset: str(checks.get_row_at(0)[1]) == a.checks[0].name)
        await pilot.pause()
        assert layouts == [] and cleared == []
        await pilot.press("down")  # onto the stale one: its detail is a line taller
        await until(pilot, lambda: "stale: code version changed" in detail.content.plain)  # type: ignore[union-attr]
        await until(pilot, lambda: stale in layouts)
        await pilot.pause()
        assert set(layouts) == {stale} and detail.size.height == 4 and cleared == []


async def test_a_table_of_thousands_of_rows_is_frozen_once_built(freezes: list[int]) -> None:
    """Built, the table's objects are set aside from the full garbage collections (which paused keys for
    90-200 ms at 1,000 assets); a poll with nothing new freezes nothing more, nor does a small table."""
    panel = AssetsPanel(scaled())
    async with Host(panel).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: panel.populated, timeout=20)
        await until(pilot, lambda: freezes == [1])
        polls = panel.polls
        panel.wake()
        await until(pilot, lambda: panel.polls > polls)
        await pilot.pause()
        assert freezes == [1]
    small = AssetsPanel(FakeDagster())
    async with Host(small).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: small.populated)
        await pilot.pause()
        assert small.table.row_count < long_lived.FREEZE_MIN_ROWS and freezes == [1]
